import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FarmHarness, farmTokens, groupStatus, member, ms, waitForGroup } from '@aoinb/farm-harness';
import { farmDeadlineMs } from '@aoinb/farm-harness';
import { groupKit, startGroupFarm, startsAfterEnd } from '../test-support/group-farm.ts';

/**
 * Atomic and sequential groups, cancel, and a coordinator or worker killed mid-group, on the group farm
 * (test-support/group-farm.ts).
 */
describe('group modes, cancel and failover (fake executor)', () => {
  let farm: FarmHarness;
  const maintainer = { token: farmTokens.maintainer };
  const { amd64, group, branchPackages } = groupKit(() => farm);

  beforeAll(async () => {
    farm = await startGroupFarm();
  });

  afterAll(async () => {
    await farm?.stop();
  });

  it('publishes an atomic group to the branch only when every member succeeded', async () => {
    const { id } = await group(
      [
        amd64('at-base', [], { fail: 'not yet', failRuns: [1] }),
        amd64('at-top', ['BUILDDEP="at-base"']),
        amd64('at-side'),
      ],
      { publish: 'atomic' },
    );
    const first = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial']);
    expect(first.state).toBe('partial');
    expect(member(first, 'at-side').state).toBe('succeeded');
    expect(member(first, 'at-side').artifacts[0]!.repo_url).toBeNull();
    expect(first.published_at).toBeNull();
    const before = await branchPackages();
    for (const name of ['at-base', 'at-top', 'at-side']) expect(before).not.toContain(`Package: ${name}\n`);
    expect((await farm.api('GET', `/group/${id}/repo/Packages`, undefined, { token: null })).text).toContain(
      'Package: at-side\n',
    );

    await farm.api('POST', `/group/${id}/retry`, undefined, maintainer);
    const second = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial']);
    expect(second.state).toBe('succeeded');
    expect(second.published_at).not.toBeNull();
    const after = await branchPackages();
    for (const name of ['at-base', 'at-top', 'at-side']) expect(after).toContain(`Package: ${name}\n`);
    for (const m of second.members) expect(m.artifacts[0]!.repo_url).toContain('/repo/stable/');
  });

  it('builds a sequential group in dependency order on one host, in one job, and skips after a failure', async () => {
    const { id } = await group(
      [
        amd64('sq-app', ['BUILDDEP="sq-lib"']),
        amd64('sq-lib', ['BUILDDEP="sq-base"']),
        amd64('sq-base'),
        amd64('sq-other'),
      ],
      { mode: 'sequential' },
    );
    const done = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial']);
    expect(done.state).toBe('succeeded');
    expect(new Set(done.members.map((m) => m.builder)).size).toBe(1);
    expect(done.members.map((m) => m.package)).toEqual(['sq-base', 'sq-lib', 'sq-app', 'sq-other']);
    for (let i = 1; i < done.members.length; i += 1)
      expect(ms(done.members[i]!.started_at)).toBeGreaterThanOrEqual(ms(done.members[i - 1]!.finished_at));
    const tasks = await Promise.all(
      done.members.map(
        async (m) =>
          ((await farm.api('GET', `/task/${m.task_id}/status`)).body as { jobs: Array<{ job_id: string }> }).jobs[0]!
            .job_id,
      ),
    );
    expect(new Set(tasks)).toEqual(new Set([`s${id}-amd64-r1`]));

    const failing = await group(
      [amd64('sf-top', ['BUILDDEP="sf-bottom"']), amd64('sf-bottom', [], { fail: 'bottom broke' }), amd64('sf-side')],
      { mode: 'sequential' },
    );
    const end = await waitForGroup(farm, failing.id, ['succeeded', 'failed', 'partial']);
    expect(end.state).toBe('partial');
    expect(member(end, 'sf-top')).toMatchObject({
      state: 'skipped',
      reason: 'skipped: dependency sf-bottom (amd64) failed',
      started_at: null,
    });
    expect(member(end, 'sf-side').state).toBe('succeeded');
  });

  it('cancels a group: waiting members at once, running builds within seconds', async () => {
    const { id } = await group([
      amd64('cx-long', [], { durationMs: 60_000 }),
      amd64('cx-after', ['BUILDDEP="cx-long"']),
    ]);
    await farm.waitFor(
      async () => member(await groupStatus(farm, id), 'cx-long').state === 'running',
      farmDeadlineMs,
      'cx-long to run',
    );
    const cancelled = await farm.api('POST', `/group/${id}/cancel`, undefined, maintainer);
    expect(cancelled.status).toBe(202);
    // cx-long would run 60 s: the group ending within the deadline means the cancel stopped it.
    const end = await waitForGroup(farm, id, ['cancelled']);
    expect(member(end, 'cx-long').state).toBe('cancelled');
    expect(member(end, 'cx-after').state).toBe('cancelled');
    expect((await farm.api('POST', `/group/${id}/cancel`, undefined, maintainer)).status).toBe(409);
  });

  it('survives a coordinator restart mid-group: no member built twice, none forgotten', async () => {
    const { id } = await group([
      amd64('cr-a', [], { durationMs: 2500 }),
      amd64('cr-b', ['BUILDDEP="cr-a"'], { durationMs: 1500 }),
      amd64('cr-c', ['BUILDDEP="cr-b"']),
      amd64('cr-side', [], { durationMs: 2500 }),
    ]);
    await farm.waitFor(
      async () => member(await groupStatus(farm, id), 'cr-a').state === 'running',
      farmDeadlineMs,
      'cr-a to run',
    );
    await farm.kill('coordinator', 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 3500));
    await farm.startCoordinator();
    const done = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial']);
    expect(done.state).toBe('succeeded');
    expect(done.members.every((m) => m.run === 1 && m.attempt === 1)).toBe(true);
    expect(startsAfterEnd(done, 'cr-b', 'cr-a')).toBe(true);
    expect(startsAfterEnd(done, 'cr-c', 'cr-b')).toBe(true);
  });

  it('survives a worker SIGKILLed mid-group: its member is built again elsewhere, the rest once', async () => {
    const { id } = await group([
      amd64('wk-a', [], { durationMs: 5000 }),
      amd64('wk-b', ['BUILDDEP="wk-a"']),
      amd64('wk-side', [], { durationMs: 300 }),
    ]);
    let victim = '';
    await farm.waitFor(
      async () => {
        const a = member(await groupStatus(farm, id), 'wk-a');
        victim = a.builder ?? '';
        return a.state === 'running';
      },
      farmDeadlineMs,
      'wk-a to run',
    );
    await farm.kill(victim, 'SIGKILL');
    const done = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial']);
    expect(done.state).toBe('succeeded');
    expect(member(done, 'wk-a')).toMatchObject({ run: 1, attempt: 2 });
    expect(member(done, 'wk-a').builder).not.toBe(victim);
    expect(member(done, 'wk-b')).toMatchObject({ run: 1, attempt: 1 });
    expect(startsAfterEnd(done, 'wk-b', 'wk-a')).toBe(true);
    expect((await farm.api('GET', `/task/${member(done, 'wk-a').task_id}/log`)).text).toContain(
      `builder ${victim} stopped answering during attempt 1`,
    );
  });
});
