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
    return #srv:get("/v1/sandbox").json.sandboxes
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

describe("porter-sandboxd on a Unix socket (--listen unix:PATH)", function()
  local process = require("spec.support.process")
  local sh = process.shquote
  local build = os.getenv("PORTER_BUILD") or "build"

  it("serves the SDK there, on a socket only its own uid may use, removed when it stops", function()
    local srv = sandboxd.start { unix = true }
    local path = srv.url:match("^unix:(.*)$")
    assert.equal("600 socket\n", io.popen("stat -c '%a %F' " .. sh(path)):read("a"))
    local porter = require("porter_sandbox").Porter { base_url = srv.url }
    assert.equal("Porter(" .. srv.url .. ")", tostring(porter))
    local sb = porter.sandboxes.create { image = "host", command = { "sleep", "30" } }
    sb:wait { timeout = 30 }
    assert.equal("over a socket\n", sb:exec { "echo", "over a socket" }.stdout)
    sb:terminate()
    porter:close()
    srv:stop(true)
    assert.is_falsy(os.execute("test -e " .. sh(path)), "the socket is left")
    os.execute("rm -rf " .. sh(srv.state_dir))
  end)

  it("takes over the socket a killed server left, and refuses a path that is in use or not a socket", function()
    local srv = sandboxd.start { unix = true }
    local path = srv.url:match("^unix:(.*)$")
    local scratch = process.tmpdir()
    local function second(at)
      return io.popen(("env -u LD_PRELOAD %s --listen unix:%s --state-dir %s 2>&1; echo rc=$?"):format(
        sh(build .. "/porter-sandboxd"), sh(at), sh(scratch .. "/state"))):read("a")
    end
    assert.matches("a server listens there already\nrc=1\n$", second(path))
    os.execute("kill -9 " .. srv.proc.pid) -- the socket file stays behind
    process.wait_gone(tostring(srv.proc.pid))
    assert.equal("socket\n", io.popen("stat -c %F " .. sh(path)):read("a"))
    srv:restart()
    local porter = require("porter_sandbox").Porter { base_url = srv.url }
    assert.equal("ok", porter.health.check().status)
    porter:close()
    srv:stop()
    local f = io.open(scratch .. "/file", "w"); f:write("keep me"); f:close()
    assert.matches("something that is not a socket is there\nrc=1\n$", second(scratch .. "/file"))
    assert.equal("keep me", process.read_all(scratch .. "/file"))
    os.execute("rm -rf " .. sh(scratch))
  end)
end)
