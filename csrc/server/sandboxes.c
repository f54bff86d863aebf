/* /v1/sandbox*: records in SQLite, processes in runtime.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "contract.h"
#include "server.h"

void sandboxes_recover(void) {
  json_t *ids = first_column(db_rows("SELECT id FROM sandboxes WHERE phase IN " LIVE_PHASES, ""));
  size_t i;
  json_t *id;
  json_array_foreach(ids, i, id) {
    const char *s = json_string_value(id);
    sandbox_set_phase(s, "failed", 0, 0, 0);
    /* whatever the previous server's death left of it: processes in its cgroup, its layer */
    cgroup_remove(s);
    char dir[4200];
    if (pathf(dir, sizeof dir, "%s/sandboxes/%s", cfg.state_dir, s) == 0) rm_rf(dir);
    const char *msg = "porter-sandboxd stopped while this sandbox was live; it is gone";
    log_line(s, "error", "", msg, strlen(msg));
  }
  json_decref(ids);
}

enum MHD_Result h_healthz(struct MHD_Connection *c, req *r) {
  (void)r;
  return reply_json(c, 200, json_pack("{ss}", "status", "ok"));
}

enum MHD_Result h_readyz(struct MHD_Connection *c, req *r) {
  (void)r;
  return reply_json(c, 200, json_pack("{sssi}", "status", "ready", "active_sandboxes", runtime_count()));
}

/* ---- create ---- */
/* the sandbox's record and its mounts, together */
typedef struct new_record {
  const char *id, *name, *image, *spec_text, *tags_text, *host;
  json_t *spec;
  int rc;
} new_record;

static int insert_record(void *ctx) {
  new_record *r = ctx;
  r->rc = db_exec("INSERT INTO sandboxes(id, name, image, spec, tags, phase, created_ms, host) VALUES(?,?,?,?,?,?,?,?)",
                  "ssssssis", r->id, r->name, r->image, r->spec_text, r->tags_text, "queued", now_ms(), r->host);
  if (r->rc != SQLITE_DONE) return -1;
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(r->spec, "volume_mounts"), k, v)
    if (db_exec("INSERT INTO mounts(sandbox_id, volume_id, path) VALUES(?,?,?)", "sss", r->id, json_string_value(v), k) !=
        SQLITE_DONE)
      return r->rc = SQLITE_ERROR, -1;
  return 0;
}

enum MHD_Result h_sandbox_create(struct MHD_Connection *c, req *r) {
  enum MHD_Result sent;
  json_t *spec = body_object(c, r, &sent);
  if (!spec) return sent;
  char buf[512];
  /* from a snapshot: its image, with its files (runtime.c seeds them before the command runs) */
  const char *snap = json_string_value(json_object_get(spec, "snapshot_id"));
  if (snap) {
    const char *img = json_string_value(json_object_get(spec, "image"));
    char image[1024], sha[65], whys[600];
    if (img && *img) {
      json_decref(spec);
      return reply_error(c, 400, "'image' must be empty when 'snapshot_id' is set: the snapshot is the image");
    }
    if (snapshot_source(snap, NULL, 0, sha, image, sizeof image, whys, sizeof whys) != 0) {
      json_decref(spec);
      return reply_error(c, strncmp(whys, "no snapshot", 11) ? 409 : 404, "%s", whys);
    }
    json_object_set_new(spec, "image", json_string(image));
  }
  const char *why = sandbox_spec_check(spec, buf, sizeof buf);
  if (why) {
    json_decref(spec);
    return reply_error(c, 400, "%s", why);
  }
  char id[40], host[64] = "";
  int host_fd = -1;
  new_id("sb", id, sizeof id);
  const char *name = json_string_value(json_object_get(spec, "name"));
  if (!name) name = id;
  json_t *net = json_object_get(spec, "networking");
  if (json_array_size(net) == 1) {
    int want = (int)json_integer_value(json_object_get(json_array_get(net, 0), "port")), got;
    host_fd = runtime_host_listener(want, &got);
    if (host_fd < 0) {
      json_decref(spec);
      return reply_error(c, 503, "no port free on the host's loopback for the sandbox's port %d", want);
    }
    snprintf(host, sizeof host, "127.0.0.1:%d", got);
  }
  char *spec_text = json_dumps(spec, JSON_COMPACT);
  json_t *tags = json_object_get(spec, "tags");
  char *tags_text = json_is_object(tags) ? json_dumps(tags, JSON_COMPACT) : strdup("{}");
  new_record rec = {id, name, json_string_value(json_object_get(spec, "image")), spec_text, tags_text, host, spec, 0};
  int rc = spec_text && tags_text && db_batch(insert_record, &rec) == 0 ? SQLITE_DONE : rec.rc ? rec.rc : SQLITE_ERROR;
  free(spec_text);
  free(tags_text);
  if (rc != SQLITE_DONE && host_fd >= 0) close(host_fd);
  if (rc == SQLITE_CONSTRAINT) {
    enum MHD_Result ret = reply_error(c, 409, "the name '%s' is taken (names are never reused)", name);
    json_decref(spec); /* name points into it */
    return ret;
  }
  if (rc != SQLITE_DONE) {
    json_decref(spec);
    return reply_error(c, 500, "could not record the sandbox");
  }
  if (runtime_start(id, name, spec, host_fd) != 0) {
    /* no launcher thread (out of threads or memory): the record must not stay queued */
    static const char msg[] = "porter-sandboxd could not start this sandbox (out of threads or memory)";
    log_line(id, "error", "", msg, sizeof msg - 1);
    sandbox_set_phase(id, "failed", 0, 0, 0);
    json_decref(spec);
    return reply_error(c, 500, "could not start the sandbox: out of threads or memory");
  }
  json_t *mounts = json_object_get(spec, "volume_mounts");
  json_t *out = json_pack("{sssssO}", "id", id, "name", name, "volume_mounts", mounts ? mounts : json_object());
  if (!mounts) json_decref(json_object_get(out, "volume_mounts"));
  json_decref(spec);
  return reply_json(c, 202, out);
}

/* ---- list and counts: one filter builder ---- */
#define MAX_TAG_FILTERS 100
typedef struct filter {
  char *where; /* " WHERE a AND b", grown as conditions come: user-sized input, no fixed buffer */
  int ntags;
  json_t *binds; /* strings and integers, in order */
  const char *error;
  char error_buf[160]; /* an error composed here */
} filter;

static void add_cond(filter *f, const char *cond) {
  char *w = NULL;
  if (asprintf(&w, "%s%s%s", f->where ? f->where : "", f->where ? " AND " : " WHERE ", cond) < 0) {
    f->error = "out of memory";
    return;
  }
  free(f->where);
  f->where = w;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  filter *f = cls;
  if (!value) value = "";
  if (!strcmp(key, "tag")) {
    if (++f->ntags > MAX_TAG_FILTERS) {
      f->error = "at most 100 'tag' filters";
      return MHD_NO;
    }
    const char *eq = strchr(value, '=');
    if (!eq) {
      f->error = "'tag' must be key=value";
      return MHD_NO;
    }
    /* json_each rather than a JSON path: a key may hold any character, quotes included */
    add_cond(f, "EXISTS (SELECT 1 FROM json_each(tags) WHERE key = ? AND value = ?)");
    json_array_append_new(f->binds, json_stringn(value, (size_t)(eq - value)));
    json_array_append_new(f->binds, json_string(eq + 1));
  }
  return MHD_YES;
}

static enum MHD_Result collect_phase(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  json_t *arr = cls;
  if (!strcmp(key, "phase") && value) json_array_append_new(arr, json_string(value));
  return MHD_YES;
}

static void build_filter(struct MHD_Connection *c, filter *f, int64_t *start, int64_t *end) {
  f->where = NULL;
  f->ntags = 0;
  f->binds = json_array();
  f->error = NULL;
  const char *s = query_arg(c, "search");
  if (s && *s) {
    add_cond(f, "substr(name, 1, length(?)) = ?");
    json_array_append_new(f->binds, json_string(s));
    json_array_append_new(f->binds, json_string(s));
  }
  const char *image = query_arg(c, "image");
  if (image && *image) {
    add_cond(f, "image = ?");
    json_array_append_new(f->binds, json_string(image));
  }
  const char *st = query_arg(c, "start_time"), *et = query_arg(c, "end_time");
  if (st && !parse_time(st, start)) f->error = "'start_time' must be an RFC 3339 time";
  if (et && !parse_time(et, end)) f->error = "'end_time' must be an RFC 3339 time";
  if (st) {
    add_cond(f, "created_ms >= ?");
    json_array_append_new(f->binds, json_integer(*start));
  }
  if (et) {
    add_cond(f, "created_ms < ?");
    json_array_append_new(f->binds, json_integer(*end));
  }
  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, f);
  json_t *phases = json_array();
  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_phase, phases);
  if (json_array_size(phases)) {
    size_t np = json_array_size(phases);
    char *cond = malloc(12 + 2 * np);
    if (!cond) {
      f->error = "out of memory";
      json_decref(phases);
      return;
    }
    strcpy(cond, "phase IN (");
    size_t i;
    json_t *p;
    json_array_foreach(phases, i, p) {
      if (ct_enum_index(&CT_Phase, json_string_value(p)) < 0) {
        snprintf(f->error_buf, sizeof f->error_buf, "'phase' must be %s", CT_Phase.label);
        f->error = f->error_buf;
      }
      strcat(cond, i ? ",?" : "?");
      json_array_append(f->binds, p);
    }
    strcat(cond, ")");
    add_cond(f, cond);
    free(cond);
  }
  json_decref(phases);
}

static void filter_free(filter *f) {
  json_decref(f->binds);
  free(f->where);
}

/* the rows of the query around a filter's WHERE clause, or NULL */
static json_t *filtered_rows(const char *before, const filter *f, const char *after) {
  char *sql = NULL;
  if (asprintf(&sql, "%s%s%s", before, f->where ? f->where : "", after) < 0) return NULL;
  json_t *rows = db_rows_binds(sql, f->binds);
  free(sql);
  return rows;
}

static json_t *filter_values(void) {
  return json_pack("{sososo}", "tags",
                   first_column(db_rows("SELECT DISTINCT j.key || '=' || j.value FROM sandboxes, json_each(sandboxes.tags) j "
                                        "ORDER BY 1", "")),
                   "images", first_column(db_rows("SELECT DISTINCT image FROM sandboxes ORDER BY 1", "")), "phases",
                   first_column(db_rows("SELECT DISTINCT phase FROM sandboxes ORDER BY 1", "")));
}

/* one page of a list, its total and (if asked) the filter values, as of one moment */
typedef struct page_query {
  const filter *f;
  const char *tail;
  int with_values;
  long total;
  json_t *list, *values;
} page_query;

static int read_page(void *ctx) {
  page_query *q = ctx;
  json_t *count = filtered_rows("SELECT count(*) FROM sandboxes", q->f, "");
  q->total = (long)json_integer_value(json_array_get(json_array_get(count, 0), 0));
  json_decref(count);
  json_t *rows = filtered_rows("SELECT " STATUS_COLS " FROM sandboxes", q->f, q->tail);
  if (!rows) return -1;
  q->list = statuses_of(rows);
  if (q->with_values) q->values = filter_values();
  return 0;
}

enum MHD_Result h_sandbox_list(struct MHD_Connection *c, req *r) {
  (void)r;
  filter f;
  int64_t start = 0, end = 0;
  build_filter(c, &f, &start, &end);
  const char *pg = query_arg(c, "page");
  long page = pg ? strtol(pg, NULL, 10) : 1;
  if (!f.error && (page < 1 || page > 1000000)) f.error = "'page' must be an integer of at least 1";
  if (f.error) {
    enum MHD_Result ret = reply_error(c, 400, "%s", f.error);
    filter_free(&f);
    return ret;
  }
  char tail[96];
  snprintf(tail, sizeof tail, " ORDER BY seq DESC LIMIT %d OFFSET %ld", PAGE_SIZE, (page - 1) * PAGE_SIZE);
  const char *ifv = query_arg(c, "include_filter_values");
  page_query q = {&f, tail, ifv && !strcmp(ifv, "true"), 0, NULL, NULL};
  int rc = db_batch(read_page, &q);
  filter_free(&f);
  if (rc != 0) {
    json_decref(q.list);
    json_decref(q.values);
    return reply_error(c, 500, "could not read the sandboxes");
  }
  long total = q.total;
  json_t *list = q.list, *fv = q.values;
  long pages = total ? (total + PAGE_SIZE - 1) / PAGE_SIZE : 1;
  json_t *out = json_pack("{so s{sisisb}}", "sandboxes", list, "pagination", "current_page", (int)page, "total_pages",
                          (int)pages, "has_next_page", page < pages);
  if (fv) json_object_set_new(out, "filter_values", fv);
  return reply_json(c, 200, out);
}

enum MHD_Result h_sandbox_counts(struct MHD_Connection *c, req *r) {
  (void)r;
  filter f;
  int64_t end = now_ms(), start = end - 3600 * 1000;
  build_filter(c, &f, &start, &end);
  if (!f.error && end <= start) f.error = "'end_time' must be after 'start_time'";
  if (f.error) {
    enum MHD_Result ret = reply_error(c, 400, "%s", f.error);
    filter_free(&f);
    return ret;
  }
  /* about 60 buckets over the window, a whole number of seconds each */
  int64_t gran = (end - start + 59) / 60;
  gran = gran < 1000 ? 1000 : (gran + 999) / 1000 * 1000;
  int64_t n = (end - start + gran - 1) / gran;
  int64_t *counts = calloc((size_t)n, sizeof *counts);
  if (!counts) {
    filter_free(&f);
    return reply_error(c, 500, "out of memory");
  }
  json_t *rows = filtered_rows("SELECT created_ms FROM sandboxes", &f, "");
  filter_free(&f);
  size_t i;
  json_t *row;
  json_array_foreach(rows, i, row) {
    int64_t t = json_integer_value(json_array_get(row, 0));
    if (t >= start && t < end) counts[(t - start) / gran]++;
  }
  json_decref(rows);
  json_t *points = json_array();
  for (int64_t i = 0; i < n; i++) {
    char t[40];
    fmt_time(start + i * gran, t, sizeof t);
    json_array_append_new(points, json_pack("{sssI}", "timestamp", t, "count", (json_int_t)counts[i]));
  }
  free(counts);
  return reply_json(c, 200, json_pack("{sosI}", "points", points, "granularity_ms", (json_int_t)gran));
}

enum MHD_Result h_sandbox_lookup(struct MHD_Connection *c, req *r) {
  (void)r;
  const char *name = query_arg(c, "name");
  if (!name || !*name) return reply_error(c, 400, "'name' is required");
  json_t *ids = first_column(db_rows("SELECT id FROM sandboxes WHERE name=?", "s", name));
  json_t *id = json_array_get(ids, 0);
  json_t *out = id ? json_pack("{sO}", "id", id) : NULL;
  json_decref(ids);
  if (!out) return reply_error(c, 404, "no sandbox named '%s'", name);
  return reply_json(c, 200, out);
}

enum MHD_Result h_sandbox_get(struct MHD_Connection *c, req *r) {
  json_t *o = sandbox_status(r->params[0]);
  if (!o) return reply_error(c, 404, "no sandbox '%s'", r->params[0]);
  return reply_json(c, 200, o);
}

enum MHD_Result h_sandbox_delete(struct MHD_Connection *c, req *r) {
  json_t *o = sandbox_status(r->params[0]);
  if (!o) return reply_error(c, 404, "no sandbox '%s'", r->params[0]);
  json_decref(o);
  runtime_terminate(r->params[0]);
  return reply_empty(c, 204);
}

enum MHD_Result h_sandbox_logs(struct MHD_Connection *c, req *r) {
  json_t *o = sandbox_status(r->params[0]);
  if (!o) return reply_error(c, 404, "no sandbox '%s'", r->params[0]);
  json_decref(o);
  const char *lim = query_arg(c, "limit"), *since = query_arg(c, "since");
  long limit = lim ? strtol(lim, NULL, 10) : 0;
  if (lim && limit < 1) return reply_error(c, 400, "'limit' must be an integer of at least 1");
  int64_t since_ms = 0;
  if (since && !parse_time(since, &since_ms)) return reply_error(c, 400, "'since' must be an RFC 3339 time");
  /* 100,000 lines are megabytes of JSON: written as they are read, to a spool (memory, then an
   * unlinked file), never a tree of objects */
  spool out;
  spool_open(&out);
  if (logs_json(r->params[0], since ? since_ms : 0, limit, &out) != 0) {
    spool_close(&out);
    return reply_error(c, 500, "could not read the logs");
  }
  enum MHD_Result sent = reply_spool(c, 200, &out);
  spool_close(&out);
  return sent;
}

enum MHD_Result h_sandbox_exec(struct MHD_Connection *c, req *r) {
  enum MHD_Result sent;
  json_t *body = body_object(c, r, &sent);
  if (!body) return sent;
  json_t *o = sandbox_status(r->params[0]);
  if (!o) {
    json_decref(body);
    return reply_error(c, 404, "no sandbox '%s'", r->params[0]);
  }
  spool result;
  char err[512];
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  int status = runtime_exec(r->params[0], json_object_get(body, "command"), ci ? ci->connect_fd : -1, &result, err,
                            sizeof err);
  json_decref(body);
  if (status == 499) { /* nobody to answer: the connection goes */
    json_decref(o);
    return MHD_NO;
  }
  if (status) {
    if (status == 409)
      snprintf(err, sizeof err, "the sandbox is not running (phase %s)", json_string_value(json_object_get(o, "phase")));
    json_decref(o);
    return reply_error(c, (unsigned)status, "%s", err);
  }
  json_decref(o);
  sent = reply_spool(c, 200, &result);
  spool_close(&result);
  return sent;
}
