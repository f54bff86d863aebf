-- lua5.4 scripts/bench/logs.lua ROUNDS [LINES [READ]]: a workload's output stored as log
-- lines, beside its baseline in the same run: the same workload printing to /dev/null in a
-- sandbox of its own; then reading the newest READ of the stored lines back
-- (get_sandbox_logs), through the SDK and, for the server's part, through curl.
local sandbox = require "porter_sandbox"
local sandboxd = require "spec.support.sandboxd"
local rounds, lines = tonumber(arg[1]) or 5, tonumber(arg[2]) or 1000000
local read_n = tonumber(arg[3]) or math.min(lines, 100000)
local now = sandbox._now

local median = require("scripts.bench.stats").median

local srv = sandboxd.start { args = { "--max-log-lines", tostring(lines + 10), "--max-log-bytes", "1G" } }
local ok, err = pcall(function()
  local porter = sandbox.Porter { base_url = srv.url, timeout = 120, max_response_bytes = 1 << 30 }
  -- created to ended, polled every 2 ms (wait_exit backs off from 50 ms, which would
  -- measure its own pauses)
  local function run(script)
    local t0 = now()
    local sb = porter.sandboxes.create { image = "host", command = { "sh", "-c", script } }
    local st
    repeat
      sandbox._sleep(0.002)
      st = porter.raw.sandboxes.get_sandbox(sb.id)
    until st.phase == "succeeded" or st.phase == "failed"
    assert(st.exit_code == 0, st.phase)
    return now() - t0, sb
  end
  -- A sandbox's teardown (its processes waited out of its cgroups, its directory removed) goes
  -- on after its end is recorded; the next run is timed once it is over (DELETE
  -- answers when nothing of the sandbox is left), so that each run has the machine to itself
  -- and neither side pays for the other's teardown (the printed run came after the quiet one's)
  local function done(sb) sb:terminate() end
  local printed, quiet, read, curl = {}, {}, {}, {}
  for _ = 1, rounds do -- interleaved, so that the machine's drift touches both alike
    local q, quiet_sb = run(("seq 1 %d > /dev/null"):format(lines))
    quiet[#quiet + 1] = q
    done(quiet_sb)
    local t, sb = run(("seq 1 %d"):format(lines))
    printed[#printed + 1] = t
    local t0 = now()
    local got = porter.raw.sandboxes.get_sandbox_logs(sb.id, { limit = read_n }).logs
    read[#read + 1] = now() - t0
    assert(#got == read_n and got[#got].line == tostring(lines), #got .. " lines read of " .. read_n)
    t0 = now()
    assert(os.execute(("curl -sf -o /dev/null '%s/v1/sandbox/%s/logs?limit=%d'"):format(srv.url, sb.id, read_n)))
    curl[#curl + 1] = now() - t0
    done(sb)
  end
  local p, q = median(printed), median(quiet)
  print(("workload printing %d lines  : %8.1f ms  (to /dev/null: %.1f ms; %.2fx)"):format(lines, p * 1000, q * 1000, p / q))
  print(("get_sandbox_logs of %d      : %8.1f ms  (the server's part, curl: %.1f ms)"):format(read_n, median(read) * 1000,
    median(curl) * 1000))
  porter:close()
end)
srv:stop()
if not ok then error(err, 0) end
