import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { queueTestTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { attemptKeyHash, newAttemptKey } from './attempt-key.ts';
import { fenceScript } from './build-fence-scripts.ts';
import { FarmStore } from './farm-store.ts';
import { farmKeys } from './names.ts';

/**
 * The settle mark itself, where store-settle.test.ts looks only at the refusals: the fields a report's fence
 * writes (the attempt, and the end of the lease on Redis's clock, which the coordinator's own reads compare
 * with TIME), a fence that writes none, and which steps clear the mark and which keep it. Each case was a
 * surviving mutant of scripts/lua-mutation.ts (build-fence-scripts.ts, transition-script.ts, lua-clock.ts).
 */
describe('the settle mark a fence writes and the steps that clear it', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));
  const archs = ['amd64'];
  const base = { taskId: '1', arch: 'amd64', run: 1, archs };
  const buildKey = farmKeys.build('1', 'amd64');
  let hash = '';

  /** The mark's two fields as stored (absent ones left out). */
  async function mark(): Promise<Record<string, string>> {
    const all = await db.redis.hgetall(buildKey);
    return Object.fromEntries(Object.entries(all).filter(([field]) => field.startsWith('settle')));
  }

  /** Redis's clock in ms (TIME), the one the scripts read. */
  async function redisNowMs(): Promise<number> {
    const [seconds, micros] = await db.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  function keylessClaim(key = newAttemptKey(base)): ReturnType<FarmStore['transition']> {
    const set = { attemptKeyHash: key.hash, builder: 'w2' };
    return db.store.transition({ ...base, from: ['queued', 'running'], to: 'running', incrementAttempt: true, set });
  }

  const at = (attempt: number) => ({ run: 1, attempt, attemptKeyHash: hash });

  beforeEach(async () => {
    expect(await queueTestTask(db.store, archs)).toBe('done');
    const key = newAttemptKey(base);
    const set = { attemptKeyHash: key.hash, builder: 'w1' };
    const claim = { ...base, from: ['queued' as const], to: 'running' as const, incrementAttempt: true, set };
    expect(await db.store.transition(claim)).toMatchObject({ done: true, attempt: 1 });
    hash = attemptKeyHash(key.key, base);
  });

  it("writes the attempt and the lease's end in whole ms of Redis's TIME, as the coordinator reads it", async () => {
    // Many fences, spread over Redis's second: a clock that rounds the microseconds otherwise (a mark up to 1 ms
    // early) shows as a fence before the TIME read just ahead of it, at some point of the second.
    for (let i = 0; i < 40; i++) {
      const before = await redisNowMs();
      expect(await db.store.fence('1', 'amd64', at(1), 300_000)).toMatchObject({ refusal: '' });
      const after = await redisNowMs();
      const written = await mark();
      expect(written.settleAttempt).toBe('1');
      expect(Number(written.settleUntilMs) - 300_000).toBeGreaterThanOrEqual(before);
      expect(Number(written.settleUntilMs) - 300_000).toBeLessThanOrEqual(after);
      await sleep(13);
    }
  });

  it("writes no mark without a lease ('0', '' or none), and one for a lease of 1 ms", async () => {
    expect(await db.store.fence('1', 'amd64', at(1))).toMatchObject({ refusal: '' });
    for (const lease of [[''], []]) {
      const reply = await db.redis.eval(fenceScript, 1, buildKey, '1', '1', hash, ...lease);
      expect(reply).toEqual(['', 'running', 1, 1]);
    }
    expect(await mark()).toEqual({});
    expect(await db.store.fence('1', 'amd64', at(1), 1)).toMatchObject({ refusal: '' });
    expect(Object.keys(await mark()).sort()).toEqual(['settleAttempt', 'settleUntilMs']);
  });

  it('keeps the mark across a cancel request and a keyed running step; the final step clears it', async () => {
    expect(await db.store.fence('1', 'amd64', at(1), 300_000)).toMatchObject({ refusal: '' });
    const written = await mark();
    const same = { ...base, from: ['running' as const], attempt: { equals: 1 } };
    expect(await db.store.transition({ ...same, set: { cancelRequested: true } })).toMatchObject({ done: true });
    expect(await db.store.transition({ ...same, attemptKeyHash: hash, set: { builder: 'w1' } })).toMatchObject({
      done: true,
    });
    expect(await mark()).toEqual(written);
    // Still settling: a keyless requeue waits for the report.
    expect(await db.store.transition({ ...same, to: 'queued' })).toMatchObject({ done: false, refusal: 'settling' });
    expect(await db.store.transition({ ...same, to: 'failed', attemptKeyHash: hash })).toMatchObject({ done: true });
    expect(await mark()).toEqual({});
  });

  it('a claim after the mark lapsed clears it; a keyless step that keeps the state is not refused', async () => {
    expect(await db.store.fence('1', 'amd64', at(1), 300_000)).toMatchObject({ refusal: '' });
    const keep = { ...base, from: ['running' as const], to: 'running' as const, set: { builder: 'w3' } };
    expect(await db.store.transition(keep)).toMatchObject({ done: true, state: 'running' });
    expect(await db.store.fence('1', 'amd64', at(1), 1)).toMatchObject({ refusal: '' });
    await sleep(20); // the 1 ms mark lapses (Redis's clock)
    expect(await keylessClaim()).toMatchObject({ done: true, attempt: 2 });
    expect(await mark()).toEqual({});
  });

  it('has lapsed in the millisecond its lease ends (Redis clock), not one later', async () => {
    // Each round claims the build the moment Redis's clock reaches the mark's end; a mark that still held in
    // that millisecond refuses it (most rounds land in it).
    for (let attempt = 1; attempt <= 20; attempt++) {
      expect(await db.store.fence('1', 'amd64', at(attempt), 1)).toMatchObject({ refusal: '' });
      const until = Number((await mark()).settleUntilMs);
      while ((await redisNowMs()) < until) await sleep(0);
      const key = newAttemptKey(base);
      expect(await keylessClaim(key)).toMatchObject({ done: true, attempt: attempt + 1 });
      hash = attemptKeyHash(key.key, base);
    }
  });
});
