import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import { httpDurationBuckets } from '@aoinb/metrics';

/** Label of requests that matched no route (404s): never the raw URL, which would hold ids. */
export const unmatchedRoute = 'unmatched';

export interface HttpMetrics {
  observe(method: string, route: string, status: number, seconds: number): void;
}

export function createHttpMetrics(registry: Registry): HttpMetrics {
  const requests = new Counter({
    name: 'aoinb_http_requests_total',
    help: 'HTTP requests answered by the coordinator, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'aoinb_http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to the end of its answer (SSE log follows count until they close)',
    labelNames: ['method', 'route'],
    buckets: [...httpDurationBuckets],
    registers: [registry],
  });
  return {
    observe(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
  };
}

const startedAt = Symbol('aoinb.metrics.startedAt');
type TimedRequest = FastifyRequest & { [startedAt]?: number };

/**
 * Times every request with Fastify hooks. The route label is the route's
 * pattern (`/task/:id/status`), so task ids never become label values.
 */
export function registerHttpMetrics(app: FastifyInstance, metrics: HttpMetrics): void {
  app.addHook('onRequest', async (request: TimedRequest) => {
    request[startedAt] = performance.now();
  });
  app.addHook('onResponse', async (request: TimedRequest, reply: FastifyReply) => {
    const start = request[startedAt];
    if (start === undefined) return;
    const route = request.routeOptions.url ?? unmatchedRoute;
    metrics.observe(request.method, route, reply.statusCode, (performance.now() - start) / 1000);
  });
}
