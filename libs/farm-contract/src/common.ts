import { Type, type Static, type TSchema } from 'typebox';

/** `T | null`: the API sends every absent value as `null`, never leaves the key out. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A list of literals as a string enum (`{"enum": [...]}` in JSON Schema). */
export const OneOf = <const T extends readonly string[]>(values: T, options: { description?: string } = {}) =>
  Type.Enum([...values] as T[number][], options);

export const TaskId = Type.String({ pattern: '^[0-9]+$', description: 'Task id (decimal digits)' });
export const GroupId = Type.String({ pattern: '^[0-9]+$', description: 'Group id (decimal digits)' });
export const Arch = Type.String({ pattern: '^[a-z0-9][a-z0-9_]*$', description: 'AOSC arch name, e.g. amd64' });
export const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'lowercase hex sha256' });
export const IsoTime = Type.String({ description: 'ISO 8601 time' });
export const Url = Type.String({ description: 'absolute URL (from coordinator.public_url)' });

/** Every error the API answers: `{ "error": { "code", "message" } }` (code from the catalogue in libs/errors). */
export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'error code from the catalogue (libs/errors/src/error-codes.ts)' }),
        message: Type.String({ description: 'what went wrong, for people; never a host path' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const IdParams = Type.Object({ id: TaskId });
export type IdParams = Static<typeof IdParams>;

/** Pages of lists: `next` is the `before` cursor of the next page, null on the last. */
export const NextCursor = Nullable(Type.String());

/** A body that is raw bytes (uploads) or text, as OpenAPI should show it. */
export const Binary = Type.String({ format: 'binary' });
