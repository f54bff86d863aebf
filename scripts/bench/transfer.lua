-- lua5.4 scripts/bench/transfer.lua URL ROUNDS: upload_dir and download_dir against
-- porter-sandboxd, beside curl doing the same transfers in the same run, one by one (one curl
-- over one connection) and 4 at once (--parallel): 1000 files of 64 KiB, and one file of
-- 1 GiB. Medians; the SDK's peak RSS.
local sandbox = require("porter_sandbox")
local socket = require("socket")
local url, rounds = arg[1], tonumber(arg[2] or "3")
local porter = sandbox.Porter { base_url = url, timeout = 600 }
local work = os.tmpname()
os.remove(work)
assert(os.execute("mkdir -p " .. work .. "/small " .. work .. "/big"))
local chunk = ("b"):rep(64 * 1024)
for i = 1, 1000 do
  local f = assert(io.open(("%s/small/f%04d"):format(work, i), "wb"))
  f:write(chunk)
  f:close()
end
assert(os.execute("head -c 1073741824 /dev/urandom > " .. work .. "/big/one.bin"))

local median = require("scripts.bench.stats").median
local function timed(fn)
  local t0 = socket.gettime()
  fn()
  return socket.gettime() - t0
end
local function sh(cmd) assert(os.execute(cmd), cmd) end

local hwm_reset, hwm = require("scripts.bench.stats").rss_reset, require("scripts.bench.stats").rss_peak

local function curl_config(path, lines)
  local f = assert(io.open(path, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
end

for _, case in ipairs { { "small", "1000 x 64 KiB" }, { "big", "1 x 1 GiB" } } do
  local dir, label = case[1], case[2]
  local names = {}
  for name in io.popen("ls " .. work .. "/" .. dir):lines() do names[#names + 1] = name end
  local up, down, cup, cdown, sup, sdown, peak = {}, {}, {}, {}, {}, {}, 0
  for r = 1, rounds do
    local vol = porter.volumes.create {}
    hwm_reset()
    up[r] = timed(function() vol:upload_dir(work .. "/" .. dir, "/t") end)
    local out = work .. "/out" .. r
    down[r] = timed(function() vol:download_dir("/t", out) end)
    peak = math.max(peak, hwm())
    sh("cmp -s " .. work .. "/" .. dir .. "/" .. names[1] .. " " .. out .. "/" .. names[1])
    sh("rm -rf " .. out)
    local cvol = porter.volumes.create {}
    local ups, downs = {}, {}
    for _, name in ipairs(names) do
      local u = ("%s/v1/volume/%s/files/content?path=/t/%s"):format(url, cvol.id, name)
      ups[#ups + 1] = ('url = "%s"\nupload-file = "%s/%s/%s"\noutput = "/dev/null"'):format(u, work, dir, name)
      downs[#downs + 1] = ('url = "%s"\noutput = "%s/cout/%s"'):format(u, work, name)
    end
    curl_config(work .. "/up.cfg", ups)
    curl_config(work .. "/down.cfg", downs)
    sup[r] = timed(function() sh("curl -sf -K " .. work .. "/up.cfg") end)
    sh("mkdir -p " .. work .. "/cout")
    sdown[r] = timed(function() sh("curl -sf -K " .. work .. "/down.cfg") end)
    sh("rm -rf " .. work .. "/cout")
    cup[r] = timed(function() sh("curl -sf --no-progress-meter --parallel --parallel-max 4 -K " .. work .. "/up.cfg") end)
    sh("mkdir -p " .. work .. "/cout")
    cdown[r] = timed(function() sh("curl -sf --no-progress-meter --parallel --parallel-max 4 -K " .. work .. "/down.cfg") end)
    sh("rm -rf " .. work .. "/cout")
    vol:delete()
    cvol:delete()
  end
  local u, d, cu, cd, su, sd = median(up), median(down), median(cup), median(cdown), median(sup), median(sdown)
  print(("%-14s upload_dir   : %7.3f s   curl one by one: %7.3f s (%.2fx faster)   curl --parallel: %7.3f s (%.2fx the time)")
    :format(label, u, su, su / u, cu, u / cu))
  print(("%-14s download_dir : %7.3f s   curl one by one: %7.3f s (%.2fx faster)   curl --parallel: %7.3f s (%.2fx the time)   peak RSS %d MiB")
    :format(label, d, sd, sd / d, cd, d / cd, peak // 1024))
end
porter:close()
sh("rm -rf " .. work)
