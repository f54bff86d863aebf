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

local function read_text(self, path, opts)
  local data = self:read_file(path, opts)
  if not utf8.len(data) then
    error(M.core.SandboxError { message = "Volume:read_text: " .. path .. " is not UTF-8 text (use read_file)" }, 2)
  end
  return data
end

-- Ranged reads of chunk_size bytes until the end that Content-Range reports.
local function stream(self, path, opts)
  -- 2 MiB: as fast as larger chunks over loopback, and a 1 GiB stream stays near 24 MiB of RSS
  local chunk = opts and opts.chunk_size or 2 * 1024 * 1024
  if math.type(chunk) ~= "integer" or chunk < 1 then
    error(M.core.ArgumentError { message = "Volume:stream: 'chunk_size' must be a positive integer" }, 2)
  end
  local offset, total, done = 0, nil, false
  return function()
    if done or (total and offset >= total) then return nil end
    local ok, data, meta = pcall(self.read_file, self, path, { offset = offset, length = chunk })
    if not ok then
      -- some servers answer an empty file's first range with 416 instead of the whole file
      if offset == 0 and type(data) == "table" and data.status_code == 416 then return nil end
      error(data, 0)
    end
    if not meta.content_range or meta.status ~= 206 then
      done = true -- the whole (or empty) file came back at once
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
    return data
  end
end

function M.install(core)
  M.core = core
  local methods = core._metatables.Volume.methods
  methods.listdir = listdir
  methods.iterdir = iterdir
  methods.search = search
  methods.read_text = read_text
  methods.stream = stream
end

return M
