-- Bad input is refused with an ArgumentError naming the field, before any request: the client
-- points at a closed port, so anything that got as far as sending would be a SandboxError.
local sandbox = require("porter_sandbox")
local helpers = require("spec.helpers")
local raises = helpers.raises

describe("argument checks", function()
  local porter
  before_each(function() porter = sandbox.Porter { base_url = "http://127.0.0.1:1", max_retries = 0 } end)
  after_each(function() porter:close() end)

  local function refused(expected, fn, ...)
    local e = raises(fn, ...)
    assert.equal("ArgumentError", e.name, tostring(e))
    assert.equal(expected, e.message)
  end

  it("checks sandbox specs field by field", function()
    local c = porter.sandboxes.create
    refused("sandboxes.create: 'image' is required (a string)", c, { name = "x" })
    refused("sandboxes.create: expected a sandbox spec table (got nil)", c)
    refused("sandboxes.create: 'image' must be a string (got number)", c, { image = 3 })
    refused("sandboxes.create: 'name' must be a DNS label: 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit (got the string \"My_Box\")",
      c, { image = "i", name = "My_Box" })
    refused("sandboxes.create: 'volume_mounts./data' must be a string (got number)", c, { image = "i", volume_mounts = { ["/data"] = 1 } })
  end)

  it("names nested fields and array items", function()
    local c = porter.sandboxes.create
    refused("sandboxes.create: 'env.PORT' must be a string (got number)", c, { image = "i", env = { PORT = 8080 } })
    refused("sandboxes.create: 'command[2]' must be a string (got boolean)", c, { image = "i", command = { "sh", true } })
    refused("sandboxes.create: 'command' must be an array of strings (got string)", c, { image = "i", command = "ls -la" })
    -- the contract's mount-path rule, the server's too: refused before anything is sent
    for _, bad in ipairs({ "data", "/", "/a/..", "/a/./b", "/a//b", "/a/" }) do
      refused("sandboxes.create: key '" .. bad .. "' in 'volume_mounts' must be an absolute path other than /, without '.' or '..' components",
        c, { image = "i", volume_mounts = { [bad] = "vol_1" } })
    end
    refused("sandboxes.create: 'networking[1].port' must be an integer from 1024 to 65535 (got 80)",
      c, { image = "i", networking = { { port = 80 } } })
    refused("sandboxes.create: 'networking' must be an array of at most one sandbox networking spec (got 2 items)",
      c, { image = "i", networking = { { port = 8080 }, { port = 8081 } } })
    refused("sandboxes.create: 'networking[1].domains[1].visibility' must be \"public\" or \"private\" (got the string \"open\")",
      c, { image = "i", networking = { { port = 8080, domains = { { domain = "x.example", visibility = "open" } } } } })
    refused("sandboxes.create: 'ttl_seconds' must be an integer of at least 1 (got 0)", c, { image = "i", ttl_seconds = 0 })
  end)

  it("refuses unknown option names, listing the known ones", function()
    local e = raises(porter.sandboxes.create, { image = "i", enviroment = {} })
    assert.equal("ArgumentError", e.name)
    assert.matches("^sandboxes.create: unknown option 'enviroment' %(expected one of: image, snapshot_id, name, tags, command, args, env,", e.message)
  end)

  it("checks exec commands and options", function()
    local sb = porter.sandboxes.raw -- the raw client checks the same schema
    refused("exec_sandbox: 'command' must be a non-empty array of strings (got 0 items)", sb.exec_sandbox, "sb_1", { command = {} })
    refused("exec_sandbox: 'command[1]' must be a string (got number)", sb.exec_sandbox, "sb_1", { command = { 1 } })
    refused("exec_sandbox: unknown option 'tiemout' (expected one of: timeout, range, progress)", sb.exec_sandbox, "sb_1", { command = { "ls" } }, { tiemout = 1 })
    refused("get_sandbox: 'id' must be a non-empty string (got nil)", sb.get_sandbox)
    refused("get_sandbox: 'id' must be a non-empty string (got an empty string)", sb.get_sandbox, "")
  end)

  it("checks list filters, logs options, volume names and paths", function()
    refused("sandboxes.list: 'phase[1]' must be a phase (queued, creating, running, succeeded, failed or terminated) (got the string \"runing\")",
      porter.sandboxes.list, { phase = "runing" })
    refused("sandboxes.list: 'tags' must map strings to strings (got string = number)", porter.sandboxes.list, { tags = { a = 1 } })
    refused("sandboxes.list: 'page' must be an integer of at least 1 (got 0)", porter.sandboxes.list, { page = 0 })
    refused("volumes.create: 'name' must be a DNS label: 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit (got the string \"-x\")",
      porter.volumes.create, { name = "-x" })
    refused("sandboxes.get: 'name' must be a non-empty string (got nil)", porter.sandboxes.get)
    refused("volumes.get: 'name' must be a non-empty string (got number)", porter.volumes.get, 5)
  end)

  it("refuses unknown options in the same words everywhere, C or Lua", function()
    local cases = {
      { "Porter: unknown option 'retries' (expected one of: api_key, base_url, timeout, max_retries, max_response_bytes)",
        sandbox.Porter, { retries = 1 } },
      { "get_sandbox: unknown option 'retries' (expected one of: timeout, range, progress)",
        porter.raw.sandboxes.get_sandbox, "sb_1", { retries = 1 } },
    }
    local ap = helpers.clients { base_url = "http://127.0.0.1:1", max_retries = 0 }[2]
    if ap then
      cases[#cases + 1] = { "AsyncPorter: unknown option 'retries' (expected one of: api_key, base_url, timeout, max_retries, max_response_bytes, max_connections, concurrency)",
        sandbox.AsyncPorter, { retries = 1 } }
      cases[#cases + 1] = { "gather: unknown option 'retries' (expected one of: return_errors, concurrency)",
        function() return ap:gather({}, { retries = 1 }) end }
      cases[#cases + 1] = { "gather: options must be a table (got the string \"fast\")", function() return ap:gather({}, "fast") end }
    end
    for _, c in ipairs(cases) do refused(c[1], c[2], table.unpack(c, 3)) end
    if ap then ap:close() end
  end)

  it("works with ':' as well as '.' on namespaces", function()
    refused("sandboxes.create: 'image' is required (a string)", function() return porter.sandboxes:create { name = "x" } end)
  end)
end)

describe("volume paths", function()
  it("are '/'-rooted without a trailing slash", function()
    local p = sandbox._volpath
    assert.equal("/a/b", p("a/b/"))
    assert.equal("/", p(""))
    assert.equal("/", p("/"))
    assert.equal("/a/b", p("//a//b"))
    assert.equal("/x.txt", p("x.txt"))
  end)
end)
