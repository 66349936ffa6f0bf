/**
 * Lua helper shared by the scripts: Redis's own clock in milliseconds (TIME), so that a deadline written by one
 * script and read by another never depends on the callers' clocks.
 */
export const luaNowMsFn = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;
