import { setMaxListeners } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AoinbError } from '@aoinb/errors';
import { appendLogLines, logEofField, type BuildRecord, type LogEntry } from '@aoinb/farm-protocol';
import { silentLogger } from '@aoinb/logging';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { LogFanout, type FollowerSink } from './log-fanout.ts';

/** A follower that records what it was sent. */
function recorder(): FollowerSink & { lines: string[]; ids: string[]; end?: string } {
  const r: FollowerSink & { lines: string[]; ids: string[]; end?: string } = {
    lines: [],
    ids: [],
    entries: async (entries: LogEntry[]) => {
      for (const e of entries) {
        r.ids.push(e.id);
        r.lines.push(...e.lines);
        if (e.eof) r.end = e.eof.state;
      }
    },
    idle: async () => undefined,
    ended: async (state) => {
      r.end = `ended:${state}`;
    },
  };
  return r;
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('LogFanout: one Redis reader per live log, shared by its followers', () => {
  let server: RedisHandle;
  let redis: Redis;
  let fanout: LogFanout;
  const builds = new Map<string, BuildRecord>();
  const clients = async (): Promise<number> => ((await redis.client('LIST')) as string).trim().split('\n').length;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    fanout = new LogFanout({
      redis,
      connection: { host: '127.0.0.1', port: server.port },
      logger: silentLogger(),
      getBuild: async (taskId, arch) => builds.get(`${taskId}/${arch}`),
      perToken: 3,
      blockMs: 100,
    });
  });
  afterAll(async () => {
    await fanout?.close();
    redis?.disconnect();
    await server?.stop();
  });

  it('gives twenty followers every line in order over one reader, early and late joiners alike', async () => {
    const key = 'test:log:shared';
    builds.set('1/amd64', { taskId: '1', arch: 'amd64', state: 'running', run: 1 } as BuildRecord);
    await appendLogLines(redis, key, ['one']);
    await appendLogLines(redis, key, ['two']);
    const before = await clients();
    const target = { key, taskId: '1', arch: 'amd64', run: 1, afterId: '0' };
    const early = Array.from({ length: 20 }, recorder);
    const abort = new AbortController();
    setMaxListeners(30, abort.signal);
    const following = early.map(async (r) => fanout.follow(target, r, abort.signal));
    await until(() => early.every((r) => r.lines.length === 2), 'the catch-up');
    expect(fanout.readerCount).toBe(1);
    expect(await clients()).toBe(before + 1);
    await appendLogLines(redis, key, ['three']);
    await until(() => early.every((r) => r.lines.length === 3), 'a live line');
    // A late joiner resuming after the first entry gets the rest, nothing twice.
    const late = recorder();
    const first = early[0]!.ids[0]!;
    const lateDone = fanout.follow({ ...target, afterId: first }, late, abort.signal);
    await until(() => late.lines.length === 2, 'the late catch-up');
    await appendLogLines(redis, key, ['four']);
    // The end marker as the final transition script writes it (nothing else writes one).
    await redis.xadd(key, '*', logEofField, 'succeeded', 'reason', '');
    await Promise.all([...following, lateDone]);
    for (const r of early) expect(r).toMatchObject({ lines: ['one', 'two', 'three', 'four'], end: 'succeeded' });
    expect(late).toMatchObject({ lines: ['two', 'three', 'four'], end: 'succeeded' });
    await until(() => fanout.readerCount === 0, 'the reader to close');
  });

  it('closes the reader as soon as the last follower leaves', async () => {
    const key = 'test:log:leave';
    builds.set('2/amd64', { taskId: '2', arch: 'amd64', state: 'running', run: 1 } as BuildRecord);
    await appendLogLines(redis, key, ['x']);
    const abort = new AbortController();
    const r = recorder();
    const done = fanout.follow({ key, taskId: '2', arch: 'amd64', run: 1, afterId: '0' }, r, abort.signal);
    await until(() => r.lines.length === 1 && fanout.readerCount === 1, 'the follower');
    abort.abort();
    await done;
    await until(() => fanout.readerCount === 0, 'the reader to close');
    expect(fanout.followers(key)).toBe(0);
  });

  it('ends followers of a final build whose log has no end marker', async () => {
    const key = 'test:log:replaced';
    await appendLogLines(redis, key, ['partial']);
    builds.set('3/amd64', { taskId: '3', arch: 'amd64', state: 'failed', run: 2 } as BuildRecord);
    const r = recorder();
    await fanout.follow({ key, taskId: '3', arch: 'amd64', run: 1, afterId: '0' }, r, new AbortController().signal);
    expect(r).toMatchObject({ lines: ['partial'], end: 'ended:failed' });
  });

  it('ends followers of a final build on the same run whose stream has no end marker', async () => {
    const key = 'test:log:no-end';
    await appendLogLines(redis, key, ['before the crash']);
    builds.set('4/amd64', { taskId: '4', arch: 'amd64', state: 'failed', run: 1 } as BuildRecord);
    const r = recorder();
    await fanout.follow({ key, taskId: '4', arch: 'amd64', run: 1, afterId: '0' }, r, new AbortController().signal);
    expect(r).toMatchObject({ lines: ['before the crash'], end: 'ended:failed' });
  });

  it('caps live followers per token with a 429 naming the limit, and frees the place on leave', () => {
    const leaves = [fanout.admit('alice'), fanout.admit('alice'), fanout.admit('alice')];
    const refused = (() => {
      try {
        fanout.admit('alice');
      } catch (error) {
        return error as AoinbError;
      }
      return undefined;
    })();
    expect(refused?.code).toBe('TOO_MANY_FOLLOWERS');
    expect(refused?.httpStatus).toBe(429);
    expect(refused?.message).toMatch(/token alice already follows 3 live logs \(the limit is 3\)/);
    expect(() => fanout.admit('bob')).not.toThrow();
    leaves[0]!();
    leaves[0]!(); // twice is once
    expect(() => fanout.admit('alice')).not.toThrow();
    expect(() => fanout.admit('alice')).toThrow(/limit is 3/);
  });
});
