/* Where each page of a recent list ended, so that the next page starts there (a seek in an
 * index) instead of skipping every row before it (OFFSET). A mark holds only while no record
 * has changed since it was made (records_generation): then the page it gives is exactly the
 * one OFFSET would. At most PAGE_MARKS are kept, each slot taken by the newest list to want it. */
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include "server.h"
#include "records.h"
#include "pages.h"

#define PAGE_MARKS 256

typedef struct mark {
  uint64_t key;
  long page;
  long long last_seq;
  unsigned long gen;
} mark;

static mark marks[PAGE_MARKS];
static pthread_mutex_t marks_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong generation = 1;

void records_changed(void) { atomic_fetch_add(&generation, 1); }
unsigned long records_generation(void) { return atomic_load(&generation); }

uint64_t page_key(const char *sql, json_t *binds) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a over the query and its binds, as text */
  char *b = json_dumps(binds, JSON_COMPACT | JSON_ENCODE_ANY);
  for (const char *s = sql; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  h = (h ^ 0xff) * 1099511628211ull;
  for (const char *s = b ? b : ""; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  free(b);
  return h;
}

int page_mark_find(uint64_t key, long page, unsigned long gen, long long *last_seq) {
  pthread_mutex_lock(&marks_lock);
  const mark *m = &marks[(key ^ (uint64_t)page) % PAGE_MARKS];
  int found = m->key == key && m->page == page && m->gen == gen;
  if (found) *last_seq = m->last_seq;
  pthread_mutex_unlock(&marks_lock);
  return found;
}

void page_mark_keep(uint64_t key, long page, unsigned long gen, long long last_seq) {
  pthread_mutex_lock(&marks_lock);
  marks[(key ^ (uint64_t)page) % PAGE_MARKS] = (mark){key, page, last_seq, gen};
  pthread_mutex_unlock(&marks_lock);
}
