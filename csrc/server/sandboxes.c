/* /v1/sandbox*: records in SQLite, processes in runtime.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "contract.h"
#include "server.h"
#include "snapshots.h"
#include "handlers.h"
#include "http.h"
#include "db.h"
#include "logs.h"
#include "spec.h"
#include "spool.h"
#include "records.h"
#include "pages.h"
#include "sandboxes.h"
#include "runtime.h"
#include "clients.h"
#include "names.h"

void sandboxes_recover(void) {
  json_t *ids = first_column(db_rows("SELECT id FROM sandboxes WHERE phase IN " LIVE_PHASES, ""));
  size_t i;
  json_t *id;
  json_array_foreach(ids, i, id) {
    const char *s = json_string_value(id);
    sandbox_set_phase(s, "failed", 0, 0, 0);
    /* whatever the previous server's death left of it (its cgroup went in cgroup_init): its layer */
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
  long long seq = db_last_rowid();
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(r->spec, "volume_mounts"), k, v)
    if (db_exec("INSERT INTO mounts(sandbox_id, volume_id, path) VALUES(?,?,?)", "sss", r->id, json_string_value(v), k) !=
        SQLITE_DONE)
      return r->rc = SQLITE_ERROR, -1;
  names_add(r->name, seq); /* out of memory: searches go to the store's index */
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
    char image[1024], whys[600];
    if (img && *img) {
      json_decref(spec);
      return reply_error(c, 400, "'image' must be empty when 'snapshot_id' is set: the snapshot is the image");
    }
    if (snapshot_source(snap, NULL, image, sizeof image, whys, sizeof whys) != 0) {
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
  if (rc == SQLITE_DONE) records_changed();
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
  int ntags;   /* the first tag filter drives the query (sandbox_tags t): its binds come first */
  int others;  /* conditions other than on the phase: a total needs the rows then, not phase_counts */
  int unordered; /* a condition whose index is not in seq order (a name, a time): see page_seqs */
  const char *search; /* the name prefix asked for, or NULL */
  char *phases; /* "phase IN (?,...)", or NULL */
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
    json_t *k = json_stringn_nocheck(value, (size_t)(eq - value)), *v = json_string_nocheck(eq + 1);
    if (f->ntags == 1) { /* the driver's: t.key = ? AND t.value = ?, ahead of every other bind */
      json_array_insert_new(f->binds, 0, k);
      json_array_insert_new(f->binds, 1, v);
    } else {
      add_cond(f, "s.seq IN (SELECT seq FROM sandbox_tags WHERE key = ? AND value = ?)");
      json_array_append_new(f->binds, k);
      json_array_append_new(f->binds, v);
    }
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
  f->others = 0;
  f->unordered = 0;
  f->phases = NULL;
  f->search = NULL;
  const char *s = query_arg(c, "search");
  if (s && *s) {
    f->search = s;
    /* names beginning with s: a range of the names' index, [s, s with its last byte one up) */
    size_t n = strlen(s);
    char *up = strdup(s);
    while (up && n > 0 && (unsigned char)up[n - 1] == 0xff) n--;
    if (up && n > 0) {
      up[n - 1] = (char)((unsigned char)up[n - 1] + 1);
      add_cond(f, "s.name >= ? AND s.name < ?");
      json_array_append_new(f->binds, json_string_nocheck(s));
      json_array_append_new(f->binds, json_stringn_nocheck(up, n));
    } else {
      add_cond(f, "s.name >= ?");
      json_array_append_new(f->binds, json_string_nocheck(s));
    }
    free(up);
    f->others++, f->unordered = 1;
  }
  const char *image = query_arg(c, "image");
  if (image && *image) {
    add_cond(f, "s.image = ?");
    json_array_append_new(f->binds, json_string_nocheck(image));
    f->others++;
  }
  const char *st = query_arg(c, "start_time"), *et = query_arg(c, "end_time");
  if (st && !parse_time(st, start)) f->error = "'start_time' must be an RFC 3339 time";
  if (et && !parse_time(et, end)) f->error = "'end_time' must be an RFC 3339 time";
  if (st) {
    add_cond(f, "s.created_ms >= ?");
    json_array_append_new(f->binds, json_integer(*start));
    f->others++, f->unordered = 1;
  }
  if (et) {
    add_cond(f, "s.created_ms < ?");
    json_array_append_new(f->binds, json_integer(*end));
    f->others++, f->unordered = 1;
  }
  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, f);
  json_t *phases = json_array();
  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_phase, phases);
  if (json_array_size(phases)) {
    size_t np = json_array_size(phases);
    char *cond = malloc(14 + 2 * np);
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
    char *qualified = NULL;
    if (asprintf(&qualified, "s.%s", cond) < 0) qualified = NULL;
    if (qualified) add_cond(f, qualified);
    else f->error = "out of memory";
    free(qualified);
    f->phases = cond; /* unqualified: phase_counts answers it too */
  }
  json_decref(phases);
}

static void filter_free(filter *f) {
  json_decref(f->binds);
  free(f->where);
  free(f->phases);
}

/* The rows of `SELECT what FROM <the filter's records> ... after`, or NULL. The records are
 * sandboxes s, or with a tag filter sandbox_tags t (its index holds the seqs in order), joined
 * to sandboxes s only when another condition needs their columns. what names t.seq or s's
 * columns; t.seq is s.seq. */
static char *filter_sql(const char *what, const filter *f, const char *extra, const char *after) {
  char *sql = NULL;
  int rc;
  const char *w = f->where ? f->where + strlen(" WHERE ") : NULL;
  if (f->ntags) {
    int join = w || strstr(what, "s.") || (extra && strstr(extra, "s."));
    rc = asprintf(&sql, "SELECT %s FROM sandbox_tags t%s WHERE t.key = ? AND t.value = ?%s%s%s%s%s", what,
                  join ? " JOIN sandboxes s ON s.seq = t.seq" : "", w ? " AND " : "", w ? w : "", extra ? " AND " : "",
                  extra ? extra : "", after);
  } else {
    rc = asprintf(&sql, "SELECT %s FROM sandboxes s%s%s%s%s%s", what, w || extra ? " WHERE " : "", w ? w : "",
                  w && extra ? " AND " : "", extra ? extra : "", after);
  }
  return rc < 0 ? NULL : sql;
}

static json_t *filtered_rows(const char *what, const filter *f, const char *after) {
  char *sql = filter_sql(what, f, NULL, after);
  json_t *rows = sql ? db_rows_binds(sql, f->binds) : NULL;
  free(sql);
  return rows;
}

/* every tag, image and phase some record has, from the counts the store keeps */
static json_t *filter_values(void) {
  return json_pack("{sososo}", "tags",
                   first_column(db_rows("SELECT key || '=' || value FROM tag_counts WHERE n > 0 ORDER BY 1", "")),
                   "images", first_column(db_rows("SELECT image FROM image_counts WHERE n > 0 ORDER BY 1", "")),
                   "phases", first_column(db_rows("SELECT phase FROM phase_counts WHERE n > 0 ORDER BY 1", "")));
}

/* one page of a list, its total and (if asked) the filter values, as of one moment */
typedef struct page_query {
  const filter *f;
  long page;
  int with_values;
  long total;
  spool *list;        /* the page's StatusResponses, comma-separated JSON text */
  long long last_seq; /* the page's oldest row, where the next page starts */
  json_t *values;
} page_query;

/* a row of STATUS_COLS and its seq */
static int status_listed(sqlite3_stmt *st, void *ctx) {
  page_query *q = ctx;
  if (q->list->size && spool_put(q->list, ",", 1)) return -1;
  q->last_seq = sqlite3_column_int64(st, 11);
  return status_put(st, q->list);
}

/* ---- a page by seq from an index in another order (a name's, a time's) ---- */
/* SQLite would count the matches, then sort them all in a temporary b-tree to find the page;
 * here the seqs are read from the index once, which is also the total, and ordered in C. */
#define PAGE_SEQS_MAX 200000 /* more matches than this: SQLite's own sort, as before */

typedef struct seq_list {
  long long *v;
  size_t n, cap;
} seq_list;

static int seq_collect(sqlite3_stmt *st, void *ctx) {
  seq_list *l = ctx;
  if (l->n == PAGE_SEQS_MAX) return 1; /* more than are ordered here */
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 1024;
    long long *v = realloc(l->v, cap * sizeof *v);
    if (!v) return -1;
    l->v = v, l->cap = cap;
  }
  l->v[l->n++] = sqlite3_column_int64(st, 0);
  return 0;
}

static int seq_desc(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

static void sift_down(long long *h, size_t n, size_t i) {
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) return;
    if (c + 1 < n && h[c + 1] < h[c]) c++;
    if (h[i] <= h[c]) return;
    long long t = h[i];
    h[i] = h[c], h[c] = t;
    i = c;
  }
}

/* The newest `want` of the seqs, newest first, in l->v[0..want) (the rest of the list is
 * left in no order: only a page's worth is ever read). The seqs come in the index's order, which
 * for names is often the order they were made in: a list already ascending is reversed, one
 * already descending kept, in one pass. Else, for a page near the top, the newest seen so far
 * are kept in a heap of `want` (n log want, where sorting all n took a tenth of a search's
 * time over 1000 live sandboxes, perf); else everything is sorted. */
static void order_desc(seq_list *l, size_t want) {
  int up = 1, down = 1;
  for (size_t i = 1; i < l->n && (up || down); i++) {
    if (l->v[i] < l->v[i - 1]) up = 0;
    if (l->v[i] > l->v[i - 1]) down = 0;
  }
  if (down) return;
  if (up) {
    for (size_t i = 0, j = l->n - 1; i < j; i++, j--) {
      long long t = l->v[i];
      l->v[i] = l->v[j], l->v[j] = t;
    }
    return;
  }
  if (want > 0 && want < l->n / 2) {
    long long *h = l->v; /* a min-heap of the newest seen: its first want places */
    for (size_t i = want / 2; i-- > 0;) sift_down(h, want, i);
    for (size_t i = want; i < l->n; i++)
      if (l->v[i] > h[0]) h[0] = l->v[i], sift_down(h, want, 0);
    qsort(h, want, sizeof *h, seq_desc);
    return;
  }
  qsort(l->v, l->n, sizeof *l->v, seq_desc);
}

/* Every seq the filter matches (a search alone: copied from its range of names.c's, else in
 * one pass over the store's index that is also the total); 0, 1 (more than PAGE_SEQS_MAX:
 * counted and sorted by SQLite instead), or -1. Then "seq IN (...)" of page (newest first)
 * into *in. */
static int page_seqs(const filter *f, long page, long *total, char **in) {
  seq_list l = {NULL, 0, 0};
  int rc;
  int by_name = f->search && f->others == 1 && !f->phases && names_ready();
  size_t named = by_name ? names_prefix(f->search, NULL, 0) : 0;
  if (by_name && named <= PAGE_SEQS_MAX) { /* a search alone: its range of the names kept in order */
    l.v = malloc((named ? named : 1) * sizeof *l.v);
    l.n = l.v ? names_prefix(f->search, l.v, named) : 0;
    rc = l.v ? 0 : -1;
  } else {
    char *sql = filter_sql("s.seq", f, NULL, "");
    rc = sql ? db_each(sql, f->binds, seq_collect, &l) : -1;
    free(sql);
  }
  if (rc == 0) {
    size_t skip = (size_t)(page - 1) * PAGE_SIZE;
    order_desc(&l, skip + PAGE_SIZE);
    size_t from = skip < l.n ? skip : l.n, to = from + PAGE_SIZE < l.n ? from + PAGE_SIZE : l.n;
    *total = (long)l.n;
    *in = malloc(32 + 21 * (to - from));
    if (*in) {
      size_t n = (size_t)sprintf(*in, "seq IN (");
      for (size_t i = from; i < to; i++) n += (size_t)sprintf(*in + n, "%s%lld", i > from ? "," : "", l.v[i]);
      sprintf(*in + n, ")");
    } else {
      rc = -1;
    }
  } else if (rc > 0 && l.n < PAGE_SEQS_MAX) {
    rc = -1; /* the query failed, not the bound */
  }
  free(l.v);
  return rc;
}

/* The page's rows, from an IN list of seqs, into q->list. */
static int page_rows(page_query *q, const char *in) {
  char *sql = NULL;
  if (asprintf(&sql, "SELECT " STATUS_COLS ", seq FROM sandboxes WHERE %s ORDER BY seq DESC", in) < 0) return -1;
  json_t *none = json_array();
  q->last_seq = 0;
  int rc = db_each(sql, none, status_listed, q);
  json_decref(none);
  free(sql);
  return rc;
}

static int read_page(void *ctx) {
  page_query *q = ctx;
  const filter *f = q->f;
  if (f->unordered && !f->ntags) {
    char *in = NULL;
    int got = page_seqs(f, q->page, &q->total, &in);
    if (got == 0) {
      int rc = page_rows(q, in);
      free(in);
      if (rc != 0) return -1;
      if (q->with_values) q->values = filter_values();
      return 0;
    }
    if (got < 0) return -1;
  }
  json_t *count;
  if (f->ntags == 1 && !f->others && !f->phases) { /* one tag, its two binds all there are */
    count = db_rows_binds("SELECT coalesce(sum(n), 0) FROM tag_counts WHERE key = ? AND value = ?", f->binds);
  } else if (f->others || f->ntags) {
    count = filtered_rows("count(*)", f, "");
  } else { /* at most a phase filter, whose binds are all there are: the kept counts answer */
    char *sql = NULL;
    if (asprintf(&sql, "SELECT coalesce(sum(n), 0) FROM phase_counts%s%s", f->phases ? " WHERE " : "",
                 f->phases ? f->phases : "") < 0)
      return -1;
    count = db_rows_binds(sql, f->binds);
    free(sql);
  }
  q->total = (long)json_integer_value(json_array_get(json_array_get(count, 0), 0));
  json_decref(count);
  /* the page's seqs from the indexes alone (from where the page before ended, if that is
   * known and still holds, else skipping what comes before), then only its rows read */
  const char *seq = f->ntags ? "t.seq" : "s.seq";
  unsigned long gen = records_generation();
  char *shape = filter_sql("", f, NULL, "");
  uint64_t key = shape ? page_key(shape, f->binds) : 0;
  free(shape);
  long long from;
  char extra[64], tail[96];
  int marked = q->page > 1 && page_mark_find(key, q->page - 1, gen, &from);
  if (marked) snprintf(extra, sizeof extra, "%s < %lld", seq, from);
  snprintf(tail, sizeof tail, " ORDER BY %s DESC LIMIT %d OFFSET %ld", seq, PAGE_SIZE, marked ? 0 : (q->page - 1) * PAGE_SIZE);
  char *page = filter_sql(seq, f, marked ? extra : NULL, tail), *sql = NULL;
  if (!page ||
      asprintf(&sql, "SELECT " STATUS_COLS ", seq FROM sandboxes WHERE seq IN (%s) ORDER BY seq DESC", page) < 0) {
    free(page);
    return -1;
  }
  free(page);
  q->last_seq = 0;
  int rc = db_each(sql, f->binds, status_listed, q);
  free(sql);
  if (rc != 0) return -1;
  if (q->last_seq) page_mark_keep(key, q->page, gen, q->last_seq);
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
  const char *ifv = query_arg(c, "include_filter_values");
  spool list;
  spool_open(&list);
  page_query q = {&f, page, ifv && !strcmp(ifv, "true"), 0, &list, 0, NULL};
  int rc = db_batch(read_page, &q);
  filter_free(&f);
  /* the answer as text: the rows were written straight from the store */
  spool out;
  spool_open(&out);
  long pages = q.total ? (q.total + PAGE_SIZE - 1) / PAGE_SIZE : 1;
  char pagination[160];
  int pn = snprintf(pagination, sizeof pagination,
                    "],\"pagination\":{\"current_page\":%ld,\"total_pages\":%ld,\"has_next_page\":%s}", page, pages,
                    page < pages ? "true" : "false");
  char *values = q.values ? json_dumps(q.values, JSON_COMPACT) : NULL;
  json_decref(q.values);
  int bad = rc != 0 || list.failed || (q.values && !values) || spool_put(&out, "{\"sandboxes\":[", 14);
  for (size_t at = 0; !bad && at < list.size;) {
    char buf[16384];
    ssize_t r = spool_read(&list, at, buf, sizeof buf);
    bad = r <= 0 || spool_put(&out, buf, (size_t)r);
    at += r > 0 ? (size_t)r : 0;
  }
  bad = bad || spool_put(&out, pagination, (size_t)pn) ||
        (values && (spool_put(&out, ",\"filter_values\":", 17) || spool_put(&out, values, strlen(values)))) ||
        spool_put(&out, "}", 1);
  free(values);
  spool_close(&list);
  if (bad) {
    spool_close(&out);
    return reply_error(c, 500, "could not read the sandboxes");
  }
  enum MHD_Result sent = reply_spool(c, 200, &out);
  spool_close(&out);
  return sent;
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
  json_t *rows = filtered_rows("s.created_ms", &f, "");
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
