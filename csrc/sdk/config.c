/* Where requests go, resolved once when a client is made: explicit options beat the
 * environment, and every dead end names its ways out (client-behaviour.md). */
#include <stdlib.h>
#include <string.h>
#include "porter.h"

#define CLUSTER_URL "https://dashboard.porter.run/api/v2/alpha/projects/%d/clusters/%s"
#define IN_CLUSTER_URL "http://sandbox-api.porter-sandbox-system.svc.cluster.local:8080"

/* max_connections is AsyncPorter's alone; concurrency is its older name, still taken (gather's
 * and the dir transfers' concurrency count tasks, so the client's now says what it counts) */
static const char *const known_opts[] = {"api_key", "base_url", "timeout", "max_retries", "max_response_bytes",
                                         "max_connections", "concurrency", NULL};
static const char *const sync_opts[] = {"api_key", "base_url", "timeout", "max_retries", "max_response_bytes", NULL};

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

/* The proxy the environment names for url, by curl's rules: http takes http_proxy alone
 * (HTTP_PROXY is what a CGI program gets from a request's Proxy header), another scheme its
 * lower-case variable then its upper-case one; then all_proxy, ALL_PROXY. The first one set
 * decides, even empty (no proxy). Read here, once: left to curl, five variables are looked up
 * on every request (1.7k instructions of a 98k call, callgrind). */
static const char *env_proxy(const char *url) {
  static const char *const http[] = {"http_proxy", "all_proxy", "ALL_PROXY", NULL};
  static const char *const https[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", NULL};
  const char *const *names = strncmp(url, "https:", 6) == 0 ? https : http;
  for (; *names; names++) {
    const char *v = getenv(*names);
    if (v) return *v ? v : NULL;
  }
  return NULL;
}

static const char *env_noproxy(void) {
  const char *v = getenv("no_proxy");
  return v ? v : getenv("NO_PROXY");
}

/* Option strings are copied to the stack as Lua strings, so nothing is malloc'd until the
 * whole configuration is known to be valid. */
static const char *opt_string(lua_State *L, int opts, const char *who, const char *name) {
  if (!opts) return NULL;
  lua_getfield(L, opts, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return NULL;
  }
  if (lua_type(L, -1) != LUA_TSTRING)
    porter_argerror(L, "%s: '%s' must be a string (got %s)", who, name, luaL_typename(L, -1));
  const char *s = lua_tostring(L, -1);
  if (!*s) {
    lua_pop(L, 1);
    return NULL; /* an empty value counts as unset, as in the environment */
  }
  return s; /* stays on the stack */
}

static int b64url_value(char ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '-' || ch == '+') return 62;
  if (ch == '_' || ch == '/') return 63;
  return -1;
}

/* Pushes the decoded base64url text of s[0..n) or returns 0. */
static int b64url_push(lua_State *L, const char *s, size_t n) {
  while (n && s[n - 1] == '=') n--;
  if (n % 4 == 1) return 0;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64url_value(s[i]);
    if (v < 0) {
      luaL_pushresult(&b);
      lua_pop(L, 1);
      return 0;
    }
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      luaL_addchar(&b, (char)((acc >> bits) & 0xff));
    }
  }
  luaL_pushresult(&b);
  return 1;
}

/* The project id claim of a Porter API token, read without verifying the signature: the
 * server verifies it; we only need to know where to send requests. */
static int jwt_project_id(lua_State *L, const char *key) {
  const char *d1 = strchr(key, '.');
  const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  if (!d1 || !d2 || strchr(d2 + 1, '.'))
    porter_raise(L, ERR_CONFIG, 0, 0,
                 "the API key is not a Porter API token: expected a JWT of three dot-separated segments");
  if (!b64url_push(L, d1 + 1, (size_t)(d2 - d1 - 1)))
    porter_raise(L, ERR_CONFIG, 0, 0, "the API key is not a Porter API token: its payload is not base64url");
  size_t n;
  const char *json = lua_tolstring(L, -1, &n);
  if (!model_decode(L, json, n, NULL, NULL) || !lua_istable(L, -1))
    porter_raise(L, ERR_CONFIG, 0, 0, "the API key is not a Porter API token: its payload is not a JSON object");
  lua_getfield(L, -1, "project_id");
  lua_Integer id = 0;
  int ok = lua_type(L, -1) == LUA_TNUMBER;
  if (ok) {
    lua_Number d = lua_tonumber(L, -1);
    ok = lua_isinteger(L, -1) || (d == (lua_Number)(lua_Integer)d);
    id = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : (lua_Integer)d;
  }
  if (!ok || id < 1 || id > 2147483647)
    porter_raise(L, ERR_CONFIG, 0, 0,
                 "the API key is not a Porter API token: its 'project_id' claim must be a positive integer");
  lua_pop(L, 3);
  return (int)id;
}

/* The numeric options: each within its bounds (timeout above its minimum, the others at least
 * theirs), read into the double it starts from. */
static void read_number(lua_State *L, int opts, const char *who, const char *name, double min, double max,
                        int integer, const char *expected, double *value) {
  lua_getfield(L, opts, name);
  if (!lua_isnil(L, -1)) {
    int ok = lua_type(L, -1) == LUA_TNUMBER && (!integer || lua_isinteger(L, -1));
    double v = lua_tonumber(L, -1);
    ok = ok && (integer ? v >= min : v > min) && v <= max;
    if (!ok) porter_argerror(L, "%s: '%s' must be %s (got %s)", who, name, expected, porter_got(L, -1));
    *value = v;
  }
  lua_pop(L, 1);
}

static void read_numbers(lua_State *L, int opts, const char *who, porter_config *cfg) {
  double timeout = 30, retries = 3, conns = 32, max_bytes = (double)((lua_Integer)64 << 20);
  if (opts) {
    read_number(L, opts, who, "timeout", 0, 1e12, 0, "a positive number of seconds", &timeout);
    read_number(L, opts, who, "max_retries", 0, 100, 1, "an integer from 0 to 100", &retries);
    read_number(L, opts, who, "max_response_bytes", 1024, 9e18, 1, "an integer of at least 1024", &max_bytes);
    lua_getfield(L, opts, "max_connections");
    lua_getfield(L, opts, "concurrency");
    int both = !lua_isnil(L, -1) && !lua_isnil(L, -2);
    lua_pop(L, 2);
    if (both) porter_argerror(L, "%s: give 'max_connections' alone ('concurrency' is its older name)", who);
    read_number(L, opts, who, "max_connections", 1, 10000, 1, "an integer from 1 to 10000", &conns);
    read_number(L, opts, who, "concurrency", 1, 10000, 1, "an integer from 1 to 10000", &conns);
  }
  cfg->timeout = timeout;
  cfg->max_retries = (int)retries;
  cfg->max_connections = (int)conns;
  cfg->max_response_bytes = (lua_Integer)max_bytes;
}

/* Pushes the base URL: the option or PORTER_SANDBOX_BASE_URL, else the Porter Dashboard's for
 * PORTER_CLUSTER_ID and the key's project, else the in-cluster service; or raises ConfigError
 * naming the ways out. */
static void push_base_url(lua_State *L, int opts, const char *who, const char *key) {
  const char *url = opt_string(L, opts, who, "base_url");
  if (!url) url = env("PORTER_SANDBOX_BASE_URL");
  const char *cluster = env("PORTER_CLUSTER_ID");
  if (url) {
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8) && strncmp(url, "unix:/", 6))
      porter_raise(L, ERR_CONFIG, 0, 0,
                   "base URL must start with http://, https:// or unix:/ (a Unix socket's absolute path; got '%s')",
                   url);
    lua_pushstring(L, url);
  } else if (cluster) {
    if (!key)
      porter_raise(L, ERR_CONFIG, 0, 0,
                   "PORTER_CLUSTER_ID is set, so requests go through the Porter Dashboard, which needs an API "
                   "key: pass api_key or set PORTER_SANDBOX_API_KEY (create one under Settings > API tokens in "
                   "the Porter Dashboard)");
    lua_pushfstring(L, CLUSTER_URL, jwt_project_id(L, key), cluster);
  } else if (env("KUBERNETES_SERVICE_HOST")) {
    lua_pushstring(L, IN_CLUSTER_URL);
  } else if (key) {
    porter_raise(L, ERR_CONFIG, 0, 0,
                 "an API key is set but no cluster: set PORTER_CLUSTER_ID to your cluster's id (or give "
                 "base_url / PORTER_SANDBOX_BASE_URL)");
  } else {
    porter_raise(L, ERR_CONFIG, 0, 0,
                 "no Porter Sandbox API to talk to: run inside the Porter cluster, set PORTER_CLUSTER_ID and "
                 "PORTER_SANDBOX_API_KEY, set base_url (or PORTER_SANDBOX_BASE_URL), or run the script with "
                 "`porter-lua --local` to use a local porter-sandboxd");
  }
}

/* A header's value must be one line of text: a CR or LF in it would start a header (or a
 * request) of the caller's choosing. The value itself is not repeated: it may be a secret. */
static void check_text(lua_State *L, const char *what, const char *s) {
  for (size_t i = 0; s && s[i]; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      porter_raise(L, ERR_CONFIG, 0, 0, "%s must not hold control characters such as CR or LF (one at byte %d)", what,
                   (int)i + 1);
}

void config_resolve(lua_State *L, int opts, int async, porter_config *cfg) {
  const char *who = async ? "AsyncPorter" : "Porter";
  int top = lua_gettop(L);
  if (opts) {
    opts = lua_absindex(L, opts);
    if (!lua_istable(L, opts)) porter_argerror(L, "%s: expected an options table (got %s)", who, luaL_typename(L, opts));
    porter_check_options(L, opts, who, async ? known_opts : sync_opts);
  }
  read_numbers(L, opts, who, cfg);
  const char *key = opt_string(L, opts, who, "api_key");
  if (!key) key = env("PORTER_SANDBOX_API_KEY");
  check_text(L, "the API key (api_key or PORTER_SANDBOX_API_KEY)", key);
  push_base_url(L, opts, who, key);
  size_t n;
  const char *u = lua_tolstring(L, -1, &n);
  check_text(L, "the base URL (base_url or PORTER_SANDBOX_BASE_URL)", u);
  while (n > 0 && u[n - 1] == '/') n--;
  int unix_path = strncmp(u, "unix:", 5) == 0;
  if (unix_path) n = strlen(u); /* a path's trailing / is the path's */
  cfg->base_url = strndup(u, n);
  cfg->unix_socket = unix_path ? strdup(u + 5) : NULL;
  cfg->api_key = key ? strdup(key) : NULL;
  /* a socket of this machine is reached through no proxy */
  const char *proxy = unix_path ? NULL : env_proxy(u), *noproxy = unix_path ? NULL : env_noproxy();
  cfg->proxy = proxy ? strdup(proxy) : NULL;
  cfg->noproxy = noproxy ? strdup(noproxy) : NULL;
  if (!cfg->base_url || (unix_path && !cfg->unix_socket) || (key && !cfg->api_key) || (proxy && !cfg->proxy) ||
      (noproxy && !cfg->noproxy)) {
    free(cfg->base_url);
    free(cfg->unix_socket);
    free(cfg->api_key);
    free(cfg->proxy);
    free(cfg->noproxy);
    cfg->base_url = cfg->unix_socket = cfg->api_key = cfg->proxy = cfg->noproxy = NULL;
    porter_raise(L, ERR_BASE, 0, 0, "not enough memory");
  }
  lua_settop(L, top);
}
