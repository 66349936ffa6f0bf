import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, packTestBundle } from '@aoinb/farm-harness';
import { expectPublishedOnce } from './crash-points.ts';
import { expectSucceededOnce } from './fault-checks.ts';
import { RestartableRedis } from './redis-restart.ts';

/**
 * Redis SIGKILLed under a working farm (builds queued and running) and started again with its data, on
 * the same port and folder: every build submitted succeeds exactly once, none is lost, each .deb is listed
 * once, every log ends. A short outage, and one long enough that the farm's clients come back only after
 * their reconnect retries have backed off (200 ms more per try, see redis-options.ts).
 *
 * The long outage is 20 s, not the 60 s of issue 10's probe: 60 s only grows the retry delay to its 5 s cap,
 * a number, not another branch. 20 s is past every timer that changes what happens: BullMQ's blocking-wait
 * watchdog (drainDelay 5 s + 1 s; what BullMQ #4585 left parked in "reconnecting" for ever), the harness's
 * job locks (2 s) and stalled checks (1 s), so each running build's lock has lapsed when Redis returns; and
 * the retry delay is then past 3 s, so a client reconnects on a backed-off retry, not the first one.
 */
describe('fault: Redis killed and restarted with its data', () => {
  let farm: FarmHarness;
  let redis: RestartableRedis | undefined;

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'] });
    await farm.startCoordinator();
    await farm.startWorker({ id: 'w1', archs: ['amd64'], slots: 2 });
    redis = await RestartableRedis.enable(farm);
  });
  afterAll(async () => {
    await farm?.stop();
    await redis?.stop();
  });

  async function outage(prefix: string, seconds: number): Promise<void> {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const archive = await packTestBundle(path.join(farm.root, 'bundles'), {
        name: `${prefix}-${i}`,
        fake: { durationMs: 3000 },
      });
      ids.push(await farm.submit(archive));
    }
    await farm.waitForState(ids[0]!, ['running']);
    await redis!.kill();
    // The outage itself: its length is the fault, not something a test waits on to prove a state.
    await sleep(seconds * 1000);
    await redis!.start();
    // A build running when Redis died may have lost its 2 s lock meanwhile and been taken again (a later
    // attempt, the earlier one fenced off): what counts is one success, one .deb, published once.
    await expectSucceededOnce(farm, ids, { attempt: expect.any(Number) as number });
    for (let i = 0; i < ids.length; i++) await expectPublishedOnce(farm, `${prefix}-${i}_1.0-0_amd64.deb`);
    const tasks = ((await farm.api('GET', '/task?limit=500')).body as { tasks: unknown[] }).tasks;
    expect(tasks.filter((t) => (t as { package?: { name?: string } }).package?.name?.startsWith(prefix))).toHaveLength(
      ids.length,
    );
  }

  it('a 5 s outage: every build succeeds once', () => outage('short', 5));
  it('a 20 s outage (clients back after backed-off retries): every build succeeds once', () => outage('long', 20));
});
