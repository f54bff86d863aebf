-- `<close>` sandboxes against the real porter-sandboxd: terminated when their scope ends,
-- also inside AsyncPorter tasks that fail. Lua 5.4's to-be-closed variables: this file runs
-- under 5.4 only (scripts/run-specs.sh leaves *_lua54_spec.lua out on other VMs).
local helpers = require("spec.helpers")
local sandbox = require("porter_sandbox")

describe("<close> sandboxes against porter-sandboxd", function()
  local env = helpers.sandboxd_and_porter { args = { "--image-fallback", "none" } }

  it("terminates a `<close>` sandbox when its scope ends, even by an error; twice is harmless", function()
    local id
    do
      local sb <close> = env.porter.sandboxes.create { image = "host" }
      id = sb.id
      assert.equal("running", sb:wait().phase)
    end
    local again = env.porter.raw.sandboxes.get_sandbox(id)
    assert.equal("terminated", again.phase)
    local ok = pcall(function()
      local sb <close> = env.porter.sandboxes.create { image = "host" }
      id = sb.id
      sb:wait()
      error("the job broke")
    end)
    assert.is_false(ok)
    assert.equal("terminated", env.porter.raw.sandboxes.get_sandbox(id).phase)
    local sb = env.porter.sandboxes.create { image = "host" }
    sb:terminate()
    sb:terminate()
    getmetatable(sb).__close(sb)
  end)

  it("terminates the `<close>` sandboxes of AsyncPorter tasks that fail, before gather returns or raises", function()
    local a = sandbox.AsyncPorter { base_url = env.server.url }
    local ids = {}
    local function failing(i)
      return function()
        local sb <close> = a.sandboxes.create { image = "host" }
        ids[i] = sb.id
        sb:wait()
        error("task " .. i .. " broke")
      end
    end
    -- gather raising its first error; then with return_errors; then a failing task inside a
    -- task's own gather, whose failure ends the outer task too
    local ok, err = pcall(a.gather, a, { failing(1), function() return "fine" end })
    assert.is_false(ok)
    assert.matches("task 1 broke", tostring(err))
    local results = a:gather({ failing(2), failing(3) }, { return_errors = true })
    assert.matches("task 2 broke", tostring(results[1]))
    ok = pcall(a.run, a, function()
      local outer <close> = a.sandboxes.create { image = "host" }
      ids[4] = outer.id
      a:gather { failing(5) }
    end)
    assert.is_false(ok)
    a:close()
    for i = 1, 5 do
      assert.truthy(ids[i], "task " .. i .. " made its sandbox")
      assert.equal("terminated", env.porter.raw.sandboxes.get_sandbox(ids[i]).phase, "task " .. i .. "'s sandbox")
    end
  end)
end)
