/* porter-lua: the standalone Lua 5.4 interpreter's behaviour (options, `arg`, LUA_INIT,
 * tracebacks, exit status, the REPL) with porter_sandbox built in, plus `--local`, which runs
 * the script against a porter-sandboxd started for it. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "interp.h"
#include "porter_version.h"

/* lua.c's own settings, which the Lua headers do not export */
#define LUA_IGMARK "-"
#define LUA_INIT_VAR "LUA_INIT"
#define LUA_INITVARVERSION LUA_INIT_VAR "_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR
#define LUA_MAXINPUT 512

static const char *progname = "porter-lua";
static lua_State *running_state;

/* badopt NULL: --help */
static void usage(const char *badopt) {
  FILE *out = badopt ? stderr : stdout;
  if (badopt && (badopt[1] == 'e' || badopt[1] == 'l'))
    fprintf(stderr, "%s: '%s' needs argument\n", progname, badopt);
  else if (badopt)
    fprintf(stderr, "%s: unrecognized option '%s'\n", progname, badopt);
  if (badopt)
    fprintf(out, "usage: %s [options] [script [args]]\n", progname);
  else
    fprintf(out,
            "usage: %s [--local] [options] [script [args]]\n"
            "  --local   run the script against a local porter-sandboxd started for it, with a\n"
            "            private state dir removed at exit (--local --state-dir DIR keeps DIR)\n"
            "            (on a Unix socket only this account can use; PORTER_SANDBOX_BASE_URL\n"
            "            is set to its unix: URL for the script)\n",
            progname);
  fprintf(out,
          "Available options are:\n"
          "  -e stat   execute string 'stat'\n"
          "  -i        enter interactive mode after executing 'script'\n"
          "  -l mod    require library 'mod' into global 'mod'\n"
          "  -l g=mod  require library 'mod' into global 'g'\n"
          "  -v        show version information\n"
          "  -E        ignore environment variables\n"
          "  -W        turn warnings on\n"
          "  --        stop handling options\n"
          "  -         stop handling options and execute stdin\n");
  fflush(out);
}

static void message(const char *pname, const char *msg) {
  if (pname) fprintf(stderr, "%s: ", pname);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}

/* Reports a non-OK status with the message on the stack. */
static int report(lua_State *L, int status) {
  if (status != LUA_OK) {
    message(progname, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return status;
}

/* Error objects with __tostring (our errors) print through it, like lua.c. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    /* unlike lua.c, an error object gets the traceback too: an SDK error is one, and where
     * it came from matters as much as for error("...") */
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) msg = lua_tostring(L, -1);
    else msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

static void on_sigint(int sig) {
  signal(sig, SIG_DFL);
  lua_sethook(running_state, lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static int docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  running_state = L;
  signal(SIGINT, on_sigint);
  int status = lua_pcall(L, narg, nres, base);
  signal(SIGINT, SIG_DFL);
  lua_remove(L, base);
  return status;
}

static void print_version(void) {
  fputs(LUA_COPYRIGHT "\n", stdout);
  fputs("porter-lua: porter_sandbox " PORTER_VERSION " built in\n", stdout);
  fflush(stdout);
}

/* arg = { [-n] = progname/options..., [0] = script, args... } */
static void create_arg_table(lua_State *L, char **argv, int argc, int script) {
  if (script == argc) script = 0; /* no script: arg[0] is the interpreter */
  int narg = argc - (script + 1);
  lua_createtable(L, narg, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, status);
}

static int dofile(lua_State *L, const char *name) { return dochunk(L, luaL_loadfile(L, name)); }

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l mod or -l g=mod */
static int dolibrary(lua_State *L, char *globname) {
  char *suffix = NULL; /* "-l a-b" loads module a-b into global a */
  char *modname = strchr(globname, '=');
  if (modname == NULL) {
    modname = globname;
    suffix = strchr(modname, *LUA_IGMARK);
  } else {
    *modname = '\0';
    modname++;
  }
  lua_getglobal(L, "require");
  lua_pushstring(L, modname);
  int status = docall(L, 1, 1);
  if (status == LUA_OK) {
    if (suffix) *suffix = '\0';
    lua_setglobal(L, globname);
  }
  return report(L, status);
}

static int pushargs(lua_State *L) {
  if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
  int n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  int i;
  for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -i);
  return n;
}

static int handle_script(lua_State *L, char **argv) {
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL; /* stdin */
  int status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = pushargs(L);
    status = docall(L, n, LUA_MULTRET);
  }
  return report(L, status);
}

#define has_error 1
#define has_i 2
#define has_v 4
#define has_e 8
#define has_E 16

static int collectargs(char **argv, int *first) {
  int args = 0, i;
  if (argv[0] != NULL) {
    if (argv[0][0]) progname = argv[0];
  } else {
    *first = -1;
    return 0;
  }
  for (i = 1; argv[i] != NULL; i++) {
    *first = i;
    if (argv[i][0] != '-') return args;
    switch (argv[i][1]) {
      case '-':
        if (argv[i][2] != '\0') return has_error;
        *first = i + 1;
        return args;
      case '\0':
        return args;
      case 'E':
        if (argv[i][2] != '\0') return has_error;
        args |= has_E;
        break;
      case 'W':
        if (argv[i][2] != '\0') return has_error;
        break;
      case 'i':
        args |= has_i; /* fallthrough: -i implies -v */
        /* FALLTHROUGH */
      case 'v':
        if (argv[i][2] != '\0') return has_error;
        args |= has_v;
        break;
      case 'e':
        args |= has_e; /* FALLTHROUGH */
      case 'l':
        if (argv[i][2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-') return has_error;
        }
        break;
      default:
        return has_error;
    }
  }
  *first = i;
  return args;
}

static int runargs(lua_State *L, char **argv, int n) {
  for (int i = 1; i < n; i++) {
    int option = argv[i][1];
    switch (option) {
      case 'e':
      case 'l': {
        char *extra = argv[i] + 2;
        if (*extra == '\0') extra = argv[++i];
        int status = option == 'e' ? dostring(L, extra, "=(command line)") : dolibrary(L, extra);
        if (status != LUA_OK) return 0;
        break;
      }
      case 'W':
        lua_warning(L, "@on", 0);
        break;
    }
  }
  return 1;
}

static int handle_luainit(lua_State *L) {
  const char *name = "=" LUA_INITVARVERSION;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=" LUA_INIT_VAR;
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dofile(L, init + 1);
  return dostring(L, init, name);
}

/* ---- the REPL ---- */
static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    if (lmsg >= sizeof("<eof>") - 1 && strcmp(msg + lmsg - (sizeof("<eof>") - 1), "<eof>") == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* The prompt: _PROMPT or _PROMPT2 when they are strings, as in lua.c */
static const char *get_prompt(lua_State *L, int firstline) {
  lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2");
  const char *p = lua_tostring(L, -1);
  if (!p) p = firstline ? "> " : ">> ";
  lua_pop(L, 1); /* the global keeps the string alive */
  return p;
}

/* Lines come through readline, with editing and history, as in Debian's lua5.4 (which also
 * makes readline echo input that is not a terminal's, so piped sessions read alike). */
static int pushline(lua_State *L, int firstline) {
  char *b = readline(get_prompt(L, firstline));
  if (!b) return 0;
  size_t l = strlen(b);
  if (l > 0 && b[l - 1] == '\n') b[--l] = '\0';
  if (firstline && b[0] == '=') lua_pushfstring(L, "return %s", b + 1);
  else lua_pushlstring(L, b, l);
  free(b);
  return 1;
}

static void saveline(lua_State *L, int idx) {
  const char *line = lua_tostring(L, idx);
  if (line && *line) add_history(line);
}

static int addreturn(lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);
    saveline(L, -2); /* the line as typed */
  } else {
    lua_pop(L, 2);
  }
  return status;
}

static int multiline(lua_State *L) {
  for (;;) {
    size_t len;
    const char *line = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, line, len, "=stdin");
    if (!incomplete(L, status) || !pushline(L, 0)) {
      saveline(L, 1); /* the whole chunk, as one history entry */
      return status;
    }
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

static int loadline(lua_State *L) {
  lua_settop(L, 0);
  if (!pushline(L, 1)) return -1;
  int status = addreturn(L);
  if (status != LUA_OK) status = multiline(L);
  lua_remove(L, 1);
  return status;
}

static void l_print(lua_State *L) {
  int n = lua_gettop(L);
  if (n > 0) {
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK)
      message(progname, lua_pushfstring(L, "error calling 'print' (%s)", lua_tostring(L, -1)));
  }
}

static void doREPL(lua_State *L) {
  int status;
  const char *oldprogname = progname;
  progname = NULL;
  while ((status = loadline(L)) != -1) {
    if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) l_print(L);
    else report(L, status);
  }
  lua_settop(L, 0);
  fputs("\n", stdout);
  fflush(stdout);
  progname = oldprogname;
}

/* ---- main ---- */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script;
  int args = collectargs(argv, &script);
  int optlim = script;
  luaL_checkversion(L);
  if (args == has_error) {
    usage(argv[script]);
    return 0;
  }
  if (args & has_v) print_version();
  if (args & has_E) {
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  interp_preload(L);
  create_arg_table(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(args & has_E)) {
    if (handle_luainit(L) != LUA_OK) return 0;
  }
  if (!runargs(L, argv, optlim)) return 0;
  if (script < argc) {
    if (handle_script(L, argv + script) != LUA_OK) return 0;
  }
  if (args & has_i) {
    doREPL(L);
  } else if (script == argc && !(args & (has_e | has_v))) {
    if (isatty(0)) {
      print_version();
      doREPL(L);
    } else {
      dofile(L, NULL);
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int run(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    message(argv[0], "cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int result = lua_toboolean(L, -1);
  report(L, status);
  lua_close(L);
  return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Run as porter-sandbox (a link to porter-lua): the command line of lua/porter_sandbox/cli.lua,
 * told where this executable is so that it finds porter-sandboxd beside it. */
static int cli_main(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = lua_touserdata(L, 2);
  luaL_openlibs(L);
  interp_preload(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "porter_sandbox.cli");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "main");
  lua_createtable(L, argc, 0);
  for (int i = 1; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i);
  }
  lua_createtable(L, 0, 1);
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    lua_pushstring(L, self);
    lua_setfield(L, -2, "exe");
  }
  lua_call(L, 2, 1);
  return 1;
}

static int run_cli(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  if (!L) return EXIT_FAILURE;
  lua_pushcfunction(L, msghandler);
  lua_pushcfunction(L, cli_main);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 1);
  int code = status == LUA_OK ? (int)lua_tointeger(L, -1) : EXIT_FAILURE;
  if (status != LUA_OK) report(L, status);
  lua_close(L);
  return code;
}

int main(int argc, char **argv) {
  const char *base = strrchr(argv[0], '/');
  if (strcmp(base ? base + 1 : argv[0], "porter-sandbox") == 0) return run_cli(argc, argv);
  if (argc > 1 && strcmp(argv[1], "--help") == 0) {
    usage(NULL);
    return EXIT_SUCCESS;
  }
  if (argc > 1 && strcmp(argv[1], "--local") == 0) {
    /* drop the option so the script sees the same `arg` as under lua5.4 */
    argv[1] = argv[0];
    argv++;
    argc--;
    static local_daemon d; /* outlives main for the atexit handler */
    if (argc > 2 && strcmp(argv[1], "--state-dir") == 0) {
      snprintf(d.state, sizeof d.state, "%s", argv[2]);
      argv[2] = argv[0];
      argv += 2;
      argc -= 2;
    }
    if (local_start(&d, argv[0]) != 0) return EXIT_FAILURE;
    int status = run(argc, argv);
    local_stop(&d);
    return status;
  }
  return run(argc, argv);
}
