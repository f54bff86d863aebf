-- Code inside a sandbox attacking its boundary, as untrusted code would: each attempt must fail
-- safely. The canaries are planted by the spec (the server's state dir, another sandbox's
-- volume, host directories, a listener on the host's loopback); network attempts go only to
-- loopback addresses; every loop is bounded; every process started is stopped.
local helpers = require("spec.helpers")
local oci = require("spec.support.oci")
local process = helpers.process
local sh = process.shquote
local socket = require("socket")

local MEM_MB = 128

describe("porter-sandboxd against hostile code", function()
  local srv, work, attacker, victim, vol, tools, listener, listen_port
  local tag = "porter-canary-" .. math.random(1e9)          -- in file names
  local secret = "SECRET-" .. os.time() .. "-" .. math.random(1e9) -- in file contents only
  local root_canary = "/root/.porter-canary-" .. math.random(1e9)

  -- a shell script's output (stdout, then stderr) and exit code
  local function exec(id, script)
    local r = srv:exec(id, { "sh", "-c", script })
    return r.stdout .. r.stderr, r.exit_code
  end

  local function attack(name, arg) return (exec(attacker, "/tmp/attack " .. name .. " " .. (arg or ""))) end

  -- the host ids of a sandbox's root, from its uid_map
  local function host_base(id)
    local base = (exec(id, "tr -s ' ' < /proc/self/uid_map | sed 's/^ //'")):match("^0 (%d+) 65536\n$")
    return assert(tonumber(base), "a uid_map of one range")
  end

  setup(function()
    work = process.tmpdir()
    oci.run("cc -O1 -o " .. sh(work .. "/attack") .. " spec/support/attack.c")
    srv = helpers.sandboxd { args = { "--memory-max", MEM_MB .. "M", "--pids-max", "512", "--disk-max", "32M",
                                      "--volume-size", "32M", "--snapshot-space", "40M" } }
    oci.write(srv.state_dir .. "/" .. tag .. "-state.txt", secret)
    oci.run("mkdir -p " .. sh(work .. "/hostdir") .. " && echo " .. secret .. " > " .. sh(work .. "/hostdir/" .. tag .. "-host.txt"))
    oci.write(root_canary, secret)
    oci.run("chmod 600 " .. sh(root_canary))
    vol = srv:request("POST", "/v1/volume", {}).json.id
    srv:request("PUT", "/v1/volume/" .. vol .. "/files/content?path=/" .. tag .. "-vol.txt", secret)
    victim = srv:run { image = "host", volume_mounts = { ["/data"] = vol } }
    tools = srv:request("POST", "/v1/volume", {}).json.id
    local f = assert(io.open(work .. "/attack", "rb"))
    srv:request("PUT", "/v1/volume/" .. tools .. "/files/content?path=/attack", f:read("a"))
    f:close()
    attacker = srv:run { image = "host", volume_mounts = { ["/tools"] = tools } }
    srv:wait(victim, "running")
    srv:wait(attacker, "running")
    exec(attacker, "cp /tools/attack /tmp/attack && chmod 755 /tmp/attack")
    listener = assert(socket.bind("127.0.0.1", 0))
    listen_port = select(2, listener:getsockname())
  end)

  teardown(function()
    if listener then listener:close() end
    srv:stop()
    os.remove(root_canary)
    os.execute("rm -rf " .. sh(work))
  end)

  describe("its files", function()
    it("cannot hand the host's helpers its environment (a spec's or an image's LD_PRELOAD, LD_DEBUG...), which only its workload gets", function()
      -- the launcher runs as the host's root, slirp4netns and the unpacker outside the sandbox:
      -- had any of them the workload's environment, ld.so would load a preload of the caller's
      -- choosing there; LD_DEBUG shows which processes read it (the launcher links libseccomp,
      -- slirp4netns libslirp; the workload's sh neither)
      local lines = {}
      for _, egress in ipairs { false, { allowed_destinations = { "127.0.0.1/32" } } } do
        local id = srv:run { image = "host", env = { LD_DEBUG = "libs", LD_PRELOAD = "/nonexistent-porter-preload.so" },
                         egress = egress or nil, networking = egress and { { port = 8080 } } or nil,
                         command = { "sh", "-c", "echo seen=$LD_DEBUG; exec sleep 1000" } }
        local text
        for _ = 1, 250 do
          text = srv:get("/v1/sandbox/" .. id .. "/logs").body
          if text:find("seen=libs", 1, true) then break end
          process.sleep(0.02)
        end
        lines[#lines + 1] = text
        srv:terminate(id)
      end
      for _, text in ipairs(lines) do
        assert.matches("seen=libs", text, 1, true) -- the workload has it
        assert.is_nil(text:find("libseccomp", 1, true), text)
        assert.is_nil(text:find("libslirp", 1, true), text)
      end
    end)

    it("cannot find the server's state dir, another sandbox's volume or host files anywhere", function()
      local out = exec(attacker, "find / -path /proc -prune -o -name '*" .. tag .. "*' -print 2>/dev/null")
      assert.equal("", out)
    end)
    it("cannot read the state dir by its host path", function()
      local out = exec(attacker, "cat " .. sh(srv.state_dir .. "/" .. tag .. "-state.txt") .. " " .. sh(srv.state_dir .. "/state.db") .. " 2>&1")
      assert.matches("No such file", out)
    end)
    it("cannot read another sandbox's volume by its host path", function()
      local out = exec(attacker, "cat " .. sh(srv.state_dir .. "/volumes/" .. vol .. "/data/" .. tag .. "-vol.txt") .. " 2>&1")
      assert.is_nil(out:find(secret, 1, true))
    end)
    it("cannot make a snapshot read host files or crash the server, even swapping dirs for symlinks meanwhile", function()
      local id = srv:run { image = "host" }
      srv:wait(id, "running")
      exec(id, "cd /tmp && ln -s / root && ln -s " .. sh(root_canary) .. " canary && mkdir deep && cd deep && " ..
               "i=0; while [ $i -lt 1500 ]; do mkdir d && cd d; i=$((i+1)); done")
      exec(id, "(cd /tmp && i=0; while [ $i -lt 20000 ]; do mkdir -p x/y && echo s > x/y/f; rm -rf x; ln -s / x; rm x; " ..
               "i=$((i+1)); done) >/dev/null 2>&1 &")
      for _ = 1, 5 do
        local r = srv:request("POST", "/v1/sandbox/" .. id .. "/snapshot", {})
        assert.equal(201, r.status, r.body)
        local tar = srv.state_dir .. "/snapshots/" .. r.json.id .. ".tar"
        assert.equal(r.json.size_bytes, #process.read_all(tar))
        assert.is_nil(process.read_all(tar):find(secret, 1, true))
        local listing = oci.run("tar -tvf " .. sh(tar))
        assert.matches("root %-> /", listing)
        assert.matches("(d/d/d/d/d/d/d/d/d/d/)", listing)
        assert.is_nil(listing:find("etc/passwd", 1, true))
      end
      assert.is_true(process.alive(srv.proc))
      srv:terminate(id)
    end)
    it("cannot reach host files through the links of a snapshot a new sandbox starts from", function()
      local id = srv:run { image = "host" }
      srv:wait(id, "running")
      exec(id, "cd /tmp && ln -s / root && ln -s " .. sh(root_canary) .. " canary && mkdir -p a/b && echo mine > a/b/f && " ..
               "cd /tmp && mkdir deep && cd deep && i=0; while [ $i -lt 400 ]; do mkdir d && cd d; i=$((i+1)); done; echo bottom > f")
      local snap = srv:request("POST", "/v1/sandbox/" .. id .. "/snapshot", {})
      assert.equal(201, snap.status, snap.body)
      srv:terminate(id)
      -- the links come back pointing into the new sandbox's own root, the files with them; the
      -- unpacker ran chrooted into the new /tmp, so the host's files stay out of reach
      local from = srv:request("POST", "/v1/sandbox/run", { image = "", snapshot_id = snap.json.id, command = { "sleep", "60" } })
      assert.equal(202, from.status, from.body)
      srv:wait(from.json.id, "running")
      local out = exec(from.json.id, "readlink /tmp/root; cat /tmp/a/b/f; cat $(find /tmp/deep -name f); " ..
                                     "cat /tmp/canary 2>&1; echo > /tmp/canary 2>&1; true")
      assert.matches("^/\nmine\nbottom\n", out)
      assert.is_nil(out:find(secret, 1, true))
      assert.equal(secret, oci.run("cat " .. sh(root_canary)))
      srv:terminate(from.json.id)
    end)
    local function snapshot_of(id)
      return function() return srv:request("POST", "/v1/sandbox/" .. id .. "/snapshot", {}) end
    end
    -- each spec below starts from an empty --snapshot-space: what the specs before it left would
    -- make its bounds a guess
    local function clear_snapshots()
      for _, s in ipairs(srv:get("/v1/snapshot").json.snapshots) do
        assert.equal(204, srv:request("DELETE", "/v1/snapshot/" .. s.id).status)
      end
    end
    it("cannot make a snapshot fill the host's disk: hard links stored once, the copy capped", function()
      local id = srv:run { image = "host" }
      srv:wait(id, "running")
      local snapshot = snapshot_of(id)
      clear_snapshots()
      -- 20 names for one 8 MiB file: 8 MiB in the snapshot, not 168
      exec(id, "head -c 8M /dev/urandom > /tmp/a && i=0; while [ $i -lt 20 ]; do ln /tmp/a /tmp/l$i; i=$((i+1)); done")
      local r = snapshot()
      assert.equal(201, r.status, r.body)
      assert.is_true(r.json.size_bytes < 9 * 1024 * 1024, r.json.size_bytes .. " bytes")
      -- a FIFO and a 3 GiB hole neither hang the copy nor grow it
      exec(id, "rm /tmp/a /tmp/l*; mkfifo /tmp/fifo && truncate -s 3G /tmp/hole")
      r = snapshot()
      assert.equal(201, r.status, r.body)
      assert.is_true(r.json.size_bytes < 1024 * 1024, r.json.size_bytes .. " bytes")
      -- 70,000 long names: more headers than twice --disk-max (32M here); refused, nothing kept
      exec(id, "rm -f /tmp/hole; mkdir /tmp/n && cd /tmp/n && seq 70000 | sed 's/^/" .. ("x"):rep(140) .. "/' | xargs touch")
      local before = tonumber(oci.run("du -sk " .. sh(srv.state_dir .. "/snapshots") .. " | cut -f1"))
      r = snapshot()
      assert.equal(507, r.status, r.body)
      assert.matches("would be larger than %d+ bytes", r.body)
      assert.equal(before, tonumber(oci.run("du -sk " .. sh(srv.state_dir .. "/snapshots") .. " | cut -f1")))
      -- the failed capture keeps its record, with the reason, and nothing can start from it
      local failed
      for _, s in ipairs(srv:get("/v1/snapshot?sandbox_id=" .. id).json.snapshots) do
        if s.status == "failed" then failed = s end
      end
      assert.truthy(failed, "a failed snapshot listed")
      assert.matches("would be larger than %d+ bytes", failed.failure_reason)
      local from = srv:request("POST", "/v1/sandbox/run", { image = "", snapshot_id = failed.id })
      assert.equal(409, from.status, from.body)
      assert.matches("is failed, not ready", from.body)
      srv:terminate(id)
    end)
    it("cannot fill the host's disk with many snapshots: together they stay within --snapshot-space", function()
      local id = srv:run { image = "host" }
      srv:wait(id, "running")
      local snapshot = snapshot_of(id)
      clear_snapshots()
      exec(id, "head -c 6M /dev/urandom > /tmp/a")
      local r, made = nil, {}
      for _ = 1, 12 do -- 12 x 6 MiB would be 72 MiB
        r = snapshot()
        if r.status ~= 201 then break end
        made[#made + 1] = r.json.id
      end
      assert.equal(507, r.status, r.body)
      local total = 0
      for _, s in ipairs(srv:get("/v1/snapshot").json.snapshots) do total = total + s.size_bytes end
      assert.is_true(total <= 40 * 1024 * 1024, total .. " bytes of snapshots")
      assert.is_true(#made >= 5, #made .. " snapshots made") -- 6 of 6 MiB fit in 40 MiB, less their headers
      -- room again once one is deleted
      assert.equal(204, srv:request("DELETE", "/v1/snapshot/" .. made[1]).status)
      assert.equal(201, snapshot().status)
      srv:terminate(id)
    end)
    it("sees no /root, /home, /var or the server's binaries", function()
      local out = exec(attacker, "ls -d /root /home /var " .. sh(helpers.build) .. " " .. sh(root_canary) .. " 2>&1")
      assert.is_nil(out:find(secret, 1, true))
      for _, p in ipairs { "/root", "/home", "/var", helpers.build } do assert.matches(p .. "': No such file", out, 1, true) end
    end)
    it("cannot read /etc/shadow, gshadow or ssh host keys", function()
      local out = exec(attacker, "cat /etc/shadow /etc/gshadow /etc/ssh/ssh_host_*_key 2>/dev/null | wc -c")
      assert.equal("0\n", out)
    end)
    it("cannot write the host's system directories", function()
      local out = exec(attacker, "touch /usr/porter-x /etc/porter-x /bin/porter-x 2>&1; echo done")
      assert.matches("Read%-only file system", out)
      for _, p in ipairs { "/usr/porter-x", "/etc/porter-x", "/bin/porter-x" } do assert.is_nil(io.open(p, "r")) end
    end)
    it("writes to / land in its own root only", function()
      exec(attacker, "echo x > /porter-written")
      assert.is_nil(io.open("/porter-written", "r"))
      assert.equal("", (exec(victim, "ls /porter-written 2>/dev/null")))
    end)
    it("cannot escape with chroot and ..", function()
      assert.equal("contained\n", attack("chroot-escape"))
    end)
    it("cannot make device nodes", function()
      assert.matches("^refused", attack("mknod"))
      assert.equal("full\nmqueue\nnull\nptmx\npts\nrandom\nshm\ntty\nurandom\nzero\n",
                   (exec(attacker, "ls /dev | grep -v -e '^fd$' -e '^std'")))
    end)
    it("has no /sys", function()
      assert.equal("", (exec(attacker, "ls /sys 2>/dev/null")))
    end)
  end)

  describe("its /proc", function()
    for _, p in ipairs { "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/kallsyms" } do
      it("reveals nothing in " .. p, function()
        assert.equal("0\n", (exec(attacker, "cat " .. p .. " 2>/dev/null | wc -c")))
      end)
    end
    it("cannot write any file under /proc/sys", function()
      local before = process.read_all("/proc/sys/kernel/core_pattern")
      local out = exec(attacker, [[n=0; for f in $(find /proc/sys -type f 2>/dev/null | head -2000); do
        if (cat "$f" > "$f") 2>/dev/null; then echo "WROTE $f"; fi; n=$((n+1)); done; echo "tried $n"]])
      assert.is_nil(out:find("WROTE", 1, true))
      assert.truthy(tonumber(out:match("tried (%d+)")) > 100)
      local o2 = exec(attacker, "echo '|/tmp/evil' > /proc/sys/kernel/core_pattern; echo 1 > /proc/sys/kernel/printk_ratelimit")
      assert.matches("Read%-only", o2)
      assert.equal(before, process.read_all("/proc/sys/kernel/core_pattern"))
    end)
    it("cannot trigger sysrq", function()
      local _, code = exec(attacker, "echo h > /proc/sysrq-trigger")
      assert.are_not.equal(0, code)
    end)
    it("sees none of the host's processes", function()
      local out = exec(attacker, "ls /proc | grep -c '^[0-9]'")
      assert.truthy(tonumber(out) < 10, out)
      assert.equal("", (exec(attacker, "grep -l '[p]orter-sandboxd' /proc/[0-9]*/cmdline 2>/dev/null")))
      assert.matches("^refused ESRCH", attack("kill", tostring(srv.proc.pid)))
      assert.is_true(process.alive(srv.proc))
    end)
  end)

  describe("its users", function()
    -- every range /etc/login.defs, /etc/subuid and /etc/subgid hand out, and every account's id
    local function taken_ids()
      local ranges = {}
      local defs = process.read_all("/etc/login.defs") or ""
      ranges[#ranges + 1] = { tonumber(defs:match("\nSUB_UID_MIN%s+(%d+)") or 100000),
                              tonumber(defs:match("\nSUB_UID_MAX%s+(%d+)") or 600100000) }
      for _, f in ipairs { "/etc/subuid", "/etc/subgid" } do
        for start, count in (process.read_all(f) or ""):gmatch("[^:\n]+:(%d+):(%d+)") do
          ranges[#ranges + 1] = { tonumber(start), tonumber(start) + tonumber(count) - 1 }
        end
      end
      for _, f in ipairs { "/etc/passwd", "/etc/group" } do
        for id in (process.read_all(f) or ""):gmatch("[^:\n]+:[^:\n]*:(%d+):") do
          ranges[#ranges + 1] = { tonumber(id), tonumber(id) }
        end
      end
      return ranges
    end

    it("is root inside, an unprivileged uid on the host: a range of its own, no account's", function()
      local a, v = host_base(attacker), host_base(victim)
      assert.is_true(math.abs(a - v) >= 65536, a .. " and " .. v .. " overlap")
      for _, r in ipairs(taken_ids()) do
        for _, base in ipairs { a, v } do
          assert.is_true(base + 65535 < r[1] or base > r[2], ("%d.. overlaps %d..%d"):format(base, r[1], r[2]))
        end
      end
      -- what it writes to a volume is the store's on disk (--uid-base), whichever sandbox wrote it
      exec(attacker, "touch /tools/owned")
      local file = srv:path(srv.state_dir .. "/volumes/" .. tools .. "/data/owned")
      assert.equal("100000\n", oci.run("stat -c %u " .. sh(file)))
    end)

    it("shares a volume with another sandbox: each reads and writes what the other wrote", function()
      local other = srv:run { image = "host", volume_mounts = { ["/tools"] = tools } }
      srv:wait(other, "running")
      assert.is_true(math.abs(host_base(other) - host_base(attacker)) >= 65536)
      exec(attacker, "mkdir -p /tools/shared && echo from-attacker > /tools/shared/f")
      assert.equal("from-attacker\n0 0\n", (exec(other, "cat /tools/shared/f; stat -c '%u %g' /tools/shared/f")))
      exec(other, "echo from-other >> /tools/shared/f && echo new > /tools/shared/g")
      assert.equal("from-attacker\nfrom-other\nnew\n", (exec(attacker, "cat /tools/shared/f /tools/shared/g")))
      local r = srv:get("/v1/volume/" .. tools .. "/files/content?path=/shared/g")
      assert.equal("new\n", r.body)
      srv:terminate(other)
    end)

    it("cannot be signalled by another account of the machine", function()
      local user = ("porter-spec-%d"):format(math.random(10000, 99999))
      finally(function() os.execute("env -u LD_PRELOAD userdel " .. user .. " 2>/dev/null") end)
      oci.run("useradd --no-create-home --shell /usr/sbin/nologin " .. user)
      local pid = (exec(victim, "sleep 3017 >/dev/null 2>&1 & echo $!")):match("%d+")
      -- its host pid: the victim's pid namespace numbers it otherwise
      local host_pid
      for _ = 1, 100 do
        host_pid = oci.run("pgrep -f -x 'sleep 3017'; true"):match("%d+")
        if host_pid then break end
        process.sleep(0.02)
      end
      assert.truthy(pid and host_pid)
      local out = oci.run(("setpriv --reuid=%s --regid=%s --clear-groups kill -9 %s 2>&1; echo rc=$?"):format(user, user, host_pid))
      assert.matches("Operation not permitted", out)
      assert.is_true(process.alive { pid = tonumber(host_pid) })
      exec(victim, "kill " .. pid)
    end)
    it("has Docker's default capabilities at most, no_new_privs and a seccomp filter", function()
      local st = exec(attacker, "grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status")
      assert.matches("CapEff:%s+00000000a80425fb", st)
      assert.matches("CapBnd:%s+00000000a80425fb", st)
      assert.matches("NoNewPrivs:%s+1", st)
      assert.matches("Seccomp:%s+2", st)
    end)
    it("cannot read a 0600 host file even knowing its path", function()
      assert.is_nil((exec(attacker, "cat " .. sh(root_canary) .. " 2>&1")):find(secret, 1, true))
    end)
  end)

  describe("its system calls", function()
    for _, name in ipairs { "mount", "umount", "unshare-user", "unshare-mnt", "unshare-net", "clone-user", "setns", "keyctl",
                            "add_key", "bpf", "perf_event_open", "init_module", "finit_module", "process_vm_readv",
                            "open_by_handle_at", "reboot", "kexec_load", "swapon", "pivot_root", "io_uring_setup",
                            "userfaultfd", "settimeofday", "pidfd_getfd", "sethostname", "vsock", "personality" } do
      it("refuses " .. name, function()
        assert.matches("^refused E", attack(name))
      end)
    end
    it("is refused a call the allow list does not name (EPERM, not the kernel's ENOSYS)", function()
      assert.equal("refused EPERM\n", attack("unknown-syscall"))
    end)
    it("cannot ptrace the sandbox's init or any host process", function()
      assert.matches("^refused", attack("ptrace", "1"))
      assert.matches("^refused ESRCH", attack("ptrace", tostring(srv.proc.pid)))
    end)
  end)

  describe("its network", function()
    local function connect(id, host, port)
      return (exec(id, ("busybox nc -w 1 %s %d </dev/null >/dev/null 2>&1 && echo CONNECTED || echo failed"):format(host, port)))
    end
    it("cannot reach the API server", function()
      assert.equal("failed\n", connect(attacker, "127.0.0.1", srv.port))
    end)
    it("cannot reach a listener on the host's loopback", function()
      assert.equal("failed\n", connect(attacker, "127.0.0.1", listen_port))
      assert.equal("failed\n", connect(attacker, "10.0.2.2", listen_port))
      listener:settimeout(0)
      assert.is_nil(listener:accept())
    end)
    it("has only loopback when egress allows nothing", function()
      local r = srv:request("POST", "/v1/sandbox/run", '{"image":"host","egress":{"allowed_destinations":[]}}')
      local id = r.json.id
      srv:wait(id, "running")
      assert.equal("lo\n", (exec(id, "ls /sys/class/net 2>/dev/null || awk -F: 'NR>2 {gsub(/ /,\"\",$1); print $1}' /proc/net/dev")))
      assert.equal("failed\n", connect(id, "127.0.0.1", srv.port))
      srv:terminate(id)
    end)
    -- an exposed port of a sandbox without slirp4netns: what the host reads from 127.0.0.1:port
    local function serving(egress_json)
      local port = math.random(20000, 32000)
      local cjson = require("cjson")
      local r = srv:request("POST", "/v1/sandbox/run", ('{"image":"host","egress":%s,"networking":[{"port":%d}],"command":%s}'):format(egress_json,
                                 port, cjson.encode { "sh", "-c", "while :; do echo served | busybox nc -l -p " .. port .. "; done" }))
      assert.equal(202, r.status, r.body)
      local id = r.json.id
      srv:wait(id, "running")
      local got
      for _ = 1, 100 do
        local c = socket.connect("127.0.0.1", port)
        if c then
          c:settimeout(2)
          got = c:receive("*l")
          c:close()
          if got then break end
        end
        process.sleep(0.02)
      end
      return id, got, port
    end
    it("keeps egress shut with an exposed port when egress allows nothing (the port still answers)", function()
      local id, got = serving '{"allowed_destinations":[]}'
      assert.equal("served", got)
      assert.equal("lo\n", (exec(id, "awk -F: 'NR>2 {gsub(/ /,\"\",$1); print $1}' /proc/net/dev")))
      assert.equal("failed\n", connect(id, "10.0.2.2", listen_port))
      srv:terminate(id)
    end)
    it("exposes a port beside an allow list by a forwarder that reaches nothing else", function()
      local id, got, port = serving '{"allowed_destinations":["198.51.100.1"]}'
      assert.equal("served", got)
      assert.matches("^http://127.0.0.1:3128", (exec(id, "echo $HTTP_PROXY")))
      -- the forwarder connects to the port and nowhere else: not to the API server for it
      assert.equal("failed\n", connect(id, "127.0.0.1", srv.port))
      -- and it, as the proxy (both forks of the launcher, alike in ps), has a root of its own
      -- with none of the host's files: the forwarder's holds nothing at all
      -- this sandbox's alone (its launcher's forks carry its --hostname), not another server's
      local pids = oci.run("ps -eo pid=,user=,args= | awk '$2 == \"nobody\" && /--forward / && / --hostname " .. id .. " / {print $1}'")
      local empty = 0
      for pid in pids:gmatch("%d+") do
        assert.equal("etc\n", oci.run("ls -A /proc/" .. pid .. "/root/"))
        if oci.run("ls -A /proc/" .. pid .. "/root/etc/") == "" then empty = empty + 1 end
      end
      assert.is_true(empty > 0, "no forwarder with an empty root among: " .. pids)
      -- and neither outlives the sandbox: the port closes with it
      srv:terminate(id)
      assert.same({}, process.wait_gone(pids))
      assert.is_nil(socket.connect("127.0.0.1", port))
    end)
  end)

  -- what an allow list lets through is network_spec's: it sends packets only in a lab of its own
  describe("an egress allow list", function()
    it("refuses rules that are none of a hostname, wildcard, address or range", function()
      for _, bad in ipairs { "http://x.com", "a b", "10.0.0.0/33", "*.", "-x.com", "" } do
        local b = require("cjson").encode { image = "host", egress = { allowed_destinations = { bad } } }
        local r = srv:request("POST", "/v1/sandbox/run", b)
        assert.equal(400, r.status, bad)
        assert.matches("allowed_destinations", r.body, 1, true)
      end
    end)
  end)

  describe("its limits", function()
    -- "Responsive" is what a user would notice: every request answered, none taking
    -- seconds. A ratio to an idle baseline failed on a busy 2-core CI machine, where
    -- a few milliseconds of scheduling noise is not a denial of service.
    local function responsive(what)
      local worst = 0
      for _ = 1, 20 do
        local t0 = socket.gettime()
        assert.equal(200, srv:get("/healthz").status)
        worst = math.max(worst, socket.gettime() - t0)
      end
      for _ = 1, 10 do
        local t0 = socket.gettime()
        assert.equal("hi\n", (exec(victim, "echo hi")))
        worst = math.max(worst, socket.gettime() - t0)
      end
      assert.truthy(worst < 1, ("%s: a request took %.3f s"):format(what, worst))
    end

    it("stops a fork bomb at its pids limit, and the server and other sandboxes stay responsive", function()
      local bomb = srv:run { image = "host" }
      srv:wait(bomb, "running")
      exec(bomb, "(i=0; while [ $i -lt 5000 ]; do sleep 60 & i=$((i+1)); done) >/dev/null 2>&1 &")
      -- measured once the bomb is at its limit, however long a busy machine takes to get there
      local pids = srv:cgroup(bomb, "pids") .. "/pids.current"
      for _ = 1, 300 do
        if (tonumber(process.read_all(pids)) or 0) > 400 then break end
        process.sleep(0.05)
      end
      responsive("with the bomb at its limit")
      local n = tonumber(process.read_all(pids))
      assert.truthy(n and n > 400 and n <= 512, tostring(n))
      srv:terminate(bomb)
    end)

    it("cannot fill the host's disk through /tmp or its root: both end at --disk-max", function()
      local id = srv:run { image = "host" }
      srv:wait(id, "running")
      local du = "du -sk " .. sh(srv.state_dir) .. " | cut -f1"
      local before = tonumber(oci.run(du))
      for _, path in ipairs { "/tmp/fill", "/fill" } do
        local out, code = exec(id, "dd if=/dev/zero of=" .. path .. " bs=1M count=48 2>&1")
        assert.equal(1, code, out)
        assert.matches("No space left on device", out)
      end
      assert.is_true(tonumber(oci.run(du)) - before < 1024, "the state dir grew")
      assert.equal("hi\n", (exec(id, "rm /tmp/fill /fill && echo hi > /tmp/x && cat /tmp/x")))
      -- nothing of it stays behind on the host when the sandbox ends
      srv:terminate(id)
      assert.is_nil(io.open(srv.state_dir .. "/sandboxes/" .. id, "r"))
    end)

    it("cannot fill the host's disk through a volume: it ends at --volume-size, and what is deleted goes back", function()
      local fill = srv:request("POST", "/v1/volume", {}).json.id
      local id = srv:run { image = "host", volume_mounts = { ["/data"] = fill } }
      srv:wait(id, "running")
      local image = srv.state_dir .. "/volumes/" .. fill .. "/disk.img"
      local du = "du -sk " .. sh(srv.state_dir) .. " | cut -f1"
      local before = tonumber(oci.run(du))
      local out, code = exec(id, "dd if=/dev/zero of=/data/fill bs=1M count=48 2>&1")
      assert.equal(1, code, out)
      assert.matches("No space left on device", out)
      assert.is_true(tonumber(oci.run(du)) - before < 34 * 1024, "the state dir grew past the volume's size")
      -- the files API meets the same end
      local r = srv:request("PUT", "/v1/volume/" .. fill .. "/files/content?path=/more", string.rep("x", 4 << 20))
      assert.equal(507, r.status, r.body)
      assert.equal("hi\n", (exec(id, "rm /data/fill && echo hi > /data/x && cat /data/x")))
      -- the deleted blocks are holes in the image again (discard), within the journal's commit
      local used
      for _ = 1, 100 do
        used = tonumber(oci.run("du -k " .. sh(image) .. " | cut -f1"))
        if used < 8 * 1024 then break end
        process.sleep(0.1)
      end
      assert.is_true(used < 8 * 1024, used .. " KiB of the image still used")
      -- and the host's mount table never held the volume, nor can the sandbox find an image
      assert.is_nil(process.read_all("/proc/self/mountinfo"):find(srv.state_dir, 1, true))
      assert.equal("", (exec(id, "find / -path /proc -prune -o -name disk.img -print 2>/dev/null")))
      srv:terminate(id)
    end)

    it("kills what allocates past the memory limit, says so, and the server lives on", function()
      local id = srv:run { image = "host", volume_mounts = { ["/tools"] = tools },
                       command = { "sh", "-c", "cp /tools/attack /tmp/a && chmod 755 /tmp/a && exec /tmp/a alloc " .. MEM_MB * 4 } }
      local st
      for _ = 1, 500 do
        st = srv:get("/v1/sandbox/" .. id).json
        if st.phase == "failed" or st.phase == "succeeded" then break end
        process.sleep(0.02)
      end
      assert.equal("failed", st.phase)
      local logs = srv:get("/v1/sandbox/" .. id .. "/logs").body
      assert.matches("ran out of memory", logs, 1, true)
      responsive("after the kill")
    end)
  end)

  describe("its end", function()
    it("exec joins the same confinement: namespaces, cgroup, uid, capabilities, seccomp", function()
      exec(attacker, "sleep 31 >/dev/null 2>&1 &")
      local init, sleeper
      for _ = 1, 100 do -- the background sleep may take a moment to exec
        local procs = process.read_all(srv:cgroup(attacker, "pids") .. "/cgroup.procs")
        for pid in procs:gmatch("%d+") do
          local cmd = process.read_all("/proc/" .. pid .. "/cmdline") or ""
          if cmd:find("^porter%-sandbox%-init") then init = pid end
          if cmd:find("^sleep%z31") then sleeper = pid end
        end
        if sleeper then break end
        process.sleep(0.01)
      end
      assert.truthy(init, "pid 1 is in the sandbox's cgroup")
      assert.truthy(sleeper, "the exec's process is in the sandbox's cgroup")
      for _, ns in ipairs { "user", "mnt", "pid", "net", "ipc", "uts", "cgroup" } do
        assert.equal(oci.run("readlink /proc/" .. init .. "/ns/" .. ns), oci.run("readlink /proc/" .. sleeper .. "/ns/" .. ns), ns)
      end
      local st = process.read_all("/proc/" .. sleeper .. "/status")
      assert.matches("Uid:%s+" .. host_base(attacker) .. "%s", st)
      assert.matches("CapEff:%s+00000000a80425fb", st)
      assert.matches("Seccomp:%s+2", st)
      assert.matches("NoNewPrivs:%s+1", st)
    end)

    it("an exec inherits no descriptor of ours: no control socket, no other sandbox's pipes", function()
      -- looked at in a process at rest (the shell itself holds pipe ends and saved descriptors of
      -- its own for a moment while it runs a pipeline or a redirection)
      assert.equal("0\n1\n2\n", (exec(attacker, "sleep 2 & ls /proc/$!/fd; kill $!")))
    end)

    it("finds no socket of the server's anywhere in its root", function()
      assert.equal("", (exec(attacker, "find / -path /proc -prune -o -type s -print 2>/dev/null")))
    end)

    it("cannot inspect its pid 1 (the launcher's environment, its executable on the host)", function()
      local out = exec(attacker, "cat /proc/1/environ >/dev/null 2>&1 && echo ENV; readlink /proc/1/exe && echo EXE; " ..
                                 "cat /proc/1/maps >/dev/null 2>&1 && echo MAPS; echo done")
      assert.equal("done\n", out)
    end)

    it("leaves nothing behind when terminated", function()
      local id = srv:run { image = "host", command = { "sh", "-c", "sleep 1001 & (setsid sleep 1002 &) ; sleep 1003" } }
      srv:wait(id, "running")
      exec(id, "nohup sleep 1004 >/dev/null 2>&1 & setsid sleep 1005 >/dev/null 2>&1 &")
      local procs = srv:cgroup(id, "pids") .. "/cgroup.procs"
      assert.truthy(io.open(procs, "r"), "a live sandbox has its cgroup")
      assert.equal(204, srv:terminate(id).status)
      assert.equal("0\n", oci.run("ps -eo args | grep -c '^sleep 100[1-5]' || true"))
      assert.is_nil(io.open(procs, "r"))
      assert.is_nil(io.open(srv.state_dir .. "/sandboxes/" .. id, "r"))
    end)

    it("dies with a server that is killed, and lets go of its volumes", function()
      local other = helpers.sandboxd()
      local v = other:request("POST", "/v1/volume", {}).json.id
      local image = other.state_dir .. "/volumes/" .. v .. "/disk.img"
      local r = other:request("POST", "/v1/sandbox/run", { image = "host", volume_mounts = { ["/data"] = v },
                                        command = { "sh", "-c", "echo kept > /data/f; sleep 1006 & sleep 1007" } })
      local id = r.json.id
      -- this sandbox's own processes (its cgroup's), as far as both sleeps: a busy machine
      -- takes its time getting there
      local procs = other:cgroup(id, "pids") .. "/cgroup.procs"
      local sleeps
      for _ = 1, 500 do
        sleeps = {}
        for pid in (process.read_all(procs) or ""):gmatch("%d+") do
          if (process.read_all("/proc/" .. pid .. "/cmdline") or ""):match("^sleep%z100[67]%z$") then sleeps[#sleeps + 1] = pid end
        end
        if #sleeps == 2 then break end
        process.sleep(0.02)
      end
      assert.equal("running", other:get("/v1/sandbox/" .. id).json.phase)
      assert.equal(2, #sleeps)
      assert.matches("^/dev/loop", oci.run("losetup -j " .. sh(image)))
      local dead = {}
      for _, c in ipairs { "pids", "memory", "cpu" } do dead[#dead + 1] = other:cgroup_dir(c) end
      os.execute("kill -9 " .. other.proc.pid)
      assert.same({}, process.wait_gone(table.concat(sleeps, " ")))
      -- its mount namespace went with it, and the loop device with the mount
      local held
      for _ = 1, 50 do
        held = oci.run("losetup -j " .. sh(image))
        if held == "" then break end
        process.sleep(0.1)
      end
      assert.equal("", held)
      -- the dead server's cgroups are left (the kernel never removes one) until the next server
      -- on the machine starts, whatever its state dir: an empty memory cgroup still holds kernel memory
      assert.truthy(io.open(dead[1] .. "/" .. id .. "/cgroup.procs", "r"), "the killed server's cgroups outlive it")
      -- beside it, one of a server whose pid now names another process (this spec's), and one of
      -- a server in another pid namespace, where its pid means something else
      local top = dead[1]:match("^(.*)/[^/]+$")
      local ns = tonumber(oci.run("stat -L -c %i /proc/self/ns/pid"):match("%d+"))
      local reused = ("%s/srv-%d-%d-1"):format(top, ns, tonumber(oci.run("echo $PPID"):match("%d+")))
      local foreign = ("%s/srv-%d-%d-1"):format(top, ns + 1, other.proc.pid)
      oci.run("mkdir " .. sh(reused) .. " " .. sh(foreign))
      finally(function() os.execute("rmdir " .. sh(foreign) .. " " .. sh(reused) .. " 2>/dev/null") end)
      local next_one = helpers.sandboxd()
      next_one:stop()
      for _, d in ipairs(dead) do assert.is_nil(io.open(d .. "/cgroup.procs", "r"), d) end
      assert.is_nil(io.open(reused .. "/cgroup.procs", "r"), reused)
      assert.truthy(io.open(foreign .. "/cgroup.procs", "r"), "another pid namespace's server's cgroups are its own")
      -- the volume's files are still there for the next server
      other:restart()
      assert.equal("kept\n", other:get("/v1/volume/" .. v .. "/files/content?path=/f").body)
      local mine = other:cgroup_dir("pids")
      other:stop()
      assert.is_nil(io.open(mine .. "/cgroup.procs", "r"), "a server that stops removes its cgroups")
    end)
  end)
end)
