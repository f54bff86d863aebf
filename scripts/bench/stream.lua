-- lua5.4 scripts/bench/stream.lua [ROUNDS]: vol:stream of a 1 GiB file (2 MiB chunks, the
-- default) beside curl downloading it from the same server in the same run; medians, and the
-- stream's peak RSS.
local sandbox = require "porter_sandbox"
local sandboxd = require "spec.support.sandboxd"
local median = require("scripts.bench.stats").median
local now = sandbox._now
local rounds = tonumber(arg[1]) or 3
local hwm_reset, hwm = require("scripts.bench.stats").rss_reset, require("scripts.bench.stats").rss_peak

local srv = sandboxd.start { args = { "--volume-size", "3G" } }
local file = os.tmpname()
local ok, err = pcall(function()
  local p = sandbox.Porter { base_url = srv.url, timeout = 600 }
  local v = p.volumes.create { name = "big" }
  assert(os.execute("head -c 1073741824 /dev/urandom > " .. file))
  local url = ("%s/v1/volume/%s/files/content?path=/one.bin"):format(srv.url, v.id)
  assert(os.execute(("curl -sf -T %s '%s'"):format(file, url)))
  local c, s, peak = {}, {}, 0
  for r = 1, rounds do -- interleaved
    local t0 = now()
    assert(os.execute(("curl -sf -o /dev/null '%s'"):format(url)))
    c[r] = now() - t0
    collectgarbage()
    hwm_reset()
    t0 = now()
    local n = 0
    for chunk in v:stream("/one.bin") do n = n + #chunk end
    s[r] = now() - t0
    assert(n == 1 << 30)
    peak = math.max(peak, hwm())
  end
  print(("curl, 1 GiB                 : %7.3f s"):format(median(c)))
  print(("vol:stream, 1 GiB (2 MiB)   : %7.3f s   (%.2fx curl's throughput; peak RSS %d MiB)"):format(median(s),
    median(c) / median(s), peak // 1024))
end)
srv:stop()
os.remove(file)
if not ok then error(err, 0) end
