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

/* One transaction and one prepared statement for all the lines: an exec that prints a million
 * lines must not take a million commits. */
void log_text(const char *sandbox_id, const char *level, const char *exec_id, const char *text, size_t n) {
  if (n == 0) return;
  int64_t ts = now_ms();
  pthread_mutex_lock(&db_lock);
  long left = room(sandbox_id);
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  sqlite3_stmt *st = db_prepare("INSERT INTO logs(sandbox_id, ts_ms, line, level, exec_id) VALUES(?,?,?,?,?)");
  size_t start = 0;
  long wrote = 0;
  for (size_t i = 0; st && i <= n && wrote < left; i++) {
    if (i < n && text[i] != '\n') continue;
    if (i > start || i < n) {
      int last = wrote == left - 1;
      json_t *line = last ? json_string(LIMIT_NOTE) : json_bytes(text + start, i - start); /* valid UTF-8 */
      if (last) level = "warning";
      wrote++;
      sqlite3_bind_text(st, 1, sandbox_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 2, ts);
      sqlite3_bind_text(st, 3, json_string_value(line), (int)json_string_length(line), SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 4, level, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 5, exec_id ? exec_id : "", -1, SQLITE_STATIC);
      sqlite3_step(st);
      sqlite3_reset(st);
      json_decref(line);
    }
    start = i + 1;
  }
  sqlite3_finalize(st);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  used(sandbox_id, wrote);
  pthread_mutex_unlock(&db_lock);
}
