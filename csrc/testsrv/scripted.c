/* porter-scripted-server: answers what the spec scripted, records what it was sent.
 *
 *   porter-scripted-server --listen 127.0.0.1:0 --print-url [--no-record]
 *
 * Control endpoints (never recorded):
 *   POST /__control/script    JSON array of entries, appended: {method, path ("*": any), times
 *                             (1; 0 = forever), status, headers, body, json, gen_body {prefix,
 *                             size, byte, suffix}, delay_ms, drop, ranges}
 *   GET  /__control/requests  every request: {method, path, query, headers, body (if <= 1 MiB),
 *                             body_size, body_sha256, conn}
 *   POST /__control/reset     forget script and requests
 * A request takes the first entry that matches and has uses left; none: 404. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "testsrv.h"

#define BODY_KEEP (1u << 20)
#define MAX_RECORDED 20000

typedef struct entry {
  char *method, *path;
  int times, forever, status, delay_ms, drop, ranges;
  json_t *headers;   /* object of strings */
  char *prefix;      /* body, or generated body's prefix */
  size_t prefix_len;
  uint64_t gen_size;
  char gen_byte;
  char *suffix;
  size_t suffix_len;
  int json;          /* body is JSON: default content type */
  int gen;
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *script;
static size_t nscript, capscript;
static json_t *requests;
static int record = 1;
static unsigned long next_conn;

typedef struct req {
  char *uri; /* raw, with the query string */
  int started;
  sha256_ctx sha;
  char *body;
  size_t body_len, body_size;
} req;

static void entry_free(entry *e) {
  free(e->method);
  free(e->path);
  free(e->prefix);
  free(e->suffix);
  json_decref(e->headers);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static entry entry_copy(const entry *e) {
  entry c = *e;
  c.method = dup_or_null(e->method);
  c.path = dup_or_null(e->path);
  c.prefix = malloc(e->prefix_len + 1);
  memcpy(c.prefix, e->prefix, e->prefix_len + 1);
  c.suffix = malloc(e->suffix_len + 1);
  memcpy(c.suffix, e->suffix, e->suffix_len + 1);
  c.headers = json_deep_copy(e->headers);
  return c;
}

/* ---- requests ---- */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
  req *r = calloc(1, sizeof *r);
  r->uri = strdup(uri);
  sha256_init(&r->sha);
  return r;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
  req *r = *con_cls;
  if (!r) return;
  free(r->uri);
  free(r->body);
  free(r);
  *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    pthread_mutex_lock(&lock);
    *socket_context = (void *)(uintptr_t)++next_conn;
    pthread_mutex_unlock(&lock);
  }
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  char name[256];
  size_t i = 0;
  for (; key[i] && i < sizeof name - 1; i++) name[i] = (char)tolower((unsigned char)key[i]);
  name[i] = '\0';
  json_object_set_new(cls, name, json_string(value ? value : ""));
  return MHD_YES;
}

static void record_request(struct MHD_Connection *c, const char *method, req *r) {
  if (!record) return;
  const char *q = strchr(r->uri, '?');
  json_t *o = json_object();
  json_object_set_new(o, "method", json_string(method));
  json_object_set_new(o, "path", q ? json_stringn(r->uri, (size_t)(q - r->uri)) : json_string(r->uri));
  json_object_set_new(o, "query", json_string(q ? q + 1 : ""));
  json_t *h = json_object();
  MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, h);
  json_object_set_new(o, "headers", h);
  if (r->body_size <= BODY_KEEP) json_object_set_new(o, "body", json_stringn(r->body ? r->body : "", r->body_len));
  json_object_set_new(o, "body_size", json_integer((json_int_t)r->body_size));
  char hex[65];
  sha256_hex(&r->sha, hex);
  json_object_set_new(o, "body_sha256", json_string(hex));
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  json_object_set_new(o, "conn", json_integer(ci ? (json_int_t)(uintptr_t)ci->socket_context : 0));
  pthread_mutex_lock(&lock);
  if (json_array_size(requests) < MAX_RECORDED) json_array_append(requests, o);
  pthread_mutex_unlock(&lock);
  json_decref(o);
}

/* ---- answers ---- */
static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *ctype, const char *text) {
  struct MHD_Response *res = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(res, "Content-Type", ctype);
  enum MHD_Result ret = MHD_queue_response(c, status, res);
  MHD_destroy_response(res);
  return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *v) {
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  enum MHD_Result ret = send_text(c, status, "application/json", s ? s : "null");
  free(s);
  json_decref(v);
  return ret;
}

/* The virtual content prefix + gen_size * gen_byte + suffix, served from `start`. */
typedef struct gen {
  entry e;
  uint64_t start;
} gen;

static ssize_t gen_read(void *cls, uint64_t pos, char *buf, size_t max) {
  gen *g = cls;
  uint64_t off = g->start + pos, total = g->e.prefix_len + g->e.gen_size + g->e.suffix_len;
  size_t n = 0;
  while (n < max && off < total) {
    if (off < g->e.prefix_len) {
      buf[n++] = g->e.prefix[off++];
    } else if (off < g->e.prefix_len + g->e.gen_size) {
      uint64_t left = g->e.prefix_len + g->e.gen_size - off;
      size_t k = left < max - n ? (size_t)left : max - n;
      memset(buf + n, g->e.gen_byte, k);
      n += k, off += k;
    } else {
      buf[n++] = g->e.suffix[off - g->e.prefix_len - g->e.gen_size];
      off++;
    }
  }
  return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void gen_free(void *cls) {
  gen *g = cls;
  entry_free(&g->e);
  free(g);
}

/* Parses "bytes=a-b" or "bytes=a-" against total; 1 if a single satisfiable range. */
static int parse_range(const char *h, uint64_t total, uint64_t *a, uint64_t *b, int *unsat) {
  *unsat = 0;
  if (!h || strncmp(h, "bytes=", 6)) return 0;
  char *end;
  errno = 0;
  unsigned long long x = strtoull(h + 6, &end, 10);
  if (end == h + 6 || *end != '-') return 0;
  unsigned long long y = total ? total - 1 : 0;
  if (end[1]) y = strtoull(end + 1, NULL, 10);
  if (x >= total || y < x) {
    *unsat = 1;
    return 0;
  }
  if (y >= total) y = total - 1;
  *a = x, *b = y;
  return 1;
}

static enum MHD_Result answer(struct MHD_Connection *c, entry *e) {
  uint64_t total = e->prefix_len + e->gen_size + e->suffix_len, a = 0, b = total ? total - 1 : 0;
  unsigned status = (unsigned)e->status;
  char crange[96] = "";
  if (e->ranges && total > 0) {
    int unsat;
    const char *rh = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    if (parse_range(rh, total, &a, &b, &unsat)) {
      status = 206;
      snprintf(crange, sizeof crange, "bytes %llu-%llu/%llu", (unsigned long long)a, (unsigned long long)b,
               (unsigned long long)total);
    } else if (unsat) {
      snprintf(crange, sizeof crange, "bytes */%llu", (unsigned long long)total);
      struct MHD_Response *res = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
      MHD_add_response_header(res, "Content-Range", crange);
      enum MHD_Result ret = MHD_queue_response(c, 416, res);
      MHD_destroy_response(res);
      entry_free(e);
      return ret;
    }
  }
  uint64_t len = total ? b - a + 1 : 0;
  gen *g = malloc(sizeof *g);
  g->e = *e;
  g->start = a;
  struct MHD_Response *res = MHD_create_response_from_callback(len, 64 * 1024, gen_read, g, gen_free);
  int has_ctype = 0;
  const char *k;
  json_t *v;
  json_object_foreach(e->headers, k, v) {
    if (!strcasecmp(k, "content-type")) has_ctype = 1;
    if (json_is_string(v)) MHD_add_response_header(res, k, json_string_value(v));
  }
  if (!has_ctype && total)
    MHD_add_response_header(res, "Content-Type", e->json ? "application/json" : "application/octet-stream");
  if (crange[0]) MHD_add_response_header(res, "Content-Range", crange);
  enum MHD_Result ret = MHD_queue_response(c, status, res);
  MHD_destroy_response(res);
  return ret;
}

/* ---- the script ---- */
static const char *parse_entry(json_t *o, entry *e) {
  memset(e, 0, sizeof *e);
  if (!json_is_object(o)) return "each entry must be an object";
  const char *m = json_string_value(json_object_get(o, "method"));
  const char *p = json_string_value(json_object_get(o, "path"));
  e->method = m ? strdup(m) : NULL;
  e->path = strdup(p ? p : "*");
  json_t *t = json_object_get(o, "times");
  e->times = t ? (int)json_integer_value(t) : 1;
  e->forever = e->times == 0;
  t = json_object_get(o, "status");
  e->status = t ? (int)json_integer_value(t) : 200;
  e->delay_ms = (int)json_integer_value(json_object_get(o, "delay_ms"));
  e->drop = json_is_true(json_object_get(o, "drop"));
  e->ranges = json_is_true(json_object_get(o, "ranges"));
  json_t *h = json_object_get(o, "headers");
  e->headers = json_is_object(h) ? json_deep_copy(h) : json_object();
  json_t *body = json_object_get(o, "body"), *js = json_object_get(o, "json"), *g = json_object_get(o, "gen_body");
  const char *pre = "", *suf = "";
  char *owned = NULL;
  if (js) {
    owned = json_dumps(js, JSON_COMPACT | JSON_ENCODE_ANY);
    pre = owned;
    e->json = 1;
  } else if (json_is_string(body)) {
    pre = json_string_value(body);
    e->prefix_len = json_string_length(body);
  } else if (json_is_object(g)) {
    pre = json_string_value(json_object_get(g, "prefix"));
    suf = json_string_value(json_object_get(g, "suffix"));
    const char *byte = json_string_value(json_object_get(g, "byte"));
    e->gen_size = (uint64_t)json_integer_value(json_object_get(g, "size"));
    e->gen_byte = byte && *byte ? byte[0] : 'x';
    if (!pre) pre = "";
    if (!suf) suf = "";
  }
  if (!e->prefix_len) e->prefix_len = strlen(pre);
  e->prefix = malloc(e->prefix_len + 1);
  memcpy(e->prefix, pre, e->prefix_len);
  e->prefix[e->prefix_len] = '\0';
  e->suffix_len = strlen(suf);
  e->suffix = strdup(suf);
  free(owned);
  return NULL;
}

/* Finds and uses the first matching entry; fills a private copy. */
static int take(const char *method, const char *path, entry *out) {
  int found = 0;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < nscript; i++) {
    entry *e = &script[i];
    if (!e->forever && e->times <= 0) continue;
    if (e->method && strcmp(e->method, method)) continue;
    if (strcmp(e->path, "*") && strcmp(e->path, path)) continue;
    if (!e->forever) e->times--;
    *out = entry_copy(e);
    found = 1;
    break;
  }
  pthread_mutex_unlock(&lock);
  return found;
}

static enum MHD_Result control(struct MHD_Connection *c, const char *method, const char *path, req *r) {
  if (!strcmp(path, "/__control/requests") && !strcmp(method, "GET")) {
    pthread_mutex_lock(&lock);
    json_t *copy = json_deep_copy(requests);
    pthread_mutex_unlock(&lock);
    return send_json(c, 200, copy);
  }
  if (!strcmp(path, "/__control/reset") && !strcmp(method, "POST")) {
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nscript; i++) entry_free(&script[i]);
    nscript = 0;
    json_array_clear(requests);
    pthread_mutex_unlock(&lock);
    return send_json(c, 200, json_object());
  }
  if (!strcmp(path, "/__control/script") && !strcmp(method, "POST")) {
    json_error_t err;
    json_t *arr = json_loadb(r->body ? r->body : "", r->body_len, 0, &err);
    if (!json_is_array(arr)) {
      json_decref(arr);
      return send_json(c, 400, json_pack("{ss}", "error", "script must be a JSON array"));
    }
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
      entry e;
      const char *why = parse_entry(o, &e);
      if (why) {
        entry_free(&e);
        json_decref(arr);
        return send_json(c, 400, json_pack("{ss}", "error", why));
      }
      pthread_mutex_lock(&lock);
      if (nscript == capscript) {
        size_t want = capscript ? capscript * 2 : 32;
        entry *bigger = realloc(script, want * sizeof *script);
        if (!bigger) {
          pthread_mutex_unlock(&lock);
          entry_free(&e);
          json_decref(arr);
          return send_json(c, 500, json_pack("{ss}", "error", "out of memory"));
        }
        script = bigger, capscript = want;
      }
      script[nscript++] = e;
      pthread_mutex_unlock(&lock);
    }
    json_decref(arr);
    return send_json(c, 200, json_object());
  }
  return send_json(c, 404, json_pack("{ss}", "error", "unknown control endpoint"));
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  req *r = *con_cls;
  if (!r->started) {
    r->started = 1;
    return MHD_YES;
  }
  if (*upload_size) {
    sha256_update(&r->sha, upload, *upload_size);
    if (r->body_size + *upload_size <= BODY_KEEP) {
      char *bigger = realloc(r->body, r->body_len + *upload_size + 1);
      if (bigger) { /* else the body is kept as it was: its size and digest still count */
        r->body = bigger;
        memcpy(r->body + r->body_len, upload, *upload_size);
        r->body_len += *upload_size;
      }
    }
    r->body_size += *upload_size;
    *upload_size = 0;
    return MHD_YES;
  }
  char path[4096];
  const char *q = strchr(r->uri, '?');
  size_t plen = q ? (size_t)(q - r->uri) : strlen(r->uri);
  if (plen >= sizeof path) plen = sizeof path - 1;
  memcpy(path, r->uri, plen);
  path[plen] = '\0';
  if (!strncmp(path, "/__control/", 11)) return control(c, method, path, r);

  record_request(c, method, r);
  entry e;
  if (!take(method, path, &e)) {
    char msg[4200];
    snprintf(msg, sizeof msg, "no script for %s %s", method, path);
    return send_json(c, 404, json_pack("{ss}", "error", msg));
  }
  if (e.delay_ms > 0) {
    struct timespec ts = {e.delay_ms / 1000, (long)(e.delay_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
  }
  if (e.drop) {
    entry_free(&e);
    return MHD_NO; /* closes the connection without an answer */
  }
  return answer(c, &e);
}

int main(int argc, char **argv) {
  const char *listen = "127.0.0.1:0";
  int print_url = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--listen") && i + 1 < argc) listen = argv[++i];
    else if (!strcmp(argv[i], "--print-url")) print_url = 1;
    else if (!strcmp(argv[i], "--no-record")) record = 0;
    else {
      fprintf(stderr, "usage: %s [--listen ADDR:PORT] [--print-url] [--no-record]\n", argv[0]);
      return 2;
    }
  }
  char host[64];
  const char *colon = strrchr(listen, ':');
  if (!colon || (size_t)(colon - listen) >= sizeof host) {
    fprintf(stderr, "--listen wants ADDR:PORT\n");
    return 2;
  }
  memcpy(host, listen, (size_t)(colon - listen));
  host[colon - listen] = '\0';
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)atoi(colon + 1));
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    fprintf(stderr, "--listen: bad address %s\n", host);
    return 2;
  }
  requests = json_array();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads inherit the mask; main waits below */
  signal(SIGPIPE, SIG_IGN);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle,
      NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
      MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
      MHD_OPTION_CONNECTION_LIMIT, 2000u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "could not listen on %s\n", listen);
    return 1;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  if (print_url) {
    printf("http://%s:%u\n", host, info ? info->port : 0);
    fflush(stdout);
  }
  int sig;
  sigwait(&set, &sig);
  MHD_stop_daemon(d);
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < nscript; i++) entry_free(&script[i]);
  free(script);
  json_decref(requests);
  pthread_mutex_unlock(&lock);
  return 0;
}
