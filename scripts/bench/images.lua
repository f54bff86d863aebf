-- lua5.4 scripts/bench/images.lua BUILD ROUNDS: porter-sandboxd's images beside their
-- baselines, measured in the same run on this machine:
--   first pull of a ~30 MB image from a loopback registry  vs  skopeo copy + umoci unpack
--   create-to-running from the cached image               vs  bwrap true, runc run true
local sandbox = require "porter_sandbox"
local oci = require "spec.support.oci"
local registry = require "spec.support.registry"
local process = require "spec.support.process"
local cjson = require "cjson"
local sh = process.shquote
local build, rounds = arg[1], tonumber(arg[2])
local now = sandbox._now

local median = require("scripts.bench.stats").median

local function timed(cmd)
  local t0 = now()
  oci.run(cmd)
  return now() - t0
end

local work = process.tmpdir()
local reg = registry.start()
local ok, err = pcall(function()
  -- ~30 MB that does not compress, in three files, over busybox
  local extra = {}
  for i = 1, 3 do
    local f = io.open("/dev/urandom", "rb")
    extra[i] = { path = "data/blob" .. i, data = f:read(10 * 1024 * 1024) }
    f:close()
  end
  table.insert(extra, 1, { path = "data/", type = "dir" })
  local layout = oci.layout(work .. "/big", { oci.busybox_layer(), extra }, {})
  local ref = reg.host .. "/bench/big:1"
  oci.push(layout, ref)

  local base, ours = {}, {}
  for i = 1, rounds do
    local d = work .. "/base" .. i
    oci.run("mkdir -p " .. sh(d))
    base[i] = timed(("skopeo copy --quiet --src-tls-verify=false %s oci:%s/l:img && umoci unpack --image %s/l:img %s/bundle")
      :format(sh("docker://" .. ref), sh(d), sh(d), sh(d)))
    if i < rounds then oci.run("rm -rf " .. sh(d)) end
    local s = work .. "/state" .. i
    ours[i] = timed(("%s/porter-sandboxd image --state-dir %s pull %s"):format(build, sh(s), sh(ref)))
    if i < rounds then oci.run("rm -rf " .. sh(s)) end
  end
  local b, o = median(base), median(ours)
  print(("first pull, 30 MB image, loopback registry : %7.1f ms   (skopeo copy + umoci unpack: %.1f ms; %.2fx)")
    :format(o * 1000, b * 1000, o / b))

  -- the same rootfs under runc, running /bin/true
  local bundle = work .. "/base" .. rounds .. "/bundle"
  local f = assert(io.open(bundle .. "/config.json"))
  local spec = cjson.decode(f:read("a"))
  f:close()
  spec.process.args = { "/bin/true" }
  spec.process.terminal = false
  oci.write(bundle .. "/config.json", cjson.encode(spec))

  local state = work .. "/state" .. rounds
  local srv = process.spawn { build .. "/porter-sandboxd", "--listen", "127.0.0.1:0", "--print-url", "--state-dir", state,
                              "--image-fallback", "none" }
  local url = process.wait_line(srv, "(http://[%d%.]+:%d+)")
  local porter = sandbox.Porter { base_url = url }
  local create, exec = {}, {}
  for i = 1, rounds * 4 + 1 do
    local t0 = now()
    local sb = porter.sandboxes.create { image = ref }
    local st
    repeat st = sb:refresh(); sandbox.sleep(0.0005) until st.phase ~= "queued" and st.phase ~= "creating"
    assert(st.phase == "running", st.phase)
    local t1 = now()
    sb:exec { "true" }
    local t2 = now()
    sb:terminate()
    if i > 1 then create[#create + 1], exec[#exec + 1] = t1 - t0, t2 - t1 end -- the first warms up
    sandbox.sleep(0.05) -- one at a time, as a script makes them: the warm launchers are refilled
  end
  process.stop(srv)
  local n = rounds * 4
  local bw = tonumber(oci.run(("%s/bench/timecmd %d bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev true")
    :format(build, n)))
  local rc = tonumber(oci.run(("%s/bench/timecmd %d runc run -b %s porter-bench"):format(build, n, sh(bundle))))
  local c = median(create)
  print(("create-to-running, cached image, p50      : %7.2f ms   (bwrap true %.2f ms: %.2fx; runc run %.2f ms: %.2fx)")
    :format(c * 1000, bw * 1000, c / bw, rc * 1000, c / rc))
  print(("exec round trip (true), p50               : %7.2f ms"):format(median(exec) * 1000))
end)
reg:stop()
os.execute("rm -rf " .. sh(work))
if not ok then error(err, 0) end
