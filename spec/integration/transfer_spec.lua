-- Whole trees in and out of a volume against the real porter-sandboxd: upload_dir and
-- download_dir, several files in flight, progress over the whole transfer, symlinks kept in
-- their tree; progress on write_file and stream.
local helpers = require("spec.helpers")
local sandbox = require("porter_sandbox")
local process = helpers.process
local sh = process.shquote

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local d = f:read("a")
  f:close()
  return d
end

-- a recorder of progress calls that checks they only ever go forward
local function recorder()
  local calls = {}
  return calls, function(done, total, path)
    local prev = calls[#calls]
    assert(math.type(done) == "integer" and math.type(total) == "integer", "integers")
    assert(done <= total, done .. " > " .. total)
    if prev then assert(done >= prev.done, "progress went back from " .. prev.done .. " to " .. done) end
    calls[#calls + 1] = { done = done, total = total, path = path }
  end
end

describe("directory transfers against porter-sandboxd", function()
  local server, porter, work
  setup(function()
    server = helpers.sandboxd()
    porter = sandbox.Porter { base_url = server.url }
    work = process.tmpdir()
  end)
  teardown(function()
    porter:close()
    server:stop()
    os.execute("rm -rf " .. sh(work))
  end)

  local function tree(dir)
    assert(os.execute("mkdir -p " .. sh(dir .. "/a/b") .. " " .. sh(dir .. "/c")))
    write(dir .. "/top.txt", "top\n")
    write(dir .. "/a/x.bin", ("\0\1\2\255"):rep(300000))
    write(dir .. "/a/b/deep.txt", "deep\n")
    write(dir .. "/c/empty.txt", "")
    assert(os.execute("ln -s a/b/deep.txt " .. sh(dir .. "/inside-link") .. " && ln -s /etc/passwd " .. sh(dir .. "/outside-link") ..
                      " && ln -s a " .. sh(dir .. "/dir-link")))
  end

  it("uploads and downloads a tree byte for byte, reporting progress over the whole of it", function()
    local src, dst = work .. "/src", work .. "/dst"
    tree(src)
    local vol = porter.volumes.create {}
    local calls, progress = recorder()
    local up = vol:upload_dir(src, "/data", { progress = progress })
    assert.equal(5, up.files)
    assert.equal(4 + 1200000 + 5 + 0 + 5, up.bytes)
    table.sort(up.skipped)
    assert.same({ "dir-link", "outside-link" }, up.skipped)
    assert.is_true(#calls >= 5)
    assert.equal(up.bytes, calls[#calls].done)
    assert.equal(up.bytes, calls[#calls].total)
    assert.matches("^/data/", calls[#calls].path)
    assert.equal("deep\n", vol:read_text("/data/inside-link"))
    assert.equal(("\0\1\2\255"):rep(300000), vol:read_file("/data/a/x.bin"))

    calls, progress = recorder()
    local down = vol:download_dir("/data", dst, { progress = progress, concurrency = 2 })
    assert.equal(5, down.files)
    assert.equal(up.bytes, calls[#calls].done)
    assert.equal(up.bytes, calls[#calls].total)
    for _, rel in ipairs { "top.txt", "a/x.bin", "a/b/deep.txt", "c/empty.txt" } do
      assert.equal(read(src .. "/" .. rel), read(dst .. "/" .. rel), rel)
    end
    assert.equal("deep\n", read(dst .. "/inside-link"))
    assert.is_nil(read(dst .. "/outside-link"))
  end)

  -- several at once through an AsyncPorter; on Lua 5.1, which has none, one after another
  local at_once = sandbox.HAS_ASYNC
  it(at_once and "has several files in flight at once" or "moves the files one after another on Lua 5.1", function()
    local src = work .. "/many"
    assert(os.execute("mkdir -p " .. sh(src)))
    for i = 1, 8 do write(src .. "/f" .. i, ("x"):rep(4 * 1024 * 1024)) end
    local vol = porter.volumes.create {}
    local seen, interleaved = {}, false
    vol:upload_dir(src, "/", { concurrency = 4, progress = function(_, _, path)
      -- a file reported again after another one started: both were moving at once
      if seen[#seen] ~= path then
        for _, p in ipairs(seen) do if p == path then interleaved = true end end
        seen[#seen + 1] = path
      end
    end })
    assert.equal(at_once, interleaved, "files seen in this order: " .. table.concat(seen, " "))
  end)

  it("never writes through a symlink that is already in the local directory", function()
    local vol = porter.volumes.create {}
    vol:write_file("/a/secret.txt", "from the volume")
    local dst, outside = work .. "/trap", work .. "/outside"
    assert(os.execute("mkdir -p " .. sh(dst) .. " " .. sh(outside) .. " && ln -s " .. sh(outside) .. " " .. sh(dst .. "/a")))
    local e = helpers.raises(vol.download_dir, vol, "/", dst)
    assert.matches("cannot enter a directory of 'a'", e.message, 1, true)
    assert.is_nil(read(outside .. "/secret.txt"))
  end)

  it("refuses bad arguments before sending anything", function()
    local vol = porter.volumes.create {}
    assert.equal("ArgumentError", helpers.raises(vol.upload_dir, vol, "", "/").name)
    assert.equal("Volume:upload_dir: unknown option 'speed' (expected one of: progress, concurrency)",
      helpers.raises(vol.upload_dir, vol, work, "/", { speed = 1 }).message)
    assert.matches("'concurrency' must be", helpers.raises(vol.download_dir, vol, "/", work, { concurrency = 0 }).message)
    assert.matches("'progress' must be", helpers.raises(vol.write_file, vol, "/x", "y", { progress = 5 }).message)
  end)

  it("reports progress on write_file from a file handle and on stream", function()
    local path = work .. "/one.bin"
    write(path, ("z"):rep(5 * 1024 * 1024 + 7))
    local vol = porter.volumes.create {}
    local calls, progress = recorder()
    local f = assert(io.open(path, "rb"))
    vol:write_file("/one.bin", f, { progress = progress })
    f:close()
    assert.equal(5 * 1024 * 1024 + 7, calls[#calls].done)
    assert.equal(5 * 1024 * 1024 + 7, calls[#calls].total)
    assert.equal("/one.bin", calls[#calls].path)
    calls, progress = recorder()
    local got = {}
    for chunk in vol:stream("/one.bin", { progress = progress }) do got[#got + 1] = chunk end
    assert.equal(5 * 1024 * 1024 + 7, #table.concat(got))
    assert.equal(3, #calls) -- one a chunk of 2 MiB
    assert.same({ done = 5 * 1024 * 1024 + 7, total = 5 * 1024 * 1024 + 7, path = "/one.bin" }, calls[3])
  end)

  it("raises what a progress function raises, and stops the transfer", function()
    local vol = porter.volumes.create {}
    local big = ("q"):rep(4 * 1024 * 1024)
    local ok, e = pcall(vol.write_file, vol, "/p.bin", big, { progress = function() error({ mine = true }) end })
    assert.is_false(ok)
    assert.same({ mine = true }, e)
  end)
end)
