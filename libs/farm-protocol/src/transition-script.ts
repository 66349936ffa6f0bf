import { luaAllowedFn } from './lua-allowed.ts';
import { luaNowMsFn } from './lua-clock.ts';

/**
 * The one Lua script that changes a build's state. It fences on the run (a job
 * or report of an earlier run cannot touch a newer one), the attempt and the
 * attempt key (a stale worker cannot overwrite a newer attempt), checks the
 * expected state(s) and the cancel flag, sets fields, keeps the active-build
 * set, derives the task's state from all its builds and appends farm events.
 * A final state ends the run's log in the same step (`eof` entry) and lists
 * the log for archiving, so no log is left without an end.
 *
 * KEYS: 1 build, 2 task, 3 active set, 4 event stream, 5 log stream of the run, 6 unarchived-log set,
 *       7.. every build of the task
 * ARGV: 1 allowed from-states (comma list, '' = any), 2 to-state ('' = keep), 3 run (must equal),
 *       4 attempt rule ('' | '=N' | '<N'; any other is an error reply before anything is read or changed),
 *       5 refuse when cancel requested ('1'), 6 now (ISO),
 *       7 active-set member, 8 task id, 9 arch, 10 event cap,
 *       11 increment the attempt ('1': a worker claims the build; the new attempt fences the old one),
 *       12 attempt key hash that must be stored ('' = not checked), 13 log note ('' = none),
 *       14 unarchived-log member,
 *       15 the claiming host's capacity `cores,memoryBytes,diskFreeBytes,network` ('' = not checked; network 1 when
 *          it allows network builds): refused when the build's `needs` (JSON, placement.ts) ask for more or for a
 *          network it does not allow, before anything changes (no attempt is used),
 *       16 number of field pairs N, then N pairs to set, then field names to delete
 * Returns {code, state, attempt, taskState, previousState, previousBuilder, run, refusal}:
 * code 1 done, 0 refused; refusal '' | 'gone' | 'run' | 'attempt' | 'key' | 'state' | 'cancel' | 'capacity'
 * | 'settling'.
 * `settling`: a report of the build's attempt is publishing (build-fence-scripts.ts, fenceScript's lease);
 * a claim, or a state change not made with the attempt key, waits for it (refused, nothing changed).
 */
export const transitionScript = `${luaAllowedFn}${luaNowMsFn}
local rule = ARGV[4]
local op, n = string.sub(rule, 1, 1), tonumber(string.sub(rule, 2))
if rule ~= '' and ((op ~= '=' and op ~= '<') or not n) then
  return redis.error_reply("attempt rule '" .. rule .. "' (operator '" .. op .. "') is not one of =N, <N")
end
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, '', 0, '', '', '', 0, 'gone'} end
local attempt = tonumber(redis.call('HGET', KEYS[1], 'attempt') or '0')
local run = tonumber(redis.call('HGET', KEYS[1], 'run') or '0')
local taskState = redis.call('HGET', KEYS[2], 'state') or ''
local previousBuilder = redis.call('HGET', KEYS[1], 'builder') or ''
local function refuse(why) return {0, state, attempt, taskState, state, previousBuilder, run, why} end
if run ~= tonumber(ARGV[3]) then return refuse('run') end
if (op == '=' and attempt ~= n) or (op == '<' and attempt >= n) then return refuse('attempt') end
if ARGV[12] ~= '' and redis.call('HGET', KEYS[1], 'attemptKeyHash') ~= ARGV[12] then return refuse('key') end
if ARGV[1] ~= '' and not allowed(ARGV[1], state) then return refuse('state') end
if ARGV[5] == '1' and redis.call('HGET', KEYS[1], 'cancelRequested') == '1' then return refuse('cancel') end
if ARGV[12] == '' and (ARGV[11] == '1' or (ARGV[2] ~= '' and ARGV[2] ~= state))
  and tonumber(redis.call('HGET', KEYS[1], 'settleAttempt') or '-1') == attempt
  and nowMs() < tonumber(redis.call('HGET', KEYS[1], 'settleUntilMs') or '0') then return refuse('settling') end
if ARGV[15] ~= '' then
  local raw = redis.call('HGET', KEYS[1], 'needs')
  if raw then
    local needs = cjson.decode(raw)
    local cores, mem, disk, net = string.match(ARGV[15], '^(%d+),(%d+),(%d+),?(%d*)$')
    cores, mem, disk = tonumber(cores), tonumber(mem), tonumber(disk)
    local perCore = 0
    if cores > 0 then perCore = mem / cores end
    if (needs.cores and cores < needs.cores) or (needs.memoryBytes and mem < needs.memoryBytes)
      or (needs.memoryPerCoreBytes and perCore < needs.memoryPerCoreBytes)
      or (needs.diskBytes and disk < needs.diskBytes)
      or (needs.network == true and net ~= '1') then return refuse('capacity') end
  end
end
if ARGV[11] == '1' then redis.call('HINCRBY', KEYS[1], 'attempt', 1) end
local npairs = tonumber(ARGV[16])
local i = 17
for _ = 1, npairs do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
  i = i + 1
end
local to = ARGV[2]
if to == '' then to = state else redis.call('HSET', KEYS[1], 'state', to) end
local final = to == 'succeeded' or to == 'failed' or to == 'cancelled'
if final or ARGV[11] == '1' then redis.call('HDEL', KEYS[1], 'settleAttempt', 'settleUntilMs') end
if final then
  redis.call('SREM', KEYS[3], ARGV[7])
else
  redis.call('SADD', KEYS[3], ARGV[7])
end
if ARGV[13] ~= '' then redis.call('XADD', KEYS[5], '*', 'l', '[aoinb] ' .. ARGV[13]) end
if final and to ~= state then
  redis.call('XADD', KEYS[5], '*', 'eof', to, 'reason', redis.call('HGET', KEYS[1], 'reason') or '')
  redis.call('SADD', KEYS[6], ARGV[14])
end
local counts = {queued = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0}
local total = 0
for k = 7, #KEYS do
  local s = redis.call('HGET', KEYS[k], 'state')
  if s then
    total = total + 1
    counts[s] = (counts[s] or 0) + 1
  end
end
local ts = 'created'
if total > 0 then
  if counts.running > 0 then ts = 'running'
  elseif counts.queued > 0 then ts = 'queued'
  elseif counts.failed > 0 then ts = 'failed'
  elseif counts.cancelled > 0 then ts = 'cancelled'
  else ts = 'succeeded' end
end
redis.call('HSET', KEYS[2], 'state', ts, 'updatedAt', ARGV[6])
if ts == 'succeeded' or ts == 'failed' or ts == 'cancelled' then
  if taskState ~= ts then redis.call('HSET', KEYS[2], 'finishedAt', ARGV[6]) end
else
  redis.call('HDEL', KEYS[2], 'finishedAt')
end
local cap = ARGV[10]
if to ~= state then
  local builder = redis.call('HGET', KEYS[1], 'builder') or ''
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', cap, '*', 'type', 'build', 'taskId', ARGV[8], 'arch', ARGV[9],
    'state', to, 'from', state, 'builder', builder, 'at', ARGV[6])
end
if ts ~= taskState then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', cap, '*', 'type', 'task', 'taskId', ARGV[8],
    'state', ts, 'from', taskState, 'at', ARGV[6])
end
return {1, to, tonumber(redis.call('HGET', KEYS[1], 'attempt') or '0'), ts, state, previousBuilder, run, ''}
`;
