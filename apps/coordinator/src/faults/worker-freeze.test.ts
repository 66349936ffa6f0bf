import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmDeadlineMs, packTestBundle, type TaskStatus } from '@aoinb/farm-harness';
import { expectPublishedOnce } from './crash-points.ts';
import { expectSucceededOnce } from './fault-checks.ts';

/**
 * A worker frozen (SIGSTOP) in the middle of a build and woken (SIGCONT) much later, with nothing else
 * done to the task: no cancel, no retry (stale-worker.test.ts has those). Its lock lapses, the stalled
 * checker puts the job back, worker-b takes it over as attempt 2 and finishes it; when worker-a wakes, its
 * reports of attempt 1 (artifact and result) are refused, and the build has succeeded once, from worker-b.
 *
 * Issue 10's probe froze for 90 s: past the default lock (30 s) and two stalled checks (15 s each). The
 * harness sets a 2 s lock and 1 s checks, so the freeze here lasts until worker-b has finished the build,
 * which is past both by far, and proves the takeover by the event itself instead of a fixed wait.
 */
describe('fault: a worker frozen mid-build and woken later', () => {
  let farm: FarmHarness;
  const amd64 = (s: TaskStatus) => s.jobs.find((j) => j.arch === 'amd64')!;
  const signal = (name: string, sig: NodeJS.Signals) => {
    const pid = farm.processes.get(name)?.child.pid;
    if (pid) process.kill(pid, sig);
  };

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'], logLevel: 'info' });
    await farm.startCoordinator();
    await farm.startWorker({ id: 'worker-a', archs: ['amd64'] });
  });
  afterAll(async () => {
    signal('worker-a', 'SIGCONT');
    await farm?.stop();
  });

  it('is taken over by another worker; the woken worker reports nothing that counts', async () => {
    const archive = await packTestBundle(path.join(farm.root, 'bundles'), {
      name: 'frozen',
      fake: { durationMs: 4000 },
    });
    const id = await farm.submit(archive);
    await farm.waitFor(
      async () => (await farm.api('GET', `/task/${id}/log?arch=amd64`)).text.includes('fake build line'),
      farmDeadlineMs,
      'worker-a to be building',
    );
    signal('worker-a', 'SIGSTOP');
    expect(amd64(await farm.status(id))).toMatchObject({ state: 'running', attempt: 1, builder: 'worker-a' });
    await farm.startWorker({ id: 'worker-b', archs: ['amd64'] });
    const done = await farm.waitForState(id, ['succeeded', 'failed', 'cancelled']);
    expect(amd64(done)).toMatchObject({ state: 'succeeded', run: 1, attempt: 2, builder: 'worker-b' });

    signal('worker-a', 'SIGCONT');
    const coordinator = farm.processes.get('coordinator')!;
    await farm.waitFor(
      async () => /stale (result|upload of [^"]+) refused/.test(coordinator.output()),
      farmDeadlineMs,
      "the coordinator to refuse worker-a's stale report",
    );
    await farm.waitFor(
      async () => /result was dropped|result refused|refused/.test(farm.processes.get('worker-a')!.output()),
      farmDeadlineMs,
      'worker-a to be told its attempt is stale',
    );
    await expectSucceededOnce(farm, [id], { attempt: 2 });
    expect(amd64(await farm.status(id))).toMatchObject({ builder: 'worker-b', attempt: 2 });
    await expectPublishedOnce(farm, 'frozen_1.0-0_amd64.deb');
    const log = (await farm.api('GET', `/task/${id}/log?arch=amd64`)).text;
    expect(log).toContain('attempt 2 on builder worker-b');
    await farm.kill('worker-b');
  });
});
