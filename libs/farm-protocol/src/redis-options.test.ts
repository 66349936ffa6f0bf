import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { freePort } from '@aoinb/testkit';
import { buildQueueOptions } from './queue-settings.ts';
import { redisOptions } from './redis-options.ts';

describe('redisOptions', () => {
  it('reads user, password, db and TLS from the URL; password_file wins', () => {
    expect(redisOptions({ url: 'redis://bob:s%40cret@example.org:7000/3' })).toMatchObject({
      host: 'example.org',
      port: 7000,
      db: 3,
      username: 'bob',
      password: 's@cret',
    });
    expect(redisOptions({ url: 'redis://:inurl@h', password: 'fromfile' })).toMatchObject({
      host: 'h',
      port: 6379,
      password: 'fromfile',
    });
    expect(redisOptions({ url: 'rediss://redis.example.org' }).tls).toEqual({ servername: 'redis.example.org' });
    expect(redisOptions({ url: 'rediss://10.0.0.5:6380' }).tls).toEqual({});
  });

  it('reads a Redis Cluster: every seed node, the password and TLS for each node, database 0 only', () => {
    const options = redisOptions({
      cluster: ['rediss://bob:pw@n1.example.org:7000', 'rediss://n2:7001'],
      password: 'f',
    });
    expect(options).toMatchObject({
      cluster: [
        { host: 'n1.example.org', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      username: 'bob',
      password: 'f',
      tls: { servername: undefined },
    });
    expect(options).not.toHaveProperty('db');
    expect(() => redisOptions({ cluster: ['redis://h:7000/1'] })).toThrow(
      /redis\.cluster: a Redis Cluster has database 0/,
    );
    expect(() => redisOptions({ cluster: ['not a url'] })).toThrow(/redis\.cluster\[0\] "not a url" is not a URL/);
  });

  it('refuses a missing URL or an unreadable CA file, naming the key', () => {
    expect(() => redisOptions({})).toThrow(/redis\.url/);
    expect(() => redisOptions({ url: 'rediss://h', caFile: '/nonexistent/ca.pem' })).toThrow(/redis\.ca_file/);
  });
});

/**
 * A real redis-server with TLS (certificates from a throw-away CA made with
 * openssl) and a password: both our own clients and BullMQ connect through
 * `rediss://` with `ca_file`.
 */
describe('a TLS Redis with a password', () => {
  const tmp = useTempDir('aoinb-tls-');
  let port: number;
  let server: ReturnType<typeof execa> | undefined;

  beforeAll(async () => {
    const f = (name: string) => path.join(tmp.dir, name);
    await writeFile(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    const run = (args: string[]) => execa('openssl', args, { cwd: tmp.dir, stdin: 'ignore' });
    await run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=aoinb test CA',
      '-days',
      '2',
    ]);
    await run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    ]);
    await run([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'san.ext',
    ]);
    port = await freePort();
    server = execa(
      'redis-server',
      [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--tls-cert-file',
        f('server.crt'),
        '--tls-key-file',
        f('server.key'),
        '--tls-ca-cert-file',
        f('ca.crt'),
        '--tls-auth-clients',
        'no',
        '--requirepass',
        'farm-secret',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        tmp.dir,
      ],
      { reject: false, stdin: 'ignore', all: true },
    );
    await serverReady(server);
  });

  afterAll(async () => {
    server?.kill('SIGTERM');
    await server;
  });

  async function ping(options: ReturnType<typeof redisOptions>): Promise<string> {
    const client = new Redis({ ...options, maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
    let reported: Error | undefined;
    client.on('error', (error: Error) => (reported ??= error));
    try {
      await client.connect();
      return await client.ping();
    } catch (error) {
      throw reported ?? error;
    } finally {
      client.disconnect();
    }
  }

  it('connects with rediss://, ca_file and the password', async () => {
    const options = redisOptions({
      url: `rediss://127.0.0.1:${port}`,
      password: 'farm-secret',
      caFile: path.join(tmp.dir, 'ca.crt'),
    });
    expect(await ping(options)).toBe('PONG');
    const queue = new Queue('build-amd64', buildQueueOptions(options, { keepCompletedJobs: 1, keepFailedJobs: 1 }));
    const job = await queue.add('build', { hello: 'tls' }, { jobId: 'tls-1' });
    expect((await queue.getJob('tls-1'))?.data).toEqual({ hello: 'tls' });
    expect(job.id).toBe('tls-1');
    await queue.close();
  });

  it('fails with a wrong password or without the CA', async () => {
    await expect(
      ping(
        redisOptions({ url: `rediss://127.0.0.1:${port}`, password: 'wrong', caFile: path.join(tmp.dir, 'ca.crt') }),
      ),
    ).rejects.toThrow(/WRONGPASS|invalid/i);
    await expect(ping(redisOptions({ url: `rediss://127.0.0.1:${port}`, password: 'farm-secret' }))).rejects.toThrow(
      /certificate/i,
    );
  });
});

/**
 * Resolves once the server says it takes connections (its own log line, not a guessed delay: a loaded machine
 * may take seconds); rejects with its output if it exits first.
 */
function serverReady(server: ReturnType<typeof execa>): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    server.all?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/Ready to accept connections/.test(output)) resolve();
    });
    void server.then(() => reject(new Error(`the TLS redis-server exited:\n${output}`)));
  });
}
