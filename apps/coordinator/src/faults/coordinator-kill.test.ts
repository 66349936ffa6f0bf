import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmDeadlineMs, farmTokens, packTestBundle } from '@aoinb/farm-harness';
import {
  armCrash,
  crashHookNodeArgs,
  crashPoints,
  expectCutAt,
  expectLogArchived,
  expectPublishedOnce,
  type CrashPoint,
} from './crash-points.ts';
import { expectSucceededOnce } from './fault-checks.ts';

/**
 * The coordinator SIGKILLed at each step of upload and publish where a kill can matter (crash-points.ts),
 * cut exactly there by a preloaded hook (crash-hook.ts), then restarted: the client whose request the kill
 * cut retries it (the test for a bundle, the worker for its artifact and result), and the build ends once,
 * its .deb is in the repository once and listed once, Release names the index as it is, and its log ends and
 * is archived. One farm for every point, one point at a time; each starts from a farm at rest.
 */
describe('fault: the coordinator killed during upload and publish', () => {
  let farm: FarmHarness;
  const maintainer = { token: farmTokens.maintainer };

  beforeAll(async () => {
    // Short leases: the restarted coordinator takes over the dead one's reconcile within seconds.
    farm = await FarmHarness.create({
      archs: ['amd64'],
      coordinatorNodeArgs: crashHookNodeArgs(),
      leaseSeconds: 2,
      reconcileIntervalSeconds: 1,
    });
    await farm.startCoordinator();
    await farm.startWorker({ id: 'w1', archs: ['amd64'] });
    // The repository exists and has published once: the cuts below fall on a publish, not its creation.
    const first = await farm.submit(await packTestBundle(path.join(farm.root, 'bundles'), { name: 'before-cuts' }));
    await expectSucceededOnce(farm, [first]);
  });
  afterAll(async () => {
    await farm?.stop();
  });

  /** PUT bundle, branch and build of task `id`, as `aoinb submit` does; throws when one is not answered 2xx. */
  async function upload(id: string, archive: Buffer): Promise<void> {
    const steps: Array<[string, unknown]> = [
      [`/task/${id}/build_bundle`, archive],
      [`/task/${id}/branch`, 'stable'],
      [`/task/${id}/build`, {}],
    ];
    for (const [route, body] of steps) {
      const answer = await farm.api('PUT', route, body, maintainer);
      if (answer.status >= 300) throw new Error(`PUT ${route}: ${answer.status} ${answer.text}`);
    }
  }

  /** The submitter's retry: 409 while the killed coordinator's upload lock lasts (it expires, unrenewed). */
  async function uploadAgain(id: string, archive: Buffer): Promise<void> {
    let last = '';
    const inProgress = /another bundle upload is in progress/;
    await farm.waitFor(
      () =>
        upload(id, archive).then(
          () => true,
          (error: Error) => {
            if (!inProgress.test((last = error.message))) throw error;
            return false;
          },
        ),
      farmDeadlineMs,
      `task ${id}'s upload to go through again`,
      () => last,
      1000,
    );
  }

  async function cutAndRecover(point: CrashPoint, n: number): Promise<void> {
    const name = `cut-${n}`;
    const deb = `${name}_1.0-0_amd64.deb`;
    const archive = await packTestBundle(path.join(farm.root, 'bundles'), { name });
    const id = ((await farm.api('POST', '/task', undefined, maintainer)).body as { id: string }).id;
    const tasksBefore = ((await farm.api('GET', '/task?limit=500')).body as { tasks: unknown[] }).tasks.length;
    const at = point.at({ id, deb });
    const coordinator = farm.processes.get('coordinator')!;
    await armCrash(farm, at);
    // The submitter's upload is what the kill cuts: it fails, and is sent again after the restart.
    const uploaded = await upload(id, archive).then(
      () => true,
      () => false,
    );
    expect(uploaded, 'the upload the kill cut is not answered').toBe(point.client === 'worker');
    await expectCutAt(farm, coordinator, at);
    await farm.startCoordinator();
    if (point.client === 'submitter') await uploadAgain(id, archive);
    await expectSucceededOnce(farm, [id]);
    await expectPublishedOnce(farm, deb);
    await expectLogArchived(farm, id);
    const tasks = ((await farm.api('GET', '/task?limit=500')).body as { tasks: unknown[] }).tasks.length;
    expect(tasks, 'no task created twice').toBe(tasksBefore);
  }

  it.each(crashPoints.map((point, n) => ({ point, n, leaves: point.leaves })))(
    'killed leaving $leaves: the build ends once, published once',
    async ({ point, n }) => cutAndRecover(point, n),
  );
});
