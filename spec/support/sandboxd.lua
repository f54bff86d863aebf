-- The real local Sandbox API (build/porter-sandboxd) on a free port with a fresh state dir.
local process = require("spec.support.process")
local reaper = require("spec.support.reaper")

local M = {}
local Server = {}
Server.__index = Server

local function spawn(self)
  local build = os.getenv("PORTER_BUILD") or "build"
  local listen = self.socket and "unix:" .. self.socket or (self.listen or "127.0.0.1") .. ":" .. (self.port or 0)
  local argv = { build .. "/porter-sandboxd", "--listen", listen, "--print-url", "--state-dir", self.state_dir }
  if self.api_key then argv[#argv + 1] = "--api-key"; argv[#argv + 1] = self.api_key end
  for _, a in ipairs(self.args or {}) do argv[#argv + 1] = a end
  self.proc = process.spawn(self.wrap and self.wrap(argv) or argv, self.env)
  self.url = process.wait_line(self.proc, self.socket and "(unix:/%S+)" or "(http://[%d%.]+:%d+)")
  self.port = tonumber(self.url:match("^http://.*:(%d+)$"))
end

-- Under `make asan-test` the server is instrumented too: a sanitizer report on its stderr
-- (a leak found at exit, a bad access) fails the spec that stopped it.
local function stop_checked(self)
  process.stop(self.proc, true)
  local err = process.read_all(self.proc.stderr) or ""
  os.execute("rm -rf " .. process.shquote(self.proc.dir))
  if err:find("Sanitizer", 1, true) or err:find("runtime error:", 1, true) then
    error("porter-sandboxd reported:\n" .. err, 0)
  end
end

function Server:stop(keep_state)
  if not keep_state then
    local ok, err = pcall(stop_checked, self)
    os.execute("rm -rf " .. process.shquote(self.state_dir))
    if not ok then error(err, 0) end
  else
    stop_checked(self)
  end
end

-- A host path as the server sees it: volumes' filesystems are mounted in its own mount
-- namespace, so their files are reached through its root.
function Server:path(p)
  return "/proc/" .. self.proc.pid .. "/root" .. p
end

-- The directory of a sandbox's cgroup (a v1 controller's: "pids", "memory", "cpu"; ignored on
-- a unified v2 host), under this server's own directory, which is named for its pid.
function Server:cgroup_dir(controller)
  local top = io.open("/sys/fs/cgroup/cgroup.controllers", "r") and "/sys/fs/cgroup/porter-sandboxd"
              or "/sys/fs/cgroup/" .. (controller or "pids") .. "/porter-sandboxd"
  local ls = io.popen("ls -d " .. top .. "/srv-*-" .. self.proc.pid .. "-* 2>/dev/null")
  local dir = ls:read("l")
  ls:close()
  return assert(dir, "porter-sandboxd pid " .. self.proc.pid .. " has no cgroup directory under " .. top)
end
function Server:cgroup(id, controller) return self:cgroup_dir(controller) .. "/" .. id end

-- Stops and starts again on the same port and state dir; between(state_dir), if given, runs
-- while it is stopped.
function Server:restart(between)
  stop_checked(self)
  if between then between(self.state_dir) end
  spawn(self)
end

-- ---- the wire-level steps server specs share (over spec.support.http, no SDK) ----
local function http() return require("spec.support.http") end

-- A request to a path of the server: http.request's answer (status, body, json). payload: a
-- table is sent as JSON, a string as the body itself.
function Server:request(method, path, payload, headers)
  local raw = type(payload) == "string"
  return http().request { method = method, url = self.url .. path, json = not raw and payload or nil,
                          body = raw and payload or nil, headers = headers }
end
function Server:get(path) return self:request("GET", path) end

-- Runs a SandboxSpec (202 asserted); its id.
function Server:run(spec)
  local r = self:request("POST", "/v1/sandbox/run", spec)
  assert(r.status == 202, "run answered " .. tostring(r.status) .. ": " .. tostring(r.body))
  return r.json.id
end

-- Polls until the sandbox has left queued and creating (and reached want, if given); its
-- status. Waits for a state, never for a time: the limit is only against a hang.
local ENDED = { succeeded = true, failed = true, terminated = true }
function Server:wait(id, want, limit)
  local deadline = os.time() + (limit or 60)
  repeat
    local st = self:get("/v1/sandbox/" .. id).json
    if st and st.phase ~= "queued" and st.phase ~= "creating" and (not want or st.phase == want) then return st end
    -- an end is for good: waiting on for another phase would only hide why
    if st and ENDED[st.phase] then
      error(("sandbox %s is %s, not %s: %s"):format(id, st.phase, want, self:logs_text(id)), 2)
    end
    process.sleep(0.02)
  until os.time() > deadline
  error("sandbox " .. id .. " never reached " .. tostring(want or "a phase past creating"), 2)
end

-- Runs a command in the sandbox (200 asserted); the ExecResponse.
function Server:exec(id, command)
  local r = self:request("POST", "/v1/sandbox/" .. id .. "/exec", { command = command })
  assert(r.status == 200, "exec answered " .. tostring(r.status) .. ": " .. tostring(r.body))
  return r.json
end

-- The sandbox's log lines, joined by newlines.
function Server:logs_text(id)
  local lines = {}
  for i, l in ipairs(self:get("/v1/sandbox/" .. id .. "/logs").json.logs) do lines[i] = l.line end
  return table.concat(lines, "\n")
end

function Server:terminate(id) return self:request("DELETE", "/v1/sandbox/" .. id) end

-- opts: api_key, args (extra command-line arguments), listen (its address, 127.0.0.1 unless
-- given), unix (listen on a Unix socket in the state dir instead: url is then unix:PATH),
-- wrap (a function from the server's argv to the argv that runs it, for a namespace), env (more
-- of its environment: an S3 bucket's credentials)
function M.start(opts)
  opts = opts or {}
  local state_dir = process.tmpdir()
  local self = setmetatable({ state_dir = state_dir, api_key = opts.api_key, args = opts.args, listen = opts.listen,
                              socket = opts.unix and state_dir .. "/api.sock" or nil, wrap = opts.wrap,
                              env = opts.env }, Server)
  spawn(self)
  return reaper.own(self)
end

return M
