import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  farmDeadlineMs,
  type FarmHarness,
  farmTokens,
  groupStatus,
  member,
  ms,
  waitForGroup,
  postGroup,
  uploadTasks,
} from '@aoinb/farm-harness';
import { groupKit, startGroupFarm, startsAfterEnd } from '../test-support/group-farm.ts';

/** What a group builds when, on the group farm (test-support/group-farm.ts): the dependency graph and its order. */
describe('group builds by dependency (fake executor)', () => {
  let farm: FarmHarness;
  const maintainer = { token: farmTokens.maintainer };
  const { pack, amd64, group, branchPackages } = groupKit(() => farm);
  /** A fake build with `holdUntilFile: gate(name)` runs until the test calls `letGo(name)`. */
  const gate = (name: string): string => path.join(farm.root, `release-${name}`);
  const letGo = (...names: string[]): Promise<unknown> => Promise.all(names.map((n) => writeFile(gate(n), '')));

  beforeAll(async () => {
    farm = await startGroupFarm();
  });

  afterAll(async () => {
    await farm?.stop();
  });

  it('rejects a dependency cycle with a 422 that names it, and leaves the tasks free', async () => {
    const tasks = await uploadTasks(
      farm,
      await Promise.all([
        amd64('cyc-a', ['BUILDDEP="cyc-b"']),
        amd64('cyc-b', ['PKGDEP="cyc-c"']),
        amd64('cyc-c', ['BUILDDEP="cyc-a"']),
        amd64('cyc-free'),
      ]),
    );
    const refused = await postGroup(farm, { branch: 'stable', tasks });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: { code: 'DEPENDENCY_CYCLE' } });
    const message = (refused.body as { error: { message: string } }).error.message;
    expect(message).toMatch(
      /cyc-a \(task \d+, amd64\) needs cyc-b -> cyc-b \(task \d+, amd64\) needs cyc-c -> cyc-c \(task \d+, amd64\) needs cyc-a -> cyc-a/,
    );
    expect(message).not.toContain('cyc-free');
    const task = (await farm.api('GET', `/task/${tasks[0]}/status`)).body as { state: string; group_id: string | null };
    expect(task).toMatchObject({ state: 'created', group_id: null });

    expect((await postGroup(farm, { branch: 'stable', tasks: [tasks[3], tasks[3]] })).status).toBe(400);
    expect((await postGroup(farm, { branch: 'stable', tasks: ['999999'] })).status).toBe(404);
    expect((await postGroup(farm, { branch: 'nosuchbranch', tasks: [tasks[3]] })).body).toMatchObject({
      error: { code: 'SOURCE_LIST_MISSING' },
    });
    expect((await postGroup(farm, { branch: 'stable', tasks: [tasks[3]], mode: 'parallel' })).status).toBe(400);
    expect(
      (await farm.api('POST', '/group', { branch: 'stable', tasks: [tasks[3]] }, { token: farmTokens.worker })).status,
    ).toBe(403);
    const started = await farm.submit(await amd64('cyc-started'));
    expect((await postGroup(farm, { branch: 'stable', tasks: [tasks[3], started] })).status).toBe(409);
  });

  it('builds a DAG on two hosts: dependencies first, independent ones at once, debs published as built', async () => {
    const { id, tasks } = await group([
      amd64('dag-app', ['BUILDDEP="dag-liba dag-libb"']),
      amd64('dag-libb', ['BUILDDEP="dag-liba"']),
      amd64('dag-liba', [], { holdUntilFile: gate('dag-liba') }),
      amd64('dag-tool', [], { holdUntilFile: gate('dag-tool') }),
    ]);
    const early = await groupStatus(farm, id);
    expect(
      member(early, 'dag-app')
        .waiting_for.map((d) => d.package)
        .sort(),
    ).toEqual(['dag-liba', 'dag-libb']);
    expect(member(early, 'dag-libb').depends_on.map((d) => d.package)).toEqual(['dag-liba']);
    // The round is a BullMQ flow: the parent waits for its children, gaining one per released member;
    // a waiting member has no job at all (nothing parked).
    const redis = new Redis(farm.redis.url);
    try {
      await farm.waitFor(
        async () => (await redis.zscore('{aoinb}:group-flow:waiting-children', `g${id}-r1`)) !== null,
        farmDeadlineMs,
        'the parent job to wait for its children',
      );
      expect(await redis.exists(`{aoinb}:build-amd64:t${tasks[0]}-amd64-r1`)).toBe(0);
      expect(await redis.hget(`{aoinb}:build-amd64:t${tasks[2]}-amd64-r1`, 'parentKey')).toBe(
        `{aoinb}:group-flow:g${id}-r1`,
      );
      expect(await redis.zcard('{aoinb}:build-amd64:delayed')).toBe(0);
      // dag-tool runs alongside dag-liba: both hold until the test saw them running at once.
      await farm.waitFor(
        async () => {
          const s = await groupStatus(farm, id);
          return member(s, 'dag-liba').state === 'running' && member(s, 'dag-tool').state === 'running';
        },
        farmDeadlineMs,
        'dag-liba and dag-tool to run at once',
      );
      await letGo('dag-liba', 'dag-tool');
      await farm.waitFor(
        async () => (await redis.zscore('{aoinb}:group-flow:completed', `g${id}-r1`)) !== null,
        farmDeadlineMs,
        'the parent job to complete',
      );
    } finally {
      redis.disconnect();
    }
    const done = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial']);
    expect(done.state).toBe('succeeded');
    expect(done.members.map((m) => m.package)).toEqual(['dag-liba', 'dag-libb', 'dag-app', 'dag-tool']);
    expect(startsAfterEnd(done, 'dag-libb', 'dag-liba')).toBe(true);
    expect(startsAfterEnd(done, 'dag-app', 'dag-libb')).toBe(true);
    // dag-tool ran alongside dag-liba (held so), on the other host.
    const [liba, tool] = [member(done, 'dag-liba'), member(done, 'dag-tool')];
    expect(ms(tool.started_at)).toBeLessThan(ms(liba.finished_at));
    expect(ms(liba.started_at)).toBeLessThan(ms(tool.finished_at));
    expect(new Set([liba.builder, tool.builder])).toEqual(new Set(['wa1', 'wa2']));
    expect(done.members.every((m) => m.run === 1 && m.attempt === 1)).toBe(true);
    // Each member was released once: one `queued` event of its build.
    const events = new Redis(farm.redis.url);
    try {
      const queued = (await events.xrange('{aoinb}:events', '-', '+'))
        .map(([, f]) => f.join(' '))
        .filter((e) => / state queued /.test(e) && e.startsWith('type build'));
      for (const t of tasks) expect(queued.filter((e) => e.includes(`taskId ${t} `))).toHaveLength(1);
    } finally {
      events.disconnect();
    }
    const packages = await branchPackages();
    for (const m of done.members) {
      expect(m.artifacts[0]!.repo_url).toContain('/repo/stable/');
      expect(packages).toContain(`Package: ${m.package}\n`);
    }
    const groupRepo = (await farm.api('GET', `/group/${id}/repo/Packages`, undefined, { token: null })).text;
    expect(groupRepo.match(/^Package: /gm)).toHaveLength(4);
    const release = (await farm.api('GET', `/group/${id}/repo/Release`, undefined, { token: null })).text;
    expect(release).toContain(`Codename: aoinb-group-${id}`);
    const log = (await farm.api('GET', `/task/${tasks[0]}/log`)).text;
    expect(log).toContain(
      [
        `extra apt source aoinb-group-${id}:`,
        `deb [signed-by=/etc/apt/keyrings/aoinb-group-${id}.asc] ${farm.coordinatorUrl}/group/${id}/repo ./`,
        `(pin release n=aoinb-group-${id} 990)`,
      ].join(' '),
    );
    const task = (await farm.api('GET', `/task/${tasks[0]}/status`)).body as { group_id: string };
    expect(task.group_id).toBe(id);
    expect((await farm.api('PUT', `/task/${tasks[0]}/build`, {}, maintainer)).status).toBe(409);
    const list = (await farm.api('GET', '/group?state=succeeded')).body as { groups: Array<{ id: string }> };
    expect(list.groups.map((g) => g.id)).toContain(id);
  });

  it('computes the DAG per arch: __ARCH overrides, PKGPROV, and noarch members for every arch', async () => {
    const both = 'ALLOW_ARCH="@(amd64|arm64)"';
    const { id } = await group([
      pack({ name: 'pa-plugin', defines: [both, 'BUILDDEP__ARM64="pa-compat pa-docs"'], fake: { durationMs: 300 } }),
      pack({ name: 'pa-core', defines: [both, 'PKGPROV="pa-compat"'], fake: { holdUntilFile: gate('pa-core') } }),
      pack({ name: 'pa-docs', defines: ['ABHOST=noarch'], fake: { durationMs: 800 } }),
    ]);
    const s = await groupStatus(farm, id);
    expect(s.members.map((m) => `${m.package}/${m.arch}`).sort()).toEqual([
      'pa-core/amd64',
      'pa-core/arm64',
      'pa-docs/amd64',
      'pa-plugin/amd64',
      'pa-plugin/arm64',
    ]);
    expect(member(s, 'pa-plugin', 'amd64').depends_on).toEqual([]);
    expect(
      member(s, 'pa-plugin', 'arm64')
        .depends_on.map((d) => `${d.package}/${d.arch}`)
        .sort(),
    ).toEqual(['pa-core/arm64', 'pa-docs/amd64']);
    // pa-core holds until pa-plugin/amd64 started: that one did not wait for it.
    await farm.waitFor(
      async () => ['running', 'succeeded'].includes(member(await groupStatus(farm, id), 'pa-plugin', 'amd64').state),
      farmDeadlineMs,
      'pa-plugin/amd64 to start while pa-core is held',
    );
    await letGo('pa-core');
    const done = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial']);
    expect(done.state).toBe('succeeded');
    const plugin = member(done, 'pa-plugin', 'arm64');
    expect(ms(plugin.started_at)).toBeGreaterThanOrEqual(ms(member(done, 'pa-core', 'arm64').finished_at));
    expect(ms(plugin.started_at)).toBeGreaterThanOrEqual(ms(member(done, 'pa-docs', 'amd64').finished_at));
    expect(ms(member(done, 'pa-plugin', 'amd64').started_at)).toBeLessThan(
      ms(member(done, 'pa-core', 'amd64').finished_at),
    );
  });

  it("skips a failed member's dependents, naming why; the rest go on; a retry reruns failed and skipped", async () => {
    const { id } = await group([
      amd64('fp-x', [], { fail: 'x broke on purpose', failRuns: [1] }),
      amd64('fp-y', ['BUILDDEP="fp-x"']),
      amd64('fp-z', ['PKGDEP="fp-y"']),
      amd64('fp-free', [], { durationMs: 1000 }),
    ]);
    const first = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial']);
    expect(first.state).toBe('partial');
    expect(member(first, 'fp-x')).toMatchObject({ state: 'failed', reason: 'x broke on purpose' });
    expect(member(first, 'fp-y')).toMatchObject({
      state: 'skipped',
      skipped_because: { package: 'fp-x', state: 'failed', root: { package: 'fp-x', state: 'failed' } },
    });
    expect(member(first, 'fp-z')).toMatchObject({
      state: 'skipped',
      skipped_because: { package: 'fp-y', state: 'skipped', root: { package: 'fp-x', state: 'failed' } },
    });
    expect(member(first, 'fp-y').started_at).toBeNull();
    expect(member(first, 'fp-free').state).toBe('succeeded');
    const free = member(first, 'fp-free');

    const retried = await farm.api('POST', `/group/${id}/retry`, undefined, maintainer);
    expect(retried.status, retried.text).toBe(202);
    expect(retried.body).toMatchObject({ round: 2 });
    expect((retried.body as { members: string[] }).members).toHaveLength(3);
    const second = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial']);
    expect(second.state).toBe('succeeded');
    expect(second.round).toBe(2);
    expect(member(second, 'fp-free')).toMatchObject({
      round: 1,
      run: 1,
      started_at: free.started_at,
      finished_at: free.finished_at,
    });
    for (const name of ['fp-x', 'fp-y', 'fp-z'])
      expect(member(second, name)).toMatchObject({ round: 2, run: 2, state: 'succeeded' });
    expect(startsAfterEnd(second, 'fp-z', 'fp-y')).toBe(true);
    expect((await farm.api('POST', `/group/${id}/retry`, undefined, maintainer)).status).toBe(409);
  });

  it('orders released members by critical path, from learned requirements when known', async () => {
    const chain = (name: string, dep?: string): Promise<Buffer> =>
      pack({
        name,
        defines: ['ALLOW_ARCH="riscv64"', ...(dep ? [`BUILDDEP="${dep}"`] : [])],
        fake: { durationMs: 200 },
      });
    const { id } = await group([
      chain('cp-short'),
      chain('cp-long-1'),
      chain('cp-long-2', 'cp-long-1'),
      chain('cp-long-3', 'cp-long-2'),
    ]);
    const s = await groupStatus(farm, id);
    expect(member(s, 'cp-long-1').critical_path_seconds).toBe(3 * 600);
    expect(member(s, 'cp-short').critical_path_seconds).toBe(600);
    expect(member(s, 'cp-long-1').priority).toBeLessThan(member(s, 'cp-short').priority);
    const done = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial']);
    // One riscv64 host with one slot: the longer path starts first although listed second.
    expect(ms(member(done, 'cp-long-1').started_at)).toBeLessThan(ms(member(done, 'cp-short').started_at));

    // A new version: the repository refuses cp-long-1 1.0-0 rebuilt with other bytes.
    const again = await group([
      pack({ name: 'cp-long-1', version: '1.1', defines: ['ALLOW_ARCH="riscv64"'], fake: { durationMs: 200 } }),
      chain('cp-new'),
    ]);
    const known = await groupStatus(farm, again.id);
    // The fake executor reports resources too: the estimate is cp-long-1's learned requirement.
    expect(member(known, 'cp-long-1')).toMatchObject({ estimate_known: true, estimate_source: 'learned' });
    expect(member(known, 'cp-long-1').estimate_seconds).toBeLessThan(30);
    expect(member(known, 'cp-new')).toMatchObject({
      estimate_known: false,
      estimate_source: 'default',
      estimate_seconds: 600,
    });
    await waitForGroup(farm, again.id, ['succeeded']);
  });
});
