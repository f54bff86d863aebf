-- lua5.4 load.lua BASE_URL [N [EXECS]]: N live sandboxes (200), then EXECS (50) concurrent
-- 2-second execs (or, with 0, three idle seconds) while another process times /healthz;
-- prints the health check latencies and the wall times.
local sandbox = require "porter_sandbox"
local now = sandbox._now
local N, EXECS = tonumber(arg[2] or 200), tonumber(arg[3] or 50)
local a = sandbox.AsyncPorter { base_url = arg[1], max_connections = 64 }
local t0 = now()
local tasks = {}
for i = 1, N do
  tasks[i] = function()
    local sb = a.sandboxes.create { image = "host", tags = { bench = "load" } }
    sb:wait { timeout = 120 }
    return sb
  end
end
local boxes = a:gather(tasks)
print(string.format("start_%d_sandboxes %.3f", N, now() - t0))

local finish = require("scripts.bench.stats").health_probe(arg[1], sandbox.sleep)
local execs = {}
for i = 1, EXECS do
  execs[i] = function() return boxes[i]:exec { "sleep", "2" }.exit_code end
end
t0 = now()
if EXECS > 0 then
  a:gather(execs)
  print(string.format("execs_%d_concurrent %.3f", EXECS, now() - t0))
else
  sandbox.sleep(3)
end
local lat = finish()
print(string.format("healthz_median_ms %.2f", lat[(#lat + 1) // 2] * 1000))
print(string.format("healthz_p95_ms %.2f", lat[math.ceil(#lat * 0.95)] * 1000))
print(string.format("healthz_max_ms %.2f", lat[#lat] * 1000))
print(string.format("healthz_checks %d", #lat))
local kill = {}
for i, sb in ipairs(boxes) do kill[i] = function() sb:terminate() end end
a:gather(kill)
