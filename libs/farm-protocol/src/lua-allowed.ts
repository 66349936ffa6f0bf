/** Lua helper shared by the scripts: whether `value` is one of the comma-separated `list`. */
export const luaAllowedFn = `
local function allowed(list, value)
  for s in string.gmatch(list, '[^,]+') do
    if s == value then return true end
  end
  return false
end
`;
