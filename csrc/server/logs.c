/* Sandbox log lines, persisted with the sandbox's record, at most cfg.max_log_lines a sandbox: a
 * workload printing `yes` must not fill the disk. */
#include <stdlib.h>
#include <string.h>
#include "server.h"

#define LIMIT_NOTE "the sandbox's log limit is reached (--max-log-lines): later lines are dropped"

/* lines logged per sandbox since the server started; under db_lock */
typedef struct count {
  char id[40];
  long n;
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

static void used(const char *id, long n) {
  count *c = counter(id);
  if (c) c->n += n;
}

void log_line(const char *sandbox_id, const char *level, const char *exec_id, const char *line, size_t n) {
  pthread_mutex_lock(&db_lock);
  long left = room(sandbox_id);
  if (left <= 0) {
    pthread_mutex_unlock(&db_lock);
    return;
  }
  if (left == 1) level = "warning", exec_id = "", line = LIMIT_NOTE, n = strlen(LIMIT_NOTE);
  used(sandbox_id, 1);
  json_t *s = json_bytes(line, n); /* valid UTF-8 for the JSON answers */
  sqlite3_stmt *st = db_prepare("INSERT INTO logs(sandbox_id, ts_ms, line, level, exec_id) VALUES(?,?,?,?,?)");
  if (st) {
    sqlite3_bind_text(st, 1, sandbox_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now_ms());
    sqlite3_bind_text(st, 3, json_string_value(s), (int)json_string_length(s), SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, level, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, exec_id ? exec_id : "", -1, SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_finalize(st);
  }
  pthread_mutex_unlock(&db_lock);
  json_decref(s);
}

/* Many lines in one transaction with one prepared statement: an exec that prints a million
 * lines must not take a million commits. */
#define LINE_MAX_BYTES 65536 /* an exec's lines are cut here, as the workload's are */

typedef struct sink {
  const char *id, *level, *exec_id;
  sqlite3_stmt *st;
  long left, wrote;
  int64_t ts;
  char fixed[LINE_MAX_BYTES * 3]; /* a line made valid UTF-8 */
} sink;

static void sink_begin(sink *k, const char *id, const char *level, const char *exec_id) {
  memset(k, 0, sizeof *k);
  k->id = id, k->level = level, k->exec_id = exec_id ? exec_id : "";
  pthread_mutex_lock(&db_lock);
  k->ts = now_ms(); /* under the lock: timestamps grow with seq, so `since` leaves no gaps */
  k->left = room(id);
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  k->st = db_prepare("INSERT INTO logs(sandbox_id, ts_ms, line, level, exec_id) VALUES(?,?,?,?,?)");
}

/* 0 once the sandbox has no room left */
static int sink_line(sink *k, const char *p, size_t n) {
  if (!k->st || k->wrote >= k->left) return 0;
  int last = k->wrote == k->left - 1;
  if (last) k->level = "warning", p = LIMIT_NOTE, n = strlen(LIMIT_NOTE);
  /* valid UTF-8 for the JSON answers, without an allocation a line */
  if (utf8_valid_prefix(p, n) != n) n = utf8_sanitize(p, n, k->fixed), p = k->fixed;
  k->wrote++;
  sqlite3_bind_text(k->st, 1, k->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(k->st, 2, k->ts);
  sqlite3_bind_text(k->st, 3, p, (int)n, SQLITE_STATIC);
  sqlite3_bind_text(k->st, 4, k->level, -1, SQLITE_STATIC);
  sqlite3_bind_text(k->st, 5, k->exec_id, -1, SQLITE_STATIC);
  sqlite3_step(k->st);
  sqlite3_reset(k->st);
  return !last;
}

static void sink_end(sink *k) {
  sqlite3_finalize(k->st);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  used(k->id, k->wrote);
  pthread_mutex_unlock(&db_lock);
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

void log_spool(const char *sandbox_id, const char *level, const char *exec_id, const spool *s) {
  if (s->size == 0) return;
  char *buf = malloc(LINE_MAX_BYTES * 2);
  sink *k = malloc(sizeof *k);
  if (!buf || !k) {
    free(buf);
    free(k);
    return;
  }
  sink_begin(k, sandbox_id, level, exec_id);
  size_t have = 0, at = 0;
  for (;;) {
    ssize_t r = spool_read(s, at, buf + have, LINE_MAX_BYTES * 2 - have);
    if (r <= 0) {
      sink_lines(k, buf, have, LINE_MAX_BYTES, 1);
      break;
    }
    at += (size_t)r, have += (size_t)r;
    size_t used_bytes = sink_lines(k, buf, have, LINE_MAX_BYTES, 0);
    memmove(buf, buf + used_bytes, have - used_bytes);
    have -= used_bytes;
  }
  sink_end(k);
  free(buf);
  free(k);
}
