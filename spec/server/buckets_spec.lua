-- Object volumes' buckets against hostile sandboxes: a sandbox that shapes what is under a
-- prefix (symlinks where directories were) reaches nothing outside the bucket, neither
-- through a new volume's prefix nor through another sandbox's mount of it; and a bucket must
-- be root's alone, so that what sandboxes write there is out of the other users' reach.
local helpers = require("spec.helpers")
local http = require("spec.support.http")
local process = helpers.process
local sh = process.shquote

describe("porter-sandboxd buckets", function()
  local srv, bucket
  setup(function()
    bucket = process.tmpdir()
    srv = helpers.sandboxd { args = { "--image-fallback", "none", "--bucket", "b=" .. bucket } }
  end)
  teardown(function()
    srv:stop()
    os.execute("rm -rf " .. sh(bucket))
  end)

  local function post(path, json) return http.request { method = "POST", url = srv.url .. path, json = json } end
  local function volume(prefix)
    local r = post("/v1/volume", { type = "object", object = { bucket = "b", prefix = prefix } })
    return r.status == 201 and r.json.id, r
  end
  local function start(mounts)
    local r = post("/v1/sandbox/run", { image = "host", volume_mounts = mounts, command = { "sleep", "300" } })
    assert.equal(202, r.status, r.body)
    local st
    for _ = 1, 500 do
      st = http.request { url = srv.url .. "/v1/sandbox/" .. r.json.id }.json
      if st.phase ~= "queued" and st.phase ~= "creating" then break end
      process.sleep(0.02)
    end
    return r.json.id, st.phase
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
    http.request { method = "DELETE", url = srv.url .. "/v1/sandbox/" .. id }
    -- a new volume under a link: refused
    local vol, r = volume("p/r/x")
    assert.is_false(vol)
    assert.equal(400, r.status)
    assert.matches("is not a directory in the bucket", r.body)
    assert.is_nil(io.open("/etc/x"))
    -- a volume made before the swap: its sandbox fails to start, showing nothing of the host
    assert(os.execute("rm -f " .. sh(bucket .. "/p/q") .. " && mkdir " .. sh(bucket .. "/p/q")))
    local inner = assert(volume("p/q"))
    local id2 = start { ["/p"] = outer }
    exec(id2, "rmdir /p/q && ln -s / /p/q")
    local id3, phase = start { ["/q"] = inner }
    assert.equal("failed", phase)
    local logs = http.request { url = srv.url .. "/v1/sandbox/" .. id3 .. "/logs" }.body
    assert.matches("a symlink in the bucket where its prefix should be", logs)
    http.request { method = "DELETE", url = srv.url .. "/v1/sandbox/" .. id2 }
  end)

  it("refuses a bucket other users can enter", function()
    local open = process.tmpdir()
    assert(os.execute("chmod 755 " .. sh(open)))
    local p = process.spawn { helpers.build .. "/porter-sandboxd", "--listen", "127.0.0.1:0", "--state-dir", open .. "/state",
                              "--bucket", "x=" .. open }
    for _ = 1, 200 do
      if not process.alive(p) then break end
      process.sleep(0.02)
    end
    assert.is_false(process.alive(p))
    assert.matches("must be root's alone %(chmod 700 it%)", process.read_all(p.stderr))
    process.stop(p)
    os.execute("rm -rf " .. sh(open))
  end)
end)
