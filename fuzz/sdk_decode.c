/* libFuzzer: an answer as the SDK reads it. Its head, up to a blank line, goes line by line
 * through the header callback libcurl calls; the rest is a body decoded in one pass (decode.c) as the
 * schema of an operation's answer says (the first byte picks which; the error
 * body's path uses none). Every input must become a value or a clear error; none may crash,
 * overrun, leak or raise past the pcall that porter_call relies on. */
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
  int ok = model_decode(L, p, n, s, NULL);
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

static void headers(const uint8_t *data, size_t size) {
  porter_client c;
  porter_preq r;
  memset(&c, 0, sizeof c);
  memset(&r, 0, sizeof r);
  c.max_response_bytes = 1 << 20;
  r.c = &c;
  r.op = OP(read_volume_file);
  char line[4096];
  size_t at = 0;
  while (at < size) {
    const uint8_t *nl = memchr(data + at, '\n', size - at);
    size_t n = nl ? (size_t)(nl - (data + at)) + 1 : size - at;
    if (n > sizeof line) n = sizeof line;
    memcpy(line, data + at, n);
    at += n;
    if (preq_on_header(line, 1, n, &r) != n) break; /* refused: the transfer would end here */
    /* what is kept is a string within its buffer */
    if (!memchr(r.content_type, 0, sizeof r.content_type) || !memchr(r.content_range, 0, sizeof r.content_range) ||
        !memchr(r.last_modified, 0, sizeof r.last_modified))
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const uint8_t *blank = NULL;
  for (size_t i = 0; i + 3 < size; i++)
    if (!memcmp(data + i, "\r\n\r\n", 4)) {
      blank = data + i;
      break;
    }
  if (blank) {
    headers(data, (size_t)(blank - data) + 2);
    size_t skip = (size_t)(blank - data) + 4;
    data += skip, size -= skip;
    if (size == 0) return 0;
  }
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
