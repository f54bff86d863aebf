/* Sandbox log lines, persisted with the sandbox's record, at most cfg.max_log_lines and
 * cfg.max_log_bytes a sandbox: a workload printing `yes`, or long lines, must not fill the disk. */
#include <stdlib.h>
#include <string.h>
#include "server.h"

#define LIMIT_NOTE "the sandbox's log limit is reached (--max-log-lines, --max-log-bytes): later lines are dropped"

/* lines logged per sandbox since the server started; touched inside db_batch only, under the store's lock */
typedef struct count {
  char id[40];
  long n;
  long long bytes;
  struct count *next;
} count;
static count *buckets[4096];

static count *counter(const char *id) {
  unsigned h = 5381;
  for (const char *p = id; *p; p++) h = h * 33 + (unsigned char)*p;
  count **b = &buckets[h % 4096];
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
  return c ? cfg.max_log_lines - c->n : 0;
}

/* How many more bytes of lines it may log. */
static long long room_bytes(const char *id) {
  count *c = counter(id);
  return c ? (long long)cfg.max_log_bytes - c->bytes : 0;
}

static void used(const char *id, long n, long long bytes) {
  count *c = counter(id);
  if (c) c->n += n, c->bytes += bytes;
}

/* Lines go in through a sink: in one transaction of the store (db_batch), with one prepared
 * statement, so that an exec that prints a million lines does not take a million commits. */
#define LINE_MAX_BYTES 65536 /* an exec's lines are cut here, as the workload's are */

typedef struct sink {
  const char *id, *level, *exec_id;
  sqlite3_stmt *st;
  long left, wrote;
  long long bytes_left, bytes;
  int64_t ts;
  char *fixed; /* a line made valid UTF-8, made when first needed */
} sink;

/* inside db_batch: its timestamp is taken under the store's lock, so timestamps grow with seq
 * and `since` leaves no gaps */
static int sink_open(sink *k) {
  k->ts = now_ms();
  k->left = room(k->id);
  k->bytes_left = room_bytes(k->id);
  k->st = db_prepare("INSERT INTO logs(sandbox_id, ts_ms, line, level, exec_id) VALUES(?,?,?,?,?)");
  return k->st ? 0 : -1;
}

static void sink_close(sink *k) {
  sqlite3_finalize(k->st);
  used(k->id, k->wrote, k->bytes);
  free(k->fixed);
}

/* 0 once the sandbox has no room left; n is at most LINE_MAX_BYTES */
static int sink_line(sink *k, const char *p, size_t n) {
  if (!k->st || k->wrote >= k->left || k->bytes_left <= 0) return 0;
  /* the last line that fits, in count or in bytes (with room for the note), is the note */
  int last = k->wrote == k->left - 1 || (long long)(n + sizeof LIMIT_NOTE) > k->bytes_left;
  if (last) k->level = "warning", p = LIMIT_NOTE, n = strlen(LIMIT_NOTE);
  /* valid UTF-8 for the JSON answers, without an allocation a line */
  if (utf8_valid_prefix(p, n) != n) {
    if (!k->fixed && !(k->fixed = malloc(LINE_MAX_BYTES * 3))) return 1; /* out of memory: this line is lost */
    n = utf8_sanitize(p, n, k->fixed), p = k->fixed;
  }
  k->wrote++;
  k->bytes += (long long)n;
  k->bytes_left = last ? 0 : k->bytes_left - (long long)n;
  sqlite3_bind_text(k->st, 1, k->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(k->st, 2, k->ts);
  sqlite3_bind_text(k->st, 3, p, (int)n, SQLITE_STATIC);
  sqlite3_bind_text(k->st, 4, k->level, -1, SQLITE_STATIC);
  sqlite3_bind_text(k->st, 5, k->exec_id, -1, SQLITE_STATIC);
  sqlite3_step(k->st);
  sqlite3_reset(k->st);
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
}

/* The lines of text[0..n): the newline after the last one is optional, and a line longer than
 * max is cut into pieces of max bytes, as the workload's own output is. Returns how many
 * bytes it consumed: all of them when final, else up to the last newline (or a cut). */
static size_t sink_lines(sink *k, const char *text, size_t n, size_t max, int final) {
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
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
}

/* ---- reading them back: rows straight to the answer's JSON, with no tree in between ---- */
typedef struct reading {
  const char *id;
  int64_t since;
  long limit;
  spool *out;
} reading;

/* rows are gathered in a block of this many bytes before the spool gets them: a write a row
 * would be a system call a row once the answer is past the spool's memory */
#define BLOCK (LINE_MAX_BYTES * 6 + (64 << 10))

static int read_lines(void *ctx) {
  reading *q = ctx;
  sqlite3_stmt *st = db_prepare("SELECT ts_ms, line, level, exec_id FROM (SELECT seq, ts_ms, line, level, exec_id FROM logs "
                                "WHERE sandbox_id=? AND ts_ms>=? ORDER BY seq DESC LIMIT ?) ORDER BY seq");
  char *b = malloc(BLOCK);
  if (!st || !b) {
    sqlite3_finalize(st);
    free(b);
    return -1;
  }
  sqlite3_bind_text(st, 1, q->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, q->since);
  sqlite3_bind_int64(st, 3, q->limit > 0 ? q->limit : -1);
  int bad = spool_put(q->out, "{\"sandbox_id\":", 14) || spool_put_string(q->out, q->id, strlen(q->id)) ||
            spool_put(q->out, ",\"logs\":[", 9);
  int rc, first = 1;
  size_t used = 0;
  static const char *const names[3] = {"\",\"line\":\"", "\",\"level\":\"", "\",\"exec_id\":\""};
  while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    size_t lens[3];
    for (int i = 0; i < 3; i++) lens[i] = (size_t)sqlite3_column_bytes(st, i + 1);
    /* a row at most: 6 bytes a byte escaped, the names and the timestamp */
    if (used + 6 * (lens[0] + lens[1] + lens[2]) + 128 > BLOCK) {
      bad = spool_put(q->out, b, used);
      used = 0;
    }
    if (!first) b[used++] = ',';
    first = 0;
    used += (size_t)snprintf(b + used, 64, "{\"timestamp\":\"");
    fmt_time(sqlite3_column_int64(st, 0), b + used, 40);
    used += strlen(b + used);
    for (int i = 0; i < 3; i++) {
      memcpy(b + used, names[i], strlen(names[i])), used += strlen(names[i]);
      const char *text = (const char *)sqlite3_column_text(st, i + 1);
      used += json_escape(text ? text : "", text ? lens[i] : 0, b + used);
    }
    memcpy(b + used, "\"}", 2), used += 2;
  }
  sqlite3_finalize(st);
  bad = bad || (rc != SQLITE_DONE) || spool_put(q->out, b, used) || spool_put(q->out, "]}", 2);
  free(b);
  return bad ? -1 : 0;
}

int logs_json(const char *sandbox_id, int64_t since_ms, long limit, spool *out) {
  reading q = {sandbox_id, since_ms, limit, out};
  return db_batch(read_lines, &q);
}
