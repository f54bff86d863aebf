-- A network of our own for outbound tests: porter-sandboxd runs in a network namespace ("srv")
-- joined by one veth pair to a namespace of test hosts ("hosts"), and to nothing else. Both
-- are checked to route nowhere but that link before a packet is sent. The hosts:
--   198.51.100.1  "public" HTTP on :80 and a raw TCP echo on :7
--   198.51.100.2  a second public HTTP host
--   169.254.169.254 an impostor metadata server on :80
--   10.1.0.5      a "private" HTTP host
--   192.0.2.53    DNS (dnsmasq): public1.test, public2.test, private.test, wild.test and every
--                 name below it (198.51.100.2), and two rebinding names, loop.test (127.0.0.1)
--                 and meta.test (169.254.169.254)
-- dnsmasq answers the .test names alone (--local), so a name without an AAAA record gets
-- NXDOMAIN for it, as from a real server, not REFUSED (which makes glibc give up on the name).
-- Processes in srv are reached with nsenter --net (never `ip netns exec`, which remounts /sys).
local process = require("spec.support.process")
local sh = process.shquote

local M = {}
local Lab = {}
Lab.__index = Lab

local HOSTS = { ["198.51.100.1"] = "public-1", ["198.51.100.2"] = "public-2",
                ["169.254.169.254"] = "metadata-SECRET", ["10.1.0.5"] = "private-SECRET" }
M.HOSTS = HOSTS

-- without the sanitizer preloads of `make asan-test`: ip, curl and the rest are not ours
local function run(cmd)
  local p = io.popen("env -u LD_PRELOAD sh -c " .. sh(cmd) .. " 2>&1")
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok and 0 or code
end

M.run = run

local function must(cmd)
  local out, code = run(cmd)
  if code ~= 0 then error("lab setup failed: " .. cmd .. "\n" .. out, 2) end
  return out
end

-- The command prefix that runs a program in one of the lab's namespaces.
function Lab:enter(which)
  return "nsenter --net=/run/netns/" .. self[which]
end

-- Runs a shell command in a namespace of the lab; its output and exit code.
function Lab:sh(which, cmd)
  return run(self:enter(which) .. " sh -c " .. sh(cmd))
end

-- What `ip route` and `ip -o link` show in each namespace: asserted by the spec before use.
function Lab:routes(which)
  return (self:sh(which, "ip -4 route; ip -6 route; ip -o link | awk -F': ' '{print $2}'"))
end

local function start_hosts(self)
  local www = self.dir .. "/www"
  for addr, body in pairs(HOSTS) do
    local d = www .. "/" .. addr
    must("mkdir -p " .. sh(d) .. " && printf '%s\\n' " .. sh(body) .. " > " .. sh(d .. "/index.html"))
    self.procs[#self.procs + 1] = process.spawn { "nsenter", "--net=/run/netns/" .. self.hosts,
      "busybox", "httpd", "-f", "-p", addr .. ":80", "-h", d }
  end
  self.procs[#self.procs + 1] = process.spawn { "nsenter", "--net=/run/netns/" .. self.hosts,
    "socat", "TCP-LISTEN:7,bind=198.51.100.1,reuseaddr,fork", "EXEC:cat" }
  self.procs[#self.procs + 1] = process.spawn { "nsenter", "--net=/run/netns/" .. self.hosts,
    "dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file=",
    "--user=root", "--listen-address=192.0.2.53", "--bind-interfaces", "--local=/test/",
    "--address=/public1.test/198.51.100.1", "--address=/public2.test/198.51.100.2",
    "--address=/private.test/10.1.0.5", "--address=/loop.test/127.0.0.1",
    "--address=/meta.test/169.254.169.254", "--address=/wild.test/198.51.100.2" }
  -- up when each answers from srv
  for _ = 1, 200 do
    local out = self:sh("srv", "curl -s -m 1 http://198.51.100.1/ http://169.254.169.254/ http://10.1.0.5/"
      .. " http://198.51.100.2/ && echo x | socat -t 1 - TCP:198.51.100.1:7 && busybox nslookup public1.test 192.0.2.53")
    if out:find("public-1", 1, true) and out:find("198.51.100.1", out:find("public1.test", 1, true) or #out, true)
       and out:find("private-SECRET", 1, true) and out:find("\nx\n", 1, true) then return end
    process.sleep(0.05)
  end
  error("the lab's test hosts did not come up")
end

function M.start()
  local tag = ("pt%d%d"):format(os.time() % 100000, math.random(1e4))
  local self = setmetatable({ srv = tag .. "s", hosts = tag .. "h", procs = {}, dir = process.tmpdir() }, Lab)
  must("ip netns add " .. self.srv .. " && ip netns add " .. self.hosts)
  local ok, err = pcall(function()
    must(("ip link add %sa netns %s type veth peer name %sb netns %s"):format(tag, self.srv, tag, self.hosts))
    local s, h = "ip -n " .. self.srv, "ip -n " .. self.hosts
    must(s .. " link set lo up && " .. s .. " link set " .. tag .. "a up && " .. h .. " link set lo up && " .. h
      .. " link set " .. tag .. "b up")
    for _, a in ipairs { "198.51.100.254/24", "169.254.0.1/16", "10.1.0.254/24", "192.0.2.254/24" } do
      must(s .. " addr add " .. a .. " dev " .. tag .. "a")
    end
    for _, a in ipairs { "198.51.100.1/24", "198.51.100.2/24", "169.254.169.254/16", "10.1.0.5/24", "192.0.2.53/24" } do
      must(h .. " addr add " .. a .. " dev " .. tag .. "b")
    end
    self.link = tag
    -- the server's resolver is the lab's DNS: a resolv.conf of ours bound in its mount namespace
    self.resolv = self.dir .. "/resolv.conf"
    must("printf 'nameserver 192.0.2.53\\n' > " .. sh(self.resolv))
    start_hosts(self)
  end)
  if not ok then
    self:stop()
    error(err, 0)
  end
  return self
end

-- argv that runs argv in srv with the lab's resolv.conf (in a mount namespace of its own).
function Lab:wrap(argv)
  local quoted = {}
  for i, a in ipairs(argv) do quoted[i] = sh(a) end
  return { "nsenter", "--net=/run/netns/" .. self.srv, "unshare", "-m", "sh", "-c",
           "mount --bind " .. sh(self.resolv) .. " /etc/resolv.conf && exec " .. table.concat(quoted, " ") }
end

function Lab:stop()
  -- all told at once, then each awaited: one by one, each wait is a second or two
  for _, p in ipairs(self.procs) do os.execute("kill -TERM " .. p.pid .. " 2>/dev/null") end
  for _, p in ipairs(self.procs) do process.stop(p) end
  self.procs = {}
  run("ip netns del " .. self.srv .. "; ip netns del " .. self.hosts)
  os.execute("rm -rf " .. sh(self.dir))
end

return M
