-- Answers as the SDK decodes them, in one pass driven by the contract (csrc/sdk/decode.c),
-- from raw bodies a scripted server sends: what a user checks is the Lua value they get.
local helpers = require("spec.helpers")
local sandbox = require("porter_sandbox")
local core = require("porter_sandbox.core")

describe("decoding answers", function()
  local srv, porter
  setup(function() srv = helpers.scripted_server() end)
  teardown(function() srv:stop() end)
  before_each(function()
    srv:reset()
    porter = sandbox.Porter { base_url = srv.url, timeout = 5, max_retries = 0 }
  end)
  after_each(function() porter:close() end)

  local function exec_answer(body)
    srv:script { { path = "/v1/sandbox/sb_1/exec", headers = { ["Content-Type"] = "application/json" }, body = body } }
    return porter.raw.sandboxes.exec_sandbox("sb_1", { command = { "x" } })
  end
  local function exec_error(body)
    srv:script { { path = "/v1/sandbox/sb_1/exec", headers = { ["Content-Type"] = "application/json" }, body = body } }
    return helpers.raises(porter.raw.sandboxes.exec_sandbox, "sb_1", { command = { "x" } })
  end

  it("reads escapes, surrogate pairs and UTF-8 as the text they stand for", function()
    local r = exec_answer('{"stdout":"a\\"b\\\\c\\/d\\n\\t\\u00e9\\u20ac\\ud83d\\ude00 \\u0000z","stderr":"","exit_code":0}')
    -- decimal escapes: Lua 5.1 reads no \x
    assert.equal('a"b\\c/d\n\t\195\169\226\130\172\240\159\152\128 \0z', r.stdout)
    assert.equal("\195\169t\195\169", exec_answer('{"stdout":"\195\169t\195\169","stderr":"","exit_code":0}').stdout)
  end)

  it("keeps integers exact past 2^53, and takes an integral float where an integer is declared", function()
    local r = exec_answer('{"stdout":"","stderr":"","exit_code":9007199254740993,"extra":{"n":3.0,"f":2.5,"big":-9223372036854775807}}')
    assert.is_true(core._is_integer(r.exit_code))
    assert.is_true(core._is_integer(r.extra.n))
    assert.equal(3, r.extra.n)
    assert.equal(2.5, r.extra.f)
    assert.is_true(core._is_integer(exec_answer('{"stdout":"","stderr":"","exit_code":1e2}').exit_code))
    assert.equal("unexpected response: 'exit_code' should be an integer",
                 exec_error('{"stdout":"","stderr":"","exit_code":1.5}').message)
    -- exact where the VM has 64-bit integers (5.3, 5.4); 5.1's and LuaJIT's numbers are doubles
    if _VERSION == "Lua 5.3" or _VERSION == "Lua 5.4" then
      assert.equal("9007199254740993", tostring(r.exit_code))
      assert.equal("-9223372036854775807", tostring(r.extra.big))
    end
  end)

  it("leaves nulls out, keeps unknown fields, and the last of a repeated member", function()
    local r = exec_answer('{"stdout":"a","stderr":"","exit_code":0,"stdout":"b","note":null,"unknown":[1,null,{"x":null,"y":[]}]}')
    assert.equal("b", r.stdout)
    assert.is_nil(r.note)
    assert.is_nil(rawget(r, "note"))
    assert.equal(1, r.unknown[1])
    assert.is_nil(r.unknown[2])
    assert.same({ y = {} }, r.unknown[3])
    -- a member whose name holds a NUL is no declared field, whatever it begins with
    local odd = exec_answer('{"stdout":"a","stderr":"","exit_code":0,"stdout\\u0000x":5,"s\\u0000":1}')
    assert.equal("a", odd.stdout)
    assert.equal(5, odd["stdout\0x"])
    assert.equal(1, odd["s\0"])
  end)

  it("reads a declared field whose name is written with escapes as that field, its type checked", function()
    -- "exit_\u0063ode" is exit_code: an integer, and required
    local r = exec_answer('{"stdout":"a","stderr":"","exit_\\u0063ode":3}')
    assert.equal(3, r.exit_code)
    assert.is_true(core._is_integer(r.exit_code))
    local err = exec_error('{"stdout":"a","stderr":"","exit_\\u0063ode":"3"}')
    assert.equal("SandboxError", err.name)
    assert.matches("'exit_code' should be an integer", err.message, 1, true)
    err = exec_error('{"stdout":"a","stderr":"","\\u0065xit_cod":3}')
    assert.matches("missing field 'exit_code'", err.message, 1, true)
  end)

  it("takes an empty {} where an array is declared, as Lua's encoders write an empty table", function()
    local vol = '{"id":"v1","name":"v","type":"disk","path":"v1","phase":"ready","created_at":"2026-01-01T00:00:00Z","attached_to":{}}'
    srv:script { { path = "/v1/volume/v1", headers = { ["Content-Type"] = "application/json" }, body = vol } }
    local v = porter.raw.volumes.get_volume("v1")
    assert.same({}, v.attached_to)
    srv:script { { path = "/v1/volume/v1", headers = { ["Content-Type"] = "application/json" },
                   body = vol:gsub('"attached_to":{}', '"attached_to":{"a":1}') } }
    local e = helpers.raises(porter.raw.volumes.get_volume, "v1")
    assert.equal("unexpected response: 'attached_to' should be an array", e.message)
  end)

  it("says where the text stops being JSON, and keeps the raw body", function()
    -- every required field first, so that the text is what fails
    local P = '{"stderr":"","exit_code":0,'
    for body, why in pairs {
      [P .. '"stdout":"x"} trailing'] = "text after the value at byte " .. #P + 15,
      [P .. '"stdout":"x\001"}'] = "control character in string",
      [P .. '"stdout":"\\ud800"}'] = "bad \\u surrogate pair",
      [P .. '"stdout":"\\q"}'] = "bad escape in string",
      [P .. '"n":01}'] = "expected ',' or '}' in object",
      [P .. '"stdout" "x"}'] = "expected ':' after a member name",
      [P .. '"x":[1,2'] = "expected ',' or ']' in array",
      [P .. '"a":tru}'] = "unexpected character",
      [P .. '"x":' .. string.rep("[", 5000) .. string.rep("]", 5000) .. ',"stdout":""}'] = "nested too deeply",
    } do
      local e = exec_error(body)
      assert.equal("SandboxError", e.name, body)
      assert.matches("^malformed JSON in response: ", e.message)
      assert.truthy(e.message:find(why, 1, true), body .. " -> " .. e.message)
      assert.equal(body, e.body)
    end
  end)

  it("names a missing required field, and a field of the wrong type by its name", function()
    assert.equal("unexpected response: missing field 'exit_code'", exec_error('{"stdout":"","stderr":""}').message)
    assert.equal("unexpected response: 'stdout' should be a string", exec_error('{"stdout":1,"stderr":"","exit_code":0}').message)
  end)
end)
