import type { RedisClient } from './redis-options.ts';
import { farmPrefix } from './names.ts';

/**
 * Lua: takes (or, for its holder, extends) lease KEYS[1] for ARGV[2] ms on behalf
 * of ARGV[1]; with ARGV[3] = 'renew' only extends. With ARGV[2] = '0' the holder
 * releases it. Returns 1 when ARGV[1] holds it afterwards (or released it).
 */
const leaseScript = `
local current = redis.call('GET', KEYS[1])
if ARGV[2] == '0' then
  if current == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
  return 0
end
if current == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if current or ARGV[3] == 'renew' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** Where lease `name` lives under `prefix` (`{aoinb}:retention:lease` is the pruner's, as it always was). */
export function leaseKey(name: string, prefix: string = farmPrefix): string {
  return `${prefix}:${name}:lease`;
}

/**
 * Named leases on the farm's background work (the pruner, reconcile, the
 * notifier): a Redis string holding its holder's id, with a TTL its holder
 * renews. Two coordinators never run the same work at once, and when one dies
 * its leases expire and the other takes them.
 */
export class LeaseStore {
  constructor(
    readonly redis: RedisClient,
    readonly prefix: string = farmPrefix,
  ) {}

  /** Takes lease `name` for `ttlMs` unless another holder has it; extends it when `holder` has it already. */
  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(leaseScript, 1, leaseKey(name, this.prefix), holder, String(ttlMs), 'take')) === 1;
  }

  /** Extends a lease `holder` still has; false once it was lost (expired, perhaps taken). */
  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(leaseScript, 1, leaseKey(name, this.prefix), holder, String(ttlMs), 'renew')) === 1;
  }

  /** Gives the lease up if `holder` has it (another holder's is left alone). */
  async release(name: string, holder: string): Promise<void> {
    await this.redis.eval(leaseScript, 1, leaseKey(name, this.prefix), holder, '0', '');
  }

  /** Who holds lease `name` now, if anyone. */
  async holder(name: string): Promise<string | undefined> {
    return (await this.redis.get(leaseKey(name, this.prefix))) ?? undefined;
  }
}
