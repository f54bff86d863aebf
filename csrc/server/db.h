/* The store (db.c): SQLite behind its own lock; binds by fmt: 's' text, 'i' int64. */
#ifndef DB_H
#define DB_H

#include <sqlite3.h>
#include "server.h"

int db_open(const char *path);
void db_close(void);
int db_exec(const char *sql, const char *fmt, ...); /* SQLITE_DONE / error code */
/* The rows of a query, each an array of its columns (string, integer or null); NULL on error. */
json_t *db_rows(const char *sql, const char *fmt, ...);
json_t *db_rows_binds(const char *sql, json_t *binds); /* binds: strings, integers, nulls */
/* fn(row) of every row, as an array (taking rows; NULL rows give an empty array) */
json_t *db_map(json_t *rows, json_t *(*fn)(json_t *row));
/* fn(ctx) in one transaction (committed if it answers 0), under the store's lock; it may use
 * db_prepare for statements it runs many times, and finalizes them itself. */
int db_batch(int (*fn)(void *ctx), void *ctx);
sqlite3_stmt *db_prepare(const char *sql); /* inside db_batch only */
long long db_last_rowid(void);             /* the rowid the batch's last INSERT made */
/* Runs sql with binds, calling fn on each row (at st) while it answers 0; 0, or -1 (the
 * query failed, or fn's answer). */
int db_each(const char *sql, json_t *binds, int (*fn)(sqlite3_stmt *st, void *ctx), void *ctx);
int db_update(const char *sql, const char *fmt, ...); /* rows changed, -1 on error */

#endif
