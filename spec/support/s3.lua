-- A real S3 endpoint on loopback: OpenStack Swift from Debian (its proxy with the s3api and
-- tempauth middlewares, one account, container and object server, memcached for tempauth's
-- tokens) with a temporary store. Its S3 credentials are AWS_ACCESS_KEY_ID "test:tester" and
-- AWS_SECRET_ACCESS_KEY "testing"; buckets are made and read through Swift's own API, so that
-- what a spec checks in a bucket is not read back through the client under test.
local process = require("spec.support.process")
local sh = process.shquote

local M = {}
local S3 = {}
S3.__index = S3

M.KEY, M.SECRET = "test:tester", "testing"

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- every server's [DEFAULT]: on loopback, one process, its rings and swift.conf in dir/etc
local function defaults(dir, port)
  return ("[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = %d\nworkers = 0\nswift_dir = %s/etc\nlog_facility = LOG_LOCAL0\n")
    :format(port, dir)
end

local function server_conf(dir, kind, port)
  return defaults(dir, port) .. ([[
devices = %s/dev
mount_check = false
[pipeline:main]
pipeline = %s-server
[app:%s-server]
use = egg:swift#%s
]]):format(dir, kind, kind, kind)
end

local function build(dir, base)
  assert(os.execute(("mkdir -p %s/etc %s/dev/d1"):format(sh(dir), sh(dir))))
  write(dir .. "/etc/swift.conf", "[swift-hash]\nswift_hash_path_suffix = porter-spec\nswift_hash_path_prefix = porter-spec\n" ..
                                  "[storage-policy:0]\nname = gold\ndefault = yes\n")
  local ports = { object = base, container = base + 1, account = base + 2, proxy = base + 3, memcached = base + 4 }
  for _, kind in ipairs { "account", "container", "object" } do
    local b = sh(dir .. "/etc/" .. kind .. ".builder")
    -- (without a sanitizer's preload: it is no binary of ours)
    assert(os.execute(("unset LD_PRELOAD; swift-ring-builder %s create 0 1 1 >/dev/null && " ..
                       "swift-ring-builder %s add r1z1-127.0.0.1:%d/d1 1 >/dev/null && " ..
                       "swift-ring-builder %s rebalance >/dev/null 2>&1; test -f %s"):format(
                         b, b, ports[kind], b, sh(dir .. "/etc/" .. kind .. ".ring.gz"))))
    write(dir .. "/etc/" .. kind .. "-server.conf", server_conf(dir, kind, ports[kind]))
  end
  write(dir .. "/etc/proxy-server.conf", defaults(dir, ports.proxy) .. ([[
[pipeline:main]
pipeline = catch_errors proxy-logging cache s3api tempauth proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:%d
[filter:s3api]
use = egg:swift#s3api
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
]]):format(ports.memcached))
  return ports
end

-- Swift's own API, with a token of tempauth's: status and body
function S3:swift(method, path, body)
  local cmd = ("curl -s -o %s -w '%%{http_code}' -X %s -H %s %s%s %s"):format(
    sh(self.dir .. "/answer"), method, sh("X-Auth-Token: " .. self.token), sh(self.storage), path,
    body and "--data-binary " .. sh(body) or "")
  local status = tonumber((process.capture("env -u LD_PRELOAD " .. cmd)))
  local f = io.open(self.dir .. "/answer")
  local text = f and f:read("a") or ""
  if f then f:close() end
  return status, text
end

function S3:create_bucket(name)
  local status = self:swift("PUT", "/" .. name)
  assert(status == 201 or status == 202, "could not make bucket " .. name .. ": " .. tostring(status))
end

-- the keys in a bucket, sorted
function S3:keys(bucket)
  local status, text = self:swift("GET", "/" .. bucket)
  assert(status == 200 or status == 204, "could not list bucket " .. bucket)
  local keys = {}
  for k in text:gmatch("[^\n]+") do keys[#keys + 1] = k end
  return keys
end

function S3:get(bucket, key)
  local status, text = self:swift("GET", "/" .. bucket .. "/" .. key)
  return status == 200 and text or nil
end

function S3:put(bucket, key, data)
  assert(self:swift("PUT", "/" .. bucket .. "/" .. key, data) == 201)
end

function M.start()
  for _ = 1, 10 do
    local dir = process.tmpdir()
    local ports = build(dir, math.random(20000, 30000))
    local s = setmetatable({ dir = dir, procs = {}, url = "http://127.0.0.1:" .. ports.proxy }, S3)
    s.procs[1] = process.spawn { "memcached", "-l", "127.0.0.1", "-p", tostring(ports.memcached), "-U", "0", "-u", "nobody" }
    for _, kind in ipairs { "object", "container", "account", "proxy" } do
      s.procs[#s.procs + 1] = process.spawn { "swift-" .. kind .. "-server", dir .. "/etc/" .. kind .. "-server.conf" }
    end
    -- up once a token is had and an object stored (every server answers: a port another
    -- process held would leave one of them down, and the next round takes other ports)
    local ok = pcall(process.eventually, function()
      local h = process.capture(("env -u LD_PRELOAD curl -s -D - -o /dev/null -H 'X-Auth-User: %s' -H 'X-Auth-Key: %s' %s/auth/v1.0")
                                  :format(M.KEY, M.SECRET, s.url))
      s.token, s.storage = h:match("X%-Auth%-Token: ([^\r\n]+)"), h:match("X%-Storage%-Url: ([^\r\n]+)")
      if not s.token then return false end
      local made = s:swift("PUT", "/porter-probe")
      return (made == 201 or made == 202) and s:swift("PUT", "/porter-probe/up", "1") == 201
    end, "swift", 20)
    if ok then return s end
    s:stop()
  end
  error("could not start Swift's S3 endpoint")
end

-- killed outright: its store is thrown away, and Swift's servers take seconds over a TERM
function S3:stop()
  for _, p in ipairs(self.procs) do os.execute("kill -KILL " .. p.pid .. " 2>/dev/null") end
  for _, p in ipairs(self.procs) do process.stop(p) end
  os.execute("rm -rf " .. sh(self.dir))
end

return M
