/* luaopen_porter_sandbox_core: the C half of `require "porter_sandbox"`. */
#include "porter.h"

/* _sleep(seconds): the blocking sleep of sync code (the façade's sleep() yields in tasks). */
static int core_sleep(lua_State *L) {
  porter_sleep(luaL_checknumber(L, 1));
  return 0;
}

/* _got(v): how an error describes a value ('the string "30"', 'a table'), as C's do */
static int core_got(lua_State *L) {
  luaL_checkany(L, 1);
  porter_got(L, 1);
  return 1;
}

/* _options(who, opts, {known names}): the façade's option tables checked as C's are */
static int core_options(lua_State *L) {
  const char *who = luaL_checkstring(L, 1);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 3);
  luaL_argcheck(L, n >= 0 && n < 64, 3, "at most 63 names");
  const char *known[64];
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 3, i);
    known[i - 1] = luaL_checkstring(L, -1); /* the table keeps it alive */
    lua_pop(L, 1);
  }
  known[n] = NULL;
  porter_check_options(L, 2, who, known);
  return 0;
}

/* _is_integer(v): math.type(v) == "integer" on 5.3+; on 5.1 and LuaJIT a number without a
 * fraction, which is what the contract's integers arrive as there */
static int core_is_integer(lua_State *L) {
  lua_pushboolean(L, lua_isinteger(L, 1));
  return 1;
}

/* _is_utf8(s): whether s is UTF-8 as utf8.len takes it (no surrogates, at most U+10FFFF,
 * shortest forms), for every VM: 5.1 has no utf8 library */
static int core_is_utf8(lua_State *L) {
  size_t n;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
  size_t i = 0;
  int ok = 1;
  while (ok && i < n) {
    unsigned c = s[i];
    int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || i + (size_t)len > n) {
      ok = 0;
      break;
    }
    unsigned cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) ok = 0;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) ok = 0;
    i += (size_t)len;
  }
  lua_pushboolean(L, ok);
  return 1;
}

static int core_now(lua_State *L) {
  lua_pushnumber(L, porter_now());
  return 1;
}

__attribute__((visibility("default"))) int luaopen_porter_sandbox_core(lua_State *L) {
  static int curl_ready;
  if (!curl_ready) {
    /* not thread-safe by libcurl's design; Lua states are opened from one thread */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return porter_raise(L, ERR_BASE, 0, 0, "could not initialise libcurl");
    curl_ready = 1;
  }
  for (int i = 0; i < OP__COUNT; i++)
    if (!porter_ops[i].id || !porter_ops[i].group)
      return luaL_error(L, "porter_sandbox: operation %d of api/openapi.yaml has no entry in ops.c", i);
  porter_yield_open(L);
  lua_newtable(L);
  int m = lua_gettop(L);
  lua_pushliteral(L, PORTER_VERSION);
  lua_setfield(L, m, "VERSION");
  porter_error_open(L, m);
  model_open(L);
  sandbox_open(L);
  volume_open(L);
  client_open(L, m);
  localfs_open(L, m);
  lua_pushcfunction(L, handle_client_lua);
  lua_setfield(L, m, "_client");
  lua_pushcfunction(L, volpath_lua);
  lua_setfield(L, m, "_volpath");
  lua_pushcfunction(L, core_sleep);
  lua_setfield(L, m, "_sleep");
  lua_pushcfunction(L, core_got);
  lua_setfield(L, m, "_got");
  lua_pushcfunction(L, core_options);
  lua_setfield(L, m, "_options");
  lua_pushcfunction(L, core_now);
  lua_setfield(L, m, "_now");
  lua_pushcfunction(L, core_is_integer);
  lua_setfield(L, m, "_is_integer");
  lua_pushcfunction(L, core_is_utf8);
  lua_setfield(L, m, "_is_utf8");
  /* whether AsyncPorter works here: its calls yield from C (not on Lua 5.1) */
#if defined(PORTER_HAVE_YIELDK) || defined(PORTER_EMULATE_YIELDK)
  lua_pushboolean(L, 1);
#else
  lua_pushboolean(L, 0);
#endif
  lua_setfield(L, m, "HAS_ASYNC");
  /* the metatables, so the façade can add methods where Lua is clearer */
  lua_newtable(L);
  const char *mts[] = {MT_CLIENT, MT_ASYNC, MT_SANDBOX, MT_VOLUME, MT_OBJECT_VOLUME, MT_ERROR};
  const char *names[] = {"Porter", "AsyncPorter", "Sandbox", "Volume", "ObjectVolume", "Error"};
  for (int i = 0; i < 6; i++) {
    luaL_getmetatable(L, mts[i]);
    lua_setfield(L, -2, names[i]);
  }
  lua_setfield(L, m, "_metatables");
  repr_push_all(L);
  lua_setfield(L, m, "_reprs");
  return 1;
}
