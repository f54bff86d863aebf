-- Loaded by busted before every spec file (see .busted); specs also `require "spec.helpers"`.
require("spec.support.compat")
-- here, before any spec file runs: its subscriptions must see every test start, and a spec
-- file's own requires are undone when the file ends (busted insulates files)
require("spec.support.reaper")
local helpers = {}

helpers.build = os.getenv("PORTER_BUILD") or "build"
-- the Lua under test (make test LUA=luajit) and the directory its SDK was built into
helpers.lua = os.getenv("PORTER_SPEC_LUA") or "lua5.4"
helpers.lib = os.getenv("PORTER_SPEC_LIB") or helpers.build .. "/lua"

-- The clients a spec runs its case with: a Porter, and an AsyncPorter where the VM has one
-- (not Lua 5.1; spec/sdk/vm_spec.lua checks what 5.1 says instead).
function helpers.clients(opts)
  local sandbox = require("porter_sandbox")
  local list = { sandbox.Porter(opts) }
  if sandbox.HAS_ASYNC then list[2] = sandbox.AsyncPorter(opts) end
  return list
end
helpers.process = require("spec.support.process")

-- A scripted HTTP server on loopback for what a real server cannot produce on demand.
function helpers.scripted_server(opts)
  return require("spec.support.scripted").start(opts)
end

-- The real local Sandbox API, on a free port with a fresh state dir.
function helpers.sandboxd(opts)
  return require("spec.support.sandboxd").start(opts)
end

-- A describe block's porter-sandboxd and a Porter on it: started in setup, stopped in
-- teardown; the answer's server and porter fields are set once setup ran.
function helpers.sandboxd_and_porter(opts)
  local env, busted = {}, require("busted") -- the spec's setup and teardown, not globals here
  busted.setup(function()
    env.server = helpers.sandboxd(opts)
    env.porter = require("porter_sandbox").Porter { base_url = env.server.url }
  end)
  busted.teardown(function()
    env.porter:close()
    env.server:stop()
  end)
  return env
end

-- A directory standing in for a writable bucket (porter-sandboxd --bucket NAME=DIR): a tmpfs
-- of its own, mode 0700, whose size (default 64m) bounds what sandboxes write there. Its
-- remove() unmounts and deletes it.
function helpers.bucket(size)
  local process = helpers.process
  local dir = process.tmpdir()
  assert(os.execute("mount -t tmpfs -o size=" .. (size or "64m") .. ",mode=0700 porter-spec-bucket " .. process.shquote(dir)))
  return { dir = dir, remove = function() os.execute("umount " .. process.shquote(dir) .. " && rmdir " .. process.shquote(dir)) end }
end

-- A real OCI registry on a loopback port (Debian's docker-registry).
function helpers.registry()
  return require("spec.support.registry").start()
end

-- Answers as the contract (api/openapi.yaml) shapes them, for scripted servers: every field it
-- requires (the SDK refuses an answer without one), then the fields given.
local function with(base, t)
  for k, v in pairs(t or {}) do base[k] = v end
  return base
end
local T0 = "2026-11-22T10:00:00Z"
helpers.answer = {
  status = function(t) return with({ id = "sb_1", name = "one", image = "img", phase = "running", created_at = T0, host = "" }, t) end,
  page = function(sandboxes)
    return { sandboxes = sandboxes or {}, pagination = { current_page = 1, total_pages = 1, has_next_page = false } }
  end,
  volume = function(t)
    return with({ id = "vol_1", name = "v", type = "disk", path = "vol_1", phase = "ready", attached_to = {}, created_at = T0 }, t)
  end,
  entry = function(t) return with({ name = "f", type = "file", size_bytes = 0 }, t) end,
  listing = function(entries) return { path = "/", entries = entries or {}, truncated = false } end,
}

local PORTER_ENV = { "PORTER_SANDBOX_API_KEY", "PORTER_SANDBOX_BASE_URL", "PORTER_CLUSTER_ID", "KUBERNETES_SERVICE_HOST",
                     "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
                     "NO_PROXY" }

-- Runs Lua code in a fresh interpreter (the Lua under test) with exactly the given Porter and proxy environment
-- variables (the only way to test what a client reads from its environment). Returns stdout, exit ok.
function helpers.lua_eval(code, env)
  local sh = helpers.process.shquote
  -- LD_PRELOAD stays: under sanitizers lua5.4 needs the runtimes preloaded, as busted does
  local parts = { "env" }
  for _, k in ipairs(PORTER_ENV) do
    parts[#parts + 1] = "-u"
    parts[#parts + 1] = k
  end
  for k, v in pairs(env or {}) do parts[#parts + 1] = sh(k .. "=" .. v) end
  local cmd = helpers.lua .. " -e " .. sh(code) .. " 2>&1"
  local out, ok = helpers.process.capture(table.concat(parts, " ") .. " " .. cmd)
  -- gcc 12's LeakSanitizer crashes on some processes as it scans glibc 2.36's dynamic TLS
  -- ("Tracer caught signal 11 ... DTLS ... LeakSanitizer has encountered a fatal error"), by
  -- where things happen to lie in memory: no finding. Then once more without the TLS scan, the
  -- loader's own blocks (then unreferenced) suppressed; a leak of ours still fails.
  if out:find("LeakSanitizer has encountered a fatal error", 1, true) and os.getenv("LSAN_OPTIONS") then
    local root = os.getenv("PORTER_ROOT") or "."
    local lsan = "LSAN_OPTIONS=" .. sh("use_tls=0:print_suppressions=0:suppressions=" .. root .. "/spec/support/lsan-notls.supp")
    out, ok = helpers.process.capture(table.concat(parts, " ") .. " " .. lsan .. " " .. cmd)
  end
  return out, ok
end

-- Calls fn and returns the error value it raised (fails the test if it did not raise).
function helpers.raises(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, got success")
  return err
end

return helpers
