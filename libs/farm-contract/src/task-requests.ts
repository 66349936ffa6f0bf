import { Type, type Static } from 'typebox';
import { Arch, OneOf, Sha256, TaskId } from './common.ts';
import { taskStates } from './states.ts';

export const TaskListQuery = Type.Object(
  {
    state: Type.Optional(OneOf(taskStates)),
    branch: Type.Optional(Type.String()),
    arch: Type.Optional(Type.String()),
    submitter: Type.Optional(Type.String({ description: 'name of the token that created the task' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    before: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'the `next` of the previous page' })),
  },
  { additionalProperties: false },
);
export type TaskListQuery = Static<typeof TaskListQuery>;

/** `POST /task`: an optional branch (any other body is ignored, as before). */
export const CreateTaskBody = Type.Union([Type.Object({ branch: Type.Optional(Type.String()) }), Type.Null()]);
export type CreateTaskBody = Static<typeof CreateTaskBody>;
export const CreateTaskReply = Type.Object({ id: TaskId }, { additionalProperties: false });
export type CreateTaskReply = Static<typeof CreateTaskReply>;

/** `PUT /task/:id/branch`: the branch as text/plain, or JSON `{"branch": ...}`. */
export const SetBranchBody = Type.Union([Type.String(), Type.Object({ branch: Type.String() })]);
export type SetBranchBody = Static<typeof SetBranchBody>;
export const SetBranchReply = Type.Object({ id: TaskId, branch: Type.String() }, { additionalProperties: false });
export type SetBranchReply = Static<typeof SetBranchReply>;

/** Bounded: at most a week per job. */
export const maxTimeoutSeconds = 7 * 24 * 3600;

/** `PUT /task/:id/build`: which archs (default: every arch the bundle allows), a per-job timeout, a build network. */
export const StartBuildBody = Type.Union([
  Type.Object(
    {
      archs: Type.Optional(
        Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9_]{0,31}$' }), {
          minItems: 1,
          maxItems: 64,
          uniqueItems: true,
        }),
      ),
      timeout_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: maxTimeoutSeconds })),
      network: Type.Optional(
        Type.Boolean({
          description:
            "give the build HTTP(S) through the worker's checked proxy (never the host, the farm or the LAN); " +
            'allowed by [coordinator] network_builds, else 403 NETWORK_NOT_ALLOWED',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
export type StartBuildBody = Static<typeof StartBuildBody>;
export const StartBuildReply = Type.Object(
  { id: TaskId, state: OneOf(taskStates), archs: Type.Array(Arch) },
  { additionalProperties: false },
);
export type StartBuildReply = Static<typeof StartBuildReply>;

export const RetryTaskReply = Type.Object({ id: TaskId, state: OneOf(taskStates) }, { additionalProperties: false });
export type RetryTaskReply = Static<typeof RetryTaskReply>;

export const DeleteTaskReply = Type.Object(
  { id: TaskId, state: Type.Literal('deleted') },
  { additionalProperties: false },
);
export type DeleteTaskReply = Static<typeof DeleteTaskReply>;

/** `PUT /task/:id/build_bundle`: what the coordinator read from the bundle. */
export const BundleReply = Type.Object(
  {
    id: TaskId,
    sha256: Sha256,
    size: Type.Integer(),
    package: Type.Object(
      { name: Type.String(), version: Type.String(), noarch: Type.Boolean() },
      { additionalProperties: false },
    ),
    targets: Type.Array(Arch, { description: 'archs of the farm the bundle allows' }),
    denied: Type.Array(Type.Object({ arch: Type.String(), reason: Type.String() }, { additionalProperties: false }), {
      description: 'archs of the farm the bundle filters out, and why',
    }),
    unchanged: Type.Boolean({ description: 'the same bytes were uploaded before' }),
  },
  { additionalProperties: false },
);
export type BundleReply = Static<typeof BundleReply>;

export const LogQuery = Type.Object(
  {
    arch: Type.Optional(Type.String()),
    run: Type.Optional(Type.Integer({ minimum: 1 })),
    follow: Type.Optional(Type.Boolean({ description: 'Server-Sent Events, as `Accept: text/event-stream`' })),
    last_event_id: Type.Optional(Type.String({ description: 'resume after this event, as `Last-Event-ID`' })),
  },
  { additionalProperties: false },
);
export type LogQuery = Static<typeof LogQuery>;

export const ArtifactParams = Type.Object({ id: TaskId, arch: Arch, name: Type.String() });
export type ArtifactParams = Static<typeof ArtifactParams>;
export const ArchParams = Type.Object({ id: TaskId, arch: Arch });
export type ArchParams = Static<typeof ArchParams>;
