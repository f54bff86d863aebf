/* The HTTP side: libmicrohttpd in thread-per-connection mode (a long exec holds its own
 * thread; /healthz never waits behind it), a route table, per-request state in the
 * connection context, answers built whole before they are queued. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "server.h"
#include "http.h"
#include "validate.h"
#include "clients.h"

static struct MHD_Daemon *daemon_handle;

enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, json_t *v) {
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(v);
  if (!s) return MHD_NO;
  struct MHD_Response *res = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(res, "Content-Type", "application/json");
  enum MHD_Result ret = MHD_queue_response(c, status, res);
  MHD_destroy_response(res);
  return ret;
}

enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_t *o = json_object();
  json_object_set_new(o, "error", json_bytes(msg, strlen(msg)));
  return reply_json(c, status, o);
}

enum MHD_Result reply_empty(struct MHD_Connection *c, unsigned status) {
  struct MHD_Response *res = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  enum MHD_Result ret = MHD_queue_response(c, status, res);
  MHD_destroy_response(res);
  return ret;
}

const char *query_arg(struct MHD_Connection *c, const char *key) {
  return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

/* application/json, with parameters or not: what every client of ours sends, and what a web
 * page cannot send across sites without a preflight (which we never answer) */
static int json_media_type(const char *ct) {
  return ct && !strncasecmp(ct, "application/json", 16) && (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
}

json_t *body_object(struct MHD_Connection *c, req *r, enum MHD_Result *sent) {
  const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
  if (r->len && !json_media_type(ct)) {
    *sent = reply_error(c, 415, "the body must be sent as Content-Type: application/json (got %.100s)", ct ? ct : "none");
    return NULL;
  }
  json_error_t err;
  json_t *v = r->len ? json_loadb(r->body ? r->body : "", r->len, JSON_REJECT_DUPLICATES, &err) : json_object();
  if (!v) {
    *sent = reply_error(c, 400, "malformed JSON body: %s", r->len ? err.text : "out of memory");
    return NULL;
  }
  char buf[512];
  const char *why = r->route->body_type ? contract_check(v, r->route->body_type, buf, sizeof buf)
                                        : json_is_object(v) ? NULL : "the body must be a JSON object";
  if (why) {
    json_decref(v);
    *sent = reply_error(c, 400, "%s", why);
    return NULL;
  }
  return v;
}

/* Query arguments are C strings from here on: a %00 would cut "a.txt%00x" to "a.txt". */
static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
                                 size_t value_size) {
  (void)kind;
  req *r = cls;
  const unsigned char *parts[2] = {(const unsigned char *)key, (const unsigned char *)value};
  size_t sizes[2] = {key_size, value ? value_size : 0};
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < sizes[k]; i++)
      if (parts[k][i] < 0x20 || parts[k][i] == 0x7f) {
        snprintf(r->bad_query, sizeof r->bad_query, "query argument '%.40s' holds a NUL or control character",
                 key_size == strlen(key) ? key : "?");
        return MHD_NO;
      }
  return MHD_YES;
}

/* A request whose framing is ambiguous: two Content-Length headers, or Content-Length with
 * Transfer-Encoding. libmicrohttpd picks one; a proxy in front might pick the other. */
static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind, (void)value;
  int *n = cls;
  if (!strcasecmp(key, "Content-Length")) n[0]++;
  if (!strcasecmp(key, "Transfer-Encoding")) n[1]++;
  return MHD_YES;
}

static enum MHD_Result reply_close(struct MHD_Connection *c, unsigned status, const char *msg) {
  json_t *o = json_pack("{ss}", "error", msg);
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!s) return MHD_NO;
  struct MHD_Response *res = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(res, "Content-Type", "application/json");
  MHD_add_response_header(res, "Connection", "close"); /* what follows on it cannot be trusted */
  enum MHD_Result ret = MHD_queue_response(c, status, res);
  MHD_destroy_response(res);
  return ret;
}

static int check_auth(struct MHD_Connection *c, const char *path) {
  if (!cfg.api_key) return 1;
  if (!strcmp(path, "/healthz") || !strcmp(path, "/readyz")) return 1;
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  return h && !strncmp(h, "Bearer ", 7) && !strcmp(h + 7, cfg.api_key);
}

static enum MHD_Result dispatch(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  (void)cls, (void)version;
  req *r = *con_cls;
  if (!r) {
    r = calloc(1, sizeof *r);
    if (!r) return MHD_NO;
    *con_cls = r;
    r->authorized = check_auth(c, url);
    r->foreign = api_client_refusal(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"),
                                    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"), r->refusal,
                                    sizeof r->refusal) != NULL;
    int mismatch;
    r->route = route_match(routes, OP__COUNT, method, url, r->params, &mismatch);
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, check_arg, r);
    int framing[2] = {0, 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, framing);
    r->bad_framing = framing[0] > 1 || (framing[0] && framing[1]);
    if (r->bad_framing || r->foreign) r->route = NULL, r->authorized = 0; /* nothing of it reaches a handler */
    if (r->authorized && r->route && r->route->begin && !r->bad_query[0]) r->route->begin(c, r);
    return MHD_YES;
  }
  if (*upload_size) {
    if (r->authorized && r->route && r->route->chunk && !r->bad_query[0]) {
      r->route->chunk(r, upload, *upload_size);
    } else if (r->len + *upload_size > MAX_JSON_BODY) {
      r->too_big = 1;
    } else if (!r->too_big) {
      if (r->len + *upload_size + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + *upload_size + 1) cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b) return MHD_NO;
        r->body = b;
        r->cap = cap;
      }
      memcpy(r->body + r->len, upload, *upload_size);
      r->len += *upload_size;
    }
    *upload_size = 0;
    return MHD_YES;
  }
  if (r->bad_framing)
    return reply_close(c, 400, "conflicting Content-Length / Transfer-Encoding headers: the body's length is ambiguous");
  if (r->foreign) return reply_error(c, 403, "%s", r->refusal);
  if (!r->authorized) return reply_error(c, 401, "missing or invalid API key (Authorization: Bearer <key>)");
  if (!r->route) {
    int mismatch;
    route_match(routes, OP__COUNT, method, url, r->params, &mismatch);
    if (mismatch) return reply_error(c, 405, "%s is not allowed on %s", method, url);
    return reply_error(c, 404, "no such endpoint: %s %s", method, url);
  }
  if (r->bad_query[0]) return reply_error(c, 400, "%s", r->bad_query);
  if (r->too_big) return reply_error(c, 413, "the body is larger than %u bytes", MAX_JSON_BODY);
  return r->route->fn(c, r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
  (void)cls, (void)c, (void)toe;
  req *r = *con_cls;
  if (!r) return;
  if (r->route && r->route->end) r->route->end(r);
  free(r->body);
  free(r);
  *con_cls = NULL;
}

static char unix_path[sizeof ((struct sockaddr_un *)0)->sun_path]; /* ours to remove at the end */

/* A Unix socket at path that only our own uid (and root) can connect to: the file is 0600 from
 * the moment it exists. A socket file left by a server that died is taken over; one that a
 * server answers on, or anything else at path, is not. The listening fd, or -1 said. */
static int unix_listener(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) {
    fprintf(stderr, "porter-sandboxd: --listen unix:%s: the path is longer than %zu bytes\n", path, sizeof sa.sun_path - 1);
    return -1;
  }
  memcpy(sa.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct stat st;
  if (fd >= 0 && lstat(path, &st) == 0) {
    int probe = S_ISSOCK(st.st_mode) ? socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
    int answered = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (probe >= 0) close(probe);
    if (!S_ISSOCK(st.st_mode) || answered) {
      fprintf(stderr, "porter-sandboxd: --listen unix:%s: %s\n", path,
              answered ? "a server listens there already" : "something that is not a socket is there");
      close(fd);
      return -1;
    }
    unlink(path);
  }
  mode_t mask = umask(0177);
  int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  umask(mask);
  if (!ok || listen(fd, 1024) != 0) {
    fprintf(stderr, "porter-sandboxd: --listen unix:%s: %s\n", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  snprintf(unix_path, sizeof unix_path, "%s", path);
  return fd;
}

int http_serve(const char *host, int port, int *bound_port) {
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  int lfd = -1;
  if (!strncmp(host, "unix:", 5)) {
    if ((lfd = unix_listener(host + 5)) < 0) return -1;
  } else if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    fprintf(stderr, "porter-sandboxd: --listen: '%s' is not an IPv4 address\n", host);
    return -1;
  }
  struct MHD_OptionItem where[] = {
      lfd >= 0 ? (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, lfd, NULL}
               : (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &sa},
      {MHD_OPTION_END, 0, NULL}};
  daemon_handle = MHD_start_daemon(
      /* poll, not select: a server with a thousand sandboxes holds more than FD_SETSIZE fds */
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, dispatch,
      NULL, MHD_OPTION_ARRAY, where, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
      /* a thread per connection, so that a long exec blocks nobody: slow clients then cost a
       * thread each, so room for thousands (a stack of 512 KiB each, mostly never touched),
       * and a connection idle for a minute is closed */
      MHD_OPTION_CONNECTION_LIMIT, cfg.max_connections ? cfg.max_connections : MAX_CONNECTIONS, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
      MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024), MHD_OPTION_CONNECTION_TIMEOUT, 60u,
      /* room for long query strings (a hundred tag filters), which MHD would otherwise drop */
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024), MHD_OPTION_END);
  if (!daemon_handle) {
    fprintf(stderr, "porter-sandboxd: cannot listen on %s:%d\n", host, port);
    if (lfd >= 0) close(lfd), unlink(unix_path);
    return -1;
  }
  const union MHD_DaemonInfo *info = lfd >= 0 ? NULL : MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
  *bound_port = info ? info->port : port;
  return 0;
}

void http_stop(void) {
  if (daemon_handle) MHD_stop_daemon(daemon_handle);
  daemon_handle = NULL;
  if (unix_path[0]) unlink(unix_path);
}
