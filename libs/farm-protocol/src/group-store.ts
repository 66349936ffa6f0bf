import { decodeFields, encodeFields, type HashSchema } from './hash-codec.ts';
import { buildSchema } from './farm-store.ts';
import { memberKey } from './group-names.ts';
import type { GroupMemberPlan, GroupRecord, GroupState, MemberPhase, MemberRecord } from './group-records.ts';
import {
  createGroupScript,
  groupTransitionScript,
  recordDurationScript,
  releaseMemberScript,
  requestGroupCancelScript,
  setMemberScript,
  startRoundScript,
} from './group-scripts.ts';
import { activeBuildMember, farmKeys, type FarmKeys } from './names.ts';
import type { BuildRecord } from './records.ts';
import type { RedisClient } from './redis-options.ts';

export const groupSchema: HashSchema<GroupRecord> = {
  id: 'string',
  state: 'string',
  branch: 'string',
  mode: 'string',
  publish: 'string',
  taskIds: 'json',
  archs: 'json',
  round: 'number',
  createdBy: 'string',
  createdAt: 'string',
  updatedAt: 'string',
  finishedAt: 'string',
  cancelRequested: 'boolean',
  reason: 'string',
  publishedAt: 'string',
};

const eventCap = 10_000;
/** How many earlier durations of a package are kept per arch. */
const durationsKept = 5;

export interface NewGroup {
  record: GroupRecord;
  plan: GroupMemberPlan[];
  members: Record<string, MemberRecord>;
  /** Per task: the archs it builds in the group. */
  tasks: Array<{ id: string; archs: string[] }>;
  timeoutMs: number;
}

export interface ReleaseRequest {
  groupId: string;
  round: number;
  /** The member record after the release (phase `released`). */
  member: MemberRecord;
  build: BuildRecord;
  /** Every arch of the task (its state is derived from all of them). */
  taskArchs: string[];
}

/** Group records in Redis: `<prefix>:group:<id>` (+ `plan`), the member hash, the lists. */
export class GroupStore {
  /**
   * `keys`: the farm's key names (its `[redis] prefix`). `allocateGroupId`: how ids are handed out (the
   * coordinator's INCR checks the farm identity in the same script, as for task ids); default INCR.
   */
  constructor(
    readonly redis: RedisClient,
    readonly keys: FarmKeys = farmKeys,
    private readonly allocateGroupId?: () => Promise<number>,
  ) {}

  async nextGroupId(): Promise<string> {
    return String(this.allocateGroupId ? await this.allocateGroupId() : await this.redis.incr(this.keys.groupSeq));
  }

  /** Writes the group and claims its tasks atomically; returns the problem with the first task that cannot join. */
  async createGroup(g: NewGroup): Promise<{ ok: true } | { ok: false; taskId: string; problem: string }> {
    const id = g.record.id;
    const fields = { ...encodeFields(groupSchema, g.record), plan: JSON.stringify(g.plan) };
    const members = Object.fromEntries(Object.entries(g.members).map(([k, m]) => [k, JSON.stringify(m)]));
    const keys = [
      this.keys.group(id),
      this.keys.groupMembers(id),
      this.keys.groups,
      this.keys.activeGroups,
      this.keys.events,
      ...g.tasks.map((t) => this.keys.task(t.id)),
    ];
    const args = [
      id,
      JSON.stringify(fields),
      JSON.stringify(members),
      new Date().toISOString(),
      String(eventCap),
      g.record.branch,
      String(g.timeoutMs),
      ...g.tasks.map((t) => JSON.stringify(t.archs)),
    ];
    const reply = (await this.redis.eval(createGroupScript, keys.length, ...keys, ...args)) as [
      number,
      string?,
      string?,
    ];
    return reply[0] === 1 ? { ok: true } : { ok: false, taskId: reply[1] ?? '', problem: reply[2] ?? 'refused' };
  }

  async getGroup(id: string): Promise<GroupRecord | undefined> {
    if (!/^\d+$/.test(id)) return undefined;
    const hash = await this.redis.hgetall(this.keys.group(id));
    if (!hash.id) return undefined;
    return { cancelRequested: false, ...decodeFields(groupSchema, hash) } as GroupRecord;
  }

  async getGroups(ids: string[]): Promise<GroupRecord[]> {
    const out: GroupRecord[] = [];
    for (const id of ids) {
      const g = await this.getGroup(id);
      if (g) out.push(g);
    }
    return out;
  }

  async getPlan(id: string): Promise<GroupMemberPlan[]> {
    const raw = await this.redis.hget(this.keys.group(id), 'plan');
    return raw ? (JSON.parse(raw) as GroupMemberPlan[]) : [];
  }

  async getMembers(id: string): Promise<Map<string, MemberRecord>> {
    const hash = await this.redis.hgetall(this.keys.groupMembers(id));
    return new Map(Object.entries(hash).map(([k, v]) => [k, JSON.parse(v) as MemberRecord]));
  }

  /** Asks for the group's cancel (see requestGroupCancelScript); false when the group is final or missing. */
  async requestCancel(id: string, reason: string): Promise<{ asked: boolean; state: string }> {
    const [asked, state] = (await this.redis.eval(
      requestGroupCancelScript,
      1,
      this.keys.group(id),
      reason,
      new Date().toISOString(),
    )) as [number, string];
    return { asked: asked === 1, state };
  }

  /**
   * The group's next round (a retry), from one of `from` and round `round`: the
   * new plan and the round's members, group `queued`. Returns the previous
   * state, or undefined when refused (another retry came first).
   */
  async startRound(
    id: string,
    from: GroupState[],
    round: number,
    plan: GroupMemberPlan[],
    members: Record<string, MemberRecord>,
  ): Promise<GroupState | undefined> {
    const keys = [this.keys.group(id), this.keys.groupMembers(id), this.keys.activeGroups, this.keys.events];
    const encoded = Object.fromEntries(Object.entries(members).map(([k, m]) => [k, JSON.stringify(m)]));
    const reply = (await this.redis.eval(
      startRoundScript,
      keys.length,
      ...keys,
      from.join(','),
      String(round),
      JSON.stringify(plan),
      JSON.stringify(encoded),
      new Date().toISOString(),
      String(eventCap),
    )) as string | null;
    return reply ? (reply as GroupState) : undefined;
  }

  /**
   * Moves the group to `to` when it is in one of `from` (any when empty), setting
   * and deleting fields, only while the group is in `round` (when given);
   * `active` says whether a restarted coordinator looks at it again.
   * Returns the previous state, or undefined when refused.
   */
  async transitionGroup(
    id: string,
    from: GroupState[],
    to: GroupState,
    active: boolean,
    set: Partial<GroupRecord> = {},
    unset: Array<keyof GroupRecord & string> = [],
    round?: number,
  ): Promise<GroupState | undefined> {
    const keys = [this.keys.group(id), this.keys.activeGroups, this.keys.events];
    const args = [
      from.join(','),
      to,
      new Date().toISOString(),
      String(eventCap),
      active ? '1' : '0',
      JSON.stringify(encodeFields(groupSchema, set)),
      round === undefined ? '' : String(round),
      ...unset,
    ];
    const reply = (await this.redis.eval(groupTransitionScript, keys.length, ...keys, ...args)) as string | null;
    return reply ? (reply as GroupState) : undefined;
  }

  /** Compare-and-set of one member: only from one of the `from` phases (and in `round`, when given). */
  async setMember(
    groupId: string,
    key: string,
    from: MemberPhase[],
    round: number | undefined,
    next: MemberRecord,
  ): Promise<boolean> {
    const reply = await this.redis.eval(
      setMemberScript,
      1,
      this.keys.groupMembers(groupId),
      key,
      from.join(','),
      round === undefined ? '' : String(round),
      JSON.stringify(next),
    );
    return reply === 1;
  }

  /** Waiting -> released, with the member's build written `queued` (see releaseMemberScript). */
  async releaseMember(req: ReleaseRequest): Promise<boolean> {
    const { build } = req;
    const key = memberKey(build.taskId, build.arch);
    const keys = [
      this.keys.groupMembers(req.groupId),
      this.keys.task(build.taskId),
      this.keys.build(build.taskId, build.arch),
      this.keys.activeBuilds,
      this.keys.events,
      this.keys.group(req.groupId),
      ...req.taskArchs.map((a) => this.keys.build(build.taskId, a)),
    ];
    const args = [
      key,
      String(req.round),
      JSON.stringify(req.member),
      JSON.stringify(encodeFields(buildSchema, build)),
      activeBuildMember(build.taskId, build.arch),
      build.taskId,
      build.arch,
      new Date().toISOString(),
      String(eventCap),
    ];
    return (await this.redis.eval(releaseMemberScript, keys.length, ...keys, ...args)) === 1;
  }

  /** Group ids, newest first, below `before` (omitted = from the newest). */
  async listGroupIds(limit: number, before?: string): Promise<string[]> {
    const max = before ? `(${Number(before)}` : '+inf';
    return this.redis.zrevrangebyscore(this.keys.groups, max, '-inf', 'LIMIT', 0, limit);
  }

  async activeGroupIds(): Promise<string[]> {
    return this.redis.smembers(this.keys.activeGroups);
  }

  /** The group a task belongs to, if any. */
  async groupOfTask(taskId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.task(taskId), 'groupId')) || undefined;
  }

  /** Records the duration of a successful build of `pkg` on `arch` (the last few are kept). */
  async recordDuration(pkg: string, arch: string, seconds: number): Promise<void> {
    await this.redis.eval(
      recordDurationScript,
      1,
      this.keys.buildDurations,
      `${pkg}/${arch}`,
      String(Math.max(0, Math.round(seconds * 10) / 10)),
      String(durationsKept),
    );
  }

  /** Earlier durations per `<package>/<arch>` (only those known). */
  async durations(keys: string[]): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    if (keys.length === 0) return out;
    const values = await this.redis.hmget(this.keys.buildDurations, ...keys);
    keys.forEach((k, i) => {
      const raw = values[i];
      if (raw) out.set(k, JSON.parse(raw) as number[]);
    });
    return out;
  }
}
