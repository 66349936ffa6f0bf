import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@aoinb/logging';
import { readFarmIdentity, sleep, type BuilderFacts, type RedisClient } from '@aoinb/farm-protocol';
import { diskFree } from './host-facts.ts';

export interface HostGuardOptions {
  redis: RedisClient;
  logger: Logger;
  /** The farm identity this worker joined at start, and its key (under the farm's `[redis] prefix`). */
  farmId: string;
  identityKey: string;
  workDir: string;
  /** The agent's per-build scratch folders; those of builds no longer running are leftovers. */
  jobsDir: string;
  /** Below this many free bytes in the work dir the worker takes no jobs (0: never). */
  minFreeDiskBytes: number;
  /** Scratch folder names (under jobsDir) of the builds running now. */
  runningDirs(): Set<string>;
}

/**
 * Why this host should take no jobs right now, checked with every heartbeat:
 * Redis no longer holds the farm identity the worker joined (Redis lost its
 * data, or is another farm's), or the work dir is nearly full even after the
 * worker removed its own leftovers. The reason goes into the heartbeat.
 */
export class HostGuard {
  private identityReason: string | undefined;

  constructor(private readonly options: HostGuardOptions) {}

  /** True while Redis holds another identity than the one joined (or none). */
  get identityLost(): boolean {
    return this.identityReason !== undefined;
  }

  async check(facts: BuilderFacts): Promise<string | undefined> {
    const reasons: string[] = [];
    const identity = await readFarmIdentity(this.options.redis, this.options.identityKey);
    const { farmId } = this.options;
    this.identityReason = !identity
      ? `Redis holds no farm identity (this worker joined farm ${farmId}): it lost its data; waiting for an operator`
      : identity.id !== farmId
        ? `Redis holds farm identity ${identity.id}, this worker joined farm ${farmId}: restart the worker to join it`
        : undefined;
    if (this.identityReason) reasons.push(this.identityReason);
    const disk = await this.diskReason(facts);
    if (disk) reasons.push(disk);
    return reasons.length > 0 ? reasons.join('; ') : undefined;
  }

  private async diskReason(facts: BuilderFacts): Promise<string | undefined> {
    const min = this.options.minFreeDiskBytes;
    if (min <= 0 || facts.diskFreeBytes >= min) return undefined;
    const removed = await this.removeLeftovers();
    const free = removed > 0 ? await diskFree(this.options.workDir) : facts.diskFreeBytes;
    facts.diskFreeBytes = free;
    if (free >= min) return undefined;
    const mib = (bytes: number): number => Math.floor(bytes / 1024 / 1024);
    return `work dir ${this.options.workDir} has ${mib(free)} MiB free, below worker.min_free_disk_mib = ${mib(min)}`;
  }

  /** Scratch folders of builds that no longer run (a crash mid-build); returns how many went. */
  async removeLeftovers(): Promise<number> {
    const running = this.options.runningDirs();
    const entries = await readdir(this.options.jobsDir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of entries) {
      if (running.has(name)) continue;
      await rm(path.join(this.options.jobsDir, name), { recursive: true, force: true }).then(
        () => removed++,
        (error: Error) => this.options.logger.warn({ err: error.message, name }, 'leftover not removed'),
      );
    }
    if (removed > 0) this.options.logger.warn({ removed }, 'work dir nearly full: removed leftovers of dead builds');
    return removed;
  }
}

/**
 * The identity a worker joins: the one in Redis now. A Redis without one (a
 * coordinator not started yet, or Redis lost its data) is waited for, since
 * joining a Redis the coordinator refuses would only build for nobody.
 */
export async function joinFarm(
  redis: RedisClient,
  identityKey: string,
  logger: Logger,
  signal?: AbortSignal,
): Promise<string> {
  for (let waited = 0; ; waited++) {
    const identity = await readFarmIdentity(redis, identityKey);
    if (identity) return identity.id;
    if (signal?.aborted) throw new Error('stopped while waiting for the farm identity');
    if (waited % 30 === 0) logger.warn('Redis holds no farm identity yet: waiting for the coordinator to start');
    await sleep(1000, signal);
  }
}
