-- porter-sandboxd's lists as the store grows: every filter the contract has answered from an
-- index, tags from a table of their own, totals and filter values from counts kept as records
-- change. What a user checks: each filter finds exactly what it should (a name prefix, not a
-- LIKE pattern; tags with '=' and spaces), totals and filter values follow phases as
-- sandboxes end, pages hold no gaps, and a store from before these tables answers the same.
local helpers = require("spec.helpers")
local sh = helpers.process.shquote

describe("porter-sandboxd lists", function()
  local srv
  setup(function() srv = helpers.sandboxd { args = { "--image-fallback", "none" } } end)
  teardown(function() srv:stop() end)

  local function list(query)
    local r = srv:get("/v1/sandbox?" .. query)
    assert.equal(200, r.status, r.body)
    return r.json
  end
  local function names(query)
    local out = {}
    for i, s in ipairs(list(query).sandboxes) do out[i] = s.name end
    return out
  end

  local ids = {}
  local function made(name, tags, command)
    ids[name] = srv:run { image = "host", name = name, tags = tags, command = command or { "true" } }
    return ids[name]
  end

  it("finds by name prefix, tag, image and phase, and keeps totals and filter values as phases move", function()
    made("alpha-1", { team = "a" })
    made("alpha-2", { team = "a", env = "x y" })
    made("alp-x", { team = "b", k = "v=2" })
    made("beta", { team = "b" })
    made("b-1", { team = "c" })
    local live = made("live-1", { team = "a" }, { "sleep", "300" })
    for name, id in pairs(ids) do srv:wait(id, name == "live-1" and "running" or "succeeded") end

    -- names: a prefix, exactly (LIKE's wildcards are characters like any other)
    assert.same({ "alp-x", "alpha-2", "alpha-1" }, names("search=alp"))
    assert.same({ "alpha-2", "alpha-1" }, names("search=alpha"))
    assert.same({ "b-1", "beta" }, names("search=b"))
    assert.same({}, names("search=%25"))
    assert.same({}, names("search=_"))
    assert.same({}, names("search=%C3%BC%FF"))
    -- tags: each filter must hold, keys and values with '=' and spaces
    assert.same({ "live-1", "alpha-2", "alpha-1" }, names("tag=team%3Da"))
    assert.same({ "alpha-2" }, names("tag=team%3Da&tag=env%3Dx%20y"))
    assert.same({ "alp-x" }, names("tag=k%3Dv%3D2"))
    assert.same({}, names("tag=team%3Dz"))
    -- phases and their totals
    local running = list("phase=running")
    assert.same({ "live-1" }, { running.sandboxes[1].name, running.sandboxes[2] })
    assert.same({ current_page = 1, total_pages = 1, has_next_page = false }, running.pagination)
    assert.equal(5, #list("phase=succeeded").sandboxes)
    assert.equal(6, #list("phase=succeeded&phase=running").sandboxes)
    assert.equal(3, #list("image=host&tag=team%3Da&phase=succeeded&phase=running").sandboxes)
    -- filter values: every tag, image and phase some record has
    local fv = list("include_filter_values=true").filter_values
    assert.same({ "env=x y", "k=v=2", "team=a", "team=b", "team=c" }, fv.tags)
    assert.same({ "host" }, fv.images)
    assert.same({ "running", "succeeded" }, fv.phases)

    -- the live one ends: the kept counts follow
    srv:terminate(live)
    srv:wait(live, "terminated")
    assert.same({}, list("phase=running").sandboxes)
    assert.same({ current_page = 1, total_pages = 1, has_next_page = false }, list("phase=running").pagination)
    assert.same({ "succeeded", "terminated" }, list("include_filter_values=true").filter_values.phases)
    assert.equal(6, #list("").sandboxes)
  end)

  it("pages past 50 without gaps or repeats, with its totals from the kept counts", function()
    local seen, made_ids = {}, {}
    for i = 1, 53 do made_ids[i] = srv:run { image = "host", command = { "true" }, tags = { batch = "paging" } } end
    for _, id in ipairs(made_ids) do srv:wait(id, "succeeded") end
    local total = #list("").sandboxes -- page 1 of everything: 50
    assert.equal(50, total)
    local p1, p2 = list("page=1"), list("page=2")
    assert.same({ current_page = 2, total_pages = 2, has_next_page = false }, p2.pagination)
    for _, page in ipairs { p1, p2 } do
      for _, s in ipairs(page.sandboxes) do
        assert.is_nil(seen[s.id], "listed twice: " .. s.id)
        seen[s.id] = true
      end
    end
    assert.equal(53 + 6, #p1.sandboxes + #p2.sandboxes) -- these and the first spec's six
    assert.equal(made_ids[53], p1.sandboxes[1].id)
    -- a page after a page: the same as counting from the top, also when a record came between
    local again = list("page=2")
    assert.same(p2.sandboxes, again.sandboxes)
    local newest = srv:run { image = "host", command = { "true" } }
    srv:wait(newest, "succeeded")
    local shifted = list("page=2") -- where page 1 ended before is not where it ends now
    assert.equal(p1.sandboxes[50].id, shifted.sandboxes[1].id)
    assert.equal(#p2.sandboxes + 1, #shifted.sandboxes)
    -- a name search pages the same way, newest first, without gaps or repeats: every sandbox
    -- made without a name is named for its id
    local by_search = {}
    for _, pg in ipairs { list("search=sb_&page=1"), list("search=sb_&page=2") } do
      for _, s in ipairs(pg.sandboxes) do by_search[#by_search + 1] = s.id end
    end
    local unnamed = {}
    for _, pg in ipairs { list("page=1"), list("page=2") } do
      for _, s in ipairs(pg.sandboxes) do
        if s.name == s.id then unnamed[#unnamed + 1] = s.id end
      end
    end
    assert.equal(54, #by_search)
    assert.same(unnamed, by_search)
    assert.same({ current_page = 2, total_pages = 2, has_next_page = false }, list("search=sb_&page=2").pagination)
    assert.equal(4, #list("search=sb_&page=2").sandboxes)
    -- a phase that moves takes its rows out of a filtered walk, as counting would
    local running = srv:run { image = "host", command = { "sleep", "300" }, tags = { batch = "paging" } }
    srv:wait(running, "running")
    assert.equal(running, list("tag=batch%3Dpaging&phase=running").sandboxes[1].id)
    srv:terminate(running)
    srv:wait(running, "terminated")
    assert.same({}, list("tag=batch%3Dpaging&phase=running").sandboxes)
    assert.same({ current_page = 2, total_pages = 2, has_next_page = false }, list("tag=batch%3Dpaging&page=2").pagination)
    assert.equal(4, #list("tag=batch%3Dpaging&page=2").sandboxes) -- 53 and the terminated one
  end)

  it("pages a search of many names newest first, whatever order the names sort in", function()
    -- 130 names whose order is not their age's (h-000, h-037, h-074, ...): the newest of them
    -- are picked from the names' index, not read off in its order
    local made_ids = {}
    for i = 0, 129 do
      made_ids[#made_ids + 1] = srv:run { image = "host", command = { "true" }, name = ("h-%03d"):format(i * 37 % 130) }
    end
    for _, id in ipairs(made_ids) do srv:wait(id, "succeeded") end
    local got = {}
    for page = 1, 3 do
      local r = list("search=h-&page=" .. page)
      assert.same({ current_page = page, total_pages = 3, has_next_page = page < 3 }, r.pagination)
      for _, sb in ipairs(r.sandboxes) do got[#got + 1] = sb.id end
    end
    local newest_first = {}
    for i = #made_ids, 1, -1 do newest_first[#newest_first + 1] = made_ids[i] end
    assert.same(newest_first, got)
  end)

  it("answers a search from names kept in order, alone or beside other filters, across a restart", function()
    -- "q" sorts before the names that begin with it, "qa-b" between "qa" and "qb"
    for _, name in ipairs { "qa", "qa-b", "qb", "q" } do made(name, { team = "q" }) end
    for _, name in ipairs { "qa", "qa-b", "qb", "q" } do srv:wait(ids[name], "succeeded") end
    local function searches()
      assert.same({ "q", "qb", "qa-b", "qa" }, names("search=q"))
      assert.same({ "qa-b", "qa" }, names("search=qa"))
      assert.same({ "qa-b" }, names("search=qa-"))
      assert.same({}, names("search=qc"))
      assert.same({}, names("search=qa-b-"))
      assert.same({ current_page = 1, total_pages = 1, has_next_page = false }, list("search=qa").pagination)
      -- beside another filter: the same matches, through the store's indexes
      assert.same({ "q", "qb", "qa-b", "qa" }, names("search=q&image=host"))
      assert.same({ "qa-b", "qa" }, names("search=qa&phase=succeeded"))
      assert.same({ "qa-b", "qa" }, names("search=qa&tag=team%3Dq"))
      assert.same({}, names("search=qa&phase=running"))
    end
    searches()
    -- a name refused (taken) is not one more match
    assert.equal(409, srv:request("POST", "/v1/sandbox/run", { image = "host", name = "qa" }).status)
    searches()
    srv:restart() -- the names are read back from the store
    searches()
    srv:wait(made("qa-c", { team = "q" }), "succeeded")
    assert.same({ "qa-c", "qa-b", "qa" }, names("search=qa"))
  end)

  it("lists a record's text as JSON whatever bytes the store holds for it", function()
    -- a store written by hand or by another version: quotes, a backslash, control bytes, UTF-8
    -- and a byte that is none of it, in a field the server itself fills (host)
    local id = made("odd", { team = "o" })
    srv:wait(id, "succeeded")
    srv:restart(function(state)
      local sql = [[UPDATE sandboxes SET host = 'i"m\g' || char(1) || char(127) || 'é' || CAST(x'ff' AS TEXT) || 'end' ]] ..
                  "WHERE id = '" .. id .. "'"
      assert(os.execute("sqlite3 " .. sh(state .. "/state.db") .. " " .. sh(sql)))
    end)
    local r = srv:get("/v1/sandbox?search=odd")
    assert.equal(200, r.status)
    assert.equal('i"m\\g\1\127é\u{FFFD}end', r.json.sandboxes[1].host)
    assert.truthy(r.body:find([["host":"i\"m\\g\u0001\u007fé]] .. "\u{FFFD}" .. [[end"]], 1, true), r.body)
  end)

  it("answers the same from a store made before the list tables, once it has indexed it", function()
    local before = list("include_filter_values=true")
    local team_a = names("tag=team%3Da")
    srv:restart(function(state)
      local sql = "DELETE FROM sandbox_tags; DELETE FROM tag_counts; DELETE FROM image_counts; DELETE FROM phase_counts; " ..
                  "PRAGMA user_version = 0;"
      assert(os.execute("sqlite3 " .. sh(state .. "/state.db") .. " " .. sh(sql)))
    end)
    local after = list("include_filter_values=true")
    assert.same(before.filter_values, after.filter_values)
    assert.same(before.pagination, after.pagination)
    assert.same(team_a, names("tag=team%3Da"))
  end)
end)
