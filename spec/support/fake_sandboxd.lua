-- A stand-in for porter-sandboxd in the --local spec: prints its URL like the real one, answers
-- every request with 200 {"status":"ok","active_sandboxes":0}, records its pid in $FAKE_PID_FILE.
local socket = require("socket")
local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
local pidf = os.getenv("FAKE_PID_FILE")
if pidf then
  local f = io.open("/proc/self/stat"):read("l")
  local out = io.open(pidf, "w"); out:write(f:match("^(%d+)")); out:close()
end
io.write("http://127.0.0.1:", port, "\n")
io.flush()
local body = '{"status":"ok","active_sandboxes":0}'
while true do
  local c = server:accept()
  c:settimeout(5)
  while true do
    local line = c:receive("*l")
    if not line then break end
    if line == "" then
      c:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body)
    end
  end
  c:close()
end
