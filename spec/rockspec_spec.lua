-- The rock: `luarocks make` builds the SDK into a tree that a stock lua5.4 can require from.
local helpers = require("spec.helpers")
local sh = helpers.process.shquote

describe("rockspec", function()
  it("installs a module a stock lua5.4 can require", function()
    local tree = helpers.process.tmpdir()
    local root = os.getenv("PORTER_ROOT") or "."
    local build = io.popen(string.format(
      -- the README's command, with a tree of the spec's own; no rocks server is reachable here
      "cd %s && env -u LD_PRELOAD luarocks --lua-version=5.4 make rockspec/porter-sandbox-scm-1.rockspec --tree %s 2>&1",
      sh(root), sh(tree)))
    local log = build:read("a")
    assert.is_true(build:close(), log)
    assert.is_nil(log:lower():find("missing", 1, true), log)
    -- and nothing of the build is left in the checkout
    local left = io.popen("cd " .. sh(root) .. " && find csrc lua rockspec -name '*.o' -o -name '*.so'"):read("a")
    assert.equal("", left)
    local p = io.popen(string.format(
      "cd / && env -u LD_PRELOAD LUA_PATH=%s LUA_CPATH=%s lua5.4 -e %s 2>&1",
      sh(tree .. "/share/lua/5.4/?.lua;" .. tree .. "/share/lua/5.4/?/init.lua;;"), sh(tree .. "/lib/lua/5.4/?.so;;"),
      sh('local s = require "porter_sandbox"; local p = s.Porter { base_url = "http://127.0.0.1:1" }; ' ..
         'print(s.VERSION, tostring(p), type(p.sandboxes.create), package.searchpath("porter_sandbox.core", package.cpath))')))
    local out = p:read("a")
    p:close()
    assert.equal("0.1.0\tPorter(http://127.0.0.1:1)\tfunction\t" .. tree .. "/lib/lua/5.4/porter_sandbox/core.so\n", out)
    -- and the command line, a wrapper LuaRocks writes around scripts/porter-sandbox.lua
    local cli = io.popen(("cd / && env -u LD_PRELOAD %s --help 2>&1"):format(sh(tree .. "/bin/porter-sandbox")))
    local help = cli:read("a")
    cli:close()
    assert.matches("^usage: porter%-sandbox", help)
    -- without lua-cjson (a cpath of the tree alone): the SDK needs no JSON library, and the
    -- CLI's -o json says what to install
    p = io.popen(string.format("cd / && env -u LD_PRELOAD LUA_PATH=%s LUA_CPATH=%s lua5.4 -e %s 2>&1",
      sh(tree .. "/share/lua/5.4/?.lua;" .. tree .. "/share/lua/5.4/?/init.lua"), sh(tree .. "/lib/lua/5.4/?.so"),
      sh('local s = require "porter_sandbox"; print(tostring(s.Porter { base_url = "http://127.0.0.1:1" }))')))
    out = p:read("a")
    p:close()
    assert.equal("Porter(http://127.0.0.1:1)\n", out)
    os.execute("rm -rf " .. sh(tree))
  end)
  it("builds for LuaJIT too (the README's command), and luajit can require it, AsyncPorter included", function()
    local tree = helpers.process.tmpdir()
    local root = os.getenv("PORTER_ROOT") or "."
    local out, ok = helpers.process.capture(string.format(
      "cd %s && env -u LD_PRELOAD luarocks --lua-version=5.1 make rockspec/porter-sandbox-scm-1.rockspec --tree %s " ..
      "LUA=/usr/bin/luajit LUA_INCDIR=/usr/include/luajit-2.1 2>&1", sh(root), sh(tree)))
    assert.is_true(ok, out)
    out = helpers.process.capture(string.format(
      "cd / && env -u LD_PRELOAD LUA_PATH=%s LUA_CPATH=%s luajit -e %s 2>&1",
      sh(tree .. "/share/lua/5.1/?.lua;" .. tree .. "/share/lua/5.1/?/init.lua;;"), sh(tree .. "/lib/lua/5.1/?.so;;"),
      sh('local s = require "porter_sandbox"; local a = s.AsyncPorter { base_url = "http://127.0.0.1:1" }; ' ..
         'print(jit.version, tostring(a), s.HAS_ASYNC)')))
    assert.matches("^LuaJIT 2%.1[^\t]*\tAsyncPorter%(http://127.0.0.1:1%)\ttrue\n$", out)
    -- the command line is 5.4's: not installed by another VM's rock
    assert.is_nil(io.open(tree .. "/bin/porter-sandbox"))
    os.execute("rm -rf " .. sh(tree))
  end)
end)
