-- lua5.4 sandboxd.lua BASE_URL ROUNDS: create-to-running latency and exec round trip on a
-- local porter-sandboxd, and `bwrap true` as the floor; prints "name seconds" lines.
local sandbox = require "porter_sandbox"
local base, rounds = arg[1], tonumber(arg[2])
local porter = sandbox.Porter { base_url = base }
local now = sandbox._now
for _ = 1, rounds do
  local t0 = now()
  local sb = porter.sandboxes.create { image = "bench" }
  while true do
    local st = sb:refresh()
    if st.phase ~= "queued" and st.phase ~= "creating" then break end
  end
  print("create_to_running", now() - t0)
  t0 = now()
  sb:exec { "true" }
  print("exec_true", now() - t0)
  sb:terminate()
  t0 = now()
  os.execute("bwrap --ro-bind / / --unshare-pid --dev /dev --proc /proc true")
  print("bwrap_true", now() - t0)
end
