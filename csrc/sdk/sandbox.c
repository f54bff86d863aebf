/* porter.sandboxes and the Sandbox handle. */
#include <stdlib.h>
#include <string.h>
#include "porter.h"


void sandbox_push(lua_State *L, int client_idx, int record_idx) {
  handle_push(L, MT_SANDBOX, client_idx, record_idx);
}

static void check_name(lua_State *L, int idx, const char *what, const char *arg) {
  if (lua_type(L, idx) != LUA_TSTRING || lua_rawlen(L, idx) == 0)
    porter_argerror(L, "%s: '%s' must be a non-empty string (got %s)", what, arg,
                    lua_type(L, idx) == LUA_TSTRING ? "an empty string" : luaL_typename(L, idx));
}

/* ---- porter.sandboxes ---- */
static int sandboxes_create(lua_State *L) {
  ns_prologue(L);
  lua_settop(L, 2);
  /* from a snapshot, the image is "" on the wire (the snapshot is the image), as Porter's API
   * wants it: the caller need not say so. A copy: the caller's table stays as it was. */
  if (lua_istable(L, 2) && lua_getfield(L, 2, "snapshot_id") != LUA_TNIL && lua_getfield(L, 2, "image") == LUA_TNIL) {
    lua_createtable(L, 0, 8);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -4);
    }
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "image");
    lua_replace(L, 2);
  }
  lua_settop(L, 2);
  call_spec cs = {OP(create_sandbox), "sandboxes.create", 1, 0, 0, 2, NULL, -1, 0};
  return porter_call(L, &cs, k_handle, (lua_KContext)MT_SANDBOX);
}

/* lookup answered the id; now the status */
static int get_found(lua_State *L, int status, lua_KContext ctx) {
  lua_getfield(L, -1, "id");
  call_spec cs = {OP(get_sandbox), "sandboxes.get", 1, lua_gettop(L), 0, 0, NULL, -1, 0};
  return porter_call(L, &cs, k_handle, (lua_KContext)MT_SANDBOX);
}

static int sandboxes_get(lua_State *L) {
  ns_prologue(L);
  lua_settop(L, 2);
  check_name(L, 2, "sandboxes.get", "name");
  if (!strncmp(lua_tostring(L, 2), "sb_", 3)) { /* an id: a name cannot hold '_' */
    call_spec cs = {OP(get_sandbox), "sandboxes.get", 1, 2, 0, 0, NULL, -1, 0};
    return porter_call(L, &cs, k_handle, (lua_KContext)MT_SANDBOX);
  }
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "name");
  call_spec cs = {OP(lookup_sandbox), "sandboxes.get", 1, 0, 3, 0, NULL, -1, 0};
  return porter_call(L, &cs, get_found, 0);
}

static int list_done(lua_State *L, int status, lua_KContext ctx) {
  int res = lua_gettop(L);
  lua_getfield(L, res, "sandboxes");
  push_handles(L, MT_SANDBOX, 1, -1);
  lua_getfield(L, res, "pagination");
  lua_setfield(L, -2, "pagination");
  lua_getfield(L, res, "filter_values");
  lua_setfield(L, -2, "filter_values");
  return 1;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* tags = {k = v} becomes tag = {"k=v", ...}, sorted so that requests are reproducible. */
static void tags_to_query(lua_State *L, int tags, int q, const char *what) {
  if (!lua_istable(L, tags)) porter_argerror(L, "%s: 'tags' must be a table of strings (got %s)", what, luaL_typename(L, tags));
  int n = 0;
  lua_newtable(L);
  int arr = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, tags)) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      porter_argerror(L, "%s: 'tags' must map strings to strings (got %s = %s)", what, luaL_typename(L, -2),
                      luaL_typename(L, -1));
    lua_pushfstring(L, "%s=%s", lua_tostring(L, -2), lua_tostring(L, -1));
    lua_rawseti(L, arr, ++n);
    lua_pop(L, 1);
  }
  const char **v = lua_newuserdatauv(L, sizeof *v * (size_t)(n ? n : 1), 0);
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, arr, i + 1);
    v[i] = lua_tostring(L, -1);
    lua_pop(L, 1); /* still referenced by arr */
  }
  qsort(v, (size_t)n, sizeof *v, cmp_str);
  lua_newtable(L);
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, v[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, q, "tag");
  lua_pop(L, 2);
}

static int sandboxes_list(lua_State *L) {
  ns_prologue(L);
  lua_settop(L, 2);
  const char *what = "sandboxes.list";
  lua_newtable(L);
  int q = 3;
  if (!lua_isnil(L, 2)) {
    if (!lua_istable(L, 2)) porter_argerror(L, "%s: expected a table of filters (got %s)", what, luaL_typename(L, 2));
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
      if (!strcmp(k, "tags")) {
        tags_to_query(L, lua_gettop(L), q, what);
      } else if (!strcmp(k, "phase") && lua_type(L, -1) == LUA_TSTRING) {
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, -2);
        lua_rawseti(L, -2, 1);
        lua_setfield(L, q, "phase");
      } else if (!strcmp(k, "tag")) {
        porter_argerror(L, "%s: unknown option 'tag' (use tags = {key = value})", what);
      } else {
        lua_pushvalue(L, -2);
        lua_pushvalue(L, -2);
        lua_rawset(L, q);
      }
      lua_pop(L, 1);
    }
  }
  call_spec cs = {OP(list_sandboxes), what, 1, 0, q, 0, NULL, -1, 0};
  return porter_call(L, &cs, list_done, 0);
}

const luaL_Reg sandboxes_ns[] = {
  {"create", sandboxes_create},
  {"get", sandboxes_get},
  {"list", sandboxes_list},
  {NULL, NULL},
};

/* ---- Sandbox handle: stack after the prologue is [client, handle, args...] ---- */
static int sb_refresh(lua_State *L) {
  handle_prologue(L, MT_SANDBOX);
  lua_settop(L, 2);
  return handle_call(L, OP(get_sandbox), "Sandbox:refresh", 0, 0, -1, handle_merge_k, 0);
}

static int sb_exec(lua_State *L) {
  handle_prologue(L, MT_SANDBOX);
  lua_settop(L, 4);
  call_spec cs = {NULL, "Sandbox:exec", 0, 0, 0, 0, NULL, -1, 0};
  call_opts(L, 4, &cs);
  lua_createtable(L, 0, 1); /* 5 */
  lua_pushvalue(L, 3);
  lua_setfield(L, 5, "command");
  return handle_call(L, OP(exec_sandbox), cs.what, 0, 5, cs.timeout, k_result, 0);
}

static int sb_logs(lua_State *L) {
  handle_prologue(L, MT_SANDBOX);
  lua_settop(L, 3);
  return handle_call(L, OP(get_sandbox_logs), "Sandbox:logs", 3, 0, -1, k_field, (lua_KContext) "logs");
}

static int sb_terminate(lua_State *L) {
  handle_prologue(L, MT_SANDBOX);
  lua_settop(L, 2);
  return handle_call(L, OP(delete_sandbox), "Sandbox:terminate", 0, 0, -1, k_none, 0);
}

static int sb_tostring(lua_State *L) {
  handle_fields(L, 1);
  lua_getfield(L, -1, "id");
  lua_getfield(L, -2, "phase");
  if (lua_isstring(L, -1)) lua_pushfstring(L, "Sandbox(%s, %s)", lua_tostring(L, -2), lua_tostring(L, -1));
  else lua_pushfstring(L, "Sandbox(%s)", luaL_optstring(L, -2, "?"));
  return 1;
}

static const luaL_Reg sb_methods[] = {
  {"refresh", sb_refresh},
  {"exec", sb_exec},
  {"logs", sb_logs},
  {"terminate", sb_terminate},
  {NULL, NULL},
};

void sandbox_open(lua_State *L) {
  class_register(L, MT_SANDBOX, sb_methods, NULL, sb_tostring);
  lua_pop(L, 1);
}
