-- lua5.4 scripts/bench/logs.lua ROUNDS [LINES]: a workload's output stored as log lines, beside
-- its baseline in the same run: the same workload printing to /dev/null in a sandbox of its
-- own; then reading the stored lines back (get_sandbox_logs of all of them).
local sandbox = require "porter_sandbox"
local sandboxd = require "spec.support.sandboxd"
local rounds, lines = tonumber(arg[1]) or 5, tonumber(arg[2]) or 200000
local now = sandbox._now

local median = require("scripts.bench.stats").median

local srv = sandboxd.start { args = { "--max-log-lines", tostring(lines + 10), "--max-log-bytes", "1G" } }
local ok, err = pcall(function()
  local porter = sandbox.Porter { base_url = srv.url, timeout = 120 }
  local function run(script)
    local t0 = now()
    local sb = porter.sandboxes.create { image = "host", command = { "sh", "-c", script } }
    assert(sb:wait_exit { timeout = 600 }.exit_code == 0)
    return now() - t0, sb
  end
  local printed, quiet, read = {}, {}, {}
  for _ = 1, rounds do -- interleaved, so that the machine's drift touches both alike
    quiet[#quiet + 1] = run(("seq 1 %d > /dev/null"):format(lines))
    local t, sb = run(("seq 1 %d"):format(lines))
    printed[#printed + 1] = t
    local t0 = now()
    local got = #porter.raw.sandboxes.get_sandbox_logs(sb.id, { limit = lines }).logs
    read[#read + 1] = now() - t0
    assert(got == lines, got .. " lines stored of " .. lines)
  end
  local p, q = median(printed), median(quiet)
  print(("workload printing %d lines  : %8.3f s   (to /dev/null: %.3f s; %.2fx)"):format(lines, p, q, p / q))
  print(("get_sandbox_logs of them   : %8.1f ms"):format(median(read) * 1000))
  porter:close()
end)
srv:stop()
if not ok then error(err, 0) end
