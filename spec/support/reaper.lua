-- Servers a test starts are stopped when the test ends, passed or failed. Without it a test
-- whose assertion fails halfway leaves its server, and that server's sandboxes, running for the
-- rest of the suite (its own `srv:stop()` at the end never runs). Servers started in a setup
-- or before_each belong to their block's teardown or after_each, as before: only what starts
-- between a test's start and its end is the test's. A server's stop is idempotent, so a test
-- that stops its own (to look at what is left after) is unchanged.
local busted = require("busted")

local M = {}
local in_test, owned = false, {}

-- the benchmarks start servers with these modules too, outside busted: nothing to reap there
if type(busted.subscribe) ~= "function" then
  function M.own(server) return server end
  return M
end

busted.subscribe({ "test", "start" }, function()
  in_test, owned = true, {}
  return nil, true
end)

busted.subscribe({ "test", "end" }, function()
  in_test = false
  local mine = owned
  owned = {}
  -- the newest first: a server started inside another's namespace goes before it; each one
  -- stopped even if one before it reported something (a sanitizer's finding fails the test)
  local first_err
  for i = #mine, 1, -1 do
    local ok, err = pcall(mine[i].stop, mine[i])
    first_err = first_err or (not ok and err) or nil
  end
  if first_err then error(first_err, 0) end
  return nil, true
end)

-- server (anything with an idempotent :stop()), made the running test's if one is running
function M.own(server)
  if in_test then owned[#owned + 1] = server end
  return server
end

return M
