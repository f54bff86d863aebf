/* porter-sandbox-unpack: applies an image's layers to a new root directory. See main.c. */
#ifndef UNPACK_H
#define UNPACK_H

#include <stddef.h>
#include <sys/types.h>

/* ---- a set of paths (pathset.c): what the current layer wrote, for opaque directories ---- */
typedef struct pathset pathset;
pathset *pathset_new(void);
void pathset_free(pathset *s);
void pathset_add(pathset *s, const char *path); /* and every ancestor */
int pathset_has(const pathset *s, const char *path);

/* ---- layers (layer.c) ---- */
typedef struct unpack_ctx {
  uid_t base;          /* host uid of the sandbox's uid 0 */
  unsigned long count; /* ids the sandbox has */
  long long size;      /* bytes of regular files written */
  long long read, max; /* uncompressed bytes of the layers so far, and the bound on them */
  const char *max_why; /* what the bound is, for the error */
  char verified[4096]; /* a directory whose every component is known to be a real directory
                        * (layer.c's ensure_parents), "" for none */
  char error[1024];
} unpack_ctx;
/* Applies the tar layer (any compression) read from fd to the current root, checking that its
 * uncompressed bytes hash to diff_id (hex) and keep c->read within c->max. 0 on success. */
int layer_apply(unpack_ctx *c, int fd, int index, const char *diff_id);
/* Removes path and everything under it, never following a symlink. */
int remove_tree(const char *path);

/* ---- snapshots (pack.c) ---- */
/* layer: DIR is an overlayfs upper dir, packed as an OCI layer (see pack.c) */
int pack_main(const char *dir, uid_t base, const char *out_path, long long max, int layer);

/* ---- users (user.c) ---- */
/* Resolves an image's User ("name", "uid", "name:group", ...) against the root's /etc/passwd and
 * /etc/group, read as text (never through NSS, which would load the image's code). */
int user_resolve(const char *spec, unsigned long *uid, unsigned long *gid, char *home, size_t hn, char *why, size_t wn);

#endif
