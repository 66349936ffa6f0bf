import { Type, type Static } from 'typebox';
import { Arch, IsoTime, OneOf, TaskId } from './common.ts';
import { builderModes } from './states.ts';

/**
 * `GET /task/:id/log` as Server-Sent Events: `message` events carry a batch of
 * lines (one `data:` field per line) with an `id` to resume after
 * (`Last-Event-ID`: a Redis stream id, or `a<line>` for an archived log); the
 * last event is `end`, whose data is this JSON.
 */
export const LogEndEvent = Type.Object(
  {
    state: Type.String({ description: "the build's final state (or `unknown`)" }),
    reason: Type.String(),
  },
  { additionalProperties: false },
);
export type LogEndEvent = Static<typeof LogEndEvent>;

/** The SSE event names of a log stream. */
export const logEventNames = { lines: 'message', end: 'end' } as const;

/** Entry of the farm event stream (`{aoinb}:events`), written by the state scripts in the same step as the change. */
export const FarmEvent = Type.Object({
  type: OneOf(['build', 'task', 'group']),
  taskId: Type.Optional(TaskId),
  groupId: Type.Optional(Type.String()),
  arch: Type.Optional(Arch),
  state: Type.String(),
  from: Type.Optional(Type.String()),
  builder: Type.Optional(Type.String()),
  at: IsoTime,
});
export type FarmEvent = Static<typeof FarmEvent>;

/** Message on the cancel channel: the worker running `jobId` aborts it. */
export const CancelMessage = Type.Object({
  taskId: TaskId,
  arch: Arch,
  jobId: Type.String(),
  /** The run and attempt to stop: a worker on another run or attempt ignores the message. */
  run: Type.Integer({ minimum: 1 }),
  attempt: Type.Integer({ minimum: 0 }),
  reason: Type.String(),
});
export type CancelMessage = Static<typeof CancelMessage>;

/** Host facts a worker publishes with every heartbeat (a Redis key with a TTL). */
export const BuilderFacts = Type.Object({
  id: Type.String(),
  hostname: Type.String(),
  archs: Type.Array(Arch),
  slots: Type.Integer(),
  cores: Type.Integer(),
  memoryTotalBytes: Type.Number(),
  memoryFreeBytes: Type.Number(),
  diskFreeBytes: Type.Number(),
  /** `[worker] allow_network_builds`: it takes builds that asked for a build network (absent: it does not). */
  allowNetworkBuilds: Type.Optional(Type.Boolean()),
  /** 1, 5 and 15 minute load averages. */
  load: Type.Tuple([Type.Number(), Type.Number(), Type.Number()]),
  currentTasks: Type.Array(Type.Object({ taskId: TaskId, arch: Arch, jobId: Type.String(), startedAt: IsoTime })),
  /**
   * `draining`: SIGTERM received, taking no new jobs; `paused`:
   * taking no jobs for `pausedReason` (disk, farm identity).
   */
  mode: OneOf(builderModes),
  /** Why a paused builder takes no jobs, for people (`GET /builder/status`). */
  pausedReason: Type.Optional(Type.String()),
  startedAt: IsoTime,
  lastHeartbeat: IsoTime,
  version: Type.String(),
});
export type BuilderFacts = Static<typeof BuilderFacts>;
