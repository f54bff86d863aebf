-- What the benches share: the median of a list of timings (sorts it in place).
local M = {}

function M.median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

-- This process's peak resident memory in KiB since the last rss_reset().
function M.rss_reset()
  local f = io.open("/proc/self/clear_refs", "w")
  f:write("5")
  f:close()
end
function M.rss_peak()
  local f = io.open("/proc/self/status")
  local kib = tonumber(f:read("a"):match("VmHWM:%s+(%d+)"))
  f:close()
  return kib
end

-- /healthz timed by curl in a process of its own, every 20 ms until the returned function is
-- called, which answers the latencies in seconds, sorted: the numbers are the server's, not
-- this process's scheduling of its own tasks.
function M.health_probe(url, sleep)
  local probe = os.tmpname()
  local stop = probe .. ".stop"
  os.execute(("(while [ ! -e %s ]; do curl -s -o /dev/null -w '%%{time_total}\\n' %s/healthz; sleep 0.02; done) > %s &")
    :format(stop, url, probe))
  return function()
    io.open(stop, "w"):close()
    sleep(0.2)
    local lat = {}
    for l in io.lines(probe) do lat[#lat + 1] = tonumber(l) end
    os.remove(probe)
    os.remove(stop)
    table.sort(lat)
    return lat
  end
end

return M
