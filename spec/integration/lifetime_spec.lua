-- Waiting and lifetime against the real porter-sandboxd: wait raising on failure, wait_exit,
-- sandboxes.each over every page, logs{follow = true}. (`<close>` sandboxes, a 5.4 feature:
-- close_lua54_spec.lua.)
local helpers = require("spec.helpers")
local sandbox = require("porter_sandbox")

describe("sandbox lifetime against porter-sandboxd", function()
  local server, porter
  setup(function()
    server = helpers.sandboxd { args = { "--image-fallback", "none" } }
    porter = sandbox.Porter { base_url = server.url }
  end)
  teardown(function()
    porter:close()
    server:stop()
  end)

  local function tag() return ("t%d%d"):format(os.time() % 100000, math.random(1e6)) end

  it("wait raises when the sandbox fails instead of starting, with its phase and last log lines", function()
    local sb = porter.sandboxes.create { image = "127.0.0.1:1/nothing/here:1" }
    local ok, e = pcall(sb.wait, sb, { timeout = 30 })
    assert.is_false(ok)
    assert.equal("SandboxError", e.name)
    assert.equal("failed", e.phase)
    assert.matches("^sandbox " .. sb.id .. " failed instead of starting: ", e.message)
    assert.matches("127.0.0.1:1/nothing/here:1", e.message, 1, true)
    assert.is_true(#e.logs >= 1)
    -- LogLine values, as sb:logs() gives, printable like them
    assert.matches("127.0.0.1:1/nothing/here:1", e.logs[#e.logs].line, 1, true)
    assert.equal("error", e.logs[#e.logs].level)
    assert.matches("^LogLine%(", tostring(e.logs[#e.logs]))
    -- a misspelt option is an error, not the default
    local bad = helpers.raises(sb.wait, sb, { timout = 5 })
    assert.equal("ArgumentError", bad.name)
    assert.equal("Sandbox:wait: unknown option 'timout' (expected one of: timeout)", bad.message)
    assert.matches("^spec/integration/lifetime_spec.lua:%d+$", e.where)
  end)

  it("gets sandboxes and volumes by id as by name", function()
    local sb = porter.sandboxes.create { image = "host", name = "by-id-" .. tag() }
    assert.equal(sb.id, porter.sandboxes.get(sb.id).id)
    assert.equal(sb.id, porter.sandboxes.get(sb.name).id)
    -- misspelt options of the façade's own functions are errors naming them, as C's are
    local bad = helpers.raises(function() for _ in sb:logs { follow = true, intervall = 1 } do end end)
    assert.equal("Sandbox:logs: unknown option 'intervall' (expected one of: follow, interval, since, limit)", bad.message)
    sb:terminate()
    local v = porter.volumes.create { name = "by-id-" .. tag() }
    assert.equal(v.id, porter.volumes.get(v.id).id)
    assert.equal(v.id, porter.volumes.get(v.name).id)
    bad = helpers.raises(v.stream, v, "/f", { chunksize = 1 })
    assert.equal("Volume:stream: unknown option 'chunksize' (expected one of: chunk_size, progress)", bad.message)
    bad = helpers.raises(v.search, v, "x", { pth = "/" })
    assert.equal("Volume:search: unknown option 'pth' (expected one of: path)", bad.message)
    porter.volumes.delete(v.id)
    assert.equal("NotFoundError", helpers.raises(porter.volumes.get, v.id).name)
    assert.equal("NotFoundError", helpers.raises(porter.sandboxes.get, "sb_0000000000000000").name)
  end)

  it("wait_exit answers the final status with an integer exit code, and raises for none", function()
    local sb = porter.sandboxes.create { image = "host", command = { "sh", "-c", "sleep 0.3; exit 3" } }
    local st = sb:wait_exit { timeout = 30 }
    assert.equal("failed", st.phase)
    assert.equal(3, st.exit_code)
    assert.equal("integer", math.type(st.exit_code))
    local ok0 = porter.sandboxes.create { image = "host", command = { "true" } }:wait_exit()
    assert.equal("succeeded", ok0.phase)
    assert.equal(0, ok0.exit_code)
    local long = porter.sandboxes.create { image = "host", command = { "sleep", "30" } }
    local ok, e = pcall(long.wait_exit, long, { timeout = 0.3 })
    assert.is_false(ok)
    assert.equal("SandboxTimeoutError", e.name)
    assert.matches("still running after 0.3s", e.message)
    long:terminate()
    assert.equal("terminated", long:wait_exit().phase)
    local bad = helpers.raises(long.wait_exit, long, { timeout = "soon" })
    assert.equal("ArgumentError", bad.name)
  end)

  it("each walks every page of list (more than one page of 50)", function()
    local t = tag()
    local made = {}
    for _ = 1, 55 do made[porter.sandboxes.create { image = "host", command = { "true" }, tags = { batch = t } }.id] = true end
    local seen, n = {}, 0
    for sb in porter.sandboxes.each { tags = { batch = t } } do
      assert.is_true(made[sb.id], sb.id)
      assert.is_nil(seen[sb.id], "twice: " .. sb.id)
      seen[sb.id] = true
      n = n + 1
    end
    assert.equal(55, n)
    local count = 0
    for _ in porter.sandboxes:each { tags = { batch = "none-" .. t } } do count = count + 1 end
    assert.equal(0, count)
  end)

  local SCRIPT = "for i in 1 2 3 4 5 6; do echo line$i; sleep 0.15; done; echo oops >&2"

  local function follow_all(client, sb)
    local got = {}
    for l in sb:logs { follow = true, interval = 0.05 } do got[#got + 1] = l.line end
    return got
  end

  it("follows logs as they come until the sandbox ends, without gaps or duplicates", function()
    local sb = porter.sandboxes.create { image = "host", command = { "sh", "-c", SCRIPT } }
    local got = follow_all(porter, sb)
    assert.same({ "line1", "line2", "line3", "line4", "line5", "line6", "oops" }, got)
    -- a plain logs call is unchanged
    assert.equal(7, #sb:logs())
  end)

  -- AsyncPorter, where the VM has it (not Lua 5.1: vm_spec.lua)
  if sandbox.HAS_ASYNC then
    it("follows logs inside AsyncPorter tasks, two at once", function()
      local aporter = sandbox.AsyncPorter { base_url = server.url }
      local results = aporter:gather {
        function()
          local sb = aporter.sandboxes.create { image = "host", command = { "sh", "-c", SCRIPT } }
          return follow_all(aporter, sb)
        end,
        function()
          local sb = aporter.sandboxes.create { image = "host", command = { "sh", "-c", "echo a; sleep 0.4; echo b" } }
          return follow_all(aporter, sb)
        end,
      }
      aporter:close()
      assert.same({ "line1", "line2", "line3", "line4", "line5", "line6", "oops" }, results[1])
      assert.same({ "a", "b" }, results[2])
    end)
  end
end)
