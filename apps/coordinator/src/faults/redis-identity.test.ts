import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { farmKeys } from '@aoinb/farm-protocol';
import { FarmHarness, farmDeadlineMs, farmTokens, packTestBundle, type TestBundle } from '@aoinb/farm-harness';
import { expectSucceededOnce, timedRequest, withRedis } from './fault-checks.ts';

interface Builder {
  id: string;
  mode: string | null;
  paused_reason: string | null;
}

/**
 * Redis losing its data under a running farm (FLUSHALL, then a restart
 * without its data): the coordinator refuses every change and says why, the
 * worker stops claiming, a build that was running reports into the void, and
 * after the operator adopts the empty Redis the ids go on past the old ones.
 */
describe('fault: Redis loses its data', () => {
  let farm: FarmHarness;
  let emptyRedis: ResultPromise | undefined;
  const bundle = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const url = (route: string): string => `${farm.coordinatorUrl}${route}`;
  const builder = async (): Promise<Builder | undefined> =>
    ((await farm.api('GET', '/builder/status')).body as { builders: Builder[] }).builders.find((b) => b.id === 'w1');

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'] });
    await farm.startCoordinator();
    await farm.startWorker({ id: 'w1', archs: ['amd64'], slots: 2 });
  });
  afterAll(async () => {
    await farm?.stop();
    emptyRedis?.kill('SIGKILL');
    await emptyRedis?.catch(() => undefined);
  });

  /** What Redis holding no identity looks like from outside, then the operator's adoption. */
  async function expectRefusedThenAdopt(runningId: string): Promise<void> {
    // While the client reconnects healthz says UNAVAILABLE; then it must name the lost identity.
    const lost = async (): Promise<boolean> => {
      const h = await farm.api('GET', '/healthz');
      return h.status === 503 && (h.body as { error?: { code?: string } }).error?.code === 'FARM_IDENTITY_LOST';
    };
    await farm.waitFor(lost, farmDeadlineMs, 'healthz to say FARM_IDENTITY_LOST');
    const health = await timedRequest(url('/healthz'));
    expect(health.body).toMatchObject({ error: { code: 'FARM_IDENTITY_LOST', message: expect.any(String) } });
    const create = await timedRequest(url('/task'), { method: 'POST', token: farmTokens.maintainer });
    expect(create.status).toBe(503);
    expect(create.body).toMatchObject({ error: { code: 'FARM_IDENTITY_LOST' } });
    const metrics = await farm.api('GET', '/metrics');
    expect(metrics.text).toMatch(/^aoinb_farm_identity_ok 0$/m);
    await farm.waitFor(async () => (await builder())?.mode === 'paused', farmDeadlineMs, 'the worker to pause');
    expect((await builder())?.paused_reason).toMatch(/farm identity/);
    // The build that was running when the data went: its report must not create or change anything.
    await new Promise((r) => setTimeout(r, 3000));
    await withRedis(farm.redis.url, async (redis) => {
      expect(await redis.exists(farmKeys.task(runningId), farmKeys.build(runningId, 'amd64'))).toBe(0);
      expect(await redis.exists(farmKeys.taskSeq)).toBe(0);
    });
    const adopt = await farm.api('POST', '/farm/identity/adopt', undefined, { token: farmTokens.admin });
    expect(adopt.status, adopt.text).toBe(200);
    expect((await farm.api('GET', '/healthz')).status).toBe(200);
    await farm.waitFor(
      async () => (await builder())?.mode === 'active',
      farmDeadlineMs,
      'the worker to take jobs again',
    );
  }

  async function submitMany(prefix: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(await farm.submit(await bundle({ name: `${prefix}-${i}` })));
    return ids;
  }

  it('after FLUSHALL: refuses, the worker stops, the old report is not applied; ids go on after adoption', async () => {
    const before = await submitMany('before', 3);
    await expectSucceededOnce(farm, before);
    const running = await farm.submit(await bundle({ name: 'in-flight', fake: { durationMs: 4000 } }));
    await farm.waitForState(running, ['running']);
    await withRedis(farm.redis.url, (redis) => redis.flushall());
    await expectRefusedThenAdopt(running);
    const after = await submitMany('after', 3);
    expect(Math.min(...after.map(Number))).toBeGreaterThan(Number(running));
    await expectSucceededOnce(farm, after);
  });

  it('after a restart without its data: the same, and task ids never go backwards', async () => {
    const last = await farm.submit(await bundle({ name: 'before-restart', fake: { durationMs: 4000 } }));
    await farm.waitForState(last, ['running']);
    const { port } = farm.redis;
    await farm.redis.stop();
    emptyRedis = execa(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', farm.root],
      { reject: false, stdin: 'ignore' },
    );
    await farm.waitFor(
      () => withRedis(farm.redis.url, async (r) => (await r.ping()) === 'PONG').catch(() => false),
      farmDeadlineMs,
      'the empty redis-server to answer',
    );
    await expectRefusedThenAdopt(last);
    const after = await submitMany('after-restart', 3);
    expect(Math.min(...after.map(Number))).toBeGreaterThan(Number(last));
    await expectSucceededOnce(farm, after);
  });
});
