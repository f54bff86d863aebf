-- porter-sandbox, the command line, against the real porter-sandboxd: every subcommand, exit
-- statuses, --json, --help, errors as one line, --local with a server left in the background.
local helpers = require("spec.helpers")
local process = helpers.process
local sh = process.shquote
local cjson = require("cjson")

local CLI = helpers.build .. "/porter-sandbox"

describe("porter-sandbox", function()
  local server, work
  setup(function()
    server = helpers.sandboxd()
    work = process.tmpdir()
  end)
  teardown(function()
    server:stop()
    os.execute("rm -rf " .. sh(work))
  end)

  -- runs the CLI; answers stdout, stderr, exit status
  local function cli(args, env)
    local prefix = "env -u PORTER_SANDBOX_API_KEY PORTER_SANDBOX_BASE_URL=" .. sh(env or server.url)
    local cmd = ("%s %s %s >%s/out 2>%s/err; echo $? >%s/rc"):format(prefix, CLI, args, work, work, work)
    os.execute(cmd)
    return process.read_all(work .. "/out"), process.read_all(work .. "/err"), tonumber(process.read_all(work .. "/rc"))
  end

  it("runs, lists, execs with the command's exit status, shows logs, and removes", function()
    local id, err, rc = cli("run host --name cli-one --env GREETING=hello --env X=1 -- sleep 300")
    assert.equal(0, rc, err)
    id = id:match("^(sb_%x+)\n$")
    assert.truthy(id)
    local out = cli("ls")
    assert.matches("ID%s+NAME%s+PHASE", out)
    assert.matches(id .. "%s+cli%-one%s+running%s+host", out)
    local list = cjson.decode((cli("ls --json --phase running")))
    local found
    for _, s in ipairs(list) do if s.id == id then found = s end end
    assert.equal("cli-one", found.name)
    out, err, rc = cli("exec cli-one -- sh -c 'echo $GREETING; echo oops >&2; exit 7'")
    assert.equal("hello\n", out)
    assert.equal("oops\n", err)
    assert.equal(7, rc)
    assert.equal("by-id\n", (cli("exec " .. id .. " -- echo by-id")))
    out = cli("logs cli-one")
    assert.matches("hello\n", out, 1, true)
    assert.equal("cli-one\n", (cli("rm cli-one")))
    out, err, rc = cli("exec cli-one -- true")
    assert.equal(1, rc)
    assert.matches("^porter%-sandbox exec: ConflictError: the sandbox is not running", err)
    assert.equal(1, select(2, err:gsub("\n", ""))) -- one line
  end)

  it("shows a workload's escape sequences escaped on a terminal, and raw through a pipe or exec", function()
    -- a clipboard write (OSC 52), a title, a screen clear, a C1 control, a bell
    local payload = [[printf '\033]52;c;cHduZWQ=\007\033]0;owned\007\033[2Jtext\302\233x\a\tend\n']]
    local id = (cli("run host -- sh -c " .. sh(payload .. "; sleep 300"))):match("^(sb_%x+)")
    assert.truthy(id)
    local out
    for _ = 1, 100 do
      out = cli("logs " .. id)
      if out:find("end", 1, true) then break end
      process.sleep(0.05)
    end
    local raw = "\27]52;c;cHduZWQ=\7\27]0;owned\7\27[2Jtext\194\155x\7\tend\n"
    assert.equal(raw, out) -- a pipe: as it was
    -- on a terminal (a pty of script's); env -u: script is not ours to run under the sanitizers
    local tty = io.popen(("env -u LD_PRELOAD PORTER_SANDBOX_BASE_URL=%s script -qec %s /dev/null"):format(
      sh(server.url), sh(CLI .. " logs " .. id))):read("a")
    assert.equal("\\x1b]52;c;cHduZWQ=\\x07\\x1b]0;owned\\x07\\x1b[2Jtext\\u009bx\\x07\tend\r\n", tty)
    assert.is_nil(tty:find("\27", 1, true))
    -- exec passes the command's output through, as docker exec does
    assert.equal("\27[2J\n", (cli("exec " .. id .. " -- printf '\\033[2J\\n'")))
    cli("rm " .. id)
  end)

  it("follows logs until the sandbox ends", function()
    local id = (cli("run host -- sh -c 'echo one; sleep 0.3; echo two'")):match("^(sb_%x+)")
    local out, _, rc = cli("logs -f " .. id)
    assert.equal(0, rc)
    assert.equal("one\ntwo\n", out)
  end)

  it("manages volumes and copies files and trees both ways", function()
    local out, err, rc = cli("vol create cli-data")
    assert.equal(0, rc, err)
    assert.matches("^vol_%x+\n$", out)
    assert.matches("cli%-data", (cli("vol ls")))
    assert.equal("cli-data", cjson.decode((cli("vol ls --json")))[1].name)
    local src = work .. "/src"
    assert(os.execute("mkdir -p " .. sh(src .. "/d") .. " && printf one > " .. sh(src .. "/a.txt") .. " && printf two > " .. sh(src .. "/d/b.txt")))
    assert.equal(0, select(3, cli("cp " .. sh(src .. "/a.txt") .. " cli-data:/a.txt")))
    assert.equal(0, select(3, cli("cp " .. sh(src) .. " cli-data:/tree")))
    assert.equal(0, select(3, cli("cp cli-data:/a.txt " .. sh(work .. "/a.copy"))))
    assert.equal("one", process.read_all(work .. "/a.copy"))
    assert.equal(0, select(3, cli("cp cli-data:/tree " .. sh(work .. "/tree.copy"))))
    assert.equal("two", process.read_all(work .. "/tree.copy/d/b.txt"))
    -- piped, so no progress bar
    assert.equal("", select(2, cli("cp cli-data:/tree/a.txt " .. sh(work .. "/x"))))
    out, err, rc = cli("cp cli-data:/nope " .. sh(work .. "/y"))
    assert.equal(1, rc)
    assert.matches("no such file or directory", err)
    assert.equal("cli-data\n", (cli("vol rm cli-data")))
  end)

  it("takes Porter CLI's commands and flags: create, list, terminate --all, volume move", function()
    local out, err, rc = cli("volume create cli-porter")
    assert.equal(0, rc, err)
    local vol = out:match("^(vol_%x+)\n$")
    -- --command and --arg as argv elements, -e and --env, --tag, --volume MOUNT_PATH=VOLUME by
    -- name and by id, -o json
    out, err, rc = cli("create host --name cli-porter-a --command sh --command -c --arg 'echo $A $B; sleep 300' " ..
                       "-e A=one --env B=two --tag team=cli --tag run=" .. vol .. " --volume /data=cli-porter --volume /by-id=" .. vol ..
                       " -o json")
    assert.equal(0, rc, err)
    local made = cjson.decode(out)
    assert.equal("cli-porter-a", made.name)
    assert.matches("^sb_%x+$", made.id)
    out, err, rc = cli("create host --name cli-porter-b --tag team=cli --tag run=" .. vol .. " -- sleep 300")
    assert.equal(0, rc, err)
    assert.matches("^sb_%x+\n$", out)
    local function phase_of(name)
      for _ = 1, 300 do
        local list = cjson.decode((cli("list -o json --phase all --tag run=" .. vol)))
        for _, s in ipairs(list) do if s.name == name and s.phase ~= "queued" and s.phase ~= "creating" then return s.phase end end
        process.sleep(0.05)
      end
    end
    assert.equal("running", phase_of("cli-porter-a"))
    assert.equal("running", phase_of("cli-porter-b"))
    assert.matches("one two\n", (cli("logs cli-porter-a")))
    assert.equal("/data /by-id\n", (cli("exec cli-porter-a -- sh -c 'mountpoint -q /data && mountpoint -q /by-id && echo /data /by-id'")))
    -- terminate --all with the tags: --dry-run names them and ends nothing
    out = cli("terminate --all --tag run=" .. vol .. " --dry-run")
    assert.matches("cli%-porter%-a %(would be terminated%)\n", out)
    assert.matches("cli%-porter%-b %(would be terminated%)\n", out)
    assert.equal("running", phase_of("cli-porter-a"))
    out, err, rc = cli("terminate --all --tag run=" .. vol .. " --tag team=cli")
    assert.equal(0, rc, err)
    assert.matches("cli%-porter%-a\n", out)
    -- list hides terminated sandboxes unless --phase all
    assert.equal("[]\n", (cli("list -o json --tag run=" .. vol)))
    assert.equal(2, #cjson.decode((cli("list -o json --phase all --tag run=" .. vol))))
    assert.matches("ID%s+NAME%s+PHASE", (cli("list --phase all --tag run=" .. vol .. " -o text")))
    -- volume move: a file renamed in the volume
    assert(os.execute("printf moved > " .. sh(work .. "/m.txt")))
    assert.equal(0, select(3, cli("cp " .. sh(work .. "/m.txt") .. " cli-porter:/m.txt")))
    out, err, rc = cli("volume move cli-porter /m.txt /n.txt")
    assert.equal(0, rc, err)
    assert.equal(0, select(3, cli("cp cli-porter:/n.txt " .. sh(work .. "/n.copy"))))
    assert.equal("moved", process.read_all(work .. "/n.copy"))
    assert.matches('"type":"disk"', (cli("volume list -o json")))
    -- bad uses say what was wanted
    _, err, rc = cli("list -o yaml")
    assert.equal(2, rc)
    assert.matches("%-o wants text or json", err)
    _, err, rc = cli("create host --command x -- y")
    assert.equal(2, rc)
    assert.matches("after %-%- or with %-%-command, not both", err)
    _, err, rc = cli("terminate --all cli-porter-a")
    assert.equal(2, rc)
    assert.equal("cli-porter\n", (cli("volume delete cli-porter")))
  end)

  it("says how to use each subcommand, and refuses bad ones with status 2", function()
    for _, sub in ipairs { "ls", "list", "run", "create", "exec", "logs", "rm", "terminate", "vol", "volume", "cp", "health" } do
      local out, _, rc = cli(sub .. " --help")
      assert.equal(0, rc, sub)
      assert.matches("^usage: porter%-sandbox " .. sub, out)
    end
    local _, err, rc = cli("ls --bogus")
    assert.equal(2, rc)
    assert.matches("unknown option %-%-bogus", err)
    _, err, rc = cli("frobnicate")
    assert.equal(2, rc)
    assert.matches("unknown command 'frobnicate'", err)
    assert.equal("ok\n", (cli("health")))
    _, err, rc = cli("health", "http://127.0.0.1:1")
    assert.equal(1, rc)
    assert.matches("^porter%-sandbox health: ConnectionError: nothing listens at http://127.0.0.1:1", err)
    -- an empty list is an empty JSON array
    assert.equal("[]\n", (cli("ls --json --tag nobody=has-this")))
  end)

  it("gives every subcommand's --help with no server configured, and names its own --local", function()
    local function bare(args)
      local cmd = ("env -u PORTER_SANDBOX_API_KEY -u PORTER_SANDBOX_BASE_URL -u PORTER_CLUSTER_ID -u KUBERNETES_SERVICE_HOST "
        .. "PORTER_SANDBOXD=/nonexistent/porter-sandboxd %s %s >%s/out 2>%s/err; echo $? >%s/rc"):format(CLI, args, work, work, work)
      os.execute(cmd)
      return process.read_all(work .. "/out"), process.read_all(work .. "/err"), tonumber(process.read_all(work .. "/rc"))
    end
    for _, sub in ipairs { "run", "create", "ls", "list", "exec", "logs", "rm", "terminate", "vol", "volume", "cp", "health" } do
      local out, err, rc = bare(sub .. " --help")
      assert.equal(0, rc, sub .. ": " .. err)
      assert.matches("^usage: porter%-sandbox", out)
    end
    local out, err, rc = bare("ls")
    assert.equal(1, rc, out)
    assert.matches("ConfigError: .*porter%-sandbox %-%-local ls", err)
    assert.is_nil(err:find("porter-lua", 1, true))
    -- with no server installed (the rock's case), --local says so and how to get one
    local _, nerr, nrc = bare("--local --state-dir " .. sh(work .. "/no-server") .. " ls")
    assert.equal(1, nrc)
    assert.matches("no porter-sandboxd here (/nonexistent/porter-sandboxd): the rock installs the SDK and this command", nerr, 1, true)
    -- help for down stops nothing: a server started by --local lives on
    local state = work .. "/help-state"
    assert.equal(0, select(3, cli("--local --state-dir " .. sh(state) .. " health", "")))
    local pid = tonumber(process.read_all(state .. "/cli.pid"))
    finally(function() cli("--local --state-dir " .. sh(state) .. " down", "") end)
    out, _, rc = cli("--local --state-dir " .. sh(state) .. " down --help", "")
    assert.equal(0, rc)
    assert.matches("usage: porter%-sandbox %-%-local down", out)
    assert.is_true(process.alive { pid = pid })
  end)

  it("with --local, starts a server in the background that later commands find, until down", function()
    local state = work .. "/local-state"
    local id, err, rc = cli("--local --state-dir " .. sh(state) .. " run host -- sleep 300", "")
    assert.equal(0, rc, err)
    id = id:match("^(sb_%x+)")
    local pid = tonumber(process.read_all(state .. "/cli.pid"))
    assert.truthy(pid)
    finally(function() os.execute("kill " .. pid .. " 2>/dev/null") end)
    -- on a Unix socket of this account's alone, in a state dir of its alone
    assert.equal("unix:" .. state .. "/api.sock", process.read_all(state .. "/cli.url"):match("[^\n]+"))
    assert.equal("600 socket\n", io.popen("stat -c '%a %F' " .. sh(state .. "/api.sock")):read("a"))
    assert.equal("700\n", io.popen("stat -c %a " .. sh(state)):read("a"))
    assert.matches(id, (cli("--local --state-dir " .. sh(state) .. " ls", "")))
    assert.equal(0, select(3, cli("--local --state-dir " .. sh(state) .. " down", "")))
    for _ = 1, 100 do
      if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then break end
      process.sleep(0.05)
    end
    assert.is_falsy(os.execute("kill -0 " .. pid .. " 2>/dev/null"))
  end)
end)
