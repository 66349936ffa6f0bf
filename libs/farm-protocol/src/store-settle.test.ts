import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { queueTestTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { attemptKeyHash, newAttemptKey } from './attempt-key.ts';
import { FarmStore } from './farm-store.ts';

/**
 * Exactly once across a lost job lock (redis-kill.test.ts): a report of attempt 1 fences with a settle lease
 * before it publishes; a job the stalled checker re-queued meanwhile must not claim attempt 2 (it would build
 * and publish again), nor may recovery requeue or fail the build, until the report made the build final.
 */
describe('FarmStore: a build whose report is publishing is not claimed again', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));
  const archs = ['amd64'];
  const base = { taskId: '1', arch: 'amd64', run: 1, archs };

  function claim(): ReturnType<FarmStore['transition']> {
    return db.store.transition({
      ...base,
      from: ['queued', 'running'],
      to: 'running',
      incrementAttempt: true,
      refuseIfCancelRequested: true,
      set: { attemptKeyHash: newAttemptKey(base).hash, builder: 'w2' },
    });
  }

  /** Attempt 1 claimed; returns its key's hash, as the coordinator computes it from the worker's header. */
  async function firstAttempt(): Promise<string> {
    const key = newAttemptKey(base);
    const outcome = await db.store.transition({
      ...base,
      from: ['queued'],
      to: 'running',
      incrementAttempt: true,
      set: { attemptKeyHash: key.hash, builder: 'w1' },
    });
    expect(outcome).toMatchObject({ done: true, attempt: 1 });
    return attemptKeyHash(key.key, base);
  }

  beforeEach(async () => {
    expect(await queueTestTask(db.store, archs)).toBe('done');
  });

  it('refuses a claim, a requeue and a failure while the report settles; its own final step passes', async () => {
    const hash = await firstAttempt();
    const call = { run: 1, attempt: 1, attemptKeyHash: hash };
    expect(await db.store.fence('1', 'amd64', call, 300_000)).toMatchObject({ refusal: '' });
    expect(await claim()).toMatchObject({ done: false, refusal: 'settling', attempt: 1, state: 'running' });
    const requeue = { ...base, from: ['running' as const], attempt: { equals: 1 } };
    expect(await db.store.transition({ ...requeue, to: 'queued' })).toMatchObject({ refusal: 'settling' });
    expect(await db.store.transition({ ...requeue, to: 'failed' })).toMatchObject({ refusal: 'settling' });
    // A cancel request changes no state: it still lands (the worker's report decides the end).
    expect(await db.store.transition({ ...requeue, set: { cancelRequested: true } })).toMatchObject({ done: true });
    const final = { ...requeue, to: 'succeeded' as const, attemptKeyHash: hash };
    expect(await db.store.transition(final)).toMatchObject({ done: true, state: 'succeeded' });
    // Final: the re-queued job's claim is refused by state, the job completes without building.
    expect(await claim()).toMatchObject({ done: false, refusal: 'state', state: 'succeeded', attempt: 1 });
    expect(await db.store.getBuild('1', 'amd64')).toMatchObject({ state: 'succeeded', attempt: 1 });
  });

  it('a read-only fence (an upload) marks nothing, and a lapsed settle mark lets a claim take over', async () => {
    const hash = await firstAttempt();
    const call = { run: 1, attempt: 1, attemptKeyHash: hash };
    expect(await db.store.fence('1', 'amd64', call)).toMatchObject({ refusal: '' });
    expect(await claim()).toMatchObject({ done: true, attempt: 2 });
    const second = await firstAttemptAgainAfter();
    expect(await db.store.fence('1', 'amd64', { run: 1, attempt: 3, attemptKeyHash: second }, 1)).toMatchObject({
      refusal: '',
    });
    // The coordinator died mid-report and its worker with it: the 1 ms mark lapses (Redis's clock).
    await sleep(20);
    expect(await claim()).toMatchObject({ done: true, attempt: 4 });
  });

  /** Attempt 3 claimed with a known key (the build is running attempt 2). */
  async function firstAttemptAgainAfter(): Promise<string> {
    const key = newAttemptKey(base);
    const outcome = await db.store.transition({
      ...base,
      from: ['running'],
      to: 'running',
      incrementAttempt: true,
      set: { attemptKeyHash: key.hash, builder: 'w1' },
    });
    expect(outcome).toMatchObject({ done: true, attempt: 3 });
    return attemptKeyHash(key.key, base);
  }
});
