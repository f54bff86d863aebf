-- lua5.4 sdk_get.lua BASE_URL N: N sequential porter.sandboxes.raw.get_sandbox calls over
-- one client (keep-alive); prints the elapsed seconds.
local sandbox = require "porter_sandbox"
local base, n = arg[1], tonumber(arg[2])
local porter = sandbox.Porter { base_url = base, api_key = "bench" }
local get = porter.sandboxes.raw.get_sandbox
get("sb_bench") -- connect outside the timing, as the C loop's first request does inside it
local t0 = sandbox._now()
for _ = 1, n do get("sb_bench") end
print(string.format("%.6f", sandbox._now() - t0))
