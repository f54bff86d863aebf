-- lua5.4 slowloris.lua HOST PORT N SECONDS: opens N connections to HOST:PORT and sends each
-- request's headers one byte a second, for SECONDS at most; then closes them all. Run by the
-- hardening spec in a process of its own (with room for the descriptors), loopback only.
local socket = require("socket")
local host, port, n, seconds = arg[1], tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])
assert(host:match("^127%."), "loopback only")
local request = "GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: " .. string.rep("s", 100) .. "\r\n\r\n"
local conns = {}
for i = 1, n do
  local c = socket.tcp()
  c:settimeout(2)
  if c:connect(host, port) then
    c:settimeout(0)
    conns[#conns + 1] = c
  else
    c:close()
  end
  if i % 100 == 0 then socket.sleep(0.01) end
end
io.stdout:write("open ", #conns, "\n")
io.stdout:flush()
local deadline = socket.gettime() + seconds
local at = 1
while socket.gettime() < deadline and at < #request do
  for _, c in ipairs(conns) do c:send(request:sub(at, at)) end
  at = at + 1
  socket.sleep(1)
end
for _, c in ipairs(conns) do c:close() end
