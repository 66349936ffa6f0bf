import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '@aoinb/logging';
import { useRedisFixture } from '@aoinb/testkit/fixtures';
import { readBuilders, retireBuilder, writeHeartbeat } from './builder-registry.ts';
import { readLogEntries, waitLogEntries } from './log-reader.ts';
import { LogStreamWriter } from './log-writer.ts';
import type { BuilderFacts } from './records.ts';

describe('log streams and heartbeats in a real Redis', () => {
  const db = useRedisFixture(undefined, { flush: false });

  it("batches lines into few stream entries in order; the end is the store scripts' to write", async () => {
    const writer = new LogStreamWriter(db.redis, 'test:log:1', silentLogger(), { flushMs: 5, maxBatchLines: 400 });
    for (let i = 0; i < 2500; i++) writer.write(`line ${i}`);
    await writer.flush();
    const entries = await readLogEntries(db.redis, 'test:log:1', '0', 10_000);
    expect(entries.length).toBeLessThan(20);
    expect(entries.flatMap((e) => e.lines)).toEqual(Array.from({ length: 2500 }, (_, i) => `line ${i}`));
    expect(entries.some((e) => e.eof)).toBe(false);
    const after = await readLogEntries(db.redis, 'test:log:1', entries[0]!.id, 10_000);
    expect(after).toHaveLength(entries.length - 1);
  });

  it('ships a lone line by itself (no flush, no end) to a waiting reader', async () => {
    const blocking = new Redis(db.server.url);
    const writer = new LogStreamWriter(db.redis, 'test:log:2', silentLogger());
    // The reader blocks up to 120 s, far beyond the writer's flush delay and a loaded machine's stalls: it returns
    // empty only if nothing shipped.
    const waiting = waitLogEntries(blocking, 'test:log:2', '0', 120_000);
    writer.write('hello');
    const got = await waiting;
    expect(got.map((e) => e.lines)).toEqual([['hello']]);
    blocking.disconnect();
  });

  it('cuts overlong lines', async () => {
    const writer = new LogStreamWriter(db.redis, 'test:log:3', silentLogger(), { maxLineChars: 10 });
    writer.write('x'.repeat(50));
    await writer.flush();
    const [entry] = await readLogEntries(db.redis, 'test:log:3', '0', 10);
    expect(entry?.lines[0]).toBe(`${'x'.repeat(10)} [aoinb: line cut]`);
  });

  it('shows a builder offline once its heartbeat expires or it retires, and still lists it', async () => {
    const facts: BuilderFacts = {
      id: 'w1',
      hostname: 'h',
      archs: ['amd64'],
      slots: 1,
      cores: 2,
      memoryTotalBytes: 1,
      memoryFreeBytes: 1,
      diskFreeBytes: 1,
      load: [0, 0, 0],
      currentTasks: [],
      mode: 'active',
      startedAt: new Date().toISOString(),
      lastHeartbeat: new Date().toISOString(),
      version: 't',
    };
    // Live for a minute while it is read (a 1 s heartbeat could expire before the read on a loaded machine).
    await writeHeartbeat(db.redis, facts, 60);
    await writeHeartbeat(
      db.redis,
      { ...facts, id: 'w2', currentTasks: [{ taskId: '1', arch: 'amd64', jobId: 'j', startedAt: '' }] },
      60,
    );
    expect((await readBuilders(db.redis)).map((b) => [b.id, b.state])).toEqual([
      ['w1', 'idle'],
      ['w2', 'building'],
    ]);
    // Then w1's heartbeat with a 1 s life, outlived.
    await writeHeartbeat(db.redis, facts, 1);
    await new Promise((r) => setTimeout(r, 1100));
    await retireBuilder(db.redis, 'w2');
    const builders = await readBuilders(db.redis);
    expect(builders.map((b) => [b.id, b.state])).toEqual([
      ['w1', 'offline'],
      ['w2', 'offline'],
    ]);
    expect(builders[0]?.lastHeartbeat).toBe(facts.lastHeartbeat);
  });
});
