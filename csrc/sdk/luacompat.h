/* The Lua C API of 5.4, as far as the SDK uses it, on Lua 5.1, LuaJIT 2.1 and Lua 5.3.
 *
 * The SDK is written against 5.4; this header fills in what an older VM lacks, in the way
 * lua-cjson and LuaSocket carry theirs: small inline functions, nothing when the VM has the
 * real one. Two things cannot be filled in and are handled where they matter:
 *  - user values: 5.4 gives a userdata several, 5.3 one, 5.1 an environment table. Below 5.4
 *    a userdata made with user values gets one table that holds them all.
 *  - continuations (lua_yieldk, lua_callk): 5.3 has them; 5.1 and LuaJIT cannot resume a C
 *    function after a yield. PORTER_HAVE_YIELDK says which; async.c emulates the yield on
 *    LuaJIT (see porter_yieldk there), and 5.1 has no AsyncPorter. */
#ifndef PORTER_LUACOMPAT_H
#define PORTER_LUACOMPAT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#ifdef LUA_JITLIBNAME /* only LuaJIT's lualib.h names a "jit" library */
#define PORTER_LUAJIT 1
#endif
#if LUA_VERSION_NUM < 502
#define PORTER_LUA51 1 /* the 5.1 API: Lua 5.1 itself, or LuaJIT */
#endif
#if LUA_VERSION_NUM >= 503
#define PORTER_HAVE_YIELDK 1
#elif defined(PORTER_LUAJIT)
#define PORTER_EMULATE_YIELDK 1 /* yield.c */
#endif
#if LUA_VERSION_NUM >= 504
#define PORTER_HAVE_NUV 1
#endif

#ifdef PORTER_LUA51
#ifndef LUA_OK
#define LUA_OK 0
#endif
typedef intptr_t lua_KContext;
typedef int (*lua_KFunction)(lua_State *L, int status, lua_KContext ctx);

#ifdef PORTER_LUAJIT
static inline int lua_absindex(lua_State *L, int i) {
  return i > 0 || i <= LUA_REGISTRYINDEX ? i : lua_gettop(L) + 1 + i;
}
#else
static inline int lua_absindex(lua_State *L, int i) {
  return i > 0 || i <= LUA_REGISTRYINDEX ? i : lua_gettop(L) + 1 + i;
}
static inline void *luaL_testudata(lua_State *L, int i, const char *tname) {
  void *p = lua_touserdata(L, i);
  if (!p || !lua_getmetatable(L, i)) return NULL;
  luaL_getmetatable(L, tname);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}
static inline void luaL_setmetatable(lua_State *L, const char *tname) {
  luaL_getmetatable(L, tname);
  lua_setmetatable(L, -2);
}
static inline void luaL_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  for (; l->name; l++) {
    for (int i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
static inline int luaL_fileresult(lua_State *L, int ok, const char *fname) {
  if (ok) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushnil(L);
  lua_pushstring(L, fname ? fname : "file error");
  lua_pushinteger(L, 0);
  return 3;
}
#endif
#define lua_rawlen(L, i) lua_objlen(L, (i))

/* the 5.2+ functions that answer the type of what they pushed */
static inline int porter_getfield_(lua_State *L, int i, const char *k) {
  lua_getfield(L, i, k);
  return lua_type(L, -1);
}
static inline int porter_rawgeti_(lua_State *L, int i, int n) {
  lua_rawgeti(L, i, n);
  return lua_type(L, -1);
}
static inline int porter_rawget_(lua_State *L, int i) {
  lua_rawget(L, i);
  return lua_type(L, -1);
}
#define lua_getfield porter_getfield_
#define lua_rawgeti(L, i, n) porter_rawgeti_(L, (i), (int)(n))
#define lua_rawget porter_rawget_
#define lua_rawseti(L, i, n) (lua_rawseti)(L, (i), (int)(n))

/* a number with no fraction, in lua_Integer's range: what 5.3 would have kept an integer */
static inline int lua_isinteger(lua_State *L, int i) {
  if (lua_type(L, i) != LUA_TNUMBER) return 0;
  lua_Number d = lua_tonumber(L, i);
  return d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0;
}

static inline const char *luaL_tolstring(lua_State *L, int i, size_t *len) {
  i = lua_absindex(L, i);
  if (luaL_callmeta(L, i, "__tostring")) {
    if (!lua_isstring(L, -1)) luaL_error(L, "'__tostring' must return a string");
  } else {
    switch (lua_type(L, i)) {
    case LUA_TNUMBER:
    case LUA_TSTRING: lua_pushvalue(L, i); break;
    case LUA_TBOOLEAN: lua_pushstring(L, lua_toboolean(L, i) ? "true" : "false"); break;
    case LUA_TNIL: lua_pushliteral(L, "nil"); break;
    default: lua_pushfstring(L, "%s: %p", luaL_typename(L, i), lua_topointer(L, i)); break;
    }
  }
  return lua_tolstring(L, -1, len);
}
static inline lua_Integer luaL_len(lua_State *L, int i) { return (lua_Integer)lua_objlen(L, i); }

/* 5.1's metatables have no __name: the SDK's messages read it */
static inline int porter_newmetatable_(lua_State *L, const char *tname) {
  if (!luaL_newmetatable(L, tname)) return 0;
  lua_pushstring(L, tname);
  lua_setfield(L, -2, "__name");
  return 1;
}
#define luaL_newmetatable porter_newmetatable_

/* the FILE* of an open io file handle, NULL if closed (5.1's and LuaJIT's start with it) */
static inline FILE *porter_stream_file(void *ud) { return *(FILE **)ud; }

#ifndef PORTER_LUAJIT
#define lua_isyieldable(L) 0 /* 5.1 cannot yield across pcall: no AsyncPorter */
#endif
#else
static inline FILE *porter_stream_file(void *ud) {
  luaL_Stream *s = ud;
  return s->closef ? s->f : NULL;
}
#endif

#ifndef PORTER_HAVE_NUV
/* Several user values in one table (the userdata's user value, or 5.1's environment). */
#ifdef PORTER_LUA51
#define porter_setuv_(L, i) lua_setfenv(L, (i))
#define porter_getuv_(L, i) lua_getfenv(L, (i))
#else
#define porter_setuv_(L, i) lua_setuservalue(L, (i))
#define porter_getuv_(L, i) lua_getuservalue(L, (i))
#endif
static inline void *lua_newuserdatauv(lua_State *L, size_t size, int nuv) {
  void *p = lua_newuserdata(L, size);
  if (nuv > 0) {
    lua_createtable(L, nuv, 0);
    porter_setuv_(L, -2);
  }
  return p;
}
static inline int lua_setiuservalue(lua_State *L, int i, int n) {
  i = lua_absindex(L, i);
  porter_getuv_(L, i);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 2);
    return 0;
  }
  lua_insert(L, -2);
  lua_rawseti(L, -2, n);
  lua_pop(L, 1);
  return 1;
}
static inline int lua_getiuservalue(lua_State *L, int i, int n) {
  porter_getuv_(L, i);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return LUA_TNONE;
  }
  lua_rawgeti(L, -1, n);
  lua_remove(L, -2);
  return lua_type(L, -1);
}
#endif

#endif
