import { createHash, randomBytes } from 'node:crypto';
import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FarmHarness,
  farmTokens,
  type TaskStatus,
  linesOf,
  readSse,
  craftTar,
  packTestBundle,
  validMembers,
  type TestBundle,
} from '@aoinb/farm-harness';

/**
 * The farm as it runs: a real redis-server, the coordinator and two worker
 * agents as separate processes (worker-a: amd64, worker-b: arm64) on the fake
 * executor, which writes log lines and a real .deb. riscv64 has a queue but no
 * worker. Stalled checks every second, locks of 2 s, so a lost worker's job
 * comes back within ~4 s.
 */
describe('the farm', () => {
  let farm: FarmHarness;
  const bundle = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const maintainer = { token: farmTokens.maintainer };
  const job = (s: TaskStatus, arch: string) => s.jobs.find((j) => j.arch === arch)!;

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64', 'arm64', 'riscv64'], noarchArch: 'amd64' });
    await farm.startCoordinator();
    await Promise.all([
      farm.startWorker({ id: 'worker-a', archs: ['amd64'], slots: 2 }),
      farm.startWorker({ id: 'worker-b', archs: ['arm64'], slots: 2 }),
    ]);
  });

  afterAll(async () => {
    await farm?.stop();
  });

  it('answers 401 without a valid token and 403 for the wrong role, with JSON errors', async () => {
    const none = await farm.api('GET', '/task', undefined, { token: null });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    expect((await farm.api('GET', '/task', undefined, { token: 'not-a-token' })).status).toBe(401);
    expect((await farm.api('POST', '/task', undefined, { token: 'not-a-token' })).status).toBe(401);
    const workerCreates = await farm.api('POST', '/task', undefined, { token: farmTokens.worker });
    expect(workerCreates.status).toBe(403);
    expect(workerCreates.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const id = ((await farm.api('POST', '/task', undefined, maintainer)).body as { id: string }).id;
    const upload = await farm.api(
      'PUT',
      `/task/${id}/artifact/amd64/x_1_amd64.deb?attempt=1`,
      new Uint8Array([1]),
      maintainer,
    );
    expect(upload.status).toBe(403);
    expect((await farm.api('PUT', `/task/${id}/result/amd64`, { status: 'succeeded' }, maintainer)).status).toBe(403);
    expect((await farm.api('POST', `/task/${id}/cancel`, undefined, { token: farmTokens.worker })).status).toBe(403);
    expect((await farm.api('GET', '/healthz', undefined, { token: null })).status).toBe(200);
    expect((await farm.api('GET', '/docs/json', undefined, { token: null })).status).toBe(200);
    expect((await farm.api('GET', '/repo/stable/Release', undefined, { token: null })).status).not.toBe(401);
    expect((await farm.api('GET', '/no/such/route', undefined, { token: null })).body).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
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

  it('answers a request in the wrong state with a 4xx that names the problem', async () => {
    const id = ((await farm.api('POST', '/task', undefined, maintainer)).body as { id: string }).id;
    const early = await farm.api('PUT', `/task/${id}/build`, undefined, maintainer);
    expect(early.status).toBe(409);
    expect(early.text).toContain('no bundle');
    const branch = await farm.api('PUT', `/task/${id}/branch`, 'nosuchbranch', maintainer);
    expect(branch.status).toBe(400);
    expect(branch.body).toMatchObject({ error: { code: 'SOURCE_LIST_MISSING' } });
    const broken = craftTar([
      { name: 'spec', content: 'VER=1.0\nDUMMYSRC=1\n' },
      { name: 'autobuild/defines', content: 'PKGSEC=utils\nPKGDES="no name"\n' },
    ]);
    const parse = await farm.api('PUT', `/task/${id}/build_bundle`, broken, maintainer);
    expect(parse.status).toBe(400);
    expect(parse.body).toMatchObject({ error: { code: 'BUNDLE_INVALID' } });
    expect(parse.text).toContain('PKGNAME');
    await farm.api(
      'PUT',
      `/task/${id}/build_bundle`,
      await bundle({ name: 'late', defines: ['ALLOW_ARCH="amd64"'] }),
      maintainer,
    );
    const noBranch = await farm.api('PUT', `/task/${id}/build`, undefined, maintainer);
    expect(noBranch.status).toBe(409);
    expect(noBranch.text).toContain('no branch');
    expect((await farm.api('GET', '/task/999999/status')).status).toBe(404);
  });

  it('takes uploads idempotently and checks their sha256', async () => {
    const id = ((await farm.api('POST', '/task', undefined, maintainer)).body as { id: string }).id;
    const archive = await bundle({ name: 'twice', defines: ['ALLOW_ARCH="amd64"'] });
    const sha = createHash('sha256').update(archive).digest('hex');
    const first = await farm.api('PUT', `/task/${id}/build_bundle`, archive, {
      ...maintainer,
      headers: { 'x-checksum-sha256': sha },
    });
    expect(first.status).toBe(201);
    const again = await farm.api('PUT', `/task/${id}/build_bundle`, archive, maintainer);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ unchanged: true, sha256: sha });
    const wrong = await farm.api('PUT', `/task/${id}/build_bundle`, archive, {
      ...maintainer,
      headers: { 'x-checksum-sha256': '0'.repeat(64) },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toMatchObject({ error: { code: 'CHECKSUM_MISMATCH' } });
  });

  it('rejects unsafe and oversized bundles with a 4xx and writes nothing outside its storage', async () => {
    const tag = randomBytes(4).toString('hex');
    const outside = [`/tmp/aoinb-escape-${tag}`, path.join(farm.root, `escape-${tag}`)];
    const cases: Array<[string, Buffer, number]> = [
      [
        'traversal',
        craftTar([...validMembers('evil'), { name: `../../../../../../../../tmp/aoinb-escape-${tag}`, content: 'x' }]),
        400,
      ],
      [
        'relative traversal',
        craftTar([...validMembers('evil'), { name: `autobuild/../../escape-${tag}`, content: 'x' }]),
        400,
      ],
      ['absolute path', craftTar([...validMembers('evil'), { name: `/tmp/aoinb-escape-${tag}`, content: 'x' }]), 400],
      [
        'symlink out',
        craftTar([...validMembers('evil'), { name: 'autobuild/prepare', type: 'symlink', linkname: '/etc/passwd' }]),
        400,
      ],
      [
        'symlink up',
        craftTar([
          ...validMembers('evil'),
          { name: 'autobuild/build', type: 'symlink', linkname: '../../../etc/shadow' },
        ]),
        400,
      ],
      [
        'hard link out',
        craftTar([...validMembers('evil'), { name: 'autobuild/beyond', type: 'hardlink', linkname: '/etc/passwd' }]),
        400,
      ],
      ['device', craftTar([...validMembers('evil'), { name: 'autobuild/null', type: 'chardev' }]), 400],
      [
        'oversized archive',
        craftTar([...validMembers('evil'), { name: 'big.bin', content: randomBytes(2 * 1024 * 1024) }]),
        413,
      ],
      [
        'oversized once extracted',
        craftTar([...validMembers('evil'), { name: 'zeros.bin', content: Buffer.alloc(16 * 1024 * 1024) }]),
        413,
      ],
    ];
    for (const [what, archive, status] of cases) {
      const id = ((await farm.api('POST', '/task', undefined, maintainer)).body as { id: string }).id;
      const res = await farm.api('PUT', `/task/${id}/build_bundle`, archive, maintainer);
      expect(res.status, `${what}: ${res.text}`).toBe(status);
      expect((res.body as { error: { code: string } }).error.code, what).toMatch(/^BUNDLE_(UNSAFE|TOO_LARGE|INVALID)$/);
      expect((await farm.status(id)).state, what).toBe('created');
      expect(((await farm.api('GET', `/task/${id}/status`)).body as { bundle: unknown }).bundle, what).toBeNull();
    }
    for (const file of outside) await expect(access(file)).rejects.toThrow();
    // Each coordinator has its own upload folder under tmp (storage/instance-tmp.ts): nothing may stay in one.
    const tmp = path.join(farm.storageDir, 'tmp');
    const uploads = (await readdir(tmp, { withFileTypes: true })).filter((e) => e.isDirectory());
    expect(uploads.length).toBeGreaterThan(0);
    for (const dir of uploads) expect(await readdir(path.join(tmp, dir.name))).toEqual([]);
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
      10_000,
      `job ${jobId} to leave active`,
    );
    expect(jobState).toBe('completed');
    expect(job(await farm.status(id), 'amd64')).toMatchObject({ state: 'failed', attempt: 1, run: 1 });

    const retried = await farm.api('POST', `/task/${id}/retry`, undefined, maintainer);
    expect(retried.status).toBe(202);
    await farm.waitFor(async () => job(await farm.status(id), 'amd64').run === 2, 10_000, 'run 2');
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
    // The build would run 60 s: ending within the deadline means the cancel stopped it.
    const done = await farm.waitForState(running, ['cancelled', 'failed', 'succeeded'], 20_000);
    expect(done.state).toBe('cancelled');
    expect((await farm.api('GET', `/task/${running}/log`)).text).toContain('[aoinb] cancelled');
  });

  it('kills a build that outlives its job timeout', async () => {
    const id = await farm.submit(
      await bundle({ name: 'slow', defines: ['ALLOW_ARCH="amd64"'], fake: { durationMs: 60_000 } }),
      { build: { timeout_seconds: 1 } },
    );
    const status = await farm.waitForState(id, ['failed', 'succeeded', 'cancelled'], 15_000);
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

  it('gives the job of a SIGKILLed worker to another worker, which completes it', async () => {
    const id = await farm.submit(
      await bundle({ name: 'survivor', defines: ['ALLOW_ARCH="amd64"'], fake: { durationMs: 4000 } }),
    );
    await farm.waitFor(
      async () => job(await farm.status(id), 'amd64').builder === 'worker-a',
      10_000,
      'worker-a to start the build',
    );
    await farm.kill('worker-a', 'SIGKILL');
    await farm.startWorker({ id: 'worker-a2', archs: ['amd64'], slots: 2 });
    const status = await farm.waitForState(id, ['succeeded', 'failed'], 30_000);
    expect(status.state).toBe('succeeded');
    expect(job(status, 'amd64')).toMatchObject({ builder: 'worker-a2', attempt: 2 });
    const log = (await farm.api('GET', `/task/${id}/log`)).text;
    expect(log).toContain('builder worker-a stopped answering during attempt 1');
    expect(log).toContain('attempt 2 on builder worker-a2');
    await farm.waitFor(
      async () => {
        const { builders } = (await farm.api('GET', '/builder/status')).body as {
          builders: Array<{ id: string; state: string }>;
        };
        return builders.find((b) => b.id === 'worker-a')?.state === 'offline';
      },
      15_000,
      'worker-a to show offline',
    );
  });

  it('hands running builds back to the queue when a worker gets SIGTERM', async () => {
    const id = await farm.submit(
      await bundle({ name: 'handed-back', defines: ['ALLOW_ARCH="arm64"'], fake: { durationMs: 3000 } }),
    );
    await farm.waitForState(id, ['running']);
    await farm.kill('worker-b', 'SIGTERM');
    const back = await farm.status(id);
    expect(job(back, 'arm64')).toMatchObject({ state: 'queued', builder: null });
    await farm.startWorker({ id: 'worker-b2', archs: ['arm64'], slots: 2 });
    const status = await farm.waitForState(id, ['succeeded', 'failed'], 20_000);
    expect(status.state).toBe('succeeded');
    expect(job(status, 'arm64')).toMatchObject({ builder: 'worker-b2', attempt: 2 });
    expect((await farm.api('GET', `/task/${id}/log`)).text).toContain('handed back to the queue');
  });

  it('loses nothing when the coordinator is restarted mid-build', async () => {
    const id = await farm.submit(
      await bundle({
        name: 'steady',
        defines: ['ALLOW_ARCH="@(amd64|arm64)"'],
        fake: { durationMs: 4000, lines: 300, linesPerSecond: 100 },
      }),
    );
    await farm.waitForState(id, ['running']);
    await farm.kill('coordinator', 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    await farm.startCoordinator();
    const status = await farm.waitForState(id, ['succeeded', 'failed'], 30_000);
    expect(status.state).toBe('succeeded');
    for (const arch of ['amd64', 'arm64']) {
      const log = (await farm.api('GET', `/task/${id}/log?arch=${arch}`)).text.split('\n');
      expect(log.filter((l) => l.startsWith('fake build line '))).toEqual(
        Array.from({ length: 300 }, (_, i) => `fake build line ${i}`),
      );
      expect(job(status, arch).artifacts).toHaveLength(1);
    }
    const packages = (await farm.api('GET', '/repo/stable/Packages', undefined, { token: null })).text;
    expect(packages).toContain('Filename: steady_1.0-0_amd64.deb');
    expect(packages).toContain('Filename: steady_1.0-0_arm64.deb');
  });
});
