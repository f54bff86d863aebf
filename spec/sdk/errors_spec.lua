-- Error values: one metatable, a class chain, readable in a traceback.
local sandbox = require("porter_sandbox")

describe("error classes", function()
  it("are exposed on the module with their names", function()
    for _, name in ipairs({ "SandboxError", "AuthenticationError", "NotFoundError", "RateLimitError", "ServerError",
                            "SandboxTimeoutError", "ConflictError", "ConnectionError", "ConfigError", "ArgumentError" }) do
      assert.equal(name, sandbox[name].name)
      assert.equal(name, tostring(sandbox[name]))
    end
  end)

  it("makes every HTTP-side error a SandboxError, and neither config nor argument errors", function()
    for _, name in ipairs({ "AuthenticationError", "NotFoundError", "RateLimitError", "ServerError", "SandboxTimeoutError",
                            "ConflictError", "ConnectionError" }) do
      local e = sandbox[name] { message = "m", status_code = 500 }
      assert.is_true(e:is(sandbox.SandboxError), name)
      assert.is_true(e:is(sandbox[name]))
      assert.is_true(e:is(sandbox.Error))
    end
    assert.is_false(sandbox.ConfigError("x"):is(sandbox.SandboxError))
    assert.is_false(sandbox.ArgumentError("x"):is(sandbox.SandboxError))
    assert.is_false(sandbox.NotFoundError("x"):is(sandbox.ServerError))
  end)

  it("carries name, message, status_code and body, and reads well in tostring", function()
    local body = { error = "no such sandbox" }
    local e = sandbox.NotFoundError { message = "no such sandbox", status_code = 404, body = body }
    assert.equal("NotFoundError", e.name)
    assert.equal("no such sandbox", e.message)
    assert.equal(404, e.status_code)
    assert.equal(body, e.body)
    assert.matches("^spec/sdk/errors_spec.lua:%d+$", e.where)
    assert.equal(e.where .. ": NotFoundError: no such sandbox (HTTP 404)", tostring(e))
    assert.matches("^spec/sdk/errors_spec.lua:%d+: ConfigError: nope$", tostring(sandbox.ConfigError("nope")))
  end)

  it("says where the caller was, past the SDK's own frames", function()
    local porter = sandbox.Porter { base_url = "http://127.0.0.1:1", max_retries = 0 }
    local function here() return "spec/sdk/errors_spec.lua:" .. debug.getinfo(2, "l").currentline end
    local ok, e = pcall(porter.sandboxes.create, { image = 42 })          local want = here()
    assert.is_false(ok)
    assert.equal("ArgumentError", e.name)
    assert.equal(want, e.where)
    ok, e = pcall(function() return porter.sandboxes.get("x") end)     want = here()
    assert.equal("ConnectionError", e.name)
    assert.equal(want, e.where)
    porter:close()
    ok, e = pcall(porter.health.check)                                   want = here()
    assert.equal("attempt to use a closed client", e.message)
    assert.equal("Error", e.name)
    assert.equal(want, e.where)
  end)

  it("prints through __tostring when a script dies of one", function()
    -- lua5.1's interpreter prints no error object that is not a string; there a script
    -- prints it itself (the others, LuaJIT's included, go through __tostring)
    local code = 'local s = require "porter_sandbox"; error(s.ServerError{message = "boom", status_code = 503})'
    if _VERSION == "Lua 5.1" and not jit then code = "local ok, e = pcall(function() " .. code .. " end); io.stderr:write(tostring(e)); os.exit(1)" end
    local out = require("spec.helpers").lua_eval(code)
    assert.matches("ServerError: boom %(HTTP 503%)", out)
  end)

  it("under porter-lua, an uncaught one says file and line and has a traceback", function()
    local helpers = require("spec.helpers")
    local dir = helpers.process.tmpdir()
    local f = assert(io.open(dir .. "/script.lua", "w"))
    f:write('local s = require "porter_sandbox"\nlocal p = s.Porter { base_url = "http://127.0.0.1:1", max_retries = 0 }\n',
            'local function go() return p.sandboxes.get("x") end\ngo()\n')
    f:close()
    local h = io.popen(helpers.build .. "/porter-lua " .. dir .. "/script.lua 2>&1; echo rc=$?")
    local out = h:read("a")
    h:close()
    os.execute("rm -rf " .. dir)
    assert.matches("porter%-lua: [^\n]*/script.lua:3: ConnectionError: nothing listens at http://127.0.0.1:1", out)
    assert.matches("stack traceback:", out, 1, true)
    assert.matches("script.lua:4: in main chunk", out, 1, true)
    assert.matches("rc=1", out, 1, true)
  end)
end)
