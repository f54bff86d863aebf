-- The AsyncPorter scheduler: tasks are coroutines. A call inside a task yields its request
-- from C; the scheduler submits it to the client's curl multi handle and resumes the task
-- when the transfer ends. A nested gather yields a join and resumes when its group is done.
-- Written for every Lua the SDK builds for (5.1, 5.3, 5.4, LuaJIT): no 5.4 syntax here.
local M = {}

local JOIN = setmetatable({}, { __name = "porter_sandbox.join" })
local SLEEP = setmetatable({}, { __name = "porter_sandbox.sleep" })
local running = setmetatable({}, { __mode = "k" }) -- client -> scheduler state
local task_of = setmetatable({}, { __mode = "k" }) -- coroutine -> scheduler state

local function argerror(core, msg)
  error(core.ArgumentError { message = msg }, 3)
end

-- A group is one gather call: its tasks, results and the coroutine waiting for it.
local function spawn(core, sched, tasks, opts)
  if type(tasks) ~= "table" then argerror(core, "gather: expected an array of functions (got " .. type(tasks) .. ")") end
  local return_errors, limit = false, nil
  core._options("gather", opts, { "return_errors", "concurrency" })
  if opts ~= nil then
    return_errors = opts.return_errors and true or false
    limit = opts.concurrency
    if limit ~= nil and (not core._is_integer(limit) or limit < 1) then
      argerror(core, "gather: 'concurrency' must be a positive integer (got " .. core._got(limit) .. ")")
    end
  end
  local n = #tasks
  for i = 1, n do
    if type(tasks[i]) ~= "function" then
      argerror(core, "gather: task " .. i .. " must be a function (got " .. type(tasks[i]) .. ")")
    end
  end
  local group = { n = n, remaining = n, results = {}, errors = {}, first_error = nil,
                  return_errors = return_errors, limit = limit, next = 1, live = 0 }
  function group.start_more()
    while group.next <= n and (not limit or group.live < limit) do
      local i = group.next
      group.next = i + 1
      group.live = group.live + 1
      local co = coroutine.create(tasks[i])
      sched.tasks_tbl[co] = sched.client
      sched.info[co] = { group = group, index = i }
      task_of[co] = sched
      sched.push(co)
    end
  end
  group.start_more()
  return group
end

-- A task that raised still holds its to-be-closed variables (a sandbox made with <close>, say):
-- closing its coroutine runs them, their calls made at once since it cannot yield (http.c), while
-- it still counts as a task. An error from one of them is the task's error if it had none.
local close = coroutine.close or function() return true end -- before 5.4: nothing to close
local function close_task(sched, co)
  local closed, err = close(co)
  sched.tasks_tbl[co] = nil
  task_of[co] = nil
  return closed, err
end

local function task_ended(sched, co, ok, value)
  local info = sched.info[co]
  sched.info[co] = nil
  close_task(sched, co)
  local group = info.group
  if ok then
    group.results[info.index] = value
  else
    if type(value) == "table" and getmetatable(value) == M.core._metatables.Error then
      value.task_index = info.index
    elseif type(value) == "string" then
      value = "task " .. info.index .. ": " .. value
    end
    group.errors[info.index] = value
    if not group.first_error then group.first_error = value end
    if group.return_errors then group.results[info.index] = value end
  end
  group.remaining = group.remaining - 1
  group.live = group.live - 1
  group.start_more()
  if group.remaining == 0 and group.waiter then
    sched.push(group.waiter)
    group.waiter = nil
  end
end

-- what a task yields: JOIN and its group, SLEEP and seconds, a request (userdata), or nothing
local function step(sched, co)
  local ok, what, arg = coroutine.resume(co)
  if coroutine.status(co) == "dead" then
    return task_ended(sched, co, ok, what)
  end
  if what == JOIN then
    local group = arg
    if group.remaining == 0 then sched.push(co)
    else group.waiter = co end
  elseif what == SLEEP then
    local sleepers = sched.sleepers
    sleepers[#sleepers + 1] = { at = M.core._now() + arg, co = co }
    table.sort(sleepers, function(a, b) return a.at < b.at end)
  elseif type(what) == "userdata" then
    local key = sched.client:_submit(what)
    sched.pending[key] = co
    sched.npending = sched.npending + 1
  else
    -- a task that yields on its own just lets the others run
    sched.push(co)
  end
end

-- The tasks ready to run, first in first out: a queue with a head, not table.remove(t, 1),
-- which moves every entry behind it (a gather of 1000 tasks made that 500,000 moves).
local function new_sched(client)
  local sched = { client = client, tasks_tbl = client:_tasks(), info = {}, pending = {}, npending = 0, sleepers = {} }
  local ready, head, tail = {}, 1, 0
  function sched.push(co)
    tail = tail + 1
    ready[tail] = co
  end
  function sched.pop()
    if head > tail then return nil end
    local co = ready[head]
    ready[head] = nil
    head = head + 1
    return co
  end
  return sched
end

local function finish(group)
  if group.first_error and not group.return_errors then error(group.first_error, 0) end
  return group.results
end

local function gather(self, tasks, opts)
  local core = M.core
  local sched = running[self]
  local me = coroutine.running()
  if sched and sched.info[me] then
    local group = spawn(core, sched, tasks, opts)
    coroutine.yield(JOIN, group)
    return finish(group)
  end
  if sched then
    error(core.Error { message = "AsyncPorter:gather: this client is already running tasks; call gather from inside one of them" }, 2)
  end
  sched = new_sched(self)
  local group = spawn(core, sched, tasks, opts)
  running[self] = sched
  local ok, err = pcall(function()
    while group.remaining > 0 do
      for co in sched.pop do step(sched, co) end
      if group.remaining == 0 then break end
      local sleepers = sched.sleepers
      if sched.npending == 0 and #sleepers == 0 then error(core.Error { message = "AsyncPorter: tasks are waiting on nothing (deadlock)" }) end
      local done = self:_wait(sleepers[1] and math.max(0, sleepers[1].at - M.core._now()) or nil)
      local now = M.core._now()
      while sleepers[1] and sleepers[1].at <= now do
        sched.push(table.remove(sleepers, 1).co)
      end
      for _, key in ipairs(done) do
        local co = sched.pending[key]
        sched.pending[key] = nil
        sched.npending = sched.npending - 1
        sched.push(co)
      end
    end
  end)
  running[self] = nil
  if not ok then self:_cancel_all() end
  -- tasks left unfinished (the loop itself failed): closed too, their <close> variables run
  for co in pairs(sched.info) do close_task(sched, co) end
  if not ok then error(err, 0) end
  return finish(group)
end

local function run(self, fn)
  local results = gather(self, { fn })
  return results[1]
end

-- Sleeps without blocking other tasks when called inside one; blocks otherwise.
function M.sleep(seconds)
  if type(seconds) ~= "number" or seconds < 0 then
    error(M.core.ArgumentError { message = "sleep: expected a non-negative number of seconds" }, 2)
  end
  local co = coroutine.running()
  if task_of[co] then
    coroutine.yield(SLEEP, seconds)
  else
    M.core._sleep(seconds)
  end
end

function M.install(core)
  M.core = core
  local methods = core._metatables.AsyncPorter.methods
  methods.gather = gather
  methods.run = run
  core.sleep = M.sleep
end

return M
