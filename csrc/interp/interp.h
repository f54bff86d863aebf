/* porter-lua internals. */
#ifndef INTERP_H
#define INTERP_H
#include <sys/types.h>
#include <lua.h>

/* Makes `require "porter_sandbox"` work without LUA_PATH/LUA_CPATH: the C module and the
 * embedded Lua façade go into package.preload. */
void interp_preload(lua_State *L);

/* --local: a porter-sandboxd started for the script, on a free loopback port. */
typedef struct local_daemon {
  pid_t pid;
  char log[64]; /* its stderr, shown if it fails to start */
} local_daemon;
int local_start(local_daemon *d, const char *progname); /* 0 when ready; sets PORTER_SANDBOX_BASE_URL */
void local_stop(local_daemon *d);

#endif
