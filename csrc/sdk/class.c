/* Handle classes: one metatable each, registered once. A handle is a userdata with no C
 * payload; its fields live in a Lua table (user value 1) and its client in user value 2, so
 * that a handle keeps its client alive and sees it closed. */
#include "porter.h"

/* __index: methods first, then the handle's fields (id, phase, ...). */
static int handle_index(lua_State *L) {
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  if (!lua_isnil(L, -1)) return 1;
  lua_getiuservalue(L, 1, 1);
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

static int handle_newindex(lua_State *L) {
  const char *key = luaL_tolstring(L, 2, NULL);
  luaL_getmetafield(L, 1, "__name");
  return luaL_error(L, "%s fields are read-only (tried to set '%s')", lua_tostring(L, -1), key);
}

void class_register(lua_State *L, const char *mt, const luaL_Reg *methods, lua_CFunction tostring) {
  luaL_newmetatable(L, mt);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "methods"); /* the Lua façade adds its methods here */
  lua_pushcclosure(L, handle_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, handle_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushstring(L, mt + sizeof "porter_sandbox." - 1);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}

void table_merge(lua_State *L, int dst, int src) {
  dst = lua_absindex(L, dst);
  src = lua_absindex(L, src);
  lua_pushnil(L);
  while (lua_next(L, src)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, dst);
  }
}

void handle_push(lua_State *L, const char *mt, int client_idx, int fields_idx) {
  client_idx = lua_absindex(L, client_idx);
  fields_idx = lua_absindex(L, fields_idx);
  lua_newuserdatauv(L, 0, 2);
  lua_newtable(L);
  table_merge(L, -1, fields_idx);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, client_idx);
  lua_setiuservalue(L, -2, 2);
  luaL_setmetatable(L, mt);
}

porter_client *handle_prologue(lua_State *L, const char *mt) {
  luaL_checkudata(L, 1, mt);
  lua_getiuservalue(L, 1, 2);
  lua_insert(L, 1);
  return client_check(L, 1);
}

void handle_fields(lua_State *L, int idx) {
  lua_getiuservalue(L, idx, 1);
}
