/* Handle classes: one metatable each, registered once. A handle is a userdata with no C
 * payload; its fields live in a Lua table (user value 1) and its client in user value 2, so
 * that a handle keeps its client alive and sees it closed. */
#include <string.h>
#include "porter.h"

/* __index of handles and clients: methods first, then the object's fields (id, phase, ...,
 * or a client's namespaces and resolved config), kept in user value 1. */
static int fields_index(lua_State *L) {
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
  return porter_argerror(L, "%s fields are read-only (tried to set '%s')", lua_tostring(L, -1), key);
}

void porter_wrap_table(lua_State *L, int idx) {
#ifdef PORTER_EMULATE_YIELDK
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_iscfunction(L, -1)) {
      porter_wrap_yielding(L);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, idx); /* an existing key: next() may go on */
    } else {
      lua_pop(L, 1);
    }
  }
#else
  (void)L, (void)idx;
#endif
}

void class_register(lua_State *L, const char *mt, const luaL_Reg *methods, const luaL_Reg *more,
                    lua_CFunction tostring) {
  luaL_newmetatable(L, mt);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  if (more) luaL_setfuncs(L, more, 0);
  porter_wrap_table(L, -1);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "methods"); /* the Lua façade adds its methods here */
  lua_pushcclosure(L, fields_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, handle_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushstring(L, mt + sizeof "porter_sandbox." - 1);
  lua_setfield(L, -2, "__name");
}

/* the client at idx, Porter or AsyncPorter, or NULL */
porter_client *client_test(lua_State *L, int idx) {
  porter_client *c = luaL_testudata(L, idx, MT_CLIENT);
  if (!c) c = luaL_testudata(L, idx, MT_ASYNC);
  return c;
}

porter_client *client_check(lua_State *L, int idx) {
  porter_client *c = client_test(L, idx);
  if (!c) porter_argerror(L, "expected a Porter client (call methods with ':'), got %s", luaL_typename(L, idx));
  if (c->closed) porter_raise(L, ERR_BASE, 0, 0, "attempt to use a closed client");
  return c;
}

void ns_prologue(lua_State *L) {
  if (lua_gettop(L) >= 1 && lua_rawequal(L, 1, lua_upvalueindex(2))) lua_remove(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
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
  /* a volume of type object is a handle of its own kind */
  if (!strcmp(mt, MT_VOLUME)) {
    lua_getfield(L, fields_idx, "type");
    if (lua_type(L, -1) == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "object")) mt = MT_OBJECT_VOLUME;
    lua_pop(L, 1);
  }
  luaL_setmetatable(L, mt);
}

porter_client *handle_prologue(lua_State *L, const char *mt) {
  if (!luaL_testudata(L, 1, mt))
    porter_argerror(L, "expected a %s as self (call methods with ':', e.g. sb:refresh()), got %s",
                    mt + sizeof "porter_sandbox." - 1, luaL_typename(L, 1));
  lua_getiuservalue(L, 1, 2);
  lua_insert(L, 1);
  return client_check(L, 1);
}

void handle_fields(lua_State *L, int idx) {
  lua_getiuservalue(L, idx, 1);
}

int handle_merge_k(lua_State *L, int status, lua_KContext ctx) {
  handle_fields(L, 2);
  table_merge(L, -1, -2);
  lua_pop(L, 1);
  return 1;
}

void opt_table(lua_State *L, int idx) {
  if (lua_isnil(L, idx)) {
    lua_newtable(L);
    lua_replace(L, idx);
  }
}

/* core._client(handle): the client a handle calls through, for the façade's transfers */
int handle_client_lua(lua_State *L) {
  luaL_checktype(L, 1, LUA_TUSERDATA);
  if (lua_getiuservalue(L, 1, 2) == LUA_TNONE) lua_pushnil(L);
  return 1;
}

int k_handle(lua_State *L, int status, lua_KContext ctx) {
  handle_push(L, (const char *)ctx, 1, -1);
  return 1;
}

void push_handles(lua_State *L, const char *mt, int client_idx, int idx) {
  idx = lua_absindex(L, idx);
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  lua_createtable(L, (int)n, 2);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    handle_push(L, mt, client_idx, -1);
    lua_rawseti(L, -3, i);
    lua_pop(L, 1);
  }
}
