import { hostname } from 'node:os';
import { beforeEach, describe, expect, it } from 'vitest';
import { farmKeys, FarmStore, writeHeartbeat, type BuildNeeds, type BuilderFacts } from '@aoinb/farm-protocol';
import { testBuild, testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { assessPlacement } from './placement-assessment.ts';

const GiB = 1024 ** 3;

/** The placement pass's reading of the queue and the heartbeats, on a real Redis. */
describe('assessPlacement', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));
  let queuedAt = Date.parse('2026-01-01T00:00:00Z');

  beforeEach(() => db.redis.flushall());

  /** A task queued on amd64 with `needs`, under `jobId` (a sequential group's members share theirs). */
  async function queued(needs: BuildNeeds | undefined, jobId?: string): Promise<string> {
    const id = await db.store.nextTaskId();
    await db.store.createTask(testTask(id));
    const at = new Date((queuedAt += 1000)).toISOString();
    const build = testBuild(id, 'amd64', 1, { queuedAt: at, ...(needs ? { needs } : {}), ...(jobId ? { jobId } : {}) });
    expect(await db.store.queueBuilds({ id }, ['created'], [], { archs: ['amd64'] }, [build])).toBe('done');
    return id;
  }

  async function builder(id: string, memGiB: number, options: { slots?: number; network?: boolean } = {}) {
    const now = new Date().toISOString();
    const facts: BuilderFacts = {
      id,
      hostname: hostname(),
      archs: ['amd64'],
      slots: options.slots ?? 1,
      cores: 4,
      memoryTotalBytes: memGiB * GiB,
      memoryFreeBytes: GiB,
      diskFreeBytes: 100e9,
      allowNetworkBuilds: options.network === true,
      load: [0, 0, 0],
      currentTasks: [],
      mode: 'active',
      startedAt: now,
      lastHeartbeat: now,
      version: 'test',
    };
    await writeHeartbeat(db.redis, facts, 30, farmKeys);
  }

  const reasons = async () =>
    Object.fromEntries(
      (await assessPlacement(db.redis, farmKeys)).map((p) => [
        p.taskId,
        p.verdict.kind === 'ready' ? 'ready' : p.verdict.reason,
      ]),
    );

  it('judges a sequential group job once, on the largest needs of its queued members', async () => {
    await builder('small', 2);
    const first = await queued({ memoryBytes: GiB }, 'g1-amd64-r1');
    const second = await queued({ memoryBytes: 4 * GiB }, 'g1-amd64-r1');
    const alone = await queued({ memoryBytes: GiB });
    const why = 'waiting: needs 4 GiB, largest amd64 builder has 2 GiB';
    // The first member alone would fit: the job runs all of them on one host, so it waits for a bigger one.
    expect(await reasons()).toEqual({ [first]: why, [second]: why, [alone]: 'ready' });
    const placements = await assessPlacement(db.redis, farmKeys);
    expect(placements.find((p) => p.taskId === first)?.needs).toEqual({ memoryBytes: 4 * GiB });

    // Once a member runs, the job is on a host: its other members wait for their turn there.
    await db.store.transition({ taskId: first, arch: 'amd64', run: 1, archs: ['amd64'], to: 'running' });
    expect(await reasons()).toEqual({ [second]: 'ready', [alone]: 'ready' });
  });

  it('promises a free slot to one job, oldest first; a network build waits for a host that allows one', async () => {
    await builder('offline', 8, { slots: 2 });
    const net = await queued({ network: true });
    const big = await queued({ memoryBytes: 4 * GiB });
    const bigger = await queued({ memoryBytes: 6 * GiB });
    expect(await reasons()).toEqual({
      [net]: 'waiting: no amd64 builder allows network builds',
      [big]: 'ready',
      [bigger]: 'ready',
    });
    await builder('online', 8, { network: true });
    const after = await reasons();
    expect(after[net]).toBe('ready');
    // The network build took the one free slot of the host that allows it; the others share the two of `offline`.
    const third = await queued({ memoryBytes: 2 * GiB });
    expect((await reasons())[third]).toBe(
      'waiting: needs 2 GiB, which 2 of 2 amd64 builders have; all of them are busy',
    );
  });
});
