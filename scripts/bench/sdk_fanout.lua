-- lua5.4 sdk_fanout.lua BASE_URL N MODE: N get_sandbox calls, MODE "async" (AsyncPorter,
-- one task each, gathered) or "sync" (one Porter, one after the other); prints seconds. The
-- key is the one curl_multi.c's requests carry (sdk_request.h).
local sandbox = require "porter_sandbox"
local base, n, mode = arg[1], tonumber(arg[2]), arg[3]
local t0 = sandbox._now()
if mode == "async" then
  local a = sandbox.AsyncPorter { base_url = base, api_key = "bench" }
  local tasks = {}
  for i = 1, n do tasks[i] = function() return a.sandboxes.raw.get_sandbox("sb_slow").id end end
  a:gather(tasks)
else
  local p = sandbox.Porter { base_url = base, api_key = "bench" }
  for _ = 1, n do p.sandboxes.raw.get_sandbox("sb_slow") end
end
print(string.format("%.6f", sandbox._now() - t0))
