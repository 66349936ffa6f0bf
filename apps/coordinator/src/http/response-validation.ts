import type { FastifyInstance } from 'fastify';
import { AoinbError } from '@aoinb/errors';
import type { TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';

type Validators = Map<number, Validator>;

/** JSON response schemas of a route by status, compiled once (raw answers have a `content` map and are skipped). */
function compile(response: unknown): Validators {
  const validators: Validators = new Map();
  for (const [status, schema] of Object.entries((response ?? {}) as Record<string, Record<string, unknown>>)) {
    if (schema.content) continue;
    const { description: _description, ...json } = schema;
    validators.set(Number(status), Compile(json as TSchema));
  }
  return validators;
}

/**
 * Every JSON answer is checked against the route's response schema for its
 * status before it is sent: an answer that drifted from the contract is a 500
 * naming the field (and an error in the log), never a silently different body.
 * An answer with a status the route does not document is an error too.
 */
export function registerResponseValidation(app: FastifyInstance): void {
  const byRoute = new WeakMap<object, Validators>();
  app.addHook('preSerialization', async (request, reply, payload) => {
    const schema = request.routeOptions.schema;
    if (!schema?.response || payload === null || typeof payload !== 'object') return payload;
    let validators = byRoute.get(schema);
    if (!validators) byRoute.set(schema, (validators = compile(schema.response)));
    const where = `${request.method} ${request.routeOptions.url} answered ${reply.statusCode}`;
    const validator = validators.get(reply.statusCode);
    let problem: string | undefined;
    if (!validator) problem = `${where}, a status its schema does not document`;
    else if (!validator.Check(payload)) {
      const first = validator.Errors(payload)[0];
      problem = `${where} with a body its schema refuses: ${first?.instancePath || '/'} ${first?.message ?? ''}`;
    }
    if (!problem) return payload;
    request.log.error({ url: request.url }, problem);
    // An error body that drifted is logged only: refusing it would hide the first error.
    if (reply.statusCode >= 400) return payload;
    throw new AoinbError('INTERNAL', problem);
  });
}
