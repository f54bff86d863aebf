/* Yielding a request from C, on every VM that has coroutines able to.
 *
 * Lua 5.3 and 5.4 resume a C function after a yield through its continuation (lua_yieldk).
 * LuaJIT yields a C function only as it returns, and resumes its Lua caller, not the C code.
 * There porter_yieldk returns instead: a mark, the continuation (k, ctx and the C function's
 * stack below the yielded values) and the values. Every C function that may yield is reached
 * through a small Lua function (porter_wrap_yielding) that sees the mark, yields the values
 * itself, and when resumed calls the continuation on the stack it had: what 5.4 does in C.
 * Lua 5.1 cannot yield across pcall, so it has no AsyncPorter and nothing here runs. */
#include "porter.h"

#ifdef PORTER_EMULATE_YIELDK
#define MT_PENDING "porter_sandbox.Continuation"
static const char WRAP_KEY[] = "porter_sandbox.yield_wrap";
static char pending_mark; /* its address, as a light userdata, marks a yield */

typedef struct {
  lua_KFunction k;
  lua_KContext ctx;
  int n; /* stack slots saved, in the user values 1..n */
} pending;

/* core: resume(continuation, values passed to coroutine.resume...) */
static int pending_resume(lua_State *L) {
  pending *p = luaL_checkudata(L, 1, MT_PENDING);
  if (!p->k) return luaL_error(L, "porter_sandbox: a continuation was resumed twice");
  lua_KFunction k = p->k;
  lua_KContext ctx = p->ctx;
  int n = p->n;
  p->k = NULL;
  luaL_checkstack(L, n + LUA_MINSTACK, "resuming a request");
  for (int i = 1; i <= n; i++) {
    lua_getiuservalue(L, 1, i);
    lua_insert(L, 1 + i);
  }
  lua_remove(L, 1);
  return k(L, LUA_YIELD, ctx);
}

static const char WRAP_LUA[] =
    "local mark, resume, yield, select = ...\n"
    "local function step(...)\n"
    "  if (...) ~= mark then return ... end\n"
    "  return step(resume(select(2, ...), yield(select(3, ...))))\n"
    "end\n"
    "return function(f) return function(...) return step(f(...)) end end\n";
#endif

int porter_yieldk(lua_State *L, int nres, lua_KContext ctx, lua_KFunction k) {
#if defined(PORTER_HAVE_YIELDK)
  return lua_yieldk(L, nres, ctx, k);
#elif !defined(PORTER_EMULATE_YIELDK)
  (void)nres, (void)ctx, (void)k;
  return luaL_error(L, "porter_sandbox: this Lua cannot yield from C");
#else
  int base = lua_gettop(L) - nres;
  pending *p = lua_newuserdatauv(L, sizeof *p, base);
  p->k = k;
  p->ctx = ctx;
  p->n = base;
  luaL_setmetatable(L, MT_PENDING);
  for (int i = 1; i <= base; i++) {
    lua_pushvalue(L, i);
    lua_setiuservalue(L, -2, i);
  }
  lua_insert(L, base + 1);
  lua_pushlightuserdata(L, &pending_mark);
  lua_insert(L, base + 1);
  return nres + 2;
#endif
}

void porter_wrap_yielding(lua_State *L) {
#ifdef PORTER_EMULATE_YIELDK
  lua_getfield(L, LUA_REGISTRYINDEX, WRAP_KEY);
  lua_insert(L, -2);
  lua_call(L, 1, 1);
#else
  (void)L;
#endif
}

void porter_yield_open(lua_State *L) {
#ifdef PORTER_EMULATE_YIELDK
  luaL_newmetatable(L, MT_PENDING);
  lua_pop(L, 1);
  if (luaL_loadbuffer(L, WRAP_LUA, sizeof WRAP_LUA - 1, "=porter_sandbox.yield") != LUA_OK) lua_error(L);
  lua_pushlightuserdata(L, &pending_mark);
  lua_pushcfunction(L, pending_resume);
  lua_getglobal(L, "coroutine");
  lua_getfield(L, -1, "yield");
  lua_remove(L, -2);
  lua_getglobal(L, "select");
  lua_call(L, 4, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, WRAP_KEY);
#else
  (void)L;
#endif
}
