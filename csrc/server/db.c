/* The store: SQLite state behind one connection and one lock, both private to this file
 * (the server's writes are small; WAL keeps readers cheap). Every function takes the lock
 * itself, and finalizes what it prepares before it returns; callers get rows as JSON values and
 * never see the connection, except the batch callbacks of db_batch. The lock is recursive so
 * that a batch may call the others. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "server.h"

static sqlite3 *db;
static pthread_mutex_t db_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS sandboxes ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, name TEXT UNIQUE NOT NULL,"
    "  image TEXT NOT NULL, spec TEXT NOT NULL, tags TEXT NOT NULL, phase TEXT NOT NULL,"
    "  exit_code INTEGER, created_ms INTEGER NOT NULL, started_ms INTEGER, host TEXT NOT NULL DEFAULT '',"
    "  finished_ms INTEGER);"
    /* where a sandbox's log lines are: a block a burst, in its log file (logs.c) */
    "CREATE TABLE IF NOT EXISTS log_blocks ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, sandbox_id TEXT NOT NULL, ts_ms INTEGER NOT NULL,"
    "  level TEXT NOT NULL, exec_id TEXT NOT NULL, n INTEGER NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS log_blocks_by_sandbox ON log_blocks(sandbox_id, seq, ts_ms, n);"
    "CREATE TABLE IF NOT EXISTS volumes ("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, created_ms INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,"
    "  type TEXT NOT NULL DEFAULT 'disk', object TEXT);"
    "CREATE TABLE IF NOT EXISTS mounts (sandbox_id TEXT NOT NULL, volume_id TEXT NOT NULL, path TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS snapshots ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, name TEXT NOT NULL,"
    "  sandbox_id TEXT NOT NULL, created_ms INTEGER NOT NULL, size_bytes INTEGER NOT NULL,"
    "  mode TEXT NOT NULL DEFAULT 'filesystem', status TEXT NOT NULL DEFAULT 'ready', ready_ms INTEGER,"
    "  failure TEXT, sha256 TEXT, image TEXT);";

/* Columns added since a state dir's tables were made: each added once (SQLite has no ADD COLUMN
 * IF NOT EXISTS; "duplicate column" is the answer for a store that has it already). */
static const char *const MIGRATIONS[] = {
    "ALTER TABLE sandboxes ADD COLUMN finished_ms INTEGER",
    "ALTER TABLE volumes ADD COLUMN type TEXT NOT NULL DEFAULT 'disk'",
    "ALTER TABLE volumes ADD COLUMN object TEXT",
    "ALTER TABLE snapshots ADD COLUMN mode TEXT NOT NULL DEFAULT 'filesystem'",
    "ALTER TABLE snapshots ADD COLUMN status TEXT NOT NULL DEFAULT 'ready'",
    "ALTER TABLE snapshots ADD COLUMN ready_ms INTEGER",
    "ALTER TABLE snapshots ADD COLUMN failure TEXT",
    "ALTER TABLE snapshots ADD COLUMN sha256 TEXT",
    "ALTER TABLE snapshots ADD COLUMN image TEXT",
};

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
  for (size_t i = 0; i < sizeof MIGRATIONS / sizeof *MIGRATIONS; i++) {
    if (sqlite3_exec(db, MIGRATIONS[i], NULL, NULL, &err) != SQLITE_OK && !strstr(err, "duplicate column")) {
      fprintf(stderr, "porter-sandboxd: cannot bring the store up to date (%s): %s\n", MIGRATIONS[i], err);
      sqlite3_free(err);
      return -1;
    }
    sqlite3_free(err);
    err = NULL;
  }
  return 0;
}

void db_close(void) {
  pthread_mutex_lock(&db_lock);
  sqlite3_close(db);
  db = NULL;
  /* left locked: nothing may use the store after this (the server is exiting) */
}

sqlite3_stmt *db_prepare(const char *sql) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "porter-sandboxd: SQL error: %s in %s\n", sqlite3_errmsg(db), sql);
    return NULL;
  }
  return st;
}

/* binds from fmt ('s' text, 'i' int64, anything else null) */
static json_t *binds_of(const char *fmt, va_list ap) {
  json_t *b = json_array();
  for (int i = 0; fmt && fmt[i]; i++) {
    if (fmt[i] == 's') json_array_append_new(b, json_string(va_arg(ap, const char *)));
    else if (fmt[i] == 'i') json_array_append_new(b, json_integer(va_arg(ap, int64_t)));
    else json_array_append_new(b, json_null());
  }
  return b;
}

static void bind_all(sqlite3_stmt *st, json_t *binds) {
  size_t i;
  json_t *v;
  json_array_foreach(binds, i, v) {
    if (json_is_integer(v)) sqlite3_bind_int64(st, (int)i + 1, json_integer_value(v));
    else if (json_is_string(v)) sqlite3_bind_text(st, (int)i + 1, json_string_value(v), (int)json_string_length(v), SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, (int)i + 1);
  }
}

static json_t *column(sqlite3_stmt *st, int c) {
  switch (sqlite3_column_type(st, c)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, c));
    case SQLITE_NULL: return json_null();
    default: {
      const char *p = (const char *)sqlite3_column_text(st, c);
      size_t n = (size_t)sqlite3_column_bytes(st, c);
      json_t *v = json_stringn(p ? p : "", n);
      return v ? v : json_bytes(p ? p : "", n); /* never a hole in the row */
    }
  }
}

/* Runs sql; *rows (if asked) gets an array of rows, each an array of column values, and
 * *changed (if asked) the rows it changed. */
static int run(const char *sql, json_t *binds, json_t **rows, int *changed) {
  pthread_mutex_lock(&db_lock);
  sqlite3_stmt *st = db ? db_prepare(sql) : NULL;
  int rc = SQLITE_ERROR;
  if (st) {
    bind_all(st, binds);
    if (rows) *rows = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      if (!rows) continue;
      json_t *row = json_array();
      for (int c = 0; c < sqlite3_column_count(st); c++) json_array_append_new(row, column(st, c));
      json_array_append_new(*rows, row);
    }
    sqlite3_finalize(st);
    if (changed) *changed = sqlite3_changes(db);
  }
  pthread_mutex_unlock(&db_lock);
  return rc;
}

/* run() with binds from fmt's va_list */
static int vrun(const char *sql, const char *fmt, va_list ap, json_t **rows, int *changed) {
  json_t *b = binds_of(fmt, ap);
  int rc = run(sql, b, rows, changed);
  json_decref(b);
  return rc;
}

int db_exec(const char *sql, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vrun(sql, fmt, ap, NULL, NULL);
  va_end(ap);
  return rc;
}

int db_update(const char *sql, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int changed = 0, rc = vrun(sql, fmt, ap, NULL, &changed);
  va_end(ap);
  return rc == SQLITE_DONE ? changed : -1;
}

json_t *db_rows(const char *sql, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  json_t *rows = NULL;
  int rc = vrun(sql, fmt, ap, &rows, NULL);
  va_end(ap);
  if (rc != SQLITE_DONE) json_decref(rows), rows = NULL;
  return rows;
}

json_t *db_map(json_t *rows, json_t *(*fn)(json_t *row)) {
  json_t *out = json_array();
  size_t i;
  json_t *row;
  json_array_foreach(rows, i, row) json_array_append_new(out, fn(row));
  json_decref(rows);
  return out;
}

json_t *db_rows_binds(const char *sql, json_t *binds) {
  json_t *rows = NULL;
  if (run(sql, binds, &rows, NULL) != SQLITE_DONE) json_decref(rows), rows = NULL;
  return rows;
}

int db_batch(int (*fn)(void *ctx), void *ctx) {
  pthread_mutex_lock(&db_lock);
  int rc = -1;
  if (db && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
    rc = fn(ctx);
    sqlite3_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
  }
  pthread_mutex_unlock(&db_lock);
  return rc;
}
