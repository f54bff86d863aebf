-- The contract (api/openapi.yaml) against both sides. Operations and types are generated from
-- it at build time (scripts/gen_contract.lua) for the SDK and porter-sandboxd alike; this reads
-- the same file with the same reader and checks what the generated tables do end to end: the
-- SDK takes exactly the contract's request fields (it lists what it expects when refusing an
-- unknown one), porter-sandboxd knows every one of them, and both refuse a bad value in the
-- same words.
local helpers = require("spec.helpers")
local http = require("spec.support.http")
local sandbox = require("porter_sandbox")

local root = os.getenv("PORTER_ROOT") or "."
package.path = root .. "/scripts/?.lua;" .. package.path
local yaml = require("yaml")

-- operationId -> request schema name, and schema name -> { property = type }
local function contract()
  local doc = yaml.read(root .. "/api/openapi.yaml")
  local ops, schemas = {}, {}
  for _, item in pairs(doc.paths) do
    for _, o in pairs(item) do
      local body = type(o) == "table" and o.requestBody and o.requestBody.content["application/json"]
      if body then ops[o.operationId] = body.schema["$ref"]:match("([%w_]+)$") end
    end
  end
  for name, s in pairs(doc.components.schemas) do
    schemas[name] = {}
    for prop, p in pairs(s.properties or {}) do
      schemas[name][prop] = p.type or (p["$ref"] and "object")
    end
  end
  return ops, schemas
end

local SAMPLE = { string = "x", integer = 60, boolean = true }

describe("the contract", function()
  local ops, schemas = contract()
  local server
  setup(function() server = helpers.sandboxd() end)
  teardown(function() server:stop() end)

  it("has JSON request bodies for the operations that take one", function()
    assert.same({ "create_sandbox", "create_snapshot", "create_volume", "exec_sandbox", "move_volume_file" },
      (function()
        local t = {}
        for k in pairs(ops) do t[#t + 1] = k end
        table.sort(t)
        return t
      end)())
  end)

  it("and the SDK takes exactly their fields", function()
    local porter = sandbox.Porter { base_url = "http://127.0.0.1:1", max_retries = 0 }
    for op, schema in pairs(ops) do
      local fn = porter.raw[op]
      local args = {}
      for _ = 1, (op == "create_sandbox" or op == "create_volume") and 0 or 1 do args[#args + 1] = "id_1" end
      args[#args + 1] = { not_in_the_contract = 1 }
      local ok, e = pcall(fn, table.unpack(args))
      assert.is_false(ok, op)
      local listed = e.message:match("expected one of: ([%w_, ]+)%)")
      assert.truthy(listed, op .. ": " .. e.message)
      local sdk = {}
      for f in listed:gmatch("[%w_]+") do sdk[f] = true end
      local want = {}
      for f in pairs(schemas[schema]) do want[f] = true end
      assert.same(want, sdk, op)
    end
    porter:close()
  end)

  it("and porter-sandboxd knows every one of them", function()
    local vol = http.request { method = "POST", url = server.url .. "/v1/volume", json = {} }.json.id
    local sb = http.request { method = "POST", url = server.url .. "/v1/sandbox/run", json = { image = "host" } }.json.id
    local paths = { create_sandbox = "/v1/sandbox/run", exec_sandbox = "/v1/sandbox/" .. sb .. "/exec",
                    create_snapshot = "/v1/sandbox/" .. sb .. "/snapshot", create_volume = "/v1/volume",
                    move_volume_file = "/v1/volume/" .. vol .. "/files/move" }
    for op, schema in pairs(ops) do
      for field, kind in pairs(schemas[schema]) do
        -- a value of the field's type; an image that is there without a registry (no traffic
        -- leaves loopback)
        local body = { [field] = field == "image" and "host" or SAMPLE[kind] or {} }
        if kind == "array" then body[field] = setmetatable({}, require("cjson").array_mt) end
        local r = http.request { method = "POST", url = server.url .. paths[op], json = body }
        assert.is_nil((r.body or ""):find("unknown field", 1, true), op .. "." .. field .. ": " .. tostring(r.body))
      end
    end
    http.request { method = "DELETE", url = server.url .. "/v1/sandbox/" .. sb }
  end)

  it("and the SDK and porter-sandboxd refuse a bad value in the same words", function()
    local porter = sandbox.Porter { base_url = server.url, max_retries = 0 }
    local cases = {
      { image = "i", name = "Bad_Name" },
      { image = "i", ttl_seconds = 0 },
      { image = "i", networking = { { port = 80 } } },
      { image = "i", networking = { { port = 8080 }, { port = 8081 } } },
      { image = "i", networking = { { port = 8080, domains = { { visibility = "open" } } } } },
      { image = "i", volume_mounts = { ["/a/.."] = "vol_1" } },
      { image = "i", egress = {} },
      { image = "i", command = { 1 } },
    }
    for _, body in ipairs(cases) do
      local ok, e = pcall(porter.raw.sandboxes.create_sandbox, body)
      assert.is_false(ok)
      assert.equal("ArgumentError", e.name, tostring(e))
      local r = http.request { method = "POST", url = server.url .. "/v1/sandbox/run", json = body }
      assert.equal(400, r.status, e.message)
      -- the same rule and wording; each side then shows the value its own way
      local sdk = e.message:gsub("^create_sandbox: ", ""):gsub(" %(got .*%)$", "")
      local srv = r.json.error:gsub(" %(got .*%)$", "")
      assert.equal(sdk, srv)
    end
    porter:close()
  end)
end)
