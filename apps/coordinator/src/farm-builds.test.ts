import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  farmDeadlineMs,
  type FarmHarness,
  farmTokens,
  type TaskStatus,
  linesOf,
  readSse,
  packTestBundle,
  type TestBundle,
} from '@aoinb/farm-harness';
import { startTwoWorkerFarm } from '../test-support/two-worker-farm.ts';

/** Builds through the farm as it runs, on the two-worker farm (test-support/two-worker-farm.ts). */
describe('the farm builds: routing, publishing, retry, cancel, timeout, live logs', () => {
  let farm: FarmHarness;
  const bundle = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const maintainer = { token: farmTokens.maintainer };
  const job = (s: TaskStatus, arch: string) => s.jobs.find((j) => j.arch === arch)!;

  beforeAll(async () => {
    farm = await startTwoWorkerFarm();
  });

  afterAll(async () => {
    await farm?.stop();
  });

  it('routes each arch to the workers that carry its tag and publishes the debs to the branch repo', async () => {
    const id = await farm.submit(await bundle({ name: 'route-both', defines: ['ALLOW_ARCH="@(amd64|arm64)"'] }));
    const status = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(status.state).toBe('succeeded');
    expect(status.archs.sort()).toEqual(['amd64', 'arm64']);
    expect(job(status, 'amd64').builder).toBe('worker-a');
    expect(job(status, 'arm64').builder).toBe('worker-b');
    const deb = job(status, 'arm64').artifacts[0]!;
    expect(deb.name).toBe('route-both_1.0-0_arm64.deb');
    const download = await fetch(deb.url, { headers: { authorization: `Bearer ${farmTokens.maintainer}` } });
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(deb.sha256);
    const fromRepo = await fetch(deb.repo_url!);
    expect(fromRepo.status).toBe(200);
    const packages = (await farm.api('GET', '/repo/stable/Packages', undefined, { token: null })).text;
    expect(packages).toContain('Filename: route-both_1.0-0_amd64.deb');
    expect(packages).toContain('Filename: route-both_1.0-0_arm64.deb');
    const release = (await farm.api('GET', '/repo/stable/Release', undefined, { token: null })).text;
    expect(release).toContain(
      `${createHash('sha256').update(packages).digest('hex')} ${Buffer.byteLength(packages)} Packages`,
    );
  });

  it('refuses a rebuild of the same version with other contents, and says why in the build result', async () => {
    const first = await farm.submit(await bundle({ name: 'rebuilt', defines: ['ALLOW_ARCH="amd64"'] }));
    expect((await farm.waitForState(first, ['succeeded', 'failed'])).state).toBe('succeeded');
    const before = (await farm.api('GET', '/repo/stable/Packages', undefined, { token: null })).text;
    // Built 1.5 s later: the fake deb's mtimes differ, so its bytes do (the same bytes would be accepted).
    const again = await farm.submit(
      await bundle({ name: 'rebuilt', defines: ['ALLOW_ARCH="amd64"'], fake: { durationMs: 1500 } }),
    );
    const status = await farm.waitForState(again, ['succeeded', 'failed']);
    expect(status.state).toBe('failed');
    expect(job(status, 'amd64').reason).toMatch(
      /repository stable refused the publish: rebuilt 1\.0-0 \(amd64\) is already published as rebuilt_1\.0-0_amd64\.deb with sha256 [0-9a-f]{64}; this build's rebuilt_1\.0-0_amd64\.deb has sha256 [0-9a-f]{64}/,
    );
    expect((await farm.api('GET', '/repo/stable/Packages', undefined, { token: null })).text).toBe(before);
    const rebuilt = job(status, 'amd64').artifacts[0]!;
    expect(before).not.toContain(rebuilt.sha256);
    // Only an admin gets past the refusal, and only by asking to replace.
    expect((await farm.api('POST', `/task/${again}/publish/amd64`, { replace: true }, maintainer)).status).toBe(403);
    const plain = await farm.api('POST', `/task/${again}/publish/amd64`, {}, { token: farmTokens.admin });
    expect(plain.status).toBe(409);
    expect(plain.body).toMatchObject({ error: { code: 'REPO_CONFLICT' } });
    const replaced = await farm.api(
      'POST',
      `/task/${again}/publish/amd64`,
      { replace: true },
      { token: farmTokens.admin },
    );
    expect(replaced.body).toMatchObject({ branch: 'stable', replaced: [rebuilt.name] });
    const after = (await farm.api('GET', '/repo/stable/Packages', undefined, { token: null })).text;
    expect(after).toContain(`SHA256: ${rebuilt.sha256}`);
    expect(after.match(/^Package: rebuilt$/gm)).toHaveLength(1);
    const inRelease = (await farm.api('GET', '/repo/stable/InRelease', undefined, { token: null })).text;
    expect(inRelease).toContain('-----BEGIN PGP SIGNED MESSAGE-----');
    expect(inRelease).toContain(
      `${createHash('sha256').update(after).digest('hex')} ${Buffer.byteLength(after)} Packages`,
    );
  });

  it('builds a noarch package once, on the noarch arch', async () => {
    const id = await farm.submit(await bundle({ name: 'docs-only', defines: ['ABHOST=noarch'] }));
    const status = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(status.state).toBe('succeeded');
    expect(status.archs).toEqual(['amd64']);
    expect(job(status, 'amd64').builder).toBe('worker-a');
    expect(job(status, 'amd64').artifacts[0]!.name).toBe('docs-only_1.0-0_noarch.deb');
    expect((await farm.api('GET', '/repo/stable/Packages', undefined, { token: null })).text).toMatch(
      /Package: docs-only\n(.+\n)*Architecture: all/,
    );
  });

  it('lets FAIL_ARCH and ALLOW_ARCH decide the target archs, and refuses a filter that allows none', async () => {
    const id = await farm.submit(await bundle({ name: 'no-amd64', defines: ['FAIL_ARCH="@(amd64|riscv64)"'] }));
    const status = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(status.archs).toEqual(['arm64']);
    expect(job(status, 'arm64').builder).toBe('worker-b');

    const other = ((await farm.api('POST', '/task', undefined, maintainer)).body as { id: string }).id;
    const uploaded = await farm.api(
      'PUT',
      `/task/${other}/build_bundle`,
      await bundle({ name: 'ppc-only', defines: ['ALLOW_ARCH="ppc64el"'] }),
      maintainer,
    );
    expect(uploaded.body).toMatchObject({ targets: [] });
    await farm.api('PUT', `/task/${other}/branch`, { branch: 'stable' }, maintainer);
    const refused = await farm.api('PUT', `/task/${other}/build`, undefined, maintainer);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: 'ARCH_NOT_ALLOWED' } });
    expect((refused.body as { error: { message: string } }).error.message).toContain('FAIL_ARCH/ALLOW_ARCH');
  });

  it('makes a failed build final and starts a new run on retry', async () => {
    const id = await farm.submit(
      await bundle({
        name: 'broken',
        defines: ['ALLOW_ARCH="amd64"'],
        fake: { fail: 'the fake build was told to fail' },
      }),
    );
    const failed = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(failed.state).toBe('failed');
    expect(job(failed, 'amd64')).toMatchObject({ attempt: 1, run: 1, reason: 'the fake build was told to fail' });
    expect(failed.reason).toContain('told to fail');
    // Not retried: the job ends completed (a failed build is a result), never back to waiting or delayed.
    const jobId = job(failed, 'amd64').job_id;
    let jobState = '';
    await farm.waitFor(
      async () => (jobState = await farm.buildJobState('amd64', jobId)) !== 'active',
      farmDeadlineMs,
      `job ${jobId} to leave active`,
    );
    expect(jobState).toBe('completed');
    expect(job(await farm.status(id), 'amd64')).toMatchObject({ state: 'failed', attempt: 1, run: 1 });

    const retried = await farm.api('POST', `/task/${id}/retry`, undefined, maintainer);
    expect(retried.status).toBe(202);
    await farm.waitFor(async () => job(await farm.status(id), 'amd64').run === 2, farmDeadlineMs, 'run 2');
    const again = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(job(again, 'amd64')).toMatchObject({ state: 'failed', run: 2, attempt: 1, job_id: `t${id}-amd64-r2` });
    expect((await farm.api('GET', `/task/${id}/log?arch=amd64&run=1`)).text).toContain('told to fail');

    const fine = await farm.submit(await bundle({ name: 'fine', defines: ['ALLOW_ARCH="amd64"'] }));
    await farm.waitForState(fine, ['succeeded']);
    expect((await farm.api('POST', `/task/${fine}/retry`, undefined, maintainer)).status).toBe(409);
  });

  it('cancels a queued build at once and a running build within seconds', async () => {
    const queued = await farm.submit(await bundle({ name: 'nobody-builds', defines: ['ALLOW_ARCH="riscv64"'] }));
    expect((await farm.status(queued)).state).toBe('queued');
    const cancelled = await farm.api('POST', `/task/${queued}/cancel`, undefined, maintainer);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({ state: 'cancelled', jobs: [{ reason: 'cancelled by maintainer-user' }] });
    expect((await farm.api('POST', `/task/${queued}/retry`, undefined, maintainer)).status).toBe(202);
    expect(job(await farm.status(queued), 'riscv64')).toMatchObject({ state: 'queued', run: 2 });
    await farm.api('POST', `/task/${queued}/cancel`, undefined, maintainer);
    expect((await farm.status(queued)).state).toBe('cancelled');

    const running = await farm.submit(
      await bundle({ name: 'long', defines: ['ALLOW_ARCH="amd64"'], fake: { durationMs: 60_000 } }),
    );
    await farm.waitForState(running, ['running']);
    expect((await farm.api('POST', `/task/${running}/cancel`, undefined, maintainer)).status).toBe(202);
    // The build would run 60 s and succeed: 'cancelled' means the cancel stopped it.
    const done = await farm.waitForState(running, ['cancelled', 'failed', 'succeeded']);
    expect(done.state).toBe('cancelled');
    expect((await farm.api('GET', `/task/${running}/log`)).text).toContain('[aoinb] cancelled');
  });

  it('kills a build that outlives its job timeout', async () => {
    const id = await farm.submit(
      await bundle({ name: 'slow', defines: ['ALLOW_ARCH="amd64"'], fake: { durationMs: 60_000 } }),
      { build: { timeout_seconds: 1 } },
    );
    const status = await farm.waitForState(id, ['failed', 'succeeded', 'cancelled']);
    expect(status.state).toBe('failed');
    expect(status.reason).toContain('timed out');
  });

  it('streams the live log over SSE and resumes after Last-Event-ID without loss or repeats', async () => {
    const total = 3000;
    const id = await farm.submit(
      await bundle({
        name: 'chatty',
        defines: ['ALLOW_ARCH="arm64"'],
        fake: { lines: total, linesPerSecond: 3000, durationMs: 1500 },
      }),
    );
    const url = `${farm.coordinatorUrl}/task/${id}/log?arch=arm64`;
    const first = await readSse(url, { token: farmTokens.maintainer, stop: (_e, all) => linesOf(all).length >= 800 });
    const rest = await readSse(url, { token: farmTokens.maintainer, lastEventId: first[first.length - 1]!.id });
    expect(rest[rest.length - 1]).toMatchObject({ event: 'end' });
    expect(JSON.parse(rest[rest.length - 1]!.data)).toMatchObject({ state: 'succeeded' });
    const lines = [...linesOf(first), ...linesOf(rest)];
    const fake = lines.filter((l) => l.startsWith('fake build line '));
    expect(fake).toEqual(Array.from({ length: total }, (_, i) => `fake build line ${i}`));
    const text = (await farm.api('GET', `/task/${id}/log?arch=arm64`)).text;
    expect(text).toBe(`${lines.join('\n')}\n`);
  });

  it('lists tasks with filters and pagination', async () => {
    const page = (await farm.api('GET', '/task?state=succeeded&limit=2')).body as {
      tasks: Array<{ id: string; state: string }>;
      next: string | null;
    };
    expect(page.tasks).toHaveLength(2);
    expect(page.tasks.every((t) => t.state === 'succeeded')).toBe(true);
    expect(page.next).not.toBeNull();
    const next = (await farm.api('GET', `/task?state=succeeded&limit=2&before=${page.next}`)).body as {
      tasks: Array<{ id: string }>;
    };
    expect(next.tasks.every((t) => Number(t.id) < Number(page.tasks[1]!.id))).toBe(true);
    const arm = (await farm.api('GET', '/task?arch=arm64')).body as { tasks: Array<{ archs: string[] }> };
    expect(arm.tasks.length).toBeGreaterThan(0);
    expect(arm.tasks.every((t) => t.archs.includes('arm64'))).toBe(true);
    expect((await farm.api('GET', '/task?state=bogus')).status).toBe(400);
  });

  it('reports builders with their arch tags and host facts', async () => {
    const { builders } = (await farm.api('GET', '/builder/status')).body as {
      builders: Array<Record<string, unknown>>;
    };
    const b = builders.find((x) => x.id === 'worker-b')!;
    expect(b).toMatchObject({ state: 'idle', arch_tags: ['arm64'], slots: 2, current_tasks: [] });
    expect(b.cores).toBeGreaterThan(0);
    expect(b.disk_free_bytes).toBeGreaterThan(0);
    expect(b.memory_total_bytes).toBeGreaterThan(0);
  });
});
