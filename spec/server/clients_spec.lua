-- The API answers only its own clients, as a web page would try otherwise: a page on a name
-- rebound to 127.0.0.1 (its Host is that name) and a cross-site "simple" POST (its Origin is
-- the page's, its body text/plain, so no preflight asks first).
local http = require("spec.support.http")
local sandboxd = require("spec.support.sandboxd")

describe("porter-sandboxd's clients", function()
  local srv
  setup(function()
    srv = sandboxd.start { args = { "--allow-host", "sandbox.internal.test", "--allow-origin", "https://console.test" } }
  end)
  teardown(function() srv:stop() end)

  local function count()
    return #http.request { url = srv.url .. "/v1/sandbox" }.json.sandboxes
  end

  it("refuses a Host that is a name it does not answer to (DNS rebinding), before anything runs", function()
    local before = count()
    for _, host in ipairs { "evil.example:" .. srv.port, "evil.example", "127.0.0.1.evil.example", "localhost.evil.example" } do
      local r = http.request { method = "POST", url = srv.url .. "/v1/sandbox/run", headers = { host = host },
                               json = { image = "host", command = { "true" } } }
      assert.equal(403, r.status, host)
      assert.matches("answers only its own clients: Host '" .. host:gsub("%p", "%%%0") .. "'", r.body)
      assert.equal(403, http.request { url = srv.url .. "/v1/sandbox", headers = { host = host } }.status)
    end
    assert.equal(before, count())
  end)

  it("answers addresses, loopback names, the name it listens on and --allow-host names", function()
    for _, host in ipairs { "127.0.0.1:" .. srv.port, "localhost:" .. srv.port, "LOCALHOST", "api.localhost:" .. srv.port,
                            "[::1]:" .. srv.port, "10.1.2.3", "sandbox.internal.test:" .. srv.port } do
      local r = http.request { url = srv.url .. "/v1/sandbox", headers = { host = host } }
      assert.equal(200, r.status, host)
    end
  end)

  it("refuses a request from a web page (Origin), whatever it asks, and sends no CORS header", function()
    local before = count()
    local r = http.request { method = "POST", url = srv.url .. "/v1/sandbox/run",
                             headers = { origin = "https://evil.example", ["content-type"] = "text/plain" },
                             body = '{"image":"host","command":["sh","-c","echo pwned"]}' }
    assert.equal(403, r.status)
    assert.matches("requests from web pages are refused (Origin 'https://evil.example')", r.body, 1, true)
    assert.is_nil(r.headers["access-control-allow-origin"])
    assert.equal(403, http.request { url = srv.url .. "/v1/sandbox", headers = { origin = "null" } }.status)
    assert.equal(before, count())
  end)

  it("takes a JSON body only as application/json (415 otherwise: a page's text/plain form post)", function()
    local before = count()
    for _, ct in ipairs { "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                          "application/jsonp" } do
      local r = http.request { method = "POST", url = srv.url .. "/v1/sandbox/run", headers = { ["content-type"] = ct },
                               body = '{"image":"host","command":["true"]}' }
      assert.equal(415, r.status, ct)
      assert.matches("the body must be sent as Content-Type: application/json", r.body, 1, true)
    end
    assert.equal(before, count())
    local r = http.request { method = "POST", url = srv.url .. "/v1/sandbox/run",
                             headers = { ["content-type"] = "Application/JSON; charset=utf-8" },
                             body = '{"image":"host","command":["true"]}' }
    assert.equal(202, r.status, r.body)
  end)

  it("answers an origin --allow-origin names", function()
    local r = http.request { url = srv.url .. "/v1/sandbox", headers = { origin = "https://console.test" } }
    assert.equal(200, r.status)
    assert.equal(403, http.request { url = srv.url .. "/v1/sandbox", headers = { origin = "https://console.test.evil" } }.status)
  end)
end)
