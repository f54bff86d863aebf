/* The transfer layer: one attempt of a request as libcurl runs it, for the sync pipeline
 * (http.c) and the multi loop (async.c) alike. Callbacks keep the answer and the headers that
 * matter, bound their size, stream uploads from their source and report progress; nothing here
 * decides what an attempt means (http.c's classify does). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "porter.h"

double porter_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- curl callbacks ---- */
/* Past these, an answer is not a Porter Sandbox API's: a protocol error, never retried. */

static size_t on_write(char *p, size_t size, size_t n, void *ud) {
  porter_preq *r = ud;
  if (!r->op->octets && (lua_Integer)(r->resp.n + size * n) > r->c->max_response_bytes) {
    r->too_big = 1; /* an endless or huge JSON body must not take our memory */
    return 0;
  }
  /* room for the whole body at once when its length is known: no chain of reallocs, each
   * holding two copies (a streamed chunk is megabytes) */
  if (r->resp.cap == 0 && r->content_length > 0 && r->content_length <= (1 << 30) &&
      (r->op->octets || r->content_length <= r->c->max_response_bytes))
    membuf_reserve(&r->resp, (size_t)r->content_length);
  if (!membuf_add(&r->resp, p, size * n)) {
    r->oom = 1;
    return 0;
  }
  return size * n;
}

static void keep_header(char *dst, size_t cap, const char *v, size_t n) {
  while (n && (*v == ' ' || *v == '\t')) v++, n--;
  while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ')) n--;
  if (n >= cap) n = cap - 1;
  memcpy(dst, v, n);
  dst[n] = '\0';
}

static int header_is(const char *line, size_t n, const char *name, size_t *vlen, const char **v) {
  size_t k = strlen(name);
  if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0) return 0;
  *v = line + k + 1;
  *vlen = n - k - 1;
  return 1;
}

size_t preq_on_header(char *line, size_t size, size_t n, void *ud) {
  porter_preq *r = ud;
  size_t len = size * n, vlen;
  const char *v;
  if (len >= 5 && !memcmp(line, "HTTP/", 5)) {
    /* a new response (after a redirect or 100-continue): forget the previous one's headers */
    r->content_type[0] = r->content_range[0] = r->last_modified[0] = '\0';
    r->resp.n = 0;
    r->header_bytes = 0;
    r->content_length = -1;
  }
  if ((r->header_bytes += len) > MAX_HEADER_BYTES) return 0; /* abandons the transfer */
  if (len >= 5 && !memcmp(line, "HTTP/", 5)) {
  } else if (header_is(line, len, "content-type", &vlen, &v)) {
    keep_header(r->content_type, sizeof r->content_type, v, vlen);
  } else if (header_is(line, len, "content-range", &vlen, &v)) {
    keep_header(r->content_range, sizeof r->content_range, v, vlen);
  } else if (header_is(line, len, "last-modified", &vlen, &v)) {
    keep_header(r->last_modified, sizeof r->last_modified, v, vlen);
  } else if (header_is(line, len, "content-length", &vlen, &v)) {
    char num[24];
    keep_header(num, sizeof num, v, vlen);
    char *end;
    long long cl = strtoll(num, &end, 10);
    r->content_length = *end || cl < 0 ? -1 : cl;
  }
  return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ud) {
  porter_preq *r = ud;
  size_t got = fread(p, 1, size * n, r->upload);
  if (got == 0 && ferror(r->upload)) return CURL_READFUNC_ABORT;
  return got;
}

/* curl rewinds the upload when a redirect makes it send the body again */
static int on_seek(void *ud, curl_off_t off, int origin) {
  porter_preq *r = ud;
  if (origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  return fseek(r->upload, r->upload_start + (long)off, SEEK_SET) == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

/* libcurl's progress: the user's function runs under pcall, here inside curl, on the state
 * that is running curl; what it raises is kept and the transfer aborted, to be raised once
 * curl has returned. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
  porter_preq *r = ud;
  lua_State *L = r->c->cb_L;
  int up = r->upload || r->op->body == CT_BODY_OCTETS;
  curl_off_t now = up ? ulnow : dlnow, total = up ? ultotal : dltotal;
  if (r->progress_ref == LUA_NOREF || !L || now == r->progress_done || (now == 0 && total == 0)) return 0;
  r->progress_done = now;
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->progress_ref);
  lua_pushinteger(L, (lua_Integer)now);
  lua_pushinteger(L, (lua_Integer)(total > now ? total : now));
  if (lua_pcall(L, 2, 0, 0) == LUA_OK) return 0;
  r->progress_err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 1;
}

/* The proxy the client read from the environment ("": none, which stops curl reading it
 * again); another origin's requests leave it to curl, which reads it for that URL. */
static void own_proxy(porter_client *c, CURL *easy) {
  curl_easy_setopt(easy, CURLOPT_PROXY, c->proxy ? c->proxy : "");
  curl_easy_setopt(easy, CURLOPT_NOPROXY, c->noproxy ? c->noproxy : "");
}

void easy_init_common(porter_client *c, CURL *easy) {
  /* redirects are followed by follow_redirect, not by curl: curl would send a POST body to
   * whatever origin a server names */
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, NULL);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, preq_on_header);
  curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, on_seek);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
  own_proxy(c, easy);
}

void preq_prepare(porter_preq *r, CURL *easy) {
  porter_client *c = r->c;
  const op_def *op = r->op;
  r->resp.n = 0;
  r->status = 0;
  r->oom = 0;
  r->too_big = 0;
  r->header_bytes = 0;
  r->content_length = -1;
  r->errbuf[0] = '\0';
  r->content_type[0] = r->content_range[0] = r->last_modified[0] = '\0';
  curl_easy_setopt(easy, CURLOPT_URL, r->url);
  /* another origin (a redirect's) is reached as its URL says, never through our socket */
  curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, r->foreign ? NULL : c->unix_socket);
  if (r->foreign) {
    curl_easy_setopt(easy, CURLOPT_PROXY, NULL);
    curl_easy_setopt(easy, CURLOPT_NOPROXY, NULL);
  }
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(easy, CURLOPT_READDATA, r);
  curl_easy_setopt(easy, CURLOPT_SEEKDATA, r);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, r);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, r->progress_ref == LUA_NOREF ? 1L : 0L);
  r->progress_done = 0;
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(r->timeout * 1000.0));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)((r->timeout > 0 && r->timeout < 30 ? r->timeout : 30) * 1000.0));
  curl_easy_setopt(easy, CURLOPT_RANGE, r->range);
  /* a file's bytes in reads of 512 KiB, not curl's 16 KiB: a quarter of the system calls and
   * callbacks of a streamed chunk, as the curl tool does for downloads */
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, op->octets ? 512L * 1024 : 16L * 1024);

  hdr_kind h = op->body == CT_BODY_JSON     ? HDR_JSON_BODY
               : op->body == CT_BODY_OCTETS ? HDR_OCTETS_BODY
               : op->octets              ? HDR_OCTETS
                                         : HDR_JSON;
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, c->hdr[!r->foreign][h]);

  if (r->upload) {
    fseek(r->upload, r->upload_start, SEEK_SET);
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, r->upload_size);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, NULL);
  } else if (op->body != CT_BODY_NONE) {
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 0L); /* the handle may have uploaded a file last time */
    const char *p = op->body == CT_BODY_JSON ? r->body.p : r->octets;
    size_t n = op->body == CT_BODY_JSON ? r->body.n : r->octets_len;
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, p ? p : "");
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, strcmp(op->method, "POST") ? op->method : NULL);
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, strcmp(op->method, "GET") ? op->method : NULL);
  }
}

void preq_done(porter_preq *r, CURL *easy, CURLcode cc) {
  char *loc = NULL;
  r->cc = cc;
  r->status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
  if (r->foreign) own_proxy(r->c, easy); /* the handle serves the client's origin next */
  r->location.n = 0;
  if (cc == CURLE_OK && curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc &&
      !membuf_add(&r->location, loc, strlen(loc)))
    r->oom = 1;
}

