import { afterEach, describe, expect, it } from 'vitest';
import { farmTokens } from '@aoinb/farm-harness';
import { LeaseStore, logMember, readLogEntries } from '@aoinb/farm-protocol';
import { inject } from '../../test-support/inject-fixture.ts';
import { useServiceRig } from '../../test-support/service-rig.ts';
import { CoordinatorLeases } from './lease-keeper.ts';
import { reconcileLogs, scanOpenLogs } from './log-reconcile.ts';
import { startRecovery, type Recovery } from './recovery.ts';

/**
 * Recovery as a coordinator starts it, in process over a real redis-server: what a pass at start repairs
 * (logs an older coordinator left without an end, jobs a crash lost), the periodic pass, and the net under
 * "every log ends" (a run that a later run superseded, a build that is gone).
 */
describe('recovery at start, every interval, and of logs without an end', () => {
  const rig = useServiceRig({ archs: ['amd64'] });
  const recoveries: Recovery[] = [];
  afterEach(async () => {
    await Promise.all(recoveries.splice(0).map((r) => r.close()));
  });
  /** A recovery of the test's own, with leases of its own: its reconcile lease's keeper ends with it. */
  async function ownRecovery(intervalMs: number): Promise<Recovery> {
    const { redis, keys, logger } = rig.ctx;
    const leases = new CoordinatorLeases(new LeaseStore(redis, keys.prefix), 'test-recovery', 30_000, logger);
    const recovery = await startRecovery({ ...rig.ctx, leases }, intervalMs);
    const own: Recovery = {
      async close() {
        await recovery.close();
        await leases.close();
      },
    };
    recoveries.push(own);
    return own;
  }
  const entries = (id: string, run = 1) => readLogEntries(rig.ctx.redis, rig.ctx.keys.log(id, 'amd64', run), '0', 1000);
  const jobState = async (id: string) =>
    (await rig.ctx.dispatcher.getJob('amd64', (await rig.ctx.store.getBuild(id, 'amd64'))!.jobId))?.getState();
  const dropJob = async (id: string) =>
    expect(await rig.ctx.dispatcher.queue('amd64').remove((await rig.ctx.store.getBuild(id, 'amd64'))!.jobId)).toBe(1);

  /** A build failed through the store (with `reason` if any) whose log lost its end (a crash, an old coordinator). */
  async function failedWithoutEnd(name: string, reason: string): Promise<string> {
    const id = await rig.queued({ name }, ['amd64']);
    await rig.claim(id, 'amd64', `${name}-host`);
    const archs = (await rig.ctx.store.getTask(id))!.archs;
    const at = { taskId: id, arch: 'amd64', run: 1, archs, set: reason ? { reason } : {} };
    expect((await rig.ctx.store.transition({ ...at, from: ['running'], to: 'failed' })).done).toBe(true);
    const end = (await entries(id)).at(-1)!;
    expect(end.eof?.state).toBe('failed');
    await rig.ctx.redis.xdel(rig.ctx.keys.log(id, 'amd64', 1), end.id);
    return id;
  }

  it('ends logs an older coordinator left open and adds lost jobs again, before the start returns', async () => {
    const old = await failedWithoutEnd('old-log', 'old failure');
    // Not even listed as a log to archive: only the scan of Redis at start finds it.
    await rig.ctx.redis.srem(rig.ctx.keys.unarchivedLogs, logMember(old, 'amd64', 1));
    const lost = await rig.queued({ name: 'lost-job' }, ['amd64']);
    await dropJob(lost);
    await ownRecovery(3_600_000);
    expect((await entries(old)).at(-1)).toMatchObject({ eof: { state: 'failed', reason: 'old failure' } });
    expect(rig.logs.filter((l) => l.taskId === old && /without an end; ended it$/.test(l.msg))).toHaveLength(1);
    expect(await jobState(lost)).toBe('waiting');
  });

  it('reconciles every live build and every unarchived log again each interval, until closed', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
    const before = sockets();
    const recovery = await ownRecovery(200);
    const id = await rig.queued({ name: 'lost-later' }, ['amd64']);
    await dropJob(id);
    await rig.logged('job of a live build was missing; added it again', (l) => l.taskId === id);
    expect(await jobState(id)).toBe('waiting');
    const open = await failedWithoutEnd('open-later', 'later failure');
    await rig.logged('a final build had a log without an end; ended it', (l) => l.taskId === open);
    expect((await entries(open)).at(-1)).toMatchObject({ eof: { state: 'failed', reason: 'later failure' } });
    // Closed, its checkers and queue listeners let go of their Redis connections.
    await recovery.close();
    recoveries.splice(0);
    await rig.farm.waitFor(
      async () => sockets() <= before,
      10_000,
      'the recovery to close its connections',
      () => String(sockets() - before),
    );
  });

  it('ends the log of a run that a later run superseded, and forgets the logs of builds that are gone', async () => {
    const id = await failedWithoutEnd('superseded', 'first run failed');
    const retry = await inject(rig.app, 'POST', `/task/${id}/retry`, { token: farmTokens.maintainer });
    expect(retry.statusCode).toBe(202);
    const live = await rig.queued({ name: 'still-live' }, ['amd64']);
    await rig.ctx.redis.sadd(rig.ctx.keys.unarchivedLogs, logMember('7777', 'amd64', 1));
    // One log that cannot be read (not a stream) is logged and skipped; the others are still repaired.
    const broken = await failedWithoutEnd('unreadable', 'x');
    await rig.ctx.redis.set(rig.ctx.keys.log(broken, 'amd64', 1), 'not a stream');
    const quiet = await failedWithoutEnd('no-reason', '');
    const logs = [
      { taskId: broken, arch: 'amd64', run: 1 },
      { taskId: quiet, arch: 'amd64', run: 1 },
      { taskId: id, arch: 'amd64', run: 1 },
      { taskId: live, arch: 'amd64', run: 1 },
      { taskId: '7777', arch: 'amd64', run: 1 },
    ];
    await reconcileLogs(rig.ctx, logs);
    expect((await entries(id)).at(-1)).toMatchObject({ eof: { state: 'cancelled', reason: 'run 2 superseded it' } });
    expect(await entries(live)).toEqual([]);
    expect((await entries(quiet)).at(-1)).toMatchObject({ eof: { state: 'failed', reason: '' } });
    expect(rig.logs.filter((l) => l.msg === 'log reconcile failed' && l.taskId === broken)).toHaveLength(1);
    expect(await rig.ctx.redis.sismember(rig.ctx.keys.unarchivedLogs, logMember('7777', 'amd64', 1))).toBe(0);
  });

  it('finds every build log stream in Redis with no expiry, past one SCAN batch, and nothing else', async () => {
    const key = (taskId: string, arch = 'amd64', run = 1) => rig.ctx.keys.log(taskId, arch, run);
    const many = Array.from({ length: 1500 }, (_, i) => String(500_000 + i));
    const write = rig.ctx.redis.pipeline();
    for (const taskId of many) write.xadd(key(taskId, 'riscv64', 13), '*', 'l', 'line');
    write.xadd(key('600001'), '*', 'l', 'archived').expire(key('600001'), 600);
    write.xadd(key('600002', 'AMD64'), '*', 'l', 'not an arch name');
    write.set(key('600003'), 'not a stream');
    await write.exec();
    const found = await scanOpenLogs(rig.ctx);
    const ours = found.filter((l) => Number(l.taskId) >= 500_000);
    expect(ours.map((l) => l.taskId).sort()).toEqual(many);
    expect(new Set(ours.map((l) => `${l.arch} ${l.run}`))).toEqual(new Set(['riscv64 13']));
  });
});
