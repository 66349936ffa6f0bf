import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { MetricsAccess } from '@aoinb/config';
import { createMetricsRegistry } from '@aoinb/metrics';
import { parsePromText } from '@aoinb/testkit';
import { registerAuth } from '../http/auth.ts';
import { registerErrorHandling } from '../http/errors.ts';
import type { CoordinatorMetrics } from './coordinator-metrics.ts';
import { createHttpMetrics, registerHttpMetrics } from './http-metrics.ts';
import { metricsRoutes } from './metrics-route.ts';

const tokens = [
  { name: 'prom', role: 'reader' as const, token: 'reader-secret' },
  { name: 'dev', role: 'maintainer' as const, token: 'maintainer-secret' },
];

/** The route as the server wires it: error handling, metrics hooks, then auth, then the API's routes. */
async function serverWith(access: MetricsAccess): Promise<{ app: FastifyInstance; metrics: CoordinatorMetrics }> {
  const registry = createMetricsRegistry({ processMetrics: false });
  const metrics: CoordinatorMetrics = {
    registry,
    access,
    http: createHttpMetrics(registry),
    start: async () => undefined,
  };
  const app = Fastify();
  registerErrorHandling(app);
  registerHttpMetrics(app, metrics.http);
  registerAuth(app, tokens);
  metricsRoutes(app, { metrics });
  app.get('/task/:id/status', async () => ({ ok: true }));
  app.post('/task', { config: { access: ['maintainer'] } }, async () => ({ id: '1' }));
  await app.ready();
  return { app, metrics };
}

describe('GET /metrics and the HTTP metrics', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
  });

  it('wants a token by default; a reader token may scrape but not submit', async () => {
    ({ app } = await serverWith('token'));
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const ok = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer reader-secret' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toContain('text/plain; version=0.0.4');
    expect(
      (await app.inject({ method: 'POST', url: '/task', headers: { authorization: 'Bearer reader-secret' } }))
        .statusCode,
    ).toBe(403);
    expect(
      (await app.inject({ url: '/task/42/status', headers: { authorization: 'Bearer reader-secret' } })).statusCode,
    ).toBe(200);
  });

  it('is open with metrics = "public" and absent with metrics = "off"', async () => {
    ({ app } = await serverWith('public'));
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(200);
    await app.close();
    ({ app } = await serverWith('off'));
    expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer reader-secret' } })).statusCode).toBe(
      404,
    );
  });

  it('counts requests by route pattern, refused and unknown ones included, never by raw URL', async () => {
    let metrics: CoordinatorMetrics;
    ({ app, metrics } = await serverWith('public'));
    for (const id of ['1', '2', '3'])
      await app.inject({ url: `/task/${id}/status`, headers: { authorization: 'Bearer maintainer-secret' } });
    await app.inject({ url: '/task/4/status' });
    await app.inject({ url: '/no/such/7' });
    const m = parsePromText(await metrics.registry.metrics());
    expect(m.value('aoinb_http_requests_total', { method: 'GET', route: '/task/:id/status', status: '200' })).toBe(3);
    expect(m.value('aoinb_http_requests_total', { method: 'GET', route: '/task/:id/status', status: '401' })).toBe(1);
    expect(m.value('aoinb_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(m.value('aoinb_http_request_duration_seconds_count', { method: 'GET', route: '/task/:id/status' })).toBe(4);
    expect(m.samples.some((s) => Object.values(s.labels).some((v) => /\/\d/.test(v)))).toBe(false);
  });
});
