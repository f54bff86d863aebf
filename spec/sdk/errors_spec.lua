-- Error values: one metatable, a class chain, readable in a traceback.
local sandbox = require("porter_sandbox")

describe("error classes", function()
  it("are exposed on the module with their names", function()
    for _, name in ipairs({ "SandboxError", "AuthenticationError", "NotFoundError", "RateLimitError", "ServerError",
                            "SandboxTimeoutError", "ConfigError", "ArgumentError" }) do
      assert.equal(name, sandbox[name].name)
      assert.equal(name, tostring(sandbox[name]))
    end
  end)

  it("makes every HTTP-side error a SandboxError, and neither config nor argument errors", function()
    for _, name in ipairs({ "AuthenticationError", "NotFoundError", "RateLimitError", "ServerError", "SandboxTimeoutError" }) do
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
    assert.equal("NotFoundError: no such sandbox (HTTP 404)", tostring(e))
    assert.equal("ConfigError: nope", tostring(sandbox.ConfigError("nope")))
  end)

  it("prints through __tostring when a script dies of one", function()
    local out = require("spec.helpers").lua_eval(
      'local s = require "porter_sandbox"; error(s.ServerError{message = "boom", status_code = 503})')
    assert.matches("ServerError: boom %(HTTP 503%)", out)
  end)
end)
