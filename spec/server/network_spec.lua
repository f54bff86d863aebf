-- The sandbox network for real: porter-sandboxd runs in a network namespace of the spec's,
-- linked to test hosts in another (spec/support/netlab.lua), and sandboxes send packets through
-- the default network, allow lists and exposed ports. Nothing routes off the machine: asserted
-- first. Every loop is bounded; every process started is stopped.
local cjson = require("cjson")
local netlab = require("spec.support.netlab")
local sandboxd = require("spec.support.sandboxd")
local process = require("spec.support.process")
local sh = process.shquote

describe("the sandbox network", function()
  local lab, srv

  -- the API from inside srv (the server listens on every address there, so that the host's
  -- own addresses are a way to it a sandbox must not find)
  local function api(method, path, body)
    local out = lab:sh("srv", ("curl -s -m 20 -X %s -w '\\n%%{http_code}' %s http://127.0.0.1:%d%s"):format(method,
      body and ("-H 'content-type: application/json' -d " .. sh(type(body) == "string" and body or cjson.encode(body))) or "",
      srv.port, path))
    local text, status = out:match("^(.*)\n(%d+)$")
    local ok, json = pcall(cjson.decode, text or "")
    return tonumber(status), ok and json or nil, text
  end

  -- spec: a table, or JSON text (for an empty array, which a Lua table cannot say)
  local function run(spec)
    if type(spec) == "table" then spec.image = spec.image or "host" end
    local status, json, text = api("POST", "/v1/sandbox/run", spec)
    assert.equal(202, status, text)
    for _ = 1, 500 do
      local _, st = api("GET", "/v1/sandbox/" .. json.id)
      if st.phase == "running" then return json.id, st end
      assert(st.phase == "queued" or st.phase == "creating", "sandbox is " .. tostring(st.phase))
      process.sleep(0.02)
    end
    error("never running")
  end

  local function exec(id, script)
    local status, r, text = api("POST", "/v1/sandbox/" .. id .. "/exec", { command = { "sh", "-c", script } })
    assert.equal(200, status, text)
    return r.stdout .. r.stderr
  end

  -- curl's verdict on a URL: the body, or "refused" (exit 7: no connection at once), or the
  -- exit code otherwise (28: it hung until the timeout)
  local function fetch(id, url, extra)
    local out = exec(id, ("curl -s -m 4 --noproxy '*' %s %s; echo \" rc=$?\""):format(extra or "", sh(url)))
    local body, rc = out:match("^(.-)%s*rc=(%d+)")
    if rc == "0" then return body end
    return rc == "7" and "refused" or "rc" .. rc
  end

  local function tcp_echo(id, host, port)
    return (exec(id, ("echo ping-%d | busybox nc -w 2 %s %d 2>&1; echo \" rc=$?\""):format(port, host, port)))
  end

  setup(function()
    lab = netlab.start()
    srv = sandboxd.start { listen = "0.0.0.0", wrap = function(argv) return lab:wrap(argv) end }
  end)
  teardown(function()
    if srv then srv:stop() end
    if lab then lab:stop() end
  end)

  it("is a lab with no way off the machine", function()
    for _, ns in ipairs { "srv", "hosts" } do
      local r = lab:routes(ns)
      assert.is_nil(r:find("default", 1, true), r)
      assert.is_nil(r:find(" via ", 1, true), r)
      for line in r:gmatch("[^\n]+") do
        -- every route is one of the link's own subnets; every interface lo or the link
        assert.truthy(line:match("^lo$") or line:match("^" .. lab.link .. "[ab]") or line:match("dev " .. lab.link .. "[ab]")
                      or line:match("dev lo"), line)
      end
    end
  end)

  describe("by default", function()
    local id
    setup(function() id = run {} end)

    it("reaches public hosts over HTTP, raw TCP and DNS", function()
      assert.equal("public-1", fetch(id, "http://198.51.100.1/"))
      assert.equal("public-2", fetch(id, "http://198.51.100.2/"))
      assert.matches("^ping%-7\n rc=0", tcp_echo(id, "198.51.100.1", 7))
      assert.equal("public-1", fetch(id, "http://public1.test/"))
      assert.equal("public-2", fetch(id, "http://public2.test/"))
    end)

    it("never reaches the metadata endpoint, the private network or the host, in any form", function()
      for _, url in ipairs {
        "http://169.254.169.254/", "http://meta.test/", "http://2852039166/", -- 169.254.169.254 as a number
        "http://10.1.0.5/", "http://private.test/", "http://0x0a010005/",
        "http://198.51.100.254:" .. srv.port .. "/healthz",                   -- the host's own address
        "http://169.254.0.1:" .. srv.port .. "/healthz", "http://10.0.2.2:" .. srv.port .. "/healthz",
        "http://0.0.0.0:" .. srv.port .. "/healthz",   "http://loop.test:" .. srv.port .. "/healthz",
        "http://[::ffff:198.51.100.254]:" .. srv.port .. "/healthz",
      } do
        local got = fetch(id, url)
        assert.truthy(got == "refused" or got == "rc1" or got == "rc6" or got == "rc7", url .. ": " .. got)
      end
      -- the sandbox's own loopback is its own: nothing of the server's listens there
      assert.equal("refused", fetch(id, "http://127.0.0.1:" .. srv.port .. "/healthz"))
    end)

    it("is carried by slirp4netns as nobody without capabilities, with few descriptors after 200 refused connects", function()
      exec(id, "i=0; while [ $i -lt 200 ]; do busybox nc -w 1 169.254.169.254 80 </dev/null 2>/dev/null; i=$((i+1)); done")
      local pids = {}
      for pid in (netlab.run("pgrep -x slirp4netns")):gmatch("%d+") do
        -- ours only: a child of one of our server's launchers
        local ppid = io.open("/proc/" .. pid .. "/stat"):read("a"):match("^%d+ %b() %a (%d+)")
        local gp = ppid and io.open("/proc/" .. ppid .. "/stat")
        gp = gp and gp:read("a"):match("^%d+ %b() %a (%d+)")
        if tonumber(gp) == srv.proc.pid then pids[#pids + 1] = pid end
      end
      assert.truthy(#pids > 0, "no slirp4netns of this server")
      -- a sandbox started cold (an allow list is never pooled) too: each in its sandbox's cgroups
      run { egress = { allowed_destinations = { "198.51.100.1" } } }
      for pid in (netlab.run("pgrep -x slirp4netns")):gmatch("%d+") do
        local ppid = io.open("/proc/" .. pid .. "/stat"):read("a"):match("^%d+ %b() %a (%d+)")
        local gp = ppid and io.open("/proc/" .. ppid .. "/stat")
        gp = gp and gp:read("a"):match("^%d+ %b() %a (%d+)")
        if tonumber(gp) == srv.proc.pid then
          local cg = io.open("/proc/" .. pid .. "/cgroup"):read("a")
          assert.matches("porter%-sandboxd/srv%-%d+%-" .. srv.proc.pid .. "%-%d+/[%w_-]+\n", cg)
          if not table.concat(pids, " "):find(pid, 1, true) then pids[#pids + 1] = pid end
        end
      end
      for _, pid in ipairs(pids) do
        local status = io.open("/proc/" .. pid .. "/status"):read("a")
        -- nobody, in a user namespace of its own (the one that owns the sandbox's network
        -- namespace), with CAP_NET_BIND_SERVICE at most there, in a root of its own
        assert.matches("Uid:%s+65534%s+65534%s+65534%s+65534", status)
        assert.matches("Gid:%s+65534%s+65534%s+65534%s+65534", status)
        assert.truthy(tonumber(status:match("CapEff:%s*(%x+)"), 16) & ~0x400 == 0, status)
        local userns = netlab.run("readlink /proc/" .. pid .. "/ns/user")
        assert.not_equal(netlab.run("readlink /proc/self/ns/user"), userns)
        local fds = 0
        for _ in netlab.run("ls /proc/" .. pid .. "/fd"):gmatch("[^\n]+") do fds = fds + 1 end
        assert.truthy(fds < 32, pid .. " holds " .. fds .. " descriptors")
        assert.is_nil((netlab.run("ls /proc/" .. pid .. "/root/")):find("home", 1, true))
      end
    end)
  end)

  describe("with an allow list", function()
    it("lets raw TCP reach an allowed address without a proxy, and refuses the rest at once", function()
      local id = run { egress = { allowed_destinations = { "198.51.100.1" } } }
      assert.matches("^ping%-7\n rc=0", tcp_echo(id, "198.51.100.1", 7))
      assert.equal("public-1", fetch(id, "http://198.51.100.1/"))
      assert.equal("refused", fetch(id, "http://198.51.100.2/"))
      assert.equal("refused", fetch(id, "http://169.254.169.254/"))
    end)
    it("lets a name rule through, and keeps names that resolve to denied ranges denied", function()
      local id = run { egress = { allowed_destinations = { "public2.test", "loop.test", "meta.test" } } }
      assert.equal("public-2", fetch(id, "http://public2.test/"))
      assert.equal("refused", fetch(id, "http://198.51.100.1/"))
      assert.equal("refused", fetch(id, "http://meta.test/"))
      assert.equal("refused", fetch(id, "http://loop.test:" .. srv.port .. "/healthz"))
      -- the proxy, for names, is bound by the same rules
      local viaproxy = exec(id, "curl -s -m 4 -x http://127.0.0.1:3128 -o /dev/null -w '%{http_code}' http://meta.test/")
      assert.is_nil(viaproxy:find("200", 1, true), viaproxy)
    end)
    it("serves names through the proxy (HTTP, CONNECT, SOCKS5), wildcards below their suffix only", function()
      local id = run { egress = { allowed_destinations = { "public1.test", "*.wild.test" } } }
      local function via(args)
        return (exec(id, "curl -s -m 4 -o /dev/null -w '%{http_code}' " .. args .. "; echo"))
      end
      assert.equal("public-1\n", exec(id, "curl -s -m 4 http://public1.test/"))  -- HTTP_PROXY is set
      assert.equal("public-1\n", exec(id, "curl -s -m 4 -p http://public1.test/"))
      assert.equal("public-1\n", exec(id, "curl -s -m 4 -x socks5h://127.0.0.1:3128 http://public1.test/"))
      assert.equal("public-2\n", exec(id, "curl -s -m 4 http://a.wild.test/"))
      assert.equal("403\n", via("http://wild.test/"))
      assert.equal("403\n", via("http://public2.test/"))
      assert.equal("403\n", via("http://198.51.100.2/"))
    end)
    it("resolves only the names it allows, and opens what they resolve to for any protocol", function()
      local id = run { egress = { allowed_destinations = { "*.wild.test" } } }
      assert.equal("nameserver 127.0.0.53\n", exec(id, "cat /etc/resolv.conf"))
      -- nothing named yet: the address is closed
      assert.equal("refused", fetch(id, "http://198.51.100.2/"))
      -- a name the list does not allow does not even resolve; slirp4netns's forwarder is closed
      assert.equal("rc6", fetch(id, "http://public1.test/"))
      assert.matches("can't find public1.test: REFUSED", exec(id, "busybox nslookup public1.test 2>&1"), 1, true)
      local direct = exec(id, "busybox nslookup -timeout=1 b.wild.test 10.0.2.3 2>&1")
      assert.is_nil(direct:find("198.51.100.2", 1, true), direct)
      assert.matches("no servers could be reached", direct, 1, true)
      -- an allowed name resolves, and its address opens, by name or not, without the proxy
      assert.equal("public-2", fetch(id, "http://b.wild.test/"))
      assert.equal("public-2", fetch(id, "http://198.51.100.2/"))
      assert.equal("refused", fetch(id, "http://198.51.100.1/"))
    end)
    it("is served by a proxy that sees none of the host's files, only what resolving needs", function()
      local id = run { egress = { allowed_destinations = { "public1.test" } } }
      local found, pids = 0, ""
      for _ = 1, 100 do -- each is nobody once it has its socket and root
        pids = (netlab.run("pgrep -u nobody -f -- '[-]-egress-proxy.*[-]-hostname " .. id .. "'"))
        if select(2, pids:gsub("%d+", "")) >= 2 then break end
        process.sleep(0.02)
      end
      for pid in pids:gmatch("%d+") do
        local ppid = io.open("/proc/" .. pid .. "/stat"):read("a"):match("^%d+ %b() %a (%d+)")
        local gp = io.open("/proc/" .. ppid .. "/stat")
        if gp and tonumber(gp:read("a"):match("^%d+ %b() %a (%d+)")) == srv.proc.pid then
          found = found + 1
          -- the proxy and the resolver (both forks of the launcher, alike in ps)
          assert.equal("etc\n", (netlab.run("ls -A /proc/" .. pid .. "/root/")))
          local etc = (netlab.run("ls -A /proc/" .. pid .. "/root/etc/"))
          assert.is_nil(etc:find("passwd", 1, true))
          if etc:find("resolv.conf", 1, true) then
            assert.equal("nameserver 10.0.2.3\n", io.open("/proc/" .. pid .. "/root/etc/resolv.conf"):read("a"))
          else
            -- the resolver: nobody with CAP_NET_ADMIN (its sets) and nothing else
            assert.equal("", etc)
            local status = io.open("/proc/" .. pid .. "/status"):read("a")
            assert.equal(0x1000, tonumber(status:match("CapEff:%s*(%x+)"), 16))
            assert.matches("Uid:%s+65534%s+65534%s+65534%s+65534", status)
          end
        end
      end
      assert.equal(2, found, "the proxy and the resolver of this sandbox, among:\n"
        .. (netlab.run("ps -eo pid,ppid,user,stat,comm,args | grep -- " .. id)))
    end)
    it("cannot read or change its rules from inside, even as its root", function()
      local id = run { egress = { allowed_destinations = { "198.51.100.1" } } }
      local out = exec(id, "nft flush ruleset 2>&1; nft list ruleset 2>&1; echo rc=$?")
      assert.is_nil(out:find("table inet porter", 1, true), out)
      assert.matches("rc=[1-9]", out)
      assert.equal("refused", fetch(id, "http://198.51.100.2/"))
      assert.equal("public-1", fetch(id, "http://198.51.100.1/"))
      -- the helpers' exemption is theirs alone: not the sandbox's nobody, which is a uid of its own
      for _, uid in ipairs { 65534, 1000 } do
        local got = exec(id, ("setpriv --reuid %d --regid %d --clear-groups curl -s -m 4 --noproxy '*' http://198.51.100.2/; echo rc=$?"):format(uid, uid))
        assert.equal("rc=7\n", got)
      end
    end)
    it("opens a private range only when a CIDR names it", function()
      local id = run { egress = { allowed_destinations = { "10.1.0.0/24" } } }
      assert.equal("private-SECRET", fetch(id, "http://10.1.0.5/"))
      assert.equal("refused", fetch(id, "http://198.51.100.1/"))
    end)
    it("means loopback only when empty", function()
      local id = run '{"image":"host","egress":{"allowed_destinations":[]}}'
      assert.equal("lo\n", exec(id, "awk -F: 'NR>2 {gsub(/ /,\"\",$1); print $1}' /proc/net/dev"))
    end)
  end)

  describe("from a server with --allow-private-egress", function()
    local main
    setup(function()
      main = srv
      srv = sandboxd.start { listen = "0.0.0.0", args = { "--allow-private-egress" },
                             wrap = function(argv) return lab:wrap(argv) end }
    end)
    teardown(function()
      srv:stop()
      srv = main
    end)
    it("reaches the private network, and still never the metadata endpoint or the host", function()
      local id = run {}
      assert.equal("private-SECRET", fetch(id, "http://10.1.0.5/"))
      assert.equal("refused", fetch(id, "http://169.254.169.254/"))
      assert.equal("refused", fetch(id, "http://198.51.100.254:" .. srv.port .. "/healthz"))
      assert.equal("refused", fetch(id, "http://10.1.0.254:" .. srv.port .. "/healthz"))
    end)
  end)

  describe("an exposed port", function()
    it("answers on the host's loopback with each egress setting, each sandbox at a host of its own", function()
      local hosts = {}
      for i, egress in ipairs { "", ',"egress":{"allowed_destinations":[]}', ',"egress":{"allowed_destinations":["198.51.100.1"]}' } do
        local id, st = run(('{"image":"host","networking":[{"port":8080}],"command":%s%s}'):format(
          cjson.encode { "sh", "-c", "while :; do echo served-" .. i .. " | busybox nc -l -p 8080; done" }, egress))
        assert.matches("^127%.0%.0%.1:%d+$", st.host)
        hosts[#hosts + 1] = st.host
        local got
        for _ = 1, 100 do
          got = lab:sh("srv", "socat -u -T 2 TCP:" .. st.host .. " -")
          if got:find("served-" .. i, 1, true) then break end
          process.sleep(0.05)
        end
        assert.equal("served-" .. i .. "\n", got)
        assert.truthy(id)
      end
      assert.equal(3, #hosts)
      assert.are_not.equal(hosts[1], hosts[2])
      assert.are_not.equal(hosts[2], hosts[3])
      assert.are_not.equal(hosts[1], hosts[3])
    end)
  end)

  it("keeps nobody, the helpers' uid, out of the sandboxes' ids", function()
    local p = process.spawn { (os.getenv("PORTER_BUILD") or "build") .. "/porter-sandboxd", "--listen", "127.0.0.1:0",
                              "--state-dir", lab.dir .. "/uidstate", "--uid-base", "60000" }
    for _ = 1, 250 do
      if not process.alive(p) then break end
      process.sleep(0.02)
    end
    local alive, err = process.alive(p), process.read_all(p.stderr)
    process.stop(p)
    assert.is_false(alive)
    assert.matches("--uid-base 60000: the sandboxes' 65536 ids may not include 65534", err, 1, true)
  end)

  it("leaves nothing of a sandbox's network once it is terminated", function()
    local id = run { networking = { { port = 8090 } } }
    local _, st = api("GET", "/v1/sandbox/" .. id)
    local launcher = (netlab.run("pgrep -f -- '[-]-launch.*[-]-forward 8090'")):match("%d+")
    assert.truthy(launcher)
    local kids = (netlab.run("pgrep -P " .. launcher))
    assert.equal(204, (api("DELETE", "/v1/sandbox/" .. id)))
    assert.same({}, process.wait_gone(kids))
    assert.equal("", (lab:sh("srv", "socat -u -T 1 TCP:" .. st.host .. " - 2>/dev/null")))
  end)
end)
