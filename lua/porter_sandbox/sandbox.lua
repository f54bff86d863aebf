-- Sandbox methods that are loops over the C ones: waiting, following logs, walking pages.
-- Inside an AsyncPorter task every pause lets the other tasks run.
local M = {}

local STARTING = { queued = true, creating = true }
local ENDED = { succeeded = true, failed = true, terminated = true }
local LAST_LINES = 10

local function argerror(what, msg) error(M.core.ArgumentError { message = what .. ": " .. msg }, 3) end

-- opts.timeout: nil for none (when allowed), else a positive number of seconds
local function deadline_of(what, opts, default)
  if opts ~= nil and type(opts) ~= "table" then argerror(what, "options must be a table (got " .. type(opts) .. ")") end
  M.core._options(what, opts, { "timeout" })
  local timeout = opts and opts.timeout
  if timeout == nil then timeout = default end
  if timeout == nil then return nil end
  if type(timeout) ~= "number" or timeout <= 0 then
    argerror(what, "'timeout' must be a positive number of seconds (got " .. M.core._got(timeout) .. ")")
  end
  return M.core._now() + timeout, timeout
end

-- Refreshes until done(status); backs off from 50 ms to 1 s between polls.
local function poll(self, what, deadline, timeout, done, waiting_for)
  local pause = 0.05
  while true do
    local status = self:refresh()
    if done(status.phase) then return status end
    if deadline and M.core._now() + pause > deadline then
      error(M.core.SandboxTimeoutError {
        message = ("%s: sandbox %s still %s after %gs (waiting for it to %s)"):format(what, self.id, status.phase,
          timeout, waiting_for) }, 3)
    end
    M.core.sleep(pause)
    pause = math.min(pause * 2, 1)
  end
end

-- sb:wait{ timeout = 60 }: until the sandbox has left queued/creating; answers the status, or
-- raises if it failed instead, with its phase and last log lines.
local function wait(self, opts)
  local deadline, timeout = deadline_of("Sandbox:wait", opts, 60)
  local status = poll(self, "Sandbox:wait", deadline, timeout, function(p) return not STARTING[p] end, "start")
  if status.phase ~= "failed" then return status end
  local ok, logs = pcall(self.logs, self, { limit = LAST_LINES })
  logs = ok and logs or {}
  local lines = {}
  for _, l in ipairs(logs) do lines[#lines + 1] = l.line end
  local err = M.core.SandboxError {
    message = ("sandbox %s failed instead of starting%s"):format(self.id,
      #lines > 0 and (": " .. table.concat(lines, " | ")) or " (no log lines)") }
  rawset(err, "phase", status.phase)
  rawset(err, "logs", logs) -- LogLine values, as sb:logs() gives
  rawset(err, "status", status)
  error(err, 2)
end

-- sb:wait_exit{ timeout = nil }: until the workload has ended (succeeded, failed or
-- terminated); answers the final status, its exit_code an integer when the workload exited.
local function wait_exit(self, opts)
  local deadline, timeout = deadline_of("Sandbox:wait_exit", opts, nil)
  return poll(self, "Sandbox:wait_exit", deadline, timeout, function(p) return ENDED[p] end, "end")
end

-- for line in sb:logs{ follow = true } do ... end: every line, as it arrives, until the
-- sandbox ends. Polls with `since` (which includes lines at that very timestamp): lines
-- already yielded at the last timestamp are counted and skipped, so there are no duplicates.
local function follow(self, c_logs, opts)
  M.core._options("Sandbox:logs", opts, { "follow", "interval", "since", "limit" })
  local q = {}
  for k, v in pairs(opts) do if k ~= "follow" and k ~= "interval" then q[k] = v end end
  local interval = opts.interval or 0.25
  if type(interval) ~= "number" or interval <= 0 then argerror("Sandbox:logs", "'interval' must be a positive number of seconds") end
  local batch, i, last_ts, seen_at_last, ended = {}, 1, nil, 0, false
  local ending = false
  return function()
    while true do
      if i <= #batch then
        local line = batch[i]
        i = i + 1
        return line
      end
      if ended then return nil end
      local lines = c_logs(self, q)
      batch, i = {}, 1
      local skip = 0
      for _, l in ipairs(lines) do
        if last_ts and l.timestamp == last_ts and skip < seen_at_last then
          skip = skip + 1
        else
          batch[#batch + 1] = l
        end
      end
      for _, l in ipairs(batch) do
        if l.timestamp == last_ts then seen_at_last = seen_at_last + 1 else last_ts, seen_at_last = l.timestamp, 1 end
      end
      q.since, q.limit = last_ts, nil
      if #batch == 0 then
        -- no news: only now ask for the phase (one request a poll while lines flow). Once the
        -- end is seen, the next poll to bring nothing has had every line there is.
        if ending then ended = true
        elseif ENDED[self:refresh().phase] then ending = true
        else M.core.sleep(interval) end
      end
    end
  end
end

local function close(self)
  local ok, err = pcall(self.terminate, self)
  if not ok and not (type(err) == "table" and err.is and err:is(M.core.NotFoundError)) then error(err, 0) end
end

-- porter.sandboxes.each{ tags = ..., phase = ... }: every sandbox of every page of list.
local function each(client, filters)
  if filters ~= nil and type(filters) ~= "table" then argerror("sandboxes.each", "expected a table of filters") end
  local q = {}
  for k, v in pairs(filters or {}) do q[k] = v end
  if q.page ~= nil then argerror("sandboxes.each", "'page' is its own business; leave it out") end
  local page, items, i, more = 0, {}, 1, true
  return function()
    while i > #items do
      if not more then return nil end
      page = page + 1
      q.page = page
      items, i = client.sandboxes.list(q), 1
      local p = items.pagination
      more = p ~= nil and p.has_next_page == true
    end
    i = i + 1
    return items[i - 1]
  end
end

function M.install(core)
  M.core = core
  local mt = core._metatables.Sandbox
  local c_logs = mt.methods.logs
  mt.methods.wait = wait
  mt.methods.wait_exit = wait_exit
  mt.methods.logs = function(self, opts)
    if type(opts) == "table" and opts.follow then return follow(self, c_logs, opts) end
    return c_logs(self, opts)
  end
  -- `local sb <close> = porter.sandboxes.create{...}` terminates it when the scope ends
  mt.__close = close
  core._extend("sandboxes", "each", each)
end

return M
