import { beforeEach, describe, expect, it } from 'vitest';
import { queueTestTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { FarmStore } from './farm-store.ts';
import { farmKeys } from './names.ts';
import { describeNeeds, hasNeeds, mergeNeeds, shortfallsOf, type BuildNeeds, type HostCapacity } from './placement.ts';

const GiB = 1024 ** 3;

/** The claim's capacity check in the guarded transition script, on a real Redis. */
describe('a claim checks the build needs against the claiming host', () => {
  // Each test queues afresh (queue() empties Redis first).
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }), { flush: false });
  const archs = ['amd64'];

  async function queue(needs?: BuildNeeds): Promise<void> {
    await db.redis.flushall();
    expect(await queueTestTask(db.store, archs, needs ? { needs } : {})).toBe('done');
  }

  const claim = (capacity: HostCapacity) =>
    db.store.transition({
      taskId: '1',
      arch: 'amd64',
      run: 1,
      archs,
      from: ['queued', 'running'],
      to: 'running',
      incrementAttempt: true,
      refuseIfCancelRequested: true,
      capacity,
      set: { builder: 'w' },
    });
  const host = (cores: number, memGiB: number, diskGB = 100): HostCapacity => ({
    cores,
    memoryBytes: memGiB * GiB,
    diskFreeBytes: diskGB * 1e9,
  });

  beforeEach(() => queue({ cores: 4, memoryBytes: 16 * GiB, memoryPerCoreBytes: 2 * GiB, diskBytes: 40e9 }));

  it('refuses a host short of any need and changes nothing: no attempt used, no event, still queued', async () => {
    const events = await db.redis.xlen(farmKeys.events);
    for (const small of [host(2, 64), host(8, 8), host(16, 16), host(8, 64, 10)]) {
      const outcome = await claim(small);
      expect(outcome).toMatchObject({ done: false, refusal: 'capacity', state: 'queued', attempt: 0 });
    }
    const build = await db.store.getBuild('1', 'amd64');
    expect(build).toMatchObject({ state: 'queued', attempt: 0 });
    expect(build?.builder).toBeUndefined();
    expect(await db.redis.xlen(farmKeys.events)).toBe(events);
    // A host that meets every need takes it, at attempt 1.
    expect(await claim(host(8, 16))).toMatchObject({ done: true, attempt: 1, state: 'running' });
  });

  it('lets any host claim a build without needs, and a cancel still wins over a short host', async () => {
    await queue();
    expect(await claim(host(1, 1, 1))).toMatchObject({ done: true, attempt: 1 });
    await queue({ memoryBytes: 32 * GiB });
    await db.redis.hset(farmKeys.build('1', 'amd64'), 'cancelRequested', '1');
    expect(await claim(host(1, 1))).toMatchObject({ done: false, refusal: 'cancel' });
  });

  it('refuses a build network to a host that does not allow network builds, with nothing changed', async () => {
    await queue({ network: true, memoryBytes: 4 * GiB });
    const offline = { ...host(8, 16), networkBuilds: false };
    expect(await claim(offline)).toMatchObject({ done: false, refusal: 'capacity', state: 'queued', attempt: 0 });
    // Unsaid is not allowed.
    expect(await claim(host(8, 16))).toMatchObject({ done: false, refusal: 'capacity', attempt: 0 });
    // Allowed, but short of memory: still refused; allowed and big enough: taken.
    expect(await claim({ ...host(8, 2), networkBuilds: true })).toMatchObject({ refusal: 'capacity' });
    expect(await claim({ ...host(8, 16), networkBuilds: true })).toMatchObject({ done: true, attempt: 1 });
    // A host that allows network builds takes builds without one too.
    await queue({ memoryBytes: 4 * GiB });
    expect(await claim({ ...host(8, 16), networkBuilds: true })).toMatchObject({ done: true, attempt: 1 });
  });

  it('agrees with shortfallsOf on a network, and merges a sequence of needs', () => {
    expect(shortfallsOf({ network: true }, host(1, 1))).toEqual([{ need: 'network', wanted: 1, has: 0 }]);
    expect(shortfallsOf({ network: true }, { ...host(1, 1), networkBuilds: true })).toEqual([]);
    expect(describeNeeds({ cores: 2, network: true })).toBe('2 cores, a build network');
    expect(mergeNeeds({ memoryBytes: GiB }, { memoryBytes: 4 * GiB, network: true }, { cores: 2 })).toEqual({
      memoryBytes: 4 * GiB,
      network: true,
      cores: 2,
    });
    expect(hasNeeds({ network: true })).toBe(true);
    expect(hasNeeds({ network: false })).toBe(false);
  });

  it('agrees with shortfallsOf, and says the needs as people read them', () => {
    const needs = { cores: 4, memoryBytes: 16 * GiB, memoryPerCoreBytes: 2 * GiB, diskBytes: 40e9 };
    expect(shortfallsOf(needs, host(16, 16)).map((s) => s.need)).toEqual(['memoryPerCoreBytes']);
    expect(shortfallsOf(needs, host(8, 16))).toEqual([]);
    expect(describeNeeds(needs)).toBe('4 cores, 16 GiB, 2 GiB per core, 40 GB free disk');
    expect(describeNeeds({ memoryBytes: 1.5 * GiB })).toBe('1.5 GiB');
  });
});
