import type { Redis } from 'ioredis';
import { decodeFields, encodeFields, type HashSchema } from './hash-codec.ts';
import { activeBuildMember, farmKeys, parseActiveBuildMember } from './names.ts';
import { deleteTaskScript } from './delete-task-script.ts';
import { queueBuildsScript } from './queue-builds-script.ts';
import type { BuildRecord, BuildState, TaskRecord, TaskState } from './records.ts';
import { transitionScript } from './transition-script.ts';

export const taskSchema: HashSchema<TaskRecord> = {
  id: 'string',
  state: 'string',
  createdAt: 'string',
  updatedAt: 'string',
  createdBy: 'string',
  branch: 'string',
  bundle: 'json',
  archs: 'json',
  timeoutMs: 'number',
  groupId: 'string',
  finishedAt: 'string',
};

export const buildSchema: HashSchema<BuildRecord> = {
  taskId: 'string',
  arch: 'string',
  state: 'string',
  run: 'number',
  jobId: 'string',
  attempt: 'number',
  builder: 'string',
  attemptKeyHash: 'string',
  cancelRequested: 'boolean',
  queuedAt: 'string',
  startedAt: 'string',
  startedAtMs: 'number',
  finishedAt: 'string',
  reason: 'string',
  failureClass: 'string',
  artifacts: 'json',
  phases: 'json',
  resources: 'json',
};

export interface TransitionRequest {
  taskId: string;
  arch: string;
  /** Every arch of the task, so the script can derive the task's state. */
  archs: string[];
  from?: BuildState[];
  to?: BuildState;
  /** Fencing: the build's attempt must equal `equals`, or be below `below`. */
  attempt?: { equals: number } | { below: number };
  refuseIfCancelRequested?: boolean;
  /** A worker claiming the build: the attempt goes up by one (and fences every earlier attempt). */
  incrementAttempt?: boolean;
  set?: Partial<BuildRecord>;
  unset?: Array<keyof BuildRecord & string>;
}

export interface TransitionOutcome {
  done: boolean;
  /** Refused because a cancel was requested (only with refuseIfCancelRequested). */
  cancelRequested: boolean;
  /** The build's state after the call (before it, when refused); '' when there is no such build. */
  state: BuildState | '';
  attempt: number;
  taskState: TaskState | '';
  /** The build's state and builder before the call. */
  previousState: BuildState | '';
  previousBuilder: string;
}

const eventCap = 10_000;

function attemptRule(rule: TransitionRequest['attempt']): string {
  if (!rule) return '';
  return 'equals' in rule ? `=${rule.equals}` : `<${rule.below}`;
}

function decodeTask(hash: Record<string, string>): TaskRecord | undefined {
  if (!hash.id) return undefined;
  const t = decodeFields(taskSchema, hash);
  return { archs: [], timeoutMs: 0, ...t } as TaskRecord;
}

function decodeBuild(hash: Record<string, string>): BuildRecord | undefined {
  if (!hash.state) return undefined;
  const b = decodeFields(buildSchema, hash);
  return { attempt: 0, cancelRequested: false, artifacts: [], ...b } as BuildRecord;
}

/** Task and build records in Redis. The Redis client is the caller's. */
export class FarmStore {
  /** `allocateTaskId`: how ids are handed out (the coordinator checks the farm identity first); default INCR. */
  constructor(
    readonly redis: Redis,
    private readonly allocateTaskId?: () => Promise<number>,
  ) {}

  async nextTaskId(): Promise<string> {
    return String(this.allocateTaskId ? await this.allocateTaskId() : await this.redis.incr(farmKeys.taskSeq));
  }

  async createTask(task: TaskRecord): Promise<void> {
    await this.redis
      .multi()
      .hset(farmKeys.task(task.id), encodeFields(taskSchema, task))
      .zadd(farmKeys.tasks, Number(task.id), task.id)
      .xadd(
        farmKeys.events,
        'MAXLEN',
        '~',
        eventCap,
        '*',
        'type',
        'task',
        'taskId',
        task.id,
        'state',
        task.state,
        'from',
        '',
        'at',
        task.createdAt,
      )
      .exec();
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    return decodeTask(await this.redis.hgetall(farmKeys.task(id)));
  }

  async getTasks(ids: string[]): Promise<Array<TaskRecord | undefined>> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(farmKeys.task(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([, hash]) => decodeTask((hash ?? {}) as Record<string, string>));
  }

  /** Sets task fields; only for fields no script derives (not `state`). */
  async updateTask(
    id: string,
    fields: Partial<TaskRecord>,
    unset: Array<keyof TaskRecord & string> = [],
  ): Promise<void> {
    const multi = this.redis.multi().hset(farmKeys.task(id), encodeFields(taskSchema, fields));
    if (unset.length > 0) multi.hdel(farmKeys.task(id), ...unset);
    await multi.exec();
  }

  async getBuild(taskId: string, arch: string): Promise<BuildRecord | undefined> {
    return decodeBuild(await this.redis.hgetall(farmKeys.build(taskId, arch)));
  }

  async getBuilds(taskId: string, archs: string[]): Promise<BuildRecord[]> {
    if (archs.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const arch of archs) pipeline.hgetall(farmKeys.build(taskId, arch));
    const replies = (await pipeline.exec()) ?? [];
    return replies.flatMap(([, hash]) => decodeBuild((hash ?? {}) as Record<string, string>) ?? []);
  }

  /** Changes one build's state (see transition-script.ts). */
  async transition(req: TransitionRequest): Promise<TransitionOutcome> {
    const set = encodeFields(buildSchema, req.set ?? {});
    const pairs = Object.entries(set).flat();
    const keys = [
      farmKeys.build(req.taskId, req.arch),
      farmKeys.task(req.taskId),
      farmKeys.activeBuilds,
      farmKeys.events,
      ...req.archs.map((a) => farmKeys.build(req.taskId, a)),
    ];
    const args = [
      (req.from ?? []).join(','),
      req.to ?? '',
      attemptRule(req.attempt),
      req.refuseIfCancelRequested ? '1' : '0',
      new Date().toISOString(),
      activeBuildMember(req.taskId, req.arch),
      req.taskId,
      req.arch,
      String(eventCap),
      req.incrementAttempt ? '1' : '0',
      String(pairs.length / 2),
      ...pairs,
      ...(req.unset ?? []),
    ];
    const reply = (await this.redis.eval(transitionScript, keys.length, ...keys, ...args)) as [
      number,
      string,
      number,
      string,
      string,
      string,
    ];
    return {
      done: reply[0] === 1,
      cancelRequested: reply[0] === -1,
      state: reply[1] as BuildState | '',
      attempt: Number(reply[2]),
      taskState: reply[3] as TaskState | '',
      previousState: reply[4] as BuildState | '',
      previousBuilder: reply[5],
    };
  }

  /**
   * Writes fresh `queued` builds and sets the task `queued`, if the task is in one
   * of `taskStates` and (when given) every replaced build in one of `buildStates`.
   */
  async queueBuilds(
    task: Pick<TaskRecord, 'id'>,
    taskStates: TaskState[],
    buildStates: BuildState[],
    taskFields: Partial<TaskRecord>,
    builds: BuildRecord[],
  ): Promise<boolean> {
    const keys = [
      farmKeys.task(task.id),
      farmKeys.activeBuilds,
      farmKeys.events,
      ...builds.map((b) => farmKeys.build(b.taskId, b.arch)),
    ];
    const perBuild = builds.flatMap((b) => [
      JSON.stringify(encodeFields(buildSchema, b)),
      activeBuildMember(b.taskId, b.arch),
      b.arch,
    ]);
    const args = [
      taskStates.join(','),
      buildStates.join(','),
      new Date().toISOString(),
      String(eventCap),
      task.id,
      JSON.stringify(encodeFields(taskSchema, taskFields)),
      ...perBuild,
    ];
    return (await this.redis.eval(queueBuildsScript, keys.length, ...keys, ...args)) === 1;
  }

  /**
   * Deletes a task that was never built (state `created`, not in a group), in one
   * script. Returns whether it was deleted and the state it was found in ('' = none).
   */
  async deleteCreatedTask(id: string): Promise<{ deleted: boolean; state: TaskState | ''; groupId: string }> {
    const keys = [farmKeys.task(id), farmKeys.tasks, farmKeys.events];
    const reply = (await this.redis.eval(
      deleteTaskScript,
      keys.length,
      ...keys,
      id,
      new Date().toISOString(),
      String(eventCap),
    )) as [number, string, string];
    return { deleted: reply[0] === 1, state: reply[1] as TaskState | '', groupId: reply[2] };
  }

  /** Task ids, newest first, below `before` (a task id; omitted = from the newest). */
  async listTaskIds(limit: number, before?: string): Promise<string[]> {
    const max = before ? `(${Number(before)}` : '+inf';
    return this.redis.zrevrangebyscore(farmKeys.tasks, max, '-inf', 'LIMIT', 0, limit);
  }

  /** Every build that is queued or running, as `{ taskId, arch }`. */
  async activeBuilds(): Promise<Array<{ taskId: string; arch: string }>> {
    const members = await this.redis.smembers(farmKeys.activeBuilds);
    return members.flatMap((m) => parseActiveBuildMember(m) ?? []);
  }
}
