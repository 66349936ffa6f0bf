import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import { freePort } from './free-port.ts';

export interface RedisHandle {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The server's private data folder (removed by stop()). */
  dir: string;
  /** Shuts the server down and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Asks the server on `port` for its pid over a raw socket; resolves true when it is `pid`. A
 * plain PING would also be answered by another test's redis-server that took the port first
 * (ours then exits with "Address already in use", perhaps only after the answer).
 */
function answersAs(port: number, pid: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.startsWith('-')) return done(false);
      const found = /\r\nprocess_id:(\d+)\r\n/.exec(reply);
      if (found) done(Number(found[1]) === pid);
    });
  });
}

export async function waitForPing(child: RedisProcess, port: number, timeoutMs: number): Promise<boolean> {
  let exited = false;
  void child.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited) {
    if (child.pid !== undefined && (await answersAs(port, child.pid))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** A `redis-server` in the foreground on `port`, no persistence, `extraArgs` after ours (e.g. cluster mode). */
export function spawnRedis(port: number, dir: string, extraArgs: string[] = []) {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...extraArgs,
  ];
  return execa('redis-server', args, { reject: false, all: true, stdin: 'ignore' });
}

export type RedisProcess = ReturnType<typeof spawnRedis>;

export async function stopProcess(child: RedisProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await child;
  clearTimeout(timer);
}

/**
 * Starts a real `redis-server` on a free loopback port with no persistence,
 * its data in a fresh folder under `dir` (default: the system temp folder),
 * and waits until it answers (itself, not another server on that port). `port`: that port (e.g. to
 * bring a stopped server back for its clients). `onOutput`: gets what the server prints (a test farm's log).
 */
export async function startRedis(
  options: { dir?: string; timeoutMs?: number; port?: number; onOutput?: (text: string) => void } = {},
): Promise<RedisHandle> {
  const dataDir = await mkdtemp(path.join(options.dir ?? tmpdir(), 'aoinb-redis-'));
  let lastOutput = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? (await freePort());
    const child = spawnRedis(port, dataDir);
    if (options.onOutput) child.all.on('data', (chunk: Buffer) => options.onOutput?.(chunk.toString()));
    if (await waitForPing(child, port, options.timeoutMs ?? 10_000)) {
      let stopped: Promise<void> | undefined;
      const stop = (): Promise<void> =>
        (stopped ??= stopProcess(child).then(() => rm(dataDir, { recursive: true, force: true })));
      return { url: `redis://127.0.0.1:${port}`, port, dir: dataDir, stop };
    }
    await stopProcess(child);
    const result = await child;
    lastOutput = String(result.all ?? '').trim() || (result.shortMessage ?? 'no output');
    if (!/Address already in use/i.test(lastOutput)) break;
  }
  await rm(dataDir, { recursive: true, force: true });
  throw new AoinbError(
    'UNAVAILABLE',
    `redis-server did not answer PING (is the redis-server package installed?): ${lastOutput}`,
  );
}
