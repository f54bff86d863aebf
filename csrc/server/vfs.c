/* File operations confined to a volume: paths are walked one component at a time from the
 * volume's root with O_NOFOLLOW, so neither '..' nor a symlink can lead outside it (and no
 * check-then-use race with realpath). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "server.h"
#include "vfs.h"

int vfs_split(const char *path, char comps[][256], int max, int *n, char *why, size_t wn) {
  *n = 0;
  const char *p = path;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == 2 && !strncmp(p, "..", 2)) {
      snprintf(why, wn, "path '%s' leaves the volume ('..' is not allowed)", path);
      return -1;
    }
    if (!(len == 1 && p[0] == '.')) {
      if (len >= 256 || *n >= max) {
        snprintf(why, wn, "path '%s' is too long", path);
        return -1;
      }
      memcpy(comps[*n], p, len);
      comps[(*n)++][len] = '\0';
    }
    p += len;
  }
  return 0;
}

int vfs_open_dir(int rootfd, char comps[][256], int n, int create) {
  int fd = dup(rootfd);
  for (int i = 0; i < n && fd >= 0; i++) {
    int next = openat(fd, comps[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && create) {
      if (mkdirat(fd, comps[i], 0755) != 0 && errno != EEXIST) {
        close(fd);
        return -1;
      }
      fchownat(fd, comps[i], (uid_t)cfg.uid_base, (gid_t)cfg.uid_base, AT_SYMLINK_NOFOLLOW);
      next = openat(fd, comps[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    int saved = errno;
    struct stat st;
    /* O_DIRECTORY reports a symlink as ENOTDIR: say what it is, so it is refused as one */
    if (next < 0 && fstatat(fd, comps[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) saved = ELOOP;
    close(fd);
    errno = saved;
    fd = next;
  }
  return fd;
}

/* ---- listing ---- */
typedef struct ent {
  char name[256];
  int dir;
  int64_t size, mtime_ms;
} ent;

static int ent_cmp(const void *a, const void *b) {
  const ent *x = a, *y = b;
  if (x->dir != y->dir) return y->dir - x->dir; /* directories first */
  return strcmp(x->name, y->name);
}

/* Reads a directory's entries, sorted; NULL on error. */
static ent *read_dir(int dirfd, size_t *count) {
  int fd = dup(dirfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0) close(fd);
    return NULL;
  }
  rewinddir(d);
  size_t n = 0, cap = 16;
  ent *v = malloc(cap * sizeof *v);
  struct dirent *e;
  while (v && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (!strncmp(e->d_name, ".porter-upload-", 15)) continue; /* uploads in progress */
    struct stat st;
    if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (n == cap) {
      ent *bigger = realloc(v, (cap *= 2) * sizeof *v);
      if (!bigger) {
        free(v);
        v = NULL; /* out of memory: the directory reads as unreadable, marked truncated */
        break;
      }
      v = bigger;
    }
    snprintf(v[n].name, sizeof v[n].name, "%s", e->d_name);
    v[n].dir = S_ISDIR(st.st_mode);
    v[n].size = v[n].dir ? 0 : st.st_size;
    v[n].mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    n++;
  }
  closedir(d);
  if (!v) return NULL;
  qsort(v, n, sizeof *v, ent_cmp);
  *count = n;
  return v;
}

static json_t *ent_json(const ent *e) {
  char t[40];
  fmt_time(e->mtime_ms, t, sizeof t);
  return json_pack("{sssssIss}", "name", e->name, "type", e->dir ? "directory" : "file", "size_bytes",
                   (json_int_t)e->size, "modified_at", t);
}

static int icontains(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (const char *p = hay; *p; p++)
    if (!strncasecmp(p, needle, n)) return 1;
  return n == 0;
}

/* Keeps entries whose name matches and directories holding matches. */
static json_t *prune(json_t *entries, const char *search) {
  json_t *out = json_array();
  size_t i;
  json_t *e;
  json_array_foreach(entries, i, e) {
    json_t *kids = json_object_get(e, "entries");
    json_t *kept = kids ? prune(kids, search) : NULL;
    int match = icontains(json_string_value(json_object_get(e, "name")), search);
    if (match || json_array_size(kept)) {
      json_t *copy = json_copy(e);
      if (kept) json_object_set(copy, "entries", kept);
      json_array_append_new(out, copy);
    }
    json_decref(kept);
  }
  return out;
}

/* Breadth-first walk with an entry budget; a directory whose children do not fit is marked
 * truncated (without entries) and left for the client to list on its own. */
json_t *vfs_list(int dirfd, const char *search, int budget, int *truncated) {
  typedef struct node {
    json_t *entry; /* the directory's entry object; NULL for the walked directory itself */
    int fd;
  } node;
  size_t qcap = 64, qh = 0, qt = 0;
  node *q = malloc(qcap * sizeof *q);
  json_t *top = json_array();
  if (!q || !top) {
    free(q);
    json_decref(top);
    return NULL;
  }
  q[qt++] = (node){NULL, dup(dirfd)};
  int used = 0;
  *truncated = 0;
  while (qh < qt) {
    node cur = q[qh++];
    size_t n = 0;
    ent *v = cur.fd >= 0 ? read_dir(cur.fd, &n) : NULL;
    if (!v || (cur.entry && used + (int)n > budget)) {
      if (cur.entry) json_object_set_new(cur.entry, "truncated", json_true());
      free(v);
      if (cur.fd >= 0) close(cur.fd);
      continue;
    }
    json_t *arr = cur.entry ? json_array() : top;
    if (cur.entry) json_object_set_new(cur.entry, "entries", arr);
    for (size_t i = 0; i < n; i++) {
      if (used >= budget) {
        *truncated = 1;
        break;
      }
      json_t *je = ent_json(&v[i]);
      used++;
      json_array_append_new(arr, je);
      if (v[i].dir) {
        int sub = openat(cur.fd, v[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        node *bigger = qt == qcap ? realloc(q, (qcap * 2) * sizeof *q) : q;
        if (!bigger) { /* out of memory: this directory is left unread, and says so */
          if (sub >= 0) close(sub);
          json_object_set_new(je, "truncated", json_true());
          continue;
        }
        if (qt == qcap) qcap *= 2;
        q = bigger;
        q[qt++] = (node){je, sub};
      }
    }
    free(v);
    close(cur.fd);
  }
  /* anything still queued after a break at the top: not read */
  for (; qh < qt; qh++) {
    if (q[qh].entry) json_object_set_new(q[qh].entry, "truncated", json_true());
    if (q[qh].fd >= 0) close(q[qh].fd);
  }
  free(q);
  if (search && *search) {
    json_t *p = prune(top, search);
    json_decref(top);
    return p;
  }
  return top;
}
