/* porter-lua internals. */
#ifndef INTERP_H
#define INTERP_H
#include <sys/types.h>
#include <lua.h>

/* Makes `require "porter_sandbox"` work without LUA_PATH/LUA_CPATH: the C module and the
 * embedded Lua façade go into package.preload. */
void interp_preload(lua_State *L);

/* --local: a porter-sandboxd started for the script, on a free loopback port, with a private
 * state dir removed at exit (so that a script runs twice, and two at once), unless
 * --state-dir DIR names one to keep. */
typedef struct local_daemon {
  pid_t pid;
  char log[64];    /* its stderr, shown if it fails to start */
  char state[4096];
  int throwaway;   /* state is ours to remove */
  char sockdir[64]; /* a dir of ours alone (0700) holding the server's Unix socket, or "" */
} local_daemon;
int local_start(local_daemon *d, const char *progname); /* 0 when ready; sets PORTER_SANDBOX_BASE_URL */
void local_stop(local_daemon *d);

#endif
