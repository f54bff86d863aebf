-- Container images made by the specs themselves: tar layers written byte by byte (so that a
-- spec can put in them exactly what a hostile image would), gzipped, laid out as an OCI image
-- layout, then pushed to a registry or saved as an archive with skopeo.
local cjson = require("cjson")
local process = require("spec.support.process")
local sh = process.shquote

local M = {}

-- Tools run without the sanitizer preloads (skopeo, a Go program, hangs under them).
local function run(cmd)
  local p = io.popen("env -u LD_PRELOAD sh -c " .. sh(cmd) .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  if not ok then error("command failed: " .. cmd .. "\n" .. out, 2) end
  return out
end
M.run = run

local function octal(n, width)
  return string.format("%0" .. (width - 1) .. "o", n) .. "\0"
end

local function field(s, width)
  assert(#s <= width, "tar field too long: " .. s)
  return s .. string.rep("\0", width - #s)
end

local TYPES = { file = "0", hardlink = "1", symlink = "2", char = "3", block = "4", dir = "5", fifo = "6" }

-- One tar entry: { path, type = "file"|"dir"|..., data, mode, uid, gid, target, major, minor }
local function header(e, size)
  local name, prefix = e.path, ""
  if #name > 100 then
    local cut = name:sub(1, 155):match(".*()/")
    prefix, name = name:sub(1, cut - 1), name:sub(cut + 1)
  end
  local mode = e.mode or (e.type == "dir" and tonumber("755", 8) or tonumber("644", 8))
  local h = field(name, 100) .. octal(mode, 8) .. octal(e.uid or 0, 8) .. octal(e.gid or 0, 8) .. octal(size, 12)
    .. octal(1700000000, 12) .. "        " .. TYPES[e.type] .. field(e.target or "", 100) .. "ustar\0" .. "00"
    .. field("", 32) .. field("", 32) .. octal(e.major or 0, 8) .. octal(e.minor or 0, 8) .. field(prefix, 155)
    .. string.rep("\0", 12)
  local sum = 0
  for i = 1, #h do sum = sum + h:byte(i) end
  return h:sub(1, 148) .. string.format("%06o\0 ", sum) .. h:sub(157)
end

function M.tar(entries)
  local parts = {}
  for _, e in ipairs(entries) do
    e.type = e.type or (e.target and "symlink") or "file"
    local data = e.type == "file" and (e.data or "") or ""
    parts[#parts + 1] = header(e, #data)
    parts[#parts + 1] = data .. string.rep("\0", (512 - #data % 512) % 512)
  end
  parts[#parts + 1] = string.rep("\0", 1024)
  return table.concat(parts)
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end
M.write = write

local function sha256_file(path)
  return run("sha256sum " .. sh(path)):match("^(%x+)")
end
M.sha256_file = sha256_file

local function size_of(path)
  local f = assert(io.open(path, "rb"))
  local n = f:seek("end")
  f:close()
  return n
end

-- Moves a file into the layout's blobs; returns its descriptor.
local function blob(dir, path, media)
  local hex = sha256_file(path)
  local size = size_of(path)
  os.rename(path, dir .. "/blobs/sha256/" .. hex)
  return { mediaType = media, digest = "sha256:" .. hex, size = size }
end

-- Writes an OCI layout at dir: layers (each a list of tar entries, a string of raw tar bytes,
-- or { blob = PATH, media = TYPE, diff_id = DIGEST } for a layer made by hand, a hostile one
-- say) and config (Entrypoint, Cmd, Env, WorkingDir, User).
function M.layout(dir, layers, config)
  run("mkdir -p " .. sh(dir .. "/blobs/sha256"))
  local descs, diff_ids = {}, {}
  for i, l in ipairs(layers) do
    if type(l) == "table" and l.blob then
      diff_ids[i] = l.diff_id
      descs[i] = blob(dir, l.blob, l.media)
    else
      local tar = dir .. "/layer" .. i .. ".tar"
      write(tar, type(l) == "string" and l or M.tar(l))
      diff_ids[i] = "sha256:" .. sha256_file(tar)
      run("gzip -n " .. sh(tar))
      descs[i] = blob(dir, tar .. ".gz", "application/vnd.oci.image.layer.v1.tar+gzip")
    end
  end
  local cfg = { architecture = "amd64", os = "linux", config = config or {},
                rootfs = { type = "layers", diff_ids = diff_ids } }
  write(dir .. "/config.json", cjson.encode(cfg))
  local manifest = { schemaVersion = 2, mediaType = "application/vnd.oci.image.manifest.v1+json",
                     config = blob(dir, dir .. "/config.json", "application/vnd.oci.image.config.v1+json"),
                     layers = descs }
  write(dir .. "/manifest.json", cjson.encode(manifest))
  local m = blob(dir, dir .. "/manifest.json", "application/vnd.oci.image.manifest.v1+json")
  m.annotations = { ["org.opencontainers.image.ref.name"] = "latest" }
  write(dir .. "/index.json", cjson.encode { schemaVersion = 2, manifests = { m } })
  write(dir .. "/oci-layout", '{"imageLayoutVersion":"1.0.0"}')
  return { dir = dir, layers = descs, config = manifest.config }
end

function M.push(layout, dest)
  run("skopeo copy --quiet --dest-tls-verify=false oci:" .. sh(layout.dir) .. ":latest " .. sh("docker://" .. dest))
end

-- `docker save` format (kind "docker-archive") or an OCI archive ("oci-archive").
function M.save(layout, kind, path, name)
  run("skopeo copy --quiet oci:" .. sh(layout.dir) .. ":latest " .. sh(kind .. ":" .. path .. (name and (":" .. name) or "")))
end

-- A small working userland: busybox (static) and its applets as symlinks.
function M.busybox_layer(extra)
  local f = assert(io.open("/bin/busybox", "rb"), "busybox-static is not installed")
  local bin = f:read("a")
  f:close()
  local entries = {
    { path = "bin/", type = "dir" }, { path = "bin/busybox", data = bin, mode = tonumber("755", 8) },
    { path = "etc/", type = "dir" },
    { path = "etc/passwd", data = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n" },
    { path = "etc/group", data = "root:x:0:\napp:x:1000:\nstaff:x:50:\n" },
    { path = "root/", type = "dir", mode = tonumber("700", 8) },
    { path = "home/", type = "dir" }, { path = "home/app/", type = "dir", uid = 1000, gid = 1000 },
  }
  for _, applet in ipairs { "sh", "cat", "ls", "id", "echo", "sleep", "pwd", "env", "touch", "mkdir", "stat", "test",
                            "whoami", "hostname", "ps", "true", "false", "wc", "grep", "head", "rm", "readlink",
                            "printenv", "dd", "mount", "kill", "find", "uname" } do
    entries[#entries + 1] = { path = "bin/" .. applet, target = "busybox" }
  end
  for _, e in ipairs(extra or {}) do entries[#entries + 1] = e end
  return entries
end

return M
