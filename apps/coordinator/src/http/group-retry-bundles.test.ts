import path from 'node:path';
import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { farmTokens, packTestBundle } from '@aoinb/farm-harness';
import { makeTestDeb } from '@aoinb/testkit';
import { acceptResult } from '../services/result-service.ts';
import { inject } from '../../test-support/inject-fixture.ts';
import { report, reportFixtures, type Digest } from '../../test-support/report-fixtures.ts';
import { useServiceRig } from '../../test-support/service-rig.ts';

/**
 * `POST /group/:id/retry` when a member it would run again lost its bundle archive (retention's `bundle_days`, an
 * operator): refused with 410 BUNDLE_MISSING naming the member tasks and their packages (no host path), and
 * nothing changes: no new round, no member re-queued, no new job. The members that succeeded need no bundle.
 * The test plays the worker (claims and results through the services); the retry goes through inject().
 */
describe('a group retry checks the bundles of the members it runs again', () => {
  const rig = useServiceRig({ archs: ['amd64'] });
  const maintainer = { token: farmTokens.maintainer };
  const results = reportFixtures(rig);
  const hostPaths = (): string[] => [rig.farm.root, rig.farm.storageDir];

  /** A task with its bundle uploaded and no build yet, as POST /group takes it. */
  async function uploaded(name: string): Promise<string> {
    const { id } = (await inject(rig.app, 'POST', '/task', maintainer)).json<{ id: string }>();
    const archive = await packTestBundle(path.join(rig.farm.root, 'bundles'), { name });
    expect(
      (await inject(rig.app, 'PUT', `/task/${id}/build_bundle`, { ...maintainer, body: archive })).statusCode,
    ).toBe(201);
    return id;
  }

  /** A success reports its .deb: a real one of the package, uploaded under the claim. */
  async function uploadDeb(taskId: string, name: string, claim: { attempt: number; hash: string }): Promise<Digest> {
    const deb = await makeTestDeb({ dir: path.join(rig.farm.root, 'debs', name), name, arch: 'amd64' });
    await results.upload(taskId, claim.attempt, claim.hash, deb.name, deb.bytes);
    return { name: deb.name, size: deb.bytes.length, sha256: deb.sha256 };
  }

  /** A group of `names` (no dependencies between them) whose members ended as `ends` says, then final. */
  async function endedGroup(ends: Record<string, 'failed' | 'succeeded'>): Promise<{ id: string; tasks: string[] }> {
    const names = Object.keys(ends);
    const tasks: string[] = [];
    for (const name of names) tasks.push(await uploaded(name));
    const created = await inject(rig.app, 'POST', '/group', { ...maintainer, body: { branch: 'stable', tasks } });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<{ id: string }>();
    for (const [i, taskId] of tasks.entries()) {
      const claim = await rig.claim(taskId, 'amd64', 'worker-a');
      const name = names[i]!;
      const status = ends[name]!;
      const over =
        status === 'failed' ? { reason: 'build.sh failed' } : { artifacts: [await uploadDeb(taskId, name, claim)] };
      const result = report({ status, builder: 'worker-a', ...over });
      expect(await acceptResult(rig.ctx, taskId, 'amd64', result, claim.hash)).toBe(status);
    }
    await expect.poll(async () => (await groupState(id)).state, { timeout: 120_000 }).toMatch(/^(failed|partial)$/);
    return { id, tasks };
  }

  /** What a retry could change: the group record, its members' phases, their builds and their next runs' jobs. */
  async function groupState(id: string) {
    const group = await rig.ctx.groups.store.getGroup(id);
    const members = Object.fromEntries(await rig.ctx.groups.store.getMembers(id));
    const taskIds = group?.taskIds ?? [];
    const builds = await Promise.all(taskIds.map((t) => rig.ctx.store.getBuild(t, 'amd64')));
    const nextJobs = await Promise.all(taskIds.map((t) => rig.ctx.dispatcher.getJob('amd64', `t${t}-amd64-r2`)));
    return { state: group?.state, round: group?.round, members, builds, nextJobs: nextJobs.map((j) => j?.id) };
  }

  it('runs the failed members again when their bundles are all there', async () => {
    const { id, tasks } = await endedGroup({ 'gr-all-a': 'failed', 'gr-all-b': 'failed' });
    const retry = await inject(rig.app, 'POST', `/group/${id}/retry`, maintainer);
    expect(retry.statusCode, retry.body).toBe(202);
    expect(retry.json()).toMatchObject({ id, round: 2, members: tasks.map((t) => `${t}/amd64`) });
    const after = await groupState(id);
    expect(after.round).toBe(2);
    expect(after.builds).toMatchObject([
      { state: 'queued', run: 2 },
      { state: 'queued', run: 2 },
    ]);
    expect(after.nextJobs).toEqual(tasks.map((t) => `t${t}-amd64-r2`));
  });

  it('refuses with 410 naming the member whose bundle went, and changes nothing', async () => {
    const { id, tasks } = await endedGroup({ 'gr-one-a': 'failed', 'gr-one-b': 'failed' });
    const [kept, gone] = tasks as [string, string];
    await rm(rig.ctx.layout.bundleArchive(gone));
    const before = await groupState(id);
    expect(before).toMatchObject({ state: 'failed', round: 1, nextJobs: [undefined, undefined] });

    const retry = await inject(rig.app, 'POST', `/group/${id}/retry`, maintainer);
    expect(retry.statusCode, retry.body).toBe(410);
    const { error } = retry.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe('BUNDLE_MISSING');
    expect(error.message).toBe(
      `group ${id} cannot be retried: member task ${gone} (gr-one-b) has a bundle on record, but its archive is ` +
        "no longer in the coordinator's storage (removed by retention or by hand); nothing was retried: " +
        'submit those packages again as new tasks, in a new group',
    );
    expect(error.message).not.toContain(`task ${kept} `);
    for (const p of hostPaths()) expect(error.message).not.toContain(p);
    // Not half a retry: the member whose bundle is there was not re-queued either.
    expect(await groupState(id)).toEqual(before);
  });

  it('names every member whose bundle went, and asks none of a member that succeeded', async () => {
    const { id, tasks } = await endedGroup({ 'gr-two-a': 'failed', 'gr-two-b': 'succeeded', 'gr-two-c': 'failed' });
    const [a, b, c] = tasks as [string, string, string];
    for (const t of [a, b, c]) await rm(rig.ctx.layout.bundleArchive(t));
    const before = await groupState(id);
    expect(before.state).toBe('partial');
    const refused = await inject(rig.app, 'POST', `/group/${id}/retry`, maintainer);
    expect(refused.statusCode, refused.body).toBe(410);
    const { message } = refused.json<{ error: { message: string } }>().error;
    expect(message).toContain(`: member tasks ${a} (gr-two-a), ${c} (gr-two-c) have a bundle on record`);
    expect(message).not.toContain(b);
    expect(await groupState(id)).toEqual(before);

    // A succeeded member is not run again, so its bundle gone does not stand in the way.
    const other = await endedGroup({ 'gr-ok-a': 'succeeded', 'gr-ok-b': 'failed' });
    await rm(rig.ctx.layout.bundleArchive(other.tasks[0]!));
    const retried = await inject(rig.app, 'POST', `/group/${other.id}/retry`, maintainer);
    expect(retried.statusCode, retried.body).toBe(202);
    expect(retried.json()).toMatchObject({ round: 2, members: [`${other.tasks[1]}/amd64`] });
  });
});
