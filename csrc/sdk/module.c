/* luaopen_porter_sandbox_core: the C half of `require "porter_sandbox"`. */
#include "porter.h"

/* _sleep(seconds): the blocking sleep of sync code (the façade's sleep() yields in tasks). */
static int core_sleep(lua_State *L) {
  porter_sleep(luaL_checknumber(L, 1));
  return 0;
}

/* _got(v): how an error describes a value ('the string "30"', 'a table'), as C's do */
static int core_got(lua_State *L) {
  luaL_checkany(L, 1);
  porter_got(L, 1);
  return 1;
}

/* _options(who, opts, {known names}): the façade's option tables checked as C's are */
static int core_options(lua_State *L) {
  const char *who = luaL_checkstring(L, 1);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 3);
  luaL_argcheck(L, n >= 0 && n < 64, 3, "at most 63 names");
  const char *known[64];
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 3, i);
    known[i - 1] = luaL_checkstring(L, -1); /* the table keeps it alive */
    lua_pop(L, 1);
  }
  known[n] = NULL;
  porter_check_options(L, 2, who, known);
  return 0;
}

static int core_now(lua_State *L) {
  lua_pushnumber(L, porter_now());
  return 1;
}

__attribute__((visibility("default"))) int luaopen_porter_sandbox_core(lua_State *L) {
  static int curl_ready;
  if (!curl_ready) {
    /* not thread-safe by libcurl's design; Lua states are opened from one thread */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return porter_raise(L, ERR_BASE, 0, 0, "could not initialise libcurl");
    curl_ready = 1;
  }
  for (int i = 0; i < OP__COUNT; i++)
    if (!porter_ops[i].id || !porter_ops[i].group)
      return luaL_error(L, "porter_sandbox: operation %d of api/openapi.yaml has no entry in ops.c", i);
  lua_newtable(L);
  int m = lua_gettop(L);
  lua_pushliteral(L, PORTER_VERSION);
  lua_setfield(L, m, "VERSION");
  porter_error_open(L, m);
  model_open(L);
  sandbox_open(L);
  volume_open(L);
  client_open(L, m);
  localfs_open(L, m);
  lua_pushcfunction(L, handle_client_lua);
  lua_setfield(L, m, "_client");
  lua_pushcfunction(L, volpath_lua);
  lua_setfield(L, m, "_volpath");
  lua_pushcfunction(L, core_sleep);
  lua_setfield(L, m, "_sleep");
  lua_pushcfunction(L, core_got);
  lua_setfield(L, m, "_got");
  lua_pushcfunction(L, core_options);
  lua_setfield(L, m, "_options");
  lua_pushcfunction(L, core_now);
  lua_setfield(L, m, "_now");
  /* the metatables, so the façade can add methods where Lua is clearer */
  lua_newtable(L);
  const char *mts[] = {MT_CLIENT, MT_ASYNC, MT_SANDBOX, MT_VOLUME, MT_ERROR};
  const char *names[] = {"Porter", "AsyncPorter", "Sandbox", "Volume", "Error"};
  for (int i = 0; i < 5; i++) {
    luaL_getmetatable(L, mts[i]);
    lua_setfield(L, -2, names[i]);
  }
  lua_setfield(L, m, "_metatables");
  repr_push_all(L);
  lua_setfield(L, m, "_reprs");
  return 1;
}
