-- The SDK's specs run under every Lua the SDK builds for (make test LUA=luajit, ...). They are
-- written against 5.4's library; on 5.1 and LuaJIT this fills in the few parts they use, in
-- the busted process only (the SDK itself carries no such shim: see csrc/sdk/luacompat.h).
if _VERSION ~= "Lua 5.1" then return end

table.unpack = table.unpack or unpack
table.pack = table.pack or function(...) return { n = select("#", ...), ... } end

-- what 5.3 would have made of a number the SDK decoded: an integer if it has no fraction and
-- fits in 64 bits (the C core decodes JSON the same way on every VM)
math.type = math.type or function(v)
  if type(v) ~= "number" then return nil end
  if v == math.floor(v) and v >= -2 ^ 63 and v < 2 ^ 63 then return "integer" end
  return "float"
end

-- io formats without the "*" of 5.1
local function fmt(f) return type(f) == "string" and f:sub(1, 1) ~= "*" and "*" .. f or f end
local file_mt = getmetatable(io.stdout).__index
local read, lines = file_mt.read, file_mt.lines
file_mt.read = function(f, ...)
  local args = { ... }
  for i = 1, select("#", ...) do args[i] = fmt(args[i]) end
  return read(f, unpack(args, 1, select("#", ...)))
end
file_mt.lines = function(f, ...)
  if select("#", ...) == 0 then return lines(f) end
  return lines(f, fmt((...)))
end

-- os.execute's 5.2 answer (true or nil, "exit", code) instead of 5.1's status number
local execute = os.execute
os.execute = function(cmd)
  if cmd == nil then return execute() ~= 0 end
  local status = execute(cmd)
  local code = status >= 256 and math.floor(status / 256) or status
  if code == 0 then return true, "exit", 0 end
  return nil, "exit", code
end
