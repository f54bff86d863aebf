-- lua5.4 many.lua BASE_URL SERVER_PID N [ROUNDS]: N idle sandboxes alive at once. Prints the
-- create-to-running median with 10 live (the baseline) and with N live, the host memory each
-- sandbox costs (the PSS of every process under the server: launcher, pid 1, network helper,
-- workload; and the server's own growth), the server's threads, and /healthz meanwhile.
local sandbox = require "porter_sandbox"
local now = sandbox._now
local url, pid, N, ROUNDS = arg[1], arg[2], tonumber(arg[3] or 1000), tonumber(arg[4] or 21)
-- a long timeout: a create that waits on the kernel under load is measured, not failed
local a = sandbox.AsyncPorter { base_url = url, max_connections = 32, timeout = 300 }
local p = sandbox.Porter { base_url = url }
local idle = { image = "host", command = { "sleep", "1000000" }, tags = { bench = "many" } }

-- PSS in KiB of pid and every process below it, and how many there are
local function pss_tree(root)
  local kids = {}
  local ls = io.popen("ls /proc")
  for d in ls:lines() do
    local f = d:match("^%d+$") and io.open("/proc/" .. d .. "/stat")
    if f then
      local pp = f:read("a"):match("%) %S+ (%d+)")
      f:close()
      if pp then kids[pp] = kids[pp] or {}; table.insert(kids[pp], d) end
    end
  end
  ls:close()
  local total, n = 0, 0
  local function walk(q)
    local f = io.open("/proc/" .. q .. "/smaps_rollup")
    if f then
      for l in f:lines() do total = total + (tonumber(l:match("^Pss:%s+(%d+)")) or 0) end
      f:close()
      n = n + 1
    end
    for _, c in ipairs(kids[q] or {}) do walk(c) end
  end
  walk(root)
  return total, n
end

local function threads()
  for l in io.lines("/proc/" .. pid .. "/status") do
    local t = l:match("^Threads:%s*(%d+)")
    if t then return tonumber(t) end
  end
end

-- a start that fails is counted and said, not fatal: how many fail is a finding too
local failed = 0
local function fill(boxes, upto)
  local tasks = {}
  for i = #boxes + 1, upto do
    tasks[#tasks + 1] = function()
      local sb = a.sandboxes.create(idle)
      local ok, err = pcall(sb.wait, sb, { timeout = 600 })
      if ok then return sb end
      io.stderr:write("a start failed: ", tostring(err and err.message or err), "\n")
      failed = failed + 1
      return false
    end
  end
  for _, sb in ipairs(a:gather(tasks)) do
    if sb then boxes[#boxes + 1] = sb end
  end
end

-- one sandbox at a time, from the create request until it reads running
local function start_median()
  local t = {}
  for i = 1, ROUNDS do
    local t0 = now()
    local sb = p.sandboxes.create(idle)
    sb:wait { timeout = 120 }
    t[i] = now() - t0
    sb:terminate()
  end
  table.sort(t)
  return t[(#t + 1) // 2]
end

local boxes = {}
fill(boxes, 10)
local base = start_median()
local k0, n0 = pss_tree(pid)
local t0 = now()
fill(boxes, N)
print(string.format("fill_%d_s %.1f", N, now() - t0))
print(string.format("failed_starts %d", failed))
local k1, n1 = pss_tree(pid)
print(string.format("server_threads %d", threads()))
print(string.format("processes_each %.2f", (n1 - n0) / (#boxes - 10)))
print(string.format("host_kib_each %.0f", (k1 - k0) / (#boxes - 10)))

-- the kernel goes on with the fill's work (namespaces, RCU) for a while after the last create
-- answered: the measure starts once the CPUs are idle (at least 80% for two seconds running,
-- at most two minutes), a state of the machine rather than a guess at how long that takes
local function cpu_idle()
  local f = io.open("/proc/stat")
  local t = {}
  for v in f:read("l"):gmatch("%d+") do t[#t + 1] = tonumber(v) end
  f:close()
  local total = 0
  for _, v in ipairs(t) do total = total + v end
  return total, t[4] + (t[5] or 0)
end
local calm, waited = 0, 0
while calm < 2 and waited < 120 do
  local t0, i0 = cpu_idle()
  sandbox.sleep(1)
  local t1, i1 = cpu_idle()
  calm = (i1 - i0) / math.max(1, t1 - t0) >= 0.8 and calm + 1 or 0
  waited = waited + 1
end
print(string.format("settled_after_s %d", waited))
local finish = require("scripts.bench.stats").health_probe(url, sandbox.sleep)
sandbox.sleep(1)
local at = start_median()
local lat = finish()
print(string.format("healthz_p95_ms %.2f", lat[math.ceil(#lat * 0.95)] * 1000))
print(string.format("healthz_checks %d", #lat))
print(string.format("start_p50_10_live_ms %.1f", base * 1000))
print(string.format("start_p50_%d_live_ms %.1f", N, at * 1000))
print(string.format("start_ratio %.2f", at / base))
local kill = {}
for i, sb in ipairs(boxes) do kill[i] = function() sb:terminate() end end
a:gather(kill)
