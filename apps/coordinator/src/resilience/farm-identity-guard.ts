import { AoinbError } from '@aoinb/errors';
import type { Logger } from '@aoinb/logging';
import {
  adoptFarmIdentity,
  claimFarmIdentity,
  farmKeys,
  newFarmIdentity,
  nextIdOfFarm,
  readFarmIdentity,
  readFarmIdentityRaw,
  runWithRestart,
  type FarmKeys,
  type RedisClient,
} from '@aoinb/farm-protocol';
import { identityFilePath, readIdentityFile, writeIdentityFile, type IdentityFileRecord } from './identity-file.ts';

export type IdentityState = { ok: true } | { ok: false; reason: string; since: string };

/**
 * Holds this coordinator to one farm identity (libs/farm-protocol farm-identity.ts):
 * the one on its disk, which Redis must hold too. While it does not, every
 * changing request is refused, `/healthz` answers 503 with the reason and
 * `aoinb_farm_identity_ok` is 0, until Redis comes back with its data or an
 * operator adopts the empty Redis (`POST /farm/identity/adopt`, docs/operations.md).
 */
export class FarmIdentityGuard {
  private current: IdentityState = { ok: true };
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly redis: RedisClient,
    private readonly file: string,
    private readonly logger: Logger,
    private record: IdentityFileRecord,
    private readonly keys: FarmKeys,
  ) {}

  /** At start: adopts Redis's identity (or writes a new one, SET NX) when the disk has none, then checks. */
  static async open(
    redis: RedisClient,
    storageDir: string,
    logger: Logger,
    keys: FarmKeys = farmKeys,
  ): Promise<FarmIdentityGuard> {
    const file = identityFilePath(storageDir);
    let record = await readIdentityFile(file);
    if (!record) {
      const identity = await claimFarmIdentity(redis, newFarmIdentity(), keys.farmIdentity);
      const [task, group] = await redis.mget(keys.taskSeq, keys.groupSeq);
      record = {
        id: identity.id,
        createdAt: identity.createdAt,
        highestTaskId: Number(task) || 0,
        highestGroupId: Number(group) || 0,
      };
      await writeIdentityFile(file, record);
      logger.info({ farmId: record.id }, 'farm identity recorded next to the storage');
    }
    const guard = new FarmIdentityGuard(redis, file, logger, record, keys);
    await guard.check();
    return guard;
  }

  get farmId(): string {
    return this.record.id;
  }

  get state(): IdentityState {
    return this.current;
  }

  /** Throws FARM_IDENTITY_LOST while the identity is not right. */
  assertOk(): void {
    if (!this.current.ok) throw new AoinbError('FARM_IDENTITY_LOST', this.current.reason);
  }

  /** Compares Redis with the disk record; a Redis that cannot be reached leaves the state as it was. */
  async check(): Promise<IdentityState> {
    // The highest ids as they were before the counters are read: ids handed out while the reads are
    // on their way (concurrent requests) are above what the MGET saw, and must not read as a rollback.
    const { id, highestTaskId, highestGroupId } = this.record;
    const [identity, counters] = await Promise.all([
      readFarmIdentity(this.redis, this.keys.farmIdentity),
      this.redis.mget(this.keys.taskSeq, this.keys.groupSeq),
    ]);
    const [task, group] = counters.map((c) => Number(c) || 0) as [number, number];
    let reason: string | undefined;
    if (!identity)
      reason =
        `Redis holds no farm identity (this farm is ${id}): it restarted without its data, ` + 'or it is another Redis';
    else if (identity.id !== id)
      reason =
        `Redis holds farm identity ${identity.id}, but this coordinator's storage belongs to farm ${id}: ` +
        `is redis.url right?`;
    else if (task < highestTaskId || group < highestGroupId)
      reason =
        `Redis's id counters (task ${task}, group ${group}) are below the highest ids this farm handed out ` +
        `(task ${highestTaskId}, group ${highestGroupId}): RedisClient was restored from an older copy`;
    this.setState(reason);
    if (!reason && (task > highestTaskId || group > highestGroupId)) this.noteIds(task, group);
    return this.current;
  }

  private setState(reason: string | undefined): void {
    if (!reason) {
      if (!this.current.ok) this.logger.warn({ farmId: this.farmId }, 'farm identity is right again: taking work');
      this.current = { ok: true };
    } else if (this.current.ok || this.current.reason !== reason) {
      this.logger.error({ farmId: this.farmId, reason }, 'farm identity lost: refusing every change');
      this.current = { ok: false, reason, since: new Date().toISOString() };
    }
  }

  /** Task ids come from here: INCR only while Redis holds this farm's identity, and the disk learns each one. */
  readonly allocateTaskId = async (): Promise<number> => {
    this.assertOk();
    try {
      const id = await nextIdOfFarm(this.redis, this.keys.taskSeq, this.farmId, this.keys.farmIdentity);
      this.noteIds(id, 0);
      return id;
    } catch (error) {
      if (error instanceof AoinbError && error.code === 'FARM_IDENTITY_LOST') await this.check().catch(() => undefined);
      throw error;
    }
  };

  /** Group ids likewise: a Redis that lost its data must not hand out group 1 again. */
  readonly allocateGroupId = async (): Promise<number> => {
    this.assertOk();
    try {
      const id = await nextIdOfFarm(this.redis, this.keys.groupSeq, this.farmId, this.keys.farmIdentity);
      this.noteIds(0, id);
      return id;
    } catch (error) {
      if (error instanceof AoinbError && error.code === 'FARM_IDENTITY_LOST') await this.check().catch(() => undefined);
      throw error;
    }
  };

  /** Records the highest ids on disk (one write at a time, the latest values win). */
  private noteIds(task: number, group: number): void {
    const next = {
      ...this.record,
      highestTaskId: Math.max(this.record.highestTaskId, task),
      highestGroupId: Math.max(this.record.highestGroupId, group),
    };
    this.record = next;
    this.writing = this.writing
      .then(() => (this.record === next ? writeIdentityFile(this.file, next) : undefined))
      .catch((error: Error) => this.logger.error({ err: error.message }, 'farm identity file could not be written'));
  }

  /**
   * The operator's recovery after Redis lost its data for good: this farm's
   * identity goes into the (empty) Redis and its counters are raised to the
   * highest ids handed out, so no id is used twice. Refused while the identity
   * is right, and when Redis holds another farm's identity (fix redis.url instead).
   */
  async adopt(): Promise<void> {
    await this.check();
    if (this.current.ok) throw new AoinbError('CONFLICT', 'the farm identity is right; there is nothing to adopt');
    const raw = await readFarmIdentityRaw(this.redis, this.keys.farmIdentity);
    const other = raw === undefined ? undefined : await readFarmIdentity(this.redis, this.keys.farmIdentity);
    if (other && other.id !== this.farmId)
      throw new AoinbError(
        'CONFLICT',
        `Redis belongs to farm ${other.id}; adopting it would mix two farms (point redis.url at this farm's Redis)`,
      );
    const floors = { [this.keys.taskSeq]: this.record.highestTaskId, [this.keys.groupSeq]: this.record.highestGroupId };
    const identity = { id: this.farmId, createdAt: this.record.createdAt };
    const adopted = await adoptFarmIdentity(this.redis, identity, raw, floors, this.keys.farmIdentity);
    if (!adopted) throw new AoinbError('CONFLICT', 'Redis changed while adopting it; look again and retry');
    this.logger.warn(
      { farmId: this.farmId, taskSeq: this.record.highestTaskId, groupSeq: this.record.highestGroupId },
      'operator adopted the Redis: farm identity written, id counters raised',
    );
    await this.check();
  }

  /** Checks every `intervalMs` until the signal aborts. */
  watch(signal: AbortSignal, intervalMs: number): Promise<void> {
    return runWithRestart('farm-identity', this.logger, signal, async () => void (await this.check()), intervalMs);
  }

  async close(): Promise<void> {
    await this.writing;
  }
}
