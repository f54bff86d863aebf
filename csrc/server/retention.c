/* The bounds of history: at most cfg.max_ended ended sandboxes are kept, and the log files of
 * all sandboxes together take at most cfg.log_space. Past either, the oldest ended sandboxes go,
 * record, log lines and mounts, oldest first; their names stay taken (retired_names), since a
 * name is never reused. A live sandbox is never pruned: its own logs have their own bounds. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "server.h"
#include "db.h"
#include "retention.h"
#include "names.h"
#include "logs.h"
#include "records.h"

#define ENDED "('succeeded','failed','terminated')"
#define BATCH 256 /* sandboxes pruned in one transaction, at most: the store's lock is not held long */

static atomic_llong log_total; /* bytes in the log files */

static long long one_integer(const char *sql, const char *fmt, const char *arg) {
  json_t *rows = db_rows(sql, fmt, arg);
  long long v = (long long)json_integer_value(json_array_get(json_array_get(rows, 0), 0));
  json_decref(rows);
  return v;
}

int retention_init(void) {
  json_t *rows = db_rows("SELECT coalesce(sum(len), 0) FROM log_blocks", "");
  if (!rows) return -1;
  atomic_store(&log_total, (long long)json_integer_value(json_array_get(json_array_get(rows, 0), 0)));
  json_decref(rows);
  return 0;
}

void retention_logged(long long bytes) { atomic_fetch_add(&log_total, bytes); }

typedef struct pruning {
  char ids[BATCH][64];
  int n;
} pruning;

static int over(void) {
  if ((unsigned long long)atomic_load(&log_total) > cfg.log_space) return 1;
  return one_integer("SELECT coalesce(sum(n), 0) FROM phase_counts WHERE phase IN " ENDED, "", NULL) > cfg.max_ended;
}

static int prune_batch(void *ctx) {
  pruning *p = ctx;
  while (p->n < BATCH && over()) {
    json_t *rows = db_rows("SELECT id, CAST(name AS TEXT) FROM sandboxes WHERE phase IN " ENDED " ORDER BY seq LIMIT 1", "");
    const char *id = json_string_value(json_array_get(json_array_get(rows, 0), 0));
    if (!id) { /* only live sandboxes are left: nothing may go */
      json_decref(rows);
      break;
    }
    snprintf(p->ids[p->n], sizeof p->ids[0], "%s", id);
    names_remove(json_string_value(json_array_get(json_array_get(rows, 0), 1)));
    json_decref(rows);
    id = p->ids[p->n];
    long long bytes = one_integer("SELECT coalesce(sum(len), 0) FROM log_blocks WHERE sandbox_id=?", "s", id);
    if (db_exec("DELETE FROM log_blocks WHERE sandbox_id=?", "s", id) != SQLITE_DONE ||
        db_exec("DELETE FROM mounts WHERE sandbox_id=?", "s", id) != SQLITE_DONE ||
        db_exec("INSERT OR IGNORE INTO retired_names(name) SELECT name FROM sandboxes WHERE id=?", "s", id) != SQLITE_DONE ||
        db_exec("DELETE FROM sandboxes WHERE id=?", "s", id) != SQLITE_DONE)
      return -1;
    atomic_fetch_sub(&log_total, bytes);
    p->n++;
  }
  return 0;
}

void retention_check(int ended) {
  if (!ended && (unsigned long long)atomic_load(&log_total) <= cfg.log_space) return;
  for (;;) {
    pruning *p = calloc(1, sizeof *p);
    if (!p) return;
    int rc = db_batch(prune_batch, p);
    /* the files once the rows that name them are gone for good */
    for (int i = 0; rc == 0 && i < p->n; i++) logs_forget(p->ids[i]);
    int more = rc == 0 && p->n == BATCH;
    if (rc != 0) {
      /* rolled back: the sizes subtracted and the names removed come back with their rows */
      retention_init();
      db_batch(names_load, NULL);
    }
    if (p->n) records_changed();
    free(p);
    if (!more) return;
  }
}
