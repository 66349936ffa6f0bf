import { beforeEach, describe, expect, it } from 'vitest';
import { queueTestTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import type { TransitionRequest } from './build-transition.ts';
import { FarmStore } from './farm-store.ts';
import { shortfallsOf, type BuildNeeds, type HostCapacity } from './placement.ts';

const GiB = 1024 ** 3;

/**
 * The claim's capacity check (transition-script.ts, ARGV 15) where placement-claim.test.ts does not look: it
 * agrees with shortfallsOf (what the placement loop tells people) on hosts of one core and of none, and at
 * needs met exactly; and the transitions that carry no capacity (a report, a cancel, a hand-back) never check
 * one, so a build with needs ends like any other. Each case was a surviving mutant of scripts/lua-mutation.ts.
 */
describe('the capacity check of a claim, at its edges', () => {
  // Each case queues afresh (queue() empties Redis first).
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }), { flush: false });
  const at = { taskId: '1', arch: 'amd64', run: 1, archs: ['amd64'] };
  const claim = (capacity?: HostCapacity): TransitionRequest => ({
    ...at,
    from: ['queued', 'running'],
    to: 'running',
    incrementAttempt: true,
    refuseIfCancelRequested: true,
    ...(capacity ? { capacity } : {}),
    set: { builder: 'w' },
  });
  const host = (cores: number, memoryBytes: number, diskFreeBytes = 100e9): HostCapacity => ({
    cores,
    memoryBytes,
    diskFreeBytes,
  });

  async function queue(needs: BuildNeeds): Promise<void> {
    await db.redis.flushall();
    expect(await queueTestTask(db.store, at.archs, { needs })).toBe('done');
  }

  async function expectDone(req: TransitionRequest, state: string): Promise<void> {
    expect(await db.store.transition(req)).toMatchObject({ done: true, refusal: '', state });
  }

  beforeEach(() => queue({ cores: 2, memoryBytes: 4 * GiB, memoryPerCoreBytes: 2 * GiB, diskBytes: 40e9 }));

  it('agrees with shortfallsOf on hosts of one core, of none, and with exactly what is needed', async () => {
    const cases: Array<[BuildNeeds, HostCapacity, boolean]> = [
      // Exactly the needs: taken.
      [{ cores: 2, memoryBytes: 4 * GiB, memoryPerCoreBytes: 2 * GiB, diskBytes: 40e9 }, host(2, 4 * GiB, 40e9), true],
      [{ diskBytes: 40e9 }, host(8, 16 * GiB, 40e9), true],
      [{ diskBytes: 40e9 }, host(8, 16 * GiB, 40e9 - 1), false],
      // One core: all its memory is per core.
      [{ memoryPerCoreBytes: 2 * GiB }, host(1, 4 * GiB), true],
      [{ memoryPerCoreBytes: 2 * GiB }, host(1, GiB), false],
      // No whole core (a heartbeat of 0): no memory per core at all, whatever the memory.
      [{ memoryPerCoreBytes: 1 }, host(0, 16 * GiB), false],
      [{ memoryBytes: GiB }, host(0, 16 * GiB), true],
    ];
    for (const [needs, offered, taken] of cases) {
      expect({ needs, offered, taken: shortfallsOf(needs, offered).length === 0 }).toEqual({ needs, offered, taken });
      await queue(needs);
      const outcome = await db.store.transition(claim(offered));
      const expected = taken ? { done: true, state: 'running' } : { done: false, refusal: 'capacity', state: 'queued' };
      expect({ needs, offered, outcome }).toMatchObject({ needs, offered, outcome: expected });
    }
  });

  it('reads no capacity on the transitions that carry none: a report, a cancel request, a hand-back', async () => {
    await expectDone(claim(host(2, 4 * GiB, 40e9)), 'running');
    await expectDone({ ...at, from: ['running'], set: { cancelRequested: true, reason: 'stop' } }, 'running');
    await expectDone({ ...at, from: ['running'], to: 'queued', unset: ['builder', 'cancelRequested'] }, 'queued');
    // A claim without a capacity (a worker that reports none) is not checked either.
    await expectDone(claim(), 'running');
    await expectDone({ ...at, from: ['running'], to: 'succeeded', set: { reason: '' } }, 'succeeded');
    expect(await db.store.getTask('1')).toMatchObject({ state: 'succeeded' });
  });

  it('cancels a queued build with needs that no host could take', async () => {
    await queue({ cores: 512, memoryBytes: 4096 * GiB, network: true });
    expect(await db.store.transition(claim(host(8, 16 * GiB)))).toMatchObject({ done: false, refusal: 'capacity' });
    await expectDone({ ...at, from: ['queued'], to: 'cancelled', set: { reason: 'no host' } }, 'cancelled');
    expect(await db.store.getTask('1')).toMatchObject({ state: 'cancelled' });
  });
});
