-- A real OCI registry (Debian's docker-registry, the CNCF distribution registry) on a loopback
-- port with a temporary store; its access log tells which blobs were fetched.
local process = require("spec.support.process")

local M = {}
local Registry = {}
Registry.__index = Registry

function M.start()
  local dir = process.tmpdir()
  for _ = 1, 20 do
    local port = math.random(20000, 32000)
    local f = assert(io.open(dir .. "/config.yml", "w"))
    f:write(([[
version: 0.1
log:
  level: warn
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %s/data
http:
  addr: 127.0.0.1:%d
]]):format(dir, port))
    f:close()
    local proc = process.spawn { "docker-registry", "serve", dir .. "/config.yml" }
    for _ = 1, 100 do
      if not process.alive(proc) then break end
      if os.execute("env -u LD_PRELOAD curl -sf -o /dev/null http://127.0.0.1:" .. port .. "/v2/") then
        return setmetatable({ proc = proc, dir = dir, host = "127.0.0.1:" .. port }, Registry)
      end
      process.sleep(0.05)
    end
    process.stop(proc)
  end
  error("could not start docker-registry")
end

-- How many times each blob was fetched (GET .../blobs/sha256:...), by digest.
function Registry:blob_fetches()
  local counts = {}
  local log = (process.read_all(self.proc.stdout) or "") .. (process.read_all(self.proc.stderr) or "")
  for digest in log:gmatch('"GET /v2/[^ ]-/blobs/(sha256:%x+) HTTP/1%.1" 200') do
    counts[digest] = (counts[digest] or 0) + 1
  end
  return counts
end

-- The file the registry serves a blob from (to tamper with it).
function Registry:blob_file(digest)
  local hex = digest:match("sha256:(%x+)")
  return ("%s/data/docker/registry/v2/blobs/sha256/%s/%s/data"):format(self.dir, hex:sub(1, 2), hex)
end

function Registry:stop()
  process.stop(self.proc)
  os.execute("rm -rf " .. process.shquote(self.dir))
end

return M
