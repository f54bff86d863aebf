-- The SDK on the Lua it was built for: make test LUA=lua5.1 / lua5.3 / luajit runs the SDK's
-- specs under that VM, this file among them.
local helpers = require("spec.helpers")
local sandbox = require("porter_sandbox")

describe("the SDK on " .. (jit and jit.version or _VERSION), function()
  it("is the module built for this VM", function()
    local path = package.searchpath and package.searchpath("porter_sandbox.core", package.cpath)
    if not path then
      for dir in package.cpath:gmatch("[^;]+") do
        local p = dir:gsub("%?", "porter_sandbox/core")
        local f = io.open(p)
        if f then f:close(); path = p; break end
      end
    end
    assert.equal(helpers.lib .. "/porter_sandbox/core.so", path)
  end)

  if _VERSION == "Lua 5.1" and not jit then
    it("says AsyncPorter is unavailable on Lua 5.1, and why, and that Porter works", function()
      assert.is_false(sandbox.HAS_ASYNC)
      local e = helpers.raises(sandbox.AsyncPorter, { base_url = "http://127.0.0.1:1" })
      assert.equal("Error", e.name)
      assert.equal("AsyncPorter is not available on Lua 5.1: its tasks yield from inside the SDK's C calls and "
        .. "across pcall, which needs Lua 5.3, 5.4 or LuaJIT; use Porter, whose calls block", e.message)
      -- and Porter works (download_dir, which runs its files through an AsyncPorter elsewhere,
      -- moves them one after another here: spec/integration/transfer_spec.lua under 5.1)
      local p = sandbox.Porter { base_url = "http://127.0.0.1:1", max_retries = 0 }
      assert.equal("ConnectionError", helpers.raises(p.health.check).name)
      p:close()
    end)
  else
    it("has AsyncPorter: a task's call yields from C and resumes where it was", function()
      assert.is_true(sandbox.HAS_ASYNC)
      local srv = helpers.scripted_server()
      srv:script { { method = "GET", path = "/v1/sandbox/sb_1", times = 0, delay_ms = 200, json = helpers.answer.status() } }
      local a = sandbox.AsyncPorter { base_url = srv.url }
      local t0 = sandbox._now()
      local results = a:gather {
        function()
          local sb = a.sandboxes.get("sb_1")
          -- pcall around a yielding call: a task's own error handling must not stop the yield
          local ok, again = pcall(sb.refresh, sb)
          return ok and again.phase
        end,
        function() return a.sandboxes.get("sb_1").id end,
      }
      local elapsed = sandbox._now() - t0
      assert.same({ "running", "sb_1" }, results)
      assert.is_true(elapsed < 0.55, ("three 200 ms requests, two at once, took %.2f s"):format(elapsed))
      a:close()
      srv:stop()
    end)
  end
end)
