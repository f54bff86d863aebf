-- Object volumes on a real S3 bucket (--bucket NAME=s3:URL/BUCKET): OpenStack Swift's S3 API on
-- loopback (spec/support/s3.lua), mounted by porter-sandboxd through s3fs. What a user checks:
-- a prefix of the bucket is the volume, in two sandboxes at once, read-write in one and really
-- read-only in the other; what a sandbox writes is in the bucket for any S3 client, and what
-- others put there shows in the sandbox. What a hostile workload would look for: s3fs, which
-- holds the bucket's credentials, runs as no account of the host, without a capability, and
-- ends with the server.
local helpers = require("spec.helpers")
local s3support = require("spec.support.s3")
local process = helpers.process

describe("porter-sandboxd S3 buckets", function()
  local s3, srv
  local creds = { AWS_ACCESS_KEY_ID = s3support.KEY, AWS_SECRET_ACCESS_KEY = s3support.SECRET }
  setup(function()
    s3 = s3support.start()
    s3:create_bucket("media")
    s3:put("media", "in/from-outside.txt", "put by another client")
    srv = helpers.sandboxd { args = { "--image-fallback", "none", "--bucket", "media=s3:" .. s3.url .. "/media" }, env = creds }
  end)
  teardown(function()
    if srv then srv:stop() end
    if s3 then s3:stop() end
  end)

  local function volume(access)
    local r = srv:request("POST", "/v1/volume", { type = "object", object = { bucket = "media", prefix = "in", access = access } })
    assert.equal(201, r.status, r.body)
    return r.json.id
  end
  local function start(mounts)
    local id = srv:run { image = "host", volume_mounts = mounts, command = { "sleep", "300" } }
    assert.equal("running", srv:wait(id).phase, srv:logs_text(id))
    return id
  end
  local function sh(id, script)
    local r = srv:request("POST", "/v1/sandbox/" .. id .. "/exec", { command = { "sh", "-c", script } }).json
    return r.stdout .. r.stderr, r.exit_code
  end

  it("mounts a prefix of the bucket read-write in one sandbox and read-only in another, at once", function()
    local writer, reader = start { ["/data"] = volume("read_write") }, start { ["/data"] = volume("read_only") }
    assert.equal("put by another client", (sh(writer, "cat /data/from-outside.txt")))
    local out, code = sh(writer, "mkdir -p /data/dir && echo written inside > /data/dir/new.txt && cat /data/dir/new.txt")
    assert.equal(0, code, out)
    -- in the bucket, for any S3 client, under the volume's prefix
    assert.equal("written inside\n", s3:get("media", "in/dir/new.txt"))
    assert.same({ "in/", "in/dir/", "in/dir/new.txt", "in/from-outside.txt" }, s3:keys("media"))
    -- the other sandbox reads it, and cannot write
    assert.equal("written inside\n", (sh(reader, "cat /data/dir/new.txt")))
    out, code = sh(reader, "echo no > /data/dir/new.txt; echo no > /data/other.txt; rm /data/from-outside.txt")
    assert.not_equal(0, code)
    assert.matches("Read%-only file system", out)
    assert.equal("written inside\n", s3:get("media", "in/dir/new.txt"))
    assert.equal("put by another client", s3:get("media", "in/from-outside.txt"))
    -- what another client puts there later shows up
    s3:put("media", "in/later.txt", "later")
    assert.equal("later", (sh(reader, "cat /data/later.txt")))
    srv:terminate(writer)
    srv:terminate(reader)
  end)

  it("cannot make a prefix lead outside the bucket with symlinks it put there", function()
    local writer = start { ["/data"] = volume("read_write") }
    local r = srv:request("POST", "/v1/volume", { type = "object", object = { bucket = "media", prefix = "in/sub" } })
    assert.equal(201, r.status, r.body)
    local sub = r.json.id
    -- a link to the host's root where a directory would be, and one where a volume's prefix is
    local out, code = sh(writer, "ln -s / /data/trap && rmdir /data/sub && ln -s /etc /data/sub && ls -l /data")
    assert.equal(0, code, out)
    assert.matches("trap %-> /", out)
    r = srv:request("POST", "/v1/volume", { type = "object", object = { bucket = "media", prefix = "in/trap/etc" } })
    assert.equal(400, r.status)
    assert.matches("is not a directory in the bucket", r.body)
    local id = srv:run { image = "host", volume_mounts = { ["/sub"] = sub }, command = { "ls", "/sub" } }
    assert.equal("failed", srv:wait(id).phase)
    assert.matches("a symlink in the bucket where its prefix should be", srv:logs_text(id))
    sh(writer, "rm /data/trap /data/sub")
    srv:terminate(writer)
  end)

  it("runs s3fs as no account of the host, without capabilities, and it ends with the server", function()
    local own = helpers.sandboxd { args = { "--image-fallback", "none", "--bucket", "m=s3:" .. s3.url .. "/media" }, env = creds }
    -- the server's s3fs: a child of its own (the server spawns it), by its command name
    local pid = tonumber((process.capture("env -u LD_PRELOAD pgrep -P " .. own.proc.pid .. " -x s3fs")))
    assert.is_number(pid)
    local f = assert(io.open("/proc/" .. pid .. "/status"))
    local status = f:read("a")
    f:close()
    local uid = tonumber(status:match("\nUid:%s+(%d+)"))
    assert.is_true(uid ~= 0 and uid ~= 65534, "s3fs runs as uid " .. uid)
    assert.is_nil(io.open("/etc/passwd"):read("a"):match("\n[^:\n]*:[^:\n]*:" .. uid .. ":"), "uid " .. uid .. " is an account's")
    assert.matches("\nCapEff:%s+0+\n", status)
    assert.matches("\nCapBnd:%s+0+\n", status)
    assert.matches("\nNoNewPrivs:%s+1\n", status)
    -- the server killed outright: no s3fs, and no mount of it on the host, is left
    os.execute("kill -9 " .. own.proc.pid)
    process.eventually(function() return not io.open("/proc/" .. pid .. "/status") end, "s3fs ended")
    assert.is_nil(io.open("/proc/self/mountinfo"):read("a"):find("fuse.s3fs", 1, true))
    own:stop()
  end)

  it("takes no new volume on a bucket whose s3fs is gone, and its sandboxes fail to start, saying why", function()
    local own = helpers.sandboxd { args = { "--image-fallback", "none", "--bucket", "m=s3:" .. s3.url .. "/media" }, env = creds }
    local v = own:request("POST", "/v1/volume", { type = "object", object = { bucket = "m", prefix = "gone" } })
    assert.equal(201, v.status, v.body)
    local pid = tonumber((process.capture("env -u LD_PRELOAD pgrep -P " .. own.proc.pid .. " -x s3fs")))
    os.execute("kill -9 " .. pid)
    process.eventually(function() return not io.open("/proc/" .. pid .. "/status") end, "s3fs ended")
    local r = own:request("POST", "/v1/volume", { type = "object", object = { bucket = "m", prefix = "later" } })
    assert.equal(400, r.status)
    assert.matches("bucket 'm' is no longer", r.body)
    local run = own:run { image = "host", volume_mounts = { ["/v"] = v.json.id }, command = { "true" } }
    assert.equal("failed", own:wait(run).phase)
    assert.matches("object volume " .. v.json.id .. " cannot be mounted", own:logs_text(run))
    assert.equal(200, own:get("/healthz").status) -- and the server lives on
    own:stop()
  end)

  local function refused(bucket, env)
    local dir = process.tmpdir()
    local p = process.spawn({ helpers.build .. "/porter-sandboxd", "--listen", "127.0.0.1:0", "--state-dir", dir,
                              "--bucket", bucket }, env)
    process.eventually(function() return not process.alive(p) end, "porter-sandboxd refused --bucket " .. bucket)
    local err = process.read_all(p.stderr)
    process.stop(p)
    os.execute("rm -rf " .. process.shquote(dir))
    return err
  end

  it("refuses at start an S3 bucket it cannot have, saying why", function()
    assert.matches("'s3:ftp://x/b' is not s3:http%[s%]://HOST%[:PORT%]/BUCKET", refused("x=s3:ftp://x/b", creds))
    assert.matches("not s3:http", refused("x=s3:" .. s3.url .. "/Upper_Case", creds))
    assert.matches("credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", refused("x=s3:" .. s3.url .. "/media"))
    -- a bucket the service does not have: s3fs says so, and the server does not start
    assert.matches("%-%-bucket x %(.*/nosuch%): s3fs did not serve it", refused("x=s3:" .. s3.url .. "/nosuch", creds))
    local wrong = { AWS_ACCESS_KEY_ID = s3support.KEY, AWS_SECRET_ACCESS_KEY = "wrong" }
    assert.matches("s3fs did not serve it", refused("x=s3:" .. s3.url .. "/media", wrong))
  end)
end)
