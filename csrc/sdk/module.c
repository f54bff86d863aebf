/* Entry point of the C module porter_sandbox.core (placeholder until the SDK core lands). */
#include <lua.h>
#include <lauxlib.h>

int luaopen_porter_sandbox_core(lua_State *L) {
  lua_newtable(L);
  lua_pushliteral(L, "0.1.0");
  lua_setfield(L, -2, "VERSION");
  return 1;
}
