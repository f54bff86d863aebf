/* Porter and AsyncPorter: one client struct, two metatables. A client owns its curl
 * handle(s) and header lists; namespaces are tables of closures over the client, so that
 * both porter.sandboxes.create{} and porter.sandboxes:create{} work. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "porter.h"

/* close, __gc and __close: idempotent, so a client closed by hand is fine to collect. */
static int client_close(lua_State *L) {
  porter_client *c = client_test(L, 1);
  if (!c) return porter_argerror(L, "close: expected a Porter client (porter:close()), got %s", luaL_typename(L, 1));
  if (c->closed) return 0;
  c->closed = 1;
  async_close(c);
  if (c->easy) curl_easy_cleanup(c->easy);
  for (int a = 0; a < 2; a++)
    for (int k = 0; k < HDR_KINDS; k++) {
      curl_slist_free_all(c->hdr[a][k]);
      c->hdr[a][k] = NULL;
    }
  free(c->base_url);
  free(c->unix_socket);
  free(c->api_key);
  free(c->proxy);
  free(c->noproxy);
  c->easy = NULL;
  c->base_url = c->unix_socket = c->api_key = c->proxy = c->noproxy = NULL;
  return 0;
}

static int client_tostring(lua_State *L) {
  porter_client *c = client_test(L, 1);
  const char *cls = c->async ? "AsyncPorter" : "Porter";
  if (c->closed) lua_pushfstring(L, "%s(closed)", cls);
  else lua_pushfstring(L, "%s(%s)", cls, c->base_url);
  return 1;
}

static struct curl_slist *headers(const char *api_key, const char *accept, const char *ctype) {
  struct curl_slist *h = NULL, *t;
  char auth[4096];
  /* the User-Agent as a header of the list, not CURLOPT_USERAGENT: curl makes that one into a
   * header again for every request (8k instructions of a 100k call, callgrind) */
  h = curl_slist_append(NULL, "User-Agent: " PORTER_USER_AGENT);
  if (h && !(t = curl_slist_append(h, accept))) goto fail;
  if (h && ctype && !(t = curl_slist_append(h, ctype))) goto fail;
  /* curl adds "Expect: 100-continue" to large uploads; the round trip buys nothing here (and a
   * request without a body needs no word about it: each header costs curl a look per request) */
  if (h && ctype && !(t = curl_slist_append(h, "Expect:"))) goto fail;
  if (h && api_key) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", api_key);
    if (!(t = curl_slist_append(h, auth))) goto fail;
  }
  return h;
fail:
  curl_slist_free_all(h);
  return NULL;
}

/* Namespace functions the Lua façade adds: NS_LUA_KEY[namespace][name] = function(client, ...). */
static const char NS_LUA_KEY[] = "porter_sandbox.ns_lua";

static const char NS_BIND_KEY[] = "porter_sandbox.ns_bind";

/* The façade's function bound to the client, as `ns.f(...)` or `ns:f(...)`. A Lua closure,
 * not a C one: a C function in between could not yield on LuaJIT (no continuations). */
static const char NS_BIND_LUA[] =
    "local rawequal = rawequal\n"
    "return function(client, ns, f)\n"
    "  return function(a, ...)\n"
    "    if rawequal(a, ns) then return f(client, ...) end\n"
    "    return f(client, a, ...)\n"
    "  end\n"
    "end\n";

/* pushes bind(client, ns, f) for the function on top, which it replaces */
static void ns_bind(lua_State *L, int client_idx, int ns_idx) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, NS_BIND_KEY) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    if (luaL_loadbuffer(L, NS_BIND_LUA, sizeof NS_BIND_LUA - 1, "=porter_sandbox.namespace") != LUA_OK) lua_error(L);
    lua_call(L, 0, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, NS_BIND_KEY);
  }
  lua_insert(L, -2);
  lua_pushvalue(L, client_idx);
  lua_insert(L, -2);
  lua_pushvalue(L, ns_idx);
  lua_insert(L, -2);
  lua_call(L, 3, 1);
}

/* core._extend(namespace, name, fn): every client made from now on has ns.name. */
static int ns_extend(lua_State *L) {
  luaL_checkstring(L, 1);
  luaL_checkstring(L, 2);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  if (lua_getfield(L, LUA_REGISTRYINDEX, NS_LUA_KEY) != LUA_TTABLE) {
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, NS_LUA_KEY);
  }
  if (lua_getfield(L, -1, lua_tostring(L, 1)) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, lua_tostring(L, 1));
  }
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, lua_tostring(L, 2));
  return 0;
}

/* A namespace table: the functions in fns, each a closure over (client, namespace), and the
 * façade's for this namespace. */
static void push_namespace(lua_State *L, int client_idx, const char *name, const luaL_Reg *fns) {
  int async = client_test(L, client_idx)->async;
  lua_newtable(L);
  for (; fns->name; fns++) {
    lua_pushvalue(L, client_idx);
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, fns->func, 2);
    if (async) porter_wrap_yielding(L);
    lua_setfield(L, -2, fns->name);
  }
  int ns = lua_gettop(L);
  if (lua_getfield(L, LUA_REGISTRYINDEX, NS_LUA_KEY) == LUA_TTABLE && lua_getfield(L, -1, name) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      ns_bind(L, client_idx, ns);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, ns);
    }
  }
  lua_settop(L, ns);
}

int raw_op(lua_State *L);

/* porter.raw: raw.<group>.<operationId> and raw.<operationId>. */
static void push_raw(lua_State *L, int client_idx) {
  lua_newtable(L);
  int raw = lua_gettop(L);
  for (size_t i = 0; i < porter_nops; i++) {
    const op_def *op = &porter_ops[i];
    if (lua_getfield(L, raw, op->group) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, raw, op->group);
    }
    lua_pushvalue(L, client_idx);
    lua_pushvalue(L, -2);
    lua_pushlightuserdata(L, (void *)op);
    lua_pushcclosure(L, raw_op, 3);
    if (client_test(L, client_idx)->async) porter_wrap_yielding(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, op->id);
    lua_setfield(L, raw, op->id);
    lua_pop(L, 1);
  }
}

static void set_ns(lua_State *L, int fields, int client_idx, int raw, const char *name, const luaL_Reg *fns) {
  push_namespace(L, client_idx, name, fns);
  lua_getfield(L, raw, name);
  lua_setfield(L, -2, "raw");
  lua_setfield(L, fields, name);
}

static int client_new(lua_State *L, int async) {
  int opts = lua_isnoneornil(L, 1) ? 0 : 1;
  porter_config cfg;
  porter_client *c = lua_newuserdatauv(L, sizeof *c, 1);
  memset(c, 0, sizeof *c);
  luaL_setmetatable(L, async ? MT_ASYNC : MT_CLIENT); /* from here __gc frees what we hold */
  int ud = lua_gettop(L);
  config_resolve(L, opts, async, &cfg);
  c->base_url = cfg.base_url;
  c->unix_socket = cfg.unix_socket;
  c->api_key = cfg.api_key;
  c->proxy = cfg.proxy;
  c->noproxy = cfg.noproxy;
  c->timeout = cfg.timeout;
  c->max_retries = cfg.max_retries;
  c->max_connections = cfg.max_connections;
  c->max_response_bytes = cfg.max_response_bytes;
  c->async = async;
  c->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c;
  if (!c->rng) c->rng = 88172645463325252ull;
  static const char *const kinds[HDR_KINDS][2] = {
      [HDR_JSON] = {"Accept: application/json", NULL},
      [HDR_JSON_BODY] = {"Accept: application/json", "Content-Type: application/json"},
      [HDR_OCTETS] = {"Accept: application/octet-stream", NULL},
      [HDR_OCTETS_BODY] = {"Accept: application/json", "Content-Type: application/octet-stream"},
  };
  int ok = 1;
  for (int a = 0; a < 2; a++)
    for (int k = 0; k < HDR_KINDS; k++)
      ok &= (c->hdr[a][k] = headers(a ? c->api_key : NULL, kinds[k][0], kinds[k][1])) != NULL;
  if (!async) {
    c->easy = curl_easy_init();
    if (c->easy) easy_init_common(c, c->easy);
  }
  if (!ok || (!async && !c->easy)) return porter_raise(L, ERR_BASE, 0, 0, "could not initialise libcurl");

  lua_newtable(L);
  int fields = lua_gettop(L);
  lua_pushstring(L, c->base_url);
  lua_setfield(L, fields, "base_url");
  if (c->timeout == (double)(lua_Integer)c->timeout) lua_pushinteger(L, (lua_Integer)c->timeout);
  else lua_pushnumber(L, c->timeout);
  lua_setfield(L, fields, "timeout");
  lua_pushinteger(L, c->max_retries);
  lua_setfield(L, fields, "max_retries");
  push_raw(L, ud);
  int raw = lua_gettop(L);
  set_ns(L, fields, ud, raw, "sandboxes", sandboxes_ns);
  set_ns(L, fields, ud, raw, "volumes", volumes_ns);
  set_ns(L, fields, ud, raw, "snapshots", snapshots_ns);
  set_ns(L, fields, ud, raw, "health", health_ns);
  set_ns(L, fields, ud, raw, "readiness", readiness_ns);
  lua_setfield(L, fields, "raw");
  lua_setiuservalue(L, ud, 1);
  return 1;
}

static int porter_new(lua_State *L) { return client_new(L, 0); }
static int async_new(lua_State *L) {
#if !defined(PORTER_HAVE_YIELDK) && !defined(PORTER_EMULATE_YIELDK)
  return porter_raise(L, ERR_BASE, 0, 0,
                      "AsyncPorter is not available on %s: its tasks yield from inside the SDK's C calls and "
                      "across pcall, which needs Lua 5.3, 5.4 or LuaJIT; use Porter, whose calls block",
                      LUA_VERSION);
#else
  return client_new(L, 1);
#endif
}

/* core._twin(client, max_connections): an AsyncPorter with the client's configuration, API key
 * included (which Lua code cannot read), for transfers that run several requests at once. */
static int client_twin(lua_State *L) {
  porter_client *c = client_check(L, 1);
  lua_Integer n = luaL_optinteger(L, 2, c->max_connections);
  lua_createtable(L, 0, 6);
  lua_pushstring(L, c->base_url);
  lua_setfield(L, -2, "base_url");
  if (c->api_key) lua_pushstring(L, c->api_key), lua_setfield(L, -2, "api_key");
  lua_pushnumber(L, c->timeout);
  lua_setfield(L, -2, "timeout");
  lua_pushinteger(L, c->max_retries);
  lua_setfield(L, -2, "max_retries");
  lua_pushinteger(L, c->max_response_bytes);
  lua_setfield(L, -2, "max_response_bytes");
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "max_connections");
  lua_replace(L, 1);
  lua_settop(L, 1);
  return client_new(L, 1);
}

static const luaL_Reg client_methods[] = {
  {"close", client_close},
  {NULL, NULL},
};

static void register_client(lua_State *L, const char *mt, int async) {
  class_register(L, mt, client_methods, async ? async_methods : NULL, client_tostring);
  lua_pushcfunction(L, client_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, client_close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}

void client_open(lua_State *L, int module_idx) {
  module_idx = lua_absindex(L, module_idx);
  register_client(L, MT_CLIENT, 0);
  register_client(L, MT_ASYNC, 1);
  lua_pushcfunction(L, porter_new);
  lua_setfield(L, module_idx, "Porter");
  lua_pushcfunction(L, async_new);
  lua_setfield(L, module_idx, "AsyncPorter");
  lua_pushcfunction(L, ns_extend);
  lua_setfield(L, module_idx, "_extend");
  lua_pushcfunction(L, client_twin);
  lua_setfield(L, module_idx, "_twin");
}
