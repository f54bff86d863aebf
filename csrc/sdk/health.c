/* porter.health and porter.readiness. */
#include "porter.h"

static int check(lua_State *L, const op_def *op, const char *what) {
  ns_prologue(L);
  lua_settop(L, 1);
  call_spec cs = {op, what, 1, 0, 0, 0, NULL, -1, 0};
  return porter_call(L, &cs, k_result, 0);
}

static int health_check(lua_State *L) { return check(L, OP(health_check), "health.check"); }
static int readiness_check(lua_State *L) { return check(L, OP(readiness_check), "readiness.check"); }

const luaL_Reg health_ns[] = {{"check", health_check}, {NULL, NULL}};
const luaL_Reg readiness_ns[] = {{"check", readiness_check}, {NULL, NULL}};
