/* Sandbox log lines, persisted with the sandbox's record. */
#include <string.h>
#include "server.h"

void log_line(const char *sandbox_id, const char *level, const char *exec_id, const char *line, size_t n) {
  json_t *s = json_bytes(line, n); /* valid UTF-8 for the JSON answers */
  pthread_mutex_lock(&db_lock);
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
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  sqlite3_stmt *st = db_prepare("INSERT INTO logs(sandbox_id, ts_ms, line, level, exec_id) VALUES(?,?,?,?,?)");
  size_t start = 0;
  for (size_t i = 0; st && i <= n; i++) {
    if (i < n && text[i] != '\n') continue;
    if (i > start || i < n) {
      json_t *line = json_bytes(text + start, i - start); /* valid UTF-8 for the JSON answers */
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
  pthread_mutex_unlock(&db_lock);
}
