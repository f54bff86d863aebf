-- Sandbox methods that are loops over the C ones.
local M = {}

local STARTING = { queued = true, creating = true }

-- sb:wait{ timeout = 60 }: refreshes until the sandbox has left queued/creating; answers the
-- status. Backs off from 50 ms to 1 s between polls; inside an AsyncPorter task the pauses
-- let the other tasks run.
local function wait(self, opts)
  local timeout = opts and opts.timeout or 60
  if type(timeout) ~= "number" or timeout <= 0 then
    error(M.core.ArgumentError { message = "Sandbox:wait: 'timeout' must be a positive number of seconds" }, 2)
  end
  local deadline = M.core._now() + timeout
  local pause = 0.05
  while true do
    local status = self:refresh()
    if not STARTING[status.phase] then return status end
    if M.core._now() + pause > deadline then
      error(M.core.SandboxTimeoutError {
        message = string.format("sandbox %s still %s after %gs", self.id, status.phase, timeout) }, 2)
    end
    M.core.sleep(pause)
    pause = math.min(pause * 2, 1)
  end
end

function M.install(core)
  M.core = core
  core._metatables.Sandbox.methods.wait = wait
end

return M
