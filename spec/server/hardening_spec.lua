-- Inputs that once crashed, hung or fooled porter-sandboxd, each replayed: the server answers
-- with a clear 4xx (or does the right thing) and lives on.
local helpers = require("spec.helpers")
local oci = require("spec.support.oci")
local process = helpers.process
local cjson = require("cjson")

describe("porter-sandboxd hardening", function()
  local srv, vol, base
  setup(function()
    srv = helpers.sandboxd { args = { "--max-log-lines", "1000", "--max-log-bytes", "1M" } }
    vol = srv:request("POST", "/v1/volume", {}).json.id
    base = "/v1/volume/" .. vol -- its paths
  end)
  teardown(function() srv:stop() end)

  local function alive()
    assert.equal(200, srv:get("/healthz").status)
  end

  -- a host-image sandbox, once it runs
  local function running_host()
    local id = srv:run { image = "host" }
    srv:wait(id, "running")
    return id
  end

  local function run_raw(body)
    return srv:request("POST", "/v1/sandbox/run", body)
  end

  it("serves a FIFO a sandbox left in a volume as a 400, without blocking a thread", function()
    os.execute("mkfifo " .. process.shquote(srv:path(srv.state_dir .. "/volumes/" .. vol .. "/data/pipe")))
    for _ = 1, 20 do
      local r = srv:get(base .. "/files/content?path=/pipe")
      assert.equal(400, r.status)
      assert.matches("not a regular file", r.body, 1, true)
    end
    alive()
  end)

  it("refuses NUL and control characters in query arguments", function()
    assert.equal(204, srv:request("PUT", base .. "/files/content?path=/a.txt", "original").status)
    local r = srv:request("PUT", base .. "/files/content?path=/a.txt%00x", "overwritten")
    assert.equal(400, r.status)
    assert.matches("NUL or control character", r.body, 1, true)
    assert.equal(400, srv:get(base .. "/files?path=%0a").status)
    assert.equal("original", srv:get(base .. "/files/content?path=/a.txt").body)
  end)

  it("names the directory it will not move into itself (no freed memory in the message)", function()
    srv:request("PUT", base .. "/files/content?path=/dir/f", "x")
    for _ = 1, 20 do
      local r = srv:request("POST", base .. "/files/move", { from = "/dir", to = "/dir/sub" })
      assert.equal(400, r.status)
      assert.equal("cannot move '/dir' into itself", r.json.error)
    end
  end)

  it("writes times before 1970 and of year 0 as RFC 3339, milliseconds 0-999", function()
    -- a count's buckets start where the client says: half a second before 1970, it once read
    -- "1970-01-01T00:00:00.-500Z"
    local pts = srv:get("/v1/sandbox/counts?start_time=1969-12-31T23:59:58.500Z&end_time=1970-01-01T00:00:30Z").json.points
    assert.same({ "1969-12-31T23:59:58.500Z", "1969-12-31T23:59:59.500Z", "1970-01-01T00:00:00.500Z" },
      { pts[1].timestamp, pts[2].timestamp, pts[3].timestamp })
    pts = srv:get("/v1/sandbox/counts?start_time=0000-02-28T23:59:00Z&end_time=0000-02-29T00:59:00Z").json.points
    assert.same({ "0000-02-28T23:59:00.000Z", "0000-02-29T00:00:00.000Z" }, { pts[1].timestamp, pts[2].timestamp }) -- a leap year
    alive()
  end)

  it("lists a file a workload dated before 1970 or in 2400 at that time, exactly", function()
    local id = srv:run { image = "host", volume_mounts = { ["/data"] = vol }, command = { "sleep", "300" } }
    srv:wait(id, "running")
    srv:exec(id, { "sh", "-c", "mkdir -p /data/dated && touch -d '1969-12-31 23:59:59.5 UTC' /data/dated/old && " ..
                               "touch -d '2400-02-29 12:00:00 UTC' /data/dated/late" })
    local got = {}
    for _, e in ipairs(srv:get(base .. "/files?path=/dated").json.entries) do got[e.name] = e.modified_at end
    assert.same({ old = "1969-12-31T23:59:59.500Z", late = "2400-02-29T12:00:00.000Z" }, got)
    srv:terminate(id)
  end)

  it("bounds ttl_seconds", function()
    local r = run_raw('{"image":"host","ttl_seconds":9223372036854775807}')
    assert.equal(400, r.status)
    assert.matches("ttl_seconds", r.body, 1, true)
    alive()
  end)

  it("filters by many tags without a fixed buffer, and bounds how many", function()
    local tags = {}
    for i = 1, 90 do tags["k" .. i] = "v" .. i end
    local id = srv:run({ image = "host", tags = tags })
    local q = {}
    for i = 1, 90 do q[#q + 1] = "tag=k" .. i .. "%3Dv" .. i end
    local r = srv:get("/v1/sandbox?" .. table.concat(q, "&"))
    assert.equal(200, r.status)
    assert.equal(1, #r.json.sandboxes)
    assert.equal(id, r.json.sandboxes[1].id)
    for i = 91, 500 do q[#q + 1] = "tag=k" .. i .. "%3Dv" end
    r = srv:get("/v1/sandbox?" .. table.concat(q, "&"))
    assert.equal(400, r.status)
    assert.matches("at most 100", r.body, 1, true)
    -- a key with quotes in it is a key like any other
    local qid = srv:run({ image = "host", tags = { ['a"b'] = "1" } })
    r = srv:get("/v1/sandbox?tag=a%22b%3D1")
    assert.equal(qid, r.json.sandboxes[1].id)
  end)

  it("answers 400 naming the field for questionable specs", function()
    local cases = {
      { '{"image":""}', "'image'" },
      { '{"image":"host","command":[]}', "'command'" },
      { '{"image":"host","command":[""]}', "'command[1]'" },
      { '{"image":"host","args":[]}', "'args'" },
      { '{"image":"host","env":{"":"x"}}', "'env'" },
      { '{"image":"host","env":{"A=B":"x"}}', "'env'" },
      { cjson.encode { image = string.rep("a", 900 * 1024) }, "" }, -- over the body limit or the name limit
    }
    for _, c in ipairs(cases) do
      local r = run_raw(c[1])
      assert.truthy(r.status == 400 or r.status == 413, c[1]:sub(1, 60) .. " -> " .. r.status)
      assert.matches(c[2], r.body, 1, true)
    end
    alive()
  end)

  it("refuses mount paths with '.' or '..' components, without showing host paths", function()
    for _, p in ipairs { "/a/..", "/a/../b", "/./a", "/a/.", "//a", "/a/" } do
      local r = srv:request("POST", "/v1/sandbox/run", { image = "host", volume_mounts = { [p] = vol } })
      assert.equal(400, r.status, p)
      assert.is_nil(r.body:find(srv.state_dir, 1, true))
    end
  end)

  it("cleans up after a sandbox that left a directory 1,500 levels deep (the old cleanup recursed on a small stack)", function()
    local id = running_host()
    local r = srv:request("POST", "/v1/sandbox/" .. id .. "/exec", { command = { "sh", "-c", "cd /tmp && i=0; while [ $i -lt 1500 ]; do mkdir d && cd d || exit 1; i=$((i+1)); done; echo ok" } })
    assert.equal("ok\n", r.json.stdout)
    assert.equal(204, srv:terminate(id).status)
    assert.is_nil(io.open(srv.state_dir .. "/sandboxes/" .. id, "r"))
    alive()
    -- and a volume as deep
    local v = srv:request("POST", "/v1/volume", {}).json.id
    oci.run("cd " .. process.shquote(srv:path(srv.state_dir .. "/volumes/" .. v .. "/data")) .. " && i=0; while [ $i -lt 1500 ]; do mkdir d && cd d; i=$((i+1)); done")
    assert.equal(204, srv:request("DELETE", "/v1/volume/" .. v).status)
    assert.is_nil(io.open(srv:path(srv.state_dir .. "/volumes/" .. v .. "/data"), "r"))
    assert.is_nil(io.open(srv.state_dir .. "/volumes/" .. v, "r"))
  end)

  it("bounds what an exec returns, marks the cut, and keeps the server's memory flat", function()
    local id = running_host()
    local status = "/proc/" .. srv.proc.pid .. "/status"
    local function kb(field) return tonumber(process.read_all(status):match(field .. ":%s+(%d+)")) end
    local r = srv:request("POST", "/v1/sandbox/" .. id .. "/exec", { command = { "sh", "-c", "head -c 64M /dev/zero | tr '\\0' x; echo done >&2" } })
    assert.equal(200, r.status)
    assert.equal(8 * 1024 * 1024, #r.json.stdout)
    assert.is_true(r.json.truncated)
    assert.equal("done\n", r.json.stderr)
    -- four at once, each printing 64 MiB of NUL bytes on both streams: each answer is 48 MiB
    -- of JSON (NUL becomes U+FFFD), and the server's peak memory must not see it
    local before = kb("VmRSS")
    local f = io.open("/proc/" .. srv.proc.pid .. "/clear_refs", "w")
    f:write("5") -- resets VmHWM, the peak
    f:close()
    local dir = process.tmpdir()
    local body = '{"command":["sh","-c","head -c 64M /dev/zero; head -c 64M /dev/zero >&2"]}'
    oci.run("cd " .. process.shquote(dir) .. " && for i in 1 2 3 4; do curl -s -m 60 -o out$i -H 'Content-Type: application/json' " ..
            "-d '" .. body .. "' " .. srv.url .. "/v1/sandbox/" .. id .. "/exec & done; wait")
    local peak = kb("VmHWM")
    local out = process.read_all(dir .. "/out4")
    os.execute("rm -rf " .. process.shquote(dir))
    assert.equal(2 * 3 * 8 * 1024 * 1024 + #'{"exit_code":0,"stdout":"","stderr":"","truncated":true}', #out)
    assert.matches('"truncated":true}$', out)
    -- under the sanitizers, room for their own bookkeeping (run-specs.sh keeps ASan's quarantine at 8 MB)
    local room = os.getenv("SAN") == "1" and 32 or 16
    assert.truthy(peak - before < room * 1024, "peak RSS grew by " .. (peak - before) .. " kB")
    srv:terminate(id)
  end)

  it("keeps at most --max-log-lines of a workload that prints without end", function()
    local id = srv:run({ image = "host", command = { "sh", "-c", "yes | head -n 50000; sleep 1000" } })
    process.eventually(function()
      local n = #srv:get("/v1/sandbox/" .. id .. "/logs").json.logs
      return n >= 1000, n
    end, "1000 lines logged")
    -- and no more come, however long it prints on
    process.sleep(0.3)
    local logs = srv:get("/v1/sandbox/" .. id .. "/logs").json.logs
    assert.equal(1000, #logs)
    assert.matches("log limit is reached", logs[#logs].line, 1, true)
    assert.equal("warning", logs[#logs].level)
    srv:terminate(id)
  end)

  it("keeps at most --max-log-bytes of a workload that prints long lines", function()
    -- 200 lines of 60,000 bytes: 12 MB, where 1000 lines would be allowed
    local id = srv:run({ image = "host", command = { "sh", "-c",
                                "head -c 60000 /dev/zero | tr '\\0' x > /tmp/l; i=0; while [ $i -lt 200 ]; do cat /tmp/l; echo; i=$((i+1)); done; sleep 1000" } })
    local logs = process.eventually(function()
      local l = srv:get("/v1/sandbox/" .. id .. "/logs").json.logs
      return #l > 0 and l[#l].level == "warning" and l
    end, "the log limit's warning")
    -- and nothing after the note, however long it prints on (each read of its output once
    -- logged the note again: the bytes left had room for a line shorter than the next)
    process.sleep(0.3)
    logs = srv:get("/v1/sandbox/" .. id .. "/logs").json.logs
    local bytes, notes = 0, 0
    for _, l in ipairs(logs) do
      bytes = bytes + #l.line
      if l.line:find("log limit is reached", 1, true) then notes = notes + 1 end
    end
    assert.is_true(bytes <= 1024 * 1024, bytes .. " bytes kept")
    assert.is_true(#logs > 10 and #logs < 200, #logs .. " lines kept")
    assert.equal(1, notes)
    assert.matches("log limit is reached", logs[#logs].line, 1, true)
    for i = 1, #logs - 1 do assert.equal(60000, #logs[i].line) end
    srv:terminate(id)
  end)

  it("refuses a request whose body length is ambiguous, and closes the connection", function()
    local socket = require("socket")
    local host, port = srv.url:match("http://([%d%.]+):(%d+)")
    for _, framing in ipairs { { "Content-Length: 2\r\nContent-Length: 20\r\n", "{}" },
                               { "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", "2\r\n{}\r\n0\r\n\r\n" } } do
      local c = assert(socket.connect(host, tonumber(port)))
      c:settimeout(5)
      c:send("POST /v1/volume HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" .. framing[1] .. "\r\n" .. framing[2])
      local answer = c:receive("*a") -- to the end: the server closes
      c:close()
      assert.matches("^HTTP/1.1 400", answer)
      assert.matches("ambiguous", answer, 1, true)
    end
    assert.same({}, (function()
      local names = {}
      for _, v in ipairs(srv:get("/v1/volume").json.volumes) do
        if v.id ~= vol then names[#names + 1] = v.name end
      end
      return names
    end)(), "no volume was created by them")
  end)

  it("keeps /healthz fast while a thousand clients send their headers a byte a second", function()
    local host, port = srv.url:match("http://([%d%.]+):(%d+)")
    local slow = process.spawn { "sh", "-c", "ulimit -n 4096 && exec lua5.4 spec/support/slowloris.lua " .. host .. " " .. port .. " 1000 8" }
    process.wait_line(slow, "open (%d+)", 20)
    assert.equal("1000", process.wait_line(slow, "open (%d+)"))
    local socket = require("socket")
    local times = {}
    for _ = 1, 40 do
      local t0 = socket.gettime()
      assert.equal(200, srv:get("/healthz").status)
      times[#times + 1] = socket.gettime() - t0
      process.sleep(0.02)
    end
    process.stop(slow)
    table.sort(times)
    local p95 = times[math.ceil(#times * 0.95)]
    assert.truthy(p95 < 0.05, ("healthz p95 %.1f ms"):format(p95 * 1000))
  end)

  it("fails a sandbox whose launcher says it failed but lives on, and ends that launcher", function()
    -- the real server, with a launcher that for a cold start reports an error on its status
    -- pipe and then stays (a real one cannot be made to on demand); every other use of the
    -- launcher (the id-map probe, the warm pool) is the real one's
    local build = os.getenv("PORTER_BUILD") or "build"
    local real = process.capture("readlink -f " .. process.shquote(build))
    real = real:match("^(.-)\n") or real
    local dir = process.tmpdir()
    local sh = process.shquote
    finally(function() os.execute("rm -rf " .. sh(dir)) end)
    assert(os.execute(("cp %s/porter-sandboxd %s/ && ln -s %s/porter-sandbox-unpack %s/"):format(sh(real), sh(dir), sh(real), sh(dir))))
    local f = assert(io.open(dir .. "/porter-sandbox-exec", "w"))
    f:write(([[#!/bin/sh
real=%s/porter-sandbox-exec
case " $* " in *" --launch "*) ;; *) exec "$real" "$@" ;; esac
case " $* " in *" --prestart "*) exec "$real" "$@" ;; esac
prev= fd=
for a; do [ "$prev" = --status-fd ] && fd=$a; prev=$a; done
echo $$ >> %s/lingering
eval "echo 'error the scripted launcher failed' >&$fd"
exec sleep 600
]]):format(sh(real), sh(dir)))
    f:close()
    assert(os.execute("chmod +x " .. sh(dir .. "/porter-sandbox-exec")))
    local other = helpers.sandboxd { wrap = function(argv)
      argv[1] = dir .. "/porter-sandboxd"
      return argv
    end }
    -- an egress allow list starts cold, never from the pool
    local id = other:run { image = "host", command = { "true" }, egress = { allowed_destinations = { "192.0.2.1" } } }
    other:wait(id, "failed", 30)
    assert.matches("the scripted launcher failed", other:logs_text(id), 1, true)
    local pid = process.read_all(dir .. "/lingering"):match("%d+")
    assert.truthy(pid, "the scripted launcher ran")
    process.eventually(function()
      local stat = process.read_all("/proc/" .. pid .. "/stat")
      return not stat or stat:match("^%d+ %b() (%a)") == "Z"
    end, "the lingering launcher " .. pid .. " ended", 10)
    alive()
    other:stop()
  end)

  it("leaves no sandbox process behind when killed -9 in the middle of 60 creations", function()
    local other = helpers.sandboxd()
    local body = '{"image":"host","command":["sh","-c","sleep 1009"]}'
    -- fire the creations without waiting for them (each answers 202 at once), then kill
    local ids = {}
    for _ = 1, 60 do
      local r = other:request("POST", "/v1/sandbox/run", body)
      ids[#ids + 1] = r.json and r.json.id
    end
    os.execute("kill -9 " .. other.proc.pid)
    -- the processes this server's sandboxes and warm launchers are made of, other than zombies:
    -- its launchers (and their forks) by the --parent they were given, the rest by their
    -- cgroups (all of them under the server's own, named for its pid; nothing else is in them)
    local mine = { ["/srv%-%d+%-" .. other.proc.pid .. "%-"] = true }
    for _, id in ipairs(ids) do mine[id] = true end
    local function ours()
      local left = {}
      for pid in oci.run("ls /proc"):gmatch("(%d+)\n") do
        local cg, stat = process.read_all("/proc/" .. pid .. "/cgroup"), process.read_all("/proc/" .. pid .. "/stat")
        local args = (process.read_all("/proc/" .. pid .. "/cmdline") or ""):gsub("%z", " ")
        local state = stat and stat:match("^%d+ %b() (%a)")
        local hit = args:find("--parent " .. other.proc.pid .. " ", 1, true)
        for pattern in pairs(mine) do hit = hit or (cg and cg:find(pattern)) end
        if hit and state and state ~= "Z" then left[#left + 1] = pid .. " " .. args end
      end
      return left
    end
    process.eventually(function()
      local left = ours()
      return #left == 0, table.concat(left, ", ")
    end, "all of the killed server's processes gone")
    -- and the next server on that state dir reports them failed and cleans up after them
    other:restart()
    local list = other:get("/v1/sandbox").json.sandboxes
    assert.truthy(#list > 0)
    for _, sb in ipairs(list) do assert.equal("failed", sb.phase) end
    assert.equal("", oci.run("ls -A " .. process.shquote(other.state_dir .. "/sandboxes")))
    other:stop()
  end)

  it("never serves or mounts the bare directory under a volume image that cannot be mounted", function()
    local other = helpers.sandboxd()
    local v = other:request("POST", "/v1/volume", {}).json.id
    assert.equal(204, other:request("PUT", "/v1/volume/" .. v .. "/files/content?path=/f", "in the volume").status)
    other:stop(true)
    -- the image ruined while the server was down; a file left in the directory below it
    local vdir = other.state_dir .. "/volumes/" .. v
    oci.run("head -c 65536 /dev/zero | dd of=" .. process.shquote(vdir .. "/disk.img") .. " conv=notrunc 2>/dev/null")
    oci.write(vdir .. "/data/f", "under the mount point")
    other:restart()
    local r = other:get("/v1/volume/" .. v .. "/files/content?path=/f")
    assert.equal(500, r.status, r.body)
    assert.is_nil(r.body:find("under the mount point", 1, true))
    r = other:request("PUT", "/v1/volume/" .. v .. "/files/content?path=/g", "x")
    assert.equal(500, r.status, r.body)
    local id = other:run({ image = "host", volume_mounts = { ["/data"] = v } })
    local st = other:wait(id)
    assert.equal("failed", st.phase)
    local logs = other:get("/v1/sandbox/" .. id .. "/logs").json.logs
    assert.matches("cannot be mounted", logs[#logs].line, 1, true)
    other:stop()
  end)

  it("keeps the live volumes within --volume-space together, and has room again after a delete", function()
    local other = helpers.sandboxd { args = { "--volume-size", "16M", "--volume-space", "48M" } }
    local made, r = {}, nil
    for _ = 1, 6 do
      r = other:request("POST", "/v1/volume", {})
      if r.status ~= 201 then break end
      made[#made + 1] = r.json.id
    end
    assert.equal(3, #made)
    assert.equal(507, r.status, r.body)
    assert.matches("--volume-space", r.body, 1, true)
    assert.equal(204, other:request("DELETE", "/v1/volume/" .. made[1]).status)
    assert.equal(201, other:request("POST", "/v1/volume", {}).status)
    other:stop()
  end)
end)
