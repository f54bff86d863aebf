-- lua5.4 scripts/bench/lists.lua BUILD [ROUNDS [ENDED [LIVE]]]: list requests against a store
-- of ENDED (100,000) ended sandboxes and LIVE (1000) live ones, beside the same requests on an
-- empty store in the same run. The history is written into the store with sqlite3 (a real
-- server's schema, its triggers keeping the counts); the live ones are real sandboxes. Each
-- number is the median of ROUNDS rounds of 1000 sequential requests (bench/curl_get, keep-alive).
local sandbox = require "porter_sandbox"
local sandboxd = require "spec.support.sandboxd"
local median = require("scripts.bench.stats").median
local build, rounds = arg[1] or "build", tonumber(arg[2]) or 5
local ended, live = tonumber(arg[3]) or 100000, tonumber(arg[4]) or 1000
-- requests a round: an empty store answers in 40-70 us, and 200 of them (10 ms) moved with
-- whatever else the machine did in those milliseconds by up to 1.7x between runs
local PER_ROUND = 1000

local HISTORY = [[
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)
INSERT INTO sandboxes(id, name, image, spec, tags, phase, exit_code, created_ms, started_ms, host, finished_ms)
SELECT printf('sb_old%%07d', i), printf('old-%%07d', i),
       CASE i %% 3 WHEN 0 THEN 'python:3.12-slim' WHEN 1 THEN 'node:20' ELSE 'host' END, '{}',
       printf('{"team":"t%%d","env":"e%%d"}', i %% 50, i %% 3),
       CASE i %% 3 WHEN 0 THEN 'succeeded' WHEN 1 THEN 'failed' ELSE 'terminated' END, 0,
       1700000000000 + i * 1000, 1700000000500 + i * 1000, '', 1700000000900 + i * 1000 FROM c;
]]

local requests = {
  { "page 1, tag filter (team=t7)", "tag=team%3Dt7" },
  { "page 1, phase filter (running)", "phase=running" },
  { "page 1, search (name prefix)", "search=live-00" },
  { "page 1, include_filter_values", "include_filter_values=true" },
  { "page 1, no filter", "" },
}

-- page 40 asked on its own, then right after page 39 as a client walking the pages does (one
-- curl, keep-alive, after a first request that opens the connection): it starts where page 39
-- ended instead of skipping 39 pages
local function time_walk(url)
  local direct, after = {}, {}
  for r = 1, rounds * 4 do
    local q = url .. "/v1/sandbox?tag=team%3Dt7&page="
    local p = io.popen(("curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null -w '%%{time_total}\\n' " ..
                        "'%s1' '%s40' '%s39' '%s40'"):format(q, q, q, q))
    local t = {}
    for i = 1, 4 do t[i] = p:read("*n") end
    p:close()
    direct[r], after[r] = t[2], t[4]
  end
  return median(direct), median(after)
end

local function time_requests(url)
  local out = {}
  for i, q in ipairs(requests) do
    local t = {}
    for r = 1, rounds do
      local p = io.popen(("%s/bench/curl_get '%s/v1/sandbox?%s' %d"):format(build, url, q[2], PER_ROUND))
      t[r] = p:read("*n") / PER_ROUND
      p:close()
    end
    out[i] = median(t)
  end
  out[#requests + 1], out[#requests + 2] = time_walk(url)
  return out
end

local function start_live(url, prefix)
  local a = sandbox.AsyncPorter { base_url = url, max_connections = 16 }
  local tasks = {}
  for i = 1, live do
    tasks[i] = function()
      -- loopback only (an empty allow list): what is measured is the store, not 1000 slirp4netns
      local sb = a.sandboxes.create { image = "host", name = ("%s-%05d"):format(prefix, i), tags = { team = "t7" },
                                      command = { "sleep", "3600" }, egress = { allowed_destinations = {} } }
      sb:wait { timeout = 300 }
    end
  end
  a:gather(tasks)
  a:close()
end

-- the empty store: a fresh server with nothing in it but what each request filters on
local empty = sandboxd.start { args = { "--image-fallback", "none", "--memory-commit", "4000G" } }
local ok, err = pcall(function()
  local base = time_requests(empty.url)
  empty:stop()
  empty = nil

  local full = sandboxd.start { args = { "--image-fallback", "none", "--memory-commit", "4000G" } }
  local ok2, err2 = pcall(function()
    full:restart(function(state)
      assert(os.execute(("sqlite3 '%s/state.db' \"%s\""):format(state, HISTORY:format(ended):gsub('"', '\\"'))))
    end)
    start_live(full.url, "live")
    local got = time_requests(full.url)
    print(("%-36s %12s %16s %8s"):format("request", "empty store", ("%dk ended + %d live"):format(ended // 1000, live), "ratio"))
    local names = {}
    for i, q in ipairs(requests) do names[i] = q[1] end
    names[#names + 1] = "page 40 on its own, tag filter (curl)"
    names[#names + 1] = "page 40 after page 39 (curl)"
    for i, name in ipairs(names) do
      print(("%-36s %9.2f ms %13.2f ms %7.2fx"):format(name, base[i] * 1000, got[i] * 1000, got[i] / base[i]))
    end
  end)
  full:stop()
  if not ok2 then error(err2, 0) end
end)
if empty then empty:stop() end
if not ok then error(err, 0) end
