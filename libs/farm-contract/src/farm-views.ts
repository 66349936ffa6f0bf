import { Type, type Static } from 'typebox';
import { Arch, ErrorBody, IsoTime, Nullable, OneOf, Sha256, TaskId, Url } from './common.ts';
import { builderModes, builderStates } from './states.ts';

export const tokenRoles = ['maintainer', 'worker', 'admin', 'reader'] as const;

export const BuilderView = Type.Object(
  {
    id: Type.String(),
    state: OneOf(builderStates),
    last_heartbeat: IsoTime,
    hostname: Nullable(Type.String()),
    arch_tags: Type.Array(Arch),
    slots: Nullable(Type.Integer()),
    mode: Nullable(OneOf(builderModes)),
    paused_reason: Nullable(Type.String({ description: 'why a paused builder takes no jobs (disk, farm identity)' })),
    current_tasks: Type.Array(
      Type.Object(
        { task_id: TaskId, arch: Arch, job_id: Type.String(), started_at: IsoTime },
        { additionalProperties: false },
      ),
    ),
    cores: Nullable(Type.Integer()),
    memory_total_bytes: Nullable(Type.Number()),
    memory_free_bytes: Nullable(Type.Number()),
    disk_free_bytes: Nullable(Type.Number()),
    load: Nullable(Type.Array(Type.Number(), { minItems: 3, maxItems: 3 })),
    version: Nullable(Type.String()),
    started_at: Nullable(IsoTime),
  },
  { additionalProperties: false },
);
export type BuilderView = Static<typeof BuilderView>;

export const BuilderList = Type.Object({ builders: Type.Array(BuilderView) }, { additionalProperties: false });
export type BuilderList = Static<typeof BuilderList>;

export const Whoami = Type.Object({ name: Type.String(), role: OneOf(tokenRoles) }, { additionalProperties: false });
export type Whoami = Static<typeof Whoami>;

export const FarmInfo = Type.Object(
  {
    archs: Type.Array(Arch),
    noarch_arch: Arch,
    public_url: Url,
    grafana_url: Nullable(Url),
    notify_webhooks: Type.Array(
      Type.Object(
        { name: Type.String(), format: Type.String(), events: Type.Array(Type.String()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type FarmInfo = Static<typeof FarmInfo>;

export const QueueCounts = Type.Object(
  {
    queues: Type.Array(
      Type.Object(
        {
          arch: Arch,
          waiting: Type.Integer({ description: 'waiting, prioritized and delayed jobs' }),
          active: Type.Integer(),
          failed: Type.Integer(),
          completed: Type.Integer(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type QueueCounts = Static<typeof QueueCounts>;

const FarmIdField = Type.String({ description: "this coordinator's farm identity (its identity file)" });

/** `GET /healthz` 200: Redis answers and holds this farm's identity. */
export const Health = Type.Object(
  { ok: Type.Literal(true), redis: Type.Literal('up'), redis_ms: Type.Integer(), farm_id: FarmIdField },
  { additionalProperties: false },
);
export type Health = Static<typeof Health>;

/**
 * `GET /healthz` 503: the error (`UNAVAILABLE` with Retry-After when Redis does not answer within 2 s,
 * `FARM_IDENTITY_LOST` when it answers without this farm's data) beside the health fields.
 */
export const HealthDown = Type.Object(
  {
    ok: Type.Literal(false),
    redis: OneOf(['up', 'down']),
    redis_ms: Type.Integer(),
    farm_id: Type.Optional(FarmIdField),
    error: ErrorBody.properties.error,
  },
  { additionalProperties: false },
);
export type HealthDown = Static<typeof HealthDown>;

/** `GET /farm/identity`: the farm identity and whether Redis still holds it. */
export const FarmIdentity = Type.Union([
  Type.Object({ farm_id: FarmIdField, ok: Type.Literal(true) }, { additionalProperties: false }),
  Type.Object(
    {
      farm_id: FarmIdField,
      ok: Type.Literal(false),
      reason: Type.String({ description: 'why Redis does not hold it, for people' }),
      since: IsoTime,
    },
    { additionalProperties: false },
  ),
]);
export type FarmIdentity = Static<typeof FarmIdentity>;

/** `POST /farm/identity/adopt`: Redis holds this farm's identity again. */
export const FarmIdentityAdopted = Type.Object(
  { farm_id: FarmIdField, ok: Type.Literal(true) },
  { additionalProperties: false },
);
export type FarmIdentityAdopted = Static<typeof FarmIdentityAdopted>;

export const NotifyTestBody = Type.Union([
  Type.Object({ webhook: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
  Type.Null(),
]);
export type NotifyTestBody = Static<typeof NotifyTestBody>;

export const NotifyTestReply = Type.Object(
  {
    delivery: Type.String({ description: 'the delivery id every receiver got' }),
    results: Type.Array(
      Type.Object(
        {
          webhook: Type.String(),
          format: Type.String(),
          ok: Type.Boolean(),
          status: Type.Integer({ description: 'HTTP status the receiver answered; 0 when it could not be reached' }),
          attempts: Type.Integer(),
          error: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type NotifyTestReply = Static<typeof NotifyTestReply>;

export const RepublishBody = Type.Union([
  Type.Object({ replace: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
  Type.Null(),
]);
export type RepublishBody = Static<typeof RepublishBody>;

export const RepublishReply = Type.Object(
  {
    branch: Type.String(),
    added: Type.Array(Type.String()),
    unchanged: Type.Array(Type.String()),
    replaced: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type RepublishReply = Static<typeof RepublishReply>;

export const RepoParams = Type.Object({ branch: Type.String(), '*': Type.String() });
export type RepoParams = Static<typeof RepoParams>;

/** Worker: `PUT /task/:id/artifact/:arch/:name`. */
export const ArtifactUploadQuery = Type.Object({
  /** The run and attempt the upload belongs to (fencing: another one is refused with 409 STALE_ATTEMPT). */
  run: Type.Integer({ minimum: 1 }),
  attempt: Type.Integer({ minimum: 1 }),
});
export type ArtifactUploadQuery = Static<typeof ArtifactUploadQuery>;
export const ArtifactUploadReply = Type.Object(
  { name: Type.String(), sha256: Sha256, size: Type.Integer(), created: Type.Boolean() },
  { additionalProperties: false },
);
export type ArtifactUploadReply = Static<typeof ArtifactUploadReply>;

/** Worker: `PUT /task/:id/result/:arch`. */
export const ResultReply = Type.Object(
  { id: TaskId, arch: Arch, state: Type.String({ description: "the build's state after the result" }) },
  { additionalProperties: false },
);
export type ResultReply = Static<typeof ResultReply>;
