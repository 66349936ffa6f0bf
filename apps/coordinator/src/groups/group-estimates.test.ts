import { describe, expect, it } from 'vitest';
import { farmKeys, GroupStore, type BuildRecord, type TaskRecord } from '@aoinb/farm-protocol';
import { testBuild, testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import type { CoordinatorContext } from '../context.ts';
import { LearnedStore } from '../placement/learned-requirements.ts';
import { placementLifecycle } from '../placement/placement-lifecycle.ts';
import type { DagNode } from './group-dag.ts';
import { buildPlan, estimateSourcesOf, memberEstimates } from './group-plan.ts';

/**
 * Group estimates from learned requirements, on a real Redis: earlier builds end through the
 * lifecycle hook the build services call, and the next group's critical-path order follows them.
 */
const defaultSeconds = 600;
const db = useRedisFixture((redis) => ({
  groups: new GroupStore(redis, farmKeys),
  learned: new LearnedStore(redis, farmKeys),
}));
// The hook reads the ended build's builder heartbeat and writes learned requirements: Redis and its keys.
const ctx = (): CoordinatorContext =>
  ({ redis: db.redis, keys: farmKeys, groups: { store: db.groups } }) as unknown as CoordinatorContext;

const node = (taskId: string, pkg: string, depends: string[] = []): DagNode => ({
  key: `${taskId}/amd64`,
  taskId,
  arch: 'amd64',
  package: pkg,
  noarch: false,
  provides: [pkg],
  depends,
});
// A long-known package on its own, a chain of three, and one never built before.
const nodes = [node('1', 'webkit'), node('2', 'liba'), node('3', 'libb', ['liba']), node('4', 'app', ['libb'])];
const fresh = node('5', 'newpkg');

/** One earlier build of `pkg` that ended `state` after `seconds` (CPU time: 8 cores busy). */
async function ended(pkg: string, seconds: number, state: BuildRecord['state'] = 'succeeded'): Promise<void> {
  const task: TaskRecord = testTask('90', { bundle: { packageName: pkg } as TaskRecord['bundle'] });
  const finished = Math.floor(Date.now() / 1000) * 1000;
  const build = testBuild('90', 'amd64', 1, {
    state,
    startedAt: new Date(finished - seconds * 1000).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    resources: {
      cpuSeconds: seconds * 8,
      peakMemoryBytes: 1 << 30,
      peakDiskBytes: 1 << 30,
      method: 'cgroup-v1',
      samples: [],
    },
  });
  await placementLifecycle(ctx()).ended!(task, build);
}

const planOf = async (members: DagNode[]) =>
  buildPlan(members, await memberEstimates(estimateSourcesOf(ctx()), defaultSeconds, members));
const byPriority = (plan: Awaited<ReturnType<typeof planOf>>): string[] =>
  [...plan].sort((a, b) => a.priority - b.priority).map((m) => m.package);

describe('group estimates from learned requirements (real Redis)', () => {
  it('orders a group by what earlier builds of its packages took and says where each estimate comes from', async () => {
    // Nothing known: every member the default, so the chain of three goes first.
    const before = await planOf(nodes);
    expect(byPriority(before)).toEqual(['liba', 'libb', 'webkit', 'app']);
    expect(new Set(before.map((m) => m.estimateSource))).toEqual(new Set(['default']));

    for (const seconds of [3500, 3700, 3600]) await ended('webkit', seconds);
    await ended('webkit', 5, 'failed'); // a failed build teaches nothing
    for (const pkg of ['liba', 'libb']) await ended(pkg, 60);
    await db.groups.recordDuration('app', 'amd64', 90); // only the older duration history knows app

    const after = await planOf([...nodes, fresh]);
    expect(byPriority(after)[0]).toBe('webkit');
    const member = (pkg: string) => after.find((m) => m.package === pkg);
    expect(member('webkit')).toMatchObject({ estimateSeconds: 3600, estimateSource: 'learned', estimateKnown: true });
    expect(member('liba')).toMatchObject({ estimateSeconds: 60, estimateSource: 'learned', pathSeconds: 210 });
    expect(member('app')).toMatchObject({ estimateSeconds: 90, estimateSource: 'history', estimateKnown: true });
    expect(member('newpkg')).toMatchObject({ estimateSeconds: defaultSeconds, estimateSource: 'default' });
    expect(member('newpkg')).toMatchObject({ estimateKnown: false });
    expect(member('webkit')!.priority).toBeLessThan(member('newpkg')!.priority);
    expect(member('newpkg')!.priority).toBeLessThan(member('liba')!.priority);
  });

  it('prefers the learned wall time over the duration history of the same package', async () => {
    await db.groups.recordDuration('liba', 'amd64', 5000);
    await ended('liba', 30);
    const [plan] = await planOf([node('2', 'liba')]);
    expect(plan).toMatchObject({ estimateSeconds: 30, estimateSource: 'learned' });
    // Its CPU time (240 s) is not the estimate: the build kept 8 cores busy for 30 s.
    expect((await db.learned.get('liba', 'amd64'))?.cpuSeconds).toBe(240);
  });
});
