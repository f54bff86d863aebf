-- Volume methods built on the C primitives vol:_list(path, search) and vol:read_file().
local M = {}

local function join(dir, name)
  if dir == "/" then return "/" .. name end
  return dir .. "/" .. name
end

-- A name a server may list: a single path component. Anything else ("../x", "a/b") would make
-- the walk below go where the server says, not where the volume is.
local function check_name(name, dir)
  if type(name) ~= "string" or name == "" or name == "." or name == ".." or name:find("[/%z]") then
    error(M.core.SandboxError { message = ("the server listed an entry named %q in %s: not a file name")
      :format(tostring(name), dir) }, 0)
  end
end

-- Gives every entry of a listing (and of its nested entries) its full path; iterative, as the
-- server may legitimately return trees hundreds of levels deep.
local function annotate(entries, dir)
  local todo = { { entries, dir } }
  while #todo > 0 do
    local level = table.remove(todo)
    for _, e in ipairs(level[1]) do
      check_name(e.name, level[2])
      e.path = join(level[2], e.name)
      e.is_dir, e.is_file = e.type == "directory", e.type == "file"
      e.truncated = e.truncated == true
      if e.entries then todo[#todo + 1] = { e.entries, e.path } end
    end
  end
  return entries
end

-- An entry without its nested entries, as the listing functions return them: printable as
-- FileEntry(path=..., ...).
local function shallow(e)
  local copy = {}
  for k, v in pairs(e) do
    if k ~= "entries" then copy[k] = v end
  end
  return setmetatable(copy, M.core._reprs.FileEntry)
end

local function listdir(self, path)
  path = path or "/"
  local listing = self:_list(path)
  local dir = listing.path or M.core._volpath(path)
  local out = {}
  for i, e in ipairs(annotate(listing.entries, dir)) do out[i] = shallow(e) end
  return out
end

-- Depth-first over everything below path; a directory the server marked truncated is
-- listed directly when the walk reaches it.
local function iterdir(self, path)
  path = path or "/"
  local stack = {}
  local function push_level(entries)
    for i = #entries, 1, -1 do stack[#stack + 1] = entries[i] end
  end
  local listing = self:_list(path)
  push_level(annotate(listing.entries, listing.path or M.core._volpath(path)))
  return function()
    local e = table.remove(stack)
    if not e then return nil end
    local children = e.entries
    if e.type == "directory" then
      if e.truncated then
        local sub = self:_list(e.path)
        children = annotate(sub.entries, e.path)
      end
      if children then push_level(children) end
    end
    return shallow(e)
  end
end

-- Entries whose name contains query, case-insensitively. The server prunes the tree to the
-- matches and their parents; truncated directories are not followed.
local function search(self, query, opts)
  if type(query) ~= "string" then
    error(M.core.ArgumentError { message = "Volume:search: query must be a string (got " .. type(query) .. ")" }, 2)
  end
  M.core._options("Volume:search", opts, { "path" })
  local path = opts and opts.path or "/"
  local listing = self:_list(path, query)
  local needle = query:lower()
  local out = {}
  -- depth first, in listing order, without recursion
  local stack = {}
  local function push(entries) for i = #entries, 1, -1 do stack[#stack + 1] = entries[i] end end
  push(annotate(listing.entries, listing.path or M.core._volpath(path)))
  while #stack > 0 do
    local e = table.remove(stack)
    if e.name:lower():find(needle, 1, true) then out[#out + 1] = shallow(e) end
    if e.entries then push(e.entries) end
  end
  return out
end

-- the text encodings read_text and write_text take: UTF-8, which Lua strings carry as they are
local function encoding_of(what, opts)
  local enc = opts and opts.encoding
  if enc ~= nil and (type(enc) ~= "string" or not (enc:lower() == "utf-8" or enc:lower() == "utf8")) then
    error(M.core.ArgumentError { message = what .. ": 'encoding' must be \"utf-8\" (got " .. M.core._got(enc) .. ")" }, 3)
  end
end

-- vol:read_text(path, { offset, length, encoding = "utf-8" }): the file (or that range) as text
local function read_text(self, path, opts)
  M.core._options("Volume:read_text", opts, { "offset", "length", "encoding" })
  encoding_of("Volume:read_text", opts)
  local ranged = opts and { offset = opts.offset, length = opts.length }
  local data = self:read_file(path, ranged)
  if not M.core._is_utf8(data) then
    error(M.core.SandboxError { message = "Volume:read_text: " .. path .. " is not UTF-8 text (use read_file)" }, 2)
  end
  return data
end

-- vol:write_text(path, text, { encoding = "utf-8" }): text, checked to be UTF-8, as the file
local function write_text(self, path, text, opts)
  M.core._options("Volume:write_text", opts, { "encoding" })
  encoding_of("Volume:write_text", opts)
  if type(text) ~= "string" then
    error(M.core.ArgumentError { message = "Volume:write_text: text must be a string (got " .. M.core._got(text) .. ")" }, 2)
  end
  if not M.core._is_utf8(text) then
    error(M.core.ArgumentError { message = "Volume:write_text: text is not UTF-8 (use write_file for bytes)" }, 2)
  end
  return self:write_file(path, text)
end

-- Ranged reads of chunk_size bytes until the end that Content-Range reports.
local function stream(self, path, opts)
  M.core._options("Volume:stream", opts, { "chunk_size", "progress" })
  -- 2 MiB: as fast as larger chunks over loopback, and a 1 GiB stream stays near 24 MiB of RSS
  local chunk = opts and opts.chunk_size or 2 * 1024 * 1024
  if not M.core._is_integer(chunk) or chunk < 1 then
    error(M.core.ArgumentError { message = "Volume:stream: 'chunk_size' must be a positive integer" }, 2)
  end
  local progress = opts and opts.progress
  if progress ~= nil and type(progress) ~= "function" then
    error(M.core.ArgumentError { message = "Volume:stream: 'progress' must be a function(done_bytes, total_bytes, path)" }, 2)
  end
  local offset, total, done = 0, nil, false
  local function moved(data, size)
    if progress then progress(offset, size or offset, path) end
    return data
  end
  return function()
    if done or (total and offset >= total) then return nil end
    -- the chunk before this one is garbage now: a step of the collector per chunk keeps the
    -- heap near a few chunks on every VM (5.3's pacing alone lets 1 GiB peak at ~38 MiB)
    collectgarbage("step", 0)
    local ok, data, meta = pcall(self.read_file, self, path, { offset = offset, length = chunk })
    if not ok then
      -- some servers answer an empty file's first range with 416 instead of the whole file
      if offset == 0 and type(data) == "table" and data.status_code == 416 then return nil end
      error(data, 0)
    end
    if not meta.content_range or meta.status ~= 206 then
      done = true -- the whole (or empty) file came back at once
      offset = #data
      moved(nil, #data)
      if data == "" then return nil end
      return data
    end
    -- the range must be the one asked for, and agree with the bytes that came and with the
    -- size said before: a server that lies would otherwise keep us reading forever
    local first, last, size = meta.content_range:match("^bytes (%d+)%-(%d+)/(%d+)$")
    first, last, size = tonumber(first), tonumber(last), tonumber(size)
    if not first or first ~= offset or last - first + 1 ~= #data or last >= size or (total and size ~= total)
       or #data == 0 or #data > chunk then
      done = true
      error(M.core.SandboxError { message = ("Volume:stream: the server answered Content-Range %q (%d bytes) for bytes=%d-%d of %s")
        :format(meta.content_range, #data, offset, offset + chunk - 1, path) }, 0)
    end
    total = size
    offset = offset + #data
    if #data == 0 then return nil end
    return moved(data, size)
  end
end

-- ---- whole trees ----

local function dir_argerror(what, msg) error(M.core.ArgumentError { message = what .. ": " .. msg }, 3) end

local function dir_opts(what, opts)
  M.core._options(what, opts, { "progress", "concurrency" })
  opts = opts or {}
  if opts.progress ~= nil and type(opts.progress) ~= "function" then
    dir_argerror(what, "'progress' must be a function(done_bytes, total_bytes, path)")
  end
  local n = opts.concurrency or 4
  if not M.core._is_integer(n) or n < 1 or n > 64 then dir_argerror(what, "'concurrency' must be an integer from 1 to 64") end
  return opts.progress, n
end

-- Runs fn(client) with an AsyncPorter: the volume's own when it is one (we are in a task), else
-- a twin of its Porter with the same configuration, closed afterwards.
local function with_async(self, n, fn)
  local client = M.core._client(self)
  if getmetatable(client).__name == "AsyncPorter" then return fn(client) end
  -- Lua 5.1 has no AsyncPorter: the files go one after another
  if not M.core.HAS_ASYNC then return fn(client) end
  local twin = M.core._twin(client, n)
  local ok, res = pcall(function() return twin:run(function() return fn(twin) end) end)
  twin:close()
  if not ok then error(res, 0) end
  return res
end

-- Moves the files of jobs ({remote, local, size} each) n at a time; progress sees the whole
-- transfer: done counts finished files plus what the ones in flight have moved.
local function transfer(self, what, jobs, n, progress, move)
  local total, done, moving = 0, 0, {}
  for _, j in ipairs(jobs) do total = total + j.size end
  local function report(path)
    if not progress then return end
    local d = done
    for _, now in pairs(moving) do d = d + now end
    progress(math.min(d, total), total, path)
  end
  with_async(self, n, function(client)
    local tasks = {}
    for i, j in ipairs(jobs) do
      tasks[i] = function()
        moving[i] = 0
        -- no progress asked: no callback, so that curl need not call one on every read
        move(client, j, progress and function(now) moving[i] = math.min(now, j.size); report(j.remote) end)
        moving[i] = nil
        done = done + j.size
        report(j.remote)
      end
    end
    if client.gather then
      client:gather(tasks, { concurrency = n })
    else
      for _, t in ipairs(tasks) do t() end
    end
  end)
  if progress and (total == 0 or #jobs == 0) then progress(0, 0, nil) end
  return { files = #jobs, bytes = total }
end

-- vol:upload_dir(local_dir, remote_dir, { progress, concurrency = 4 }): every regular file
-- below local_dir, streamed from disk. Symlinks to files inside the tree are uploaded as
-- those files; symlinks to directories or out of the tree, and devices, are left out
-- (listed in the answer's `skipped`).
local function upload_dir(self, local_dir, remote_dir, opts)
  local what = "Volume:upload_dir"
  if type(local_dir) ~= "string" or local_dir == "" then dir_argerror(what, "'local_dir' must be a path") end
  if type(remote_dir) ~= "string" then dir_argerror(what, "'remote_dir' must be a path") end
  local progress, n = dir_opts(what, opts)
  local base = M.core._volpath(remote_dir)
  local jobs, skipped, todo = {}, {}, { "" }
  while #todo > 0 do
    local rel = table.remove(todo)
    local dir = rel == "" and local_dir or (local_dir .. "/" .. rel)
    for _, e in ipairs(M.core._readdir(dir, local_dir)) do
      local r = rel == "" and e.name or (rel .. "/" .. e.name)
      if e.kind == "directory" then
        todo[#todo + 1] = r
      elseif e.kind == "file" or (e.kind == "symlink" and e.target_kind == "file") then
        jobs[#jobs + 1] = { remote = join(base, r), src = e.kind == "file" and r or e.target, size = e.size }
      else
        skipped[#skipped + 1] = r
      end
    end
  end
  local out = transfer(self, what, jobs, n, progress, function(client, j, moved)
    local f = M.core._open_under(local_dir, j.src, "r")
    local ok, err = pcall(client.raw.volumes.write_volume_file, self.id, { path = j.remote }, f, { progress = moved })

    f:close()
    if not ok then error(err, 0) end
  end)
  out.skipped = skipped
  return out
end

-- vol:download_dir(remote_dir, local_dir, { progress, concurrency = 4 }): every file below
-- remote_dir into local_dir (made as needed), each streamed to disk in chunks, never
-- through a symlink already in local_dir.
local function download_dir(self, remote_dir, local_dir, opts)
  local what = "Volume:download_dir"
  if type(remote_dir) ~= "string" then dir_argerror(what, "'remote_dir' must be a path") end
  if type(local_dir) ~= "string" or local_dir == "" then dir_argerror(what, "'local_dir' must be a path") end
  local progress, n = dir_opts(what, opts)
  local base = M.core._volpath(remote_dir)
  local prefix = base == "/" and 1 or #base + 1
  local jobs, dirs = {}, {}
  for e in self:iterdir(base) do
    local rel = e.path:sub(prefix + 1)
    if e.is_dir then dirs[#dirs + 1] = rel
    elseif e.is_file then jobs[#jobs + 1] = { remote = e.path, rel = rel, size = e.size_bytes or 0 } end
  end
  M.core._open_under(local_dir, "", "d")
  for _, d in ipairs(dirs) do M.core._open_under(local_dir, d, "d") end
  local chunk = 2 * 1024 * 1024
  local out = transfer(self, what, jobs, n, progress, function(client, j, moved)
    local f = M.core._open_under(local_dir, j.rel, "w")
    local ok, err = pcall(function()
      local offset = 0
      while offset < j.size do
        local last = math.min(offset + chunk, j.size) - 1
        local data = client.raw.volumes.read_volume_file(self.id, { path = j.remote },
          { range = ("bytes=%d-%d"):format(offset, last), progress = moved and function(now) moved(offset + now) end })
        if #data == 0 then break end
        assert(f:write(data))
        offset = offset + #data
      end
    end)
    f:close()
    if not ok then error(err, 0) end
  end)
  out.directories = #dirs
  return out
end

function M.install(core)
  M.core = core
  local methods = core._metatables.Volume.methods
  methods.upload_dir = upload_dir
  methods.download_dir = download_dir
  -- write_file's progress also names the file, as the directory transfers' does
  local c_write = methods.write_file
  methods.write_file = function(self, path, content, opts)
    if type(opts) == "table" and type(opts.progress) == "function" then
      local user, copy = opts.progress, {}
      for k, v in pairs(opts) do copy[k] = v end
      copy.progress = function(done, total) user(done, total, path) end
      opts = copy
    end
    return c_write(self, path, content, opts)
  end
  methods.listdir = listdir
  methods.iterdir = iterdir
  methods.search = search
  methods.read_text = read_text
  methods.write_text = write_text
  methods.stream = stream
  -- an ObjectVolume has none of them: its files are its bucket's. Each says so when called.
  local object = core._metatables.ObjectVolume.methods
  for name in pairs(methods) do
    if object[name] == nil and name:sub(1, 1) ~= "_" then
      object[name] = function(self)
        local o = type(self) == "userdata" and self.object or nil
        error(core.ArgumentError { message = ("ObjectVolume:%s: an object volume has no file methods: its files live in " ..
          "bucket %s%s; mount it in a sandbox (volume_mounts) and use them there"):format(name,
          o and tostring(o.bucket) or "?", o and o.prefix and ("/" .. o.prefix) or "") }, 2)
      end
    end
  end
end

return M
