-- Config resolution (client-behaviour.md): options beat the environment, and every dead end
-- names its ways out. Each case runs in a fresh interpreter with exactly its environment.
local helpers = require("spec.helpers")

-- A Porter API token whose payload is `payload` (signature not checked client-side).
local function b64url(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = 2 + (b and 1 or 0) + (c and 1 or 0)
    for j = 1, chars do
      local idx = math.floor(n / 2 ^ (18 - 6 * (j - 1))) % 64
      out[#out + 1] = alphabet:sub(idx + 1, idx + 1)
    end
  end
  return table.concat(out)
end
local function token(payload) return "eyJhbGciOiJIUzI1NiJ9." .. b64url(payload) .. ".c2lnbmF0dXJl" end

-- Makes a client in a subprocess; answers "base_url timeout" or "ErrorName: message".
local function resolve(opts_src, env)
  local code = [[
    local s = require "porter_sandbox"
    local ok, p = pcall(s.Porter, ]] .. (opts_src or "nil") .. [[)
    if ok then io.write(p.base_url, " ", tostring(p.timeout))
    else io.write(p.name, ": ", p.message) end
  ]]
  local out = helpers.lua_eval(code, env)
  return out
end

describe("config resolution", function()
  it("prefers the base_url option over PORTER_SANDBOX_BASE_URL and strips trailing slashes", function()
    assert.equal("http://opt.example:1 30",
      resolve('{ base_url = "http://opt.example:1//" }', { PORTER_SANDBOX_BASE_URL = "http://env.example:2" }))
  end)

  it("uses PORTER_SANDBOX_BASE_URL when no option is given", function()
    assert.equal("http://env.example:2/api 30", resolve(nil, { PORTER_SANDBOX_BASE_URL = "http://env.example:2/api/" }))
  end)

  it("refuses CR, LF and other control characters in the key or the URL, before anything is sent", function()
    assert.equal("ConfigError: the API key (api_key or PORTER_SANDBOX_API_KEY) must not hold control characters such "
                 .. "as CR or LF (one at byte 4)",
                 resolve([[{ base_url = "http://127.0.0.1:1", api_key = "abc\r\nX-Injected: 1" }]]))
    assert.matches("^ConfigError: the API key %(api_key or PORTER_SANDBOX_API_KEY%) must not hold control characters",
                   resolve([[{ base_url = "http://127.0.0.1:1" }]], { PORTER_SANDBOX_API_KEY = "k\tey" }))
    assert.equal("ConfigError: the base URL (base_url or PORTER_SANDBOX_BASE_URL) must not hold control characters "
                 .. "such as CR or LF (one at byte 17)", resolve([[{ base_url = "http://127.0.0.1\n:1" }]]))
  end)

  it("treats an empty PORTER_SANDBOX_BASE_URL as unset", function()
    local out = resolve(nil, { PORTER_SANDBOX_BASE_URL = "" })
    assert.matches("^ConfigError: no Porter Sandbox API", out)
  end)

  it("builds the dashboard URL from the cluster id and the key's project_id claim", function()
    local env = { PORTER_CLUSTER_ID = "42", PORTER_SANDBOX_API_KEY = token('{"sub":"u","project_id":7}') }
    assert.equal("https://dashboard.porter.run/api/v2/alpha/projects/7/clusters/42 30", resolve(nil, env))
  end)

  it("reads a padded base64url payload too", function()
    local t = token('{"project_id":12345}') .. ""
    local head, payload, sig = t:match("^([^.]+)%.([^.]+)%.([^.]+)$")
    while #payload % 4 ~= 0 do payload = payload .. "=" end
    local env = { PORTER_CLUSTER_ID = "c1", PORTER_SANDBOX_API_KEY = head .. "." .. payload .. "." .. sig }
    assert.equal("https://dashboard.porter.run/api/v2/alpha/projects/12345/clusters/c1 30", resolve(nil, env))
  end)

  it("prefers the api_key option over the environment for the project id", function()
    local env = { PORTER_CLUSTER_ID = "9", PORTER_SANDBOX_API_KEY = token('{"project_id":1}') }
    local out = resolve(string.format("{ api_key = %q }", token('{"project_id":2}')), env)
    assert.equal("https://dashboard.porter.run/api/v2/alpha/projects/2/clusters/9 30", out)
  end)

  it("refuses a project_id that is not a positive integer", function()
    for _, payload in ipairs({ '{"project_id":true}', '{"project_id":0}', '{"project_id":"7"}', '{"project_id":1.5}', '{}' }) do
      local out = resolve(nil, { PORTER_CLUSTER_ID = "1", PORTER_SANDBOX_API_KEY = token(payload) })
      assert.equal("ConfigError: the API key is not a Porter API token: its 'project_id' claim must be a positive integer", out)
    end
  end)

  it("refuses a key that is not a JWT", function()
    local out = resolve(nil, { PORTER_CLUSTER_ID = "1", PORTER_SANDBOX_API_KEY = "plain-key" })
    assert.matches("^ConfigError: the API key is not a Porter API token: expected a JWT", out)
    out = resolve(nil, { PORTER_CLUSTER_ID = "1", PORTER_SANDBOX_API_KEY = "a.!!!.c" })
    assert.matches("^ConfigError: .*not base64url", out)
    out = resolve(nil, { PORTER_CLUSTER_ID = "1", PORTER_SANDBOX_API_KEY = "a." .. b64url("[1,2") .. ".c" })
    assert.matches("^ConfigError: .*not a JSON object", out)
  end)

  it("asks for an API key when a cluster id is set without one, saying where to create it", function()
    local out = resolve(nil, { PORTER_CLUSTER_ID = "1" })
    assert.matches("^ConfigError: PORTER_CLUSTER_ID is set", out)
    assert.matches("Settings > API tokens", out, 1, true)
  end)

  it("talks to the in-cluster service inside a pod", function()
    assert.equal("http://sandbox-api.porter-sandbox-system.svc.cluster.local:8080 30",
      resolve(nil, { KUBERNETES_SERVICE_HOST = "10.0.0.1" }))
  end)

  it("asks for PORTER_CLUSTER_ID when only a key is set", function()
    local out = resolve(nil, { PORTER_SANDBOX_API_KEY = "k" })
    assert.matches("^ConfigError: an API key is set but no cluster: set PORTER_CLUSTER_ID", out)
  end)

  it("names every way out when nothing is configured, --local included", function()
    local out = resolve(nil, {})
    assert.matches("^ConfigError: no Porter Sandbox API to talk to", out)
    for _, hint in ipairs({ "inside the Porter cluster", "PORTER_CLUSTER_ID", "PORTER_SANDBOX_API_KEY",
                            "PORTER_SANDBOX_BASE_URL", "porter-lua --local" }) do
      assert.truthy(out:find(hint, 1, true), hint)
    end
  end)

  it("takes a timeout in seconds, 30 by default", function()
    assert.equal("http://h 2.5", resolve('{ base_url = "http://h", timeout = 2.5 }'))
  end)

  it("refuses bad options before doing anything", function()
    assert.equal("ArgumentError: Porter: 'timeout' must be a positive number of seconds (got -1)",
      resolve('{ base_url = "http://h", timeout = -1 }'))
    assert.equal([[ArgumentError: Porter: 'timeout' must be a positive number of seconds (got the string "30")]],
      resolve('{ base_url = "http://h", timeout = "30" }'))
    assert.equal("ArgumentError: Porter: unknown option 'timeout_ms' (expected one of: api_key, base_url, timeout, max_retries, max_response_bytes)",
      resolve('{ base_url = "http://h", timeout_ms = 5 }'))
    assert.equal("ArgumentError: Porter: 'base_url' must be a string (got number)", resolve('{ base_url = 5 }'))
    assert.equal("ConfigError: base URL must start with http://, https:// or unix:/ (a Unix socket's absolute path; got 'ftp://h')",
      resolve('{ base_url = "ftp://h" }'))
    assert.equal("ConfigError: base URL must start with http://, https:// or unix:/ (a Unix socket's absolute path; got 'unix:api.sock')",
      resolve('{ base_url = "unix:api.sock" }'))
    assert.equal("ArgumentError: Porter: 'max_retries' must be an integer from 0 to 100 (got 1.5)",
      resolve('{ base_url = "http://h", max_retries = 1.5 }'))
  end)
end)
