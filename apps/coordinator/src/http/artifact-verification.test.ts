import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTestDeb } from '@aoinb/testkit';
import { attemptKeyHeader, newAttemptKey, type BuildJobResult } from '@aoinb/farm-protocol';
import { farmTokens, packTestBundle } from '@aoinb/farm-harness';
import {
  callAsClient,
  standInResult,
  useInjectFixture,
  type InjectOptions,
} from '../../test-support/inject-fixture.ts';

/**
 * The coordinator checks what a worker uploads and reports against what arrived, by inject() on a
 * coordinator started in process over a real redis-server. No worker runs: this file plays the worker
 * of a claimed attempt.
 */
describe('artifact verification (this file plays the worker of a claimed attempt)', () => {
  const fx = useInjectFixture({ archs: ['amd64', 'riscv64'], noarchArch: 'amd64' });
  const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, options: InjectOptions = {}) =>
    callAsClient(fx.app, method, url, options);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const debOf = async (name: string) =>
    (await makeTestDeb({ dir: path.join(fx.farm.root, 'debs'), name, arch: 'riscv64' })).bytes;

  /** A queued build of both archs, claimed by a stand-in worker through the store, as a worker does. */
  async function claimed(name: string): Promise<{ id: string; key: string }> {
    const id = (await call('POST', '/task')).json<{ id: string }>().id;
    const archive = await packTestBundle(path.join(fx.farm.root, 'bundles'), { name });
    expect((await call('PUT', `/task/${id}/build_bundle`, { body: archive })).statusCode).toBe(201);
    await call('PUT', `/task/${id}/branch`, { body: 'stable' });
    expect((await call('PUT', `/task/${id}/build`, { body: { archs: ['riscv64'] } })).statusCode).toBe(202);
    const key = newAttemptKey({ taskId: id, arch: 'riscv64', run: 1 });
    const now = new Date();
    const outcome = await fx.coordinator.context.store.transition({
      taskId: id,
      arch: 'riscv64',
      archs: ['riscv64'],
      run: 1,
      from: ['queued'],
      to: 'running',
      incrementAttempt: true,
      set: {
        builder: 'stand-in',
        attemptKeyHash: key.hash,
        startedAt: now.toISOString(),
        startedAtMs: now.getTime(),
      },
    });
    expect(outcome.done).toBe(true);
    return { id, key: key.key };
  }
  const upload = (id: string, key: string, name: string, bytes: Buffer, sha256: string) =>
    call('PUT', `/task/${id}/artifact/riscv64/${name}?run=1&attempt=1`, {
      token: farmTokens.worker,
      body: bytes,
      headers: { 'x-checksum-sha256': sha256, [attemptKeyHeader]: key },
    });
  const report = (id: string, key: string, artifacts: BuildJobResult['artifacts']) =>
    call('PUT', `/task/${id}/result/riscv64`, {
      token: farmTokens.worker,
      body: { ...standInResult, artifacts },
      headers: { [attemptKeyHeader]: key },
    });
  const reasonOf = async (id: string) =>
    (await call('GET', `/task/${id}/status`)).json<{ jobs: Array<{ state: string; reason: string | null }> }>().jobs[0];

  it('refuses an upload whose bytes do not match its X-Checksum-Sha256, and keeps nothing of it', async () => {
    const { id, key } = await claimed('torn-upload');
    const deb = await debOf('torn-upload');
    const torn = await upload(id, key, 'torn-upload_1.0-0_riscv64.deb', deb, sha(Buffer.from('other bytes')));
    expect(torn.statusCode, torn.body).toBeGreaterThanOrEqual(400);
    expect(torn.statusCode).toBeLessThan(500);
    expect(torn.json()).toMatchObject({ error: { message: expect.stringMatching(/sha256/i) } });
    // Reported as if it had arrived: the build fails and says which artifact.
    const state = await report(id, key, [
      { name: 'torn-upload_1.0-0_riscv64.deb', size: deb.length, sha256: sha(deb) },
    ]);
    expect(state.json()).toMatchObject({ state: 'failed' });
    expect(await reasonOf(id)).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('torn-upload_1.0-0_riscv64.deb was not received intact (sha256 missing'),
    });
  });

  it('fails a success whose reported sha256 is not what arrived', async () => {
    const { id, key } = await claimed('swapped');
    const deb = await debOf('swapped');
    const name = 'swapped_1.0-0_riscv64.deb';
    expect((await upload(id, key, name, deb, sha(deb))).statusCode).toBe(201);
    const other = sha(Buffer.from('what the worker claims'));
    const state = await report(id, key, [{ name, size: deb.length, sha256: other }]);
    expect(state.json()).toMatchObject({ state: 'failed' });
    expect(await reasonOf(id)).toMatchObject({
      reason: expect.stringContaining(`${name} was not received intact (sha256 ${sha(deb)}, reported ${other})`),
    });
    const packages = await call('GET', '/repo/stable/Packages', { token: null });
    expect(packages.body).not.toContain(name);
  });

  it('fails a success whose reported size is not what arrived', async () => {
    const { id, key } = await claimed('resized');
    const deb = await debOf('resized');
    const name = 'resized_1.0-0_riscv64.deb';
    expect((await upload(id, key, name, deb, sha(deb))).statusCode).toBe(201);
    const state = await report(id, key, [{ name, size: deb.length + 1, sha256: sha(deb) }]);
    expect(state.json()).toMatchObject({ state: 'failed' });
    expect(await reasonOf(id)).toMatchObject({
      reason: `artifact ${name} arrived with ${deb.length} bytes, the worker reported ${deb.length + 1}`,
    });
  });

  it('fails a success that reports no .deb, and publishes what arrived intact', async () => {
    const empty = await claimed('nothing-built');
    expect((await report(empty.id, empty.key, [])).json()).toMatchObject({ state: 'failed' });
    expect(await reasonOf(empty.id)).toMatchObject({ reason: 'the build produced no .deb' });

    const good = await claimed('intact');
    const deb = await debOf('intact');
    const name = 'intact_1.0-0_riscv64.deb';
    expect((await upload(good.id, good.key, name, deb, sha(deb))).statusCode).toBe(201);
    expect((await upload(good.id, good.key, name, deb, sha(deb))).statusCode).toBe(200);
    const state = await report(good.id, good.key, [{ name, size: deb.length, sha256: sha(deb) }]);
    expect(state.json(), state.body).toMatchObject({ state: 'succeeded' });
    expect((await call('GET', '/repo/stable/Packages', { token: null })).body).toContain(`SHA256: ${sha(deb)}`);
  });
});
