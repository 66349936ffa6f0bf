import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AoinbError } from '@aoinb/errors';
import { newAttemptKey, type TransitionOutcome } from '@aoinb/farm-protocol';
import { reportFixtures } from '../../test-support/report-fixtures.ts';
import { useServiceRig } from '../../test-support/service-rig.ts';

/** `[coordinator] settle_seconds` of this farm: the shortest the config takes, so that the mark lapses in the test. */
const settleSeconds = 10;

/**
 * The settle mark a report's fence writes lasts `[coordinator] settle_seconds` of Redis's clock, not a fixed
 * time: a farm configured with a short mark sees a keyless claim refused while the report publishes and let
 * through once Redis's clock has passed the configured lease (a coordinator stuck in a publish that long).
 */
describe('the settle mark lasts [coordinator] settle_seconds', () => {
  const rig = useServiceRig({ archs: ['amd64'], settleSeconds });
  const fx = reportFixtures(rig);

  /** Redis's clock in ms (TIME), the one the fence and the transition script read. */
  async function redisNowMs(): Promise<number> {
    const [seconds, micros] = await rig.ctx.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** A worker's claim of the build without the reporting attempt's key (a job the stalled checker re-queued). */
  async function keylessClaim(taskId: string): Promise<TransitionOutcome> {
    const base = { taskId, arch: 'amd64', run: 1, archs: ['amd64'] };
    const set = { attemptKeyHash: newAttemptKey(base).hash, builder: 'worker-b' };
    return rig.ctx.store.transition({
      ...base,
      from: ['queued', 'running'],
      to: 'running',
      incrementAttempt: true,
      set,
    });
  }

  it('marks the build settling for the configured time by Redis clock; past it a claim takes over', async () => {
    const build = await fx.claimed('settle-configured');
    await fx.upload(build.id, 1, build.claim.hash, build.deb.name, build.deb.bytes);
    const seen: { leaseMs?: number; during?: TransitionOutcome; lapsed?: TransitionOutcome } = {};
    const unregister = rig.ctx.lifecycle.register({
      // The report is publishing: its fence has written the mark.
      publishing: async () => {
        const key = rig.ctx.keys.build(build.id, 'amd64');
        const until = Number(await rig.ctx.redis.hget(key, 'settleUntilMs'));
        const readAt = await redisNowMs();
        seen.leaseMs = until - readAt;
        seen.during = await keylessClaim(build.id);
        // Past settle_seconds from now by Redis's clock the mark (written before now) has lapsed; a longer one not.
        const lapsesBy = readAt + settleSeconds * 1000;
        while ((await redisNowMs()) <= lapsesBy) await sleep(200);
        seen.lapsed = await keylessClaim(build.id);
        return { toBranch: false };
      },
    });
    const error = await fx
      .accept(build, { artifacts: [build.digest] })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
      .finally(unregister);
    // Written as settle_seconds from the fence on (a few ms of it gone by the time it is read), not the 300 s default.
    expect(seen.leaseMs).toBeGreaterThan(settleSeconds * 1000 - 2000);
    expect(seen.leaseMs).toBeLessThanOrEqual(settleSeconds * 1000);
    expect(seen.during).toMatchObject({ done: false, refusal: 'settling', attempt: 1, state: 'running' });
    expect(seen.lapsed).toMatchObject({ done: true, attempt: 2, state: 'running' });
    // The report of attempt 1 is then stale: attempt 2 builds it (recovery's case of a lost coordinator).
    expect(error).toBeInstanceOf(AoinbError);
    expect((error as AoinbError).code).toBe('STALE_ATTEMPT');
    expect(await rig.ctx.store.getBuild(build.id, 'amd64')).toMatchObject({ state: 'running', attempt: 2 });
  });
});
