/**
 * Lua: creates a task (its record, its place in the task list, its event) and,
 * when the request carried an Idempotency-Key, records the answer to it in the
 * same step: the create and "this key created task N" cannot be parted by a
 * crash. The key's record must still be the caller's pending reservation
 * (another coordinator may have taken it after it expired): else nothing is written.
 *
 * KEYS: 1 task hash, 2 task list (ZSET), 3 events stream, [4 the key's record]
 * ARGV: 1 task id, 2 state, 3 createdAt, 4 event cap, 5 reservation owner,
 *       6 answer (JSON), 7 answer TTL (s), 8.. the task's fields and values
 * Returns 1 when created, 0 when the reservation was not the caller's.
 */
export const createTaskScript = `
if KEYS[4] then
  local held = redis.call('GET', KEYS[4])
  if not held then return 0 end
  local ok, record = pcall(cjson.decode, held)
  if not ok or type(record) ~= 'table' or record.owner ~= ARGV[5] or record.state ~= 'pending' then return 0 end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
redis.call('ZADD', KEYS[2], tonumber(ARGV[1]), ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'type', 'task', 'taskId', ARGV[1], 'state', ARGV[2],
  'from', '', 'at', ARGV[3])
if KEYS[4] then redis.call('SET', KEYS[4], ARGV[6], 'EX', ARGV[7]) end
return 1
`;
