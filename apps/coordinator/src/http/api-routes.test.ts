import { createHash } from 'node:crypto';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { makeTestDeb } from '@aoinb/testkit';
import { PROTOCOL_VERSION, protocolHeader } from '@aoinb/farm-contract';
import { attemptKeyHeader, newAttemptKey, type BuildJobResult } from '@aoinb/farm-protocol';
import { farmTokens, packTestBundle } from '@aoinb/farm-harness';
import { inject, useInjectFixture, type InjectOptions } from '../../test-support/inject-fixture.ts';

type Role = keyof typeof farmTokens;
type Access = 'public' | 'any' | Role[];

interface RouteCase {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Fastify's route pattern, as the OpenAPI document lists it. */
  route: string;
  access: Access;
  query?: string;
  body?: unknown;
}

const maintainer: Role[] = ['maintainer'];
const worker: Role[] = ['worker'];
const result: BuildJobResult = {
  status: 'succeeded',
  builder: 'stand-in',
  run: 1,
  attempt: 1,
  startedAt: new Date().toISOString(),
  finishedAt: new Date().toISOString(),
  artifacts: [],
  phases: {},
};

/** Every route of the API and who may call it, as docs/farm.md and docs/groups.md say. */
const routes: RouteCase[] = [
  { method: 'GET', route: '/healthz', access: 'public' },
  { method: 'GET', route: '/repo/:branch/*', access: 'public' },
  { method: 'GET', route: '/group/:id/repo/*', access: 'public' },
  { method: 'GET', route: '/', access: 'public' },
  { method: 'GET', route: '/assets/:name', access: 'public' },
  { method: 'GET', route: '/task', access: 'any' },
  { method: 'POST', route: '/task', access: maintainer },
  { method: 'GET', route: '/task/:id/status', access: 'any' },
  { method: 'PUT', route: '/task/:id/build_bundle', access: maintainer, body: Buffer.from('not a tar') },
  { method: 'GET', route: '/task/:id/build_bundle', access: ['worker', 'maintainer'] },
  { method: 'PUT', route: '/task/:id/branch', access: maintainer, body: 'stable' },
  { method: 'PUT', route: '/task/:id/build', access: maintainer, body: {} },
  { method: 'POST', route: '/task/:id/cancel', access: maintainer },
  { method: 'POST', route: '/task/:id/retry', access: maintainer },
  { method: 'DELETE', route: '/task/:id', access: maintainer },
  { method: 'GET', route: '/task/:id/log', access: 'any' },
  {
    method: 'PUT',
    route: '/task/:id/artifact/:arch/:name',
    access: worker,
    query: '?run=1&attempt=1',
    body: Buffer.from('x'),
  },
  { method: 'PUT', route: '/task/:id/result/:arch', access: worker, body: result },
  { method: 'GET', route: '/task/:id/artifact/:arch/:name', access: 'any' },
  { method: 'POST', route: '/task/:id/publish/:arch', access: ['admin'], body: {} },
  { method: 'GET', route: '/builder/status', access: 'any' },
  { method: 'GET', route: '/whoami', access: 'any' },
  { method: 'GET', route: '/farm', access: 'any' },
  { method: 'GET', route: '/queue', access: 'any' },
  { method: 'GET', route: '/metrics', access: 'any' },
  { method: 'POST', route: '/notify/test', access: maintainer, body: {} },
  { method: 'POST', route: '/group', access: maintainer, body: { branch: 'stable', tasks: ['999999'] } },
  { method: 'GET', route: '/group', access: 'any' },
  { method: 'GET', route: '/group/:id/status', access: 'any' },
  { method: 'POST', route: '/group/:id/cancel', access: maintainer },
  { method: 'POST', route: '/group/:id/retry', access: maintainer },
  { method: 'DELETE', route: '/group/:id', access: ['admin'] },
  { method: 'GET', route: '/farm/identity', access: 'any' },
  { method: 'POST', route: '/farm/identity/adopt', access: ['admin'], body: {} },
];

/** A concrete URL for a pattern: an unknown task/group id, so an allowed role reaches the handler and gets a 404. */
function urlOf(r: RouteCase): string {
  const url = r.route
    .replace(':id', '999999')
    .replace(':arch', 'amd64')
    .replace(':name', 'nothing_1.0-0_amd64.deb')
    .replace(':branch', 'stable')
    .replace('/assets/:name', '/assets/none.js')
    .replace('*', 'Packages');
  return url + (r.query ?? '');
}

/** The auth hook's refusal (a handler's own 403, e.g. a missing attempt key, names no role). */
function refusedByRole(res: LightMyRequestResponse): boolean {
  return (
    res.statusCode === 403 && /may not .* it needs the /.test(res.json<{ error: { message: string } }>().error.message)
  );
}

/**
 * Every route through Fastify's inject(), on a coordinator started in process
 * over a real redis-server: who may call it, what a refusal looks like, and the
 * 409s of the task lifecycle. No worker runs: this file plays the worker.
 */
describe('the HTTP API by inject()', () => {
  const fx = useInjectFixture({ archs: ['amd64', 'riscv64'], noarchArch: 'amd64' });
  const answers: Array<{ what: string; res: LightMyRequestResponse }> = [];

  async function call(
    method: RouteCase['method'],
    url: string,
    options: InjectOptions = {},
  ): Promise<LightMyRequestResponse> {
    const token = options.token === undefined ? farmTokens.maintainer : options.token;
    // A worker speaks the protocol version on every call (protocol-check.test.ts covers one that does not).
    const protocol: Record<string, string> =
      token === farmTokens.worker ? { [protocolHeader]: String(PROTOCOL_VERSION) } : {};
    const res = await inject(fx.app, method, url, { ...options, token, headers: { ...protocol, ...options.headers } });
    answers.push({ what: `${method} ${url}`, res });
    return res;
  }

  it('has a row for every route the OpenAPI document lists', async () => {
    const doc = (await call('GET', '/docs/json', { token: null })).json<{ paths: Record<string, object> }>();
    const listed = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace('{*}', '*').replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const covered = routes.map((r) => `${r.method} ${r.route}`);
    expect(listed.filter((op) => !op.includes(' /docs') && !covered.includes(op))).toEqual([]);
    expect(covered.filter((op) => !listed.includes(op))).toEqual([]);
  });

  it('answers 401 UNAUTHORIZED without a token, with a malformed header or an unknown token', async () => {
    for (const r of routes.filter((x) => x.access !== 'public')) {
      const variants: Array<Record<string, string>> = [
        {},
        { authorization: 'Basic abc' },
        { authorization: 'Bearer not-a-known-token' },
      ];
      for (const headers of variants) {
        const res = await call(r.method, urlOf(r), { token: null, body: r.body, headers });
        expect(res.statusCode, `${r.method} ${r.route} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      }
    }
    for (const r of routes.filter((x) => x.access === 'public'))
      expect((await call(r.method, urlOf(r), { token: null })).statusCode, r.route).not.toBe(401);
  });

  it('lets each role call exactly the routes the docs give it (admin all), and refuses the rest with 403', async () => {
    for (const r of routes.filter((x) => x.access !== 'public')) {
      for (const role of Object.keys(farmTokens) as Role[]) {
        const allowed = r.access === 'any' || role === 'admin' || (r.access as Role[]).includes(role);
        const res = await call(r.method, urlOf(r), { token: farmTokens[role], body: r.body });
        const what = `${role} ${r.method} ${r.route} -> ${res.statusCode} ${res.body}`;
        expect(refusedByRole(res), what).toBe(!allowed);
        if (!allowed)
          expect(res.json(), what).toEqual({
            error: { code: 'FORBIDDEN', message: expect.stringContaining(`(${role})`) },
          });
      }
    }
  });

  it('answers every 4xx as {error: {code, message}} and names no host path', async () => {
    const created = await call('POST', '/task');
    const id = created.json<{ id: string }>().id;
    await call('PUT', `/task/${id}/build_bundle`, { body: Buffer.from('definitely not an archive') });
    await call('PUT', `/task/${id}/branch`, { body: '../../etc' });
    await call('PUT', `/task/${id}/build`, { body: { archs: 'amd64' } });
    await call('GET', `/task/${id}/log?arch=nope`);
    await call('GET', '/task/x/status');
    await call('GET', '/no/such/route');
    const fourxx = answers.filter((a) => a.res.statusCode >= 400 && a.res.statusCode < 500);
    expect(fourxx.length).toBeGreaterThan(100);
    for (const { what, res } of fourxx) {
      const body = res.json<{ error: { code: string; message: string } }>();
      expect(Object.keys(body), what).toEqual(['error']);
      expect(Object.keys(body.error).sort(), what).toEqual(['code', 'message']);
      expect(body.error.code, what).toMatch(/^[A-Z_]+$/);
      expect(body.error.message.length, what).toBeGreaterThan(0);
      for (const hostPath of [fx.farm.root, fx.farm.storageDir, process.cwd()])
        expect(body.error.message, what).not.toContain(hostPath);
    }
  });

  it('pages the unfiltered task list newest first, limit by limit, every task once', async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await call('POST', '/task')).json<{ id: string }>().id);
    const seen: string[] = [];
    let before = '';
    for (let page = 0; page < 100; page++) {
      const res = (await call('GET', `/task?limit=3${before}`)).json<{
        tasks: Array<{ id: string }>;
        next: string | null;
      }>();
      expect(res.tasks.length).toBeLessThanOrEqual(3);
      seen.push(...res.tasks.map((t) => t.id));
      if (!res.next) break;
      expect(res.tasks.length).toBe(3);
      before = `&before=${res.next}`;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 7)).toEqual([...created].reverse());
    expect(seen.map(Number)).toEqual([...seen.map(Number)].sort((a, b) => b - a));
  });

  it('answers 409 CONFLICT for each lifecycle step out of order', async () => {
    const conflict = async (method: RouteCase['method'], url: string, body?: unknown) => {
      const res = await call(method, url, { body });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(409);
      expect(res.json()).toMatchObject({
        error: { code: 'CONFLICT', message: expect.stringContaining(url.split('/')[2]!) },
      });
    };
    const id = (await call('POST', '/task')).json<{ id: string }>().id;
    await conflict('PUT', `/task/${id}/build`, {});
    await conflict('POST', `/task/${id}/retry`);
    const archive = await packTestBundle(path.join(fx.farm.root, 'bundles'), { name: 'conflicts' });
    expect((await call('PUT', `/task/${id}/build_bundle`, { body: archive })).statusCode).toBe(201);
    await conflict('PUT', `/task/${id}/build`, {});
    expect((await call('PUT', `/task/${id}/branch`, { body: 'stable' })).statusCode).toBe(200);
    expect((await call('PUT', `/task/${id}/build`, { body: { archs: ['riscv64'] } })).statusCode).toBe(202);
    await conflict('PUT', `/task/${id}/build`, {});
    await conflict('PUT', `/task/${id}/build_bundle`, archive);
    await conflict('PUT', `/task/${id}/branch`, 'stable');
    await conflict('DELETE', `/task/${id}`);
    await conflict('POST', `/task/${id}/retry`);
    expect((await call('POST', `/task/${id}/cancel`)).statusCode).toBe(202);
    await conflict('POST', `/task/${id}/cancel`);
    // The result of an attempt that never ran.
    const late = await call('PUT', `/task/${id}/result/riscv64`, { token: farmTokens.worker, body: result });
    expect(late.statusCode).toBe(409);
  });

  describe('artifact verification (this file plays the worker of a claimed attempt)', () => {
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
        body: { ...result, artifacts },
        headers: { [attemptKeyHeader]: key },
      });
    const reasonOf = async (id: string) =>
      (await call('GET', `/task/${id}/status`)).json<{ jobs: Array<{ state: string; reason: string | null }> }>()
        .jobs[0];

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
});
