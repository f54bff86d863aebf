-- Clients own C memory (curl handles, header lists, config strings): making and dropping many
-- must leave nothing behind. Checked with valgrind on the plain (uninstrumented) build.
local helpers = require("spec.helpers")

describe("client lifetime", function()
  it("leaks nothing when 1000 clients are created and closed, or just collected", function()
    -- valgrind runs the plain build's module (an ASan one cannot run under it)
    local lib = os.getenv("SAN") == "1" and (os.getenv("PORTER_ROOT") or ".") .. "/build/lua" or helpers.lib
    local code = [[
      local s = require "porter_sandbox"
      for i = 1, 1000 do
        local p = s.Porter { base_url = "http://127.0.0.1:1", api_key = "k" .. i }
        if i % 2 == 0 then p:close() end
        if s.HAS_ASYNC then
          local a = s.AsyncPorter { base_url = "http://127.0.0.1:1" }
          if i % 3 == 0 then a:close() end
        end
      end
      collectgarbage(); collectgarbage()
      print("done")
    ]]
    local cmd = string.format(
      "env -u LD_PRELOAD LUA_PATH=%s LUA_CPATH=%s valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect " ..
      "--error-exitcode=9 %s -e %s 2>&1",
      helpers.process.shquote(lib .. "/?.lua;" .. lib .. "/?/init.lua;;"), helpers.process.shquote(lib .. "/?.so;;"),
      helpers.lua, helpers.process.shquote(code))
    local out, ok = helpers.process.capture(cmd)
    assert.equal("done\n", out)
    assert.is_true(ok, out)
  end)
end)
