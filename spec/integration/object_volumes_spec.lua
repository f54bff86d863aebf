-- Object volumes against the real porter-sandboxd, a local directory standing in for a
-- registered bucket (--bucket NAME=DIR): created with type and object, printed and listed as
-- ObjectVolume handles without file methods, mounted into sandboxes at their prefix, read-only
-- when their access says so.
local helpers = require("spec.helpers")
local sandbox = require("porter_sandbox")
local process = helpers.process
local sh = process.shquote

describe("object volumes against porter-sandboxd", function()
  local server, porter, media, bucket, shelf
  setup(function()
    media = helpers.bucket() -- a filesystem of its own, 0700: root's alone
    bucket = media.dir
    shelf = process.tmpdir()
    assert(os.execute("mkdir -p " .. sh(bucket .. "/data/in") .. " && printf seed > " .. sh(bucket .. "/data/in/seed.txt") ..
                      " && chmod -R a+rX " .. sh(bucket .. "/data") .. " && chmod 700 " .. sh(bucket)))
    server = helpers.sandboxd { args = { "--image-fallback", "none", "--bucket", "media=" .. bucket,
                                         "--bucket", "archive=" .. shelf .. ",read_only" } }
    porter = sandbox.Porter { base_url = server.url }
  end)
  teardown(function()
    porter:close()
    server:stop()
    media.remove()
    os.execute("rm -rf " .. sh(shelf))
  end)

  local function run(mounts, script)
    local sb = porter.sandboxes.create { image = "host", volume_mounts = mounts, command = { "sleep", "300" } }
    assert.equal("running", sb:wait { timeout = 30 }.phase)
    local r = sb:exec { "sh", "-c", script }
    sb:terminate()
    return r
  end

  it("mounts a bucket's prefix read-write: what a sandbox writes is in the bucket, what was there it reads", function()
    local vol = porter.volumes.create { name = "media-data", type = "object", object = { bucket = "media", prefix = "data" } }
    assert.equal("object", vol.type)
    assert.same({ bucket = "media", prefix = "data" }, { bucket = vol.object.bucket, prefix = vol.object.prefix })
    assert.equal("", vol.path)
    assert.equal(('ObjectVolume(%s, media-data, media/data)'):format(vol.id), tostring(vol))
    assert.equal(getmetatable(vol), sandbox._metatables.ObjectVolume)
    -- get, list and refresh answer the same kind of handle
    assert.equal(sandbox._metatables.ObjectVolume, getmetatable(porter.volumes.get("media-data")))
    local kinds = {}
    for _, v in ipairs(porter.volumes.list()) do kinds[v.id] = tostring(v):match("^(%a+)%(") end
    assert.equal("ObjectVolume", kinds[vol.id])
    assert.equal("object", vol:refresh().type)
    local r = run({ ["/media"] = vol.id }, "cat /media/in/seed.txt && echo made > /media/out.txt && echo ok")
    assert.equal(0, r.exit_code, r.stderr)
    assert.equal("seedok\n", r.stdout)
    assert.equal("made\n", process.read_all(bucket .. "/data/out.txt"))
    -- what is outside the prefix stays out of sight
    r = run({ ["/media"] = vol.id }, "ls /media")
    assert.equal("in\nout.txt\n", r.stdout)
    vol:delete()
    -- the bucket's files outlive the volume
    assert.equal("made\n", process.read_all(bucket .. "/data/out.txt"))
  end)

  it("has no file methods: each says why, and the files API refuses too", function()
    local vol = porter.volumes.create { type = "object", object = { bucket = "media", prefix = "nofiles" } }
    for _, call in ipairs {
      function() return vol:read_file("/x") end, function() return vol:write_file("/x", "y") end,
      function() return vol:listdir("/") end, function() return vol:read_text("/x") end,
      function() return vol:download_dir("/", shelf) end,
    } do
      local e = helpers.raises(call)
      assert.equal("ArgumentError", e.name)
      assert.matches("an object volume has no file methods: its files live in bucket media/nofiles", e.message)
    end
    -- the raw API, as another client would call it
    local e = helpers.raises(porter.raw.volumes.read_volume_file, vol.id, { path = "/x" })
    assert.equal(409, e.status_code)
    assert.matches("is an object volume", e.message)
    vol:delete()
  end)

  it("mounts read_only volumes read-only inside, and a read_only bucket takes no other", function()
    local vol = porter.volumes.create { type = "object", object = { bucket = "media", prefix = "data", access = "read_only" } }
    local r = run({ ["/ro"] = vol.id }, "cat /ro/in/seed.txt; echo x > /ro/new.txt 2>&1; rm /ro/in/seed.txt 2>&1; echo; ls /ro/in")
    assert.matches("^seed.*Read%-only file system.*Read%-only file system", r.stdout .. r.stderr)
    assert.matches("seed.txt\n$", r.stdout)
    assert.is_nil(io.open(bucket .. "/data/new.txt"))
    vol:delete()
    local e = helpers.raises(porter.volumes.create, { type = "object", object = { bucket = "archive" } })
    assert.matches("registered read_only: it takes read_only volumes only", e.message)
    local ro = porter.volumes.create { type = "object", object = { bucket = "archive", access = "read_only" } }
    r = run({ ["/a"] = ro.id }, "touch /a/x 2>&1")
    assert.matches("Read%-only file system", r.stdout .. r.stderr)
    ro:delete()
  end)

  it("refuses what it cannot do or does not know, naming the field", function()
    local cases = {
      { { type = "object" }, "'object' is required for a volume of type object" },
      { { type = "object", object = { bucket = "nope" } }, "no bucket 'nope' is registered with this server" },
      { { type = "object", object = { bucket = "media", prefix = "../up" } }, "'object.prefix' must be" },
      { { type = "object", object = { bucket = "media", prefix = "/lead" } }, "'object.prefix' must be" },
      { { type = "object", object = { bucket = "media", access = "write_only_new_files" } }, "write_only_new_files cannot be enforced" },
      { { object = { bucket = "media" } }, "'object' is for volumes of type object" },
    }
    for _, c in ipairs(cases) do
      local e = helpers.raises(porter.volumes.create, c[1])
      assert.matches(c[2], e.message, 1, true)
    end
    -- and the SDK refuses a bad access before sending anything
    local e = helpers.raises(porter.volumes.create, { type = "object", object = { bucket = "media", access = "rw" } })
    assert.equal("ArgumentError", e.name)
    assert.matches("access", e.message)
  end)
end)
