-- What the benches share: the median of a list of timings (sorts it in place).
local M = {}

function M.median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

return M
