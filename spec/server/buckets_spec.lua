-- Object volumes' buckets against hostile sandboxes: a sandbox that shapes what is under a
-- prefix (symlinks where directories were) reaches nothing outside the bucket, neither
-- through a new volume's prefix nor through another sandbox's mount of it; a writable bucket
-- is a filesystem of its own, so that what sandboxes write there is bounded by its size, never
-- by the host's disk; and a bucket must be root's alone, so that what sandboxes write there is
-- out of the other users' reach.
local helpers = require("spec.helpers")
local process = helpers.process
local sh = process.shquote

describe("porter-sandboxd buckets", function()
  local srv, bucket
  setup(function()
    bucket = helpers.bucket("16m")
    srv = helpers.sandboxd { args = { "--image-fallback", "none", "--bucket", "b=" .. bucket.dir } }
  end)
  teardown(function()
    srv:stop()
    bucket.remove()
  end)

  local function post(path, json) return srv:request("POST", path, json) end
  local function volume(prefix)
    local r = post("/v1/volume", { type = "object", object = { bucket = "b", prefix = prefix } })
    return r.status == 201 and r.json.id, r
  end
  local function start(mounts)
    local id = srv:run { image = "host", volume_mounts = mounts, command = { "sleep", "300" } }
    return id, srv:wait(id).phase
  end
  local function exec(id, script)
    local r = post("/v1/sandbox/" .. id .. "/exec", { command = { "sh", "-c", script } })
    return r.json.stdout .. r.json.stderr
  end

  it("cannot make a prefix lead outside the bucket with symlinks it put there", function()
    local outer = assert(volume("p"))
    local id = start { ["/p"] = outer }
    -- where directories were, or would be, links to the host's root
    exec(id, "mkdir -p /p/q && echo mine > /p/q/f && rm -rf /p/q && ln -s / /p/q && ln -s /etc /p/r")
    srv:terminate(id)
    -- a new volume under a link: refused
    local vol, r = volume("p/r/x")
    assert.is_false(vol)
    assert.equal(400, r.status)
    assert.matches("is not a directory in the bucket", r.body)
    assert.is_nil(io.open("/etc/x"))
    -- a volume made before the swap: its sandbox fails to start, showing nothing of the host
    assert(os.execute("rm -f " .. sh(bucket.dir .. "/p/q") .. " && mkdir " .. sh(bucket.dir .. "/p/q")))
    local inner = assert(volume("p/q"))
    local id2 = start { ["/p"] = outer }
    exec(id2, "rmdir /p/q && ln -s / /p/q")
    local id3, phase = start { ["/q"] = inner }
    assert.equal("failed", phase)
    local logs = srv:get("/v1/sandbox/" .. id3 .. "/logs").body
    assert.matches("a symlink in the bucket where its prefix should be", logs)
    srv:terminate(id2)
  end)

  local function kib(cmd)
    local f = io.popen(cmd)
    local n = f:read("*n")
    f:close()
    return n
  end
  local function host_free() return kib("df -k --output=avail " .. sh(os.getenv("TMPDIR") or "/tmp") .. " | tail -1") end

  it("cannot fill more than its bucket's filesystem, whatever it writes", function()
    local vol = assert(volume("fill"))
    local id = start { ["/fill"] = vol }
    local before = host_free()
    local out = exec(id, "dd if=/dev/zero of=/fill/big bs=1M count=64 2>&1; echo rc=$?; " ..
                         "i=0; while [ $i -lt 64 ]; do echo x > /fill/small.$i || break; i=$((i+1)); done")
    assert.matches("No space left on device", out)
    assert.not_matches("rc=0", out)
    srv:terminate(id)
    local size = kib("du -sk " .. sh(bucket.dir .. "/fill"))
    assert.is_true(size <= 16 * 1024, "the bucket holds " .. size .. " KiB")
    local after = host_free()
    assert.is_true(before - after < 8 * 1024, "the host's disk lost " .. (before - after) .. " KiB")
    -- what filled it is the bucket's: removing it frees the bucket for the next writer
    os.execute("rm -rf " .. sh(bucket.dir .. "/fill"))
    assert.equal(201, post("/v1/volume", { type = "object", object = { bucket = "b", prefix = "after" } }).status)
  end)

  it("takes no writes into a bucket whose filesystem went away under the server", function()
    local other = helpers.bucket("4m")
    local s2 = helpers.sandboxd { args = { "--image-fallback", "none", "--bucket", "gone=" .. other.dir } }
    local ok, err = pcall(function()
      local v = s2:request("POST", "/v1/volume", { type = "object", object = { bucket = "gone", prefix = "a" } })
      assert.equal(201, v.status, v.body)
      -- the server keeps a mount namespace of its own: unmount the bucket there
      assert(os.execute("nsenter -m -t " .. s2.proc.pid .. " umount " .. sh(other.dir)))
      local r = s2:request("POST", "/v1/volume", { type = "object", object = { bucket = "gone", prefix = "b" } })
      assert.equal(400, r.status)
      assert.matches("bucket 'gone' is no longer on the filesystem it was registered on", r.body)
      local run = s2:run { image = "host", volume_mounts = { ["/a"] = v.json.id }, command = { "true" } }
      assert.equal("failed", s2:wait(run).phase)
      assert.matches("no longer on the filesystem it was registered on", s2:logs_text(run))
    end)
    s2:stop()
    other.remove()
    assert(ok, err)
  end)

  local function refused(dir, spec)
    local p = process.spawn { helpers.build .. "/porter-sandboxd", "--listen", "127.0.0.1:0", "--state-dir", dir .. "/state",
                              "--bucket", spec }
    for _ = 1, 200 do
      if not process.alive(p) then break end
      process.sleep(0.02)
    end
    local alive, err = process.alive(p), process.read_all(p.stderr)
    process.stop(p)
    return not alive, err
  end

  it("refuses a writable bucket on its parent's filesystem, which would let sandboxes fill the host's disk", function()
    local plain = process.tmpdir()
    local gone, err = refused(plain, "x=" .. plain)
    assert.is_true(gone)
    assert.matches("%-%-bucket x: .* is on its parent's filesystem", err)
    assert.matches("give the bucket a filesystem of its own", err)
    -- read_only it is bounded already: sandboxes write nothing there
    local stays = refused(plain, "x=" .. plain .. ",read_only")
    assert.is_false(stays)
    os.execute("rm -rf " .. sh(plain))
  end)

  it("refuses a bucket other users can enter", function()
    local open = process.tmpdir()
    assert(os.execute("chmod 755 " .. sh(open)))
    local gone, err = refused(open, "x=" .. open .. ",read_only")
    assert.is_true(gone)
    assert.matches("must be root's alone %(chmod 700 it%)", err)
    os.execute("rm -rf " .. sh(open))
  end)
end)
