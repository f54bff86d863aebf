/* Snapshots (provisional API): a running sandbox's /tmp, kept as a tar file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "server.h"

/* The sandbox's /tmp as a tar file at to (by porter-sandbox-unpack --pack, chrooted into it:
 * the tree is the sandbox's to shape while we read it). Returns its size, or -1. */
static int64_t pack_tree(const char *from, const char *to) {
  char helper[4096], base[24], out[128], err[512];
  snprintf(base, sizeof base, "%lu", cfg.uid_base);
  char *argv[] = {(char *)helper_path("porter-sandbox-unpack", helper, sizeof helper), "--pack", (char *)from, base,
                  (char *)to, NULL};
  long long size;
  if (proc_run(argv, out, sizeof out, err, sizeof err) != 0 || sscanf(out, "size %lld", &size) != 1) return -1;
  return size;
}

static json_t *snapshot_json(sqlite3_stmt *st) {
  char t[40];
  fmt_time(sqlite3_column_int64(st, 3), t, sizeof t);
  return json_pack("{ss ss ss ss sI}", "id", (const char *)sqlite3_column_text(st, 0), "name",
                   (const char *)sqlite3_column_text(st, 1), "sandbox_id", (const char *)sqlite3_column_text(st, 2),
                   "created_at", t, "size_bytes", (json_int_t)sqlite3_column_int64(st, 4));
}

enum MHD_Result h_snapshot_create(struct MHD_Connection *c, req *r) {
  enum MHD_Result sent;
  json_t *spec = r->len ? body_object(c, r, &sent) : json_object();
  if (!spec) return sent;
  static const field_rule rules[] = {{"name", JSON_STRING, 0, 0}, {NULL, 0, 0, 0}};
  char why[512];
  const char *err = check_fields(spec, rules, why, sizeof why);
  if (err) {
    json_decref(spec);
    return reply_error(c, 400, "%s", err);
  }
  json_t *status = sandbox_status(r->params[0]);
  if (!status) {
    json_decref(spec);
    return reply_error(c, 404, "no sandbox '%s'", r->params[0]);
  }
  json_decref(status);
  char tmp[4096], id[40], dst[4300];
  if (!runtime_tmpdir(r->params[0], tmp, sizeof tmp)) {
    json_decref(spec);
    return reply_error(c, 409, "the sandbox is not running");
  }
  new_id("snap", id, sizeof id);
  snprintf(dst, sizeof dst, "%s/snapshots/%s.tar", cfg.state_dir, id);
  int64_t size = pack_tree(tmp, dst);
  if (size < 0) {
    unlink(dst);
    json_decref(spec);
    return reply_error(c, 500, "could not copy the sandbox's files");
  }
  const char *name = json_string_value(json_object_get(spec, "name"));
  int64_t created = now_ms();
  pthread_mutex_lock(&db_lock);
  db_exec("INSERT INTO snapshots(id, name, sandbox_id, created_ms, size_bytes) VALUES(?,?,?,?,?)", "sssii", id,
          name ? name : id, r->params[0], created, size);
  sqlite3_stmt *st = db_prepare("SELECT id, name, sandbox_id, created_ms, size_bytes FROM snapshots WHERE id=?");
  json_t *out = NULL;
  if (st) {
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) out = snapshot_json(st);
    sqlite3_finalize(st);
  }
  pthread_mutex_unlock(&db_lock);
  json_decref(spec);
  if (!out) return reply_error(c, 500, "could not record the snapshot");
  return reply_json(c, 201, out);
}

enum MHD_Result h_snapshot_list(struct MHD_Connection *c, req *r) {
  (void)r;
  const char *sid = query_arg(c, "sandbox_id");
  json_t *list = json_array();
  pthread_mutex_lock(&db_lock);
  sqlite3_stmt *st = db_prepare(sid ? "SELECT id, name, sandbox_id, created_ms, size_bytes FROM snapshots "
                                      "WHERE sandbox_id=? ORDER BY seq DESC"
                                    : "SELECT id, name, sandbox_id, created_ms, size_bytes FROM snapshots ORDER BY seq DESC");
  if (st) {
    if (sid) sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) json_array_append_new(list, snapshot_json(st));
    sqlite3_finalize(st);
  }
  pthread_mutex_unlock(&db_lock);
  return reply_json(c, 200, json_pack("{so}", "snapshots", list));
}

enum MHD_Result h_snapshot_delete(struct MHD_Connection *c, req *r) {
  pthread_mutex_lock(&db_lock);
  int rc = db_exec("DELETE FROM snapshots WHERE id=?", "s", r->params[0]);
  int changed = sqlite3_changes(db);
  pthread_mutex_unlock(&db_lock);
  if (rc != SQLITE_DONE || !changed) return reply_error(c, 404, "no snapshot '%s'", r->params[0]);
  char dir[4300];
  snprintf(dir, sizeof dir, "%s/snapshots/%s.tar", cfg.state_dir, r->params[0]);
  unlink(dir);
  return reply_empty(c, 204);
}
