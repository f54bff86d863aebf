-- The whole SDK surface against the real local Sandbox API (porter-sandboxd) over HTTP.
local helpers = require("spec.helpers")
local sandbox = require("porter_sandbox")

local IMAGE = "host" -- the host's system directories, read-only: no registry needed

describe("SDK against porter-sandboxd", function()
  local server, porter
  setup(function()
    server = helpers.sandboxd()
    porter = sandbox.Porter { base_url = server.url }
  end)
  teardown(function()
    porter:close()
    server:stop()
  end)

  local n = 0
  local function unique(prefix)
    n = n + 1
    return string.format("%s-%d-%d", prefix, os.time() % 100000, n)
  end

  local function running(spec)
    spec.image = spec.image or IMAGE
    local sb = porter.sandboxes.create(spec)
    local st = sb:wait { timeout = 30 }
    assert.equal("running", st.phase)
    return sb
  end

  describe("sandboxes", function()
    it("go from create to running, exec with their env, log, and terminate", function()
      local name = unique("life")
      local sb = porter.sandboxes.create { image = IMAGE, name = name, tags = { suite = "life" }, env = { GREETING = "hi there" } }
      assert.matches("^Sandbox%(", tostring(sb))
      assert.is_nil(sb.phase)
      assert.is_nil(sb.tags)
      local st = sb:wait { timeout = 30 }
      assert.equal("running", st.phase)
      assert.equal("running", sb.phase)
      assert.same({ suite = "life" }, sb.tags)
      assert.equal(("Sandbox(%s, running)"):format(sb.id), tostring(sb))

      local r = sb:exec { "sh", "-c", 'echo "$GREETING"; echo err >&2; exit 4' }
      assert.equal("hi there\n", r.stdout)
      assert.equal("err\n", r.stderr)
      assert.equal(4, r.exit_code)
      assert.equal("integer", math.type(r.exit_code))

      local lines = sb:logs { limit = 100 }
      local seen
      for _, l in ipairs(lines) do
        if l.line == "hi there" then seen = l end
      end
      assert.truthy(seen, "exec output in the logs")
      assert.truthy(seen.exec_id)
      assert.truthy(seen.timestamp)

      local again = porter.sandboxes.get(name)
      assert.equal(sb.id, again.id)
      assert.equal("running", again.phase)

      sb:terminate()
      assert.equal("terminated", sb:refresh().phase)
      local e = helpers.raises(sb.exec, sb, { "true" })
      assert.equal("ConflictError", e.name)
      assert.equal(409, e.status_code)
      assert.truthy(#sb:logs {} > 0, "logs are kept after termination")
    end)

    it("never reuse a name, and say which are unknown", function()
      local name = unique("dup")
      local sb = porter.sandboxes.create { image = IMAGE, name = name }
      local e = helpers.raises(porter.sandboxes.create, { image = IMAGE, name = name })
      assert.equal(409, e.status_code)
      assert.equal("ConflictError", e.name)
      sb:terminate()
      e = helpers.raises(porter.sandboxes.get, unique("missing"))
      assert.equal("NotFoundError", e.name)
    end)

    it("record a command's exit", function()
      local sb = porter.sandboxes.create { image = IMAGE, command = { "sh", "-c", "echo out; exit 3" } }
      local st
      for _ = 1, 100 do
        st = sb:refresh()
        if st.phase == "failed" or st.phase == "succeeded" then break end
        sandbox.sleep(0.05)
      end
      assert.equal("failed", st.phase)
      assert.equal(3, st.exit_code)
      local lines = sb:logs {}
      assert.equal("out", lines[1].line)
      assert.equal("info", lines[1].level)
    end)

    it("are listed by tag, with handles", function()
      local tag = unique("t")
      local a = porter.sandboxes.create { image = IMAGE, tags = { batch = tag } }
      local b = porter.sandboxes.create { image = IMAGE, tags = { batch = tag, extra = "1" } }
      local list = porter.sandboxes.list { tags = { batch = tag } }
      assert.equal(2, #list)
      assert.equal(b.id, list[1].id) -- newest first
      assert.equal(a.id, list[2].id)
      assert.truthy(list[1].phase)
      assert.equal(1, #porter.sandboxes.list { tags = { batch = tag, extra = "1" } })
      assert.equal(1, list.pagination.current_page)
      a:terminate(); b:terminate()
    end)
  end)

  describe("volumes", function()
    it("are created, found by name, shared by two sandboxes, and refuse deletion while mounted", function()
      local name = unique("vol")
      local vol = porter.volumes.create { name = name }
      assert.equal(name, vol.name)
      assert.matches("^Volume%(", tostring(vol))
      local found = porter.volumes.get(name)
      assert.equal(vol.id, found.id)
      local ids = {}
      for _, v in ipairs(porter.volumes.list()) do ids[v.id] = true end
      assert.truthy(ids[vol.id])

      local w = running { volume_mounts = { ["/shared"] = vol.id } }
      local r = running { volume_mounts = { ["/mnt/in"] = vol.id } }
      assert.equal(0, w:exec { "sh", "-c", "echo from-w > /shared/note.txt" }.exit_code)
      assert.equal("from-w\n", r:exec { "cat", "/mnt/in/note.txt" }.stdout)
      assert.equal("from-w\n", vol:read_text("/note.txt"))
      vol:refresh()
      assert.equal(2, #vol.attached_to)

      local e = helpers.raises(vol.delete, vol)
      assert.equal(409, e.status_code)
      w:terminate(); r:terminate()
      porter.volumes.delete(name)
      e = helpers.raises(porter.volumes.get, name)
      assert.equal("NotFoundError", e.name)
    end)

    it("hold files: write, ranges, listings, search, move, stream", function()
      local vol = porter.volumes.create {}
      vol:write_file("docs/readme.txt", "hello volume\n")
      vol:write_file("/docs/conf/app.conf", "a=1\n")
      vol:write_file("/data.bin", string.rep("\0\1\2\3", 1000))
      vol:write_file("/empty", "")

      assert.equal("hello volume\n", vol:read_file("/docs/readme.txt"))
      local part, meta = vol:read_file("/docs/readme.txt", { offset = 6, length = 6 })
      assert.equal("volume", part)
      assert.equal("bytes 6-11/13", meta.content_range)
      assert.truthy(meta.last_modified)
      assert.equal("volume\n", vol:read_file("/docs/readme.txt", { offset = 6 }))

      local top = vol:listdir("/")
      local names = {}
      for i, e in ipairs(top) do names[i] = e.name end
      assert.same({ "docs", "data.bin", "empty" }, names) -- directories first, then files by name
      assert.equal("/docs", top[1].path)
      assert.equal(4000, top[2].size_bytes)
      assert.equal("integer", math.type(top[2].size_bytes))

      local walked = {}
      for e in vol:iterdir("/") do walked[#walked + 1] = e.path end
      assert.same({ "/docs", "/docs/conf", "/docs/conf/app.conf", "/docs/readme.txt", "/data.bin", "/empty" }, walked)

      local hits = vol:search("CONF")
      assert.equal(2, #hits)
      assert.equal("/docs/conf", hits[1].path)
      assert.equal("/docs/conf/app.conf", hits[2].path)

      vol:move_file("/docs/readme.txt", "/README.txt")
      assert.equal("hello volume\n", vol:read_text("README.txt"))
      -- text both ways: UTF-8 checked before anything is sent, ranges read as read_file's
      vol:write_text("/greek.txt", "καλημέρα\n", { encoding = "utf-8" })
      assert.equal("καλημέρα\n", vol:read_text("/greek.txt"))
      assert.equal("καλη", vol:read_text("/greek.txt", { offset = 0, length = 8 }))
      assert.matches("is not UTF%-8", helpers.raises(vol.write_text, vol, "/bad.txt", "\255\254").message)
      assert.matches("'encoding' must be \"utf%-8\"", helpers.raises(vol.write_text, vol, "/x.txt", "x", { encoding = "latin-1" }).message)
      assert.matches("unknown option 'offst'", helpers.raises(vol.read_text, vol, "/greek.txt", { offst = 1 }).message)
      assert.equal("NotFoundError", helpers.raises(vol.read_file, vol, "/bad.txt").name)
      assert.equal("NotFoundError", helpers.raises(vol.read_file, vol, "/docs/readme.txt").name)

      local chunks = {}
      for c in vol:stream("/data.bin", { chunk_size = 1500 }) do chunks[#chunks + 1] = #c end
      assert.same({ 1500, 1500, 1000 }, chunks)
      local empty = {}
      for c in vol:stream("/empty") do empty[#empty + 1] = c end
      assert.same({}, empty)
      vol:delete()
    end)

    it("takes an upload streamed from a file handle", function()
      local vol = porter.volumes.create {}
      local dir = helpers.process.tmpdir()
      local f = assert(io.open(dir .. "/up.bin", "w+b"))
      f:write(string.rep("0123456789", 100000))
      f:seek("set", 0)
      vol:write_file("/up.bin", f)
      f:close()
      local total = 0
      for c in vol:stream("/up.bin", { chunk_size = 300000 }) do total = total + #c end
      assert.equal(1000000, total)
      os.execute("rm -rf " .. dir)
      vol:delete()
    end)

    it("refuse paths that leave the volume", function()
      local vol = porter.volumes.create {}
      local e = helpers.raises(vol.read_file, vol, "/../../etc/passwd")
      assert.equal(400, e.status_code)
      e = helpers.raises(vol.write_file, vol, "/a/../../escape", "x")
      assert.equal(400, e.status_code)
      vol:delete()
    end)
  end)

  it("streams a 1 GiB file out of a volume in constant memory (under 32 MiB of RSS)", function()
    local vol = porter.volumes.create { name = unique("big") }
    local path = server:path(server.state_dir .. "/volumes/" .. vol.id .. "/data/big.bin")
    assert.is_true(os.execute("truncate -s 1G " .. helpers.process.shquote(path)))
    local out = helpers.lua_eval(([[
      local s = require "porter_sandbox"
      local p = s.Porter { base_url = %q }
      local v = p.volumes.get(%q)
      local f = io.open("/proc/self/clear_refs", "w") f:write("5") f:close()
      local n = 0
      for chunk in v:stream("/big.bin") do n = n + #chunk end
      io.write(n, " ", io.open("/proc/self/status"):read("*a"):match("VmHWM:%%s+(%%d+)"))
    ]]):format(server.url, vol.name))
    local n, kb = out:match("^(%d+) (%d+)$")
    assert.equal(1024 * 1024 * 1024, tonumber(n), out)
    -- the sanitizers' own shadow and quarantine come on top
    local limit = os.getenv("SAN") == "1" and 96 or 32
    assert.is_true(tonumber(kb) < limit * 1024, kb .. " kB")
    vol:delete()
  end)

  it("snapshots a running sandbox, and starts a new one from it with the files it had", function()
    local sb = running {}
    assert.equal(0, sb:exec { "sh", "-c", "head -c 10000 /dev/zero > /tmp/state.bin && mkdir /tmp/d && echo kept > /tmp/d/note" }.exit_code)
    local t0 = os.time() * 1000
    local snap = porter.snapshots.create(sb.id, { mode = "filesystem" })
    assert.equal("ready", snap.status)
    assert.equal("filesystem", snap.mode)
    assert.equal(sb.id, snap.sandbox_id)
    assert.is_true(snap.size_bytes >= 10000, "a snapshot of " .. snap.size_bytes .. " bytes")
    assert.is_true(snap.t_created_unix_ms >= t0 - 1000 and snap.t_ready_unix_ms >= snap.t_created_unix_ms)
    assert.equal("integer", math.type(snap.t_ready_unix_ms))
    assert.matches('^Snapshot%(id="' .. snap.id .. '", sandbox_id="' .. sb.id .. '", mode="filesystem", status="ready"', tostring(snap))
    local found = false
    for _, s in ipairs(porter.snapshots.list { sandbox_id = sb.id }) do
      if s.id == snap.id then found = s.status == "ready" end
    end
    assert.is_true(found)
    -- what the snapshot holds comes back in a new sandbox's /tmp before its command runs, owned
    -- by that sandbox (it can change it), on the image the snapshot was taken on
    local from = porter.sandboxes.create { snapshot_id = snap.id, command = { "sh", "-c", "cat /tmp/d/note; wc -c < /tmp/state.bin; sleep 30" } }
    assert.equal("running", from:wait { timeout = 30 }.phase)
    assert.equal(IMAGE, from:refresh().image)
    -- the workload's own lines (not an exec's), once it printed both: before the exec below
    -- changes the file it prints
    local lines
    for _ = 1, 600 do
      lines = {}
      for _, l in ipairs(from:logs()) do if l.exec_id == "" then lines[#lines + 1] = l.line end end
      if #lines >= 2 then break end
      sandbox.sleep(0.05)
    end
    assert.same({ "kept", "10000" }, { lines[1], lines[2] })
    local r = from:exec { "sh", "-c", "echo more >> /tmp/d/note && cat /tmp/d/note && stat -c %u /tmp/d/note" }
    assert.equal(0, r.exit_code, r.stderr)
    assert.matches("^kept\nmore\n%d+\n$", r.stdout)
    from:terminate()
    -- a snapshot that is not there, or an image beside one, is refused before anything starts
    assert.equal("NotFoundError", helpers.raises(porter.sandboxes.create, { snapshot_id = "snap_nothere" }).name)
    local e = helpers.raises(porter.sandboxes.create, { snapshot_id = snap.id, image = IMAGE })
    assert.matches("'image' must be empty when 'snapshot_id' is set", e.message)
    porter.snapshots.delete(snap.id)
    assert.equal(0, #porter.snapshots.list { sandbox_id = sb.id })
    assert.equal(0, sb:exec { "true" }.exit_code) -- the sandbox kept running throughout
    sb:terminate()
    -- when it ended is in its status
    local st = sb:wait_exit { timeout = 30 }
    assert.is_string(st.finished_at)
    assert.is_true(st.finished_at >= st.started_at)
  end)

  it("prints results, log lines, file entries and statuses like the official SDKs' reprs", function()
    local sb = running { name = unique("repr"), tags = { team = "a" } }
    local st = sb:refresh()
    assert.equal(('SandboxStatus(id="%s", name="%s", phase="running", image="host", tags={team="a"}, created_at="%s", started_at="%s")')
      :format(sb.id, sb.name, st.created_at, st.started_at), tostring(st))
    local r = sb:exec { "sh", "-c", [[printf 'hi\n'; printf 'a"b\tc' >&2; exit 2]] }
    assert.equal([[ExecResult(exit_code=2, stdout="hi\n", stderr="a\"b\tc")]], tostring(r))
    local long = sb:exec { "sh", "-c", "head -c 300 /dev/zero | tr '\\0' x" }
    assert.equal('ExecResult(exit_code=0, stdout="' .. ("x"):rep(120) .. '"...(300 bytes), stderr="")', tostring(long))
    local line = sb:logs { limit = 1 }[1]
    assert.equal(('LogLine(timestamp="%s", level="info", exec_id="%s", line="%s"...(300 bytes))')
      :format(line.timestamp, line.exec_id, ("x"):rep(120)), tostring(line))
    local vol = porter.volumes.create {}
    vol:write_file("/f.txt", "abc")
    vol:write_file("/d/g.txt", "x")
    local by = {}
    for _, e in ipairs(vol:listdir("/")) do by[e.name] = e end
    assert.is_true(by["f.txt"].is_file)
    assert.is_false(by["f.txt"].is_dir)
    assert.is_true(by.d.is_dir)
    assert.is_false(by.d.truncated)
    assert.equal(('FileEntry(path="/f.txt", name="f.txt", type="file", size_bytes=3, modified_at="%s", truncated=false)')
      :format(by["f.txt"].modified_at), tostring(by["f.txt"]))
    for e in vol:iterdir("/") do assert.matches("^FileEntry%(path=", tostring(e)) end
    sb:terminate()
  end)

  it("answers health and readiness", function()
    assert.equal("ok", porter.health.check().status)
    assert.equal("integer", math.type(porter.readiness.check().active_sandboxes))
  end)

  -- AsyncPorter, where the VM has it (not Lua 5.1: vm_spec.lua)
  if sandbox.HAS_ASYNC then
    it("fans out 50 sandboxes each running `sleep 1` concurrently with AsyncPorter", function()
      local aporter = sandbox.AsyncPorter { base_url = server.url, max_connections = 64 }
      local t0 = sandbox._now()
      local tasks = {}
      for i = 1, 50 do
        tasks[i] = function()
          local sb = aporter.sandboxes.create { image = IMAGE, tags = { fan = "out" } }
          sb:wait { timeout = 30 }
          local r = sb:exec { "sh", "-c", "sleep 1; echo " .. i }
          sb:terminate()
          return tonumber(r.stdout) or (r.stdout .. "/" .. r.stderr .. "/" .. r.exit_code)
        end
      end
      local results = aporter:gather(tasks)
      local elapsed = sandbox._now() - t0
      for i = 1, 50 do assert.equal(i, results[i]) end
      assert.is_true(elapsed < 5, ("took %.2f s"):format(elapsed))
      aporter:close()
    end)
  end
end)

describe("SDK against porter-sandboxd with an API key", function()
  it("sends the key, and maps a refusal to AuthenticationError", function()
    local server = helpers.sandboxd { api_key = "sekret" }
    local good = sandbox.Porter { base_url = server.url, api_key = "sekret" }
    local bad = sandbox.Porter { base_url = server.url, api_key = "wrong" }
    assert.same({}, good.volumes.list())
    local e = helpers.raises(bad.volumes.list)
    assert.equal("AuthenticationError", e.name)
    assert.equal(401, e.status_code)
    good:close(); bad:close()
    server:stop()
  end)
end)
