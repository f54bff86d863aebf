-- lua5.4 scripts/bench/writes.lua BUILD [ROUNDS [N]]: N (1000) writes of 4 KiB files into a
-- volume through the files API, acknowledged only once durable, by one client and by eight at
-- once (curl, keep-alive, one process a client); beside, in the same run and on the same kind
-- of filesystem (ext4 in a loop-mounted image, as a volume is): nginx's WebDAV PUT of the same
-- files (it does not fsync) and the same files written O_SYNC one after another (the floor).
local sandboxd = require "spec.support.sandboxd"
local median = require("scripts.bench.stats").median
local build, rounds, N = arg[1] or "build", tonumber(arg[2]) or 3, tonumber(arg[3]) or 1000
local now = require("porter_sandbox")._now

local function sh(cmd) assert(os.execute(cmd), cmd) end
local function read(cmd)
  local p = io.popen(cmd)
  local out = p:read("*a")
  p:close()
  return out
end

local work = read("mktemp -d"):gsub("%s+$", "")
local blob = work .. "/blob"
sh(("head -c 4096 /dev/urandom > %s"):format(blob))

-- one curl process PUTting files from..to of a URL pattern (%d: the file's number)
local function client_config(path, pattern, from, to)
  local f = assert(io.open(path, "w"))
  f:write("silent\nfail\n")
  for i = from, to do f:write(("upload-file = \"%s\"\nurl = \"%s\"\noutput = \"/dev/null\"\n"):format(blob, pattern:format(i))) end
  f:close()
end

-- the wall time of `clients` curl processes writing N files between them
local function writes(pattern, clients, tag)
  local per = N // clients
  local cmds = {}
  for c = 1, clients do
    local cfg = ("%s/%s.%d.cfg"):format(work, tag, c)
    client_config(cfg, pattern, (c - 1) * per, c * per - 1)
    cmds[c] = "curl -K " .. cfg
  end
  local t0 = now()
  sh("(" .. table.concat(cmds, " & ") .. " & wait)")
  return now() - t0
end

local mnt = work .. "/mnt"
sh(("mkdir -p %s && truncate -s 1G %s/disk.img && mkfs.ext4 -q %s/disk.img && mount -o loop %s/disk.img %s && mkdir -p %s/www %s/tmp %s/floor")
  :format(mnt, work, work, work, mnt, mnt, mnt, mnt))
local port = 20000 + (tonumber(read("echo $$")) or 0) % 20000
local conf = work .. "/nginx.conf"
local f = assert(io.open(conf, "w"))
f:write(([[
daemon off; worker_processes 1; pid %s/nginx.pid; error_log %s/nginx.err;
events {}
http {
  access_log off; client_body_temp_path %s/tmp;
  server { listen 127.0.0.1:%d; root %s/www; location / { dav_methods PUT; create_full_put_path on; } }
}
]]):format(work, work, mnt, port, mnt))
f:close()
sh(("nginx -c %s & echo $! > %s/nginx.pid.sh"):format(conf, work))
local srv = sandboxd.start { args = { "--image-fallback", "none" } }
local ok, err = pcall(function()
  local vol = srv:request("POST", "/v1/volume", { name = "writes" }).json.id
  local ours = srv.url .. "/v1/volume/" .. vol .. "/files/content?path=/f%d"
  local theirs = ("http://127.0.0.1:%d/f%%d"):format(port)
  for _ = 1, 50 do
    if os.execute(("curl -sf -o /dev/null -T %s http://127.0.0.1:%d/probe"):format(blob, port)) then break end
    os.execute("sleep 0.1")
  end
  local one, eight, nginx1, nginx8, floor = {}, {}, {}, {}, {}
  for r = 1, rounds do -- interleaved, so that the machine's drift touches all alike
    one[r] = writes(ours, 1, "one")
    eight[r] = writes(ours, 8, "eight")
    nginx1[r] = writes(theirs, 1, "nginx1")
    nginx8[r] = writes(theirs, 8, "nginx8")
    floor[r] = tonumber(read(("%s/bench/syncwrite %s/floor %d 4096"):format(build, mnt, N)))
  end
  local function rate(t) return N / median(t) end
  print(("%-44s %8.0f writes/s"):format("porter-sandboxd, one client", rate(one)))
  print(("%-44s %8.0f writes/s   (%.2fx one client)"):format("porter-sandboxd, 8 clients", rate(eight), median(one) / median(eight)))
  print(("%-44s %8.0f writes/s   (porter-sandboxd one client: %.2fx its time)"):format("nginx WebDAV PUT, one client (no fsync)",
    rate(nginx1), median(one) / median(nginx1)))
  print(("%-44s %8.0f writes/s"):format("nginx WebDAV PUT, 8 clients (no fsync)", rate(nginx8)))
  print(("%-44s %8.0f writes/s   (porter-sandboxd one client: %.2fx its time)"):format("O_SYNC writes one after another (the floor)",
    rate(floor), median(one) / median(floor)))
end)
srv:stop()
os.execute(("kill $(cat %s/nginx.pid.sh) 2>/dev/null; sleep 0.2; umount %s; rm -rf %s"):format(work, mnt, work))
if not ok then error(err, 0) end
