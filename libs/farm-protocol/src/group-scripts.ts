/**
 * Lua scripts of group builds. Each changes a group, its members or a
 * member's build atomically, and appends to the farm event stream in the same
 * step, as the build scripts do.
 */

import { luaAllowedFn as allowedFn } from './lua-allowed.ts';

/**
 * Creates a group and claims its tasks: every task must exist, be `created`,
 * have a bundle, belong to no group and be for the group's branch (or none).
 *
 * KEYS: 1 group, 2 members, 3 group list, 4 active set, 5 events, 6.. one task hash per task
 * ARGV: 1 group id, 2 group fields (JSON string map), 3 members (JSON: field -> JSON text),
 *       4 now, 5 event cap, 6 branch, 7 timeout ms, 8.. per task: archs (JSON text)
 * Returns {1} or {0, task id, problem}.
 */
export const createGroupScript = `
for k = 6, #KEYS do
  local t = redis.call('HMGET', KEYS[k], 'id', 'state', 'groupId', 'bundle', 'branch')
  local name = string.match(KEYS[k], ':task:(%d+)$') or KEYS[k]
  if not t[1] then return {0, name, 'does not exist'} end
  if t[2] ~= 'created' then
    return {0, name, 'is ' .. t[2] .. ': a group takes tasks that have a bundle and no build yet'}
  end
  if t[3] and t[3] ~= '' then return {0, name, 'already belongs to group ' .. t[3]} end
  if not t[4] then return {0, name, 'has no bundle yet: PUT /task/' .. name .. '/build_bundle first'} end
  if t[5] and t[5] ~= '' and t[5] ~= ARGV[6] then
    return {0, name, 'is for branch ' .. t[5] .. ', the group for ' .. ARGV[6]}
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, '', 'group ' .. ARGV[1] .. ' exists already'} end
for field, value in pairs(cjson.decode(ARGV[2])) do redis.call('HSET', KEYS[1], field, value) end
for field, value in pairs(cjson.decode(ARGV[3])) do redis.call('HSET', KEYS[2], field, value) end
redis.call('ZADD', KEYS[3], tonumber(ARGV[1]), ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
for k = 6, #KEYS do
  redis.call('HSET', KEYS[k], 'groupId', ARGV[1], 'branch', ARGV[6], 'archs', ARGV[2 + k], 'timeoutMs',
    ARGV[7], 'updatedAt', ARGV[4])
end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[5], '*', 'type', 'group', 'groupId', ARGV[1], 'state',
  'queued', 'from', '', 'at', ARGV[4])
return {1}
`;

/**
 * Releases a waiting member: writes its build `queued` (a fresh record for
 * this run), marks the member `released`, derives the task's state from its
 * builds, and appends the events. Refused unless the member is `waiting` in
 * the expected round, the group is in that round with no cancel asked and not
 * final, and the build is absent, failed or cancelled: so a member is released
 * once, and never after its group's cancel, whoever asks and however often.
 *
 * KEYS: 1 members, 2 task, 3 build, 4 active set, 5 events, 6 group, 7.. every build of the task
 * ARGV: 1 member field, 2 round, 3 member record (JSON text), 4 build fields (JSON string map),
 *       5 active-set member, 6 task id, 7 arch, 8 now, 9 event cap
 * Returns 1 when released, 0 when refused.
 */
export const releaseMemberScript = `
local g = redis.call('HMGET', KEYS[6], 'round', 'cancelRequested', 'state')
if g[1] ~= ARGV[2] or g[2] == '1' then return 0 end
if g[3] ~= 'queued' and g[3] ~= 'running' then return 0 end
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local member = cjson.decode(raw)
if member.phase ~= 'waiting' or tostring(member.round) ~= ARGV[2] then return 0 end
local previous = redis.call('HGET', KEYS[3], 'state') or ''
if previous ~= '' and previous ~= 'failed' and previous ~= 'cancelled' then return 0 end
redis.call('DEL', KEYS[3])
for field, value in pairs(cjson.decode(ARGV[4])) do redis.call('HSET', KEYS[3], field, value) end
redis.call('SADD', KEYS[4], ARGV[5])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
local taskState = redis.call('HGET', KEYS[2], 'state') or ''
local running = false
for k = 7, #KEYS do
  if redis.call('HGET', KEYS[k], 'state') == 'running' then running = true end
end
local ts = 'queued'
if running then ts = 'running' end
redis.call('HSET', KEYS[2], 'state', ts, 'updatedAt', ARGV[8])
redis.call('HDEL', KEYS[2], 'finishedAt')
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[9], '*', 'type', 'build', 'taskId', ARGV[6], 'arch', ARGV[7],
  'state', 'queued', 'from', previous, 'builder', '', 'at', ARGV[8])
if ts ~= taskState then
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[9], '*', 'type', 'task', 'taskId', ARGV[6],
    'state', ts, 'from', taskState, 'at', ARGV[8])
end
return 1
`;

/**
 * Compare-and-set of one member record: only when its phase is one of the
 * allowed ones (and, when given, its round matches).
 *
 * KEYS: 1 members
 * ARGV: 1 member field, 2 allowed phases (comma list), 3 round ('' = any), 4 new record (JSON text)
 * Returns 1 when set, 0 when refused.
 */
export const setMemberScript = `${allowedFn}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local member = cjson.decode(raw)
if not allowed(ARGV[2], member.phase) then return 0 end
if ARGV[3] ~= '' and tostring(member.round) ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
return 1
`;

/**
 * Changes a group's state when it is one of the allowed ones (and, when
 * given, the group is still in that round: a step that looked at an earlier
 * round changes nothing); keeps the active set and appends a `type=group`
 * event when the state changes.
 *
 * KEYS: 1 group, 2 active set, 3 events
 * ARGV: 1 allowed from-states (comma list, '' = any), 2 to-state, 3 now, 4 event cap,
 *       5 '1' = active afterwards, '0' = not, 6 fields (JSON string map), 7 round ('' = any),
 *       8.. fields to delete
 * Returns the previous state, or false when refused.
 */
export const groupTransitionScript = `${allowedFn}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if ARGV[1] ~= '' and not allowed(ARGV[1], state) then return false end
if ARGV[7] ~= '' and redis.call('HGET', KEYS[1], 'round') ~= ARGV[7] then return false end
for field, value in pairs(cjson.decode(ARGV[6])) do redis.call('HSET', KEYS[1], field, value) end
for i = 8, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updatedAt', ARGV[3])
local id = redis.call('HGET', KEYS[1], 'id')
if ARGV[5] == '1' then redis.call('SADD', KEYS[2], id) else redis.call('SREM', KEYS[2], id) end
if state ~= ARGV[2] then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'type', 'group', 'groupId', id, 'state', ARGV[2],
    'from', state, 'at', ARGV[3])
end
return state
`;

/**
 * Asks for a group's cancel: only while the group is not final. The cancel
 * itself is carried out by the group's step (members, builds, then the state).
 *
 * KEYS: 1 group
 * ARGV: 1 reason, 2 now
 * Returns {1, state} when asked (or asked already), {0, state} when the group is final ('' = no group).
 */
export const requestGroupCancelScript = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, ''} end
if state ~= 'queued' and state ~= 'running' then return {0, state} end
if redis.call('HGET', KEYS[1], 'cancelRequested') ~= '1' then
  redis.call('HSET', KEYS[1], 'cancelRequested', '1', 'reason', ARGV[1], 'updatedAt', ARGV[2])
end
return {1, state}
`;

/**
 * Starts a group's next round (a retry): only from one of the allowed states
 * and the expected round, so two retries at once make one round. Writes the
 * new plan and the members of the round, clears the previous round's end and
 * cancel, turns the group queued and active, and appends the event.
 *
 * KEYS: 1 group, 2 members, 3 active set, 4 events
 * ARGV: 1 allowed from-states (comma list), 2 expected current round, 3 plan (JSON text),
 *       4 members (JSON: field -> JSON text), 5 now, 6 event cap
 * Returns the previous state, or false when refused.
 */
export const startRoundScript = `${allowedFn}
local g = redis.call('HMGET', KEYS[1], 'state', 'round', 'id')
if not g[1] or not allowed(ARGV[1], g[1]) or g[2] ~= ARGV[2] then return false end
redis.call('HSET', KEYS[1], 'plan', ARGV[3], 'round', tostring(tonumber(ARGV[2]) + 1), 'cancelRequested', '0',
  'state', 'queued', 'updatedAt', ARGV[5])
redis.call('HDEL', KEYS[1], 'finishedAt', 'reason', 'publishedAt')
for field, value in pairs(cjson.decode(ARGV[4])) do redis.call('HSET', KEYS[2], field, value) end
redis.call('SADD', KEYS[3], g[3])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'type', 'group', 'groupId', g[3], 'state', 'queued',
  'from', g[1], 'at', ARGV[5])
return g[1]
`;

/**
 * Appends one duration to a package's history, keeping the last N.
 * KEYS: 1 durations hash; ARGV: 1 field, 2 seconds, 3 how many to keep
 */
export const recordDurationScript = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local list = {}
if raw then list = cjson.decode(raw) end
table.insert(list, tonumber(ARGV[2]))
local keep = tonumber(ARGV[3])
while #list > keep do table.remove(list, 1) end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(list))
return #list
`;
