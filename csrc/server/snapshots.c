/* Snapshots (provisional API): a running sandbox's /tmp, kept as a tar file; all of them
 * together within --snapshot-space bytes of the host's disk. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "server.h"

/* The sandbox's /tmp as a tar file at to (by porter-sandbox-unpack --pack, chrooted into it:
 * the tree is the sandbox's to shape while we read it), at most twice --disk-max (what /tmp can
 * hold, and room for headers). Returns its size, or -1 with why. */
static int64_t pack_tree(const char *from, unsigned long uid_base, const char *to, unsigned long long room, char *why,
                         size_t wn) {
  char helper[4096], base[24], max[24], out[128], err[512];
  snprintf(base, sizeof base, "%lu", uid_base);
  snprintf(max, sizeof max, "%llu", room < cfg.disk_max * 2 ? room : cfg.disk_max * 2);
  char *argv[] = {(char *)helper_path("porter-sandbox-unpack", helper, sizeof helper), "--pack", (char *)from, base,
                  (char *)to, max, NULL};
  long long size;
  if (proc_run(argv, out, sizeof out, err, sizeof err) == 0 && sscanf(out, "size %lld", &size) == 1) return size;
  snprintf(why, wn, "%s", err[0] ? err : "the packer failed");
  why[strcspn(why, "\n")] = '\0';
  return -1;
}

#define SNAPSHOT_COLS "id, name, sandbox_id, created_ms, size_bytes"

/* the API's Snapshot of a row of SNAPSHOT_COLS */
static json_t *snapshot_json(json_t *row) {
  char t[40];
  fmt_time(json_integer_value(json_array_get(row, 3)), t, sizeof t);
  return json_pack("{sO sO sO ss sO}", "id", json_array_get(row, 0), "name", json_array_get(row, 1), "sandbox_id",
                   json_array_get(row, 2), "created_at", t, "size_bytes", json_array_get(row, 4));
}

static json_t *snapshots_of(json_t *rows) { return db_map(rows, snapshot_json); }

enum MHD_Result h_snapshot_create(struct MHD_Connection *c, req *r) {
  enum MHD_Result sent;
  json_t *spec = body_object(c, r, &sent);
  if (!spec) return sent;
  json_t *status = sandbox_status(r->params[0]);
  if (!status) {
    json_decref(spec);
    return reply_error(c, 404, "no sandbox '%s'", r->params[0]);
  }
  json_decref(status);
  char tmp[4096], id[40], dst[4300], why[512];
  unsigned long uid_base;
  if (!runtime_tmpdir(r->params[0], tmp, sizeof tmp, &uid_base)) {
    json_decref(spec);
    return reply_error(c, 409, "the sandbox is not running");
  }
  new_id("snap", id, sizeof id);
  snprintf(dst, sizeof dst, "%s/snapshots/%s.tar", cfg.state_dir, id);
  /* one at a time, so that what is free is not counted twice */
  static pthread_mutex_t space = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&space);
  json_t *sum = first_column(db_rows("SELECT COALESCE(SUM(size_bytes), 0) FROM snapshots", ""));
  unsigned long long used = (unsigned long long)json_integer_value(json_array_get(sum, 0));
  json_decref(sum);
  if (used + (1u << 20) > cfg.snapshot_space) {
    pthread_mutex_unlock(&space);
    json_decref(spec);
    return reply_error(c, 507, "snapshots take %llu MiB of the %llu MiB they may (--snapshot-space): delete some first",
                       used >> 20, cfg.snapshot_space >> 20);
  }
  int64_t size = pack_tree(tmp, uid_base, dst, cfg.snapshot_space - used, why, sizeof why);
  if (size < 0) {
    pthread_mutex_unlock(&space);
    unlink(dst);
    json_decref(spec);
    int too_big = strstr(why, "would be larger") != NULL;
    return reply_error(c, too_big ? 507 : 500, "could not snapshot the sandbox's files: %s", why);
  }
  const char *name = json_string_value(json_object_get(spec, "name"));
  int64_t created = now_ms();
  int rc = db_exec("INSERT INTO snapshots(" SNAPSHOT_COLS ") VALUES(?,?,?,?,?)", "sssii", id, name ? name : id,
                   r->params[0], created, size);
  pthread_mutex_unlock(&space);
  json_decref(spec);
  json_t *list = rc == SQLITE_DONE ? snapshots_of(db_rows("SELECT " SNAPSHOT_COLS " FROM snapshots WHERE id=?", "s", id)) : NULL;
  if (!json_array_size(list)) {
    json_decref(list);
    unlink(dst);
    return reply_error(c, 500, "could not record the snapshot");
  }
  json_t *out = json_incref(json_array_get(list, 0));
  json_decref(list);
  return reply_json(c, 201, out);
}

enum MHD_Result h_snapshot_list(struct MHD_Connection *c, req *r) {
  (void)r;
  const char *sid = query_arg(c, "sandbox_id");
  json_t *rows = sid ? db_rows("SELECT " SNAPSHOT_COLS " FROM snapshots WHERE sandbox_id=? ORDER BY seq DESC", "s", sid)
                     : db_rows("SELECT " SNAPSHOT_COLS " FROM snapshots ORDER BY seq DESC", "");
  if (!rows) return reply_error(c, 500, "could not read the snapshots");
  return reply_json(c, 200, json_pack("{so}", "snapshots", snapshots_of(rows)));
}

enum MHD_Result h_snapshot_delete(struct MHD_Connection *c, req *r) {
  if (db_update("DELETE FROM snapshots WHERE id=?", "s", r->params[0]) <= 0)
    return reply_error(c, 404, "no snapshot '%s'", r->params[0]);
  char dir[4300];
  snprintf(dir, sizeof dir, "%s/snapshots/%s.tar", cfg.state_dir, r->params[0]);
  unlink(dir);
  return reply_empty(c, 204);
}
