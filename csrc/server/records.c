/* Sandbox records: phases as the runtime reports them, statuses as the API answers them. Apart
 * from the handlers (sandboxes.c) so that the runtime reports to the records, and the handlers
 * drive the runtime, with no file needing the other back. */
#include <stdio.h>
#include <string.h>
#include "server.h"

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
}

/* Builds a StatusResponse from a row of STATUS_COLS. */
static json_t *status_of(json_t *row) {
  char t[40];
  json_t *o = json_object();
  json_object_set(o, "id", json_array_get(row, 0));
  json_object_set(o, "name", json_array_get(row, 1));
  json_object_set(o, "image", json_array_get(row, 2));
  json_t *spec = json_loads(json_string_value(json_array_get(row, 3)), 0, NULL);
  json_t *tags = json_loads(json_string_value(json_array_get(row, 4)), 0, NULL);
  json_object_set_new(o, "tags", tags ? tags : json_object());
  json_object_set(o, "phase", json_array_get(row, 5));
  json_object_set(o, "exit_code", json_array_get(row, 6)); /* an integer, or null */
  fmt_time(json_integer_value(json_array_get(row, 7)), t, sizeof t);
  json_object_set_new(o, "created_at", json_string(t));
  if (json_is_null(json_array_get(row, 8))) {
    json_object_set_new(o, "started_at", json_null());
  } else {
    fmt_time(json_integer_value(json_array_get(row, 8)), t, sizeof t);
    json_object_set_new(o, "started_at", json_string(t));
  }
  json_object_set(o, "host", json_array_get(row, 9));
  if (json_is_null(json_array_get(row, 10))) {
    json_object_set_new(o, "finished_at", json_null());
  } else {
    fmt_time(json_integer_value(json_array_get(row, 10)), t, sizeof t);
    json_object_set_new(o, "finished_at", json_string(t));
  }
  json_t *mounts = spec ? json_object_get(spec, "volume_mounts") : NULL;
  json_object_set(o, "volume_mounts", mounts ? mounts : json_object());
  if (!mounts) json_decref(json_object_get(o, "volume_mounts"));
  json_object_set_new(o, "exec_target", json_pack("{ssssss}", "namespace", "porter-sandboxd", "pod_name",
                                                  json_string_value(json_object_get(o, "id")), "container_name",
                                                  "sandbox"));
  json_decref(spec);
  return o;
}

/* the statuses of rows of STATUS_COLS (taking them) */
json_t *statuses_of(json_t *rows) { return db_map(rows, status_of); }

json_t *sandbox_status(const char *id) {
  json_t *list = statuses_of(db_rows("SELECT " STATUS_COLS " FROM sandboxes WHERE id=?", "s", id));
  json_t *o = json_incref(json_array_get(list, 0));
  json_decref(list);
  return o;
}

/* the first column of every row, as an array (taking rows) */
static json_t *first(json_t *row) { return json_incref(json_array_get(row, 0)); }

json_t *first_column(json_t *rows) { return db_map(rows, first); }


