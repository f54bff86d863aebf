/* The module, built in: package.preload entries for porter_sandbox.core (C) and for every
 * file of the Lua façade embedded at build time (scripts/embed.lua). */
#include <lauxlib.h>
#include "embedded_lua.h"
#include "interp.h"

int luaopen_porter_sandbox_core(lua_State *L);

static int load_embedded(lua_State *L) {
  const struct embedded_lua *e = &embedded_lua[lua_tointeger(L, lua_upvalueindex(1))];
  if (luaL_loadbuffer(L, e->data, e->len, e->chunkname) != LUA_OK) return lua_error(L);
  lua_pushstring(L, e->module);
  lua_call(L, 1, 1);
  return 1;
}

/* lua-cjson from where it was found at build time */
static int load_cjson(lua_State *L) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loadlib");
  lua_pushliteral(L, CJSON_SO);
  lua_pushliteral(L, "luaopen_cjson");
  lua_call(L, 2, 2);
  if (lua_isnil(L, -2)) return luaL_error(L, "cannot load lua-cjson from %s: %s", CJSON_SO, lua_tostring(L, -1));
  lua_pop(L, 1);
  lua_pushstring(L, "cjson");
  lua_call(L, 1, 1);
  return 1;
}

void interp_preload(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  if (CJSON_SO[0]) {
    lua_pushcfunction(L, load_cjson);
    lua_setfield(L, -2, "cjson");
  }
  lua_pushcfunction(L, luaopen_porter_sandbox_core);
  lua_setfield(L, -2, "porter_sandbox.core");
  for (int i = 0; embedded_lua[i].module; i++) {
    lua_pushinteger(L, i);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, embedded_lua[i].module);
  }
  lua_pop(L, 1);
}
