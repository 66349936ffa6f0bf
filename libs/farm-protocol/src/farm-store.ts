import { AoinbError } from '@aoinb/errors';
import { decodeFields, encodeFields, type HashSchema } from './hash-codec.ts';
import { activeBuildMember, farmKeys, parseActiveBuildMember, parseLogMember, type FarmKeys } from './names.ts';
import { endLogScript, fenceScript, markPublishedScript } from './build-fence-scripts.ts';
import {
  eventCap,
  runTransition,
  type Refusal,
  type TransitionOutcome,
  type TransitionRequest,
} from './build-transition.ts';
import { createTaskScript } from './create-task-script.ts';
import { deleteTaskScript } from './delete-task-script.ts';
import { queueBuildsScript } from './queue-builds-script.ts';
import type { BuildRecord, BuildState, TaskRecord, TaskState } from './records.ts';
import { taskUpdateScript } from './task-update-script.ts';
import { createdOrThrow } from './store-replies.ts';
import type { RedisClient } from './redis-options.ts';

/** The answer to an Idempotency-Key, recorded with the create it answers (see createTask). */
export interface IdempotentAnswer {
  /** The key's record (under the farm's prefix). */
  key: string;
  /** Who reserved the key: the create happens only while the reservation is still theirs. */
  owner: string;
  /** The record that replaces the reservation (JSON: the answer a replay gets). */
  record: string;
  ttlSeconds: number;
}

/** Task fields a guarded update may set: never `state` (the scripts derive it) nor the id. */
export type TaskFields = Partial<Pick<TaskRecord, 'branch' | 'bundle' | 'archs' | 'timeoutMs' | 'network'>>;

/** What a guarded task update found: done, or the state that refused it ('' = no such task). */
export interface TaskUpdateOutcome {
  done: boolean;
  state: TaskState | '';
  groupId: string;
}

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
  network: 'boolean',
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
  needs: 'json',
  learned: 'json',
  startupMs: 'number',
};

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
  /**
   * `keys`: the farm's key names (its `[redis] prefix`). `allocateTaskId`: how ids are handed out (the
   * coordinator checks the farm identity first); default INCR.
   */
  constructor(
    readonly redis: RedisClient,
    readonly keys: FarmKeys = farmKeys,
    private readonly allocateTaskId?: () => Promise<number>,
  ) {}

  async nextTaskId(): Promise<string> {
    return String(this.allocateTaskId ? await this.allocateTaskId() : await this.redis.incr(this.keys.taskSeq));
  }

  /**
   * Creates a task; with `answer`, records the answer to its Idempotency-Key in
   * the same script (create-task-script.ts). False (nothing created) when that
   * key's reservation is no longer `answer.owner`'s.
   */
  async createTask(task: TaskRecord, answer?: IdempotentAnswer): Promise<boolean> {
    // The task list is ordered by the id as a number: another id would fail the script after its first write.
    if (!/^[1-9][0-9]*$/.test(task.id))
      throw new AoinbError(
        'STORE_COMMAND_FAILED',
        `creating task ${task.id}: the id is not a whole number; nothing was written`,
      );
    const fields = Object.entries(encodeFields(taskSchema, task)).flat();
    const keys = [this.keys.task(task.id), this.keys.tasks, this.keys.events, ...(answer ? [answer.key] : [])];
    const args = [
      task.id,
      task.state,
      task.createdAt,
      String(eventCap),
      answer?.owner ?? '',
      answer?.record ?? '',
      String(answer?.ttlSeconds ?? 0),
      ...fields,
    ];
    return createdOrThrow(await this.redis.eval(createTaskScript, keys.length, ...keys, ...args), task.id);
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    return decodeTask(await this.redis.hgetall(this.keys.task(id)));
  }

  async getTasks(ids: string[]): Promise<Array<TaskRecord | undefined>> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.task(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([, hash]) => decodeTask((hash ?? {}) as Record<string, string>));
  }

  /**
   * The guarded write of a task's own fields (task-update-script.ts): only while
   * the task is in one of `states` and not a group member; `to` also moves the
   * task itself (`created` -> `cancelled` for a task cancelled before it was built).
   */
  async updateTask(id: string, states: TaskState[], fields: TaskFields, to?: TaskState): Promise<TaskUpdateOutcome> {
    const keys = [this.keys.task(id), this.keys.events];
    const args = [states.join(','), to ?? '', new Date().toISOString(), id, String(eventCap)];
    const json = JSON.stringify(encodeFields(taskSchema, fields));
    const reply = (await this.redis.eval(taskUpdateScript, keys.length, ...keys, ...args, json)) as [
      number,
      string,
      string,
    ];
    return { done: reply[0] === 1, state: reply[1] as TaskState | '', groupId: reply[2] };
  }

  async getBuild(taskId: string, arch: string): Promise<BuildRecord | undefined> {
    return decodeBuild(await this.redis.hgetall(this.keys.build(taskId, arch)));
  }

  async getBuilds(taskId: string, archs: string[]): Promise<BuildRecord[]> {
    if (archs.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const arch of archs) pipeline.hgetall(this.keys.build(taskId, arch));
    const replies = (await pipeline.exec()) ?? [];
    return replies.flatMap(([, hash]) => decodeBuild((hash ?? {}) as Record<string, string>) ?? []);
  }

  /** Changes one build's state, fenced by run and attempt (see transition-script.ts). */
  async transition(req: TransitionRequest): Promise<TransitionOutcome> {
    return runTransition(this.redis, this.keys, buildSchema, req);
  }

  /** Whether a running build is at this run and attempt and holds this key hash ('' = yes; see fenceScript). */
  async fence(
    taskId: string,
    arch: string,
    at: { run: number; attempt: number; attemptKeyHash: string },
  ): Promise<{ refusal: Refusal; state: BuildState | ''; run: number; attempt: number }> {
    const reply = (await this.redis.eval(
      fenceScript,
      1,
      this.keys.build(taskId, arch),
      String(at.run),
      String(at.attempt),
      at.attemptKeyHash,
    )) as [string, string, number, number];
    return { refusal: reply[0] as Refusal, state: reply[1] as BuildState | '', run: reply[2], attempt: reply[3] };
  }

  /**
   * Records the repository a succeeded build's debs reached; false when that run and attempt is no longer the build.
   */
  async markPublished(
    build: Pick<BuildRecord, 'taskId' | 'arch' | 'run' | 'attempt'>,
    branch: string,
  ): Promise<boolean> {
    const key = this.keys.build(build.taskId, build.arch);
    const args = [String(build.run), String(build.attempt), branch];
    return (await this.redis.eval(markPublishedScript, 1, key, ...args)) === 1;
  }

  /** Ends a run's log unless it has an end already (the net under the transition script); true when it wrote one. */
  async endLogIfOpen(
    taskId: string,
    arch: string,
    run: number,
    state: string,
    reason = '',
    note = '',
  ): Promise<boolean> {
    const key = this.keys.log(taskId, arch, run);
    return (await this.redis.eval(endLogScript, 1, key, state, reason, note)) === 1;
  }

  /** Logs that ended but are not archived yet. */
  async unarchivedLogs(): Promise<Array<{ taskId: string; arch: string; run: number }>> {
    const members = await this.redis.smembers(this.keys.unarchivedLogs);
    return members.flatMap((m) => parseLogMember(m) ?? []);
  }

  /**
   * Writes fresh `queued` builds and sets the task `queued`, if the task is in one
   * of `taskStates`, (when given) every replaced build in one of `buildStates` and
   * on a lower run, and no bundle upload is under way ('uploading').
   */
  async queueBuilds(
    task: Pick<TaskRecord, 'id'>,
    taskStates: TaskState[],
    buildStates: BuildState[],
    taskFields: TaskFields,
    builds: BuildRecord[],
  ): Promise<'done' | 'refused' | 'uploading'> {
    const keys = [
      this.keys.task(task.id),
      this.keys.activeBuilds,
      this.keys.events,
      this.keys.bundleUploadLock(task.id),
      ...builds.map((b) => this.keys.build(b.taskId, b.arch)),
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
    const reply = await this.redis.eval(queueBuildsScript, keys.length, ...keys, ...args);
    return reply === 1 ? 'done' : reply === -1 ? 'uploading' : 'refused';
  }

  /**
   * Deletes a task that was never built (state `created`, not in a group), in one
   * script. Returns whether it was deleted and the state it was found in ('' = none).
   */
  async deleteCreatedTask(id: string): Promise<{ deleted: boolean; state: TaskState | ''; groupId: string }> {
    const keys = [this.keys.task(id), this.keys.tasks, this.keys.events];
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
    return this.redis.zrevrangebyscore(this.keys.tasks, max, '-inf', 'LIMIT', 0, limit);
  }

  /** Every build that is queued or running, as `{ taskId, arch }`. */
  async activeBuilds(): Promise<Array<{ taskId: string; arch: string }>> {
    const members = await this.redis.smembers(this.keys.activeBuilds);
    return members.flatMap((m) => parseActiveBuildMember(m) ?? []);
  }
}
