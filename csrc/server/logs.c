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

void log_text(const char *sandbox_id, const char *level, const char *exec_id, const char *text, size_t n) {
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || text[i] == '\n') {
      if (i > start || i < n) log_line(sandbox_id, level, exec_id, text + start, i - start);
      start = i + 1;
    }
  }
}
