/* porter.volumes and the Volume handle. Tree walks (listdir, iterdir, search, stream) are
 * in the Lua façade on top of _list and read_file. */
#include <string.h>
#include "porter.h"


/* "a//b/" -> "/a/b", "" -> "/": the server wants '/'-rooted paths without a trailing slash */
const char *volpath_push(lua_State *L, int idx, const char *what) {
  if (lua_type(L, idx) != LUA_TSTRING)
    porter_argerror(L, "%s: path must be a string (got %s)", what, luaL_typename(L, idx));
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  if (memchr(s, '\0', n)) porter_argerror(L, "%s: path must not contain NUL bytes", what);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  size_t i = 0;
  int any = 0;
  while (i < n) {
    while (i < n && s[i] == '/') i++;
    size_t j = i;
    while (j < n && s[j] != '/') j++;
    if (j > i) {
      luaL_addchar(&b, '/');
      luaL_addlstring(&b, s + i, j - i);
      any = 1;
    }
    i = j;
  }
  if (!any) luaL_addchar(&b, '/');
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

int volpath_lua(lua_State *L) {
  volpath_push(L, 1, "path");
  return 1;
}

void volume_push(lua_State *L, int client_idx, int record_idx) {
  handle_push(L, MT_VOLUME, client_idx, record_idx);
}

/* ---- porter.volumes ---- */
static int volumes_create(lua_State *L) {
  ns_prologue(L);
  lua_settop(L, 2);
  opt_table(L, 2);
  call_spec cs = {OP(create_volume), "volumes.create", 1, 0, 0, 2, NULL, -1, 0};
  return porter_call(L, &cs, k_handle, (lua_KContext)MT_VOLUME);
}

static int list_done(lua_State *L, int status, lua_KContext ctx) {
  lua_getfield(L, -1, "volumes");
  push_handles(L, MT_VOLUME, 1, -1);
  return 1;
}

static int volumes_list(lua_State *L) {
  ns_prologue(L);
  lua_settop(L, 1);
  call_spec cs = {OP(list_volumes), "volumes.list", 1, 0, 0, 0, NULL, -1, 0};
  return porter_call(L, &cs, list_done, 0);
}

/* get and delete resolve the name with lookup first; ctx says which follows */
static int by_name_found(lua_State *L, int status, lua_KContext ctx) {
  lua_getfield(L, -1, "id");
  call_spec cs = {ctx ? OP(delete_volume) : OP(get_volume), ctx ? "volumes.delete" : "volumes.get", 1,
                  lua_gettop(L), 0, 0, NULL, -1, 0};
  return porter_call(L, &cs, ctx ? k_none : k_handle, (lua_KContext)MT_VOLUME);
}

static int by_name(lua_State *L, int del) {
  ns_prologue(L);
  lua_settop(L, 2);
  const char *what = del ? "volumes.delete" : "volumes.get";
  if (lua_type(L, 2) != LUA_TSTRING || lua_rawlen(L, 2) == 0)
    porter_argerror(L, "%s: 'name' must be a non-empty string (got %s)", what, luaL_typename(L, 2));
  if (!strncmp(lua_tostring(L, 2), "vol_", 4)) { /* an id: a name cannot hold '_' */
    call_spec cs = {del ? OP(delete_volume) : OP(get_volume), what, 1, 2, 0, 0, NULL, -1, 0};
    return porter_call(L, &cs, del ? k_none : k_handle, (lua_KContext)MT_VOLUME);
  }
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "name");
  call_spec cs = {OP(lookup_volume), what, 1, 0, 3, 0, NULL, -1, 0};
  return porter_call(L, &cs, by_name_found, del);
}

static int volumes_get(lua_State *L) { return by_name(L, 0); }
static int volumes_delete(lua_State *L) { return by_name(L, 1); }

const luaL_Reg volumes_ns[] = {
  {"create", volumes_create},
  {"list", volumes_list},
  {"get", volumes_get},
  {"delete", volumes_delete},
  {NULL, NULL},
};

/* ---- Volume handle: [client, handle, args...] after the prologue ---- */
/* refresh and delete serve both kinds of volume */
static int any_volume(lua_State *L) { return luaL_testudata(L, 1, MT_OBJECT_VOLUME) != NULL; }

static int vol_refresh(lua_State *L) {
  int object = any_volume(L);
  handle_prologue(L, object ? MT_OBJECT_VOLUME : MT_VOLUME);
  lua_settop(L, 2);
  return handle_call(L, OP(get_volume), object ? "ObjectVolume:refresh" : "Volume:refresh", 0, 0, -1, handle_merge_k, 0);
}

static int vol_delete(lua_State *L) {
  int object = any_volume(L);
  handle_prologue(L, object ? MT_OBJECT_VOLUME : MT_VOLUME);
  lua_settop(L, 2);
  return handle_call(L, OP(delete_volume), object ? "ObjectVolume:delete" : "Volume:delete", 0, 0, -1, k_none, 0);
}

/* Pushes {path = normalised path at idx}. */
static void path_query(lua_State *L, int idx, const char *what) {
  lua_createtable(L, 0, 2);
  volpath_push(L, idx, what);
  lua_setfield(L, -2, "path");
}

static lua_Integer opt_nonneg(lua_State *L, int t, const char *name, const char *what, int *present) {
  lua_getfield(L, t, name);
  *present = !lua_isnil(L, -1);
  lua_Integer v = 0;
  if (*present) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
      porter_argerror(L, "%s: '%s' must be a non-negative integer (got %s)", what, name, porter_got(L, -1));
    v = lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

static int read_done(lua_State *L, int status, lua_KContext ctx) {
  push_read_meta(L, lua_touserdata(L, -2));
  return 2;
}

/* vol:read_file(path, {offset, length}) -> bytes, {content_range, last_modified, status} */
static int vol_read_file(lua_State *L) {
  const char *what = "Volume:read_file";
  handle_prologue(L, MT_VOLUME);
  lua_settop(L, 4);
  char range[64];
  call_spec cs = {OP(read_volume_file), what, 1, 5, 5, 0, NULL, -1, 0};
  if (!lua_isnil(L, 4)) {
    if (!lua_istable(L, 4)) porter_argerror(L, "%s: options must be a table (got %s)", what, luaL_typename(L, 4));
    lua_pushnil(L);
    while (lua_next(L, 4)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
      if (strcmp(k, "offset") && strcmp(k, "length") && strcmp(k, "timeout"))
        porter_argerror(L, "%s: unknown option '%s' (expected offset, length, timeout)", what,
                        luaL_tolstring(L, -2, NULL));
      lua_pop(L, 1);
    }
    int has_off, has_len;
    lua_Integer off = opt_nonneg(L, 4, "offset", what, &has_off);
    lua_Integer len = opt_nonneg(L, 4, "length", what, &has_len);
    if (has_len && len == 0) {
      lua_pushliteral(L, "");
      lua_createtable(L, 0, 0);
      return 2;
    }
    if (has_len) snprintf(range, sizeof range, "%lld-%lld", (long long)off, (long long)(off + len - 1));
    else snprintf(range, sizeof range, "%lld-", (long long)off);
    if (has_off || has_len) cs.range = range;
    lua_getfield(L, 4, "timeout");
    if (!lua_isnil(L, -1)) {
      if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) < 0)
        porter_argerror(L, "%s: 'timeout' must be a number of seconds", what);
      cs.timeout = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
  }
  path_query(L, 3, what); /* 5 */
  return handle_call_spec(L, &cs, read_done, 0);
}

/* vol:write_file(path, content): content is a string or an open file, streamed */
static int vol_write_file(lua_State *L) {
  const char *what = "Volume:write_file";
  handle_prologue(L, MT_VOLUME);
  lua_settop(L, 5);
  call_spec cs = {OP(write_volume_file), what, 1, 0, 6, 4, NULL, -1, 0};
  call_opts(L, 5, &cs);
  path_query(L, 3, what); /* 6 */
  return handle_call_spec(L, &cs, k_none, 0);
}

static int vol_move_file(lua_State *L) {
  const char *what = "Volume:move_file";
  handle_prologue(L, MT_VOLUME);
  lua_settop(L, 4);
  lua_createtable(L, 0, 2); /* 5 */
  volpath_push(L, 3, what);
  lua_setfield(L, -2, "from");
  volpath_push(L, 4, what);
  lua_setfield(L, -2, "to");
  return handle_call(L, OP(move_volume_file), what, 0, 5, -1, k_none, 0);
}

/* vol:_list(path, search): the server's FileList, for the façade's tree walks */
static int vol_list(lua_State *L) {
  const char *what = "Volume:listdir";
  handle_prologue(L, MT_VOLUME);
  lua_settop(L, 4);
  path_query(L, 3, what); /* 5 */
  if (!lua_isnil(L, 4)) {
    if (lua_type(L, 4) != LUA_TSTRING) porter_argerror(L, "Volume:search: query must be a string");
    lua_pushvalue(L, 4);
    lua_setfield(L, 5, "search");
  }
  return handle_call(L, OP(list_volume_files), what, 5, 0, -1, k_result, 0);
}

static int vol_tostring(lua_State *L) {
  handle_fields(L, 1);
  lua_getfield(L, -1, "id");
  lua_getfield(L, -2, "name");
  lua_pushfstring(L, "Volume(%s, %s)", luaL_optstring(L, -2, "?"), luaL_optstring(L, -1, "?"));
  return 1;
}

static int objvol_tostring(lua_State *L) {
  handle_fields(L, 1);
  lua_getfield(L, -1, "id");
  lua_getfield(L, -2, "name");
  lua_getfield(L, -3, "object");
  const char *bucket = "?", *prefix = "";
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "bucket");
    lua_getfield(L, -2, "prefix");
    bucket = luaL_optstring(L, -2, "?");
    prefix = luaL_optstring(L, -1, "");
  }
  lua_pushfstring(L, "ObjectVolume(%s, %s, %s%s%s)", luaL_optstring(L, 3, "?"), luaL_optstring(L, 4, "?"), bucket,
                  *prefix ? "/" : "", prefix);
  return 1;
}

static const luaL_Reg objvol_methods[] = {
  {"refresh", vol_refresh},
  {"delete", vol_delete},
  {NULL, NULL},
};

static const luaL_Reg vol_methods[] = {
  {"refresh", vol_refresh},
  {"delete", vol_delete},
  {"read_file", vol_read_file},
  {"write_file", vol_write_file},
  {"move_file", vol_move_file},
  {"_list", vol_list},
  {NULL, NULL},
};

void volume_open(lua_State *L) {
  class_register(L, MT_VOLUME, vol_methods, NULL, vol_tostring);
  lua_pop(L, 1);
  class_register(L, MT_OBJECT_VOLUME, objvol_methods, NULL, objvol_tostring);
  lua_pop(L, 1);
}
