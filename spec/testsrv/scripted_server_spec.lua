-- The scripted server itself: the wire specs trust what it answers and records.
local helpers = require("spec.helpers")
local http = require("spec.support.http")

describe("porter-scripted-server", function()
  local srv
  setup(function() srv = helpers.scripted_server() end)
  teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  it("answers the first matching entry while it has uses left, then 404", function()
    srv:script { { method = "GET", path = "/a", times = 2, status = 201, body = "one" },
                 { path = "/a", json = { n = 3 } } }
    assert.equal(201, http.request { url = srv.url .. "/a" }.status)
    assert.equal("one", http.request { url = srv.url .. "/a" }.body)
    local r = http.request { url = srv.url .. "/a?x=1" }
    assert.same({ n = 3 }, r.json)
    assert.equal("application/json", r.headers["content-type"])
    r = http.request { url = srv.url .. "/a" }
    assert.equal(404, r.status)
    assert.equal("no script for GET /a", r.json.error)
  end)

  it("records method, raw path and query, headers, body, size, sha256", function()
    srv:script { { path = "*", times = 0, status = 204 } }
    http.request { method = "POST", url = srv.url .. "/p%2Fq?tag=a%3D1&tag=b", headers = { ["X-Test"] = "yes" }, body = "abc" }
    local r = srv:requests()[1]
    assert.equal("POST", r.method)
    assert.equal("/p%2Fq", r.path)
    assert.equal("tag=a%3D1&tag=b", r.query)
    assert.equal("yes", r.headers["x-test"])
    assert.equal("abc", r.body)
    assert.equal(3, r.body_size)
    assert.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", r.body_sha256)
    assert.equal("number", type(r.conn))
  end)

  it("generates big bodies and serves byte ranges", function()
    srv:script { { path = "/g", times = 0, ranges = true, gen_body = { prefix = "<", size = 10, byte = "z", suffix = ">" } } }
    assert.equal("<zzzzzzzzzz>", http.request { url = srv.url .. "/g" }.body)
    local r = http.request { url = srv.url .. "/g", headers = { Range = "bytes=1-3" } }
    assert.equal(206, r.status)
    assert.equal("zzz", r.body)
    assert.equal("bytes 1-3/12", r.headers["content-range"])
    assert.equal(416, http.request { url = srv.url .. "/g", headers = { Range = "bytes=12-" } }.status)
  end)

  it("delays answers", function()
    srv:script { { path = "/slow", delay_ms = 200 } }
    local t0 = require("porter_sandbox")._now()
    http.request { url = srv.url .. "/slow" }
    assert.is_true(require("porter_sandbox")._now() - t0 >= 0.2)
  end)
end)
