import { luaAllowedFn } from './lua-allowed.ts';

/**
 * Lua: (re)queues builds of a task atomically: `PUT /task/:id/build` (new builds)
 * and `POST /task/:id/retry` (new runs of failed or cancelled builds). A run
 * number only grows: a build is only replaced by a higher run, so anything
 * still addressed to the old run is fenced off (transition-script.ts). Refused
 * while a bundle upload holds the task's upload lock, so a build never queues
 * the bundle that is being replaced.
 *
 * KEYS: 1 task, 2 active set, 3 event stream, 4 bundle-upload lock, 5.. build keys to (re)write
 * ARGV: 1 allowed task states (comma list), 2 allowed previous build states ('' = not checked),
 *       3 now (ISO), 4 event cap, 5 task id, 6 task fields (JSON string map),
 *       then per build key: fields (JSON string map, with `run`), active-set member, arch
 * Returns 1 when done, 0 when the task or a build was in another state (or a run would not grow),
 * -1 while a bundle upload is in progress.
 */
export const queueBuildsScript = `${luaAllowedFn}
local taskState = redis.call('HGET', KEYS[1], 'state')
if not taskState or not allowed(ARGV[1], taskState) then return 0 end
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
local previous = {}
local a = 7
for k = 5, #KEYS do
  local s = redis.call('HGET', KEYS[k], 'state') or ''
  if ARGV[2] ~= '' and not allowed(ARGV[2], s) then return 0 end
  local oldRun = tonumber(redis.call('HGET', KEYS[k], 'run') or '0')
  if tonumber(cjson.decode(ARGV[a]).run or '0') <= oldRun then return 0 end
  previous[k] = s
  a = a + 3
end
local now = ARGV[3]
local cap = ARGV[4]
local taskFields = cjson.decode(ARGV[6])
for field, value in pairs(taskFields) do
  if field ~= 'state' then redis.call('HSET', KEYS[1], field, value) end
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'updatedAt', now)
redis.call('HDEL', KEYS[1], 'finishedAt')
a = 7
for k = 5, #KEYS do
  local fields = cjson.decode(ARGV[a])
  redis.call('DEL', KEYS[k])
  for field, value in pairs(fields) do redis.call('HSET', KEYS[k], field, value) end
  redis.call('SADD', KEYS[2], ARGV[a + 1])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', cap, '*', 'type', 'build', 'taskId', ARGV[5], 'arch', ARGV[a + 2],
    'state', 'queued', 'from', previous[k], 'builder', '', 'at', now)
  a = a + 3
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', cap, '*', 'type', 'task', 'taskId', ARGV[5],
  'state', 'queued', 'from', taskState, 'at', now)
return 1
`;
