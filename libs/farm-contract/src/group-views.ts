import { Type, type Static } from 'typebox';
import { Arch, GroupId, IsoTime, Nullable, NextCursor, OneOf, Sha256, TaskId, Url } from './common.ts';
import { estimateSources, groupModes, groupStates, memberStates, publishModes } from './states.ts';

const groupSummaryFields = {
  id: GroupId,
  state: OneOf(groupStates),
  branch: Type.String(),
  mode: OneOf(groupModes),
  publish: OneOf(publishModes),
  round: Type.Integer({ description: '1, then one more per retry' }),
  tasks: Type.Array(TaskId),
  archs: Type.Array(Arch),
  cancel_requested: Type.Boolean(),
  reason: Nullable(Type.String()),
  created_by: Type.String(),
  created_at: IsoTime,
  updated_at: IsoTime,
  finished_at: Nullable(IsoTime),
  published_at: Nullable(IsoTime),
  repo_url: Url,
};

/** One group in `GET /group`. */
export const GroupSummary = Type.Object(groupSummaryFields, { additionalProperties: false });
export type GroupSummary = Static<typeof GroupSummary>;

/** Another member named by one (a dependency, what it waits for, why it was skipped). */
export const MemberRef = Type.Object(
  {
    task_id: Type.String(),
    package: Nullable(Type.String()),
    arch: Nullable(Type.String()),
    state: Nullable(Type.String()),
  },
  { additionalProperties: false },
);
export type MemberRef = Static<typeof MemberRef>;

export const GroupArtifactView = Type.Object(
  { name: Type.String(), size: Type.Integer(), sha256: Sha256, group_repo_url: Url, repo_url: Nullable(Url) },
  { additionalProperties: false },
);

/** One member (one arch of one task) of a group. */
export const GroupMember = Type.Object(
  {
    task_id: TaskId,
    package: Type.String(),
    arch: Arch,
    state: OneOf(memberStates),
    depends_on: Type.Array(MemberRef),
    waiting_for: Type.Array(MemberRef),
    skipped_because: Nullable(
      Type.Object(
        {
          ...MemberRef.properties,
          root: MemberRef,
        },
        { additionalProperties: false },
      ),
    ),
    round: Type.Integer(),
    run: Type.Integer(),
    job_id: Nullable(Type.String()),
    builder: Nullable(Type.String()),
    attempt: Type.Integer(),
    queued_at: Nullable(IsoTime),
    started_at: Nullable(IsoTime),
    finished_at: Nullable(IsoTime),
    reason: Nullable(Type.String()),
    priority: Type.Integer({ description: 'BullMQ priority: 1 runs first' }),
    estimate_seconds: Type.Number(),
    estimate_known: Type.Boolean(),
    estimate_source: OneOf(estimateSources, {
      description: "learned: median wall time of the package's last builds on the arch; default: none known",
    }),
    critical_path_seconds: Type.Number(),
    log_url: Nullable(Url),
    artifacts: Type.Array(GroupArtifactView),
    network: Type.Boolean({ description: "the member's builds have HTTP(S) through the worker's checked proxy" }),
  },
  { additionalProperties: false },
);
export type GroupMember = Static<typeof GroupMember>;

/** `GET /group/:id/status`. */
export const GroupStatus = Type.Object(
  {
    ...groupSummaryFields,
    counts: Type.Record(Type.String(), Type.Integer(), { description: 'members per state' }),
    critical_path_seconds: Type.Number(),
    apt_source: Type.String({ description: "sources.list line of the group's repository" }),
    apt_key_url: Url,
    members: Type.Array(GroupMember),
  },
  { additionalProperties: false },
);
export type GroupStatus = Static<typeof GroupStatus>;

export const GroupList = Type.Object(
  { groups: Type.Array(GroupSummary), next: NextCursor },
  { additionalProperties: false },
);
export type GroupList = Static<typeof GroupList>;

export const GroupListQuery = Type.Object(
  {
    state: Type.Optional(OneOf(groupStates)),
    branch: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    before: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
  },
  { additionalProperties: false },
);
export type GroupListQuery = Static<typeof GroupListQuery>;

/** `POST /group`. */
export const CreateGroupBody = Type.Object(
  {
    branch: Type.String({ minLength: 1 }),
    tasks: Type.Array(
      Type.Union([
        Type.String({ pattern: '^[0-9]+$' }),
        Type.Integer({ minimum: 1 }),
        Type.Object(
          {
            id: Type.String({ pattern: '^[0-9]+$' }),
            archs: Type.Optional(Type.Array(Type.String())),
            network: Type.Optional(Type.Boolean({ description: 'this member asks for a build network' })),
          },
          { additionalProperties: false },
        ),
      ]),
      { minItems: 1 },
    ),
    mode: Type.Optional(OneOf(groupModes)),
    publish: Type.Optional(OneOf(publishModes)),
    archs: Type.Optional(Type.Array(Type.String())),
    timeout_seconds: Type.Optional(Type.Integer({ minimum: 1 })),
    network: Type.Optional(
      Type.Boolean({
        description:
          "every member's builds get HTTP(S) through the worker's checked proxy; allowed by [coordinator] network_builds, else 403 NETWORK_NOT_ALLOWED",
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateGroupBody = Static<typeof CreateGroupBody>;

export const CreateGroupReply = Type.Object(
  {
    id: GroupId,
    state: OneOf(groupStates),
    mode: OneOf(groupModes),
    publish: OneOf(publishModes),
    archs: Type.Array(Arch),
    status_url: Url,
  },
  { additionalProperties: false },
);
export type CreateGroupReply = Static<typeof CreateGroupReply>;

export const DeleteGroupReply = Type.Object(
  { id: GroupId, state: Type.Literal('deleted') },
  { additionalProperties: false },
);
export type DeleteGroupReply = Static<typeof DeleteGroupReply>;

export const RetryGroupReply = Type.Object(
  {
    id: GroupId,
    state: OneOf(groupStates),
    round: Type.Integer(),
    members: Type.Array(Type.String({ description: '`<taskId>/<arch>`' })),
  },
  { additionalProperties: false },
);
export type RetryGroupReply = Static<typeof RetryGroupReply>;

export const GroupRepoParams = Type.Object({ id: GroupId, '*': Type.String() });
export type GroupRepoParams = Static<typeof GroupRepoParams>;
