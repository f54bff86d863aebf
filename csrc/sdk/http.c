/* The request pipeline: validate and encode, run attempts (transfer.c), retry what may be
 * retried, follow redirects, map failures to error classes, decode the answer. Sync clients run
 * the whole loop here; async clients yield the request to their scheduler (async.c) between
 * attempts, and the continuation below picks up where the sync loop would have.
 *
 * The only Lua that runs inside a curl callback is a progress function, under pcall: what it
 * raises is kept and re-raised here once curl has returned, so a Lua error never unwinds
 * through libcurl. Buffers belong to the request userdata, whose __gc frees them. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "porter.h"
/* The last call, done == total, if curl's own did not make it. */
static void progress_end(lua_State *L, porter_preq *r) {
  if (r->progress_ref == LUA_NOREF) return;
  int up = r->upload || r->op->body == CT_BODY_OCTETS;
  curl_off_t total = up ? (r->upload ? r->upload_size : (curl_off_t)r->octets_len) : (curl_off_t)r->resp.n;
  if (r->progress_done == total && total > 0) return;
  r->progress_done = total;
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->progress_ref);
  lua_pushinteger(L, (lua_Integer)total);
  lua_pushinteger(L, (lua_Integer)total);
  lua_call(L, 2, 0);
}

/* ---- outcome of one attempt ---- */
typedef enum { OUT_OK, OUT_RETRY, OUT_REDIRECT, OUT_FAIL } outcome;

#define MAX_REDIRECTS 10

static int is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static int network_error(CURLcode cc) {
  switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return 1;
    default:
      return 0;
  }
}

static int protocol_error(const porter_preq *r) {
  return r->too_big || r->header_bytes > MAX_HEADER_BYTES || (r->cc == CURLE_OK && (r->status < 100 || r->status > 599));
}

static outcome classify(porter_preq *r) {
  int retryable;
  if (protocol_error(r) || r->oom) return OUT_FAIL;
  if (r->cc == CURLE_OK) {
    if (r->status >= 200 && r->status < 300) return OUT_OK;
    if (is_redirect(r->status) && r->location.n) return OUT_REDIRECT;
    retryable = r->status == 429 || (r->status >= 500 && r->status <= 599);
  } else {
    retryable = network_error(r->cc);
  }
  if (!retryable || r->op->never_retry || r->attempt >= r->c->max_retries) return OUT_FAIL;
  return OUT_RETRY;
}

/* Full jitter: uniform in [0, min(0.5 * 2^n, 8)] seconds. */
static double backoff(porter_client *c, int attempt) {
  double cap = 0.5 * ldexp(1.0, attempt);
  if (cap > 8) cap = 8;
  c->rng ^= c->rng << 13;
  c->rng ^= c->rng >> 7;
  c->rng ^= c->rng << 17;
  return cap * ((double)(c->rng >> 11) / 9007199254740992.0);
}

static int content_is_json(const porter_preq *r) {
  return strstr(r->content_type, "json") != NULL;
}

/* r's URL without the base URL, when it is below it (the path of the API's operation) */
static const char *url_path(const porter_preq *r) {
  const char *base = porter_http_base(r->c);
  size_t n = strlen(base);
  while (n && base[n - 1] == '/') n--;
  return strncmp(r->url, base, n) == 0 && r->url[n] == '/' ? r->url + n : r->url;
}

/* Raises the error for a failed request. */
static int raise_failure(lua_State *L, porter_preq *r) {
  if (r->progress_err_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->progress_err_ref);
    return lua_error(L); /* what the progress function raised, as it raised it */
  }
  if (r->oom) return porter_raise(L, ERR_SANDBOX, 0, 0, "not enough memory for the response to %s %s", r->op->method, r->url);
  if (r->too_big) {
    char max[32]; /* not %I: Lua 5.1's formatter has none */
    snprintf(max, sizeof max, "%lld", (long long)r->c->max_response_bytes);
    return porter_raise(L, ERR_SANDBOX, 0, 0,
                        "the response to %s %s is larger than max_response_bytes (%s bytes): not a Porter Sandbox API "
                        "answer, or raise the option",
                        r->op->method, r->url, max);
  }
  /* libcurl refuses a single header line past 100 KiB as "out of memory" */
  if (r->header_bytes > MAX_HEADER_BYTES || (r->cc == CURLE_OUT_OF_MEMORY && !r->resp.n))
    return porter_raise(L, ERR_SANDBOX, 0, 0, "the response to %s %s has more than %d KiB of headers, or a header line past libcurl's limit: "
                        "not a Porter Sandbox API",
                        r->op->method, r->url, (int)(MAX_HEADER_BYTES >> 10));
  if (r->cc == CURLE_OPERATION_TIMEDOUT)
    return porter_raise(L, ERR_TIMEOUT, 0, 0, "request timed out after %fs (%s %s)", r->timeout, r->op->method,
                        r->url);
  if (r->cc == CURLE_ABORTED_BY_CALLBACK || r->cc == CURLE_READ_ERROR)
    return porter_raise(L, ERR_SANDBOX, 0, 0, "could not read the upload source: %s", strerror(errno));
  if (r->cc != CURLE_OK) {
    const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->cc);
    const char *tries = r->attempt > 0 ? lua_pushfstring(L, " after %d attempts", r->attempt + 1) : "";
    err_class cls = network_error(r->cc) ? ERR_CONNECTION : ERR_SANDBOX;
    if (r->cc == CURLE_COULDNT_CONNECT)
      return porter_raise(L, cls, 0, 0, "nothing listens at %s: %s %s failed%s (%s)", r->c->base_url, r->op->method,
                          r->url, tries, why);
    if (r->cc == CURLE_COULDNT_RESOLVE_HOST)
      return porter_raise(L, cls, 0, 0, "the host of %s is not known: %s %s failed%s (%s)", r->c->base_url,
                          r->op->method, r->url, tries, why);
    return porter_raise(L, cls, 0, 0, "%s %s failed%s: %s", r->op->method, r->url, tries, why);
  }
  if (r->status < 100 || r->status > 599)
    return porter_raise(L, ERR_SANDBOX, (int)r->status, 0, "%s %s answered HTTP status %d, which is no HTTP status",
                        r->op->method, r->url, (int)r->status);
  /* the body: decoded JSON when it is JSON, else the text */
  int body_idx = 0;
  const char *message = NULL;
  if (r->resp.n) {
    if (model_decode(L, r->resp.p, r->resp.n, NULL, &r->scratch) && lua_istable(L, -1)) {
      lua_getfield(L, -1, "error");
      if (lua_type(L, -1) == LUA_TSTRING) message = lua_tostring(L, -1);
      else lua_pop(L, 1);
      body_idx = lua_gettop(L) - (message ? 1 : 0);
    } else {
      lua_pop(L, 1);
      lua_pushlstring(L, r->resp.p, r->resp.n);
      body_idx = lua_gettop(L);
    }
  }
  if (!message)
    message = lua_pushfstring(L, "%s %s answered HTTP %d without the API's JSON error: is %s a Porter Sandbox API?",
                              r->op->method, url_path(r), (int)r->status, r->c->base_url);
  err_class cls = ERR_SANDBOX;
  if (r->status == 401) cls = ERR_AUTH;
  else if (r->status == 404) cls = ERR_NOTFOUND;
  else if (r->status == 409) cls = ERR_CONFLICT;
  else if (r->status == 429) cls = ERR_RATELIMIT;
  else if (r->status >= 500 && r->status <= 599) cls = ERR_SERVER;
  porter_error_push(L, cls, message, (int)r->status, body_idx);
  return lua_error(L);
}

/* Pushes the value of a successful answer. */
static void push_result(lua_State *L, porter_preq *r) {
  const op_def *op = r->op;
  if (op->octets) {
    lua_pushlstring(L, r->resp.p ? r->resp.p : "", r->resp.n);
    return;
  }
  if (r->status == 204 || r->resp.n == 0) {
    lua_pushnil(L);
    return;
  }
  if (!op->resp && !content_is_json(r)) {
    lua_pushlstring(L, r->resp.p, r->resp.n);
    return;
  }
  if (!model_decode(L, r->resp.p, r->resp.n, op->resp, &r->scratch)) {
    const char *why = lua_tostring(L, -1);
    lua_pushlstring(L, r->resp.p, r->resp.n);
    porter_error_push(L, ERR_SANDBOX, why, (int)r->status, -1);
    lua_error(L);
  }
}

/* scheme, host and port of url, lower-cased by curl; 0 if it does not parse */
static int origin_of(const char *url, char *out, size_t cap) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL;
  int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK;
  if (ok) ok = snprintf(out, cap, "%s://%s:%s", scheme, host, port) < (int)cap;
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return ok;
}

/* Points r at the Location of its 3xx answer, keeping method and body (the API redirects to
 * the service that owns the data, which needs the same request). Credentials never leave the
 * base URL's origin, and a body is not sent to another origin at all: the request fails
 * instead. Raises when the redirect is not followed. */
static void follow_redirect(lua_State *L, porter_preq *r, int preq_idx) {
  char here[512], there[512];
  lua_pushlstring(L, r->location.p, r->location.n);
  const char *to = lua_tostring(L, -1);
  if (++r->hops > MAX_REDIRECTS)
    porter_raise(L, ERR_SANDBOX, (int)r->status, 0, "%s %s: more than %d redirects (the last to %s)", r->op->method,
                 r->url, MAX_REDIRECTS, to);
  if (!origin_of(to, there, sizeof there) || !origin_of(porter_http_base(r->c), here, sizeof here))
    porter_raise(L, ERR_SANDBOX, (int)r->status, 0, "%s %s redirected to %s, which is not a URL to follow", r->op->method,
                 r->url, to);
  if (strcmp(here, there) != 0) {
    if (r->op->body != CT_BODY_NONE)
      porter_raise(L, ERR_SANDBOX, (int)r->status, 0,
                   "%s %s redirected to another origin (%s): a request body is not sent to another origin",
                   r->op->method, r->url, to);
    r->foreign = 1;
  }
  lua_setiuservalue(L, preq_idx, 1);
  lua_getiuservalue(L, preq_idx, 1);
  r->url = lua_tostring(L, -1);
  lua_pop(L, 1);
}

void porter_sleep(double s) {
  if (!(s > 0)) return;
  struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

/* ---- building a request ---- */
static int preq_gc(lua_State *L) {
  porter_preq *r = lua_touserdata(L, 1);
  /* a task abandoned mid-transfer: the multi handle must not keep pointing at us */
  if (r->queued && r->c && !r->c->closed) async_forget(r->c, r);
  membuf_free(&r->body);
  membuf_free(&r->resp);
  membuf_free(&r->location);
  membuf_free(&r->scratch);
  luaL_unref(L, LUA_REGISTRYINDEX, r->progress_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, r->progress_err_ref);
  r->progress_ref = r->progress_err_ref = LUA_NOREF;
  return 0;
}

static void add_or_oom(lua_State *L, membuf *m, const char *s, size_t n) {
  if (!membuf_add(m, s, n)) luaL_error(L, "not enough memory");
}

static void query_value(lua_State *L, membuf *m, const char *name, int idx, int *first) {
  char num[32];
  const char *s;
  size_t n;
  switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
      s = lua_toboolean(L, idx) ? "true" : "false";
      n = strlen(s);
      break;
    case LUA_TNUMBER:
      n = (size_t)snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, idx));
      s = num;
      break;
    default:
      s = lua_tolstring(L, idx, &n);
  }
  add_or_oom(L, m, *first ? "?" : "&", 1);
  *first = 0;
  add_or_oom(L, m, name, strlen(name));
  add_or_oom(L, m, "=", 1);
  if (!model_urlencode(m, s, n)) luaL_error(L, "not enough memory");
}

/* Path template with positional arguments, then the query string, into the URL buffer. */
static void build_url(lua_State *L, porter_preq *r, const call_spec *cs, membuf *u) {
  const op_def *op = cs->op;
  add_or_oom(L, u, porter_http_base(r->c), strlen(porter_http_base(r->c)));
  const char *p = op->path;
  int arg = 0;
  while (*p) {
    if (*p == '{') {
      const char *close = strchr(p, '}');
      int idx = cs->path_idx + arg++;
      size_t n = 0;
      const char *v = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &n) : NULL;
      if (!v || n == 0) {
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(close - p - 1), p + 1);
        porter_argerror(L, "%s: '%s' must be a non-empty string (got %s)", cs->what, name,
                        v ? "an empty string" : luaL_typename(L, idx));
      }
      if (!model_urlencode(u, v, n)) luaL_error(L, "not enough memory");
      p = close + 1;
    } else {
      const char *brace = strchr(p, '{');
      size_t n = brace ? (size_t)(brace - p) : strlen(p);
      add_or_oom(L, u, p, n);
      p += n;
    }
  }
  if (!op->query || !cs->query_idx) return;
  int first = 1;
  for (const field *f = op->query->fields; f->name; f++) {
    lua_getfield(L, cs->query_idx, f->name);
    int v = lua_gettop(L);
    if (lua_istable(L, v)) {
      lua_Integer n = (lua_Integer)lua_rawlen(L, v);
      for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, v, i);
        query_value(L, u, f->name, lua_gettop(L), &first);
        lua_pop(L, 1);
      }
    } else if (!lua_isnil(L, v)) {
      query_value(L, u, f->name, v, &first);
    }
    lua_pop(L, 1);
  }
}

static void set_body(lua_State *L, porter_preq *r, const call_spec *cs, int preq_idx) {
  const op_def *op = cs->op;
  if (op->body == CT_BODY_JSON) {
    model_encode(L, &r->body, cs->body_idx ? cs->body_idx : lua_gettop(L) + 1, op->body_schema, cs->what);
    return;
  }
  if (op->body != CT_BODY_OCTETS) return;
  int idx = cs->body_idx;
  void *fh = idx ? luaL_testudata(L, idx, LUA_FILEHANDLE) : NULL;
  if (fh) {
    FILE *f = porter_stream_file(fh);
    if (!f) porter_argerror(L, "%s: the file handle is closed", cs->what);
    /* stream from the current position to the end, like reading the rest of the file */
    long start = ftell(f);
    if (start < 0 || fseek(f, 0, SEEK_END) != 0)
      porter_argerror(L, "%s: the file handle must be seekable (a regular file)", cs->what);
    long end = ftell(f);
    fseek(f, start, SEEK_SET);
    r->upload = f;
    r->upload_start = start;
    r->upload_size = (curl_off_t)(end - start);
  } else if (idx && lua_type(L, idx) == LUA_TSTRING) {
    r->octets = lua_tolstring(L, idx, &r->octets_len);
  } else {
    porter_argerror(L, "%s: content must be a string or an open file handle (got %s)", cs->what,
                    idx ? luaL_typename(L, idx) : "no value");
  }
  lua_pushvalue(L, idx);
  lua_setiuservalue(L, preq_idx, 3);
}

static porter_preq *new_preq(lua_State *L, const call_spec *cs, porter_client *c) {
  porter_preq *r = lua_newuserdatauv(L, sizeof *r, 3);
  memset(r, 0, sizeof *r);
  if (luaL_newmetatable(L, MT_PREQ)) {
    lua_pushcfunction(L, preq_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  r->c = c;
  r->op = cs->op;
  r->progress_ref = r->progress_err_ref = LUA_NOREF;
  lua_pushvalue(L, cs->client_idx);
  lua_setiuservalue(L, -2, 2);
  return r;
}

static int call_cont(lua_State *L, int status, lua_KContext ctx);

/* A successful attempt: the last progress call, the answer as a Lua value, then the caller's
 * continuation. (Whether to retry, follow a redirect or raise is decided before, by classify.) */
static int finish(lua_State *L, int preq_idx) {
  porter_preq *r = lua_touserdata(L, preq_idx);
  lua_settop(L, preq_idx);
  progress_end(L, r);
  push_result(L, r);
  /* the answer is a Lua value now: its C copy must not wait for the request's __gc, which the
   * collector, blind to C memory, may put off for many requests (8 MiB each when streaming) */
  membuf_free(&r->resp);
  membuf_free(&r->body);
  membuf_free(&r->scratch);
  return r->k(L, LUA_OK, r->kctx);
}

int porter_call(lua_State *L, const call_spec *cs, lua_KFunction k, lua_KContext ctx) {
  porter_client *c = client_check(L, cs->client_idx);
  const op_def *op = cs->op;
  if (op->query && cs->query_idx && !lua_isnil(L, cs->query_idx)) model_check(L, cs->query_idx, op->query, cs->what);
  else if (op->query) {
    /* required query fields (name, path) must still be reported */
    for (const field *f = op->query->fields; f->name; f++)
      if (f->required) porter_argerror(L, "%s: '%s' is required", cs->what, f->name);
  }
  call_spec s = *cs;
  if (s.query_idx && lua_isnil(L, s.query_idx)) s.query_idx = 0;

  porter_preq *r = new_preq(L, &s, c);
  int preq_idx = lua_gettop(L);
  set_body(L, r, &s, preq_idx);
  /* the URL is built in r->resp, which is free until the response arrives: it lives in the
   * userdata, so an argument error here leaks nothing */
  build_url(L, r, &s, &r->resp);
  lua_pushlstring(L, r->resp.p, r->resp.n);
  r->resp.n = 0;
  r->url = lua_tostring(L, -1);
  lua_setiuservalue(L, preq_idx, 1);
  if (cs->range) {
    snprintf(r->range_buf, sizeof r->range_buf, "%s", cs->range);
    r->range = r->range_buf;
  }
  r->timeout = cs->timeout >= 0 ? cs->timeout : (op->no_timeout ? 0 : c->timeout);
  if (cs->progress_idx) {
    lua_getfield(L, cs->progress_idx, "progress");
    r->progress_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  r->k = k;
  r->kctx = ctx;

  if (c->async) {
    if (!async_in_task(L, cs->client_idx))
      porter_raise(L, ERR_BASE, 0, 0,
                   "AsyncPorter calls must run inside a task: use aporter:run(function() ... end) or "
                   "aporter:gather{...}");
    if (lua_isyieldable(L)) {
      lua_pushvalue(L, preq_idx);
      return porter_yieldk(L, 1, (lua_KContext)preq_idx, call_cont);
    }
    /* a task that cannot yield is one being closed (a failed or abandoned one: its <close>
     * variables run then, and coroutine.close cannot yield): the request is made here and now,
     * so that a sandbox it made is still terminated */
    if (!c->easy && (c->easy = curl_easy_init())) easy_init_common(c, c->easy);
    if (!c->easy) porter_raise(L, ERR_BASE, 0, 0, "could not initialise libcurl");
  }
  for (;;) {
    preq_prepare(r, c->easy);
    c->cb_L = L;
    CURLcode cc = curl_easy_perform(c->easy);
    c->cb_L = NULL;
    preq_done(r, c->easy, cc);
    outcome o = classify(r);
    if (o == OUT_OK) return finish(L, preq_idx);
    if (o == OUT_FAIL) return raise_failure(L, r);
    if (o == OUT_REDIRECT) {
      follow_redirect(L, r, preq_idx);
      continue;
    }
    porter_sleep(backoff(c, r->attempt));
    r->attempt++;
  }
}

/* Async continuation: the scheduler resumed us after the transfer ended (r->cc, r->status
 * set by async.c). */
static int call_cont(lua_State *L, int status, lua_KContext ctx) {
  int preq_idx = (int)ctx;
  porter_preq *r = lua_touserdata(L, preq_idx);
  lua_settop(L, preq_idx);
  if (r->c->closed) return porter_raise(L, ERR_BASE, 0, 0, "attempt to use a closed client");
  outcome o = classify(r);
  if (o == OUT_OK) return finish(L, preq_idx);
  if (o == OUT_FAIL) return raise_failure(L, r);
  if (o == OUT_REDIRECT) follow_redirect(L, r, preq_idx);
  else {
    r->not_before = porter_now() + backoff(r->c, r->attempt);
    r->attempt++;
  }
  lua_pushvalue(L, preq_idx);
  return porter_yieldk(L, 1, ctx, call_cont);
}
