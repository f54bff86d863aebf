-- The sandbox network's speed: a 100 MB download from the lab's public test host and the
-- connect time to it, from a sandbox with the default network (through slirp4netns and the
-- sandbox's nftables rules) beside curl run in the server's own namespace, in the same run.
-- The lab is spec/support/netlab.lua's: no packet leaves the machine.
-- usage: lua5.4 scripts/bench/network.lua BUILD ROUNDS
local cjson = require("cjson")
local netlab = require("spec.support.netlab")
local sandboxd = require("spec.support.sandboxd")
local process = require("spec.support.process")
local sh = process.shquote

local build, rounds = arg[1] or "build", tonumber(arg[2] or "5")
local MB = tonumber(os.getenv("NET_MB") or "100")

local median = require("scripts.bench.stats").median

local lab = netlab.start()
local ok, err = pcall(function()
  local www = lab.dir .. "/www/198.51.100.1"
  os.execute(("head -c %d /dev/urandom > %s"):format(MB * 1000000, sh(www .. "/big.bin")))
  local srv = sandboxd.start { wrap = function(argv) return lab:wrap(argv) end }
  local function api(method, path, body)
    local out = lab:sh("srv", ("curl -s -m 120 -X %s %s http://127.0.0.1:%d%s"):format(method,
      body and ("-H 'content-type: application/json' -d " .. sh(cjson.encode(body))) or "", srv.port, path))
    return out ~= "" and cjson.decode(out) or nil
  end
  local id = api("POST", "/v1/sandbox/run", { image = "host" }).id
  for _ = 1, 500 do
    if api("GET", "/v1/sandbox/" .. id).phase == "running" then break end
    process.sleep(0.02)
  end
  local function in_sandbox(cmd)
    return api("POST", "/v1/sandbox/" .. id .. "/exec", { command = { "sh", "-c", cmd } }).stdout
  end
  local function on_host(cmd) return (lab:sh("srv", cmd)) end
  local get = "curl -s -o /dev/null -w '%{time_total}' http://198.51.100.1/big.bin"
  local conn = "curl -s -o /dev/null -w '%{time_connect}' http://198.51.100.1/"
  local t = { host = {}, sandbox = {}, chost = {}, csandbox = {} }
  for _ = 1, rounds do
    t.host[#t.host + 1] = tonumber(on_host(get))
    t.sandbox[#t.sandbox + 1] = tonumber(in_sandbox(get))
  end
  for _ = 1, rounds * 4 do
    t.chost[#t.chost + 1] = tonumber(on_host(conn))
    t.csandbox[#t.csandbox + 1] = tonumber(in_sandbox(conn))
  end
  local h, s = median(t.host), median(t.sandbox)
  print(("curl in the server's namespace : %7.0f MB/s"):format(MB / h))
  print(("curl in a sandbox (default)    : %7.0f MB/s   (%.2fx the host's throughput)"):format(MB / s, h / s))
  local ch, cs = median(t.chost), median(t.csandbox)
  print(("connect, server's namespace    : %7.3f ms"):format(ch * 1000))
  print(("connect, sandbox               : %7.3f ms   (+%.3f ms)"):format(cs * 1000, (cs - ch) * 1000))
  api("DELETE", "/v1/sandbox/" .. id)
  srv:stop()
end)
lab:stop()
if not ok then error(err, 0) end
