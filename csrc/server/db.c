/* SQLite state: one connection, serialised by db_lock (the server's writes are small; WAL
 * keeps readers cheap). Statements are finalized where they are prepared. */
#include <stdio.h>
#include <string.h>
#include "server.h"

sqlite3 *db;
pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS sandboxes ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, name TEXT UNIQUE NOT NULL,"
    "  image TEXT NOT NULL, spec TEXT NOT NULL, tags TEXT NOT NULL, phase TEXT NOT NULL,"
    "  exit_code INTEGER, created_ms INTEGER NOT NULL, started_ms INTEGER, host TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS logs ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, sandbox_id TEXT NOT NULL, ts_ms INTEGER NOT NULL,"
    "  line TEXT NOT NULL, level TEXT NOT NULL, exec_id TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS logs_by_sandbox ON logs(sandbox_id, seq);"
    "CREATE TABLE IF NOT EXISTS volumes ("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, created_ms INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS mounts (sandbox_id TEXT NOT NULL, volume_id TEXT NOT NULL, path TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS snapshots ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, name TEXT NOT NULL,"
    "  sandbox_id TEXT NOT NULL, created_ms INTEGER NOT NULL, size_bytes INTEGER NOT NULL);";

int db_open(const char *path) {
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
      SQLITE_OK) {
    fprintf(stderr, "porter-sandboxd: cannot open %s: %s\n", path, sqlite3_errmsg(db));
    return -1;
  }
  sqlite3_busy_timeout(db, 5000);
  char *err = NULL;
  if (sqlite3_exec(db, SCHEMA, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "porter-sandboxd: cannot create the schema: %s\n", err);
    sqlite3_free(err);
    return -1;
  }
  return 0;
}

void db_close(void) {
  sqlite3_close(db);
  db = NULL;
}

sqlite3_stmt *db_prepare(const char *sql) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "porter-sandboxd: SQL error: %s in %s\n", sqlite3_errmsg(db), sql);
    return NULL;
  }
  return st;
}

int db_exec(const char *sql, const char *fmt, ...) {
  sqlite3_stmt *st = db_prepare(sql);
  if (!st) return SQLITE_ERROR;
  va_list ap;
  va_start(ap, fmt);
  for (int i = 0; fmt && fmt[i]; i++) {
    if (fmt[i] == 's') sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
    else if (fmt[i] == 'i') sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
    else sqlite3_bind_null(st, i + 1);
  }
  va_end(ap);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc;
}
