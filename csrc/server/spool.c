/* Exec output, kept in memory while it is small and on disk beyond SPOOL_MEM: what a command
 * prints goes to unlinked files in the state dir, capped per stream, and the answer is encoded
 * from them into a third one that libmicrohttpd sends as it is. The server's memory stays flat
 * whatever a sandbox prints, and the common small exec never touches the disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "server.h"
#include "spool.h"

#define CHUNK 8192            /* with its escaped form, on a 512 KiB handler thread stack */
#define SPOOL_MEM (64 << 10) /* bytes kept in memory before a file is made */

void spool_open(spool *s) {
  memset(s, 0, sizeof *s);
  s->fd = -1;
}

void spool_close(spool *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  free(s->mem);
  s->mem = NULL;
}

/* from memory to a file, once what it holds would pass SPOOL_MEM */
static int spill(spool *s) {
  s->fd = open(cfg.state_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (s->fd < 0) return -1;
  for (size_t at = 0; at < s->size;) {
    ssize_t w = pwrite(s->fd, s->mem + at, s->size - at, (off_t)at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    at += (size_t)w;
  }
  free(s->mem);
  s->mem = NULL;
  return 0;
}

void spool_add(spool *s, const char *p, size_t n, size_t cap) {
  if (s->size + n > cap) {
    s->truncated = 1;
    n = cap - s->size;
  }
  if (s->fd < 0 && !s->failed) {
    if (s->size + n <= SPOOL_MEM) {
      if (!s->mem && !(s->mem = malloc(SPOOL_MEM))) s->failed = 1;
      else memcpy(s->mem + s->size, p, n), s->size += n;
      return;
    }
    if (spill(s) != 0) s->failed = 1; /* no room on disk: what was kept is still answered */
  }
  while (n > 0 && !s->failed) {
    ssize_t w = pwrite(s->fd, p, n, (off_t)s->size);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      s->failed = 1; /* the disk is full: what was written is still answered */
      break;
    }
    p += w, n -= (size_t)w, s->size += (size_t)w;
  }
}

ssize_t spool_read(const spool *s, size_t at, char *buf, size_t n) {
  if (at >= s->size) return 0;
  if (n > s->size - at) n = s->size - at;
  if (s->fd < 0) {
    memcpy(buf, s->mem + at, n);
    return (ssize_t)n;
  }
  ssize_t r;
  while ((r = pread(s->fd, buf, n, (off_t)at)) < 0 && errno == EINTR) {
  }
  return r;
}

/* A JSON string's body for the bytes of s, as json_bytes makes it: valid UTF-8 copied,
 * anything else (and NUL) as U+FFFD, then escaped. A sequence cut by a chunk's end is carried
 * into the next chunk. */
static int put(spool *out, const char *p, size_t n) {
  spool_add(out, p, n, SIZE_MAX);
  return out->failed ? -1 : 0;
}

int spool_put(spool *out, const char *p, size_t n) { return put(out, p, n); }

/* The JSON escape of one character at u (have bytes there) into esc; how many bytes it took */
static size_t escape_one(const unsigned char *u, size_t have, char *esc, size_t *o) {
  unsigned char ch = u[0];
  size_t k = ch ? utf8_seq(u, have) : 0;
  if (k > 1) {
    memcpy(esc + *o, u, k), *o += k;
    return k;
  }
  if (!k) memcpy(esc + *o, "\xef\xbf\xbd", 3), *o += 3;
  else if (ch == '"' || ch == '\\') esc[(*o)++] = '\\', esc[(*o)++] = (char)ch;
  else if (ch == '\n') esc[(*o)++] = '\\', esc[(*o)++] = 'n';
  else if (ch == '\t') esc[(*o)++] = '\\', esc[(*o)++] = 't';
  else if (ch == '\r') esc[(*o)++] = '\\', esc[(*o)++] = 'r';
  else if (ch < 0x20 || ch == 0x7f) *o += (size_t)snprintf(esc + *o, 7, "\\u%04x", ch);
  else esc[(*o)++] = (char)ch;
  return 1;
}

size_t json_escape(const char *p, size_t n, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n;) i += escape_one((const unsigned char *)p + i, n - i, out, &o);
  return o;
}

/* a byte that goes into a JSON string as it is: printable ASCII but '"' and '\\' */
static inline int plain(unsigned char ch) { return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\'; }

int spool_put_string(spool *out, const char *p, size_t n) {
  const unsigned char *u = (const unsigned char *)p;
  if (put(out, "\"", 1) != 0) return -1;
  /* runs of plain bytes (ids, names, phases: all of most strings) go straight in; the rest a
   * character at a time through a small buffer */
  for (size_t i = 0; i < n;) {
    size_t run = i;
    while (run < n && plain(u[run])) run++;
    if (run > i && put(out, p + i, run - i) != 0) return -1;
    i = run;
    char esc[64 * 6 + 16];
    size_t o = 0;
    while (i < n && !plain(u[i]) && o < 64 * 6) i += escape_one(u + i, n - i, esc, &o);
    if (o && put(out, esc, o) != 0) return -1;
  }
  return put(out, "\"", 1);
}

static int encode_string(spool *out, const spool *in) {
  char buf[CHUNK + 4], esc[CHUNK * 6 + 16];
  size_t have = 0, at = 0;
  for (;;) {
    ssize_t r = spool_read(in, at, buf + have, CHUNK);
    if (r < 0) return -1;
    at += (size_t)r;
    have += (size_t)r;
    int eof = r == 0;
    size_t i = 0, o = 0;
    const unsigned char *u = (const unsigned char *)buf;
    while (i < have && (eof || i + 4 <= have)) i += escape_one(u + i, have - i, esc, &o);
    if (put(out, esc, o) != 0) return -1;
    memmove(buf, buf + i, have - i);
    have -= i;
    if (eof) return 0;
  }
}

int spool_exec_json(spool *out, const spool *so, const spool *se, int code) {
  char head[64];
  int n = snprintf(head, sizeof head, "{\"exit_code\":%d,\"stdout\":\"", code);
  if (put(out, head, (size_t)n) || encode_string(out, so) || put(out, "\",\"stderr\":\"", 12) ||
      encode_string(out, se))
    return -1;
  const char *tail = so->truncated || se->truncated ? "\",\"truncated\":true}" : "\"}";
  return put(out, tail, strlen(tail));
}

enum MHD_Result reply_spool(struct MHD_Connection *c, unsigned status, spool *s) {
  struct MHD_Response *res = s->fd >= 0 ? MHD_create_response_from_fd((uint64_t)s->size, s->fd)
                                        : MHD_create_response_from_buffer(s->size, s->mem, MHD_RESPMEM_MUST_FREE);
  if (!res) return MHD_NO;
  s->fd = -1, s->mem = NULL; /* the response frees them */
  MHD_add_response_header(res, "Content-Type", "application/json");
  enum MHD_Result ret = MHD_queue_response(c, status, res);
  MHD_destroy_response(res);
  return ret;
}
