-- porter-sandbox, the command line, on the SDK: Porter CLI's words (`porter sandbox create,
-- list, exec, logs, terminate, volume`, docs.porter.run/sandboxes/cli) and our older ones (run,
-- ls, rm, vol) as aliases, plus cp, health and down.
-- main(args, env) answers the exit status; env.exe is porter-lua's own path when it runs us
-- (porter-sandboxd is looked for beside it). Errors are one line on stderr.
local M = {}
local unpack = table.unpack or unpack

local USAGE = [==[
usage: porter-sandbox [--local [--state-dir DIR]] COMMAND [options]

commands (Porter CLI's, with ours as aliases):
  create IMAGE [--name N] [--command ARG]... [--arg ARG]... [-e|--env K=V]... [--tag K=V]...
         [--volume MOUNT_PATH=VOLUME]... [-o text|json] [-- CMD...]
                                                  start a sandbox, print its id
  run IMAGE [create's options]                    create, then wait until it runs
  list | ls [--phase P|all]... [--tag K=V]... [-o text|json | --json]
                                                  list sandboxes, newest first (not
                                                  terminated ones unless --phase all)
  exec SANDBOX -- CMD...                          run CMD in it; its exit status is ours
  logs SANDBOX [-f]                               print its logs (-f: follow until it ends)
  terminate | rm SANDBOX... | --all [--tag K=V]... [--dry-run]
                                                  terminate sandboxes
  volume | vol  list|ls [-o json] | create NAME | delete|rm VOLUME... |
                move VOLUME FROM TO              volumes (move: a file or directory in one)
  cp SRC DST                                      copy files or directories; either side
                                                  may be VOLUME:/path
  health                                          check the API
  down                                            stop the local server --local started

SANDBOX is an id or a name; VOLUME a name or an id. Configuration comes from the SDK's
environment (PORTER_SANDBOX_API_KEY, PORTER_SANDBOX_BASE_URL, ...). --local talks to a local
porter-sandboxd, started in the background on first use with its state in DIR (default
$XDG_STATE_HOME/porter-sandbox, or ~/.local/state/porter-sandbox), kept until `down`.
`porter-sandbox COMMAND --help` says more.
]==]

local CREATE_OPTS = "[--name N] [--command ARG]... [--arg ARG]... [-e|--env K=V]... [--tag K=V]...\n" ..
                    "       [--volume MOUNT_PATH=VOLUME]... [-o text|json] [-- CMD...]\n"
local HELP = {
  list = "usage: porter-sandbox list [--phase P|all]... [--tag K=V]... [-o text|json | --json]\n" ..
         "  list sandboxes, newest first, every page; terminated ones only with --phase all (or\n" ..
         "  --phase terminated); every --tag must match\n",
  create = "usage: porter-sandbox create IMAGE " .. CREATE_OPTS ..
           "  start a sandbox from IMAGE and print its id (-o json: the API's answer). --command (each\n" ..
           "  one an argv element) or CMD after -- replaces the image's entrypoint, --arg its CMD;\n" ..
           "  VOLUME is a volume's name or id (VOLUME:/path is taken too)\n",
  run = "usage: porter-sandbox run IMAGE " .. CREATE_OPTS ..
        "  create, then wait until the sandbox runs and print its id\n",
  exec = "usage: porter-sandbox exec SANDBOX -- CMD...\n  run CMD in the sandbox; its stdout and stderr are ours, and so is its exit status\n",
  logs = "usage: porter-sandbox logs SANDBOX [-f]\n  print the sandbox's log lines; -f keeps printing them as they come until it ends\n",
  terminate = "usage: porter-sandbox terminate SANDBOX... | --all [--tag K=V]... [--dry-run]\n" ..
              "  terminate the sandboxes; --all: every live one (with all the --tags), --dry-run: only\n" ..
              "  name them\n",
  volume = "usage: porter-sandbox volume list [-o text|json] | create NAME | delete VOLUME... |\n" ..
           "       move VOLUME FROM TO\n  list, create or delete volumes, or move a file or directory in one\n",
  cp = "usage: porter-sandbox cp SRC DST\n  copy a file or a directory into or out of a volume: one side is VOLUME:/path, the other\n" ..
       "  a local path; a progress bar shows on a terminal\n",
  health = "usage: porter-sandbox health\n  check that the API answers\n",
  down = "usage: porter-sandbox --local down\n  stop the local porter-sandboxd that --local started\n",
}
-- our older spellings
local ALIASES = { ls = "list", rm = "terminate", vol = "volume" }
for alias, name in pairs(ALIASES) do
  HELP[alias] = HELP[name]:gsub("porter%-sandbox " .. name, "porter-sandbox " .. alias, 1) ..
                ("  (%s is Porter CLI's %s)\n"):format(alias, name)
end

-- an error for the user: one line, exit status 2 (usage) or 1
local Fail = {}
local function fail(msg, code) error(setmetatable({ msg = msg, code = code or 1 }, Fail), 0) end
local function usage_fail(cmd, msg) fail(msg .. "\n" .. (HELP[cmd] or USAGE), 2) end

-- ---- arguments ----

-- Splits args into options (by the spec: name -> "flag" | "value" | "list") and positionals;
-- everything after "--" goes to rest.
local function parse(cmd, args, spec)
  local opts, pos, rest = {}, {}, nil
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--" then
      rest = { unpack(args, i + 1) }
      break
    elseif a == "--help" or a == "-h" then
      io.stdout:write(HELP[cmd] or USAGE)
      os.exit(0)
    elseif a:sub(1, 1) == "-" and #a > 1 then
      local kind = spec[a]
      if not kind then usage_fail(cmd, "porter-sandbox " .. cmd .. ": unknown option " .. a) end
      if kind == "flag" then
        opts[a] = true
      else
        local v = args[i + 1]
        if v == nil then usage_fail(cmd, "porter-sandbox " .. cmd .. ": " .. a .. " needs a value") end
        if kind == "list" then
          opts[a] = opts[a] or {}
          table.insert(opts[a], v)
        else
          opts[a] = v
        end
        i = i + 1
      end
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return opts, pos, rest
end

local function pairs_of(cmd, list, what)
  local t = {}
  for _, kv in ipairs(list or {}) do
    local k, v = kv:match("^([^=]+)=(.*)$")
    if not k then usage_fail(cmd, ("porter-sandbox %s: %s wants K=V (got %q)"):format(cmd, what, kv)) end
    t[k] = v
  end
  return t
end

-- ---- output ----

-- JSON text of v with lua-cjson, which the CLI alone needs (the SDK decodes answers itself)
local function encode(v)
  local ok, cjson = pcall(require, "cjson")
  if not ok then fail("-o json needs lua-cjson: apt-get install lua-cjson (or luarocks install lua-cjson)") end
  return cjson.encode(v)
end

-- a list as a JSON array, [] when empty (lua-cjson writes an empty table as {})
local function json(v) return next(v) == nil and "[]" or encode(v) end

-- -o text|json (Porter CLI's), or our --json
local function wants_json(cmd, o)
  local f = o["-o"] or o["--output"]
  if f ~= nil and f ~= "text" and f ~= "json" then usage_fail(cmd, ("porter-sandbox %s: -o wants text or json (got %q)"):format(cmd, f)) end
  return f == "json" or o["--json"] == true
end
local OUTPUT = { ["-o"] = "value", ["--output"] = "value", ["--json"] = "flag" }
local function with(spec, more)
  local t = {}
  for k, v in pairs(spec) do t[k] = v end
  for k, v in pairs(more or {}) do t[k] = v end
  return t
end

local ttys = {}
local function is_tty(f)
  local fd = f == io.stderr and 2 or 1
  if ttys[fd] == nil then ttys[fd] = os.execute("test -t " .. fd) == true end
  return ttys[fd]
end

-- Text from a sandbox or a server (log lines, names, tags, errors), for f: on a terminal its
-- control characters are shown, not obeyed (an escape sequence could set the clipboard, the
-- title, clear the screen), as \xHH (C0 and DEL, tab too when keep_tab is not set) or \u00HH
-- (C1); elsewhere it goes as it is.
local function visible(f, s, keep_tab)
  s = tostring(s)
  if not is_tty(f) then return s end
  s = s:gsub(keep_tab and "[%z\1-\8\10-\31\127]" or "[%z\1-\31\127]", function(c) return ("\\x%02x"):format(c:byte()) end)
  return (s:gsub("\194([\128-\159])", function(c) return ("\\u00%02x"):format(c:byte()) end))
end

local function table_out(rows, header)
  local widths, shown = {}, {}
  for i, r in ipairs({ header, unpack(rows) }) do
    shown[i] = {}
    for c, v in ipairs(r) do
      shown[i][c] = visible(io.stdout, v)
      widths[c] = math.max(widths[c] or 0, #shown[i][c])
    end
  end
  for _, r in ipairs(shown) do
    local cells = {}
    for c, v in ipairs(r) do cells[c] = c < #r and (v .. (" "):rep(widths[c] - #v)) or v end
    io.stdout:write(table.concat(cells, "  "), "\n")
  end
end

-- a progress bar on stderr when it is a terminal, else nothing
local function progress_bar()
  if not is_tty(io.stderr) then return nil, function() end end
  local last = -1
  return function(done, total, path)
    local pct = total > 0 and math.floor(done * 100 / total) or 100
    if pct == last and done ~= total then return end
    last = pct
    local width = 30
    local fill = math.floor(width * pct / 100)
    io.stderr:write(("\r[%s%s] %3d%% %s"):format(("#"):rep(fill), ("."):rep(width - fill), pct,
      (path or ""):sub(-40) .. (" "):rep(math.max(0, 40 - #(path or "")))))
  end, function() if last >= 0 then io.stderr:write("\n") end end
end

-- ---- resolving names ----

local function sandbox_of(porter, ref)
  if ref:match("^sb_") then
    local ok, sb = pcall(function()
      local st = porter.raw.sandboxes.get_sandbox(ref)
      return porter.sandboxes.get(st.name or ref)
    end)
    if ok then return sb end
  end
  return porter.sandboxes.get(ref)
end

local function volume_of(porter, ref)
  if ref:match("^vol_") then
    for _, v in ipairs(porter.volumes.list()) do if v.id == ref then return v end end
  end
  return porter.volumes.get(ref)
end

-- ---- commands ----

local commands = {}

local PHASES = { "queued", "creating", "running", "succeeded", "failed", "terminated" }

function commands.list(porter, args)
  local o = parse("list", args, with(OUTPUT, { ["--tag"] = "list", ["--phase"] = "list" }))
  local as_json = wants_json("list", o)
  -- Porter CLI's default: every phase but terminated; "all" for every one
  local phase = o["--phase"]
  if not phase then
    phase = { unpack(PHASES, 1, 5) }
  else
    for _, p in ipairs(phase) do if p == "all" then phase = nil break end end
  end
  local filters = { tags = next(o["--tag"] or {}) and pairs_of("list", o["--tag"], "--tag") or nil, phase = phase }
  local rows, out = {}, {}
  for sb in porter.sandboxes.each(filters) do
    out[#out + 1] = { id = sb.id, name = sb.name, phase = sb.phase, image = sb.image, tags = sb.tags,
                      created_at = sb.created_at, exit_code = sb.exit_code }
    local tags = {}
    for k, v in pairs(sb.tags or {}) do tags[#tags + 1] = k .. "=" .. v end
    table.sort(tags)
    rows[#rows + 1] = { sb.id, sb.name or "", sb.phase or "", sb.image or "", table.concat(tags, ",") }
  end
  if as_json then io.stdout:write(json(out), "\n") else table_out(rows, { "ID", "NAME", "PHASE", "IMAGE", "TAGS" }) end
  return 0
end

-- MOUNT_PATH=VOLUME (Porter CLI's) or VOLUME:/path (ours); a name first, then an id
local function mount_of(cmd, porter, m)
  local path, vol = m:match("^(/[^=]*)=(.+)$")
  if not path then vol, path = m:match("^([^:=]+):(/.*)$") end
  if not vol then usage_fail(cmd, ("porter-sandbox %s: --volume wants MOUNT_PATH=VOLUME (got %q)"):format(cmd, m)) end
  return path, volume_of(porter, vol).id
end

local function create(cmd, porter, args)
  local o, pos, rest = parse(cmd, args, with(OUTPUT, { ["--name"] = "value", ["--env"] = "list", ["-e"] = "list",
    ["--volume"] = "list", ["--command"] = "list", ["--arg"] = "list", ["--tag"] = "list" }))
  local as_json = wants_json(cmd, o)
  if #pos ~= 1 then usage_fail(cmd, "porter-sandbox " .. cmd .. ": expected one IMAGE") end
  if rest and #rest > 0 and o["--command"] then
    usage_fail(cmd, "porter-sandbox " .. cmd .. ": give the command after -- or with --command, not both")
  end
  local mounts = {}
  for _, m in ipairs(o["--volume"] or {}) do
    local path, id = mount_of(cmd, porter, m)
    mounts[path] = id
  end
  local env = pairs_of(cmd, o["--env"], "--env")
  for k, v in pairs(pairs_of(cmd, o["-e"], "-e")) do env[k] = v end
  local command = o["--command"] or (rest and #rest > 0 and rest) or nil
  local sb = porter.sandboxes.create { image = pos[1], name = o["--name"], env = next(env) and env or nil,
                                       tags = o["--tag"] and pairs_of(cmd, o["--tag"], "--tag") or nil,
                                       volume_mounts = next(mounts) and mounts or nil,
                                       command = command, args = o["--arg"] }
  return sb, as_json
end

-- create answers at once, run once the sandbox runs: its id, or -o json's object
local function started(cmd, wait)
  return function(porter, args)
    local sb, as_json = create(cmd, porter, args)
    local st = wait and sb:wait() or { id = sb.id, name = sb.name }
    if as_json then
      io.stdout:write(encode { id = st.id, name = st.name, phase = st.phase }, "\n")
    else
      io.stdout:write(sb.id, "\n")
    end
    return 0
  end
end
commands.create = started("create", false)
commands.run = started("run", true)

function commands.exec(porter, args)
  local _, pos, cmd = parse("exec", args, {})
  if #pos ~= 1 or not cmd or #cmd == 0 then usage_fail("exec", "porter-sandbox exec: expected SANDBOX -- CMD...") end
  local r = sandbox_of(porter, pos[1]):exec(cmd)
  io.stdout:write(r.stdout)
  io.stderr:write(r.stderr)
  io.stdout:flush()
  return r.exit_code
end

function commands.logs(porter, args)
  local o, pos = parse("logs", args, { ["-f"] = "flag", ["--follow"] = "flag" })
  if #pos ~= 1 then usage_fail("logs", "porter-sandbox logs: expected one SANDBOX") end
  local sb = sandbox_of(porter, pos[1])
  local function show(l)
    local f = l.level == "info" and io.stdout or io.stderr
    f:write(visible(f, l.line, true), "\n")
  end
  if o["-f"] or o["--follow"] then
    for l in sb:logs { follow = true } do
      show(l)
      io.stdout:flush()
    end
  else
    for _, l in ipairs(sb:logs()) do show(l) end
  end
  return 0
end

-- rm and vol rm: each ref removed in turn, named on stdout once it is gone
local function remove_each(cmd, usage, refs, remove)
  if #refs == 0 then usage_fail(cmd, usage) end
  for _, ref in ipairs(refs) do
    remove(ref)
    io.stdout:write(ref, "\n")
  end
end

function commands.terminate(porter, args)
  local o, pos = parse("terminate", args, { ["--all"] = "flag", ["--tag"] = "list", ["--dry-run"] = "flag" })
  local dry = o["--dry-run"]
  if o["--all"] then
    if #pos > 0 then usage_fail("terminate", "porter-sandbox terminate: --all or SANDBOX..., not both") end
    local filters = { phase = { unpack(PHASES, 1, 3) }, tags = o["--tag"] and pairs_of("terminate", o["--tag"], "--tag") or nil }
    local live = {}
    for sb in porter.sandboxes.each(filters) do live[#live + 1] = sb end
    for _, sb in ipairs(live) do
      if not dry then sb:terminate() end
      io.stdout:write(visible(io.stdout, sb.name or sb.id), dry and " (would be terminated)" or "", "\n")
    end
    return 0
  end
  if o["--tag"] then usage_fail("terminate", "porter-sandbox terminate: --tag filters --all") end
  remove_each("terminate", "porter-sandbox terminate: expected at least one SANDBOX, or --all", pos, function(ref)
    local sb = sandbox_of(porter, ref)
    if not dry then sb:terminate() end
  end)
  return 0
end

function commands.volume(porter, args)
  local sub = table.remove(args, 1)
  if sub == "ls" or sub == "list" then
    local o = parse("volume", args, OUTPUT)
    local rows, out = {}, {}
    for _, v in ipairs(porter.volumes.list()) do
      out[#out + 1] = { id = v.id, name = v.name, type = v.type, phase = v.phase, attached_to = v.attached_to, created_at = v.created_at }
      rows[#rows + 1] = { v.id, v.name or "", v.type or "", table.concat(v.attached_to or {}, ",") }
    end
    if wants_json("volume", o) then io.stdout:write(json(out), "\n") else table_out(rows, { "ID", "NAME", "TYPE", "ATTACHED TO" }) end
  elseif sub == "create" then
    local _, pos = parse("volume", args, {})
    if #pos ~= 1 then usage_fail("volume", "porter-sandbox volume create: expected one NAME") end
    io.stdout:write(porter.volumes.create { name = pos[1] }.id, "\n")
  elseif sub == "rm" or sub == "delete" then
    local _, pos = parse("volume", args, {})
    remove_each("volume", "porter-sandbox volume delete: expected at least one VOLUME", pos,
      function(ref) volume_of(porter, ref):delete() end)
  elseif sub == "move" or sub == "mv" then
    local _, pos = parse("volume", args, {})
    if #pos ~= 3 then usage_fail("volume", "porter-sandbox volume move: expected VOLUME FROM TO") end
    volume_of(porter, pos[1]):move_file(pos[2], pos[3])
  elseif sub == "--help" or sub == "-h" then
    io.stdout:write(HELP.volume)
  else
    usage_fail("volume", "porter-sandbox volume: expected list, create, delete or move")
  end
  return 0
end

local function local_kind(path)
  if pcall(require("porter_sandbox")._readdir, path, path) then return "directory" end
  local f = io.open(path, "rb")
  if f then f:close() return "file" end
  return nil
end

function commands.cp(porter, args)
  local _, pos = parse("cp", args, {})
  if #pos ~= 2 then usage_fail("cp", "porter-sandbox cp: expected SRC and DST") end
  local function side(s)
    local vol, path = s:match("^([%w][%w%-_]*):(/.*)$")
    if vol then return { vol = vol, path = path } end
    return { path = s }
  end
  local src, dst = side(pos[1]), side(pos[2])
  if (src.vol ~= nil) == (dst.vol ~= nil) then fail("porter-sandbox cp: one of SRC and DST must be VOLUME:/path, the other local") end
  local bar, done = progress_bar()
  if src.vol then
    local vol = volume_of(porter, src.vol)
    local entry
    for _, e in ipairs(vol:listdir(src.path:match("^(.*)/[^/]*$") ~= "" and src.path:match("^(.*)/[^/]*$") or "/")) do
      if e.path == src.path then entry = e end
    end
    if src.path == "/" or (entry and entry.is_dir) then
      vol:download_dir(src.path, dst.path, { progress = bar })
    elseif entry then
      local target = local_kind(dst.path) == "directory" and (dst.path .. "/" .. entry.name) or dst.path
      local f = assert(io.open(target, "wb"))
      for chunk in vol:stream(src.path, { progress = bar }) do f:write(chunk) end
      f:close()
    else
      fail(("porter-sandbox cp: no such file or directory: %s:%s"):format(src.vol, src.path))
    end
  else
    local vol = volume_of(porter, dst.vol)
    local kind = local_kind(src.path)
    if kind == "directory" then
      vol:upload_dir(src.path, dst.path, { progress = bar })
    elseif kind == "file" then
      local target = dst.path
      if target:sub(-1) == "/" then target = target .. src.path:match("([^/]+)$") end
      local f = assert(io.open(src.path, "rb"))
      vol:write_file(target, f, { progress = bar })
      f:close()
    else
      fail("porter-sandbox cp: no such file or directory: " .. src.path)
    end
  end
  done()
  return 0
end

function commands.health(porter, args)
  parse("health", args, {})
  local h = porter.health.check()
  io.stdout:write(h.status or "ok", "\n")
  return 0
end

-- ---- --local: a porter-sandboxd in the background, one per state dir ----

local function sh(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function state_dir(given)
  if given then return given end
  local base = os.getenv("XDG_STATE_HOME")
  if not base or base == "" then base = (os.getenv("HOME") or "/root") .. "/.local/state" end
  return base .. "/porter-sandbox"
end

local function read_line(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local l = f:read("l")
  f:close()
  return l
end

local function daemon_path(env)
  local d = os.getenv("PORTER_SANDBOXD")
  if d and d ~= "" then return d end
  if env.exe then
    local beside = env.exe:match("^(.*)/[^/]*$")
    if beside and io.open(beside .. "/porter-sandboxd", "rb") then return beside .. "/porter-sandboxd" end
  end
  return "porter-sandboxd"
end

local function local_url(core, env, dir, start)
  local url = read_line(dir .. "/cli.url")
  if url then
    local p = core.Porter { base_url = url, timeout = 2, max_retries = 0 }
    local ok = pcall(p.health.check)
    p:close()
    if ok then return url end
  end
  if not start then return nil end
  local daemon = daemon_path(env)
  if not os.execute("command -v " .. sh(daemon) .. " >/dev/null 2>&1") then
    fail("porter-sandbox --local: no porter-sandboxd here (" .. daemon .. "): the rock installs the SDK and this "
      .. "command, not the server; build it from the repository (`make deps && make && make install`) or set "
      .. "PORTER_SANDBOXD to its path")
  end
  -- a Unix socket, 0600 (the server makes it so), in a dir of ours alone: no other account on the
  -- machine, and no web page, can reach it
  local sock = dir .. "/api.sock"
  if #sock > 107 then
    fail(("porter-sandbox --local: the state dir's path is too long for a Unix socket (%s is %d bytes, at most 107): "
      .. "give a shorter --state-dir"):format(sock, #sock))
  end
  assert(os.execute("mkdir -p -m 700 " .. sh(dir) .. " && chmod 700 " .. sh(dir)))
  os.remove(dir .. "/cli.url")
  -- setsid: the server outlives this command, and a ^C at the terminal does not reach it
  -- PORTER_SANDBOXD_FLAGS: the server's own flags, words split on blanks, after ours
  local extra = {}
  for w in (os.getenv("PORTER_SANDBOXD_FLAGS") or ""):gmatch("%S+") do extra[#extra + 1] = sh(w) end
  -- --shared-images: the user's image cache, shared with porter-lua --local and porter-sandboxd
  -- on its defaults
  local cmd = ("setsid %s --listen %s --print-url --state-dir %s --shared-images %s >%s 2>>%s </dev/null & echo $! >%s")
    :format(sh(daemon), sh("unix:" .. sock), sh(dir), table.concat(extra, " "),
      sh(dir .. "/cli.url.tmp"), sh(dir .. "/cli.log"), sh(dir .. "/cli.pid"))
  assert(os.execute(cmd))
  for _ = 1, 200 do
    url = read_line(dir .. "/cli.url.tmp")
    if url and url:match("^unix:/") then
      os.rename(dir .. "/cli.url.tmp", dir .. "/cli.url")
      return url
    end
    core.sleep(0.05)
  end
  fail("porter-sandbox --local: porter-sandboxd did not start; see " .. dir .. "/cli.log")
end

local function down(dir)
  local pid = read_line(dir .. "/cli.pid")
  if pid and pid:match("^%d+$") then os.execute("kill " .. pid .. " 2>/dev/null") end
  os.remove(dir .. "/cli.url")
  os.remove(dir .. "/cli.pid")
  return 0
end

function M.main(args, env)
  env = env or {}
  args = { unpack(args or {}) }
  local core = require("porter_sandbox")
  local use_local, dir = false, nil
  while args[1] == "--local" or args[1] == "--state-dir" do
    local a = table.remove(args, 1)
    if a == "--local" then use_local = true else dir = table.remove(args, 1) end
  end
  local cmd = table.remove(args, 1)
  if cmd == nil or cmd == "--help" or cmd == "-h" or cmd == "help" then
    io.stdout:write(USAGE)
    return cmd == nil and 2 or 0
  end
  -- help before anything is done: no server is needed for it, and `down --help` stops nothing
  for _, a in ipairs(args) do
    if a == "--" then break end
    if a == "--help" or a == "-h" then
      io.stdout:write(HELP[cmd] or USAGE)
      return 0
    end
  end
  local ok, res = pcall(function()
    if cmd == "down" then
      if not use_local then fail("porter-sandbox down: only with --local") end
      return down(state_dir(dir))
    end
    local fn = commands[ALIASES[cmd] or cmd]
    if not fn then usage_fail(nil, "porter-sandbox: unknown command '" .. cmd .. "'") end
    local opts
    if use_local then opts = { base_url = local_url(core, env, state_dir(dir), true) } end
    local porter = core.Porter(opts)
    local ok2, r = pcall(fn, porter, args)
    porter:close()
    if not ok2 then error(r, 0) end
    return r
  end)
  if ok then return res end
  if getmetatable(res) == Fail then
    io.stderr:write(res.msg, res.msg:sub(-1) == "\n" and "" or "\n")
    return res.code
  end
  -- an SDK error: its message, without the traceback a script would want
  local msg = type(res) == "table" and res.name and (res.name .. ": " .. tostring(res.message)) or tostring(res)
  if type(res) == "table" and res.name == "ConfigError" and not use_local then
    msg = msg:gsub("run the script with `porter%-lua %-%-local`", "run `porter-sandbox --local " .. cmd .. " ...`")
  end
  io.stderr:write("porter-sandbox ", cmd, ": ", visible(io.stderr, msg), "\n")
  return 1
end

return M
