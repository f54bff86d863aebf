/* The store: SQLite state behind one connection and one lock, both private to this file
 * (the server's writes are small; WAL keeps readers cheap). Every function takes the lock
 * itself, and finalizes what it prepares before it returns; callers get rows as JSON values and
 * never see the connection, except the batch callbacks of db_batch. The lock is recursive so
 * that a batch may call the others. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include "server.h"
#include "db.h"

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
    /* lists: an index for every filter the contract has, tags in a table of their own, and
     * the totals and filter values kept as the rows change (the triggers), so that none of
     * them walks every row */
    "CREATE INDEX IF NOT EXISTS sandboxes_by_phase ON sandboxes(phase, seq);"
    "CREATE INDEX IF NOT EXISTS sandboxes_by_image ON sandboxes(image, seq);"
    "CREATE INDEX IF NOT EXISTS sandboxes_by_created ON sandboxes(created_ms);"
    "CREATE TABLE IF NOT EXISTS sandbox_tags (key TEXT NOT NULL, value TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  PRIMARY KEY(key, value, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS tag_counts (key TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL,"
    "  PRIMARY KEY(key, value)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS image_counts (image TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS phase_counts (phase TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
    /* names of pruned sandboxes (retention.c): a name is never reused */
    "CREATE TABLE IF NOT EXISTS retired_names (name TEXT PRIMARY KEY) WITHOUT ROWID;"
    "CREATE TRIGGER IF NOT EXISTS sandbox_name_retired BEFORE INSERT ON sandboxes"
    "  WHEN EXISTS (SELECT 1 FROM retired_names WHERE name = new.name) BEGIN"
    "  SELECT RAISE(ABORT, 'UNIQUE constraint failed: sandboxes.name');"
    "END;"
    "CREATE TRIGGER IF NOT EXISTS sandbox_added AFTER INSERT ON sandboxes BEGIN"
    "  INSERT INTO sandbox_tags(key, value, seq) SELECT key, value, new.seq FROM json_each(new.tags);"
    "  INSERT INTO tag_counts(key, value, n) SELECT key, value, 1 FROM json_each(new.tags) WHERE true"
    "    ON CONFLICT(key, value) DO UPDATE SET n = n + 1;"
    "  INSERT INTO image_counts(image, n) VALUES(new.image, 1) ON CONFLICT(image) DO UPDATE SET n = n + 1;"
    "  INSERT INTO phase_counts(phase, n) VALUES(new.phase, 1) ON CONFLICT(phase) DO UPDATE SET n = n + 1;"
    "END;"
    "CREATE TRIGGER IF NOT EXISTS sandbox_moved AFTER UPDATE OF phase ON sandboxes WHEN old.phase IS NOT new.phase BEGIN"
    "  UPDATE phase_counts SET n = n - 1 WHERE phase = old.phase;"
    "  INSERT INTO phase_counts(phase, n) VALUES(new.phase, 1) ON CONFLICT(phase) DO UPDATE SET n = n + 1;"
    "END;"
    "CREATE TRIGGER IF NOT EXISTS sandbox_removed AFTER DELETE ON sandboxes BEGIN"
    "  DELETE FROM sandbox_tags WHERE seq = old.seq AND (key, value) IN (SELECT key, value FROM json_each(old.tags));"
    "  UPDATE tag_counts SET n = n - 1 WHERE (key, value) IN (SELECT key, value FROM json_each(old.tags));"
    "  UPDATE image_counts SET n = n - 1 WHERE image = old.image;"
    "  UPDATE phase_counts SET n = n - 1 WHERE phase = old.phase;"
    "END;"
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
    "  failure TEXT, sha256 TEXT, image TEXT, root_sha256 TEXT);";

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
    "ALTER TABLE snapshots ADD COLUMN root_sha256 TEXT",
};

/* A store from before the list tables: their rows, made from the records once (user_version
 * 0 to 1; a new store's records are none, so it costs nothing there). */
static const char BACKFILL[] =
    "BEGIN;"
    "INSERT OR IGNORE INTO sandbox_tags(key, value, seq) SELECT j.key, j.value, s.seq FROM sandboxes s, json_each(s.tags) j;"
    "INSERT OR REPLACE INTO tag_counts(key, value, n) SELECT j.key, j.value, count(*) FROM sandboxes s, json_each(s.tags) j GROUP BY 1, 2;"
    "INSERT OR REPLACE INTO image_counts(image, n) SELECT image, count(*) FROM sandboxes GROUP BY 1;"
    "INSERT OR REPLACE INTO phase_counts(phase, n) SELECT phase, count(*) FROM sandboxes GROUP BY 1;"
    "PRAGMA user_version = 1;"
    "COMMIT;";

int db_open(const char *path) {
  /* every use of the connection is under db_lock, so SQLite's own locks are a second lock
   * around each call (a step, a column read: twice a row) and its allocation counters a global
   * mutex around each malloc: a fifth of a list's time that walks 1000 rows (perf) */
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
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
  sqlite3_stmt *v = NULL;
  int version = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &v, NULL) == SQLITE_OK && sqlite3_step(v) == SQLITE_ROW
                    ? sqlite3_column_int(v, 0)
                    : -1;
  sqlite3_finalize(v);
  if (version == 0 && sqlite3_exec(db, BACKFILL, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "porter-sandboxd: cannot index the sandboxes' records: %s\n", err);
    sqlite3_free(err);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
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

/* binds from fmt ('s' text, NULL for null; 'i' int64; anything else null) */
static json_t *binds_of(const char *fmt, va_list ap) {
  json_t *b = json_array();
  for (int i = 0; fmt && fmt[i]; i++) {
    const char *t = fmt[i] == 's' ? va_arg(ap, const char *) : NULL;
    if (fmt[i] == 's') json_array_append_new(b, t ? json_string(t) : json_null());
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

int db_each(const char *sql, json_t *binds, int (*fn)(sqlite3_stmt *st, void *ctx), void *ctx) {
  pthread_mutex_lock(&db_lock);
  sqlite3_stmt *st = db ? db_prepare(sql) : NULL;
  int rc = -1;
  if (st) {
    bind_all(st, binds);
    int step;
    rc = 0;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) rc = fn(st, ctx);
    if (rc == 0 && step != SQLITE_DONE) rc = -1;
    sqlite3_finalize(st);
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

long long db_last_rowid(void) { return (long long)sqlite3_last_insert_rowid(db); }

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
