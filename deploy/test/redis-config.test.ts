import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@aoinb/testkit';
import { deployDir } from './deploy-paths.ts';

/**
 * deploy/redis/redis.conf in a real redis-server, started the way
 * docker-compose.yml starts it (the file, then --bind, --dir and the password
 * include), on a loopback port of its own.
 */
describe('deploy/redis/redis.conf', () => {
  let dir: string;
  let server: ReturnType<typeof execa> | undefined;
  afterEach(async () => {
    server?.kill('SIGKILL');
    await server?.catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('runs with noeviction, AOF and the included password', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'aoinb-redis-conf-'));
    await writeFile(path.join(dir, 'auth.conf'), 'requirepass test-password\n');
    const port = await freePort();
    server = execa(
      'redis-server',
      [
        path.join(deployDir, 'redis/redis.conf'),
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--include',
        path.join(dir, 'auth.conf'),
        '--daemonize',
        'no',
      ],
      { reject: false, stdin: 'ignore' },
    );
    // A deadline for a server that never starts, not a speed limit: a loaded machine may take seconds.
    const deadline = Date.now() + 120_000;
    while (
      (
        await execa('redis-cli', ['-p', String(port), '--no-auth-warning', '-a', 'test-password', 'ping'], {
          reject: false,
        })
      ).stdout !== 'PONG'
    ) {
      if (Date.now() > deadline || server.exitCode !== null)
        throw new Error(`redis-server did not start: ${String((await server).stderr ?? '')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const client = new Redis({
      port,
      host: '127.0.0.1',
      password: 'test-password',
      lazyConnect: true,
      retryStrategy: () => null,
    });
    try {
      await client.connect();
      const config = Object.fromEntries(chunk((await client.config('GET', '*')) as string[]));
      expect(config['maxmemory-policy']).toBe('noeviction');
      expect(config.appendonly).toBe('yes');
      expect(config.appendfsync).toBe('everysec');
      expect(Number(config.maxmemory)).toBeGreaterThan(0);
      const anonymous = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: true,
        enableReadyCheck: false,
        retryStrategy: () => null,
      });
      await anonymous.connect();
      await expect(anonymous.get('x')).rejects.toThrow(/NOAUTH/);
      anonymous.disconnect();
    } finally {
      client.disconnect();
    }
  });
});

function chunk(flat: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i] as string, flat[i + 1] as string]);
  return pairs;
}
