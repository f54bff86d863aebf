/* Error values: tables sharing one metatable, raised with lua_error so that pcall hands the
 * caller a value with name, message, status_code and body, and lua.c's traceback prints it
 * through __tostring. Classes are plain tables linked by `parent`, exposed on the module. */
#include <stdarg.h>
#include <string.h>
#include "porter.h"

static const struct { const char *name; err_class parent; } classes[ERR__COUNT] = {
  [ERR_BASE] = {"Error", ERR_BASE},
  [ERR_SANDBOX] = {"SandboxError", ERR_BASE},
  [ERR_AUTH] = {"AuthenticationError", ERR_SANDBOX},
  [ERR_NOTFOUND] = {"NotFoundError", ERR_SANDBOX},
  [ERR_RATELIMIT] = {"RateLimitError", ERR_SANDBOX},
  [ERR_SERVER] = {"ServerError", ERR_SANDBOX},
  [ERR_TIMEOUT] = {"SandboxTimeoutError", ERR_SANDBOX},
  [ERR_CONFLICT] = {"ConflictError", ERR_SANDBOX},
  [ERR_CONNECTION] = {"ConnectionError", ERR_SANDBOX},
  [ERR_CONFIG] = {"ConfigError", ERR_BASE},
  [ERR_ARGUMENT] = {"ArgumentError", ERR_BASE},
};

/* Registry key of the array of class tables, indexed by err_class + 1. */
static const char CLASSES_KEY[] = "porter_sandbox.errclasses";

/* err:is(cls): walks the parent chain of the error's class. */
static int err_is(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_getfield(L, 1, "class");
  while (lua_istable(L, -1)) {
    if (lua_rawequal(L, -1, 2)) {
      lua_pushboolean(L, 1);
      return 1;
    }
    lua_getfield(L, -1, "parent");
    lua_remove(L, -2);
  }
  lua_pushboolean(L, 0);
  return 1;
}

/* "where: Name: message (HTTP n)", like error("...")'s "file:line: ..." */
static int err_tostring(lua_State *L) {
  luaL_Buffer b;
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "message");
  lua_getfield(L, 1, "status_code");
  lua_getfield(L, 1, "where");
  luaL_buffinit(L, &b);
  if (lua_type(L, 5) == LUA_TSTRING) {
    lua_pushvalue(L, 5); /* above the buffer's own slot */
    luaL_addvalue(&b);
    luaL_addstring(&b, ": ");
  }
  luaL_addstring(&b, luaL_optstring(L, 2, "Error"));
  luaL_addstring(&b, ": ");
  luaL_addstring(&b, luaL_optstring(L, 3, ""));
  if (lua_isinteger(L, 4)) {
    lua_pushfstring(L, " (HTTP %d)", (int)lua_tointeger(L, 4));
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return 1;
}

/* cls:is(other) on a class table, and calling a class builds an error value of it:
 * sandbox.NotFoundError{message = "..."} is handy for users' own fakes. */
static int class_call(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "id");
  err_class cls = (err_class)luaL_checkinteger(L, -1);
  lua_pop(L, 1);
  const char *msg = "";
  int status = 0, body = 0;
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "message");
    msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "";
    lua_getfield(L, 2, "status_code");
    status = (int)luaL_optinteger(L, -1, 0);
    lua_getfield(L, 2, "body");
    body = lua_isnil(L, -1) ? 0 : lua_gettop(L);
  } else if (lua_isstring(L, 2)) {
    msg = lua_tostring(L, 2);
  }
  porter_error_push(L, cls, msg, status, body);
  return 1;
}

static int class_tostring(lua_State *L) {
  lua_getfield(L, 1, "name");
  return 1;
}

void porter_error_open(lua_State *L, int module_idx) {
  module_idx = lua_absindex(L, module_idx);
  /* error value metatable */
  luaL_newmetatable(L, MT_ERROR);
  lua_newtable(L);
  lua_pushcfunction(L, err_is);
  lua_setfield(L, -2, "is");
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, err_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);

  /* class metatable */
  lua_newtable(L);
  lua_pushcfunction(L, class_call);
  lua_setfield(L, -2, "__call");
  lua_pushcfunction(L, class_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  lua_pushcfunction(L, err_is);
  lua_setfield(L, -2, "is");
  lua_setfield(L, -2, "__index");
  int cmt = lua_gettop(L);

  lua_createtable(L, ERR__COUNT, 0);
  int arr = lua_gettop(L);
  for (int i = 0; i < ERR__COUNT; i++) {
    lua_newtable(L);
    lua_pushstring(L, classes[i].name);
    lua_setfield(L, -2, "name");
    lua_pushinteger(L, i);
    lua_setfield(L, -2, "id");
    /* a class is its own `class`, so cls:is(Parent) works on classes too */
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "class");
    if (i != ERR_BASE) {
      lua_rawgeti(L, arr, classes[i].parent + 1);
      lua_setfield(L, -2, "parent");
    }
    lua_pushvalue(L, cmt);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, module_idx, classes[i].name);
    lua_rawseti(L, arr, i + 1);
  }
  lua_setfield(L, LUA_REGISTRYINDEX, CLASSES_KEY);
  lua_pop(L, 1);
}

/* A frame of the SDK's own: C functions, and the façade's chunks (lua/porter_sandbox/x.lua,
 * embedded in porter-lua as "@porter_sandbox/x.lua", installed under .../porter_sandbox/). */
static int sdk_frame(const lua_Debug *ar) {
  if (*ar->what == 'C') return 1;
  const char *dir = strstr(ar->source, "porter_sandbox/");
  return dir && (dir == ar->source + 1 || dir[-1] == '/') && !strchr(dir + sizeof "porter_sandbox/" - 1, '/');
}

/* Pushes "file:line" of the first frame outside the SDK, or nil (called from C alone). */
static void push_where(lua_State *L) {
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "Sl", &ar)) break;
    if (sdk_frame(&ar)) continue;
    if (ar.currentline > 0) lua_pushfstring(L, "%s:%d", ar.short_src, ar.currentline);
    else lua_pushstring(L, ar.short_src);
    return;
  }
  lua_pushnil(L);
}

void porter_error_push(lua_State *L, err_class cls, const char *message, int status, int body_idx) {
  if (body_idx) body_idx = lua_absindex(L, body_idx);
  lua_createtable(L, 0, 7);
  push_where(L);
  lua_setfield(L, -2, "where");
  lua_getfield(L, LUA_REGISTRYINDEX, CLASSES_KEY);
  lua_rawgeti(L, -1, cls + 1);
  lua_setfield(L, -3, "class");
  lua_pop(L, 1);
  lua_pushstring(L, classes[cls].name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, message);
  lua_setfield(L, -2, "message");
  if (status > 0) {
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status_code");
  }
  if (body_idx) {
    lua_pushvalue(L, body_idx);
    lua_setfield(L, -2, "body");
  }
  luaL_setmetatable(L, MT_ERROR);
}

int porter_raise(lua_State *L, err_class cls, int status, int body_idx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char *msg = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  porter_error_push(L, cls, msg, status, body_idx);
  lua_error(L);
  __builtin_unreachable(); /* lua_error longjmps (or throws); its prototype does not say so */
}

int porter_argerror(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char *msg = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  porter_error_push(L, ERR_ARGUMENT, msg, 0, 0);
  lua_error(L);
  __builtin_unreachable();
}

int porter_unknown_option(lua_State *L, int key_idx, const char *who, const char *const *known) {
  const char *name = luaL_tolstring(L, key_idx, NULL);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (const char *const *k = known; *k; k++) {
    if (k != known) luaL_addstring(&b, ", ");
    luaL_addstring(&b, *k);
  }
  luaL_pushresult(&b);
  return porter_argerror(L, "%s: unknown option '%s' (expected one of: %s)", who, name, lua_tostring(L, -1));
}

int porter_options_table(lua_State *L, int idx, const char *who) {
  if (lua_isnoneornil(L, idx)) return 0;
  if (!lua_istable(L, idx)) porter_argerror(L, "%s: options must be a table (got %s)", who, porter_got(L, idx));
  return 1;
}

void porter_check_options(lua_State *L, int idx, const char *who, const char *const *known) {
  idx = lua_absindex(L, idx);
  if (!porter_options_table(L, idx, who)) return;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    const char *const *k = known;
    if (lua_type(L, -1) == LUA_TSTRING)
      while (*k && strcmp(*k, lua_tostring(L, -1))) k++;
    if (lua_type(L, -1) != LUA_TSTRING || !*k) porter_unknown_option(L, -1, who, known);
  }
}

const char *porter_got(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
      return lua_pushfstring(L, "the string \"%s\"", lua_tostring(L, idx));
    case LUA_TNUMBER:
    case LUA_TBOOLEAN:
    case LUA_TNIL:
      return luaL_tolstring(L, idx, NULL);
    default:
      return lua_pushfstring(L, "a %s", luaL_typename(L, idx));
  }
}
