-- AsyncPorter over the scripted server: responses are delayed on purpose, so that what runs
-- concurrently shows in the wall time.
local helpers = require("spec.helpers")
local sandbox = require("porter_sandbox")

local function now() return sandbox._now() end

describe("AsyncPorter", function()
  local srv, aporter
  setup(function() srv = helpers.scripted_server() end)
  teardown(function() srv:stop() end)
  before_each(function()
    srv:reset()
    aporter = sandbox.AsyncPorter { base_url = srv.url, timeout = 5 }
  end)
  after_each(function() aporter:close() end)

  it("runs 50 tasks of 300 ms requests concurrently", function()
    srv:script { { path = "/v1/sandbox/sb_1", times = 0, delay_ms = 300, json = helpers.answer.status() } }
    local tasks = {}
    for i = 1, 50 do
      tasks[i] = function() return aporter.raw.sandboxes.get_sandbox("sb_1").phase .. i end
    end
    local t0 = now()
    local results = aporter:gather(tasks)
    local elapsed = now() - t0
    assert.equal(50, #results)
    for i = 1, 50 do assert.equal("running" .. i, results[i]) end
    assert.is_true(elapsed < 1.2, "took " .. elapsed .. " s")
    assert.equal(50, #srv:requests())
  end)

  it("returns handles and checks arguments exactly as Porter does", function()
    srv:script { { method = "POST", path = "/v1/sandbox/run", status = 202, json = { id = "sb_7", name = "seven" } } }
    local sb = aporter:run(function() return aporter.sandboxes.create { image = "img", name = "seven" } end)
    assert.equal("Sandbox(sb_7)", tostring(sb))
    local e = helpers.raises(aporter.run, aporter, function() return aporter.sandboxes.create { name = "x" } end)
    assert.equal("ArgumentError", e.name)
    assert.equal(1, #srv:requests())
  end)

  it("retries inside one task while the others proceed", function()
    srv:script {
      { path = "/v1/volume", status = 503, times = 1 },
      { path = "/v1/volume", json = { volumes = {} } },
      { path = "/healthz", times = 0, delay_ms = 100, json = { status = "ok" } },
    }
    local results = aporter:gather {
      function() return #aporter.volumes.list() end,
      function() return aporter.health.check().status end,
      function() return aporter.health.check().status end,
    }
    assert.same({ 0, "ok", "ok" }, results)
    assert.equal(4, #srv:requests()) -- one 503, its retry, two health checks
  end)

  it("lets one task time out without disturbing the rest", function()
    local a = sandbox.AsyncPorter { base_url = srv.url, timeout = 0.3 }
    srv:script {
      { path = "/v1/volume", delay_ms = 2000, times = 0, json = { volumes = {} } },
      { path = "/healthz", times = 0, delay_ms = 50, json = { status = "ok" } },
    }
    local results = a:gather({
      function() return a.volumes.list() end,
      function() return a.health.check().status end,
      function() return a.health.check().status end,
    }, { return_errors = true })
    assert.equal("SandboxTimeoutError", results[1].name)
    assert.equal("ok", results[2])
    assert.equal("ok", results[3])
    a:close()
  end)

  it("raises the first error after the other tasks ended, with the task's index", function()
    srv:script {
      { path = "/v1/sandbox/nope", status = 404, json = { error = "no such sandbox" } },
      { path = "/healthz", times = 0, delay_ms = 100, json = { status = "ok" } },
    }
    local finished = 0
    local e = helpers.raises(aporter.gather, aporter, {
      function() aporter.health.check(); finished = finished + 1 end,
      function() return aporter.raw.sandboxes.get_sandbox("nope") end,
      function() aporter.health.check(); finished = finished + 1 end,
    })
    assert.equal("NotFoundError", e.name)
    assert.equal(2, e.task_index)
    assert.equal(2, finished)
  end)

  it("supports nested gather from inside tasks", function()
    srv:script { { path = "/healthz", times = 0, delay_ms = 200, json = { status = "ok" } } }
    local t0 = now()
    local results = aporter:gather {
      function()
        return aporter:gather {
          function() return aporter.health.check().status .. "-a" end,
          function() return aporter.health.check().status .. "-b" end,
        }
      end,
      function() return aporter:run(function() return aporter.health.check().status .. "-c" end) end,
    }
    assert.same({ { "ok-a", "ok-b" }, "ok-c" }, results)
    assert.is_true(now() - t0 < 0.6)
  end)

  -- how many connections the client used for n health checks at once
  local function connections_used(client, n)
    srv:script { { path = "/healthz", times = 0, delay_ms = 50, json = { status = "ok" } } }
    local tasks = {}
    for i = 1, n do tasks[i] = function() return client.health.check().status end end
    client:gather(tasks)
    local conns, count = {}, 0
    for _, r in ipairs(srv:requests()) do
      if not conns[r.conn] then conns[r.conn], count = true, count + 1 end
    end
    return count
  end

  it("bounds requests in flight and reuses connections", function()
    local a = sandbox.AsyncPorter { base_url = srv.url, max_connections = 4 }
    local n = connections_used(a, 20)
    assert.is_true(n <= 4, n .. " connections")
    a:close()
  end)

  it("takes concurrency, the older name of max_connections, but not both", function()
    local old = sandbox.AsyncPorter { base_url = srv.url, concurrency = 2 }
    local n = connections_used(old, 6)
    assert.is_true(n <= 2, n .. " connections")
    old:close()
    local e = helpers.raises(sandbox.AsyncPorter, { base_url = srv.url, concurrency = 2, max_connections = 4 })
    assert.equal("AsyncPorter: give 'max_connections' alone ('concurrency' is its older name)", e.message)
  end)

  it("sleeps without blocking other tasks", function()
    srv:script { { path = "/healthz", times = 0, delay_ms = 200, json = { status = "ok" } } }
    local t0 = now()
    aporter:gather {
      function() sandbox.sleep(0.2) end,
      function() aporter.health.check() end,
    }
    assert.is_true(now() - t0 < 0.35)
  end)

  it("says how to run a task when called outside one", function()
    local e = helpers.raises(aporter.health.check)
    assert.matches("inside a task: use aporter:run", e.message)
    local co = coroutine.wrap(function() return pcall(aporter.health.check) end)
    local ok, err = co()
    assert.is_false(ok)
    assert.matches("inside a task", err.message)
  end)

  it("refuses bad tasks before running any", function()
    local e = helpers.raises(aporter.gather, aporter, { function() end, 42 })
    assert.equal("ArgumentError", e.name)
    assert.equal("gather: task 2 must be a function (got number)", e.message)
  end)
end)
