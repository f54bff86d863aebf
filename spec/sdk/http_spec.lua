-- The wire, as a scripted server records it: paths, query strings, headers, bodies; retries;
-- timeouts; redirects; error mapping; malformed answers; big bodies.
local helpers = require("spec.helpers")
local sandbox = require("porter_sandbox")
local cjson = require("cjson")

local STATUS = helpers.answer.status { tags = { team = "a" }, exit_code = cjson.null, extra_field = { nested = true } }

describe("the HTTP layer", function()
  local srv, porter
  setup(function() srv = helpers.scripted_server() end)
  teardown(function() srv:stop() end)
  before_each(function()
    srv:reset()
    porter = sandbox.Porter { base_url = srv.url .. "/", api_key = "sk-test", timeout = 5 }
  end)
  after_each(function() porter:close() end)

  local function only_request()
    local reqs = srv:requests()
    assert.equal(1, #reqs)
    return reqs[1]
  end

  it("sends the documented headers", function()
    srv:script { { method = "GET", path = "/v1/sandbox/sb_1", json = STATUS } }
    porter.raw.sandboxes.get_sandbox("sb_1")
    local r = only_request()
    assert.equal("porter-sandbox-lua/0.1.0", r.headers["user-agent"])
    assert.equal("Bearer sk-test", r.headers["authorization"])
    assert.equal("application/json", r.headers["accept"])
    assert.is_nil(r.headers["content-type"])
  end)

  it("sends no Authorization header without a key", function()
    local anon = sandbox.Porter { base_url = srv.url }
    srv:script { { path = "/healthz", json = { status = "ok" } } }
    assert.same({ status = "ok" }, anon.health.check())
    assert.is_nil(only_request().headers["authorization"])
    anon:close()
  end)

  it("encodes path parameters and repeats query arrays", function()
    srv:script { { method = "GET", path = "/v1/sandbox", json = helpers.answer.page() } }
    porter.sandboxes.list { tags = { team = "a b", env = "prod" }, phase = { "running", "failed" }, search = "x&y", page = 2,
                            include_filter_values = true }
    local r = only_request()
    assert.equal("/v1/sandbox", r.path)
    -- query order follows the contract's parameter order
    assert.equal("search=x%26y&tag=env%3Dprod&tag=team%3Da%20b&phase=running&phase=failed&include_filter_values=true&page=2", r.query)
    srv:reset()
    srv:script { { method = "GET", path = "/v1/sandbox/a%2Fb", json = STATUS } }
    porter.raw.sandboxes.get_sandbox("a/b")
    assert.equal("/v1/sandbox/a%2Fb", only_request().path)
  end)

  it("sends JSON bodies without nil fields, with [] and {} for empty arrays and maps", function()
    srv:script { { method = "POST", path = "/v1/sandbox/run", status = 202, json = { id = "sb_9", name = "n" } } }
    local sb = porter.sandboxes.create { image = "img", name = "n", command = {}, env = {}, ttl_seconds = 60.0 }
    local r = only_request()
    assert.equal("application/json", r.headers["content-type"])
    local body = r.body
    assert.truthy(body:find('"command":[]', 1, true), body)
    assert.truthy(body:find('"env":{}', 1, true), body)
    assert.truthy(body:find('"ttl_seconds":60', 1, true), body)
    assert.falsy(body:find("60.0", 1, true), body)
    assert.falsy(body:find("tags", 1, true), body)
    assert.equal("sb_9", sb.id)
    assert.is_nil(sb.phase)
    assert.is_nil(sb.tags)
  end)

  it("decodes answers: integers stay integers, null is nil, unknown fields are kept", function()
    srv:script { { method = "POST", path = "/v1/sandbox/sb_1/exec", json = { stdout = "hi\n", stderr = "", exit_code = 3 } },
                 { method = "GET", path = "/v1/sandbox/sb_1", json = STATUS } }
    local r = porter.raw.sandboxes.exec_sandbox("sb_1", { command = { "sh", "-c", "exit 3" } })
    assert.equal(3, r.exit_code)
    assert.equal("integer", math.type(r.exit_code))
    local st = porter.raw.sandboxes.get_sandbox("sb_1")
    assert.is_nil(st.exit_code)
    assert.same({ nested = true }, st.extra_field)
  end)

  it("makes every integral number an integer, declared or not; others stay floats", function()
    srv:script { { method = "GET", path = "/v1/sandbox/sb_1", body = '{"id":"sb_1","name":"one","image":"i","created_at":"","host":"","phase":"running","exit_code":3.0,' ..
                   '"extra":{"count":7,"ratio":1.5,"list":[1,2.0,3.25]},"big":1e300}', headers = { ["Content-Type"] = "application/json" } } }
    local st = porter.raw.sandboxes.get_sandbox("sb_1")
    assert.equal("integer", math.type(st.exit_code))
    assert.equal("integer", math.type(st.extra.count))
    assert.equal("float", math.type(st.extra.ratio))
    assert.same({ "integer", "integer", "float" }, { math.type(st.extra.list[1]), math.type(st.extra.list[2]), math.type(st.extra.list[3]) })
    assert.equal("float", math.type(st.big))
  end)

  it("follows redirects, keeping the method and the body", function()
    srv:script {
      { method = "POST", path = "/v1/sandbox/sb_1/exec", status = 307, headers = { Location = "/owner/exec" } },
      { method = "POST", path = "/owner/exec", json = { stdout = "moved", stderr = "", exit_code = 0 } },
    }
    local r = porter.raw.sandboxes.exec_sandbox("sb_1", { command = { "true" } })
    assert.equal("moved", r.stdout)
    local reqs = srv:requests()
    assert.equal(2, #reqs)
    assert.equal("POST", reqs[2].method)
    assert.equal('{"command":["true"]}', reqs[2].body)
  end)

  describe("redirects to another origin", function()
    local other
    setup(function() other = helpers.scripted_server() end)
    teardown(function() other:stop() end)
    before_each(function() other:reset() end)

    local function via(client, method, path, call)
      srv:script { { method = method, path = path, status = 307, headers = { Location = other.url .. "/elsewhere" } } }
      return helpers.raises(call, client)
    end

    it("does not send a request body there", function()
      porter:close()
      for _, client in ipairs(helpers.clients { base_url = srv.url, api_key = "sk-test" }) do
        porter = client -- closed by after_each
        srv:reset()
        local e = via(client, "POST", "/v1/sandbox/sb_1/exec", function(c)
          local exec = function() return c.raw.sandboxes.exec_sandbox("sb_1", { command = { "true" } }) end
          if not c.run then return exec() end
          return c:run(exec)
        end)
        assert.equal("SandboxError", e.name)
        assert.equal(307, e.status_code)
        assert.matches("redirected to another origin %(" .. other.url:gsub("%p", "%%%0") .. "/elsewhere%)", e.message)
        assert.equal(0, #other:requests())
        client:close()
      end
    end)

    it("follows a request without a body, without the API key", function()
      other:script { { method = "GET", path = "/elsewhere", json = { status = "ok" } } }
      srv:script { { method = "GET", path = "/healthz", status = 302, headers = { Location = other.url .. "/elsewhere" } } }
      assert.same({ status = "ok" }, porter.health.check())
      local there = other:requests()
      assert.equal(1, #there)
      assert.is_nil(there[1].headers["authorization"])
    end)

    it("stops after 10 redirects", function()
      srv:script { { method = "GET", path = "/healthz", status = 301, times = 0, headers = { Location = "/healthz" } } }
      local e = helpers.raises(porter.health.check)
      assert.matches("more than 10 redirects", e.message)
      assert.equal(11, #srv:requests())
    end)
  end)

  it("errors raised in the Lua façade say where its caller was", function()
    srv:script { { method = "GET", path = "/v1/sandbox/lookup", json = { id = "sb_1" } },
                 { method = "GET", path = "/v1/sandbox/sb_1", json = STATUS } }
    local sb = porter.sandboxes.get("one")
    local ok, e = pcall(sb.wait, sb, { timeout = "soon" }) local line = debug.getinfo(1, "l").currentline
    assert.is_false(ok)
    assert.equal("ArgumentError", e.name)
    assert.equal("spec/sdk/http_spec.lua:" .. line, e.where)
  end)

  it("reuses one connection across calls", function()
    srv:script { { method = "GET", path = "/healthz", times = 0, json = { status = "ok" } } }
    for _ = 1, 5 do porter.health.check() end
    local reqs = srv:requests()
    assert.equal(5, #reqs)
    for i = 2, 5 do assert.equal(reqs[1].conn, reqs[i].conn) end
  end)

  describe("retries", function()
    it("retries 429 and 5xx up to 3 times, then raises the mapped error", function()
      srv:script { { path = "/v1/volume", status = 503, times = 0, json = { error = "busy" } } }
      local e = helpers.raises(porter.volumes.list)
      assert.equal("ServerError", e.name)
      assert.equal("busy", e.message)
      assert.equal(503, e.status_code)
      assert.same({ error = "busy" }, e.body)
      assert.equal(4, #srv:requests())
      srv:reset()
      srv:script { { path = "/v1/volume", status = 429, times = 0, body = "slow down" } }
      e = helpers.raises(porter.volumes.list)
      assert.equal("RateLimitError", e.name)
      assert.equal("GET /v1/volume answered HTTP 429 without the API's JSON error: is " .. srv.url ..
                   " a Porter Sandbox API?", e.message)
      assert.equal("slow down", e.body)
      assert.equal(4, #srv:requests())
    end)

    it("succeeds when a retry does", function()
      srv:script { { path = "/v1/volume", status = 502, times = 2 }, { path = "/v1/volume", json = { volumes = {} } } }
      assert.same({}, porter.volumes.list())
      assert.equal(3, #srv:requests())
    end)

    it("honours max_retries", function()
      local p = sandbox.Porter { base_url = srv.url, max_retries = 1 }
      srv:script { { path = "/v1/volume", status = 500, times = 0 } }
      helpers.raises(p.volumes.list)
      assert.equal(2, #srv:requests())
      p:close()
    end)

    it("never retries exec, not even on a 5xx", function()
      srv:script { { path = "/v1/sandbox/sb_1/exec", status = 500, times = 0, json = { error = "exec failed" } } }
      local e = helpers.raises(porter.raw.sandboxes.exec_sandbox, "sb_1", { command = { "ls" } })
      assert.equal("ServerError", e.name)
      assert.equal(1, #srv:requests())
    end)

    it("retries a dropped connection", function()
      srv:script { { path = "/healthz", drop = true, times = 1 }, { path = "/healthz", json = { status = "ok" } } }
      assert.same({ status = "ok" }, porter.health.check())
      assert.equal(2, #srv:requests())
    end)

    it("retries connection refused, then raises ConnectionError saying nothing listens there", function()
      for _, p in ipairs(helpers.clients { base_url = "http://127.0.0.1:1", max_retries = 2 }) do
        local e = helpers.raises(function()
          if getmetatable(p).__name == "AsyncPorter" then return p:run(p.health.check) end
          return p.health.check()
        end)
        assert.equal("ConnectionError", e.name)
        assert.is_true(e:is(sandbox.SandboxError))
        assert.is_nil(e.status_code)
        assert.matches("^nothing listens at http://127.0.0.1:1: GET http://127.0.0.1:1/healthz failed after 3 attempts", e.message)
        p:close()
      end
    end)

    it("raises ConnectionError naming the host when it does not resolve", function()
      local p = sandbox.Porter { base_url = "http://no-such-host.invalid", max_retries = 0 }
      local e = helpers.raises(p.health.check)
      assert.equal("ConnectionError", e.name)
      assert.matches("the host of http://no-such-host.invalid is not known", e.message, 1, true)
      p:close()
    end)
  end)

  describe("timeouts", function()
    it("raises SandboxTimeoutError saying how long it waited, without retrying", function()
      local p = sandbox.Porter { base_url = srv.url, timeout = 0.3 }
      srv:script { { path = "/v1/volume", delay_ms = 1500, times = 0, json = { volumes = {} } } }
      local e = helpers.raises(p.volumes.list)
      assert.equal("SandboxTimeoutError", e.name)
      assert.is_true(e:is(sandbox.SandboxError))
      assert.matches("timed out after 0.3s", e.message)
      assert.equal(1, #srv:requests())
      p:close()
    end)

    it("lets exec run past the client timeout, and takes an explicit one in raw", function()
      local p = sandbox.Porter { base_url = srv.url, timeout = 0.2 }
      srv:script { { path = "/v1/sandbox/sb_1/exec", delay_ms = 600, times = 0, json = { stdout = "", stderr = "", exit_code = 0 } } }
      assert.equal(0, p.raw.sandboxes.exec_sandbox("sb_1", { command = { "sleep", "1" } }).exit_code)
      local e = helpers.raises(p.raw.sandboxes.exec_sandbox, "sb_1", { command = { "sleep", "1" } }, { timeout = 0.1 })
      assert.equal("SandboxTimeoutError", e.name)
      p:close()
    end)
  end)

  describe("errors", function()
    local cases = { [400] = "SandboxError", [401] = "AuthenticationError", [404] = "NotFoundError",
                    [409] = "ConflictError", [422] = "SandboxError" }
    for status, name in pairs(cases) do
      it("maps HTTP " .. status .. " to " .. name .. " with the server's message", function()
        srv:script { { path = "/v1/sandbox/sb_x", status = status, json = { error = "because " .. status } } }
        local e = helpers.raises(porter.raw.sandboxes.get_sandbox, "sb_x")
        assert.equal(name, e.name)
        assert.equal("because " .. status, e.message)
        assert.equal(status, e.status_code)
        assert.equal(1, #srv:requests())
      end)
    end

    it("turns a malformed JSON answer into a SandboxError carrying the raw text", function()
      srv:script { { path = "/v1/sandbox/sb_1", headers = { ["Content-Type"] = "application/json" }, body = '{"id": "sb_1", ' } }
      local e = helpers.raises(porter.raw.sandboxes.get_sandbox, "sb_1")
      assert.equal("SandboxError", e.name)
      assert.matches("^malformed JSON in response", e.message)
      assert.equal('{"id": "sb_1", ', e.body)
    end)

    it("turns an answer of the wrong shape into a SandboxError", function()
      srv:script { { path = "/v1/sandbox/sb_1/exec", json = { stdout = "x", stderr = "", exit_code = "zero" } } }
      local e = helpers.raises(porter.raw.sandboxes.exec_sandbox, "sb_1", { command = { "x" } })
      assert.equal("SandboxError", e.name)
      assert.equal("unexpected response: 'exit_code' should be an integer", e.message)
    end)
  end)

  describe("big bodies", function()
    it("takes a 20 MB exec stdout", function()
      local n = 20 * 1024 * 1024
      srv:script { { path = "/v1/sandbox/sb_1/exec", headers = { ["Content-Type"] = "application/json" },
                     gen_body = { prefix = '{"stdout":"', size = n, byte = "a", suffix = '","stderr":"","exit_code":0}' } } }
      local r = porter.raw.sandboxes.exec_sandbox("sb_1", { command = { "yes" } })
      assert.equal(n, #r.stdout)
      assert.equal(string.rep("a", 16), r.stdout:sub(-16))
    end)

    it("streams a 100 MB upload from a file handle and reads 100 MB back", function()
      local dir = helpers.process.tmpdir()
      local path = dir .. "/big.bin"
      local n = 100 * 1024 * 1024
      os.execute(string.format("head -c %d /dev/zero | tr '\\0' 'z' > %s", n, path))
      local sha = io.popen("sha256sum " .. path):read("l"):match("^(%x+)")
      srv:script { { method = "PUT", path = "/v1/volume/vol_1/files/content", status = 204 },
                   { method = "GET", path = "/v1/volume/vol_1/files/content", gen_body = { size = n, byte = "z" } } }
      -- 100 MB each way takes seconds under the sanitizers on a busy machine: not a 5 s client
      local patient = sandbox.Porter { base_url = srv.url, timeout = 120 }
      local vol = patient.raw.volumes
      local f = assert(io.open(path, "rb"))
      vol.write_volume_file("vol_1", { path = "/big.bin" }, f)
      f:close()
      local r = srv:requests()[1]
      assert.equal("PUT", r.method)
      assert.equal("path=%2Fbig.bin", r.query)
      assert.equal("application/octet-stream", r.headers["content-type"])
      assert.equal(n, r.body_size)
      assert.equal(sha, r.body_sha256)
      -- the download: 8 MiB ranged reads until the end that Content-Range reports
      srv:reset()
      srv:script { { method = "POST", path = "/v1/volume", json = helpers.answer.volume { name = "big" } },
                   { method = "GET", path = "/v1/volume/vol_1/files/content", times = 0, ranges = true,
                     gen_body = { size = n, byte = "z" } } }
      local handle = patient.volumes.create { name = "big" }
      local total, chunks = 0, 0
      for chunk in handle:stream("big.bin") do
        total = total + #chunk
        chunks = chunks + 1
        assert.equal("zzzz", chunk:sub(-4))
      end
      assert.equal(n, total)
      assert.equal(50, chunks) -- 2 MiB each
      local reqs = srv:requests()
      assert.equal(51, #reqs)
      assert.equal("bytes=0-2097151", reqs[2].headers["range"])
      assert.equal("application/octet-stream", reqs[2].headers["accept"])
      patient:close()
      os.execute("rm -rf " .. dir)
    end)
  end)

  describe("a hostile or broken server", function()
    it("stops reading a JSON body past max_response_bytes, with a clear error", function()
      local small = sandbox.Porter { base_url = srv.url, max_response_bytes = 1024 * 1024, timeout = 5 }
      srv:script { { path = "/v1/volume", headers = { ["Content-Type"] = "application/json" },
                     gen_body = { prefix = '{"volumes":["', size = 3 * 1024 * 1024, suffix = '"]}' } } }
      local e = helpers.raises(small.volumes.list)
      assert.equal("SandboxError", e.name)
      assert.matches("larger than max_response_bytes (1048576 bytes)", e.message, 1, true)
      assert.equal(1, #srv:requests(), "not retried")
      small:close()
      local ae = helpers.raises(sandbox.Porter, { base_url = srv.url, max_response_bytes = "big" })
      assert.matches("'max_response_bytes' must be an integer", ae.message, 1, true)
    end)

    it("takes an HTTP status outside 100-599 as a protocol error, not a server error to retry", function()
      srv:script { { path = "/v1/volume", status = 999, times = 0, json = { error = "odd" } } }
      local e = helpers.raises(porter.volumes.list)
      assert.equal("SandboxError", e.name)
      assert.matches("HTTP status 999", e.message, 1, true)
      assert.equal(1, #srv:requests())
    end)

    it("takes oversized headers as a protocol error, not a network error to retry", function()
      -- the scripted server cannot send 300 KiB of headers; a one-shot listener can (a retry
      -- would find nobody listening and fail differently)
      local process = helpers.process
      local dir = process.tmpdir()
      local many = {}
      for i = 1, 40 do many[i] = "X-Many-" .. i .. ": " .. string.rep("m", 8 * 1024) .. "\r\n" end
      for _, headers in ipairs { table.concat(many), "X-Huge: " .. string.rep("h", 300 * 1024) .. "\r\n" } do
        local f = assert(io.open(dir .. "/answer", "wb"))
        f:write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" .. headers ..
                "Content-Length: 14\r\n\r\n{\"volumes\":[]}")
        f:close()
        local port = math.random(20000, 32000)
        local nc = process.spawn { "sh", "-c", "busybox nc -l -p " .. port .. " < " .. dir .. "/answer > /dev/null" }
        process.sleep(0.3)
        local direct = sandbox.Porter { base_url = "http://127.0.0.1:" .. port, timeout = 5 }
        local e = helpers.raises(direct.volumes.list)
        direct:close()
        process.stop(nc)
        assert.equal("SandboxError", e.name)
        assert.matches("KiB of headers", e.message, 1, true)
      end
      os.execute("rm -rf " .. process.shquote(dir))
    end)

    it("refuses entry names from a listing that would leave the directory", function()
      local vol = helpers.answer.volume()
      srv:script { { method = "GET", path = "/v1/volume/lookup", times = 0, json = { id = "vol_1" } },
                   { method = "GET", path = "/v1/volume/vol_1", times = 0, json = vol },
                   { method = "GET", path = "/v1/volume/vol_1/files", times = 0,
                     json = helpers.answer.listing { helpers.answer.entry { name = "../x", type = "directory", truncated = true } } } }
      local handle = porter.volumes.get("vol_1")
      local e = helpers.raises(function() for _ in handle:iterdir("/") do end end)
      assert.equal("SandboxError", e.name)
      assert.matches('entry named "../x"', e.message, 1, true)
      assert.is_true(#srv:requests() <= 3, "the walk did not follow the name")
      for _, r in ipairs(srv:requests()) do assert.is_nil((r.query or ""):find("x", 1, true)) end
    end)

    it("refuses a Content-Range that is not the range asked for", function()
      local vol = helpers.answer.volume()
      srv:script { { method = "GET", path = "/v1/volume/lookup", times = 0, json = { id = "vol_1" } },
                   { method = "GET", path = "/v1/volume/vol_1", times = 0, json = vol },
                   { method = "GET", path = "/v1/volume/vol_1/files/content", times = 0, status = 206,
                     headers = { ["Content-Range"] = "bytes 0-3/100", ["Content-Type"] = "application/octet-stream" },
                     body = "abcd" } }
      local handle = porter.volumes.get("vol_1")
      local n = 0
      local e = helpers.raises(function() for _ in handle:stream("/f", { chunk_size = 4 }) do n = n + 1 end end)
      assert.equal("SandboxError", e.name)
      assert.matches("Content-Range", e.message, 1, true)
      assert.equal(1, n, "the first range was right, the second a lie")
    end)

    it("walks listings hundreds of levels deep", function()
      local vol = helpers.answer.volume()
      local root = helpers.answer.entry { name = "d", type = "directory", truncated = false, entries = {} }
      local at = root
      for _ = 2, 300 do
        local sub = helpers.answer.entry { name = "d", type = "directory", truncated = false, entries = {} }
        at.entries[1] = sub
        at = sub
      end
      srv:script { { method = "GET", path = "/v1/volume/lookup", times = 0, json = { id = "vol_1" } },
                   { method = "GET", path = "/v1/volume/vol_1", times = 0, json = vol },
                   { method = "GET", path = "/v1/volume/vol_1/files", times = 0, json = helpers.answer.listing { root } } }
      local handle = porter.volumes.get("vol_1")
      local n, deepest = 0, nil
      for e in handle:iterdir("/") do n, deepest = n + 1, e.path end
      assert.equal(300, n)
      assert.equal(300 * 2, #deepest)
    end)
  end)
end)

-- The proxy is read from the environment when a client is made, by curl's rules (curl itself
-- would read five variables on every request). Every client runs in its own interpreter with
-- exactly the variables a case names; proxy and API are scripted servers on loopback.
describe("a proxy named by the environment", function()
  local proxy, api
  setup(function()
    proxy = helpers.scripted_server()
    api = helpers.scripted_server()
  end)
  teardown(function()
    proxy:stop()
    api:stop()
  end)
  before_each(function()
    proxy:reset()
    api:reset()
  end)

  local function health(base_url, env)
    local out = helpers.lua_eval(([[
      local s = require "porter_sandbox"
      local p = s.Porter { base_url = %q, max_retries = 0, timeout = 10 }
      local ok, r = pcall(p.health.check)
      io.write(ok and r.status or r.name .. ": " .. r.message)
    ]]):format(base_url), env)
    return out
  end
  local function script_both()
    proxy:script { { path = api.url .. "/healthz", json = { status = "via proxy" } } }
    api:script { { path = "/healthz", json = { status = "direct" } } }
  end

  it("sends an http base URL's requests through http_proxy, in absolute form, with the key, from either client", function()
    proxy:script { { path = api.url .. "/healthz", times = 3, json = { status = "via proxy" } } }
    local out = helpers.lua_eval(([[
      local s = require "porter_sandbox"
      local p = s.Porter { base_url = %q, api_key = "sk-proxied" }
      io.write(p.health.check().status, " ", p.health.check().status)
      if s.HAS_ASYNC then
        local a = s.AsyncPorter { base_url = %q, api_key = "sk-proxied" }
        io.write(" ", a:run(function() return a.health.check().status end))
      end -- Lua 5.1 has no AsyncPorter (vm_spec)
    ]]):format(api.url, api.url), { http_proxy = proxy.url })
    local async = out == "via proxy via proxy via proxy"
    assert.is_true(async or out == "via proxy via proxy", out)
    local reqs = proxy:requests()
    assert.equal(async and 3 or 2, #reqs)
    assert.equal(api.url .. "/healthz", reqs[1].path)
    assert.equal("Bearer sk-proxied", reqs[1].headers["authorization"])
    assert.equal(0, #api:requests())
  end)

  it("takes all_proxy when the scheme has no variable, and no_proxy's hosts go direct", function()
    script_both()
    assert.equal("via proxy", health(api.url, { ALL_PROXY = proxy.url }))
    script_both()
    assert.equal("direct", health(api.url, { http_proxy = proxy.url, no_proxy = "127.0.0.1" }))
    script_both()
    assert.equal("direct", health(api.url, { all_proxy = proxy.url, NO_PROXY = "localhost,127.0.0.1" }))
    assert.equal(1, #proxy:requests())
  end)

  it("leaves HTTP_PROXY and https_proxy to other URLs: neither is an http URL's proxy", function()
    script_both()
    -- HTTP_PROXY is what a CGI program gets from a request's Proxy header (httpoxy)
    assert.equal("direct", health(api.url, { HTTP_PROXY = proxy.url, https_proxy = proxy.url, HTTPS_PROXY = proxy.url }))
    -- an empty http_proxy says no proxy: all_proxy is not asked
    script_both()
    assert.equal("direct", health(api.url, { http_proxy = "", all_proxy = proxy.url }))
    assert.equal(0, #proxy:requests())
  end)

  it("reaches a Unix socket's server directly, whatever proxy the environment names", function()
    local srv = helpers.sandboxd { unix = true }
    local ok, out = pcall(health, srv.url, { http_proxy = proxy.url, all_proxy = proxy.url })
    srv:stop()
    assert.is_true(ok, out)
    assert.equal("ok", out)
    assert.equal(0, #proxy:requests())
  end)
end)
