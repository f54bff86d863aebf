/* An open-addressing hash set of strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unpack.h"

struct pathset {
  char **slot;
  size_t cap, n;
};

static uint64_t hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

pathset *pathset_new(void) {
  pathset *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->cap = 1024;
  s->slot = calloc(s->cap, sizeof *s->slot);
  if (!s->slot) {
    free(s);
    return NULL;
  }
  return s;
}

void pathset_free(pathset *s) {
  if (!s) return;
  for (size_t i = 0; i < s->cap; i++) free(s->slot[i]);
  free(s->slot);
  free(s);
}

static size_t find(const pathset *s, const char *p, size_t n) {
  size_t i = hash(p, n) & (s->cap - 1);
  while (s->slot[i] && (strlen(s->slot[i]) != n || memcmp(s->slot[i], p, n))) i = (i + 1) & (s->cap - 1);
  return i;
}

static int grow(pathset *s) {
  pathset bigger = {calloc(s->cap * 2, sizeof(char *)), s->cap * 2, 0};
  if (!bigger.slot) return -1;
  for (size_t i = 0; i < s->cap; i++)
    if (s->slot[i]) bigger.slot[find(&bigger, s->slot[i], strlen(s->slot[i]))] = s->slot[i];
  free(s->slot);
  s->slot = bigger.slot;
  s->cap = bigger.cap;
  return 0;
}

static void add_one(pathset *s, const char *p, size_t n) {
  if ((s->n + 1) * 2 > s->cap && grow(s) != 0) return;
  size_t i = find(s, p, n);
  if (s->slot[i]) return;
  s->slot[i] = strndup(p, n);
  if (s->slot[i]) s->n++;
}

void pathset_add(pathset *s, const char *path) {
  size_t n = strlen(path);
  add_one(s, path, n);
  for (size_t i = n; i > 0; i--)
    if (path[i - 1] == '/' && i > 1) add_one(s, path, i - 1);
}

int pathset_has(const pathset *s, const char *path) { return s->slot[find(s, path, strlen(path))] != NULL; }
