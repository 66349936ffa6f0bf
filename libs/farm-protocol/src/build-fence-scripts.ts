import { luaNowMsFn } from './lua-clock.ts';

/**
 * Lua: the fence an upload or a report passes before any byte is stored or published: the build is running
 * the named run and attempt, and holds the presented key's hash. Atomic (one script), so the answer is one
 * consistent view of the record. With a settle lease (a report about to publish), it also marks the build
 * *settling* for that attempt until Redis's clock passes the lease: transition-script.ts then refuses a claim,
 * a requeue or a failure of that attempt not made with its key (refusal `settling`), so a job the stalled
 * checker re-queued meanwhile cannot build again what the report is publishing. The report's final
 * transition clears the mark; a coordinator that died mid-report lets it lapse.
 *
 * KEYS: 1 build
 * ARGV: 1 run, 2 attempt, 3 attempt key hash, 4 settle lease in ms ('' or '0' = read only)
 * Returns {refusal, state, run, attempt}: refusal '' (current) | 'gone' | 'run' | 'attempt' | 'key' | 'state'.
 */
export const fenceScript = `${luaNowMsFn}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'gone', '', 0, 0} end
local run = tonumber(redis.call('HGET', KEYS[1], 'run') or '0')
local attempt = tonumber(redis.call('HGET', KEYS[1], 'attempt') or '0')
local function answer(why) return {why, state, run, attempt} end
if run ~= tonumber(ARGV[1]) then return answer('run') end
if attempt ~= tonumber(ARGV[2]) then return answer('attempt') end
if redis.call('HGET', KEYS[1], 'attemptKeyHash') ~= ARGV[3] then return answer('key') end
if state ~= 'running' then return answer('state') end
local lease = tonumber(ARGV[4] or '') or 0
if lease > 0 then redis.call('HSET', KEYS[1], 'settleAttempt', attempt, 'settleUntilMs', nowMs() + lease) end
return answer('')
`;

/**
 * Lua: records where a succeeded build's debs were published (an atomic
 * group's one publish at its end), fenced on the run and attempt that built them.
 *
 * KEYS: 1 build
 * ARGV: 1 run, 2 attempt, 3 repository (branch) name
 * Returns 1 when recorded, 0 when the build is no longer that succeeded run and attempt.
 */
export const markPublishedScript = `
if redis.call('HGET', KEYS[1], 'state') ~= 'succeeded' then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'run') or '0') ~= tonumber(ARGV[1]) then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'attempt') or '0') ~= tonumber(ARGV[2]) then return 0 end
local artifacts = cjson.decode(redis.call('HGET', KEYS[1], 'artifacts') or '[]')
for _, a in ipairs(artifacts) do a.publishedTo = ARGV[3] end
redis.call('HSET', KEYS[1], 'artifacts', #artifacts > 0 and cjson.encode(artifacts) or '[]')
return 1
`;

/**
 * Lua: ends a log that has no end (the net under transition-script.ts, which
 * ends a log with the final state): appends the `eof` entry unless the last
 * entry already is one.
 *
 * KEYS: 1 log stream
 * ARGV: 1 final state, 2 reason, 3 note line ('' = none)
 * Returns 1 when it appended the end, 0 when the log had one.
 */
export const endLogScript = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if last[1] then
  local fields = last[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 'eof' then return 0 end
  end
end
if ARGV[3] ~= '' then redis.call('XADD', KEYS[1], '*', 'l', '[aoinb] ' .. ARGV[3]) end
redis.call('XADD', KEYS[1], '*', 'eof', ARGV[1], 'reason', ARGV[2])
return 1
`;
