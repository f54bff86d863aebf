-- porter-sandboxd runs the image asked for: references pulled from a real registry on
-- loopback (Debian's docker-registry), cached, imported from archives; the image's config
-- honoured; a writable root per sandbox; hostile layers refused; fallback to the host image.
local helpers = require("spec.helpers")
local oci = require("spec.support.oci")
local process = helpers.process
local sh = process.shquote

-- the sandbox's log lines, each after its level
local function logs_text(server, id)
  local t = {}
  for _, l in ipairs(server:get("/v1/sandbox/" .. id .. "/logs").json.logs) do
    t[#t + 1] = l.level .. ": " .. l.line
  end
  return table.concat(t, "\n")
end

describe("porter-sandboxd images", function()
  local reg, srv, work
  local x755 = tonumber("755", 8)

  -- a two-layer image with every config item and every layer feature a spec can check
  local function full_image()
    local l1 = oci.busybox_layer {
      { path = "etc/removed.txt", data = "lower\n" },
      { path = "opq/", type = "dir" }, { path = "opq/a", data = "a" }, { path = "opq/b", data = "b" },
      { path = "data/", type = "dir" }, { path = "data/orig.txt", data = "original\n" },
      { path = "data/hard.txt", type = "hardlink", target = "data/orig.txt" },
      { path = "link", target = "data/orig.txt" },
      { path = "etc/marker", data = "layer1\n" },
    }
    local l2 = {
      { path = "etc/.wh.removed.txt", data = "" },
      { path = "opq/", type = "dir" }, { path = "opq/.wh..wh..opq", data = "" }, { path = "opq/c", data = "c" },
      { path = "etc/marker", data = "layer2\n" },
    }
    return oci.layout(work .. "/full", { l1, l2 }, {
      Entrypoint = { "/bin/sh", "-c" }, Cmd = { "echo from-cmd > /tmp/which; sleep 1000" },
      Env = { "PATH=/bin", "MSG=from-image", "OVERRIDE=image" }, WorkingDir = "/work/dir", User = "app",
    })
  end

  setup(function()
    work = process.tmpdir()
    reg = helpers.registry()
    srv = helpers.sandboxd { args = { "--image-fallback", "none", "--disk-max", "16M" } }
    oci.push(full_image(), reg.host .. "/test/full:1")
    oci.push(oci.layout(work .. "/plain", { oci.busybox_layer() }, {}), reg.host .. "/test/plain:1")
  end)
  teardown(function()
    srv:stop()
    reg:stop()
    os.execute("rm -rf " .. sh(work))
  end)

  local function run(spec, server) return (server or srv):run(spec) end
  local function exec(id, cmd, server) return (server or srv):exec(id, cmd) end

  local function sh_out(id, script) return exec(id, { "sh", "-c", script }).stdout end

  describe("an image with two layers and a full config", function()
    local id, args_id
    setup(function()
      id = run { image = reg.host .. "/test/full:1", env = { OVERRIDE = "spec" } }
      srv:wait(id, "running")
    end)

    it("is the image's root, not the host's", function()
      assert.equal("layer2\n", sh_out(id, "cat /etc/marker"))
      assert.equal("", sh_out(id, "ls /usr 2>/dev/null; ls /etc/shadow 2>/dev/null"))
      assert.equal(1, exec(id, { "test", "-e", "/lib/x86_64-linux-gnu/libc.so.6" }).exit_code)
    end)

    it("applies whiteouts and opaque directories", function()
      assert.equal(1, exec(id, { "test", "-e", "/etc/removed.txt" }).exit_code)
      assert.equal("c\n", sh_out(id, "ls /opq"))
    end)

    it("keeps symlinks and hard links", function()
      assert.equal("data/orig.txt\n", sh_out(id, "readlink /link"))
      assert.equal("original\n", sh_out(id, "cat /link"))
      local a, b = sh_out(id, "stat -c %i /data/orig.txt; stat -c %i /data/hard.txt"):match("(%d+)\n(%d+)")
      assert.equal(a, b)
      assert.equal("2\n", sh_out(id, "stat -c %h /data/hard.txt"))
    end)

    it("runs as the image's User, in its WorkingDir, for exec too", function()
      assert.equal("1000 1000\n", sh_out(id, "echo $(id -u) $(id -g)"))
      assert.equal("/work/dir\n", sh_out(id, "pwd"))
      assert.equal("/home/app\n", sh_out(id, "echo $HOME"))
    end)

    it("answers an exec whose working directory the sandbox removed with 125, saying so", function()
      local own = run { image = reg.host .. "/test/full:1" }
      srv:wait(own, "running")
      sh_out(own, "cd / && rmdir /work/dir")
      local r = srv:request("POST", "/v1/sandbox/" .. own .. "/exec", { command = { "pwd" } }).json
      assert.equal(125, r.exit_code)
      assert.matches("cannot enter the working directory /work/dir", r.stderr, 1, true)
      srv:terminate(own)
    end)

    it("puts the image's Env first and the spec's env over it", function()
      local env = sh_out(id, "env")
      assert.matches("MSG=from%-image", env)
      assert.matches("OVERRIDE=spec", env)
      assert.matches("PATH=/bin\n", env)
    end)

    it("keeps the ENTRYPOINT and replaces the CMD with args", function()
      args_id = run { image = reg.host .. "/test/full:1", args = { "pwd > /tmp/which; id -u >> /tmp/which; sleep 1000" } }
      srv:wait(args_id, "running")
      local out
      for _ = 1, 100 do
        out = sh_out(args_id, "cat /tmp/which 2>/dev/null")
        if out:find("1000") then break end
        process.sleep(0.02)
      end
      assert.equal("/work/dir\n1000\n", out)
    end)
  end)

  it("drops the CMD when the spec gives a command, and the workload's exit code is its own", function()
    local cid = run { image = reg.host .. "/test/full:1", command = { "/bin/sh", "-c", 'echo "[$1]"; exit 3' } }
    local st
    for _ = 1, 200 do
      st = srv:get("/v1/sandbox/" .. cid).json
      if st.phase == "failed" or st.phase == "succeeded" then break end
      process.sleep(0.02)
    end
    assert.equal("failed", st.phase)
    assert.equal(3, st.exit_code)
    assert.matches("info: %[%]", logs_text(srv, cid))
  end)

  describe("a writable root per sandbox", function()
    it("pulls once for two sandboxes and keeps their writes apart", function()
      local a = run { image = reg.host .. "/test/plain:1" }
      local b = run { image = reg.host .. "/test/plain:1" }
      srv:wait(a, "running")
      srv:wait(b, "running")
      assert.equal(0, exec(a, { "sh", "-c", "echo mine > /etc/written; mkdir -p /usr/local/x" }).exit_code)
      assert.equal("mine\n", sh_out(a, "cat /etc/written"))
      assert.equal(1, exec(b, { "test", "-e", "/etc/written" }).exit_code)
      local fetched = reg:blob_fetches()
      local n = 0
      for digest, count in pairs(fetched) do
        assert.equal(1, count, digest .. " fetched " .. count .. " times")
        n = n + 1
      end
      assert.is_true(n >= 2, "the registry saw the pulls") -- each image's layers and configs
      -- the store's copy of the image is untouched, and a third sandbox starts from it
      local c = run { image = reg.host .. "/test/plain:1" }
      srv:wait(c, "running")
      assert.equal(1, exec(c, { "test", "-e", "/etc/written" }).exit_code)
      assert.equal(1, reg:blob_fetches()[next(fetched)])
      for _, id in ipairs { a, b, c } do srv:terminate(id) end
      -- their writable layers go with them
      for _, id in ipairs { a, b, c } do assert.is_nil(io.open(srv.state_dir .. "/sandboxes/" .. id, "r")) end
    end)

    it("bounds what the sandbox writes to its root and /tmp together (--disk-max), off the host's disk", function()
      local id = run { image = reg.host .. "/test/plain:1" }
      srv:wait(id, "running")
      local before = tonumber(oci.run("du -sk " .. sh(srv.state_dir) .. " | cut -f1"))
      local r = exec(id, { "sh", "-c", "dd if=/dev/zero of=/big bs=1M count=12 2>/dev/null; " ..
                                       "dd if=/dev/zero of=/tmp/big bs=1M count=12 2>&1; echo rc=$?" })
      assert.matches("No space left on device", r.stdout)
      assert.matches("rc=1", r.stdout)
      -- the sandbox lives on, can free its space and write again
      assert.equal(0, exec(id, { "sh", "-c", "rm /tmp/big && echo ok > /tmp/small && cat /tmp/small" }).exit_code)
      local after = tonumber(oci.run("du -sk " .. sh(srv.state_dir) .. " | cut -f1"))
      assert.is_true(after - before < 1024, "the state dir grew by " .. (after - before) .. " KiB")
      srv:terminate(id)
    end)

    it("is kept in a snapshot: a sandbox started from it has the root's changes, the image stays as it was", function()
      oci.push(oci.layout(work .. "/snap", { oci.busybox_layer {
        { path = "etc/removed.txt", data = "image\n" }, { path = "etc/marker", data = "image\n" },
        { path = "opq/", type = "dir" }, { path = "opq/a", data = "a" }, { path = "opq/b", data = "b" },
        { path = "gone/", type = "dir" }, { path = "gone/f", data = "f\n" },
      } }, {}), reg.host .. "/test/snap:1")
      local image = reg.host .. "/test/snap:1"
      local id = run { image = image, command = { "sleep", "1000" } }
      srv:wait(id, "running")
      -- a file added, one changed, one deleted, a directory deleted, one made anew over the
      -- image's (overlayfs's opaque directory), a directory renamed, a new tree, a link, an owner
      assert.equal(0, exec(id, { "sh", "-c", "echo added > /etc/added && echo changed > /etc/marker && rm /etc/removed.txt && " ..
                                             "rm -rf /gone /opq && mkdir /opq && echo c > /opq/c && mkdir -p /usr/local/lib && " ..
                                             "echo lib > /usr/local/lib/x && ln -s /etc/added /linked && chown 1000:50 /etc/added && " ..
                                             "mv /home/app /home/moved && echo t > /tmp/t" }).exit_code)
      local r = srv:request("POST", "/v1/sandbox/" .. id .. "/snapshot", {})
      assert.equal(201, r.status, r.body)
      assert.equal("ready", r.json.status)
      local from = run { image = "", snapshot_id = r.json.id, command = { "sleep", "1000" } }
      local st = srv:wait(from, "running")
      assert.equal(image, st.image)
      local check = "cat /etc/added /etc/marker; test -e /etc/removed.txt || echo removed; test -e /gone || echo gone; " ..
                    "ls /opq; cat /usr/local/lib/x; readlink /linked; stat -c '%u %g' /etc/added; ls /home; cat /tmp/t"
      assert.equal("added\nchanged\nremoved\ngone\nc\nlib\n/etc/added\n1000 50\nmoved\nt\n", sh_out(from, check))
      -- its changes are its own: they land in its writable layer, not in the snapshot or the image
      assert.equal(0, exec(from, { "sh", "-c", "echo again > /etc/marker && rm /opq/c" }).exit_code)
      local second = run { image = "", snapshot_id = r.json.id, command = { "sleep", "1000" } }
      srv:wait(second, "running")
      assert.equal("changed\nc\n", sh_out(second, "cat /etc/marker; ls /opq"))
      local fresh = run { image = image, command = { "sleep", "1000" } }
      srv:wait(fresh, "running")
      assert.equal("image\nimage\na\nb\nf\napp\n", sh_out(fresh, "cat /etc/marker /etc/removed.txt; ls /opq; cat /gone/f; ls /home"))
      for _, s in ipairs { id, from, second, fresh } do srv:terminate(s) end
      assert.equal(204, srv:request("DELETE", "/v1/snapshot/" .. r.json.id).status)
      assert.is_nil(io.open(srv.state_dir .. "/snapshots/" .. r.json.id .. ".root.tar", "r"))
    end)

    it("mounts a volume anywhere, creating the mount point in the sandbox's own layer", function()
      local vol = srv:request("POST", "/v1/volume", {}).json.id
      local id = run { image = reg.host .. "/test/plain:1", volume_mounts = { ["/usr/share/data"] = vol } }
      srv:wait(id, "running")
      assert.equal(0, exec(id, { "sh", "-c", "echo from-sandbox > /usr/share/data/f.txt" }).exit_code)
      local r = srv:get("/v1/volume/" .. vol .. "/files/content?path=/f.txt")
      assert.equal("from-sandbox\n", r.body)
      -- and what the files API writes, the sandbox's root may change
      assert.equal(204, srv:request("PUT", "/v1/volume/" .. vol .. "/files/content?path=/d/g.txt", "from-api").status)
      assert.equal(0, exec(id, { "sh", "-c", "echo more >> /usr/share/data/d/g.txt && touch /usr/share/data/d/h" }).exit_code)
      srv:terminate(id)
    end)
  end)

  describe("hostile images", function()
    local outside = process.tmpdir() -- the cases below name it
    teardown(function() os.execute("rm -rf " .. sh(outside)) end)

    local cases = {
      { "dotdot", { { { path = "../../../../../../.." .. outside .. "/dotdot", data = "x" } } }, "'..'" },
      { "absolute", { { { path = outside .. "/absolute", data = "x" } } }, "absolute" },
      { "symlink-then-write", { { { path = "evil", target = outside } }, { { path = "evil/pwned", data = "x" } } }, "symlink" },
      { "symlink-same-layer", { { { path = "evil", target = outside }, { path = "evil/pwned2", data = "x" } } }, "symlink" },
      { "device", { { { path = "dev/", type = "dir" }, { path = "dev/sda", type = "block", major = 8, minor = 0 } } }, "device" },
      { "hardlink-out", { { { path = "shadow", type = "hardlink", target = "/etc/shadow" } } }, "hard link" },
      { "hardlink-dotdot", { { { path = "h", type = "hardlink", target = "../../../etc/passwd" } } }, "hard link" },
      { "foreign-uid", { { { path = "f", data = "x", uid = 70000 } } }, "beyond" },
    }
    for _, case in ipairs(cases) do
      it("refuses a layer that tries " .. case[1], function()
        local name = "test/hostile-" .. case[1] .. ":1"
        local layers = { oci.busybox_layer() }
        for _, l in ipairs(case[2]) do layers[#layers + 1] = l end
        oci.push(oci.layout(work .. "/" .. case[1], layers, {}), reg.host .. "/" .. name)
        local id = run { image = reg.host .. "/" .. name }
        srv:wait(id, "failed")
        local logs = logs_text(srv, id)
        assert.matches("error: cannot use image", logs, 1, true)
        assert.matches(case[3], logs, 1, true)
        assert.equal("", oci.run("ls -A " .. sh(outside)))
        assert.is_nil(oci.run(helpers.build .. "/porter-sandboxd image --state-dir " .. sh(srv.state_dir) .. " ls 2>&1 || true"):find("hostile", 1, true))
        -- nothing half-unpacked stays in the store
        assert.equal("", oci.run("ls -A " .. sh(srv.state_dir .. "/images/tmp")))
      end)
    end

    it("cannot make a snapshot of its root read host files, even swapping dirs for symlinks meanwhile", function()
      local secret = "root-layer-secret-" .. os.time()
      local canary = work .. "/canary.txt"
      oci.run("printf %s " .. sh(secret) .. " > " .. sh(canary))
      local id = run { image = reg.host .. "/test/plain:1", command = { "sleep", "1000" } }
      srv:wait(id, "running")
      exec(id, { "sh", "-c", "ln -s / /hostroot && ln -s " .. sh(canary) .. " /canary && mkdir -p /a/b && echo mine > /a/b/f" })
      exec(id, { "sh", "-c", "(i=0; while [ $i -lt 20000 ]; do mkdir -p /x/y && echo s > /x/y/f; rm -rf /x; ln -s / /x; rm /x; " ..
                             "i=$((i+1)); done) >/dev/null 2>&1 &" })
      local snap
      for _ = 1, 3 do
        local r = srv:request("POST", "/v1/sandbox/" .. id .. "/snapshot", {})
        assert.equal(201, r.status, r.body)
        local tar = srv.state_dir .. "/snapshots/" .. r.json.id .. ".root.tar"
        local bytes = process.read_all(tar)
        assert.is_nil(bytes:find(secret, 1, true))
        local listing = oci.run("tar -tvf " .. sh(tar))
        assert.matches("hostroot %-> /", listing)
        -- a link swapped in may be followed, but only ever to the packer's root, the layer
        -- itself (x/a/b/f say): never to a host file, nor the image's (its /etc/passwd)
        assert.is_nil(listing:find("etc/passwd", 1, true), listing)
        assert.is_nil(listing:find("usr/", 1, true), listing)
        assert.is_nil(listing:find("bin/", 1, true), listing)
        snap = r.json.id
      end
      assert.is_true(process.alive(srv.proc))
      srv:terminate(id)
      -- restored, the links lead into the new sandbox's own root
      local from = run { image = "", snapshot_id = snap, command = { "sleep", "1000" } }
      srv:wait(from, "running")
      local out = sh_out(from, "readlink /hostroot; cat /a/b/f; cat /canary 2>&1; echo > /canary 2>&1; ls /hostroot" .. sh(work) .. " 2>&1; true")
      assert.matches("^/\nmine\n", out)
      assert.is_nil(out:find(secret, 1, true))
      assert.equal(secret, oci.run("cat " .. sh(canary)))
      srv:terminate(from)
    end)

    it("refuses a blob whose content does not match its digest", function()
      local layout = oci.layout(work .. "/tampered", { oci.busybox_layer { { path = "etc/t", data = "t" } } }, {})
      oci.push(layout, reg.host .. "/test/tampered:1")
      local file = reg:blob_file(layout.layers[1].digest)
      local f = assert(io.open(file, "r+b"))
      f:seek("set", 100)
      local byte = f:read(1)
      f:seek("set", 100)
      f:write(string.char((byte:byte() + 1) % 256))
      f:close()
      local id = run { image = reg.host .. "/test/tampered:1" }
      srv:wait(id, "failed")
      assert.matches("Digest did not match", logs_text(srv, id), 1, true)
      assert.equal("", oci.run("ls -A " .. sh(srv.state_dir .. "/images/tmp")))
    end)
  end)

  describe("image bombs and lies", function()
    -- a server whose images may unpack to 64M each, 96M all together
    local small
    setup(function()
      small = helpers.sandboxd { args = { "--image-fallback", "none", "--image-max-size", "64M", "--image-space", "96M" } }
    end)
    teardown(function() small:stop() end)

    local function store_ls() return oci.run(helpers.build .. "/porter-sandboxd image --state-dir " .. sh(small.state_dir) .. " ls") end
    -- a sandbox of image ref on the small server must fail, saying what; nothing of it kept
    local function refused(ref, says)
      local id = run({ image = ref }, small)
      small:wait(id, "failed")
      local logs = logs_text(small, id)
      assert.matches("error: cannot use image", logs, 1, true)
      assert.matches(says, logs, 1, true)
      assert.is_nil(store_ls():find(ref, 1, true))
      assert.equal("", oci.run("ls -A " .. sh(small.state_dir .. "/images/tmp")))
      assert.equal("", oci.run("ls -A " .. sh(small.state_dir .. "/images/sha256")))
    end
    -- a layer of one file of mib MiB of zeros, compressed by the command compress (a pipe),
    -- declared with diff_id (the tar's own digest unless given)
    -- a layer of mib MiB of zeros and a file holding its name: two layers made in the same
    -- second are two layers still (a tar of the zeros alone, with the same mtime, was one, and
    -- two images stored as one left room that the --image-space spec counted on being taken)
    local function zeros_layer(name, mib, compress, media, diff_id)
      local dir = work .. "/" .. name
      oci.run(("mkdir -p %s/in && truncate -s %dM %s/in/zeros && printf %%s %s > %s/in/name && tar -C %s/in -cf %s/layer.tar zeros name"):format(
        sh(dir), mib, sh(dir), sh(name), sh(dir), sh(dir), sh(dir)))
      local tar_digest = "sha256:" .. oci.sha256_file(dir .. "/layer.tar")
      oci.run(("(%s) < %s/layer.tar > %s/layer.blob && rm %s/layer.tar"):format(compress, sh(dir), sh(dir), sh(dir)))
      return { blob = dir .. "/layer.blob", media = media, diff_id = diff_id or tar_digest }
    end

    it("refuses a zstd layer that unpacks past --image-max-size", function()
      local bomb = zeros_layer("zstd-bomb", 256, "zstd -3 -q -c", "application/vnd.oci.image.layer.v1.tar+zstd")
      assert.is_true(#process.read_all(bomb.blob) < 100 * 1024, "a small blob")
      oci.push(oci.layout(work .. "/zstd-bomb/layout", { oci.busybox_layer(), bomb }, {}), reg.host .. "/test/zstd-bomb:1")
      refused(reg.host .. "/test/zstd-bomb:1", "the image unpacks to more than 67108864 bytes (--image-max-size)")
    end)

    it("refuses a doubly gzipped layer that unpacks past the bound", function()
      local bomb = zeros_layer("gzip-bomb", 256, "gzip -1 -n -c | gzip -9 -n -c", "application/vnd.oci.image.layer.v1.tar+gzip")
      assert.is_true(#process.read_all(bomb.blob) < 100 * 1024, "a small blob")
      oci.push(oci.layout(work .. "/gzip-bomb/layout", { oci.busybox_layer(), bomb }, {}), reg.host .. "/test/gzip-bomb:1")
      refused(reg.host .. "/test/gzip-bomb:1", "the image unpacks to more than 67108864 bytes")
    end)

    it("refuses a layer whose content is not its diff_id", function()
      local liar = zeros_layer("liar", 1, "gzip -n -c", "application/vnd.oci.image.layer.v1.tar+gzip", "sha256:" .. ("ab"):rep(32))
      oci.push(oci.layout(work .. "/liar/layout", { oci.busybox_layer(), liar }, {}), reg.host .. "/test/liar:1")
      refused(reg.host .. "/test/liar:1", "layer 2: its content (sha256:")
      refused(reg.host .. "/test/liar:1", "is not what the image's config says it is (diff_id sha256:abababababab...)")
    end)

    it("refuses more than 128 layers", function()
      local layers = { oci.busybox_layer() }
      for i = 1, 128 do layers[#layers + 1] = { { path = "l" .. i, data = tostring(i) } } end
      oci.save(oci.layout(work .. "/tall", layers, {}), "oci-archive", work .. "/tall.tar", "test/tall:1")
      local out = oci.run(helpers.build .. "/porter-sandboxd image --state-dir " .. sh(small.state_dir) .. " import "
        .. sh(work .. "/tall.tar") .. " 2>&1; echo rc=$?")
      assert.matches("the image has 129 layers, more than 128", out, 1, true)
      assert.matches("rc=1\n$", out)
      assert.equal("", oci.run("ls -A " .. sh(small.state_dir .. "/images/sha256")))
    end)

    it("keeps all images within --image-space, with room again once one is removed", function()
      for _, n in ipairs { 1, 2 } do
        local l = zeros_layer("fill" .. n, 40, "gzip -n -c", "application/vnd.oci.image.layer.v1.tar+gzip")
        oci.push(oci.layout(work .. "/fill" .. n .. "/layout", { oci.busybox_layer(), l }, {}), reg.host .. "/test/fill" .. n .. ":1")
      end
      -- each started (so stored), then ended: an image a live sandbox runs cannot be removed
      local function started(ref)
        local id = run({ image = ref, command = { "sleep", "60" } }, small)
        small:wait(id, "running")
        small:terminate(id)
      end
      started(reg.host .. "/test/fill1:1")
      started(reg.host .. "/test/fill2:1") -- 82M of 96M now
      local l3 = zeros_layer("fill3", 40, "gzip -n -c", "application/vnd.oci.image.layer.v1.tar+gzip")
      oci.push(oci.layout(work .. "/fill3/layout", { oci.busybox_layer(), l3 }, {}), reg.host .. "/test/fill3:1")
      local third = run({ image = reg.host .. "/test/fill3:1" }, small)
      small:wait(third, "failed")
      assert.matches("what --image-space leaves", logs_text(small, third), 1, true)
      assert.is_nil(store_ls():find("fill3", 1, true))
      oci.run(helpers.build .. "/porter-sandboxd image --state-dir " .. sh(small.state_dir) .. " rm " .. reg.host .. "/test/fill1:1")
      started(reg.host .. "/test/fill3:1")
      assert.matches("test/fill3:1", store_ls(), 1, true)
    end)
  end)

  describe("the store from the command line", function()
    local function image_cmd(args)
      return oci.run(helpers.build .. "/porter-sandboxd image --state-dir " .. sh(srv.state_dir) .. " " .. args)
    end

    for _, kind in ipairs { "docker-archive", "oci-archive" } do
      it("imports a " .. kind .. " and runs it with no registry involved", function()
        local layout = oci.layout(work .. "/" .. kind, { oci.busybox_layer { { path = "etc/origin", data = kind } } }, {})
        local archive = work .. "/" .. kind .. ".tar"
        oci.save(layout, kind, archive, "offline/" .. kind .. ":7")
        local printed = image_cmd("import " .. sh(archive))
        assert.equal("docker.io/offline/" .. kind .. ":7\n", printed)
        local id = run { image = "offline/" .. kind .. ":7" }
        srv:wait(id, "running")
        assert.equal(kind, sh_out(id, "cat /etc/origin"))
        assert.matches("docker.io/offline/" .. kind .. ":7", image_cmd("ls"), 1, true)
        srv:terminate(id)
      end)
    end

    it("names an import as told, pulls, lists and removes", function()
      local layout = oci.layout(work .. "/named", { oci.busybox_layer { { path = "etc/origin", data = "named" } } }, {})
      oci.save(layout, "oci-archive", work .. "/named.tar")
      assert.has_error(function() image_cmd("import " .. sh(work .. "/named.tar")) end)
      assert.equal("docker.io/library/named:latest\n", image_cmd("import " .. sh(work .. "/named.tar") .. " named"))
      assert.equal(reg.host .. "/test/plain:1\n", image_cmd("pull " .. reg.host .. "/test/plain:1"))
      local list = image_cmd("ls")
      assert.matches("docker.io/library/named:latest", list, 1, true)
      assert.matches(reg.host .. "/test/plain:1", list, 1, true)
      local live = run { image = "named" }
      srv:wait(live, "running")
      assert.has_error(function() image_cmd("rm named") end) -- a live sandbox runs it
      srv:terminate(live)
      image_cmd("rm named")
      assert.is_nil(image_cmd("ls"):find("library/named", 1, true))
      -- gone from the store: with --image-fallback none a sandbox of it fails, saying why
      local id = run { image = "named" }
      srv:wait(id, "failed")
      assert.matches("cannot use image 'named'", logs_text(srv, id), 1, true)
    end)
  end)

  it("speaks plain HTTP to a registry on localhost, as Docker does", function()
    local port = reg.host:match(":(%d+)$")
    local id = run { image = "localhost:" .. port .. "/test/plain:1" }
    srv:wait(id, "running")
    assert.equal("0\n", sh_out(id, "id -u"))
  end)

  it("refuses references Docker would refuse, naming the field", function()
    for _, bad in ipairs { "", "UPPER/case", "a::b", "name@sha256:123", "x:" .. string.rep("t", 200), string.rep("n", 600) } do
      local r = srv:request("POST", "/v1/sandbox/run", { image = bad })
      assert.equal(400, r.status, bad)
      assert.matches("'image'", r.json.message or r.body, 1, true)
    end
  end)

  describe("an image that cannot be had", function()
    local fb
    setup(function() fb = helpers.sandboxd() end)
    teardown(function() fb:stop() end)

    it("falls back to the host image by default, with a warning that says why", function()
      local id = run({ image = "127.0.0.1:1/nowhere/image:1" }, fb)
      fb:wait(id, "running")
      local logs = logs_text(fb, id)
      assert.matches("warning: image '127.0.0.1:1/nowhere/image:1' could not be used (", logs, 1, true)
      assert.matches("running on the host image instead", logs, 1, true)
      assert.matches("connection refused", logs, 1, true)
      assert.equal(0, exec(id, { "test", "-e", "/usr/bin/env" }, fb).exit_code)
      assert.matches("could not be used", process.read_all(fb.proc.stderr), 1, true)
    end)

    it("fails the sandbox instead with --image-fallback none", function()
      local id = run { image = "127.0.0.1:1/nowhere/image:1" }
      srv:wait(id, "failed")
      assert.matches("error: cannot use image '127.0.0.1:1/nowhere/image:1': cannot fetch the image", logs_text(srv, id), 1, true)
    end)
  end)
end)
