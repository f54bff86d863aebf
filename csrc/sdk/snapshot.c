/* porter.snapshots (a provisional part of the API: plain records, no handle). */
#include "porter.h"

static int snapshots_create(lua_State *L) {
  ns_prologue(L);
  lua_settop(L, 3);
  opt_table(L, 3);
  call_spec cs = {OP(create_snapshot), "snapshots.create", 1, 2, 0, 3, NULL, -1, 0};
  return porter_call(L, &cs, k_result, 0);
}

static int snapshots_list(lua_State *L) {
  ns_prologue(L);
  lua_settop(L, 2);
  call_spec cs = {OP(list_snapshots), "snapshots.list", 1, 0, 2, 0, NULL, -1, 0};
  return porter_call(L, &cs, k_field, (lua_KContext) "snapshots");
}

static int snapshots_delete(lua_State *L) {
  ns_prologue(L);
  lua_settop(L, 2);
  call_spec cs = {OP(delete_snapshot), "snapshots.delete", 1, 2, 0, 0, NULL, -1, 0};
  return porter_call(L, &cs, k_none, 0);
}

const luaL_Reg snapshots_ns[] = {
  {"create", snapshots_create},
  {"list", snapshots_list},
  {"delete", snapshots_delete},
  {NULL, NULL},
};
