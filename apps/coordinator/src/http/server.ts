import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { CoordinatorContext } from '../context.ts';
import { registerHttpMetrics } from '../metrics/http-metrics.ts';
import { metricsRoutes } from '../metrics/metrics-route.ts';
import { registerAuth } from './auth.ts';
import { registerErrorHandling } from './errors.ts';
import { openapiTags, openapiTransform } from './openapi-transform.ts';
import { registerProtocolCheck } from './protocol-check.ts';
import { registerResponseValidation } from './response-validation.ts';
import { withIdempotencyAnswers } from './route-schema.ts';
import { identityRoutes, registerIdentityChecks } from '../resilience/identity-http.ts';
import { registerIdempotency } from '../resilience/idempotency.ts';
import { registerRequestAbort } from '../resilience/request-abort.ts';
import { builderRoutes } from './routes/builders.ts';
import { bundleRoutes } from './routes/bundle.ts';
import { dashboardRoutes } from './routes/dashboard-files.ts';
import { farmInfoRoutes } from './routes/farm-info.ts';
import { groupRoutes } from './routes/groups.ts';
import { healthRoutes } from './routes/health.ts';
import { logRoutes } from './routes/log.ts';
import { notifyRoutes } from './routes/notify.ts';
import { repoRoutes } from './routes/repo.ts';
import { taskRoutes } from './routes/tasks.ts';
import { workerRoutes } from './routes/worker-api.ts';

/** The OpenAPI description (at /docs): every route's schema, bearer auth, idempotency answers on POSTs. */
async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'aoinb coordinator',
        description: 'Distributed build farm for AOSC OS packages',
        version: '0.1.0',
      },
      tags: openapiTags,
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: openapiTransform,
  });
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), access: 'public' };
    const methods = [route.method].flat();
    if (methods.includes('POST') && route.schema) withIdempotencyAnswers(route.schema);
  });
}

/** The coordinator's HTTP API (Fastify 5), OpenAPI description at /docs. */
export async function buildServer(ctx: CoordinatorContext): Promise<FastifyInstance> {
  // Typed as Fastify's logger, so the instance is a plain FastifyInstance (not one of pino's Logger).
  const loggerInstance: FastifyBaseLogger = ctx.logger;
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    forceCloseConnections: true,
    // Scalars are coerced (query strings are text) but never wrapped into arrays, and unknown
    // body keys are refused rather than silently dropped: `{"archs":"amd64"}` is a 400 naming the field.
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
  });
  // Uploads (bundles, artifacts) arrive as raw streams whatever
  // their content type; JSON and text keep Fastify's parsers.
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  registerErrorHandling(app);
  // Before auth: the request timer must run first, so refused requests are counted too.
  registerHttpMetrics(app, ctx.metrics.http);
  registerAuth(app, ctx.config.farm.tokens);
  registerProtocolCheck(app);
  registerResponseValidation(app);
  // After auth (they need the route and the principal): identity, abandoned requests, Idempotency-Key.
  registerIdentityChecks(app, ctx.identity);
  registerRequestAbort(app);
  registerIdempotency(app, ctx.redis, ctx.keys);
  await registerOpenApi(app);
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  for (const routes of [
    healthRoutes,
    taskRoutes,
    bundleRoutes,
    workerRoutes,
    logRoutes,
    builderRoutes,
    repoRoutes,
    groupRoutes,
    metricsRoutes,
    farmInfoRoutes,
    notifyRoutes,
    dashboardRoutes,
  ])
    routes(app, ctx);
  identityRoutes(app, ctx.identity);
  return app;
}
