/**
 * The one Lua script that changes a build's state. It checks the expected
 * state(s), the attempt (fencing: a stale worker cannot overwrite a newer
 * attempt) and the cancel flag, sets fields, keeps the active-build set, derives
 * the task's state from all its builds and appends farm events, atomically.
 *
 * KEYS: 1 build, 2 task, 3 active set, 4 event stream, 5.. every build of the task
 * ARGV: 1 allowed from-states (comma list, '' = any), 2 to-state ('' = keep),
 *       3 attempt rule ('' | '=N' | '<N'), 4 refuse when cancel requested ('1'),
 *       5 now (ISO), 6 active-set member, 7 task id, 8 arch, 9 event cap,
 *       10 increment the attempt ('1': a worker claims the build; the new attempt fences the old one),
 *       11 number of field pairs N, then N pairs to set, then field names to delete
 * Returns {code, state, attempt, taskState, previousState, previousBuilder}:
 * code 1 done, 0 refused, -1 refused (cancel requested).
 */
export const transitionScript = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, '', 0, '', '', ''} end
local attempt = tonumber(redis.call('HGET', KEYS[1], 'attempt') or '0')
local taskState = redis.call('HGET', KEYS[2], 'state') or ''
local previousBuilder = redis.call('HGET', KEYS[1], 'builder') or ''
if ARGV[1] ~= '' then
  local allowed = false
  for s in string.gmatch(ARGV[1], '[^,]+') do
    if s == state then allowed = true end
  end
  if not allowed then return {0, state, attempt, taskState, state, previousBuilder} end
end
local rule = ARGV[3]
if rule ~= '' then
  local op = string.sub(rule, 1, 1)
  local n = tonumber(string.sub(rule, 2))
  if (op == '=' and attempt ~= n) or (op == '<' and attempt >= n) then
    return {0, state, attempt, taskState, state, previousBuilder}
  end
end
if ARGV[4] == '1' and redis.call('HGET', KEYS[1], 'cancelRequested') == '1' then
  return {-1, state, attempt, taskState, state, previousBuilder}
end
if ARGV[10] == '1' then redis.call('HINCRBY', KEYS[1], 'attempt', 1) end
local npairs = tonumber(ARGV[11])
local i = 12
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
if to == 'queued' or to == 'running' then
  redis.call('SADD', KEYS[3], ARGV[6])
else
  redis.call('SREM', KEYS[3], ARGV[6])
end
local counts = {queued = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0}
local total = 0
for k = 5, #KEYS do
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
redis.call('HSET', KEYS[2], 'state', ts, 'updatedAt', ARGV[5])
if ts == 'succeeded' or ts == 'failed' or ts == 'cancelled' then
  if taskState ~= ts then redis.call('HSET', KEYS[2], 'finishedAt', ARGV[5]) end
else
  redis.call('HDEL', KEYS[2], 'finishedAt')
end
local cap = ARGV[9]
if to ~= state then
  local builder = redis.call('HGET', KEYS[1], 'builder') or ''
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', cap, '*', 'type', 'build', 'taskId', ARGV[7], 'arch', ARGV[8],
    'state', to, 'from', state, 'builder', builder, 'at', ARGV[5])
end
if ts ~= taskState then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', cap, '*', 'type', 'task', 'taskId', ARGV[7],
    'state', ts, 'from', taskState, 'at', ARGV[5])
end
return {1, to, tonumber(redis.call('HGET', KEYS[1], 'attempt') or '0'), ts, state, previousBuilder}
`;
