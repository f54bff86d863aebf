/* Every sandbox's name and seq, sorted by name in memory beside the store's rows. A search
 * (a name prefix) matches a range of them, found by two binary searches: its total is their
 * difference and its seqs are read from the range, where walking the store's name index cost
 * about 60 ns a match (999 matches: a third of a search's time, perf). The store stays the
 * owner: this is loaded from its rows and changed with them, inside the same transactions,
 * under the same lock; bounded as they are (--max-ended and the live ones). */
#include <stdlib.h>
#include <string.h>
#include "db.h"
#include "names.h"

typedef struct entry {
  char *name;
  long long seq;
} entry;

static entry *v; /* sorted by name, bytes compared unsigned: SQLite's BINARY order */
static size_t n, cap;
static int ready;

static void clear(void) {
  for (size_t i = 0; i < n; i++) free(v[i].name);
  n = 0;
}

/* the first place whose name is not below key (for a prefix too: a name that begins with it
 * is not below it, and every name below it is below all that begin with it) */
static size_t lower(const char *key) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(v[mid].name, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* the first place past every name that begins with key */
static size_t past(const char *key, size_t len) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strncmp(v[mid].name, key, len) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

int names_add(const char *name, long long seq) {
  if (!ready) return -1;
  if (n == cap) {
    size_t c = cap ? cap * 2 : 1024;
    entry *g = realloc(v, c * sizeof *v);
    if (!g) return ready = 0, -1;
    v = g, cap = c;
  }
  char *copy = strdup(name);
  if (!copy) return ready = 0, -1;
  size_t at = lower(name);
  memmove(v + at + 1, v + at, (n - at) * sizeof *v);
  v[at] = (entry){copy, seq};
  n++;
  return 0;
}

void names_remove(const char *name) {
  if (!name) return;
  size_t at = lower(name);
  if (at == n || strcmp(v[at].name, name)) return;
  free(v[at].name);
  memmove(v + at, v + at + 1, (n - at - 1) * sizeof *v);
  n--;
}

static int loaded(sqlite3_stmt *st, void *ctx) {
  (void)ctx;
  const char *name = (const char *)sqlite3_column_text(st, 0);
  return name ? names_add(name, sqlite3_column_int64(st, 1)) : 0;
}

int names_load(void *unused) {
  (void)unused;
  clear();
  ready = 1;
  /* in the index's order, so that each one is added at the end */
  json_t *none = json_array();
  int rc = none ? db_each("SELECT name, seq FROM sandboxes ORDER BY name", none, loaded, NULL) : -1;
  json_decref(none);
  if (rc != 0) clear(), ready = 0;
  return rc;
}

int names_ready(void) { return ready; }

size_t names_prefix(const char *prefix, long long *out, size_t max) {
  size_t len = strlen(prefix), from = lower(prefix), to = past(prefix, len);
  for (size_t i = from; i < to && i - from < max; i++) out[i - from] = v[i].seq;
  return to - from;
}
