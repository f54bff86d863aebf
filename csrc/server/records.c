/* Sandbox records: phases as the runtime reports them, statuses as the API answers them. Apart
 * from the handlers (sandboxes.c) so that the runtime reports to the records, and the handlers
 * drive the runtime, with no file needing the other back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"
#include "db.h"
#include "retention.h"
#include "spool.h"
#include "records.h"
#include "pages.h"

void sandbox_set_phase(const char *id, const char *phase, int has_exit, int exit_code, int started) {
  /* the first terminal phase is when it finished: a later report (terminated after failed)
   * does not move it */
  if (!strcmp(phase, "succeeded") || !strcmp(phase, "failed") || !strcmp(phase, "terminated"))
    db_exec("UPDATE sandboxes SET finished_ms=? WHERE id=? AND finished_ms IS NULL", "is", now_ms(), id);
  if (started)
    db_exec("UPDATE sandboxes SET phase=?, started_ms=? WHERE id=?", "sis", phase, now_ms(), id);
  else if (has_exit)
    db_exec("UPDATE sandboxes SET phase=?, exit_code=? WHERE id=?", "sis", phase, (int64_t)exit_code, id);
  else
    db_exec("UPDATE sandboxes SET phase=? WHERE id=?", "ss", phase, id);
  records_changed(); /* after the commit: a list page read before it is marked stale, never one after */
  if (!strcmp(phase, "succeeded") || !strcmp(phase, "failed") || !strcmp(phase, "terminated")) retention_check(1);
}

/* ---- StatusResponse: made here only, as JSON text straight from a row of STATUS_COLS ---- */
#define PUT(lit) spool_put(out, lit, sizeof lit - 1)
static int put_time(spool *out, sqlite3_stmt *st, int col) {
  if (sqlite3_column_type(st, col) == SQLITE_NULL) return PUT("null");
  char t[48];
  t[0] = '"';
  fmt_time(sqlite3_column_int64(st, col), t + 1, sizeof t - 2);
  size_t n = strlen(t);
  t[n++] = '"';
  return spool_put(out, t, n);
}

static int put_text(spool *out, sqlite3_stmt *st, int col) {
  const char *p = (const char *)sqlite3_column_text(st, col);
  return spool_put_string(out, p ? p : "", p ? (size_t)sqlite3_column_bytes(st, col) : 0);
}

/* the object spec_text holds at key, as JSON text into out ("{}" if none) */
static int put_spec_object(spool *out, const char *spec_text, const char *key) {
  /* most specs have no mounts: their text is not parsed to learn it */
  if (!spec_text || !strstr(spec_text, key)) return PUT("{}");
  json_t *spec = json_loads(spec_text, 0, NULL);
  json_t *o = json_object_get(spec, key);
  char *text = json_is_object(o) ? json_dumps(o, JSON_COMPACT) : NULL;
  int rc = text ? spool_put(out, text, strlen(text)) : PUT("{}");
  free(text);
  json_decref(spec);
  return rc;
}

int status_put(sqlite3_stmt *st, void *ctx) {
  spool *out = ctx;
  const char *tags = (const char *)sqlite3_column_text(st, 4); /* the server's own compact JSON */
  int bad = PUT("{\"id\":") || put_text(out, st, 0) || PUT(",\"name\":") ||
            put_text(out, st, 1) || PUT(",\"image\":") || put_text(out, st, 2) ||
            PUT(",\"tags\":") ||
            (tags && *tags ? spool_put(out, tags, (size_t)sqlite3_column_bytes(st, 4)) : PUT("{}")) ||
            PUT(",\"phase\":") || put_text(out, st, 5) || PUT(",\"exit_code\":");
  if (!bad && sqlite3_column_type(st, 6) == SQLITE_NULL) {
    bad = PUT("null");
  } else if (!bad) {
    char n[24];
    bad = spool_put(out, n, (size_t)snprintf(n, sizeof n, "%lld", (long long)sqlite3_column_int64(st, 6)));
  }
  bad = bad || PUT(",\"created_at\":") || put_time(out, st, 7) || PUT(",\"started_at\":") ||
        put_time(out, st, 8) || PUT(",\"host\":") || put_text(out, st, 9) ||
        PUT(",\"finished_at\":") || put_time(out, st, 10) || PUT(",\"volume_mounts\":") ||
        put_spec_object(out, (const char *)sqlite3_column_text(st, 3), "volume_mounts") ||
        PUT(",\"exec_target\":{\"namespace\":\"porter-sandboxd\",\"pod_name\":") ||
        put_text(out, st, 0) || PUT(",\"container_name\":\"sandbox\"}}");
  return bad ? -1 : 0;
}

json_t *sandbox_status(const char *id) {
  spool out;
  spool_open(&out);
  json_t *binds = json_pack("[s]", id);
  int rc = db_each("SELECT " STATUS_COLS " FROM sandboxes WHERE id=?", binds, status_put, &out);
  json_decref(binds);
  json_t *o = NULL;
  if (rc == 0 && out.size) {
    char *text = malloc(out.size);
    if (text && spool_read(&out, 0, text, out.size) == (ssize_t)out.size) o = json_loadb(text, out.size, 0, NULL);
    free(text);
  }
  spool_close(&out);
  return o;
}

/* the first column of every row, as an array (taking rows) */
static json_t *first(json_t *row) { return json_incref(json_array_get(row, 0)); }

json_t *first_column(json_t *rows) { return db_map(rows, first); }


