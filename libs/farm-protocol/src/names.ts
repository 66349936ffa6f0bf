/**
 * Every Redis name the farm uses, in one place, under one prefix (`[redis]
 * prefix`, default `{aoinb}`). The prefix is a hash tag, so every key lands in
 * one Redis Cluster slot: BullMQ flows (group builds) and our Lua scripts touch
 * several keys at once and need that. Two farms (or two tests) on one Redis
 * are apart when their prefixes differ.
 */
export const defaultFarmPrefix = '{aoinb}';
/** The default prefix (what `farmKeys` uses). */
export const farmPrefix = defaultFarmPrefix;

/** Why a prefix is unusable, or undefined: it must be one whole hash tag, `{name}`. */
export function farmPrefixProblem(prefix: string): string | undefined {
  return /^\{[A-Za-z0-9_.-]{1,64}\}$/.test(prefix)
    ? undefined
    : `${JSON.stringify(prefix)} is not a Redis Cluster hash tag such as "{aoinb}" (letters, digits, ` +
        `_ . - inside braces)`;
}

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

/**
 * Redis keys outside BullMQ's own, under `prefix`: every key one farm writes, so
 * that a Lua script's keys (a group and its tasks, a task and its logs) share
 * one Cluster slot and two prefixes are two farms that never see each other.
 */
export function farmNames(prefix: string = defaultFarmPrefix) {
  return {
    /** The prefix itself (BullMQ's queues live under it too). */
    prefix,
    /** STRING (JSON FarmIdentity): whose farm this Redis holds (farm-identity.ts). */
    farmIdentity: `${prefix}:farm-identity`,
    /** INCR counter handing out task ids. */
    taskSeq: `${prefix}:task-seq`,
    /** ZSET of every task id, scored by creation time (ms): the task list. */
    tasks: `${prefix}:tasks`,
    /** HASH: one task (see TaskRecord). */
    task: (taskId: string) => `${prefix}:task:${taskId}`,
    /** HASH: one arch of a task (see BuildRecord). */
    build: (taskId: string, arch: string) => `${prefix}:task:${taskId}:build:${arch}`,
    /** SET of `<taskId>/<arch>` whose build is queued or running: what reconciliation walks. */
    activeBuilds: `${prefix}:builds:active`,
    /** STREAM: the build log of one run of one arch (field `l`: lines joined by \n; `eof`: final state). */
    log: (taskId: string, arch: string, run: number) => `${prefix}:log:${taskId}:${arch}:${run}`,
    /**
     * SET of `<taskId>/<arch>/<run>` whose log ended (final state) but is not archived yet: what reconcile archives.
     */
    unarchivedLogs: `${prefix}:logs:unarchived`,
    /** STRING (with expiry): held while a bundle upload of the task runs; no build queues meanwhile. */
    bundleUploadLock: (taskId: string) => `${prefix}:task:${taskId}:bundle-upload`,
    /** STRING (JSON, with TTL): a builder's last heartbeat; gone = offline. */
    builder: (builderId: string) => `${prefix}:builder:${builderId}`,
    /** ZSET of builder ids scored by their last heartbeat (ms), kept after the TTL so offline builders stay listed. */
    builders: `${prefix}:builders`,
    /** STREAM: farm events (task and build transitions), capped; metrics and the group scheduler read it. */
    events: `${prefix}:events`,
    /** HASH `<package>/<arch>` -> JSON list of the resources of its last successful builds (learned requirements). */
    learnedNeeds: `${prefix}:learned-needs`,
    /** Pub/sub channel: cancel requests for running jobs (JSON CancelMessage). */
    cancelChannel: `${prefix}:cancel`,
    /** INCR counter handing out group ids (only while Redis holds the farm identity, like taskSeq). */
    groupSeq: `${prefix}:group-seq`,
    /** ZSET of every group id scored by itself: the group list, newest first. */
    groups: `${prefix}:groups`,
    /** SET of the ids of groups that are not final yet (what the group scheduler reconciles). */
    activeGroups: `${prefix}:groups:active`,
    /** HASH: one group (see GroupRecord, + `plan`); `state` is readable with HGET. */
    group: (groupId: string) => `${prefix}:group:${groupId}`,
    /** HASH: member `<taskId>/<arch>` -> JSON MemberRecord (its phase in the group). */
    groupMembers: (groupId: string) => `${prefix}:group:${groupId}:members`,
    /** HASH: `<package>/<arch>` -> JSON list of the last successful build durations (seconds). */
    buildDurations: `${prefix}:build-durations`,
    /** STRING (JSON, with TTL): the answer recorded for one `Idempotency-Key` (hashed with its principal). */
    idempotency: (hash: string) => `${prefix}:idem:${hash}`,
    /** STRING with a TTL: the coordinator whose pruner runs now (two coordinators never prune at once). */
    /** HASH `task:<id>` -> when, `group:<id>` -> JSON member task ids: records deleted whose files are not gone yet. */
    retentionPending: `${prefix}:retention:pending`,
  } as const;
}

export type FarmKeys = ReturnType<typeof farmNames>;

/** The keys under the default prefix. */
export const farmKeys: FarmKeys = farmNames();

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
