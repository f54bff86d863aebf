/* The low-level client: one function per operationId, answering decoded tables.
 * Arguments: the path parameters in order, then the query table (operations with a query),
 * then the body (a table, or for file content a string or file handle), then options
 * {timeout = seconds (0: none), range = "bytes=a-b"}. */
#include <string.h>
#include "porter.h"

/* Reads the options table at idx into cs; raises on anything unknown. */
void call_opts(lua_State *L, int idx, call_spec *cs) {
  static const char *const known[] = {"timeout", "range", "progress", NULL};
  if (!porter_options_table(L, idx, cs->what)) return;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    if (!strcmp(k, "timeout")) {
      if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) < 0)
        porter_argerror(L, "%s: 'timeout' must be a number of seconds, 0 for none (got %s)", cs->what,
                        porter_got(L, -1));
      cs->timeout = lua_tonumber(L, -1);
    } else if (!strcmp(k, "range")) {
      const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
      if (!v || strncmp(v, "bytes=", 6) || !v[6])
        porter_argerror(L, "%s: 'range' must be a string like \"bytes=0-99\" (got %s)", cs->what, porter_got(L, -1));
      cs->range = v + 6; /* the options table keeps it alive for the call */
    } else if (!strcmp(k, "progress")) {
      if (!lua_isfunction(L, -1))
        porter_argerror(L, "%s: 'progress' must be a function(done_bytes, total_bytes) (got %s)", cs->what,
                        porter_got(L, -1));
      cs->progress_idx = lua_absindex(L, idx); /* porter_call takes opts.progress from there */
    } else {
      porter_unknown_option(L, -2, cs->what, known);
    }
    lua_pop(L, 1);
  }
}

void push_read_meta(lua_State *L, const porter_preq *r) {
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, r->status);
  lua_setfield(L, -2, "status");
  const char *names[] = {"content_range", "last_modified", "content_type"};
  const char *values[] = {r->content_range, r->last_modified, r->content_type};
  for (int i = 0; i < 3; i++) {
    if (!values[i][0]) continue;
    lua_pushstring(L, values[i]);
    lua_setfield(L, -2, names[i]);
  }
}

/* stack: ..., preq, result */
static int raw_done(lua_State *L, int status, lua_KContext ctx) {
  porter_preq *r = lua_touserdata(L, -2);
  if (!r->op->octets) return 1;
  push_read_meta(L, r);
  return 2;
}

int raw_op(lua_State *L) {
  ns_prologue(L);
  const op_def *op = lua_touserdata(L, lua_upvalueindex(3));
  call_spec cs = {op, op->id, 1, 2, 0, 0, NULL, -1, 0};
  int n = 2 + op->npath;
  if (op->query) cs.query_idx = n++;
  if (op->body != CT_BODY_NONE) cs.body_idx = n++;
  lua_settop(L, n);
  call_opts(L, n, &cs);
  return porter_call(L, &cs, raw_done, 0);
}

int k_result(lua_State *L, int status, lua_KContext ctx) { return 1; }

int k_field(lua_State *L, int status, lua_KContext ctx) {
  lua_getfield(L, -1, (const char *)ctx);
  return 1;
}

int k_none(lua_State *L, int status, lua_KContext ctx) { return 0; }
