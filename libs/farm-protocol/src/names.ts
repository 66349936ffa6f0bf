/**
 * Every Redis name the farm uses, in one place. All of them carry the hash tag
 * `{aoinb}` so they land in one Redis Cluster slot: BullMQ flows (group builds)
 * and our Lua scripts touch several keys at once and need that.
 */
export const farmPrefix = '{aoinb}';

/** The BullMQ queue of one arch: `build-<arch>` under the `{aoinb}` prefix. */
export function buildQueueName(arch: string): string {
  return `build-${arch}`;
}

/** The arch a queue name belongs to, or undefined for a queue that is not a build queue. */
export function archOfQueue(queueName: string): string | undefined {
  return queueName.startsWith('build-') ? queueName.slice('build-'.length) : undefined;
}

/**
 * BullMQ job id of one run of one arch of a task. Deterministic, so adding the
 * same job twice (a coordinator retrying after a crash) is a no-op.
 */
export function buildJobId(taskId: string, arch: string, run: number): string {
  return `t${taskId}-${arch}-r${run}`;
}

/** Parses a job id made by `buildJobId`. */
export function parseBuildJobId(jobId: string): { taskId: string; arch: string; run: number } | undefined {
  const match = /^t(\d+)-([a-z0-9_]+)-r(\d+)$/.exec(jobId);
  if (!match) return undefined;
  return { taskId: match[1] as string, arch: match[2] as string, run: Number(match[3]) };
}

/** Redis keys outside BullMQ's own. */
export const farmKeys = {
  /** INCR counter handing out task ids. */
  taskSeq: `${farmPrefix}:task-seq`,
  /** ZSET of every task id, scored by creation time (ms): the task list. */
  tasks: `${farmPrefix}:tasks`,
  /** HASH: one task (see TaskRecord). */
  task: (taskId: string) => `${farmPrefix}:task:${taskId}`,
  /** HASH: one arch of a task (see BuildRecord). */
  build: (taskId: string, arch: string) => `${farmPrefix}:task:${taskId}:build:${arch}`,
  /** SET of `<taskId>/<arch>` whose build is queued or running: what reconciliation walks. */
  activeBuilds: `${farmPrefix}:builds:active`,
  /** STREAM: the build log of one run of one arch (field `l`: lines joined by \n; `eof`: final state). */
  log: (taskId: string, arch: string, run: number) => `${farmPrefix}:log:${taskId}:${arch}:${run}`,
  /** SET of `<taskId>/<arch>/<run>` whose log ended (final state) but is not archived yet: what reconcile archives. */
  unarchivedLogs: `${farmPrefix}:logs:unarchived`,
  /** STRING (with expiry): held while a bundle upload of the task runs; no build queues meanwhile. */
  bundleUploadLock: (taskId: string) => `${farmPrefix}:task:${taskId}:bundle-upload`,
  /** STRING (JSON, with TTL): a builder's last heartbeat; gone = offline. */
  builder: (builderId: string) => `${farmPrefix}:builder:${builderId}`,
  /** ZSET of builder ids scored by their last heartbeat (ms), kept after the TTL so offline builders stay listed. */
  builders: `${farmPrefix}:builders`,
  /** STREAM: farm events (task and build transitions), capped; metrics and the group scheduler read it. */
  events: `${farmPrefix}:events`,
  /** Pub/sub channel: cancel requests for running jobs (JSON CancelMessage). */
  cancelChannel: `${farmPrefix}:cancel`,
} as const;

export function activeBuildMember(taskId: string, arch: string): string {
  return `${taskId}/${arch}`;
}

export function parseActiveBuildMember(member: string): { taskId: string; arch: string } | undefined {
  const at = member.indexOf('/');
  if (at <= 0) return undefined;
  return { taskId: member.slice(0, at), arch: member.slice(at + 1) };
}

/** A log in `farmKeys.unarchivedLogs`: `<taskId>/<arch>/<run>`. */
export function logMember(taskId: string, arch: string, run: number): string {
  return `${taskId}/${arch}/${run}`;
}

export function parseLogMember(member: string): { taskId: string; arch: string; run: number } | undefined {
  const match = /^(\d+)\/([a-z0-9_]+)\/(\d+)$/.exec(member);
  if (!match) return undefined;
  return { taskId: match[1] as string, arch: match[2] as string, run: Number(match[3]) };
}
