/* A handle's calls: through its client, with its id as the operation's path parameter.
 * Above the pipeline (http.c), which is above the handle classes (class.c). */
#include "porter.h"

int handle_call_spec(lua_State *L, call_spec *cs, lua_KFunction k, lua_KContext ctx) {
  handle_fields(L, 2);
  lua_getfield(L, -1, "id");
  lua_remove(L, -2);
  cs->client_idx = 1;
  cs->path_idx = lua_gettop(L);
  return porter_call(L, cs, k, ctx);
}

int handle_call(lua_State *L, const op_def *op, const char *what, int query_idx, int body_idx, double timeout,
                lua_KFunction k, lua_KContext ctx) {
  call_spec cs = {op, what, 1, 0, query_idx, body_idx, NULL, timeout, 0};
  return handle_call_spec(L, &cs, k, ctx);
}
