-- porter-sandboxd at the wire level: isolation, confinement of volume paths, auth, bad
-- requests, restarts, process cleanup.
local helpers = require("spec.helpers")

describe("porter-sandboxd", function()
  local srv
  setup(function() srv = helpers.sandboxd() end)
  teardown(function() srv:stop() end)

  local function run(spec) return srv:run(spec) end
  local function exec(id, cmd) return srv:exec(id, cmd) end

  it("kills an exec whose client went away, with all it started (a timeout, ^C), and says so", function()
    local id = run { image = "host" }
    srv:wait(id, "running")
    -- a background child, a double fork into a session of its own, and the command itself
    local script = "sleep 3061 & (setsid sleep 3062 &); sleep 3060"
    local porter = require("porter_sandbox").Porter { base_url = srv.url, max_retries = 0 }
    local ok, err = pcall(function() return porter.sandboxes.get(id):exec({ "sh", "-c", script }, { timeout = 1 }) end)
    porter:close()
    assert.is_false(ok)
    assert.equal("SandboxTimeoutError", err.name)
    local left
    for _ = 1, 100 do
      left = exec(id, { "sh", "-c", "ps -eo args | grep '^sleep 306' || true" }).stdout
      if left == "" then break end
      helpers.process.sleep(0.05)
    end
    assert.equal("", left)
    local logs = srv:get("/v1/sandbox/" .. id .. "/logs").body
    assert.matches("the exec's client went away before it ended: killed, with what it started", logs, 1, true)
    -- an exec whose client stays gets its answer as ever, background children and all
    assert.equal("done\n", exec(id, { "sh", "-c", "sleep 1 & echo done" }).stdout)
  end)

  describe("isolation", function()
    local id
    setup(function()
      id = run { image = "host", name = "iso-box" }
      srv:wait(id, "running")
    end)

    it("gives the sandbox its own pid 1, hostname and /tmp", function()
      local r = exec(id, { "sh", "-c", "echo $$; hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; echo x > /tmp/mine; ls /tmp" })
      local lines = {}
      for l in r.stdout:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.equal("iso-box", lines[2])
      assert.matches("^porter%-sandbox%-init", lines[3])
      assert.is_nil(lines[3]:find(srv.state_dir, 1, true), "pid 1's command line shows no host path")
      assert.equal("mine", lines[4])
      assert.is_nil(io.open("/tmp/mine", "r"), "the sandbox's /tmp is not the host's")
    end)

    it("cannot write the host outside its mounts", function()
      local marker = helpers.process.tmpdir()
      local r = exec(id, { "sh", "-c", "touch " .. marker .. "/escaped; echo > /etc/porter-test; mount -o remount,rw / 2>&1; echo done" })
      assert.matches("done", r.stdout)
      assert.is_nil(io.open(marker .. "/escaped", "r"))
      assert.is_nil(io.open("/etc/porter-test", "r"))
      os.execute("rm -rf " .. marker)
    end)

    it("has no network when egress allows nothing", function()
      local r0 = srv:request("POST", "/v1/sandbox/run", '{"image":"host","egress":{"allowed_destinations":[]}}')
      assert.equal(202, r0.status, r0.body)
      local nid = r0.json.id
      srv:wait(nid, "running")
      local r = exec(nid, { "sh", "-c", "cat /proc/net/dev | wc -l" })
      assert.equal("3", r.stdout:match("%d+")) -- two header lines and lo only
      srv:terminate(nid)
    end)

    it("leaves no process behind when terminated", function()
      local tid = run { image = "host", command = { "sh", "-c", "sleep 1000 & sleep 1001" } }
      srv:wait(tid, "running")
      exec(tid, { "sh", "-c", "sleep 1002 &" })
      local r = srv:terminate(tid)
      assert.equal(204, r.status)
      assert.equal("terminated", srv:get("/v1/sandbox/" .. tid).json.phase)
      helpers.process.sleep(0.2)
      local ps = io.popen("env -u LD_PRELOAD ps -eo args | grep -c '^sleep 100[012]'"):read("l")
      assert.equal("0", ps)
    end)
  end)

  describe("volume files", function()
    local vid, data
    setup(function()
      vid = srv:request("POST", "/v1/volume", {}).json.id
      data = srv:path(srv.state_dir .. "/volumes/" .. vid .. "/data")
    end)

    it("names are unique among live volumes and free again after deletion", function()
      local create = function() return srv:request("POST", "/v1/volume", { name = "reuse" }) end
      local first = create()
      assert.equal(201, first.status)
      assert.equal("reuse", first.json.name)
      assert.same({}, first.json.attached_to)
      assert.equal(409, create().status)
      assert.equal(204, srv:request("DELETE", "/v1/volume/" .. first.json.id).status)
      local again = create()
      assert.equal(201, again.status)
      assert.are_not.equal(first.json.id, again.json.id)
      assert.equal(404, srv:get("/v1/volume/" .. first.json.id).status)
    end)

    it("refuse '..' and symlinks that leave the volume", function()
      os.execute(string.format("ln -s /etc %s/etc-link && ln -s /etc/hostname %s/host-file", data, data))
      local base = "/v1/volume/" .. vid
      assert.equal(400, srv:get(base .. "/files/content?path=/../../state.db").status)
      assert.equal(400, srv:get(base .. "/files/content?path=/etc-link/passwd").status)
      assert.equal(400, srv:get(base .. "/files/content?path=/host-file").status)
      assert.equal(400, srv:request("PUT", base .. "/files/content?path=/etc-link/evil", "x").status)
      assert.equal(400, srv:get(base .. "/files?path=/etc-link").status)
      assert.is_nil(io.open("/etc/evil", "r"))
    end)

    it("keep the old content when an upload is cut off", function()
      local base = "/v1/volume/" .. vid .. "/files/content?path=/keep.txt"
      assert.equal(204, srv:request("PUT", base, "old content").status)
      -- announce 1 MB, send a little, hang up
      local socket = require("socket")
      local host, port = srv.url:match("http://([%d%.]+):(%d+)")
      local c = assert(socket.connect(host, tonumber(port)))
      c:send("PUT /v1/volume/" .. vid .. "/files/content?path=/keep.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\npartial")
      c:close()
      helpers.process.sleep(0.2)
      assert.equal("old content", srv:get(base).body)
      local listing = srv:get("/v1/volume/" .. vid .. "/files").json
      for _, e in ipairs(listing.entries) do assert.is_nil(e.name:match("^%.porter%-upload")) end
    end)

    it("list breadth-first within a budget, marking what was not read", function()
      local base = "/v1/volume/" .. vid
      os.execute(string.format("mkdir -p %s/big && cd %s/big && seq 1 1200 | xargs touch", data, data))
      local listing = srv:get(base .. "/files").json
      local big
      for _, e in ipairs(listing.entries) do if e.name == "big" then big = e end end
      assert.is_true(big.truncated)
      assert.is_nil(big.entries)
      local direct = srv:get(base .. "/files?path=big").json
      assert.equal("/big", direct.path)
      assert.is_true(direct.truncated)
      assert.equal(1000, #direct.entries)
    end)

    it("refuse to move onto an existing file, and need the parent", function()
      local base = "/v1/volume/" .. vid
      srv:request("PUT", base .. "/files/content?path=/m/a", "a")
      srv:request("PUT", base .. "/files/content?path=/m/b", "b")
      assert.equal(409, srv:request("POST", base .. "/files/move", { from = "/m/a", to = "/m/b" }).status)
      assert.equal(404, srv:request("POST", base .. "/files/move", { from = "/m/a", to = "/nope/a" }).status)
      assert.equal(404, srv:request("POST", base .. "/files/move", { from = "/m/zz", to = "/m/c" }).status)
      assert.equal("a", srv:get(base .. "/files/content?path=/m/a").body)
    end)
  end)

  it("logs a line longer than 64 KiB in pieces of 64 KiB, whole and in order, among the lines around it", function()
    -- 200,000 bytes of one line (read in one go from the pipe), then a short one
    local id = srv:run { image = "host", command = { "sh", "-c", "echo before; head -c 200000 /dev/zero | tr '\\0' x; echo; echo after" } }
    srv:wait(id, "succeeded")
    local lines = {}
    for _, l in ipairs(srv:get("/v1/sandbox/" .. id .. "/logs").json.logs) do
      if l.exec_id == "" and l.level == "info" then lines[#lines + 1] = l.line end
    end
    local sizes = {}
    for i, l in ipairs(lines) do sizes[i] = #l end
    assert.same({ 6, 65536, 65536, 65536, 200000 - 3 * 65536, 5 }, sizes)
    assert.equal("before", lines[1])
    assert.equal(("x"):rep(200000), table.concat(lines, "", 2, 5))
    assert.equal("after", lines[6])
  end)

  it("watches its live sandboxes from one thread: 30 more sandboxes cost no thread each, and each one's output and end are still recorded", function()
    local function threads()
      local n = 0
      for l in io.lines("/proc/" .. srv.proc.pid .. "/status") do n = tonumber(l:match("^Threads:%s*(%d+)")) or n end
      return n
    end
    local before, live = threads(), srv:get("/readyz").json.active_sandboxes
    local ids = {}
    for i = 1, 30 do
      -- a line on each stream, then idle; every tenth one ends by itself, its last line without
      -- a newline (logged as it ends)
      local ends = i % 10 == 0 and "exit " .. (i // 10) or "exec sleep 1000"
      local nl = i % 10 == 0 and "" or "\\n"
      ids[i] = run { image = "host", command = { "sh", "-c", ("echo out-%d; printf 'err-%d%s' >&2; %s"):format(i, i, nl, ends) } }
    end
    for i, id in ipairs(ids) do srv:wait(id, i % 10 == 0 and "failed" or "running") end
    -- the threads that started them end once they run (waited for as a state: they may lag)
    local now = threads()
    for _ = 1, 250 do
      if now <= before + 4 then break end
      helpers.process.sleep(0.02)
      now = threads()
    end
    assert.is_true(now <= before + 4, ("%d threads with 30 sandboxes more, %d before"):format(now, before))
    for i, id in ipairs(ids) do
      local text
      for _ = 1, 100 do -- the output is logged as it comes: wait for it, not for a time
        text = srv:logs_text(id)
        if text:find("err-" .. i, 1, true) then break end
        helpers.process.sleep(0.02)
      end
      assert.matches("out%-" .. i .. "\n.*err%-" .. i .. "$", text)
      if i % 10 == 0 then assert.equal(i // 10, srv:get("/v1/sandbox/" .. id).json.exit_code) end
    end
    for i, id in ipairs(ids) do
      if i % 10 ~= 0 then assert.equal(204, srv:terminate(id).status) end
    end
    for i, id in ipairs(ids) do
      assert.equal(i % 10 == 0 and "failed" or "terminated", srv:get("/v1/sandbox/" .. id).json.phase)
    end
    -- none of the 30 is still counted live (one that ended before them may have left meanwhile:
    -- a sandbox reads ended a moment before it is retired)
    helpers.process.eventually(function()
      local n = srv:get("/readyz").json.active_sandboxes
      return n <= live, n
    end, "the live count back to " .. live)
  end)

  it("writes its times in RFC 3339 UTC with milliseconds, as the clock reads them", function()
    local before = tonumber(helpers.process.capture("date +%s%3N"):match("%d+"))
    local id = run { image = "host", command = { "true" } }
    srv:wait(id, "succeeded")
    local after = tonumber(helpers.process.capture("date +%s%3N"):match("%d+"))
    local st = srv:get("/v1/sandbox/" .. id).json
    local last = before
    for _, k in ipairs { "created_at", "started_at", "finished_at" } do
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", st[k], 1, false, k)
      -- GNU date reads it back: the same instant, between the two readings of the clock, in order
      local ms = tonumber(helpers.process.capture("date -u -d " .. st[k] .. " +%s%3N"):match("%d+"))
      assert.is_true(ms >= last and ms <= after, ("%s %s (%d) not within %d..%d"):format(k, st[k], ms, last, after))
      last = ms
    end
  end)

  it("answers logs since a time and the most recent N, oldest first", function()
    local id = run { image = "host" }
    srv:wait(id, "running")
    exec(id, { "echo", "first" })
    helpers.process.sleep(0.05)
    exec(id, { "sh", "-c", "echo second; echo third" })
    local all = srv:get("/v1/sandbox/" .. id .. "/logs").json.logs
    assert.same({ "first", "second", "third" }, { all[1].line, all[2].line, all[3].line })
    assert.equal(all[2].exec_id, all[3].exec_id)
    assert.are_not.equal(all[1].exec_id, all[2].exec_id)
    local since = srv:get("/v1/sandbox/" .. id .. "/logs?since=" .. all[2].timestamp).json.logs
    assert.same({ "second", "third" }, { since[1].line, since[2].line })
    assert.equal(2, #since)
    local last = srv:get("/v1/sandbox/" .. id .. "/logs?limit=2").json.logs
    assert.same({ "second", "third" }, { last[1].line, last[2].line })
    -- lines printed together are stored together: a limit may end inside what one burst printed
    exec(id, { "sh", "-c", "printf 'a\\n\\nb\\nc\\n'" })
    local tail = srv:get("/v1/sandbox/" .. id .. "/logs?limit=3").json.logs
    assert.same({ "", "b", "c" }, { tail[1].line, tail[2].line, tail[3].line })
    assert.equal(3, #tail)
    local one = srv:get("/v1/sandbox/" .. id .. "/logs?limit=1").json.logs
    assert.same({ "c" }, { one[1].line, one[2] })
    local many = srv:get("/v1/sandbox/" .. id .. "/logs?limit=1000").json.logs
    assert.same({ "first", "second", "third", "a", "", "b", "c" }, (function()
      local t = {}
      for i, l in ipairs(many) do t[i] = l.line end
      return t
    end)())
  end)

  it("answers bad requests with 4xx naming the problem, and keeps serving", function()
    local cases = {
      { "POST", "/v1/sandbox/run", "{not json", 400, "malformed JSON" },
      { "POST", "/v1/sandbox/run", "[1,2]", 400, "JSON object" },
      { "POST", "/v1/sandbox/run", '{"name":"x"}', 400, "'image' is required" },
      { "POST", "/v1/sandbox/run", '{"image":"i","env":{"A":1}}', 400, "'env.A' must be a string" },
      { "POST", "/v1/sandbox/run", '{"image":"i","bogus":1}', 400, "unknown field 'bogus'" },
      { "POST", "/v1/sandbox/run", '{"image":"i","name":"Bad_Name"}', 400, "DNS label" },
      { "POST", "/v1/sandbox/run", '{"image":"i","volume_mounts":{"/d":"vol_nope"}}', 400, "no such volume" },
      { "POST", "/v1/sandbox/run", '{"image":"i","env_groups":["nope"]}', 400, "no such environment group" },
      { "POST", "/v1/sandbox/run", string.rep(" ", 2 * 1024 * 1024), 413, "larger than" },
      { "GET", "/v1/sandbox?phase=bogus", nil, 400, "'phase'" },
      { "GET", "/v1/sandbox?start_time=yesterday", nil, 400, "RFC 3339" },
      { "GET", "/v1/sandbox/nope", nil, 404, "no sandbox" },
      { "POST", "/v1/sandbox/nope/exec", '{"command":[]}', 400, "'command' must be a non-empty array of strings (got 0 items)" },
      -- nested fields, checked by the same contract tables as the SDK's
      { "POST", "/v1/sandbox/run", '{"image":"i","networking":[{"port":80}]}', 400,
        "'networking[1].port' must be an integer from 1024 to 65535 (got 80)" },
      { "POST", "/v1/sandbox/run", '{"image":"i","networking":[{"port":8080},{"port":8081}]}', 400,
        "'networking' must be an array of at most one sandbox networking spec (got 2 items)" },
      { "POST", "/v1/sandbox/run", '{"image":"i","networking":[{"port":8080,"domains":[{"visibility":"open"}]}]}', 400,
        "'networking[1].domains[1].visibility' must be \"public\" or \"private\" (got 'open')" },
      { "POST", "/v1/sandbox/run", '{"image":"i","networking":[{"port":8080,"bogus":1}]}', 400,
        "unknown field 'bogus' in 'networking[1]'" },
      { "POST", "/v1/sandbox/run", '{"image":"i","egress":{}}', 400, "'egress.allowed_destinations' is required" },
      { "POST", "/v1/sandbox/run", '{"image":"i","ttl_seconds":0}', 400, "'ttl_seconds' must be an integer of at least 1 (got 0)" },
      { "POST", "/v1/volume", '{"name":"Bad_Name"}', 400, "'name' must be a DNS label" },
      { "POST", "/v1/volume", '{"name":5}', 400, "'name' must be a string" },
      { "GET", "/v1/nothing", nil, 404, "no such endpoint" },
      { "PATCH", "/v1/volume", nil, 405, "not allowed" },
    }
    for _, case in ipairs(cases) do
      local r = srv:request(case[1], case[2], case[3])
      assert.equal(case[4], r.status, case[2] .. " " .. tostring(r.body))
      assert.truthy(r.json and r.json.error and r.json.error:find(case[5], 1, true), case[2] .. ": " .. tostring(r.body))
    end
    assert.equal(200, srv:get("/healthz").status)
  end)

  it("pages lists 50 at a time, newest first, and counts without gaps", function()
    local ids = {}
    for i = 1, 55 do ids[i] = run { image = "host", command = { "true" }, tags = { batch = "pages" } } end
    local p1 = srv:get("/v1/sandbox?tag=batch%3Dpages").json
    assert.equal(50, #p1.sandboxes)
    assert.equal(ids[55], p1.sandboxes[1].id)
    assert.same({ current_page = 1, total_pages = 2, has_next_page = true }, p1.pagination)
    local p2 = srv:get("/v1/sandbox?tag=batch%3Dpages&page=2&include_filter_values=true").json
    assert.equal(5, #p2.sandboxes)
    assert.equal(ids[1], p2.sandboxes[5].id)
    assert.truthy(p2.filter_values.images)
    local counts = srv:get("/v1/sandbox/counts?image=host&tag=batch%3Dpages").json
    local total = 0
    for _, p in ipairs(counts.points) do total = total + p.count end
    assert.equal(55, total)
    assert.truthy(counts.granularity_ms > 0)
  end)

  it("keeps records, logs and volume files across a restart, and fails what was running", function()
    local id = run { image = "host", name = "survivor" }
    srv:wait(id, "running")
    exec(id, { "echo", "before restart" })
    local vid = srv:request("POST", "/v1/volume", { name = "kept" }).json.id
    srv:request("PUT", "/v1/volume/" .. vid .. "/files/content?path=/f", "kept")
    srv:restart()
    local st = srv:get("/v1/sandbox/" .. id).json
    assert.equal("failed", st.phase)
    local logs = srv:get("/v1/sandbox/" .. id .. "/logs").json.logs
    assert.equal("before restart", logs[1].line)
    assert.matches("stopped while this sandbox was live", logs[#logs].line)
    assert.equal("kept", srv:get("/v1/volume/" .. vid .. "/files/content?path=/f").body)
    assert.equal(409, srv:request("POST", "/v1/sandbox/run", { image = "i", name = "survivor" }).status)
  end)

  it("reads the logs of a store from before log blocks, a row a line", function()
    local id = run { image = "host" }
    srv:wait(id, "running")
    srv:terminate(id)
    srv:restart(function(state)
      local sql = "DROP TABLE log_blocks; CREATE TABLE logs (seq INTEGER PRIMARY KEY AUTOINCREMENT, sandbox_id TEXT NOT NULL, " ..
                  "ts_ms INTEGER NOT NULL, line TEXT NOT NULL, level TEXT NOT NULL, exec_id TEXT NOT NULL DEFAULT ''); " ..
                  "INSERT INTO logs(sandbox_id, ts_ms, line, level, exec_id) VALUES " ..
                  "('" .. id .. "', 1700000000000, 'old one', 'info', ''), ('" .. id .. "', 1700000000001, 'old two', 'error', 'ex_1');"
      assert(os.execute("sqlite3 " .. helpers.process.shquote(state .. "/state.db") .. " " .. helpers.process.shquote(sql)))
    end)
    local logs = srv:get("/v1/sandbox/" .. id .. "/logs").json.logs
    assert.same({ "old one", "info", "" }, { logs[1].line, logs[1].level, logs[1].exec_id })
    assert.same({ "old two", "error", "ex_1", "2023-11-14T22:13:20.001Z" }, { logs[2].line, logs[2].level, logs[2].exec_id, logs[2].timestamp })
    local last = srv:get("/v1/sandbox/" .. id .. "/logs?limit=1").json.logs
    assert.equal("old two", last[#last].line)
  end)
end)

describe("porter-sandboxd with an API key", function()
  it("refuses requests without it, but not health checks", function()
    local srv = helpers.sandboxd { api_key = "k1" }
    assert.equal(401, srv:get("/v1/volume").status)
    assert.equal(401, srv:request("GET", "/v1/volume", nil, { Authorization = "Bearer k2" }).status)
    assert.equal(200, srv:request("GET", "/v1/volume", nil, { Authorization = "Bearer k1" }).status)
    assert.equal(200, srv:get("/healthz").status)
    srv:stop()
  end)
end)

describe("porter-sandboxd options and spec fields", function()
  local srv, dir
  setup(function()
    dir = helpers.process.tmpdir()
    -- an image: a root filesystem of its own with a shell, sleep, their libraries and a marker
    local root = dir .. "/rootfs"
    os.execute(("mkdir -p %s/bin && cp /bin/dash %s/bin/sh && cp /usr/bin/sleep %s/bin/sleep && echo from-image > %s/marker")
      :format(root, root, root, root))
    for lib in io.popen("ldd /bin/dash /usr/bin/sleep | grep -o '/[^ ]*' | grep -v ':$' | sort -u"):lines() do
      os.execute(("mkdir -p %s$(dirname %s) && cp -L %s %s%s"):format(root, lib, lib, root, lib))
    end
    local f = io.open(dir .. "/group.env", "w")
    f:write("# a comment\nFROM_GROUP=yes\nA=group\n")
    f:close()
    srv = helpers.sandboxd { args = { "--image", "tiny=" .. root, "--env-group", "shared=" .. dir .. "/group.env" } }
  end)
  teardown(function()
    srv:stop()
    os.execute("rm -rf " .. helpers.process.shquote(dir))
  end)

  local function run(spec)
    local r = srv:request("POST", "/v1/sandbox/run", spec)
    assert.equal(202, r.status, r.body)
    return r.json.id
  end

  it("runs a registered image on its own root", function()
    local id = run { image = "tiny" }
    srv:wait(id, "running")
    local r = srv:request("POST", "/v1/sandbox/" .. id .. "/exec", { command = { "sh", "-c", "read x < /marker; echo $x; test -e /usr/bin/apt && echo host" } })
    assert.equal("from-image\n", r.json.stdout)
  end)

  it("injects env groups, explicit env winning", function()
    local id = run { image = "host", env_groups = { "shared" }, env = { A = "explicit" } }
    srv:wait(id, "running")
    local r = srv:request("POST", "/v1/sandbox/" .. id .. "/exec", { command = { "sh", "-c", "echo $FROM_GROUP $A" } })
    assert.equal("yes explicit\n", r.json.stdout)
  end)

  it("terminates a sandbox when its ttl elapses", function()
    local id = run { image = "host", ttl_seconds = 1 }
    srv:wait(id, "running")
    local phase
    for _ = 1, 100 do
      phase = srv:get("/v1/sandbox/" .. id).json.phase
      if phase ~= "running" then break end
      helpers.process.sleep(0.05)
    end
    assert.equal("terminated", phase)
  end)

  it("answers the host of an exposed port", function()
    local id = run { image = "host", networking = { { port = 8089 } } }
    assert.equal("127.0.0.1:8089", srv:get("/v1/sandbox/" .. id).json.host)
  end)

  it("refuses a state dir another live server holds, leaving that server's sandboxes alone", function()
    local id = run { image = "host" }
    srv:wait(id, "running")
    local second = helpers.process.spawn { helpers.build .. "/porter-sandboxd", "--listen", "127.0.0.1:0", "--state-dir", srv.state_dir }
    for _ = 1, 100 do
      if not helpers.process.alive(second) then break end
      helpers.process.sleep(0.02)
    end
    local err = helpers.process.read_all(second.stderr)
    helpers.process.stop(second)
    assert.matches("is in use by another porter-sandboxd (pid " .. srv.proc.pid .. ")", err, 1, true)
    assert.equal("running", srv:get("/v1/sandbox/" .. id).json.phase)
  end)

  -- a server that must refuse to start: its stderr
  local function refused(args)
    local argv = { helpers.build .. "/porter-sandboxd", "--listen", "127.0.0.1:0", "--state-dir", dir .. "/refused" }
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    local p = helpers.process.spawn(argv)
    for _ = 1, 250 do
      if not helpers.process.alive(p) then break end
      helpers.process.sleep(0.02)
    end
    local alive, err = helpers.process.alive(p), helpers.process.read_all(p.stderr)
    helpers.process.stop(p)
    assert.is_false(alive, "it started")
    return err
  end

  it("refuses sandbox ids that a subordinate range or an account holds", function()
    assert.matches("--sandbox-uids 100000: ids 100000..268600991 overlap /etc/login.defs's SUB_UID_MIN..SUB_UID_MAX",
      refused { "--sandbox-uids", "100000" }, 1, true)
    local user = ("porter-spec-%d"):format(math.random(10000, 99999))
    -- removed whatever happens below, before anything can fail
    finally(function() os.execute("env -u LD_PRELOAD userdel " .. user .. " 2>/dev/null") end)
    assert.is_true(os.execute("env -u LD_PRELOAD useradd --no-create-home --shell /usr/sbin/nologin --uid 3000000100 " .. user .. " >/dev/null 2>&1"))
    assert.matches("overlap the uid of account " .. user .. " (3000000100..3000000100)",
      refused { "--sandbox-uids", "3000000000" }, 1, true)
  end)

  it("answers an exec of a missing command with 127 and of a non-executable file with 126", function()
    local id = run { image = "host" }
    srv:wait(id, "running")
    local function exec(cmd)
      return srv:request("POST", "/v1/sandbox/" .. id .. "/exec", { command = cmd }).json
    end
    local missing = exec { "/no/such/command" }
    assert.equal(127, missing.exit_code)
    assert.matches("/no/such/command: No such file or directory", missing.stderr, 1, true)
    local denied = exec { "/etc/passwd" }
    assert.equal(126, denied.exit_code)
    assert.matches("Permission denied", denied.stderr, 1, true)
  end)
end)

describe("porter-sandboxd capacity (--max-sandboxes, --memory-commit)", function()
  local function phase(srv, id) return srv:get("/v1/sandbox/" .. id).json.phase end
  local function run(srv) return srv:run { image = "host", command = { "sleep", "300" } } end
  local function terminate(srv, id) assert.equal(204, srv:terminate(id).status) end
  -- the phases of ids, as one string ("running running queued ...")
  local function phases(srv, ids)
    local out = {}
    for i, id in ipairs(ids) do out[i] = phase(srv, id) end
    return table.concat(out, " ")
  end
  -- waits until the phases are want (and stay so for 0.3 s)
  local function settle(srv, ids, want)
    local got
    for _ = 1, 250 do
      got = phases(srv, ids)
      if got == want then
        helpers.process.sleep(0.3)
        got = phases(srv, ids)
        if got == want then return end
      end
      helpers.process.sleep(0.02)
    end
    assert.equal(want, got)
  end

  it("starts at most N at once; the rest wait in queued and start in order as room frees", function()
    local srv = helpers.sandboxd { args = { "--max-sandboxes", "3" } }
    local ids = {}
    for i = 1, 6 do ids[i] = run(srv) end
    settle(srv, ids, "running running running queued queued queued")
    terminate(srv, ids[1])
    settle(srv, ids, "terminated running running running queued queued")
    -- a queued sandbox terminated never starts, and takes no one's turn
    terminate(srv, ids[6])
    settle(srv, ids, "terminated running running running queued terminated")
    terminate(srv, ids[2])
    settle(srv, ids, "terminated terminated running running running terminated")
    srv:stop()
  end)

  it("gives a sandbox the open-file limit the server was started with, whatever it raised its own to", function()
    local ours = tonumber(helpers.process.capture("sh -c 'ulimit -Hn'"):match("%d+"))
    local srv = helpers.sandboxd { args = { "--max-sandboxes", "4000" } }
    local soft, hard = helpers.process.read_all("/proc/" .. srv.proc.pid .. "/limits"):match("Max open files%s+(%d+)%s+(%d+)")
    assert.equal(soft, hard)
    assert.is_true(tonumber(soft) >= ours)
    -- cold and pooled sandboxes alike
    for _, spec in ipairs { { image = "host", command = { "sleep", "300" } },
                            { image = "host", command = { "sleep", "300" }, egress = { allowed_destinations = { "198.51.100.1" } } } } do
      local id = srv:run(spec)
      srv:wait(id, "running")
      assert.equal(("%d %d\n"):format(ours, ours), srv:exec(id, { "sh", "-c", "echo $(ulimit -Sn) $(ulimit -Hn)" }).stdout)
    end
  end)

  it("runs no more sandboxes than its open files allow, and says so, where it may not raise the limit", function()
    -- a hard limit of 4096 and no CAP_SYS_RESOURCE to raise it: room for 1024 connections and
    -- 1024 sandboxes of two pipes each, not 8192 (which would fail to start for want of a pipe)
    local srv = helpers.sandboxd { args = { "--max-sandboxes", "8192", "--sandbox-uids", "2147483648" },
                                   wrap = function(argv)
                                     return { "sh", "-c", 'ulimit -n 4096 && exec setpriv --bounding-set -sys_resource "$@"', "sh",
                                              table.unpack(argv) }
                                   end }
    local err = helpers.process.read_all(srv.proc.stderr)
    assert.matches("4096 open files allowed (and no raising the hard limit here): at most 1024 sandboxes run at once, not 8192, " ..
                   "and 1024 connections", err, 1, true)
    assert.matches("Max open files%s+4096%s+4096", helpers.process.read_all("/proc/" .. srv.proc.pid .. "/limits"))
    local id = srv:run { image = "host", command = { "sleep", "300" } }
    srv:wait(id, "running")
    assert.equal("4096 4096\n", srv:exec(id, { "sh", "-c", "echo $(ulimit -Sn) $(ulimit -Hn)" }).stdout)
  end)

  it("keeps the running sandboxes' memory limits within --memory-commit", function()
    local srv = helpers.sandboxd { args = { "--memory-max", "64M", "--memory-commit", "128M" } }
    local ids = { run(srv), run(srv), run(srv) }
    settle(srv, ids, "running running queued")
    terminate(srv, ids[2])
    settle(srv, ids, "running terminated running")
    srv:stop()
  end)
end)

describe("porter-sandboxd's command line", function()
  local function start(args)
    local p = io.popen(helpers.build .. "/porter-sandboxd " .. args .. " 2>&1; echo rc=$?")
    local out = p:read("a")
    p:close()
    return out
  end

  it("names a bad option's value and shows what the option takes, before it starts anything", function()
    local out = start("--state-dir /nonexistent/never --max-ended 0")
    assert.matches("^porter%-sandboxd: %-%-max%-ended does not take '0':\n  %-%-max%-ended N ", out)
    assert.matches("the oldest go %(their names stay taken%)\nrc=2\n$", out)
    out = start("--state-dir /nonexistent/never --log-space")
    assert.matches("^porter%-sandboxd: %-%-log%-space wants a value:\n  %-%-log%-space SIZE ", out)
    assert.matches("^porter%-sandboxd: unknown option '%-%-frobnicate' %(see %-%-help%)\nrc=2\n$", start("--frobnicate 1"))
  end)
end)
