import { luaAllowedFn } from './lua-allowed.ts';

/**
 * Lua: deletes a finished task's Redis records (retention and an admin's
 * `DELETE /task/:id`) atomically, and notes the task in the pending hash so its
 * files are removed even if the coordinator dies right after.
 *
 * KEYS: 1 task, 2 task list (zset), 3 event stream, 4 pending hash, 5 active-build set,
 *       then N build keys, then the log stream keys of every run of those builds
 * ARGV: 1 task id, 2 now (ISO), 3 event cap, 4 the group it must belong to ('' = none),
 *       5 allowed states (comma list), 6 finished before (ISO; '' = any time),
 *       7 N, then N triples: arch, run (the build must still be at this run), active-set member
 * Returns {code, state, groupId}: 1 deleted; 0 refused ('' state: no such task);
 * -1 a build has a newer run than the caller saw (read again).
 */
export const deleteFinishedTaskScript = `${luaAllowedFn}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, '', ''} end
local groupId = redis.call('HGET', KEYS[1], 'groupId') or ''
if groupId ~= ARGV[4] or not allowed(ARGV[5], state) then return {0, state, groupId} end
if ARGV[6] ~= '' then
  local at = redis.call('HGET', KEYS[1], 'finishedAt') or redis.call('HGET', KEYS[1], 'createdAt') or ''
  if at == '' or at >= ARGV[6] then return {0, state, groupId} end
end
local n = tonumber(ARGV[7])
for i = 1, n do
  local run = redis.call('HGET', KEYS[5 + i], 'run')
  if run and run ~= ARGV[7 + 3 * i - 1] then return {-1, state, groupId} end
  local s = redis.call('HGET', KEYS[5 + i], 'state')
  if s == 'queued' or s == 'running' then return {0, state, groupId} end
end
redis.call('HSET', KEYS[4], 'task:' .. ARGV[1], ARGV[2])
for k = 6, #KEYS do redis.call('DEL', KEYS[k]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
for i = 1, n do redis.call('SREM', KEYS[5], ARGV[7 + 3 * i]) end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'type', 'task', 'taskId', ARGV[1], 'state', 'deleted',
  'from', state, 'at', ARGV[2])
return {1, state, groupId}
`;

/**
 * Lua: deletes a finished group's records; its member tasks follow one by one
 * (deleteFinishedTaskScript with the group's id), listed in the pending hash
 * until they and the group's files are gone.
 *
 * KEYS: 1 group, 2 member hash, 3 group list (zset), 4 active-group set, 5 event stream,
 *       6 pending hash, then the member task keys
 * ARGV: 1 group id, 2 now (ISO), 3 event cap, 4 allowed states (comma list), 5 finished before (ISO; '' = any)
 * Returns {code, state, taskIds}: 1 deleted; 0 refused ('' state: no such group);
 * -1 refused: a member task is queued or running.
 */
export const deleteGroupScript = `${luaAllowedFn}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, '', '[]'} end
local taskIds = redis.call('HGET', KEYS[1], 'taskIds') or '[]'
if not allowed(ARGV[4], state) then return {0, state, taskIds} end
if ARGV[5] ~= '' then
  local at = redis.call('HGET', KEYS[1], 'finishedAt') or ''
  if at == '' or at >= ARGV[5] then return {0, state, taskIds} end
end
for k = 7, #KEYS do
  local s = redis.call('HGET', KEYS[k], 'state')
  if s == 'queued' or s == 'running' then return {-1, state, taskIds} end
end
redis.call('HSET', KEYS[6], 'group:' .. ARGV[1], taskIds)
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[3], '*', 'type', 'group', 'groupId', ARGV[1], 'state', 'deleted',
  'from', state, 'at', ARGV[2])
return {1, state, taskIds}
`;

/**
 * Lua: forgets builders whose last heartbeat is older than the cutoff and whose
 * heartbeat record has expired (a builder that came back meanwhile stays).
 *
 * KEYS: 1 builder list (zset), then each builder's heartbeat key
 * ARGV: 1 cutoff (epoch ms), then the builder ids, in KEYS order
 * Returns how many were forgotten.
 */
export const forgetBuildersScript = `
local removed = 0
for i = 2, #KEYS do
  local id = ARGV[i]
  local seen = tonumber(redis.call('ZSCORE', KEYS[1], id) or '-1')
  if seen >= 0 and seen < tonumber(ARGV[1]) and redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('ZREM', KEYS[1], id)
    removed = removed + 1
  end
end
return removed
`;
