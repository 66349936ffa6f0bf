import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, farmIdHeader, protocolHeader } from '@aoinb/farm-contract';
import { FarmHarness, farmTokens, type FarmProcess } from '@aoinb/farm-harness';

interface Operation {
  summary?: string;
  description?: string;
  security?: unknown[];
  responses: Record<string, { description: string; content?: Record<string, { schema?: Record<string, unknown> }> }>;
}
type Spec = { paths: Record<string, Record<string, Operation>> };

const methods = ['get', 'put', 'post', 'delete'] as const;

/** An OpenAPI path (`/task/{id}/status`) with real values, or with an id that cannot be one. */
function concrete(path: string, badId = false): string {
  return path
    .replace('{id}', badId ? 'not-a-number' : '999999')
    .replace('{arch}', 'amd64')
    .replace('{name}', 'none_1.0_amd64.deb')
    .replace('{branch}', 'stable')
    .replace('{*}', 'Packages');
}

/**
 * The OpenAPI the coordinator serves at /docs/json, against a real OpenAPI
 * validator, and against the coordinator itself: every status a route answers
 * to a round of good and bad calls is one it documents.
 */
describe('OpenAPI at /docs', () => {
  let farm: FarmHarness;
  let coordinator: FarmProcess;
  let spec: Spec;
  const operations: Array<{ path: string; method: string; op: Operation }> = [];

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'] });
    coordinator = await farm.startCoordinator();
    const res = await farm.api('GET', '/docs/json', undefined, { token: null });
    expect(res.status).toBe(200);
    spec = res.body as Spec;
    for (const [path, item] of Object.entries(spec.paths))
      for (const method of methods) if (item[method]) operations.push({ path, method, op: item[method] });
  });
  afterAll(async () => {
    await farm?.stop();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(spec);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(operations.length).toBeGreaterThanOrEqual(26);
  });

  it('gives every operation a response schema per status, error bodies included, and its access', () => {
    for (const { path, method, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      const statuses = Object.keys(op.responses);
      expect(
        statuses.some((s) => s.startsWith('2')),
        where,
      ).toBe(true);
      expect(statuses, where).toContain('500');
      for (const [status, answer] of Object.entries(op.responses)) {
        expect(answer.description, `${where} ${status}`).not.toBe('Default Response');
        const media = Object.values(answer.content ?? {});
        expect(media.length, `${where} ${status} has no content`).toBeGreaterThan(0);
        expect(media[0]?.schema, `${where} ${status} has no schema`).toBeDefined();
        // Every error body holds `error` (/healthz's 503 keeps its health fields beside it).
        if (Number(status) >= 400)
          expect(answer.content?.['application/json']?.schema?.required, `${where} ${status}`).toContain('error');
      }
      const isPublic = /^Public/m.test(op.description ?? '');
      if (isPublic) expect(op.security, `${where} is public: no lock`).toEqual([]);
      else {
        expect(op.security, `${where} uses the global bearer scheme`).toBeUndefined();
        expect(op.description ?? '', where).toMatch(/Needs (any valid token|the [a-z ]+ role)/);
        expect(statuses, where).toEqual(expect.arrayContaining(['401', '426']));
      }
    }
    // The worker routes name their role; the apt repository needs no token.
    expect(spec.paths['/task/{id}/result/{arch}']?.put?.description).toContain('Needs the worker or admin role.');
    expect(spec.paths['/repo/{branch}/{*}']?.get?.security).toEqual([]);
    // Every POST takes an Idempotency-Key and documents what it may answer for it.
    for (const { path, op } of operations.filter((o) => o.method === 'post')) {
      const where = `POST ${path}`;
      expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(['409', '422']));
      const parameters = (op as { parameters?: Array<{ name: string; in: string }> }).parameters ?? [];
      expect(parameters, where).toContainEqual(expect.objectContaining({ name: 'idempotency-key', in: 'header' }));
    }
    const healthDown = spec.paths['/healthz']?.get?.responses['503']?.content?.['application/json']?.schema;
    expect(healthDown?.required).toEqual(expect.arrayContaining(['ok', 'redis', 'error']));
    const uploads = spec.paths['/task/{id}/artifact/{arch}/{name}']?.put?.responses ?? {};
    expect(Object.keys(uploads)).toEqual(expect.arrayContaining(['409', '413', '507']));
  });

  it('documents every status the routes answer to good and bad calls', async () => {
    const calls: Array<{ token: string | null; headers?: Record<string, string>; badId?: boolean }> = [
      { token: null },
      { token: 'not-a-token' },
      { token: farmTokens.maintainer },
      { token: farmTokens.worker, headers: { [protocolHeader]: String(PROTOCOL_VERSION) } },
      { token: farmTokens.worker },
      { token: farmTokens.admin, headers: { [protocolHeader]: String(PROTOCOL_VERSION + 1) } },
      { token: farmTokens.admin, badId: true },
      // A worker of another farm identity (its x-aoinb-farm-id).
      { token: farmTokens.worker, headers: { [protocolHeader]: String(PROTOCOL_VERSION), [farmIdHeader]: 'other' } },
      // The same Idempotency-Key on every call: replays, reuse with another request.
      { token: farmTokens.admin, headers: { 'idempotency-key': 'openapi-test' } },
    ];
    const undocumented: string[] = [];
    for (const { path, method, op } of operations) {
      if (method === 'post' && path === '/notify/test') continue; // would call out to webhooks
      for (const call of calls) {
        const url = concrete(path, call.badId);
        const body = method === 'get' || method === 'delete' ? undefined : {};
        const res = await farm.api(method.toUpperCase(), url, body, call);
        if (!op.responses[String(res.status)])
          undocumented.push(`${method.toUpperCase()} ${url} answered ${res.status}: ${res.text.slice(0, 200)}`);
      }
    }
    expect(undocumented).toEqual([]);
    // The coordinator checks its answers against the same schemas and logs any that drift.
    expect(coordinator.output()).not.toMatch(/does not document|schema refuses/);
  });
});
