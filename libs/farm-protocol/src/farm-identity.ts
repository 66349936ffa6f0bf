import { randomUUID } from 'node:crypto';
import { AoinbError } from '@aoinb/errors';
import { farmNames, farmPrefix } from './names.ts';
import type { RedisClient } from './redis-options.ts';

/**
 * The farm's identity: one record in Redis, written once (SET NX) by the first
 * coordinator to start. The coordinator keeps a copy next to its storage and
 * every worker remembers the one it joined; a Redis that lost its data (or is
 * another Redis) no longer has it, and they stop instead of mixing old and new
 * work (docs/operations.md, "The farm identity").
 */
export interface FarmIdentity {
  id: string;
  createdAt: string;
}

/** The identity's key under the default prefix; a farm of another `[redis] prefix` passes `keys.farmIdentity`. */
export const farmIdentityKey = farmNames(farmPrefix).farmIdentity;

// The header is part of the wire protocol: declared in the contract.
export { farmIdHeader } from '@aoinb/farm-contract/protocol';

export function newFarmIdentity(): FarmIdentity {
  return { id: randomUUID(), createdAt: new Date().toISOString() };
}

function parseIdentity(raw: string | null): FarmIdentity | undefined {
  if (raw === null) return undefined;
  try {
    const parsed = JSON.parse(raw) as Partial<FarmIdentity>;
    if (typeof parsed.id === 'string' && parsed.id) return parsed as FarmIdentity;
  } catch {
    // Falls through: an unreadable record is no identity of ours.
  }
  return { id: `unreadable:${raw.slice(0, 40)}`, createdAt: '' };
}

export async function readFarmIdentity(
  redis: RedisClient,
  key: string = farmIdentityKey,
): Promise<FarmIdentity | undefined> {
  return parseIdentity(await redis.get(key));
}

/** Writes `candidate` unless an identity exists; returns the one Redis holds afterwards. */
export async function claimFarmIdentity(
  redis: RedisClient,
  candidate: FarmIdentity,
  key: string = farmIdentityKey,
): Promise<FarmIdentity> {
  await redis.set(key, JSON.stringify(candidate), 'NX');
  return (await readFarmIdentity(redis, key)) ?? candidate;
}

const adoptScript = `
local current = redis.call('GET', KEYS[1])
if ARGV[2] == '' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
for i = 2, #KEYS do
  local floor = tonumber(ARGV[i + 1])
  if (tonumber(redis.call('GET', KEYS[i]) or '0') or 0) < floor then redis.call('SET', KEYS[i], floor) end
end
return 1
`;

/**
 * An operator's recovery: `identity` is written where Redis holds exactly
 * `expectedRaw` now (nothing, when undefined), and each id counter is raised
 * to at least its floor, so ids never go backwards. False when Redis changed
 * meanwhile.
 */
export async function adoptFarmIdentity(
  redis: RedisClient,
  identity: FarmIdentity,
  expectedRaw: string | undefined,
  counterFloors: Record<string, number>,
  identityKey: string = farmIdentityKey,
): Promise<boolean> {
  const counters = Object.entries(counterFloors);
  const keys = [identityKey, ...counters.map(([key]) => key)];
  const args = [JSON.stringify(identity), expectedRaw ?? '', ...counters.map(([, floor]) => String(floor))];
  return (await redis.eval(adoptScript, keys.length, ...keys, ...args)) === 1;
}

export async function readFarmIdentityRaw(
  redis: RedisClient,
  key: string = farmIdentityKey,
): Promise<string | undefined> {
  return (await redis.get(key)) ?? undefined;
}

const checkedIncrScript = `
local raw = redis.call('GET', KEYS[1])
if not raw then return redis.error_reply('FARM_IDENTITY_LOST no farm identity') end
local ok, identity = pcall(cjson.decode, raw)
if not ok or type(identity) ~= 'table' or identity.id ~= ARGV[1] then
  return redis.error_reply('FARM_IDENTITY_LOST another farm identity')
end
return redis.call('INCR', KEYS[2])
`;

/**
 * INCR of an id counter, only while Redis holds this farm's identity: on a
 * Redis that lost its data the counter would start again at 1 and hand out
 * ids that old workers, logs and artifacts still use.
 */
export async function nextIdOfFarm(
  redis: RedisClient,
  counterKey: string,
  farmId: string,
  identityKey: string = farmIdentityKey,
): Promise<number> {
  try {
    return Number(await redis.eval(checkedIncrScript, 2, identityKey, counterKey, farmId));
  } catch (error) {
    if (/FARM_IDENTITY_LOST/.test((error as Error).message))
      throw new AoinbError(
        'FARM_IDENTITY_LOST',
        'Redis does not hold this farm identity (restarted without its data, or another Redis): ' +
          'no ids are handed out until an operator acts (docs/operations.md)',
      );
    throw error;
  }
}
