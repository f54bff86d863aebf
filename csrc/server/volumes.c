/* /v1/volume*: records in SQLite; a disk volume's files are voldisk.c's (which owns their
 * layout on disk), an object volume's its bucket's (buckets.c). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "server.h"
#include "handlers.h"
#include "http.h"
#include "db.h"
#include "records.h"
#include "pages.h"
#include "voldisk.h"
#include "volumes.h"
#include "buckets.h"


void volumes_mount_all(void) {
  json_t *ids = first_column(db_rows("SELECT id FROM volumes WHERE deleted=0 AND type='disk'", ""));
  size_t i;
  json_t *v;
  json_array_foreach(ids, i, v) {
    char why[512];
    if (voldisk_mount(json_string_value(v), why, sizeof why) != 0)
      fprintf(stderr, "porter-sandboxd: volume %s: %s\n", json_string_value(v), why);
  }
  json_decref(ids);
}

/* the live sandboxes that mount the volume */
json_t *volume_attached(const char *volume_id) {
  return first_column(db_rows("SELECT DISTINCT m.sandbox_id FROM mounts m JOIN sandboxes s ON s.id = m.sandbox_id "
                              "WHERE m.volume_id=? AND s.phase IN " LIVE_PHASES " ORDER BY m.sandbox_id",
                              "s", volume_id));
}

int volume_kind(const char *id) {
  json_t *rows = db_rows("SELECT type FROM volumes WHERE id=? AND deleted=0", "s", id);
  const char *t = json_string_value(json_array_get(json_array_get(rows, 0), 0));
  int kind = !t ? VOLUME_NONE : strcmp(t, "object") ? VOLUME_DISK : VOLUME_OBJECT;
  json_decref(rows);
  return kind;
}

int volume_exists(const char *id) { return volume_kind(id) != VOLUME_NONE; }

/* object: an object volume's VolumeObjectSpec as JSON text, NULL for a disk volume (whose data
 * is at path, under the volumes' directory; an object volume's is in its bucket) */
static json_t *volume_json(const char *id, const char *name, int64_t created, const char *object) {
  char t[40];
  fmt_time(created, t, sizeof t);
  json_t *o = json_pack("{ss ss ss ss ss so ss}", "id", id, "name", name, "type", object ? "object" : "disk", "path",
                        object ? "" : id, "phase", "ready", "attached_to", volume_attached(id), "created_at", t);
  if (object) json_object_set_new(o, "object", json_loads(object, 0, NULL));
  return o;
}

#define VOLUME_COLS "id, name, created_ms, object"

static json_t *volume_of_row(json_t *r) {
  return volume_json(json_string_value(json_array_get(r, 0)), json_string_value(json_array_get(r, 1)),
                     json_integer_value(json_array_get(r, 2)), json_string_value(json_array_get(r, 3)));
}

const char *volume_object(const char *id, char *out, size_t n) {
  json_t *rows = db_rows("SELECT object FROM volumes WHERE id=? AND deleted=0", "s", id);
  const char *o = json_string_value(json_array_get(json_array_get(rows, 0), 0));
  if (o) snprintf(out, n, "%s", o);
  json_decref(rows);
  return o ? out : NULL;
}

/* The volumes a query's (id, name, created) rows name, as the API answers them. */
static json_t *volumes_query(const char *sql, const char *bind) {
  return db_map(bind ? db_rows(sql, "s", bind) : db_rows(sql, ""), volume_of_row);
}

enum MHD_Result h_volume_list(struct MHD_Connection *c, req *r) {
  (void)r;
  json_t *list = volumes_query("SELECT " VOLUME_COLS " FROM volumes WHERE deleted=0 ORDER BY created_ms, id", NULL);
  return reply_json(c, 200, json_pack("{so}", "volumes", list));
}

/* What the live volumes' filesystems are allotted together: their images' sizes. */
static unsigned long long volumes_allotted(void) {
  json_t *ids = first_column(db_rows("SELECT id FROM volumes WHERE deleted=0", ""));
  unsigned long long sum = 0;
  size_t i;
  json_t *v;
  json_array_foreach(ids, i, v) sum += voldisk_allotted(json_string_value(v));
  json_decref(ids);
  return sum;
}

static pthread_mutex_t creating = PTHREAD_MUTEX_INITIALIZER;

static enum MHD_Result create_volume(struct MHD_Connection *c, json_t *spec);

/* One at a time, so that two creations do not both take the last of --volume-space. */
enum MHD_Result h_volume_create(struct MHD_Connection *c, req *r) {
  enum MHD_Result sent;
  json_t *spec = body_object(c, r, &sent);
  if (!spec) return sent;
  pthread_mutex_lock(&creating);
  /* an object volume takes nothing of the host's disk: its files are its bucket's */
  const char *type = json_string_value(json_object_get(spec, "type"));
  int disk = !type || strcmp(type, "object");
  unsigned long long allotted = disk && cfg.volume_size ? volumes_allotted() : 0;
  if (disk && cfg.volume_size && allotted + cfg.volume_size > cfg.volume_space) {
    pthread_mutex_unlock(&creating);
    json_decref(spec);
    return reply_error(c, 507, "the live volumes take %llu MiB of the %llu MiB they may (--volume-space): delete some first",
                       allotted >> 20, cfg.volume_space >> 20);
  }
  sent = create_volume(c, spec);
  pthread_mutex_unlock(&creating);
  json_decref(spec);
  return sent;
}

/* An object volume: a prefix of a registered bucket, with no filesystem of its own. */
static enum MHD_Result create_object_volume(struct MHD_Connection *c, json_t *spec) {
  const char *name = json_string_value(json_object_get(spec, "name"));
  char id[40], buf[512];
  new_id("vol", id, sizeof id);
  if (!name) name = id;
  json_t *object = json_object_get(spec, "object");
  const char *why = bucket_volume_prepare(object, buf, sizeof buf);
  if (why) return reply_error(c, 400, "%s", why);
  char *text = json_dumps(object, JSON_COMPACT | JSON_SORT_KEYS);
  int64_t created = now_ms();
  int added = text ? db_update("INSERT INTO volumes(id, name, created_ms, type, object) SELECT ?,?,?,'object',? WHERE NOT "
                               "EXISTS (SELECT 1 FROM volumes WHERE name=? AND deleted=0)",
                               "ssiss", id, name, created, text, name)
                   : -1;
  if (added <= 0) {
    free(text);
    return added == 0 ? reply_error(c, 409, "a volume named '%s' exists", name) : reply_error(c, 500, "could not record the volume");
  }
  json_t *out = volume_json(id, name, created, text);
  free(text);
  return reply_json(c, 201, out);
}

static enum MHD_Result create_volume(struct MHD_Connection *c, json_t *spec) {
  const char *type = json_string_value(json_object_get(spec, "type"));
  if (type && !strcmp(type, "object")) return create_object_volume(c, spec);
  if (json_object_get(spec, "object")) return reply_error(c, 400, "'object' is for volumes of type object");
  const char *name = json_string_value(json_object_get(spec, "name"));
  char id[40], dir[4200];
  new_id("vol", id, sizeof id);
  if (!name) name = id;
  volume_data_dir(id, dir, sizeof dir);
  /* owned by the sandboxes' root, so that their processes can write it as the files API does */
  char why[512];
  int made = mkdir_p(dir, 0755) == 0 && chown(dir, (uid_t)cfg.uid_base, (gid_t)cfg.uid_base) == 0;
  if (!made) snprintf(why, sizeof why, "cannot create its directory: %s", strerror(errno));
  if (!made || voldisk_create(id, why, sizeof why) != 0) {
    voldisk_remove(id);
    return reply_error(c, 500, "could not create the volume: %s", why);
  }
  int64_t created = now_ms();
  /* one statement: a name taken meanwhile by another request cannot slip in between */
  int added = db_update("INSERT INTO volumes(id, name, created_ms) SELECT ?,?,? WHERE NOT EXISTS "
                        "(SELECT 1 FROM volumes WHERE name=? AND deleted=0)", "ssis", id, name, created, name);
  if (added <= 0) {
    voldisk_remove(id);
    return added == 0 ? reply_error(c, 409, "a volume named '%s' exists", name)
                      : reply_error(c, 500, "could not record the volume");
  }
  return reply_json(c, 201, volume_json(id, name, created, NULL));
}

enum MHD_Result h_volume_lookup(struct MHD_Connection *c, req *r) {
  (void)r;
  const char *name = query_arg(c, "name");
  if (!name || !*name) return reply_error(c, 400, "'name' is required");
  json_t *rows = volumes_query("SELECT " VOLUME_COLS " FROM volumes WHERE name=? AND deleted=0", name);
  if (!json_array_size(rows)) {
    json_decref(rows);
    return reply_error(c, 404, "no volume named '%s'", name);
  }
  json_t *out = json_pack("{sO}", "id", json_object_get(json_array_get(rows, 0), "id"));
  json_decref(rows);
  return reply_json(c, 200, out);
}

enum MHD_Result h_volume_get(struct MHD_Connection *c, req *r) {
  json_t *rows = volumes_query("SELECT " VOLUME_COLS " FROM volumes WHERE id=? AND deleted=0", r->params[0]);
  if (!json_array_size(rows)) {
    json_decref(rows);
    return reply_error(c, 404, "no volume '%s'", r->params[0]);
  }
  json_t *out = json_incref(json_array_get(rows, 0));
  json_decref(rows);
  return reply_json(c, 200, out);
}

enum MHD_Result h_volume_delete(struct MHD_Connection *c, req *r) {
  if (!volume_exists(r->params[0])) return reply_error(c, 404, "no volume '%s'", r->params[0]);
  json_t *att = volume_attached(r->params[0]);
  if (json_array_size(att)) {
    char *ids = json_dumps(att, JSON_COMPACT);
    enum MHD_Result ret = reply_error(c, 409, "the volume is mounted by live sandboxes: %s", ids);
    free(ids);
    json_decref(att);
    return ret;
  }
  json_decref(att);
  db_exec("UPDATE volumes SET deleted=1 WHERE id=?", "s", r->params[0]);
  voldisk_remove(r->params[0]);
  return reply_empty(c, 204);
}
