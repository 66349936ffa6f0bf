import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { farmKeys, RetentionStore } from '@aoinb/farm-protocol';
import {
  FarmHarness,
  farmDeadlineMs,
  farmTokens,
  postGroup,
  uploadTasks,
  waitForGroup,
  packTestBundle,
  type TestBundle,
} from '@aoinb/farm-harness';

const dayMs = 24 * 3600 * 1000;
const daysAgo = (days: number): string => new Date(Date.now() - days * dayMs).toISOString();

/**
 * Retention on the farm as it runs: a real redis-server, the coordinator and
 * one worker agent as processes (fake executor), real files under storage_dir.
 * Age rules are met by backdating records, then restarting the coordinator:
 * its pruner makes a pass at start.
 */
describe('retention: DELETE routes and the pruner', () => {
  let farm: FarmHarness;
  let redis: Redis;
  const maintainer = { token: farmTokens.maintainer };
  const admin = { token: farmTokens.admin };
  const pack = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const quick = (name: string, fake: Record<string, unknown> = {}): Promise<Buffer> =>
    pack({ name, defines: ['ALLOW_ARCH="amd64"'], fake: { durationMs: 50, ...fake } });
  const exists = (file: string): Promise<boolean> =>
    stat(file).then(
      () => true,
      () => false,
    );
  const taskDir = (id: string): string => path.join(farm.storageDir, 'tasks', id);
  const logDir = (id: string): string => path.join(farm.storageDir, 'logs', id);
  /** Every Redis key that names the task. */
  const keysOf = async (id: string): Promise<string[]> => [
    ...(await redis.keys(`{aoinb}:task:${id}`)),
    ...(await redis.keys(`{aoinb}:task:${id}:*`)),
    ...(await redis.keys(`{aoinb}:log:${id}:*`)),
  ];
  const finished = async (bundle: Promise<Buffer>): Promise<string> => {
    const id = await farm.submit(await bundle);
    await farm.waitForState(id, ['succeeded', 'failed']);
    return id;
  };

  beforeAll(async () => {
    farm = await FarmHarness.create({
      archs: ['amd64'],
      extraToml: [
        '[retention]',
        'task_days = 30',
        'bundle_days = 10',
        'artifact_days = 10',
        'log_days = 20',
        'created_task_days = 5',
        'group_days = 30',
        'builder_days = 3',
      ].join('\n'),
    });
    redis = new Redis(farm.redis.url);
    await farm.startCoordinator();
    await farm.startWorker({ id: 'ret-worker', archs: ['amd64'], slots: 2 });
  });

  afterAll(async () => {
    redis?.disconnect();
    await farm?.stop();
  });

  it('DELETE /task/:id: an admin removes a finished task with records, logs, files; repo keeps its deb', async () => {
    const done = await finished(quick('del-done'));
    const slow = await farm.submit(await quick('del-slow', { durationMs: 30_000 }));
    await farm.waitForState(slow, ['running']);
    expect((await keysOf(done)).length).toBeGreaterThan(0);
    expect(await exists(taskDir(done))).toBe(true);
    await farm.waitFor(() => exists(path.join(logDir(done), 'amd64-r1.log')), farmDeadlineMs, 'the log archive');

    const forbidden = await farm.api('DELETE', `/task/${done}`, undefined, maintainer);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringMatching(/admin/) } });
    const running = await farm.api('DELETE', `/task/${slow}`, undefined, admin);
    expect(running.status).toBe(409);
    expect(running.body).toMatchObject({ error: { code: 'CONFLICT', message: expect.stringMatching(/running/) } });

    const deleted = await farm.api('DELETE', `/task/${done}`, undefined, admin);
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body).toEqual({ id: done, state: 'deleted' });
    expect((await farm.api('GET', `/task/${done}/status`)).status).toBe(404);
    expect(await keysOf(done)).toEqual([]);
    expect(await redis.zscore(farmKeys.tasks, done)).toBeNull();
    expect(await redis.hlen(farmKeys.retentionPending)).toBe(0);
    expect(await exists(taskDir(done))).toBe(false);
    expect(await exists(logDir(done))).toBe(false);
    const repo = path.join(farm.storageDir, 'output', 'stable');
    expect(await readFile(path.join(repo, 'Packages'), 'utf8')).toContain('Package: del-done\n');
    expect((await readdir(repo)).filter((n) => n.startsWith('del-done_'))).toHaveLength(1);
    expect((await farm.api('DELETE', `/task/${done}`, undefined, admin)).status).toBe(404);
    await farm.api('POST', `/task/${slow}/cancel`, undefined, maintainer);
  });

  it('DELETE /group/:id: admin only, refused while it runs, then the group, members and repository go', async () => {
    const tasks = await uploadTasks(
      farm,
      await Promise.all([quick('grp-lib', { durationMs: 3000 }), quick('grp-app')]),
    );
    const created = await postGroup(farm, { branch: 'stable', tasks });
    expect(created.status, created.text).toBe(201);
    const id = (created.body as { id: string }).id;
    await waitForGroup(farm, id, ['running']);
    const running = await farm.api('DELETE', `/group/${id}`, undefined, admin);
    expect(running.status).toBe(409);
    expect((await farm.api('DELETE', `/group/${id}`, undefined, maintainer)).status).toBe(403);
    expect((await farm.api('DELETE', `/task/${tasks[0]}`, undefined, admin)).body).toMatchObject({
      error: { code: 'CONFLICT' },
    });
    await waitForGroup(farm, id, ['succeeded']);
    expect(await exists(path.join(farm.storageDir, 'groups', id))).toBe(true);

    const deleted = await farm.api('DELETE', `/group/${id}`, undefined, admin);
    expect(deleted.status, deleted.text).toBe(200);
    expect((await farm.api('GET', `/group/${id}/status`)).status).toBe(404);
    for (const t of tasks) {
      expect((await farm.api('GET', `/task/${t}/status`)).status).toBe(404);
      expect(await keysOf(t)).toEqual([]);
      expect(await exists(taskDir(t))).toBe(false);
    }
    expect(await redis.keys(`{aoinb}:group:${id}*`)).toEqual([]);
    expect(await redis.zscore(farmKeys.groups, id)).toBeNull();
    expect(await exists(path.join(farm.storageDir, 'groups', id))).toBe(false);
    expect(await redis.hlen(farmKeys.retentionPending)).toBe(0);
    expect((await farm.api('DELETE', `/group/${id}`, undefined, admin)).status).toBe(404);
  });

  it('keeps a finished task under 5 KB of Redis until retention takes it', async () => {
    const id = await finished(quick('mem-probe'));
    const kept = [farmKeys.task(id), farmKeys.build(id, 'amd64')];
    let bytes = 0;
    for (const key of kept) bytes += Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(5 * 1024);
  });

  it('at start, the pruner removes what its rules say and finishes a deletion a dead coordinator left', async () => {
    // Task ids grow with their creation time (the pruner's walk stops at the first task too young): in order.
    const draft = (await farm.api('POST', '/task', { branch: 'stable' }, maintainer)).body as { id: string };
    const old = await finished(quick('old-task'));
    const oldFailed = await finished(quick('old-failed', { fail: 'told to fail' }));
    const middle = await finished(quick('middle-task'));
    const groupTasks = await uploadTasks(farm, [await quick('old-group-member')]);
    const group = (await postGroup(farm, { branch: 'stable', tasks: groupTasks })).body as { id: string };
    await waitForGroup(farm, group.id, ['succeeded']);
    const halfDeleted = await finished(quick('half-deleted'));
    const fresh = await finished(quick('fresh-task'));
    // An unpublished deb of the middle task (an earlier attempt's, say): only a repository's link keeps a deb.
    const middleDebs = path.join(taskDir(middle), 'artifacts', 'amd64');
    // Every finished build's log archived before the kill (the stop would cut the last ones' archives short,
    // and the next start's reconcile would then archive them at any time, racing the checks below).
    await farm.waitFor(
      async () => (await redis.scard(farmKeys.unarchivedLogs)) === 0,
      farmDeadlineMs,
      'the log archives',
    );
    expect(await exists(path.join(logDir(middle), 'amd64-r1.log'))).toBe(true);

    await farm.kill('coordinator', 'SIGTERM');
    for (const id of await redis.zrange(farmKeys.tasks, 0, -1))
      if (Number(id) < Number(fresh)) await redis.hset(farmKeys.task(id), 'createdAt', daysAgo(45));
    await redis.hset(farmKeys.task(old), 'finishedAt', daysAgo(40), 'createdAt', daysAgo(41));
    await redis.hset(farmKeys.task(oldFailed), 'finishedAt', daysAgo(31), 'createdAt', daysAgo(41));
    await redis.hset(farmKeys.task(middle), 'finishedAt', daysAgo(25), 'createdAt', daysAgo(26));
    await redis.hset(farmKeys.task(draft.id), 'createdAt', daysAgo(6));
    await redis.hset(farmKeys.group(group.id), 'finishedAt', daysAgo(35), 'createdAt', daysAgo(36));
    await redis.zadd(farmKeys.builders, Date.now() - 4 * dayMs, 'gone-builder');
    await mkdir(path.join(middleDebs, 'r1a9'), { recursive: true });
    await writeFile(path.join(middleDebs, 'r1a9', 'middle-task_0.9-0_amd64.deb'), 'not in any repository');
    // A coordinator that died right after deleting the records: the files are still there, listed as pending.
    const builds = [{ arch: 'amd64', run: 1 }];
    const dead = await new RetentionStore(redis).deleteTask({
      taskId: halfDeleted,
      groupId: '',
      states: ['succeeded'],
      builds,
    });
    expect(dead.result).toBe('deleted');
    expect(await exists(taskDir(halfDeleted))).toBe(true);

    await farm.startCoordinator();
    await farm.waitFor(
      async () =>
        (await redis.hlen(farmKeys.retentionPending)) === 0 && (await redis.zscore(farmKeys.tasks, old)) === null,
      farmDeadlineMs,
      'the pruner pass',
    );
    await farm.waitFor(async () => !(await exists(logDir(middle))), farmDeadlineMs, 'the log rule');

    for (const id of [old, oldFailed, draft.id, ...groupTasks, halfDeleted]) {
      expect((await farm.api('GET', `/task/${id}/status`)).status, `task ${id}`).toBe(404);
      expect(await keysOf(id)).toEqual([]);
      expect(await exists(taskDir(id))).toBe(false);
      expect(await exists(logDir(id))).toBe(false);
    }
    expect((await farm.api('GET', `/group/${group.id}/status`)).status).toBe(404);
    // Past bundle_days, artifact_days and log_days but not task_days: the record stays, so does the published deb.
    expect((await farm.status(middle)).state).toBe('succeeded');
    expect(await exists(path.join(taskDir(middle), 'bundle.archive'))).toBe(false);
    expect(await exists(path.join(taskDir(middle), 'bundle'))).toBe(false);
    expect(await exists(path.join(middleDebs, 'r1a9'))).toBe(false);
    expect((await readdir(path.join(middleDebs, 'r1a1'))).filter((n) => n.endsWith('.deb'))).toHaveLength(1);
    expect(await exists(logDir(middle))).toBe(false);
    // Nothing of a fresh task is touched.
    expect(await exists(path.join(taskDir(fresh), 'bundle.archive'))).toBe(true);
    expect(await exists(path.join(logDir(fresh), 'amd64-r1.log'))).toBe(true);
    expect(await redis.zscore(farmKeys.builders, 'gone-builder')).toBeNull();
    expect(await redis.zscore(farmKeys.builders, 'ret-worker')).not.toBeNull();
    const repo = await readFile(path.join(farm.storageDir, 'output', 'stable', 'Packages'), 'utf8');
    expect(repo).toContain('Package: old-task\n');
    expect(repo).toContain('Package: old-group-member\n');
  });
});
