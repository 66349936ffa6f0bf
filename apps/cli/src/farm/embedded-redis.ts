import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { AoinbError } from '@aoinb/errors';

export interface EmbeddedRedis {
  /** `redis://127.0.0.1:<port>`, without the password. */
  url: string;
  /** The generated password, a 0600 file under the work dir (what AOINB_REDIS_PASSWORD_FILE names). */
  passwordFile: string;
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

async function ping(port: number, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.once('connect', () => socket.write(`AUTH ${password}\r\nPING\r\n`));
    socket.on('data', (data) => {
      reply += data.toString();
      if (reply.split('\r\n').length < 3) return; // both replies (AUTH, PING) are in
      socket.destroy();
      resolve(reply === '+OK\r\n+PONG\r\n');
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A fresh password for every start, in 0600 files only: the secret file the farm's
 * processes read, and the config redis-server reads (never its command line,
 * which every local user can see in /proc).
 */
async function writeSecrets(
  dir: string,
  port: number,
): Promise<{ password: string; passwordFile: string; configFile: string }> {
  const password = randomBytes(32).toString('hex');
  const passwordFile = path.join(dir, 'password');
  const configFile = path.join(dir, 'redis.conf');
  for (const file of [passwordFile, configFile]) await rm(file, { force: true });
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600, flag: 'wx' });
  const conf = [
    'bind 127.0.0.1',
    `port ${port}`,
    `dir ${JSON.stringify(dir)}`,
    'appendonly yes',
    'save ""',
    'maxmemory-policy noeviction',
    'protected-mode yes',
    `logfile ${JSON.stringify(path.join(dir, 'redis.log'))}`,
    `requirepass ${password}`,
  ];
  await writeFile(configFile, `${conf.join('\n')}\n`, { mode: 0o600, flag: 'wx' });
  return { password, passwordFile, configFile };
}

/**
 * `farm up`'s private Redis: a `redis-server` child on a free loopback port,
 * data (AOF) under the work dir so a restart of the farm keeps its queue, and
 * the deploy settings (noeviction) the farm relies on. It always requires a
 * generated password: a build that reached the port could not use it.
 */
export async function startEmbeddedRedis(workDir: string): Promise<EmbeddedRedis> {
  const dir = path.join(workDir, 'farm', 'redis');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const port = await freePort();
  const { password, passwordFile, configFile } = await writeSecrets(dir, port);
  const child = execa('redis-server', [configFile], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
    buffer: false,
  });
  // Waits while it runs (a loaded host may take seconds to start it); the deadline only bounds one that hangs.
  for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
    if (await ping(port, password)) return { url: `redis://127.0.0.1:${port}`, passwordFile, child };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  const result = await child;
  throw new AoinbError(
    'UNAVAILABLE',
    `redis-server did not start (exit ${result.exitCode ?? result.signal}); ` +
      `see ${path.join(dir, 'redis.log')}, or install it: apt-get install redis-server`,
  );
}

/** Writes a secret the farm's processes read by path: `<work dir>/farm/secrets/<name>`, 0600, replaced whole. */
export async function writeSecretFile(workDir: string, name: string, secret: string): Promise<string> {
  const dir = path.join(workDir, 'farm', 'secrets');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, name);
  await rm(file, { force: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}
