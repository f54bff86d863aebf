/* Sandbox log lines, persisted with the sandbox's record, at most cfg.max_log_lines and
 * cfg.max_log_bytes a sandbox: a workload printing `yes`, or long lines, must not fill the disk.
 *
 * The layout, owned here: what one read of a workload's output brought is a block, its lines
 * joined by '\n' (lines hold neither '\n' nor NUL: they are split at the one and the other is
 * made U+FFFD), appended to STATE/logs/SANDBOX_ID; the store's log_blocks row says where it is,
 * when it was printed, its level and exec id, and how many lines it holds. The bytes go to the
 * file first and the row is committed after, so a crash between the two leaves only bytes no
 * row names. A workload printing fast costs a memcpy a line and a write a block, not a row a
 * line (nor a page of the store's write-ahead log a few lines, written twice). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "server.h"
#include "db.h"
#include "retention.h"
#include "logs.h"
#include "spool.h"

#define LIMIT_NOTE "the sandbox's log limit is reached (--max-log-lines, --max-log-bytes): later lines are dropped"

/* lines logged per sandbox since the server started; touched inside db_batch only, under the store's lock */
typedef struct count {
  char id[40];
  long n;
  long long bytes;
  int full; /* its note is logged: nothing more, whatever room the counts leave */
  struct count *next;
} count;
static count *buckets[4096];

static count **slot(const char *id) {
  unsigned h = 5381;
  for (const char *p = id; *p; p++) h = h * 33 + (unsigned char)*p;
  return &buckets[h % 4096];
}

static count *counter(const char *id) {
  count **b = slot(id);
  for (count *c = *b; c; c = c->next)
    if (!strcmp(c->id, id)) return c;
  count *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  snprintf(c->id, sizeof c->id, "%s", id);
  c->next = *b;
  *b = c;
  return c;
}

/* How many more lines sandbox_id may log (the last one of them is the note saying so). */
static long room(const char *id) {
  count *c = counter(id);
  return c && !c->full ? cfg.max_log_lines - c->n : 0;
}

/* How many more bytes of lines it may log. */
static long long room_bytes(const char *id) {
  count *c = counter(id);
  return c && !c->full ? (long long)cfg.max_log_bytes - c->bytes : 0;
}

/* full: the note went out. Without it, a limit reached by bytes would leave room for a shorter
 * line, and the next read's lines would log the note again (once a read, for as long as the
 * workload printed) */
static void used(const char *id, long n, long long bytes, int full) {
  count *c = counter(id);
  if (c) c->n += n, c->bytes += bytes, c->full |= full;
}

/* Lines go in through a sink, in one transaction of the store (db_batch), which also orders
 * the appends to a sandbox's file. */
#define LINE_MAX_BYTES 65536     /* an exec's lines are cut here, as the workload's are */
#define BLOCK_MAX (1 << 20)      /* a block is written out when it would grow past this */

typedef struct sink {
  const char *id, *level, *exec_id;
  sqlite3_stmt *st;
  int fd;
  long left, wrote;
  long long bytes_left, bytes;
  int noted; /* the limit's note is among its lines */
  int64_t ts;
  char *fixed; /* a line made valid UTF-8, made when first needed */
  char *block; /* the block being made: lines lines in used bytes */
  size_t used, cap;
  long lines;
} sink;

/* STATE/logs/ID, for ids as the server makes them (no '/', no dots) */
static int log_path(const char *id, char *out, size_t n) {
  if (!*id || strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(id)) return -1;
  return pathf(out, n, "%s/logs/%s", cfg.state_dir, id);
}

static int open_for_append(const char *id) {
  char path[4200];
  if (log_path(id, path, sizeof path) != 0) return -1;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && errno == ENOENT) {
    char dir[4200];
    if (pathf(dir, sizeof dir, "%s/logs", cfg.state_dir) != 0 || (mkdir(dir, 0700) != 0 && errno != EEXIST)) return -1;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  }
  return fd;
}

/* a pruned sandbox's counter (inside db_batch, as every counter is touched) */
static int forget_counter(void *ctx) {
  const char *id = ctx;
  for (count **c = slot(id); *c; c = &(*c)->next)
    if (!strcmp((*c)->id, id)) {
      count *gone = *c;
      *c = gone->next;
      free(gone);
      break;
    }
  return 0;
}

void logs_forget(const char *id) {
  char path[4200];
  if (log_path(id, path, sizeof path) == 0) unlink(path);
  db_batch(forget_counter, (void *)id);
}

/* inside db_batch: its timestamp is taken under the store's lock, so timestamps grow with seq
 * and `since` leaves no gaps */
static int sink_open(sink *k) {
  k->ts = now_ms();
  k->left = room(k->id);
  k->bytes_left = room_bytes(k->id);
  k->fd = open_for_append(k->id);
  k->st = k->fd < 0 ? NULL
                    : db_prepare("INSERT INTO log_blocks(sandbox_id, ts_ms, level, exec_id, n, off, len) VALUES(?,?,?,?,?,?,?)");
  if (!k->st && k->fd >= 0) close(k->fd), k->fd = -1;
  return k->st ? 0 : -1;
}

/* lines lines in p[0..n) to the file, then their row; if the file takes them not whole,
 * neither is kept. */
static void sink_emit(sink *k, const char *p, size_t n, long lines) {
  off_t off = lseek(k->fd, 0, SEEK_END);
  size_t done = 0;
  while (off >= 0 && done < n) {
    ssize_t w = write(k->fd, p + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += (size_t)w;
  }
  if (off >= 0 && done == n) {
    retention_logged((long long)n);
    sqlite3_bind_text(k->st, 1, k->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(k->st, 2, k->ts);
    sqlite3_bind_text(k->st, 3, k->level, -1, SQLITE_STATIC);
    sqlite3_bind_text(k->st, 4, k->exec_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(k->st, 5, lines);
    sqlite3_bind_int64(k->st, 6, (sqlite3_int64)off);
    sqlite3_bind_int64(k->st, 7, (sqlite3_int64)n);
    sqlite3_step(k->st);
    sqlite3_reset(k->st);
  } else if (off >= 0 && ftruncate(k->fd, off) != 0) {
    /* the disk is full: these lines are lost, and the bytes that went are named by no row */
  }
}

static void sink_flush(sink *k) {
  if (k->lines) sink_emit(k, k->block, k->used, k->lines);
  k->used = 0, k->lines = 0;
}

static void sink_close(sink *k) {
  if (k->st) sink_flush(k);
  sqlite3_finalize(k->st);
  if (k->fd >= 0) close(k->fd);
  used(k->id, k->wrote, k->bytes, k->noted);
  free(k->fixed);
  free(k->block);
}

/* Adds p[0..n), lines lines joined by '\n', to the block; 0 if there was no memory for them
 * (they are lost). */
static int sink_add(sink *k, const char *p, size_t n, long lines) {
  if (k->lines && k->used + 1 + n > BLOCK_MAX) sink_flush(k);
  size_t need = k->used + (k->lines ? 1 : 0) + n;
  if (need > k->cap) {
    size_t cap = k->cap ? k->cap : 4096;
    while (cap < need) cap *= 2;
    char *b = realloc(k->block, cap);
    if (!b) return 0;
    k->block = b, k->cap = cap;
  }
  if (k->lines) k->block[k->used++] = '\n';
  if (n) memcpy(k->block + k->used, p, n); /* an empty line first in a block: no block yet */
  k->used += n, k->lines += lines;
  return 1;
}

/* 0 once the sandbox has no room left; n is at most LINE_MAX_BYTES */
static int sink_line(sink *k, const char *p, size_t n) {
  if (!k->st || k->wrote >= k->left || k->bytes_left <= 0) return 0;
  /* the last line that fits, in count or in bytes (with room for the note), is the note */
  int last = k->wrote == k->left - 1 || (long long)(n + sizeof LIMIT_NOTE) > k->bytes_left;
  if (last) {
    sink_flush(k); /* the note is a block of its own: its level is not the lines' */
    k->level = "warning", p = LIMIT_NOTE, n = strlen(LIMIT_NOTE);
  }
  /* valid UTF-8 for the JSON answers, without an allocation a line */
  if (utf8_valid_prefix(p, n) != n) {
    if (!k->fixed && !(k->fixed = malloc(LINE_MAX_BYTES * 3))) return 1; /* out of memory: this line is lost */
    n = utf8_sanitize(p, n, k->fixed), p = k->fixed;
  }
  if (!sink_add(k, p, n, 1)) return 1;
  k->noted |= last;
  k->wrote++;
  k->bytes += (long long)n;
  k->bytes_left = last ? 0 : k->bytes_left - (long long)n;
  return !last;
}

typedef struct one_line {
  sink k;
  const char *line;
  size_t n;
} one_line;

static int write_one(void *ctx) {
  one_line *j = ctx;
  if (sink_open(&j->k) != 0) return -1;
  sink_line(&j->k, j->line, j->n);
  sink_close(&j->k);
  return 0;
}

void log_line(const char *sandbox_id, const char *level, const char *exec_id, const char *line, size_t n) {
  if (n > LINE_MAX_BYTES) n = LINE_MAX_BYTES;
  one_line j = {{.id = sandbox_id, .level = level, .exec_id = exec_id ? exec_id : ""}, line, n};
  db_batch(write_one, &j);
  retention_check(0);
}

/* The common case, with no work a line: text's complete lines, all valid UTF-8, none longer
 * than max and all within the sandbox's room with the note's to spare, go in whole (straight
 * from text when the block is empty). Returns the bytes taken: up to and with the last
 * newline, or 0 (line by line, then). */
static size_t whole_lines(sink *k, const char *text, size_t n, size_t max) {
  const char *end = n && k->st ? memrchr(text, '\n', n) : NULL;
  if (!end) return 0;
  size_t region = (size_t)(end - text);
  long count = (long)count_newlines(text, region) + 1;
  /* a line may be longer than max: each stretch of max + 1 bytes must hold a newline, and the
   * next stretch starts after its last one (a memchr a line was a tenth of the pump's time) */
  for (const char *line = text; (size_t)(end - line) > max;) {
    const char *nl = memrchr(line, '\n', max + 1);
    if (!nl) return 0;
    line = nl + 1;
  }
  long long bytes = (long long)region - (count - 1);
  if (k->wrote + count >= k->left || bytes + (long long)sizeof LIMIT_NOTE > k->bytes_left) return 0;
  if (utf8_valid_prefix(text, region) != region) return 0;
  if (!k->lines) sink_emit(k, text, region, count);
  else if (!sink_add(k, text, region, count)) return 0;
  k->wrote += count;
  k->bytes += bytes;
  k->bytes_left -= bytes;
  return region + 1;
}

/* The lines of text[0..n): the newline after the last one is optional, and a line longer than
 * max is cut into pieces of max bytes, as the workload's own output is. Returns how many
 * bytes it consumed: all of them when final, else up to the last newline (or a cut). */
static size_t sink_lines(sink *k, const char *text, size_t n, size_t max, int final) {
  size_t start = whole_lines(k, text, n, max);
  for (size_t i = start; i < n; i++) {
    if (text[i] != '\n' && i - start < max) continue;
    if (!sink_line(k, text + start, i - start)) return n;
    start = text[i] == '\n' ? i + 1 : i;
  }
  if (final && start < n) {
    sink_line(k, text + start, n - start);
    start = n;
  }
  return start;
}

typedef struct chunk {
  sink k;
  const char *text;
  size_t n, max, consumed;
  int final;
} chunk;

static int write_chunk(void *ctx) {
  chunk *j = ctx;
  if (sink_open(&j->k) != 0) return -1;
  j->consumed = sink_lines(&j->k, j->text, j->n, j->max, j->final);
  /* a line as long as the caller's whole buffer: out in a piece of max bytes, or it never moves */
  if (!j->final && j->consumed == 0 && j->n >= j->max) {
    sink_line(&j->k, j->text, j->max);
    j->consumed = j->max;
  }
  sink_close(&j->k);
  return 0;
}

size_t log_text(const char *sandbox_id, const char *level, const char *text, size_t n, size_t max, int final) {
  if (max > LINE_MAX_BYTES) max = LINE_MAX_BYTES;
  chunk j = {{.id = sandbox_id, .level = level, .exec_id = ""}, text, n, max, 0, final};
  if (db_batch(write_chunk, &j) != 0) return n; /* the store failed: these lines are lost, not retried */
  retention_check(0);
  return j.consumed;
}

typedef struct spooled {
  sink k;
  const spool *s;
  char *buf;
} spooled;

static int write_spool(void *ctx) {
  spooled *j = ctx;
  if (sink_open(&j->k) != 0) return -1;
  size_t have = 0, at = 0;
  for (;;) {
    ssize_t r = spool_read(j->s, at, j->buf + have, LINE_MAX_BYTES * 2 - have);
    if (r <= 0) {
      sink_lines(&j->k, j->buf, have, LINE_MAX_BYTES, 1);
      break;
    }
    at += (size_t)r, have += (size_t)r;
    size_t consumed = sink_lines(&j->k, j->buf, have, LINE_MAX_BYTES, 0);
    memmove(j->buf, j->buf + consumed, have - consumed);
    have -= consumed;
  }
  sink_close(&j->k);
  return 0;
}

void log_spool(const char *sandbox_id, const char *level, const char *exec_id, const spool *s) {
  if (s->size == 0) return;
  spooled j = {{.id = sandbox_id, .level = level, .exec_id = exec_id ? exec_id : ""}, s, malloc(LINE_MAX_BYTES * 2)};
  if (j.buf) db_batch(write_spool, &j);
  free(j.buf);
  retention_check(0);
}

/* ---- reading them back: blocks straight to the answer's JSON, with no tree in between ---- */
typedef struct reading {
  const char *id;
  int64_t since;
  long limit;
  spool *out;
} reading;

/* the answer is gathered in a block of this many bytes before the spool gets it: a write a
 * line would be a system call a line once the answer is past the spool's memory */
#define OUT_BLOCK (LINE_MAX_BYTES * 6 + (64 << 10))

/* Where the last `limit` lines since q->since begin: the first block's seq, and how many of
 * its lines come before them. Walks the blocks' counts alone (a covering index), newest first. */
static int first_block(const reading *q, sqlite3_int64 *seq, long *skip) {
  *seq = 0, *skip = 0;
  if (q->limit <= 0) return 0;
  sqlite3_stmt *st = db_prepare("SELECT seq, n FROM log_blocks WHERE sandbox_id=? AND ts_ms>=? ORDER BY seq DESC");
  if (!st) return -1;
  sqlite3_bind_text(st, 1, q->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, q->since);
  long total = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    total += (long)sqlite3_column_int64(st, 1);
    if (total >= q->limit) {
      *seq = sqlite3_column_int64(st, 0), *skip = total - q->limit;
      rc = SQLITE_DONE;
      break;
    }
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

/* len bytes at off of fd into *buf (grown to fit); 0, or -1 */
static int read_block(int fd, off_t off, size_t len, char **buf, size_t *cap) {
  if (len > *cap) {
    char *b = realloc(*buf, len);
    if (!b) return -1;
    *buf = b, *cap = len;
  }
  size_t done = 0;
  while (done < len) {
    ssize_t r = pread(fd, *buf + done, len - done, off + (off_t)done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    done += (size_t)r;
  }
  return 0;
}

static int read_lines(void *ctx) {
  reading *q = ctx;
  sqlite3_int64 from;
  long skip;
  if (first_block(q, &from, &skip) != 0) return -1;
  sqlite3_stmt *st = db_prepare("SELECT ts_ms, level, exec_id, n, off, len FROM log_blocks "
                                "WHERE sandbox_id=? AND ts_ms>=? AND seq>=? ORDER BY seq");
  char *b = malloc(OUT_BLOCK), *data = NULL, path[4200];
  size_t cap = 0;
  int fd = log_path(q->id, path, sizeof path) == 0 ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
  if (!st || !b) {
    sqlite3_finalize(st);
    free(b);
    if (fd >= 0) close(fd);
    return -1;
  }
  sqlite3_bind_text(st, 1, q->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, q->since);
  sqlite3_bind_int64(st, 3, from);
  int bad = spool_put(q->out, "{\"sandbox_id\":", 14) || spool_put_string(q->out, q->id, strlen(q->id)) ||
            spool_put(q->out, ",\"logs\":[", 9);
  int rc, first = 1;
  size_t used = 0;
  /* a block's lines share what comes before and after their text: made once a block */
  char head[96], tail[2 * 6 * 64 + 64];
  while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    size_t size = (size_t)sqlite3_column_int64(st, 5), at = 0;
    if (fd < 0 || read_block(fd, (off_t)sqlite3_column_int64(st, 4), size, &data, &cap) != 0) {
      bad = 1;
      break;
    }
    size_t hn = (size_t)snprintf(head, sizeof head, "{\"timestamp\":\"");
    fmt_time(sqlite3_column_int64(st, 0), head + hn, 40);
    hn += strlen(head + hn);
    memcpy(head + hn, "\",\"line\":\"", 10), hn += 10;
    const char *level = (const char *)sqlite3_column_text(st, 1), *exec = (const char *)sqlite3_column_text(st, 2);
    size_t ln = level ? strnlen(level, 64) : 0, en = exec ? strnlen(exec, 64) : 0;
    size_t tn = 0;
    memcpy(tail, "\",\"level\":\"", 11), tn = 11;
    tn += json_escape(level ? level : "", ln, tail + tn);
    memcpy(tail + tn, "\",\"exec_id\":\"", 13), tn += 13;
    tn += json_escape(exec ? exec : "", en, tail + tn);
    memcpy(tail + tn, "\"}", 2), tn += 2;
    long n = (long)sqlite3_column_int64(st, 3);
    for (long i = 0; i < n && at <= size; i++) {
      const char *nl = size ? memchr(data + at, '\n', size - at) : NULL;
      size_t len = nl ? (size_t)(nl - (data + at)) : size - at;
      if (skip > 0) {
        skip--;
      } else {
        /* a line at most: 6 bytes a byte escaped, and what is around it */
        if (used + 6 * len + hn + tn + 1 > OUT_BLOCK) {
          bad = bad || spool_put(q->out, b, used);
          used = 0;
        }
        if (!first) b[used++] = ',';
        first = 0;
        memcpy(b + used, head, hn), used += hn;
        used += json_escape(size ? data + at : "", len, b + used);
        memcpy(b + used, tail, tn), used += tn;
      }
      at += len + 1;
    }
    skip = 0; /* only the first block's lines are skipped */
  }
  sqlite3_finalize(st);
  bad = bad || (rc != SQLITE_DONE) || spool_put(q->out, b, used) || spool_put(q->out, "]}", 2);
  free(b);
  free(data);
  if (fd >= 0) close(fd);
  return bad ? -1 : 0;
}

int logs_json(const char *sandbox_id, int64_t since_ms, long limit, spool *out) {
  reading q = {sandbox_id, since_ms, limit, out};
  return db_batch(read_lines, &q);
}

/* ---- a store from before log blocks: a row a line in a `logs` table ---- */
static int upgrade(void *ctx) {
  (void)ctx;
  sqlite3_stmt *has = db_prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='logs'");
  int old = has && sqlite3_step(has) == SQLITE_ROW;
  sqlite3_finalize(has);
  if (!old) return 0;
  sqlite3_stmt *st = db_prepare("SELECT sandbox_id, ts_ms, line, level, exec_id FROM logs ORDER BY seq");
  if (!st) return -1;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *text = (const char *)sqlite3_column_text(st, 2);
    sink k = {.id = (const char *)sqlite3_column_text(st, 0), .level = (const char *)sqlite3_column_text(st, 3),
              .exec_id = (const char *)sqlite3_column_text(st, 4)};
    if (!k.id || !k.level || !k.exec_id || sink_open(&k) != 0) continue; /* a row the store cannot place */
    k.ts = sqlite3_column_int64(st, 1);
    k.left = 2, k.bytes_left = LINE_MAX_BYTES * 4; /* each row was kept once already: no note */
    size_t n = (size_t)sqlite3_column_bytes(st, 2);
    sink_line(&k, text ? text : "", n > LINE_MAX_BYTES ? LINE_MAX_BYTES : n);
    k.wrote = 0, k.bytes = 0; /* counted when they were first kept */
    sink_close(&k);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return -1;
  return db_update("DROP TABLE logs", "") < 0 ? -1 : 0;
}

int logs_upgrade(void) { return db_batch(upgrade, NULL); }
