import { activeBuildMember, farmKeys, type FarmKeys } from './names.ts';
import type { TaskState } from './records.ts';
import { deleteFinishedTaskScript, deleteGroupScript, forgetBuildersScript, leaseScript } from './retention-scripts.ts';
import type { RedisClient } from './redis-options.ts';

const eventCap = 10_000;

export interface TaskDeletion {
  taskId: string;
  /** The group the task must belong to ('' = none). */
  groupId: string;
  states: TaskState[];
  /** Each build the caller saw, at its run: every run's log stream goes too. */
  builds: Array<{ arch: string; run: number }>;
  /** Only when it finished (a created task: was created) before this time. */
  finishedBefore?: Date;
}

export interface DeletionOutcome {
  /** `deleted`; `refused` (see state); `changed`: a build moved on meanwhile, read it again. */
  result: 'deleted' | 'refused' | 'changed';
  /** The state it was found in; '' when there is no such record. */
  state: string;
  groupId: string;
}

export interface PendingDeletion {
  kind: 'task' | 'group';
  id: string;
  /** For a group: its member tasks. */
  taskIds: string[];
}

function outcome(code: number): DeletionOutcome['result'] {
  if (code === 1) return 'deleted';
  return code === -1 ? 'changed' : 'refused';
}

/** The deletions of retention (the pruner, `DELETE /task/:id`, `DELETE /group/:id`), each one guarded script. */
export class RetentionStore {
  /** `keys`: the farm's key names (its `[redis] prefix`). */
  constructor(
    readonly redis: RedisClient,
    readonly keys: FarmKeys = farmKeys,
  ) {}

  async deleteTask(d: TaskDeletion): Promise<DeletionOutcome> {
    const logs = d.builds.flatMap((b) =>
      Array.from({ length: b.run }, (_, i) => this.keys.log(d.taskId, b.arch, i + 1)),
    );
    const keys = [
      this.keys.task(d.taskId),
      this.keys.tasks,
      this.keys.events,
      this.keys.retentionPending,
      this.keys.activeBuilds,
      ...d.builds.map((b) => this.keys.build(d.taskId, b.arch)),
      ...logs,
    ];
    const args = [
      d.taskId,
      new Date().toISOString(),
      String(eventCap),
      d.groupId,
      d.states.join(','),
      d.finishedBefore?.toISOString() ?? '',
      String(d.builds.length),
      ...d.builds.flatMap((b) => [b.arch, String(b.run), activeBuildMember(d.taskId, b.arch)]),
    ];
    const reply = (await this.redis.eval(deleteFinishedTaskScript, keys.length, ...keys, ...args)) as [
      number,
      string,
      string,
    ];
    return { result: outcome(reply[0]), state: reply[1], groupId: reply[2] };
  }

  /** Deletes a final group's records (not its member tasks: see deleteTask). */
  async deleteGroup(
    groupId: string,
    memberTaskIds: string[],
    states: string[],
    finishedBefore?: Date,
  ): Promise<DeletionOutcome & { taskIds: string[] }> {
    const keys = [
      this.keys.group(groupId),
      this.keys.groupMembers(groupId),
      this.keys.groups,
      this.keys.activeGroups,
      this.keys.events,
      this.keys.retentionPending,
      ...memberTaskIds.map((id) => this.keys.task(id)),
    ];
    const args = [
      groupId,
      new Date().toISOString(),
      String(eventCap),
      states.join(','),
      finishedBefore?.toISOString() ?? '',
    ];
    const reply = (await this.redis.eval(deleteGroupScript, keys.length, ...keys, ...args)) as [number, string, string];
    return { result: outcome(reply[0]), state: reply[1], groupId, taskIds: JSON.parse(reply[2]) as string[] };
  }

  /** Deletions whose files (or, for a group, member tasks) are not gone yet. */
  async pending(): Promise<PendingDeletion[]> {
    const hash = await this.redis.hgetall(this.keys.retentionPending);
    return Object.entries(hash).flatMap(([field, value]): PendingDeletion[] => {
      const [kind, id] = field.split(':') as [string, string];
      if (kind === 'task') return [{ kind, id, taskIds: [] }];
      if (kind === 'group') return [{ kind, id, taskIds: JSON.parse(value) as string[] }];
      return [];
    });
  }

  async donePending(kind: PendingDeletion['kind'], id: string): Promise<void> {
    await this.redis.hdel(this.keys.retentionPending, `${kind}:${id}`);
  }

  /** Forgets builders last seen before `cutoffMs` whose heartbeat record has expired. */
  async forgetBuilders(cutoffMs: number): Promise<number> {
    const ids = await this.redis.zrangebyscore(this.keys.builders, '-inf', `(${cutoffMs}`);
    if (ids.length === 0) return 0;
    const keys = [this.keys.builders, ...ids.map((id) => this.keys.builder(id))];
    return (await this.redis.eval(forgetBuildersScript, keys.length, ...keys, String(cutoffMs), ...ids)) as number;
  }

  /** Takes the pruner's lease for `ttlMs` unless another holder has it. */
  async acquireLease(holder: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.retentionLease, holder, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Extends a lease `holder` still has; false once it was lost (expired and taken). */
  async renewLease(holder: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(leaseScript, 1, this.keys.retentionLease, holder, String(ttlMs))) === 1;
  }

  async releaseLease(holder: string): Promise<void> {
    await this.redis.eval(leaseScript, 1, this.keys.retentionLease, holder, '0');
  }
}
