import type { FastifySchema } from 'fastify';
import { ErrorBody } from '@aoinb/farm-contract';
import type { TSchema, TUnknown } from 'typebox';
import type { Access } from './auth.ts';

/** What each error status means on this API (the `description` OpenAPI shows). */
const errorMeaning: Record<number, string> = {
  400: 'The request is malformed (USAGE, or a field of the body names the problem)',
  401: 'No token, or a token this coordinator does not know (UNAUTHORIZED)',
  403: "The token's role may not call this route (FORBIDDEN)",
  404: 'No such task, group, build or file (NOT_FOUND)',
  409:
    'The resource is in the wrong state for this (CONFLICT); a worker call for a run or attempt that is no longer ' +
    'current (STALE_ATTEMPT); a worker of another farm identity, by its x-aoinb-farm-id (FARM_MISMATCH); ' +
    'a request with this Idempotency-Key still running (IDEMPOTENCY_IN_PROGRESS)',
  410:
    "The task's bundle, or a group member task's, is no longer in the coordinator's storage (BUNDLE_MISSING): " +
    'submit it again',
  413: 'The upload exceeds the size limit',
  422:
    'The upload does not verify (checksum, package contents); the Idempotency-Key was used with another request ' +
    '(IDEMPOTENCY_KEY_REUSED)',
  429: 'The token follows too many live logs at once (TOO_MANY_FOLLOWERS)',
  426: 'The x-aoinb-protocol header names another protocol version (PROTOCOL_MISMATCH)',
  500: 'Internal error (INTERNAL); the coordinator log has the details',
  503:
    'Redis is unreachable (UNAVAILABLE, with Retry-After), or no longer holds this farm identity and changes are ' +
    'refused (FARM_IDENTITY_LOST)',
  507: "The coordinator's storage is full (STORAGE_FULL, with Retry-After)",
};

/** A non-JSON answer (files, log text, metrics): a media type and what it holds. */
export interface RawAnswer {
  mediaType: string;
  description: string;
}

type Answers = Record<number, TSchema | RawAnswer>;

export interface RouteSpec<
  P extends TSchema | undefined = TSchema | undefined,
  Q extends TSchema | undefined = TSchema | undefined,
  B extends TSchema | undefined = TSchema | undefined,
  OK extends Answers = Answers,
  ANS extends Record<number, TSchema> = Record<never, TSchema>,
> {
  summary: string;
  tags: string[];
  access: Access;
  description?: string;
  params?: P;
  querystring?: Q;
  body?: B;
  /** A raw request body (upload): its media type, shown in OpenAPI only (the stream is never parsed). */
  rawBody?: RawAnswer;
  /** Each success status and its schema (JSON) or raw answer. */
  ok: OK;
  /** Error statuses whose body is not the plain error body (it still holds `error`), e.g. /healthz's 503. */
  answers?: ANS;
  /** Error statuses beyond the ones every route of its kind can answer (see `errorStatuses`). */
  errors?: number[];
}

function isRaw(answer: TSchema | RawAnswer): answer is RawAnswer {
  return typeof (answer as RawAnswer).mediaType === 'string';
}

function who(access: Access): string {
  if (access === 'public') return 'Public: no token.';
  if (access === 'any') return 'Needs any valid token (best a reader one).';
  return `Needs the ${[...access, 'admin'].filter((r, i, all) => all.indexOf(r) === i).join(' or ')} role.`;
}

/**
 * The error statuses a route can answer: 500 and 503 always; 401 and 426 behind
 * a token, and 409 (FARM_MISMATCH: a caller that names another farm identity);
 * 403 behind a role; 400 when it validates any input; 413 and 507 when it
 * takes an upload; plus its own. POST routes add the Idempotency-Key answers
 * (`withIdempotencyAnswers`).
 */
export function errorStatuses(
  spec: Pick<RouteSpec, 'access' | 'params' | 'querystring' | 'body' | 'rawBody' | 'errors'>,
): number[] {
  const statuses = new Set<number>([500, 503, ...(spec.errors ?? [])]);
  if (spec.access !== 'public') [401, 409, 426].forEach((s) => statuses.add(s));
  if (Array.isArray(spec.access)) statuses.add(403);
  if (spec.params || spec.querystring || spec.body) statuses.add(400);
  if (spec.rawBody) [413, 507].forEach((s) => statuses.add(s));
  return [...statuses].sort((a, b) => a - b);
}

function errorAnswer(status: number, schema: TSchema = ErrorBody): Record<string, unknown> {
  return { ...schema, description: errorMeaning[status] ?? 'Error' };
}

/**
 * A route's Fastify options from the contract's schemas: request validation,
 * a response schema for every status it can answer (checked by
 * response-validation.ts), its security and role for OpenAPI.
 */
/** The schema's type as the TypeBox type provider reads it: a raw answer types as unknown (a stream, a file). */
export type RouteSchema<P, Q, B, OK extends Answers, ANS = Record<never, TSchema>> = FastifySchema & {
  params: P;
  querystring: Q;
  body: B;
  response: { [K in keyof OK]: OK[K] extends RawAnswer ? TUnknown : OK[K] } & ANS;
};

export function routeOptions<
  P extends TSchema | undefined = undefined,
  Q extends TSchema | undefined = undefined,
  B extends TSchema | undefined = undefined,
  const OK extends Answers = Answers,
  const ANS extends Record<number, TSchema> = Record<never, TSchema>,
>(spec: RouteSpec<P, Q, B, OK, ANS>): { config: { access: Access }; schema: RouteSchema<P, Q, B, OK, ANS> } {
  const response: Record<number, unknown> = {};
  for (const [status, answer] of Object.entries(spec.ok)) {
    response[Number(status)] = isRaw(answer)
      ? { description: answer.description, content: { [answer.mediaType]: { schema: { type: 'string' } } } }
      : { description: 'Success', ...answer };
  }
  for (const status of errorStatuses(spec)) response[status] = errorAnswer(status, spec.answers?.[status]);
  for (const [status, schema] of Object.entries(spec.answers ?? {}))
    response[Number(status)] = errorAnswer(Number(status), schema);
  const schema: FastifySchema & Record<string, unknown> = {
    summary: spec.summary,
    description: [spec.description, who(spec.access)].filter(Boolean).join('\n\n'),
    tags: spec.tags,
    response,
    ...(spec.access === 'public' ? { security: [] } : {}),
    ...(spec.params ? { params: spec.params } : {}),
    ...(spec.querystring ? { querystring: spec.querystring } : {}),
    ...(spec.body ? { body: spec.body } : {}),
    ...(spec.rawBody ? { 'x-raw-body': spec.rawBody } : {}),
  };
  return { config: { access: spec.access }, schema: schema as RouteSchema<P, Q, B, OK, ANS> };
}

/** The header of idempotent POSTs (resilience/idempotency.ts), as OpenAPI shows it. */
const idempotencyHeaderSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  description:
    'Optional, 1 to 255 printable ASCII characters: the first request with a key runs and its answer is kept ' +
    'for 24 h; the same request again gets that answer with `Idempotent-Replayed: true`.',
};

/**
 * Every POST takes an Idempotency-Key, so every POST can answer 409
 * (IDEMPOTENCY_IN_PROGRESS) and 422 (IDEMPOTENCY_KEY_REUSED): added to a POST
 * route's schema in place when it is registered (server.ts), with the header.
 */
export function withIdempotencyAnswers(schema: FastifySchema): void {
  const response = schema.response as Record<number, unknown> | undefined;
  if (!response) return;
  for (const status of [409, 422]) response[status] ??= errorAnswer(status);
  (schema as Record<string, unknown>)['x-idempotency-key'] = idempotencyHeaderSchema;
}
