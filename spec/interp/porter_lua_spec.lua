-- porter-lua behaves like lua5.4: same stdout, stderr (but for the program name) and exit
-- status on the same command lines, with porter_sandbox built in.
local helpers = require("spec.helpers")
local sh = helpers.process.shquote

local function run(interp, args, env, stdin)
  local dir = helpers.process.tmpdir()
  local parts = { "cd", sh(dir), "&&", "env", "-u", "LD_PRELOAD", "-u", "LUA_INIT", "-u", "LUA_INIT_5_4" }
  for k, v in pairs(env or {}) do parts[#parts + 1] = sh(k .. "=" .. v) end
  parts[#parts + 1] = sh(interp)
  for _, a in ipairs(args) do parts[#parts + 1] = sh(a) end
  if stdin then
    local f = io.open(dir .. "/stdin", "wb"); f:write(stdin); f:close()
    parts[#parts + 1] = "<stdin"
  else
    parts[#parts + 1] = "</dev/null"
  end
  parts[#parts + 1] = ">out 2>err; echo $? >rc"
  os.execute(table.concat(parts, " "))
  local r = { out = helpers.process.read_all(dir .. "/out"), err = helpers.process.read_all(dir .. "/err"),
              rc = tonumber(helpers.process.read_all(dir .. "/rc")) }
  os.execute("rm -rf " .. sh(dir))
  return r
end

local porter_lua = helpers.build .. "/porter-lua"

-- a script of text at dir/name: its path
local function script_file(dir, name, text)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end
local lua = "/usr/bin/lua5.4"

local VERSION_LINE = "porter-lua: porter_sandbox " .. require("porter_sandbox").VERSION .. " built in\n"

-- porter-lua must behave as lua5.4 does; its one addition, the SDK's version after Lua's
-- copyright (-v, -i), is checked and taken out
local function same(args, env, stdin)
  local a = run(lua, args, env, stdin)
  local b = run(porter_lua, args, env, stdin)
  local function norm(s, name) return (s:gsub(name:gsub("%p", "%%%0"), "PROG")) end
  local copyright = "Copyright (C) 1994-2022 Lua.org, PUC-Rio\n"
  if a.out:find(copyright, 1, true) then
    local at = b.out:find(copyright, 1, true)
    assert.truthy(at, b.out)
    local after = at + #copyright
    assert.equal(VERSION_LINE, b.out:sub(after, after + #VERSION_LINE - 1))
    b.out = b.out:sub(1, after - 1) .. b.out:sub(after + #VERSION_LINE)
  end
  assert.equal(a.out, b.out)
  assert.equal(norm(a.err, lua), norm(b.err, porter_lua))
  assert.equal(a.rc, b.rc)
  return b
end

describe("porter-lua", function()
  local script
  setup(function()
    script = os.tmpname()
    local f = io.open(script, "w")
    f:write('print(...) print(arg[0] == ' .. string.format("%q", script) .. ', #arg, arg[1], arg[-1] ~= nil)\n')
    f:close()
  end)
  teardown(function() os.remove(script) end)

  it("runs scripts with arg and ...", function()
    local r = same({ script, "a", "b c" })
    assert.equal("a\tb c\ntrue\t2\ta\ttrue\n", r.out)
  end)

  it("handles -e, -l, -l g=mod, -v, -E, -- and - like lua5.4", function()
    same({ "-e", "print(1 + 1)" })
    same({ "-l", "string", "-e", "print(type(string.rep))" })
    same({ "-l", "s=string", "-e", "print(s.rep('ab', 2))" })
    same({ "-v" })
    same({ "-E", "-e", "print(os.getenv('LUA_INIT'))" }, { LUA_INIT = "print('init')" })
    same({ "--", script, "x" })
    same({ "-", "x", "y" }, nil, "print(...)")
    same({}, nil, "print('from stdin', #arg)")
  end)

  it("edits lines and keeps history with readline: Up brings back the last line", function()
    local h = io.popen("(printf 'print(40+2)\\r'; sleep 0.5; printf '\\033[A\\r'; sleep 0.5; printf 'os.exit()\\r'; sleep 0.2) | " ..
                       "env -u LD_PRELOAD timeout 10 script -qec " .. sh(porter_lua .. " -i") .. " /dev/null")
    local out = h:read("a")
    h:close()
    local n = 0
    for _ in out:gmatch("\r?\n?\r?42\r\n") do n = n + 1 end
    assert.equal(2, n, out)
  end)

  it("runs LUA_INIT and LUA_INIT_5_4, also as @file", function()
    same({ "-e", "print(X)" }, { LUA_INIT = "X = 5" })
    same({ "-e", "print(X)" }, { LUA_INIT = "X = 5", LUA_INIT_5_4 = "X = 6" })
    same({ "-e", "print(...)" }, { LUA_INIT = "@" .. script })
  end)

  it("reports errors with tracebacks and exit status 1", function()
    local r = same({ "-e", "error('boom')" })
    assert.equal(1, r.rc)
    assert.matches("boom\nstack traceback:", r.err)
    -- one deliberate difference: an error object with __tostring gets the traceback too
    local obj = { "-e", "error(setmetatable({}, {__tostring = function() return 'custom' end}))" }
    local plain, ours = run(lua, obj), run(porter_lua, obj)
    assert.equal(plain.rc, ours.rc)
    assert.equal(plain.err:gsub("\n$", ""):gsub(lua:gsub("%p", "%%%0"), "PROG") .. "\nstack traceback:",
                 ours.err:gsub(porter_lua:gsub("%p", "%%%0"), "PROG"):match("^(.-stack traceback:)"))
    same({ "-e", "error({})" })
    same({ "-e", "x = = 1" })
    same({ "/nonexistent/script.lua" })
    same({ "-x" })
    same({ "-e" })
  end)

  it("runs an interactive session like lua5.4, also from a pipe", function()
    same({ "-i" }, nil, "x = 1 + 1\nx\n=x * 2\nfor i = 1, 2 do\nprint(i)\nend\nerror('e')\n")
    same({ "-i", "-e", "y = 5" }, nil, "y\n")
  end)

  it("exits with os.exit's status", function()
    assert.equal(3, same({ "-e", "os.exit(3)" }).rc)
    assert.equal(1, same({ "-e", "os.exit(false)" }).rc)
    assert.equal(0, same({ "-e", "os.exit(true)" }).rc)
  end)

  it("has porter_sandbox built in, needing no LUA_PATH or LUA_CPATH", function()
    local r = run(porter_lua, { "-e", "local s = require 'porter_sandbox'; print(s.VERSION, type(s.Porter), type(s.AsyncPorter))" },
      { LUA_PATH = "/nonexistent/?.lua", LUA_CPATH = "/nonexistent/?.so" })
    assert.equal("0.1.0\tfunction\tfunction\n", r.out)
    assert.equal(0, r.rc)
  end)

  it("prints errors raised by the SDK through their __tostring", function()
    local r = run(porter_lua, { "-e", "require('porter_sandbox').Porter()" })
    assert.equal(1, r.rc)
    assert.matches("ConfigError: no Porter Sandbox API to talk to", r.err)
  end)

  it("mentions --local in --help", function()
    local r = run(porter_lua, { "--help" })
    assert.equal(0, r.rc)
    assert.matches("%-%-local", r.out)
  end)
end)

describe("porter-lua --local", function()
  it("starts the daemon, points the script at it, propagates the exit status and stops the daemon", function()
    local dir = helpers.process.tmpdir()
    local wrapper = dir .. "/sandboxd"
    local f = io.open(wrapper, "w")
    f:write("#!/bin/sh\necho $$ > \"$PID_FILE\"\nexec " .. sh(helpers.build .. "/porter-sandboxd") .. ' "$@"\n')
    f:close()
    os.execute("chmod +x " .. sh(wrapper))
    local script = dir .. "/s.lua"
    f = io.open(script, "w")
    f:write([[
      local s = require "porter_sandbox"
      local p = s.Porter()
      print(p.base_url == os.getenv("PORTER_SANDBOX_BASE_URL"), p.base_url, p.readiness.check().active_sandboxes, ...)
      os.exit(7)
    ]])
    f:close()
    local r = run(porter_lua, { "--local", script, "x" }, { PORTER_SANDBOXD = wrapper, PID_FILE = dir .. "/pid",
                                                            LUA_PATH = os.getenv("LUA_PATH"), LUA_CPATH = os.getenv("LUA_CPATH") })
    local sock = r.out:match("^true\tunix:(/tmp/porter%-lua%.%w+/api%.sock)\t0\tx\n$")
    assert.truthy(sock, r.out .. r.err)
    assert.equal(7, r.rc)
    local pid = helpers.process.read_all(dir .. "/pid"):match("%d+")
    assert.truthy(pid)
    assert.is_false(os.execute("kill -0 " .. pid .. " 2>/dev/null") == true, "the daemon is gone")
    assert.is_falsy(os.execute("test -e " .. sh(sock)), "its socket is left")
    assert.is_falsy(os.execute("test -e " .. sh(sock:match("^(.*)/"))), "the socket's dir is left")
    os.execute("rm -rf " .. sh(dir))
  end)

  it("serves only this account: another one on the machine cannot reach its server", function()
    local user = ("porter-spec-%d"):format(math.random(10000, 99999))
    finally(function() os.execute("env -u LD_PRELOAD userdel " .. user .. " 2>/dev/null") end)
    assert.is_true(os.execute("env -u LD_PRELOAD useradd --no-create-home --shell /usr/sbin/nologin " .. user))
    local dir = helpers.process.tmpdir()
    -- from inside the run: the server is up; the other account tries its socket and its state
    local script = script_file(dir, "s.lua", ([[
      local p = require("porter_sandbox").Porter()
      local sock = p.base_url:match("^unix:(.*)$")
      local function as_other(cmd)
        return io.popen("setpriv --reuid=%s --regid=%s --clear-groups sh -c '" .. cmd .. "' 2>&1; echo rc=$?"):read("a")
      end
      print("mode", io.popen("stat -c %%a " .. sock):read("l"), io.popen("stat -c %%a " .. sock:match("^(.*)/")):read("l"))
      print("curl", as_other("curl -s -m 5 --unix-socket " .. sock .. " http://localhost/healthz"))
      print("ls", as_other("ls " .. sock:match("^(.*)/")))
      print("mine", p.health.check().status)
    ]]):format(user, user))
    local r = run(porter_lua, { "--local", script })
    os.execute("env -u LD_PRELOAD userdel " .. user)
    assert.equal(0, r.rc, r.err)
    assert.matches("^mode\t600\t700\n", r.out)
    assert.matches("\ncurl\trc=7\n", r.out)          -- curl: could not connect (EACCES)
    assert.matches("\nls\t.-Permission denied.-rc=2\n", r.out)
    assert.matches("\nmine\tok\n$", r.out)
    os.execute("rm -rf " .. sh(dir))
  end)

  it("says so when the daemon cannot start", function()
    local r = run(porter_lua, { "--local", "-e", "print('never')" }, { PORTER_SANDBOXD = "/nonexistent/porter-sandboxd" })
    assert.equal(1, r.rc)
    assert.equal("", r.out)
    assert.matches("%-%-local: porter%-sandboxd", r.err)
  end)
end)

describe("porter-lua --local with the real porter-sandboxd", function()
  it("runs the example workflow end to end (the README's main command)", function()
    local state = helpers.process.tmpdir()
    local root = os.getenv("PORTER_ROOT") or "."
    local r = run(porter_lua, { "--local", root .. "/examples/workflow.lua" }, { XDG_STATE_HOME = state })
    assert.equal(0, r.rc, r.err)
    assert.matches("exec: hello from the sandbox\n", r.out, 1, true)
    assert.matches("read back:\t42\n", r.out, 1, true)
    assert.matches("terminated:\tterminated\n", r.out, 1, true)
    assert.matches("volume deleted; done\n$", r.out)
    os.execute("rm -rf " .. sh(state))
  end)

  it("shares one image cache among its runs, porter-sandbox --local and porter-sandboxd image", function()
    local oci = require("spec.support.oci")
    local dir = helpers.process.tmpdir()
    local env = { XDG_CACHE_HOME = dir .. "/cache" }
    oci.save(oci.layout(dir .. "/img", { oci.busybox_layer { { path = "marker", data = "from-the-cache\n" } } }, {}),
      "oci-archive", dir .. "/img.tar", "test/shared:1")
    local imported = oci.run(("env XDG_CACHE_HOME=%s %s image import %s test/shared:1 2>&1; echo rc=$?"):format(
      sh(env.XDG_CACHE_HOME), sh(helpers.build .. "/porter-sandboxd"), sh(dir .. "/img.tar")))
    assert.matches("rc=0\n$", imported)
        -- the image is in use while the script runs: removing it from the cache is refused meanwhile
    local script = script_file(dir, "shared.lua", ([[
local sb <close> = require("porter_sandbox").Porter().sandboxes.create { image = "test/shared:1" }
sb:wait { timeout = 30 }
io.write(sb:exec { "cat", "/marker" }.stdout)
io.write(io.popen("env XDG_CACHE_HOME=%s %s image rm test/shared:1 2>&1"):read("a"))
]]):format(env.XDG_CACHE_HOME, helpers.build .. "/porter-sandboxd"))
    for _ = 1, 2 do -- no registry, no pull: each run finds it in the cache
      local r = run(porter_lua, { "--local", script }, env)
      assert.equal(0, r.rc, r.err)
      assert.equal("from-the-cache\nporter-sandboxd: docker.io/test/shared:1 is used by a live sandbox\n", r.out)
    end
    local cli_state = dir .. "/cli"
    local out = oci.run(("env XDG_CACHE_HOME=%s %s --local --state-dir %s run test/shared:1 -- sleep 300"):format(
      sh(env.XDG_CACHE_HOME), sh(helpers.build .. "/porter-sandbox"), sh(cli_state)))
    local id = out:match("(sb_%x+)")
    assert.truthy(id, out)
    assert.equal("from-the-cache\n", oci.run(("env XDG_CACHE_HOME=%s %s --local --state-dir %s exec %s -- cat /marker"):format(
      sh(env.XDG_CACHE_HOME), sh(helpers.build .. "/porter-sandbox"), sh(cli_state), id)))
    oci.run(("%s --local --state-dir %s down"):format(sh(helpers.build .. "/porter-sandbox"), sh(cli_state)))
    os.execute("rm -rf " .. sh(dir))
  end)

  it("passes PORTER_SANDBOXD_FLAGS to the server it starts", function()
    local dir = helpers.process.tmpdir()
    local script = script_file(dir, "flags.lua", [[
local sb = require("porter_sandbox").Porter().sandboxes.create { image = "127.0.0.1:1/nowhere/none:1" }
local ok, e = pcall(sb.wait, sb, { timeout = 30 })
print(ok, e.phase)
]])
    -- by default an image that cannot be had falls back to the host's; told otherwise, it fails
    assert.equal("true\trunning\n", run(porter_lua, { "--local", script }).out)
    local r = run(porter_lua, { "--local", script }, { PORTER_SANDBOXD_FLAGS = "--image-fallback none  --pids-max 64" })
    assert.equal("false\tfailed\n", r.out, r.err)
    os.execute("rm -rf " .. sh(dir))
  end)

  it("gives each run a private state dir, removed at exit, unless --state-dir names one", function()
    local dir = helpers.process.tmpdir()
    local script = script_file(dir, "named.lua", [[
local porter = require("porter_sandbox").Porter()
local sb = porter.sandboxes.create { image = "host", name = "same-name-every-run" }
sb:wait { timeout = 30 }
print(sb:exec { "echo", "ran" }.stdout)
sb:terminate()
]])
    local before = io.popen("ls -d /tmp/porter-local.* 2>/dev/null | wc -l"):read("l")
    for _ = 1, 2 do
      local r = run(porter_lua, { "--local", script })
      assert.equal(0, r.rc, r.err)
      assert.equal("ran\n\n", r.out)
    end
    assert.equal(before, io.popen("ls -d /tmp/porter-local.* 2>/dev/null | wc -l"):read("l"))
    local state = dir .. "/kept"
    assert.equal(0, run(porter_lua, { "--local", "--state-dir", state, script }).rc)
    local again = run(porter_lua, { "--local", "--state-dir", state, script })
    assert.equal(1, again.rc)
    assert.matches("is taken", again.err, 1, true) -- the name lives on in the kept state
    assert.truthy(io.open(state .. "/state.db", "r"))
    os.execute("rm -rf " .. sh(dir))
  end)
end)
