/* Snapshots: a running sandbox's filesystem, kept as two tar files: its /tmp, and what it changed
 * in its image's root (its overlayfs upper dir, packed as an OCI layer), all of them together
 * within --snapshot-space bytes of the host's disk. A new sandbox started from one runs on the
 * same image with the layer applied over it and the files back in its /tmp, before its command
 * runs (the launcher's --seed-root and --seed-tmp). Volumes are not part of it: they outlive
 * the sandbox by themselves. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "server.h"
#include "snapshots.h"
#include "handlers.h"
#include "http.h"
#include "db.h"
#include "records.h"
#include "proc.h"
#include "clients.h"
#include "sha256.h"

/* The sandbox's /tmp (how: "--pack") or its writable layer ("--pack-root") as a tar file at to
 * (by porter-sandbox-unpack, chrooted into it: the tree is the sandbox's to shape while we read
 * it), at most twice --disk-max (what its scratch space can hold, and room for headers).
 * Returns its size, or -1 with why. */
static int64_t pack_tree(const char *how, const char *from, unsigned long uid_base, const char *to,
                         unsigned long long room, char *why, size_t wn) {
  char helper[4096], base[24], max[24], out[128], err[512];
  snprintf(base, sizeof base, "%lu", uid_base);
  snprintf(max, sizeof max, "%llu", room < cfg.disk_max * 2 ? room : cfg.disk_max * 2);
  char *argv[] = {(char *)helper_path("porter-sandbox-unpack", helper, sizeof helper), (char *)how, (char *)from, base,
                  (char *)to, max, NULL};
  long long size;
  if (proc_run(argv, out, sizeof out, err, sizeof err) == 0 && sscanf(out, "size %lld", &size) == 1) return size;
  snprintf(why, wn, "%s", err[0] ? err : "the packer failed");
  why[strcspn(why, "\n")] = '\0';
  return -1;
}

#define SNAPSHOT_COLS "id, sandbox_id, mode, status, created_ms, ready_ms, failure, size_bytes"

/* the API's Snapshot of a row of SNAPSHOT_COLS: the optional fields only when they are known */
static json_t *snapshot_json(json_t *row) {
  json_t *o = json_pack("{sO sO sO sO sO}", "id", json_array_get(row, 0), "sandbox_id", json_array_get(row, 1), "mode",
                        json_array_get(row, 2), "status", json_array_get(row, 3), "t_created_unix_ms",
                        json_array_get(row, 4));
  static const char *const optional[] = {[5] = "t_ready_unix_ms", [6] = "failure_reason", [7] = "size_bytes"};
  for (size_t i = 5; i < 8; i++)
    if (!json_is_null(json_array_get(row, i))) json_object_set(o, optional[i], json_array_get(row, i));
  return o;
}

static json_t *snapshots_of(json_t *rows) { return db_map(rows, snapshot_json); }

static json_t *snapshot_get(const char *id) {
  json_t *list = snapshots_of(db_rows("SELECT " SNAPSHOT_COLS " FROM snapshots WHERE id=?", "s", id));
  json_t *o = json_incref(json_array_get(list, 0));
  json_decref(list);
  return o;
}

/* the hex SHA-256 of the file at path (what the unpacker checks the tar against when a sandbox
 * starts from it), or -1 */
static int file_sha256(const char *path, char hex[65]) {
  FILE *f = fopen(path, "rbe");
  if (!f) return -1;
  sha256_ctx h;
  sha256_init(&h);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) sha256_update(&h, buf, n);
  int bad = ferror(f);
  fclose(f);
  if (bad) return -1;
  sha256_hex(&h, hex);
  return 0;
}

static void tar_paths(const char *id, char tmp[4300], char root[4300]) {
  snprintf(tmp, 4300, "%s/snapshots/%s.tar", cfg.state_dir, id);
  snprintf(root, 4300, "%s/snapshots/%s.root.tar", cfg.state_dir, id);
}

/* The capture failed: the record says why (and keeps saying it), the partial tars go. */
static void capture_failed(const char *id, const char *why) {
  char tmp[4300], root[4300];
  tar_paths(id, tmp, root);
  unlink(tmp), unlink(root);
  db_exec("UPDATE snapshots SET status='failed', failure=?, size_bytes=0 WHERE id=?", "ss", why, id);
}

enum MHD_Result h_snapshot_create(struct MHD_Connection *c, req *r) {
  enum MHD_Result sent;
  json_t *spec = body_object(c, r, &sent);
  if (!spec) return sent;
  json_t *status = sandbox_status(r->params[0]);
  if (!status) {
    json_decref(spec);
    return reply_error(c, 404, "no sandbox '%s'", r->params[0]);
  }
  char image[1024];
  snprintf(image, sizeof image, "%s", json_string_value(json_object_get(status, "image")));
  json_decref(status);
  const char *mode = json_string_value(json_object_get(spec, "mode"));
  char mode_buf[32];
  snprintf(mode_buf, sizeof mode_buf, "%s", mode ? mode : "filesystem");
  json_decref(spec);
  char scratch[4096], from[4200], id[40], why[512];
  snapshot_files f = {.root_sha = ""};
  unsigned long uid_base;
  int layered;
  if (!runtime_scratch(r->params[0], scratch, sizeof scratch, &uid_base, &layered))
    return reply_error(c, 409, "the sandbox is not running");
  new_id("snap", id, sizeof id);
  tar_paths(id, f.tmp_tar, f.root_tar);
  /* one at a time, so that what is free is not counted twice */
  static pthread_mutex_t space = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&space);
  json_t *sum = first_column(db_rows("SELECT COALESCE(SUM(size_bytes), 0) FROM snapshots WHERE status='ready'", ""));
  unsigned long long used = (unsigned long long)json_integer_value(json_array_get(sum, 0));
  json_decref(sum);
  if (used + (1u << 20) > cfg.snapshot_space) {
    pthread_mutex_unlock(&space);
    return reply_error(c, 507, "snapshots take %llu MiB of the %llu MiB they may (--snapshot-space): delete some first",
                       used >> 20, cfg.snapshot_space >> 20);
  }
  /* listed as pending while the tar is written */
  if (db_exec("INSERT INTO snapshots(id, name, sandbox_id, created_ms, size_bytes, mode, status, image) "
              "VALUES(?,?,?,?,0,?,'pending',?)",
              "sssiss", id, id, r->params[0], now_ms(), mode_buf, image) != SQLITE_DONE) {
    pthread_mutex_unlock(&space);
    return reply_error(c, 500, "could not record the snapshot");
  }
  /* the root's layer first: the larger part, where a sandbox installs things */
  int64_t size = 0, part = 0;
  if (layered) {
    snprintf(from, sizeof from, "%s/upper", scratch);
    part = pack_tree("--pack-root", from, uid_base, f.root_tar, cfg.snapshot_space - used, why, sizeof why);
    if (part >= 0 && file_sha256(f.root_tar, f.root_sha) != 0) snprintf(why, sizeof why, "cannot read back the snapshot's tar"), part = -1;
    size = part;
  }
  if (part >= 0) {
    snprintf(from, sizeof from, "%s/tmp", scratch);
    part = pack_tree("--pack", from, uid_base, f.tmp_tar, cfg.snapshot_space - used - (unsigned long long)size, why, sizeof why);
    if (part >= 0 && file_sha256(f.tmp_tar, f.tmp_sha) != 0) snprintf(why, sizeof why, "cannot read back the snapshot's tar"), part = -1;
    size += part;
  }
  if (part < 0) {
    char reason[600];
    snprintf(reason, sizeof reason, "could not snapshot the sandbox's files: %s", why);
    capture_failed(id, reason);
    pthread_mutex_unlock(&space);
    return reply_error(c, strstr(why, "would be larger") ? 507 : 500, "%s", reason);
  }
  db_exec("UPDATE snapshots SET status='ready', ready_ms=?, size_bytes=?, sha256=?, root_sha256=? WHERE id=?", "iisss",
          now_ms(), size, f.tmp_sha, layered ? f.root_sha : NULL, id);
  pthread_mutex_unlock(&space);
  json_t *out = snapshot_get(id);
  if (!out) return reply_error(c, 500, "could not read the snapshot back");
  return reply_json(c, 201, out);
}

int snapshot_source(const char *id, snapshot_files *f, char *image, size_t in, char *why, size_t wn) {
  json_t *rows = db_rows("SELECT status, sha256, image, root_sha256 FROM snapshots WHERE id=?", "s", id);
  json_t *row = json_array_get(rows, 0);
  int rc = -1;
  if (!row) snprintf(why, wn, "no snapshot '%s'", id);
  else if (strcmp(json_string_value(json_array_get(row, 0)), "ready"))
    snprintf(why, wn, "snapshot '%s' is %s, not ready: a sandbox starts only from a ready one", id,
             json_string_value(json_array_get(row, 0)));
  else {
    const char *sha = json_string_value(json_array_get(row, 1)), *img = json_string_value(json_array_get(row, 2)),
               *root_sha = json_string_value(json_array_get(row, 3));
    if (image) snprintf(image, in, "%s", img ? img : "host");
    if (f) {
      tar_paths(id, f->tmp_tar, f->root_tar);
      snprintf(f->tmp_sha, sizeof f->tmp_sha, "%s", sha ? sha : "");
      snprintf(f->root_sha, sizeof f->root_sha, "%s", root_sha ? root_sha : "");
    }
    rc = 0;
  }
  json_decref(rows);
  return rc;
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
  char tmp[4300], root[4300];
  tar_paths(r->params[0], tmp, root);
  unlink(tmp), unlink(root);
  return reply_empty(c, 204);
}
