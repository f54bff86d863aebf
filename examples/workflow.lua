-- A complete sandbox workflow: a volume, a sandbox that mounts it, commands run inside,
-- logs, files in and out of the volume, teardown.
--   porter-lua --local examples/workflow.lua        (on this machine)
--   PORTER_SANDBOX_BASE_URL=https://... porter-lua examples/workflow.lua   (a Porter cluster)
local sandbox = require "porter_sandbox"

local porter <close> = sandbox.Porter()
print(("talking to %s (porter-sandbox-lua %s)"):format(porter.base_url, sandbox.VERSION))

local run = os.date("!%Y%m%d%H%M%S") .. "-" .. math.random(1000, 9999)
local vol = porter.volumes.create { name = "workflow-data-" .. run }
print("created", vol)

local sb = porter.sandboxes.create {
  image = "python:3.12-slim",
  name = "workflow-" .. run,
  tags = { workflow = "demo" },
  env = { GREETING = "hello from the sandbox" },
  volume_mounts = { ["/data"] = vol.id },
}
local status = sb:wait { timeout = 60 }
print("started", sb, "at", status.started_at)

-- Commands run inside the sandbox, with its env and its mounts.
local r = sb:exec { "sh", "-c", 'echo "$GREETING"; hostname; echo 42 > /data/answer.txt' }
io.write("exec: ", r.stdout)
assert(r.exit_code == 0 and math.type(r.exit_code) == "integer")

local failed = sb:exec { "sh", "-c", "echo oops >&2; exit 3" }
print(("a failing command is a result, not an error: exit %d, stderr %q"):format(failed.exit_code,
  (failed.stderr:gsub("\n$", ""))))

-- Files the sandbox wrote are in the volume; files we write appear inside the sandbox.
print("read back:", (vol:read_text("/answer.txt"):gsub("\n$", "")))
vol:write_file("/inbox/notes.txt", "written by the workflow\n")
print("sandbox sees:", (sb:exec { "cat", "/data/inbox/notes.txt" }.stdout:gsub("\n$", "")))
for entry in vol:iterdir("/") do
  print(("  %-10s %-22s %s bytes"):format(entry.type, entry.path, entry.size_bytes or "-"))
end

-- Every exec's output is in the sandbox's logs.
for _, line in ipairs(sb:logs { limit = 5 }) do
  print(("log %s [%s] %s"):format(line.timestamp, line.level, line.line))
end

local mine = porter.sandboxes.list { tags = { workflow = "demo" }, phase = "running" }
print(("%d running sandbox(es) tagged workflow=demo"):format(#mine))

sb:terminate()
print("terminated:", sb:refresh().phase)
vol:delete()
print("volume deleted; done")
