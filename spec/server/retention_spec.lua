-- The bounds of history: a server that runs sandboxes forever keeps at most --max-ended ended
-- ones and --log-space of log files; past either, the oldest ended sandboxes go (record, lines,
-- log file), never a live one, and their names stay taken.
local helpers = require("spec.helpers")
local process = helpers.process

describe("porter-sandboxd retention", function()
  local function log_files(srv)
    local p = io.popen("ls " .. process.shquote(srv.state_dir .. "/logs") .. " 2>/dev/null")
    local out = {}
    for name in p:lines() do out[name] = true end
    p:close()
    return out
  end
  local function ended(srv, n, script, prefix)
    local ids = {}
    for i = 1, n do
      ids[i] = srv:run { image = "host", name = ("%s-%d"):format(prefix, i), command = { "sh", "-c", script } }
      srv:wait(ids[i], "succeeded")
    end
    return ids
  end

  it("keeps the newest --max-ended ended sandboxes, never a live one, and no pruned name comes back", function()
    local srv = helpers.sandboxd { args = { "--image-fallback", "none", "--max-ended", "3" } }
    local ok, err = pcall(function()
      local live = srv:run { image = "host", name = "live", command = { "sleep", "300" } }
      srv:wait(live, "running")
      local ids = ended(srv, 5, "echo kept", "old")
      -- the two oldest are gone, with their lines and log files
      for i = 1, 2 do
        assert.equal(404, srv:get("/v1/sandbox/" .. ids[i]).status)
        assert.equal(404, srv:get("/v1/sandbox/" .. ids[i] .. "/logs").status)
        assert.is_nil(log_files(srv)[ids[i]])
      end
      for i = 3, 5 do assert.equal("kept", srv:logs_text(ids[i])) end
      local listed = {}
      for _, s in ipairs(srv:get("/v1/sandbox").json.sandboxes) do listed[#listed + 1] = s.name end
      assert.same({ "old-5", "old-4", "old-3", "live" }, listed)
      local found = {}
      for _, s in ipairs(srv:get("/v1/sandbox?search=old-").json.sandboxes) do found[#found + 1] = s.name end
      assert.same({ "old-5", "old-4", "old-3" }, found) -- a search knows nothing of the pruned
      assert.equal(4, #srv:get("/v1/sandbox?include_filter_values=true").json.sandboxes)
      assert.same({ "running", "succeeded" }, srv:get("/v1/sandbox?include_filter_values=true").json.filter_values.phases)
      -- a name is never reused, pruned or not
      local again = srv:request("POST", "/v1/sandbox/run", { image = "host", name = "old-1" })
      assert.equal(409, again.status)
      assert.matches("names are never reused", again.body)
      assert.equal("running", srv:get("/v1/sandbox/" .. live).json.phase)
    end)
    srv:stop()
    assert(ok, err)
  end)

  it("counts in a search only the sandboxes kept: 50 left of 52 are one page, not two", function()
    local srv = helpers.sandboxd { args = { "--image-fallback", "none", "--max-ended", "50" } }
    local ok, err = pcall(function()
      local ids = {}
      for i = 1, 52 do ids[i] = srv:run { image = "host", name = ("gone-%02d"):format(i), command = { "true" } } end
      for _, id in ipairs(ids) do srv:wait(id, "succeeded") end
      for i = 1, 2 do assert.equal(404, srv:get("/v1/sandbox/" .. ids[i]).status) end
      local r = srv:get("/v1/sandbox?search=gone-").json
      assert.same({ current_page = 1, total_pages = 1, has_next_page = false }, r.pagination)
      assert.equal(50, #r.sandboxes)
      assert.equal("gone-52", r.sandboxes[1].name)
      assert.equal("gone-03", r.sandboxes[50].name)
    end)
    srv:stop()
    assert(ok, err)
  end)

  it("keeps the log files of all sandboxes within --log-space, pruning the oldest ended ones", function()
    local srv = helpers.sandboxd { args = { "--image-fallback", "none", "--log-space", "256K" } }
    local ok, err = pcall(function()
      -- a live sandbox's lines stay, whatever the others print after them
      local live = srv:run { image = "host", name = "quiet", command = { "sh", "-c", "echo still here; sleep 300" } }
      srv:wait(live, "running")
      -- each prints about 100 KiB of lines
      local ids = ended(srv, 6, "i=0; while [ $i -lt 1000 ]; do printf '%099d\\n' $i; i=$((i+1)); done", "loud")
      assert.equal("still here", srv:logs_text(live))
      -- the log files are the server's alone: another account reads none of them
      local p = io.popen("stat -c %a " .. process.shquote(srv.state_dir .. "/logs") .. " " ..
                         process.shquote(srv.state_dir .. "/logs/" .. live))
      assert.equal("700\n600\n", p:read("a"))
      p:close()
      local total = 0
      local p = io.popen("du -sb " .. process.shquote(srv.state_dir .. "/logs") .. " | cut -f1")
      total = p:read("*n")
      p:close()
      assert.is_true(total <= 256 * 1024 + 4096, total .. " bytes of log files")
      assert.equal(404, srv:get("/v1/sandbox/" .. ids[1]).status)
      assert.equal(1000, #srv:get("/v1/sandbox/" .. ids[6] .. "/logs").json.logs)
      assert.equal(ids[6], srv:get("/v1/sandbox").json.sandboxes[1].id)
      -- a restart counts what is there again: still within the bound, nothing more pruned
      srv:restart()
      assert.equal(1000, #srv:get("/v1/sandbox/" .. ids[6] .. "/logs").json.logs)
    end)
    srv:stop()
    assert(ok, err)
  end)
end)
