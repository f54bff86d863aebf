-- Starting and stopping the helper processes specs talk to (servers on loopback).
-- Plain Lua over /bin/sh: busted runs specs in one process, and a server must run beside it.
local M = {}

local function shquote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.shquote = shquote

local function sleep(s) os.execute("sleep " .. s) end
M.sleep = sleep

local function tmpdir()
  local p = io.popen("mktemp -d /tmp/porter-spec.XXXXXX")
  local d = p:read("*l"); p:close()
  return d
end
M.tmpdir = tmpdir

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a"); f:close()
  return s
end
M.read_all = read_all

-- Runs a shell command; its output and whether it exited 0 (from the shell itself: 5.1's
-- popen close does not say).
function M.capture(cmd)
  local p = io.popen(cmd .. '\nprintf "\\n%s" "$?"')
  local s = p:read("a")
  p:close()
  local out, rc = s:match("^(.*)\n(%d+)$")
  return out, rc == "0"
end

-- Spawns argv in the background with stdout and stderr in files under a fresh temp dir.
-- Sanitizer preloads are dropped: spawned binaries carry their own instrumentation.
-- env: table of extra environment variables.
function M.spawn(argv, env)
  local dir = tmpdir()
  local parts = { "env", "-u", "LD_PRELOAD" }
  for k, v in pairs(env or {}) do parts[#parts + 1] = shquote(k .. "=" .. v) end
  for _, a in ipairs(argv) do parts[#parts + 1] = shquote(a) end
  local cmd = table.concat(parts, " ")
  local out, err = dir .. "/stdout", dir .. "/stderr"
  local p = io.popen(string.format("%s >%s 2>%s </dev/null & echo $!", cmd, shquote(out), shquote(err)))
  local pid = tonumber(p:read("*l")); p:close()
  return { pid = pid, dir = dir, stdout = out, stderr = err }
end

-- Waits until the process printed a line matching pattern on stdout; returns the capture.
function M.wait_line(proc, pattern, timeout)
  local deadline = os.time() + (timeout or 10)
  repeat
    local s = read_all(proc.stdout) or ""
    local m = s:match(pattern)
    if m then return m end
    if not M.alive(proc) then
      error("process exited before printing " .. pattern .. ":\n" .. (read_all(proc.stderr) or ""))
    end
    sleep(0.02)
  until os.time() > deadline
  error("timed out waiting for " .. pattern .. "; stderr:\n" .. (read_all(proc.stderr) or ""))
end

function M.alive(proc)
  return os.execute("kill -0 " .. proc.pid .. " 2>/dev/null") == true
end

-- Stops the process (TERM, then KILL after a grace period) and removes its temp dir.
function M.stop(proc, keep_dir)
  if proc.pid and M.alive(proc) then
    os.execute("kill -TERM " .. proc.pid .. " 2>/dev/null")
    for _ = 1, 400 do
      if not M.alive(proc) then break end
      sleep(0.02)
    end
    if M.alive(proc) then os.execute("kill -KILL " .. proc.pid .. " 2>/dev/null") end
  end
  if not keep_dir then os.execute("rm -rf " .. shquote(proc.dir)) end
end

-- Waits (2 s at most) until none of the pids in text is alive; those still alive.
function M.wait_gone(text)
  local living
  for _ = 1, 100 do
    living = {}
    for pid in text:gmatch("%d+") do
      if M.alive { pid = tonumber(pid) } then living[#living + 1] = pid end
    end
    if #living == 0 then break end
    sleep(0.02)
  end
  return living
end

-- Polls fn every 20 ms until it returns a truthy value, which it returns. A state is waited
-- for, never a time: the limit (60 s unless given) is only against a hang, and its error says
-- what never came (with fn's last second value, if any).
function M.eventually(fn, what, limit)
  local deadline = os.time() + (limit or 60)
  local last
  repeat
    local v, seen = fn()
    if v then return v end
    last = seen
    sleep(0.02)
  until os.time() > deadline
  error("never " .. what .. (last ~= nil and (": " .. tostring(last)) or ""), 2)
end

return M
