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

/**
 * Per route, what only the documentation needs: a raw upload body (never
 * parsed by Fastify, so it cannot be a validated `body`) as its media type.
 */
export function openapiTransform({ schema, url }: { schema: FastifySchema; url: string }): {
  schema: FastifySchema;
  url: string;
} {
  const { 'x-raw-body': raw, ...rest } = (schema ?? {}) as FastifySchema & { 'x-raw-body'?: RawAnswer };
  if (!raw) return { schema: rest, url };
  return {
    schema: {
      ...rest,
      body: {
        description: raw.description,
        content: { [raw.mediaType]: { schema: { type: 'string', format: 'binary' } } },
      },
    },
    url,
  };
}
