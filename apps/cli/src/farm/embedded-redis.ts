import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { AoinbError } from '@aoinb/errors';

export interface EmbeddedRedis {
  url: string;
  child: ResultPromise;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * `farm up`'s private Redis: a `redis-server` child on a free loopback port,
 * data (AOF) under the work dir so a restart of the farm keeps its queue, and
 * the deploy settings (noeviction) the farm relies on.
 */
export async function startEmbeddedRedis(workDir: string): Promise<EmbeddedRedis> {
  const dir = path.join(workDir, 'farm', 'redis');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const child = execa('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes', '--logfile', path.join(dir, 'redis.log')], {
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
    buffer: false,
  });
  for (let i = 0; i < 100; i += 1) {
    if (await ping(port)) return { url: `redis://127.0.0.1:${port}`, child };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  const result = await child;
  throw new AoinbError('UNAVAILABLE', `redis-server did not start (exit ${result.exitCode ?? result.signal}); see ${path.join(dir, 'redis.log')}, or install it: apt-get install redis-server`);
}
