/**
 * Lua: creates a task (its record, its place in the task list, its event) and,
 * when the request carried an Idempotency-Key, records the answer to it in the
 * same step: the create and "this key created task N" cannot be parted by a
 * crash. The key's record must still be the caller's pending reservation
 * (another coordinator may have taken it after it expired): else nothing is written.
 *
 * A Lua script is not undone when a command in it fails, so the type of every key is
 * checked before the first write (a key of the wrong type would fail its command halfway,
 * leaving a task hash with no place in the list), and every write's reply is checked too.
 *
 * KEYS: 1 task hash, 2 task list (ZSET), 3 events stream, [4 the key's record]
 * ARGV: 1 task id, 2 state, 3 createdAt, 4 event cap, 5 reservation owner,
 *       6 answer (JSON), 7 answer TTL (s), 8.. the task's fields and values
 * Returns 1 when created, 0 when the reservation was not the caller's, or
 * {-1, command, key, error} when a command failed or would fail (nothing written
 * when a key has the wrong type).
 */
export const createTaskScript = `
local expected = { {'HSET', 'hash'}, {'ZADD', 'zset'}, {'XADD', 'stream'}, {'SET', 'string'} }
for k = 1, #KEYS do
  local found = redis.call('TYPE', KEYS[k]).ok
  if found ~= 'none' and found ~= expected[k][2] then
    return {-1, expected[k][1], KEYS[k], 'WRONGTYPE the key holds a ' .. found .. ', not a ' .. expected[k][2]}
  end
end
if KEYS[4] then
  local held = redis.call('GET', KEYS[4])
  if not held then return 0 end
  local ok, record = pcall(cjson.decode, held)
  if not ok or type(record) ~= 'table' or record.owner ~= ARGV[5] or record.state ~= 'pending' then return 0 end
end
local function failed(reply, command, key)
  if type(reply) == 'table' and reply.err then return {-1, command, key, reply.err} end
end
local fail = failed(redis.pcall('HSET', KEYS[1], unpack(ARGV, 8)), 'HSET', KEYS[1])
  or failed(redis.pcall('ZADD', KEYS[2], tonumber(ARGV[1]), ARGV[1]), 'ZADD', KEYS[2])
  or failed(redis.pcall('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'type', 'task', 'taskId', ARGV[1],
    'state', ARGV[2], 'from', '', 'at', ARGV[3]), 'XADD', KEYS[3])
if fail then return fail end
if KEYS[4] then
  fail = failed(redis.pcall('SET', KEYS[4], ARGV[6], 'EX', ARGV[7]), 'SET', KEYS[4])
  if fail then return fail end
end
return 1
`;
