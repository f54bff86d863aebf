-- The module exports its entry point and nothing else: the SDK's helpers must not land in the
-- symbol space of the process that loads it (porter-lua exports its own symbols to C modules).
local helpers = require("spec.helpers")

describe("porter_sandbox.core", function()
  it("exports only luaopen_porter_sandbox_core", function()
    for _, file in ipairs { helpers.lib .. "/porter_sandbox/core.so", helpers.build .. "/porter-lua" } do
      local p = io.popen("nm -D --defined-only " .. helpers.process.shquote(file))
      local ours = {}
      for line in p:lines() do
        local name = line:match("%S+$")
        -- lua's own API (exported on purpose by porter-lua) and the C runtime's are not ours
        if not name:match("^lua") and not name:match("^_") and name ~= "data_start" then ours[#ours + 1] = name end
        if name:match("^luaopen_porter") then ours[#ours + 1] = name end
      end
      p:close()
      assert.same({ "luaopen_porter_sandbox_core" }, ours, file)
    end
  end)
end)
