-- The contract (api/openapi.yaml) against both sides: every operation with a JSON body takes
-- exactly the contract's fields in the SDK (which lists what it expects when refusing an
-- unknown one), and porter-sandboxd knows every one of them. Operations themselves come from
-- the contract at build time (scripts/gen_ops.lua); this catches drift in the request bodies,
-- which are still written by hand on each side.
local helpers = require("spec.helpers")
local http = require("spec.support.http")
local sandbox = require("porter_sandbox")

local root = os.getenv("PORTER_ROOT") or "."

-- operationId -> request schema name, and schema name -> { property = type }
local function contract()
  local ops, schemas = {}, {}
  local op, schema, in_props
  for line in io.lines(root .. "/api/openapi.yaml") do
    op = line:match("^      operationId:%s*([%w_]+)") or op
    local body = line:match('^      requestBody:.*application/json:.*%$ref: "#/components/schemas/([%w_]+)"')
    if body and op then ops[op] = body end
    local name = line:match("^    ([%w_]+):%s*$")
    if name then schema, in_props = name, false end
    if schema and line:match("^      properties:") then in_props, schemas[schema] = true, {} end
    local prop, rest = line:match("^        ([%w_]+):%s*(.*)$")
    if in_props and prop then
      schemas[schema][prop] = rest:match("type: (%a+)") or (rest:match("%$ref") and "object") or "array"
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
end)
