/* libFuzzer: an answer body as the SDK reads it, decoded by lua-cjson and checked and coerced
 * against the schema of an operation's answer (the first byte picks which; the error body's
 * path uses none). Every input must become a value or a clear error; none may crash, overrun,
 * leak or raise past the pcall that porter_call relies on. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include "porter.h"

int luaopen_porter_sandbox_core(lua_State *L);
static lua_State *L;

static int decode(lua_State *L) {
  const char *p = lua_touserdata(L, 1);
  size_t n = (size_t)lua_tointeger(L, 2);
  const schema *s = lua_touserdata(L, 3);
  int ok = model_decode(L, p, n, s);
  if (!ok && lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "model_decode failed without a message");
  if (getenv("FUZZ_DEBUG")) fprintf(stderr, "%s\n", ok ? "ok" : lua_tostring(L, -1));
  return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "porter_sandbox.core", luaopen_porter_sandbox_core, 0);
  lua_settop(L, 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const schema *s = NULL;
  if (data[0] < porter_nops) s = porter_ops[data[0]].resp;
  lua_pushcfunction(L, decode);
  lua_pushlightuserdata(L, (void *)(data + 1));
  lua_pushinteger(L, (lua_Integer)size - 1);
  lua_pushlightuserdata(L, (void *)s);
  if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
    /* only running out of memory may end a decode with a raised error */
    if (!strstr(lua_tostring(L, -1), "not enough memory")) abort();
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
