import type { FastifySchema } from 'fastify';
import type { RawAnswer } from './route-schema.ts';

/** The tags of the API, in the order /docs lists them. */
export const openapiTags = [
  { name: 'tasks', description: 'Create, upload, build, follow and fetch the results of one package' },
  { name: 'groups', description: 'Build many tasks together, in dependency order' },
  { name: 'workers', description: 'Called by worker agents only (worker token, x-aoinb-protocol header)' },
  { name: 'repository', description: 'The signed apt repositories the farm publishes' },
  { name: 'farm', description: 'What this farm is and who is calling' },
  { name: 'builders', description: 'The build hosts' },
  { name: 'notify', description: 'Webhooks' },
  { name: 'meta', description: 'Health and metrics' },
  { name: 'dashboard', description: 'The web dashboard files' },
];

type DocSchema = FastifySchema & { 'x-raw-body'?: RawAnswer; 'x-idempotency-key'?: Record<string, unknown> };

/**
 * Per route, what only the documentation needs: a raw upload body (never
 * parsed by Fastify, so it cannot be a validated `body`) as its media type, and
 * the Idempotency-Key header of POSTs (checked by its hook, not by a schema).
 */
export function openapiTransform({ schema, url }: { schema: FastifySchema; url: string }): {
  schema: FastifySchema;
  url: string;
} {
  const { 'x-raw-body': raw, 'x-idempotency-key': idempotency, ...rest } = (schema ?? {}) as DocSchema;
  const doc: FastifySchema = { ...rest };
  if (raw)
    doc.body = {
      description: raw.description,
      content: { [raw.mediaType]: { schema: { type: 'string', format: 'binary' } } },
    };
  if (idempotency) doc.headers = { type: 'object', properties: { 'idempotency-key': idempotency } };
  return { schema: doc, url };
}
