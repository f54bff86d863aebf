-- lua5.4 load.lua BASE_URL: 200 live sandboxes, then 50 concurrent 2-second execs while a
-- task measures /healthz; prints the health check latencies and the wall times.
local sandbox = require "porter_sandbox"
local now = sandbox._now
local a = sandbox.AsyncPorter { base_url = arg[1], concurrency = 256 }
local t0 = now()
local tasks = {}
for i = 1, 200 do
  tasks[i] = function()
    local sb = a.sandboxes.create { image = "host", tags = { bench = "load" } }
    sb:wait { timeout = 120 }
    return sb
  end
end
local boxes = a:gather(tasks)
print(string.format("start_200_sandboxes %.3f", now() - t0))

-- /healthz is timed by a separate process (curl), so that the numbers are the server's and
-- not this process's scheduling of its own 50 tasks
local probe = os.tmpname()
local stop = probe .. ".stop"
os.execute(("(while [ ! -e %s ]; do curl -s -o /dev/null -w '%%{time_total}\\n' %s/healthz; sleep 0.02; done) > %s &")
  :format(stop, arg[1], probe))
local execs = {}
for i = 1, 50 do
  execs[i] = function() return boxes[i]:exec { "sleep", "2" }.exit_code end
end
t0 = now()
a:gather(execs)
print(string.format("execs_50_concurrent %.3f", now() - t0))
io.open(stop, "w"):close()
sandbox.sleep(0.2)
local lat = {}
for l in io.lines(probe) do lat[#lat + 1] = tonumber(l) end
os.remove(probe)
os.remove(stop)
table.sort(lat)
print(string.format("healthz_median_ms %.2f", lat[(#lat + 1) // 2] * 1000))
print(string.format("healthz_p95_ms %.2f", lat[math.ceil(#lat * 0.95)] * 1000))
print(string.format("healthz_max_ms %.2f", lat[#lat] * 1000))
print(string.format("healthz_checks %d", #lat))
local kill = {}
for i, sb in ipairs(boxes) do kill[i] = function() sb:terminate() end end
a:gather(kill)
