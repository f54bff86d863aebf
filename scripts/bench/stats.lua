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

return M
