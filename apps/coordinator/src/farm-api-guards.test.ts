import { createHash, randomBytes } from 'node:crypto';
import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FarmHarness,
  farmTokens,
  craftTar,
  packTestBundle,
  bundleMembers,
  type TarMember,
  type TestBundle,
} from '@aoinb/farm-harness';
import { startTwoWorkerFarm } from '../test-support/two-worker-farm.ts';

/** The farm's API refusing what it must, on the two-worker farm (test-support/two-worker-farm.ts). */
describe('the farm API: tokens, request states, bundle uploads', () => {
  let farm: FarmHarness;
  const bundle = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const maintainer = { token: farmTokens.maintainer };

  beforeAll(async () => {
    farm = await startTwoWorkerFarm();
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
    const evil = (bad: TarMember): Buffer => craftTar([...bundleMembers({ name: 'evil' }), bad]);
    const outside = [`/tmp/aoinb-escape-${tag}`, path.join(farm.root, `escape-${tag}`)];
    const cases: Array<[string, Buffer, number]> = [
      ['traversal', evil({ name: `../../../../../../../../tmp/aoinb-escape-${tag}`, content: 'x' }), 400],
      ['relative traversal', evil({ name: `autobuild/../../escape-${tag}`, content: 'x' }), 400],
      ['absolute path', evil({ name: `/tmp/aoinb-escape-${tag}`, content: 'x' }), 400],
      ['symlink out', evil({ name: 'autobuild/prepare', type: 'symlink', linkname: '/etc/passwd' }), 400],
      ['symlink up', evil({ name: 'autobuild/build', type: 'symlink', linkname: '../../../etc/shadow' }), 400],
      ['hard link out', evil({ name: 'autobuild/beyond', type: 'hardlink', linkname: '/etc/passwd' }), 400],
      ['device', evil({ name: 'autobuild/null', type: 'chardev' }), 400],
      ['oversized archive', evil({ name: 'big.bin', content: randomBytes(2 * 1024 * 1024) }), 413],
      ['oversized once extracted', evil({ name: 'zeros.bin', content: Buffer.alloc(16 * 1024 * 1024) }), 413],
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
});
