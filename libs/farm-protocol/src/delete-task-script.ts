/**
 * Lua: deletes a task that was never built, atomically: only while it is
 * `created` and not a group member, so it cannot race a `PUT /task/:id/build`
 * (which queues builds through queue-builds-script.ts from `created` too).
 *
 * KEYS: 1 task, 2 task list (zset), 3 event stream
 * ARGV: 1 task id, 2 now (ISO), 3 event cap
 * Returns {code, state, groupId}: code 1 deleted, 0 refused ('' state: no such task).
 */
export const deleteTaskScript = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, '', ''} end
local groupId = redis.call('HGET', KEYS[1], 'groupId') or ''
if state ~= 'created' or groupId ~= '' then return {0, state, groupId} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'type', 'task', 'taskId', ARGV[1], 'state', 'deleted',
  'from', state, 'at', ARGV[2])
return {1, state, ''}
`;
