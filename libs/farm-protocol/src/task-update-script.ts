import { luaAllowedFn } from './lua-allowed.ts';

/**
 * Lua: the guarded write of a task's own fields (branch, bundle) and the one
 * state change a task makes without builds (`created` -> `cancelled`, a task
 * cancelled before it was built), with its event. Refused unless the task is in
 * one of the allowed states and not a group member, so it cannot race
 * `PUT /task/:id/build`. Never writes `state` from the field map.
 *
 * KEYS: 1 task, 2 event stream
 * ARGV: 1 allowed task states (comma list), 2 to-state ('' = keep), 3 now (ISO), 4 task id, 5 event cap,
 *       6 fields (JSON string map)
 * Returns {code, state, groupId}: code 1 done, 0 refused ('' state: no such task).
 */
export const taskUpdateScript = `${luaAllowedFn}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, '', ''} end
local groupId = redis.call('HGET', KEYS[1], 'groupId') or ''
if groupId ~= '' or not allowed(ARGV[1], state) then return {0, state, groupId} end
for field, value in pairs(cjson.decode(ARGV[6])) do
  if field ~= 'state' then redis.call('HSET', KEYS[1], field, value) end
end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[3])
local to = ARGV[2]
if to ~= '' and to ~= state then
  redis.call('HSET', KEYS[1], 'state', to)
  if to == 'cancelled' then redis.call('HSET', KEYS[1], 'finishedAt', ARGV[3]) end
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'type', 'task', 'taskId', ARGV[4], 'state', to,
    'from', state, 'at', ARGV[3])
  state = to
end
return {1, state, ''}
`;
