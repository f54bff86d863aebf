-- The reference manual covers the API: every public name the module, a client, its
-- namespaces, the raw client, the handles and the error classes have at run time has an
-- entry in docs/porter_sandbox.luadoc, and LDoc builds it (as luv checks its docs).
local helpers = require("spec.helpers")
local sandbox = require("porter_sandbox")

local root = os.getenv("PORTER_ROOT") or "."

local function documented()
  local f = assert(io.open(root .. "/docs/porter_sandbox.luadoc"))
  local text = f:read("a")
  f:close()
  local names = {}
  for kind, name in text:gmatch("@(%a+)%s+([%w_%.:]+)") do
    if kind == "function" or kind == "field" or kind == "table" or kind == "option" then names[name] = true end
  end
  return names, text
end

local function public(t)
  local out = {}
  for k in pairs(t) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" and k ~= "raw" then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end

describe("the reference manual", function()
  local names, text = documented()
  local missing = {}
  local function need(name) if not names[name] then missing[#missing + 1] = name end end

  it("has an entry for every public name", function()
    for _, k in ipairs(public(sandbox)) do need(k) end
    local porter = sandbox.Porter { base_url = "http://127.0.0.1:1" }
    for _, ns in ipairs { "sandboxes", "volumes", "snapshots", "health", "readiness" } do
      for _, fn in ipairs(public(porter[ns])) do need(ns .. "." .. fn) end
    end
    for class, mt in pairs { Sandbox = sandbox._metatables.Sandbox, Volume = sandbox._metatables.Volume,
                             Porter = sandbox._metatables.Porter, AsyncPorter = sandbox._metatables.AsyncPorter } do
      for _, m in ipairs(public(mt.methods)) do need(class .. ":" .. m) end
    end
    -- every option the clients take, as the refusal of an unknown one lists them
    local ok, e = pcall(sandbox.AsyncPorter, { base_url = "http://x", bogus = 1 })
    assert.is_false(ok)
    for opt in e.message:match("%(expected one of: (.-)%)"):gmatch("[%w_]+") do need(opt) end
    porter:close()
    assert.same({}, missing)
  end)

  it("names every operation of the raw client", function()
    local porter = sandbox.Porter { base_url = "http://127.0.0.1:1" }
    local absent = {}
    for _, group in ipairs { "sandboxes", "volumes", "snapshots", "health", "readiness" } do
      for op in pairs(porter.raw[group]) do
        if not text:find("`" .. op .. "`", 1, true) then absent[#absent + 1] = op end
      end
    end
    porter:close()
    table.sort(absent)
    assert.same({}, absent)
  end)

  it("builds with LDoc", function()
    local out = helpers.process.tmpdir()
    -- ldoc and the tools it runs are not instrumented: no sanitizer runtime preloaded into them
    local h = io.popen(("cd %s/docs && env -u LD_PRELOAD ldoc -c config.ld -d %s . 2>&1"):format(helpers.process.shquote(root),
      helpers.process.shquote(out)))
    local log = h:read("a")
    assert.is_true(h:close(), log)
    local html = helpers.process.read_all(out .. "/index.html")
    os.execute("rm -rf " .. helpers.process.shquote(out))
    for _, name in ipairs { "Sandbox:wait_exit", "Volume:upload_dir", "sandboxes.each", "ConnectionError" } do
      assert.truthy(html:find(name, 1, true), name)
    end
    -- its Markdown rendered (lua-markdown): code as code, `<close>` shown, no raw backtick
    assert.is_nil(log:find("format: markdown not found", 1, true), log)
    assert.truthy(html:find("<code>local sb &lt;close&gt;", 1, true), "<close> in code")
    local tick = html:find("`", 1, true)
    assert.is_nil(tick, tick and html:sub(tick - 80, tick + 80))
  end)
end)
