import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFakeBundleAt } from '@aoinb/testkit';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { estimateFrom, lowestPriority, pathLengths, priorityFor } from './critical-path.ts';
import { groupEdges, topologicalOrder, type DagNode } from './group-dag.ts';
import { buildPlan, loadDagNodes, reprioritize, type Estimates } from './group-plan.ts';
import { decide, type MemberView } from './group-policy.ts';

function node(key: string, provides: string[], depends: string[], extra: Partial<DagNode> = {}): DagNode {
  const [taskId, arch] = key.split('/') as [string, string];
  return { key, taskId, arch, package: provides[0] as string, noarch: false, provides, depends, ...extra };
}

describe('the group DAG', () => {
  it('links members through BUILDDEP/PKGDEP names and PKGPROV, per arch, noarch members for every arch', () => {
    const nodes = [
      node('1/amd64', ['app'], ['libfoo-compat', 'docs', 'gcc']),
      node('1/arm64', ['app'], ['libfoo']),
      node('2/amd64', ['libfoo', 'libfoo-compat'], []),
      node('2/arm64', ['libfoo', 'libfoo-compat'], []),
      node('3/amd64', ['docs'], [], { noarch: true }),
    ];
    const edges = groupEdges(nodes);
    expect(edges.get('1/amd64')).toEqual([
      { from: '1/amd64', to: '2/amd64', name: 'libfoo-compat' },
      { from: '1/amd64', to: '3/amd64', name: 'docs' },
    ]);
    expect(edges.get('1/arm64')).toEqual([{ from: '1/arm64', to: '2/arm64', name: 'libfoo' }]);
    // Dependencies first; among members free at once, the order they were given in.
    expect(topologicalOrder(nodes, edges)).toEqual(['2/amd64', '2/arm64', '1/arm64', '3/amd64', '1/amd64']);
  });

  it('names a cycle, and only the cycle', () => {
    const nodes = [
      node('9/amd64', ['entry'], ['a']),
      node('1/amd64', ['a'], ['b']),
      node('2/amd64', ['b'], ['c:native']),
      node('3/amd64', ['c'], ['a']),
      node('4/amd64', ['free'], []),
    ];
    expect(() => topologicalOrder(nodes, groupEdges(nodes))).toThrow(
      /a \(task 1, amd64\) needs b -> b \(task 2, amd64\) needs c:native -> c \(task 3, amd64\) needs a -> a \(task 1, amd64\)$/,
    );
    try {
      topologicalOrder(nodes, groupEdges(nodes));
    } catch (error) {
      expect(error).toMatchObject({ code: 'DEPENDENCY_CYCLE' });
      expect((error as Error).message).not.toContain('entry');
    }
  });
});

describe('critical-path priorities', () => {
  it('adds each member to the longest path after it, and maps longer paths to smaller BullMQ priorities', () => {
    const deps = new Map([
      ['a', []],
      ['b', ['a']],
      ['c', ['a']],
      ['d', ['b', 'c']],
      ['e', []],
    ]);
    const estimate = new Map([
      ['a', 10],
      ['b', 100],
      ['c', 5],
      ['d', 1],
      ['e', 50],
    ]);
    const paths = pathLengths(['a', 'b', 'c', 'd', 'e'], deps, estimate);
    expect(Object.fromEntries(paths)).toEqual({ a: 111, b: 101, c: 6, d: 1, e: 50 });
    expect(priorityFor(111)).toBeLessThan(priorityFor(50));
    expect(priorityFor(0)).toBe(lowestPriority);
    expect(priorityFor(1e9)).toBe(1);
  });

  it('estimates from the learned wall time, else the median of the duration history, else the default', () => {
    const learned = { memoryBytes: 1, diskBytes: 1, cpuSeconds: 900, seconds: 120, builds: 3 };
    expect(estimateFrom({}, 600)).toEqual({ seconds: 600, source: 'default' });
    expect(estimateFrom({ history: [30, 10, 20] }, 600)).toEqual({ seconds: 20, source: 'history' });
    expect(estimateFrom({ history: [10, 40] }, 600)).toEqual({ seconds: 25, source: 'history' });
    // Learned wins over history; its CPU time (8 cores busy) is not a duration.
    expect(estimateFrom({ learned, history: [10, 40] }, 600)).toEqual({ seconds: 120, source: 'learned' });
    // A learned requirement without a wall time (0) falls back.
    expect(estimateFrom({ learned: { ...learned, seconds: 0 }, history: [7] }, 600)).toEqual({
      seconds: 7,
      source: 'history',
    });
    expect(estimateFrom({ learned: { ...learned, seconds: 0.2 } }, 600)).toEqual({ seconds: 1, source: 'learned' });
  });

  it('plans in topological order and reprioritises a retry over the rerun members only', () => {
    const nodes = [
      node('1/amd64', ['top'], ['mid']),
      node('2/amd64', ['mid'], ['base']),
      node('3/amd64', ['base'], []),
      node('4/amd64', ['side'], []),
    ];
    const estimates: Estimates = new Map([
      ['1/amd64', { seconds: 10, source: 'learned' }],
      ['2/amd64', { seconds: 20, source: 'history' }],
      ['3/amd64', { seconds: 30, source: 'default' }],
      ['4/amd64', { seconds: 100, source: 'learned' }],
    ]);
    const plan = buildPlan(nodes, estimates);
    expect(plan.map((m) => [m.key, m.deps, m.pathSeconds])).toEqual([
      ['3/amd64', [], 60],
      ['2/amd64', ['3/amd64'], 30],
      ['1/amd64', ['2/amd64'], 10],
      ['4/amd64', [], 100],
    ]);
    expect(plan.find((m) => m.key === '4/amd64')!.priority).toBeLessThan(
      plan.find((m) => m.key === '3/amd64')!.priority,
    );
    const retry = reprioritize(plan, new Set(['1/amd64', '2/amd64']));
    expect(retry.find((m) => m.key === '2/amd64')!.pathSeconds).toBe(30);
    expect(retry.find((m) => m.key === '3/amd64')).toEqual(plan.find((m) => m.key === '3/amd64'));
  });
});

describe('the release rule', () => {
  const deps = new Map([
    ['x', []],
    ['y', ['x']],
    ['z', ['y']],
    ['w', ['x', 'v']],
    ['v', []],
    ['free', []],
  ]);
  const order = ['x', 'v', 'y', 'z', 'w', 'free'];
  const views = (s: Record<string, MemberView['status']>): Map<string, MemberView> =>
    new Map(Object.entries(s).map(([k, status]) => [k, { status }]));

  it('releases members whose dependencies all succeeded', () => {
    const d = decide(
      order,
      deps,
      views({ x: 'succeeded', v: 'running', y: 'waiting', z: 'waiting', w: 'waiting', free: 'waiting' }),
    );
    expect(d).toEqual({ release: ['y', 'free'], skip: [] });
  });

  it('skips everything downstream of a failure in one pass, naming the direct and the root cause', () => {
    const d = decide(
      order,
      deps,
      views({ x: 'failed', v: 'succeeded', y: 'waiting', z: 'waiting', w: 'waiting', free: 'waiting' }),
    );
    expect(d.release).toEqual(['free']);
    expect(d.skip).toEqual([
      { key: 'y', because: { key: 'x', state: 'failed' }, root: { key: 'x', state: 'failed' } },
      { key: 'z', because: { key: 'y', state: 'skipped' }, root: { key: 'x', state: 'failed' } },
      { key: 'w', because: { key: 'x', state: 'failed' }, root: { key: 'x', state: 'failed' } },
    ]);
  });

  it('in a sequential group, also skips released members that did not start', () => {
    const d = decide(
      order,
      deps,
      views({ x: 'cancelled', v: 'succeeded', y: 'queued', z: 'queued', w: 'running', free: 'queued' }),
      { skipQueued: true },
    );
    expect(d.skip.map((s) => s.key)).toEqual(['y', 'z']);
    expect(d.release).toEqual([]);
  });
});

describe('reading members from their bundles', () => {
  const tmp = useTempDir('aoinb-group-plan-');

  const bundle = (name: string, defines: string[]): Promise<string> =>
    writeFakeBundleAt(path.join(tmp.dir, name), { name, defines });

  it('takes BUILDDEP, PKGDEP (with __ARCH overrides) and PKGPROV from the bundles', async () => {
    const members = [
      {
        taskId: '1',
        arch: 'amd64',
        package: 'app',
        noarch: false,
        bundleDir: await bundle('app', ['BUILDDEP="cmake"', 'PKGDEP="libx>=2"', 'PKGDEP__ARM64="libx-legacy"']),
      },
      { taskId: '1', arch: 'arm64', package: 'app', noarch: false, bundleDir: path.join(tmp.dir, 'app') },
      {
        taskId: '2',
        arch: 'amd64',
        package: 'libx',
        noarch: false,
        bundleDir: await bundle('libx', ['PKGPROV="libx-legacy"']),
      },
      { taskId: '2', arch: 'arm64', package: 'libx', noarch: false, bundleDir: path.join(tmp.dir, 'libx') },
    ];
    const nodes = await loadDagNodes(members);
    expect(nodes.map((n) => n.depends)).toEqual([['cmake', 'libx'], ['cmake', 'libx-legacy'], [], []]);
    const plan = buildPlan(nodes, new Map());
    expect(Object.fromEntries(plan.map((m) => [m.key, m.deps]))).toEqual({
      '2/amd64': [],
      '2/arm64': [],
      '1/amd64': ['2/amd64'],
      '1/arm64': ['2/arm64'],
    });
  });
});
