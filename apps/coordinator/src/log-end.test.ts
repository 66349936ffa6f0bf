import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBuildMember, farmNames, readLogEntries } from '@aoinb/farm-protocol';
import { FarmHarness, farmTokens } from '@aoinb/farm-harness';
import { readSse } from '@aoinb/farm-harness';
import { packTestBundle } from '@aoinb/farm-harness';

/**
 * Issue 10's log that never ends: a build whose final state was written but
 * whose log end was not (a coordinator killed in between, as the code before
 * the guarded end did it). A live follower stops at the final state anyway;
 * the coordinator's reconcile (at its next start) ends and archives the log.
 */
describe('logs always end', () => {
  let farm: FarmHarness;
  let redis: Redis;
  const farmKeys = farmNames('{aoinb-logs}');

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'], redisPrefix: '{aoinb-logs}' });
    await farm.startCoordinator();
    redis = new Redis(farm.redis.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await farm?.stop();
  });

  it('repairs a final build whose log has no end, and its follower terminates', async () => {
    // Nobody builds amd64 here: the build stays queued until the fault is injected.
    const archive = await packTestBundle(path.join(farm.root, 'bundles'), { name: 'endless' });
    const id = await farm.submit(archive);
    const key = farmKeys.log(id, 'amd64', 1);
    await redis.xadd(key, '*', 'l', 'a line before the crash');
    const url = `${farm.coordinatorUrl}/task/${id}/log?arch=amd64&follow=true`;
    const following = readSse(url, { token: farmTokens.maintainer });

    // The fault: the final state without the log's end (and no archive), written past the guarded scripts.
    const now = new Date().toISOString();
    await redis
      .multi()
      .hset(farmKeys.build(id, 'amd64'), { state: 'failed', reason: 'lost in a crash', finishedAt: now })
      .srem(farmKeys.activeBuilds, activeBuildMember(id, 'amd64'))
      .hset(farmKeys.task(id), { state: 'failed', finishedAt: now })
      .exec();

    const events = await following;
    const end = events.at(-1);
    expect(end?.event).toBe('end');
    expect(JSON.parse(end!.data)).toMatchObject({ state: 'failed', reason: 'lost in a crash' });
    expect(events.some((e) => e.data.includes('a line before the crash'))).toBe(true);

    // The coordinator restarts: its reconcile finds the log without an end, ends and archives it.
    await farm.kill('coordinator', 'SIGKILL');
    await farm.startCoordinator();
    await farm.waitFor(async () => (await redis.ttl(key)) > 0, 30_000, 'the log to be archived');
    const entries = await readLogEntries(redis, key, '0', 100);
    expect(entries.filter((e) => e.eof)).toEqual([
      expect.objectContaining({ eof: { state: 'failed', reason: 'lost in a crash' } }),
    ]);
    expect(entries.at(-1)?.eof).toBeDefined();
    const file = path.join(farm.storageDir, 'logs', id, 'amd64-r1.log');
    expect(await readFile(file, 'utf8')).toContain('a line before the crash');
    expect(await redis.sismember(farmKeys.unarchivedLogs, `${id}/amd64/1`)).toBe(0);

    // A follower that comes later ends at once, with the state the repair wrote.
    const late = await readSse(url, { token: farmTokens.maintainer });
    expect(JSON.parse(late.at(-1)!.data)).toMatchObject({ state: 'failed' });
  });

  // A stop (SIGTERM: an upgrade, a restart) right after a build ended waits for its log's archive, which runs in
  // the background, instead of closing Redis under it. A log this long takes the archive well past the stop.
  it('archives the log of a build that ended just before a stop, before the coordinator exits', async () => {
    const archive = await packTestBundle(path.join(farm.root, 'bundles'), { name: 'long-log' });
    const id = await farm.submit(archive);
    const key = farmKeys.log(id, 'amd64', 1);
    const lines = 200_000;
    for (let at = 0; at < lines; at += 10_000) {
      const batch = redis.pipeline();
      for (let i = at; i < at + 10_000; i++) batch.xadd(key, '*', 'l', `line ${i}`);
      await batch.exec();
    }
    const coordinator = farm.processes.get('coordinator')!;
    expect((await farm.api('POST', `/task/${id}/cancel`, {})).status).toBe(202);
    await farm.kill('coordinator', 'SIGTERM');

    expect(coordinator.output()).not.toContain('log archive failed');
    const text = await readFile(path.join(farm.storageDir, 'logs', id, 'amd64-r1.log'), 'utf8');
    expect(text.startsWith('line 0\n')).toBe(true);
    expect(text).toContain(`line ${lines - 1}\n`);
    expect(await redis.sismember(farmKeys.unarchivedLogs, `${id}/amd64/1`)).toBe(0);
    await farm.startCoordinator();
  });
});
