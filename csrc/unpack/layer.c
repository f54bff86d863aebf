/* One OCI layer onto the root, the way containerd applies one: whiteouts (.wh.NAME) remove
 * what lower layers put there, an opaque marker (.wh..wh..opq) empties its directory of lower
 * layers' entries, later entries replace earlier ones. What a hostile layer may try is refused
 * with an error naming the entry: "..", absolute names (and hard links to them), writing
 * through a symlink, device nodes, ids beyond the sandbox's range. We run chrooted into the
 * new root besides, so a mistake here cannot reach the host. */
#define _XOPEN_SOURCE 700
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "sha256.h"
#include "unpack.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st, (void)ftw;
  return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
  if (!S_ISDIR(st.st_mode)) return unlink(path);
  return nftw(path, remove_one, 64, FTW_DEPTH | FTW_PHYS);
}

/* "./a/b/" -> "a/b"; NULL for a name that leaves the root or is absolute. */
static const char *clean(const char *in, char *out, size_t n) {
  while (in[0] == '.' && in[1] == '/') in += 2;
  if (in[0] == '/') return NULL;
  size_t len = strlen(in);
  if (len >= n) return NULL;
  memcpy(out, in, len + 1);
  while (len > 0 && out[len - 1] == '/') out[--len] = '\0';
  for (char *p = out; *p;) {
    char *slash = strchr(p, '/');
    size_t cl = slash ? (size_t)(slash - p) : strlen(p);
    if ((cl == 2 && p[0] == '.' && p[1] == '.')) return NULL;
    p += cl + (slash ? 1 : 0);
  }
  return out;
}

static int fail(unpack_ctx *c, int layer, const char *name, const char *what) {
  snprintf(c->error, sizeof c->error, "layer %d: %s: %s", layer, name, what);
  return -1;
}

/* whether a is b or one of b's ancestors */
static int covers(const char *a, const char *b) {
  size_t n = strlen(a);
  return *b && !strncmp(a, b, n) && (b[n] == '\0' || b[n] == '/');
}

/* Parent directories a layer did not list are made as the sandbox's root's. Tar entries come
 * parent first: the last directory found sound (c->verified) covers the next entry's parents
 * most of the time, so a deep tree costs one check per entry, not one per component per entry
 * (a snapshot 1,500 levels deep took minutes). */
static int ensure_parents(unpack_ctx *c, char *path) {
  char *last = strrchr(path, '/');
  if (!last) return 0;
  *last = '\0';
  int known = covers(path, c->verified);
  *last = '/';
  if (known) return 0;
  /* below the directory checked last (a deep tree comes parent first): only the components
   * past it, or a tree N deep would cost N walks of up to N components each */
  size_t vn = strlen(c->verified);
  char *from = vn && !strncmp(path, c->verified, vn) && path[vn] == '/' ? path + vn : path;
  for (char *p = strchr(from, '/'); p; p = strchr(p + 1, '/')) {
    *p = '\0';
    struct stat st;
    int rc = 0;
    if (lstat(path, &st) != 0) {
      rc = mkdir(path, 0755) == 0 && lchown(path, c->base, c->base) == 0 ? 0 : -1;
    } else if (S_ISLNK(st.st_mode)) {
      errno = ELOOP; /* writing through a symlink */
      rc = -1;
    } else if (!S_ISDIR(st.st_mode)) {
      errno = ENOTDIR;
      rc = -1;
    }
    *p = '/';
    if (rc != 0) return -1;
  }
  snprintf(c->verified, sizeof c->verified, "%.*s", (int)(last - path), path);
  return 0;
}

static int opaque(const char *dir, const pathset *written) {
  DIR *d = opendir(*dir ? dir : ".");
  if (!d) return errno == ENOENT ? 0 : -1;
  struct dirent *e;
  char path[8192];
  int rc = 0;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s%s%s", dir, *dir ? "/" : "", e->d_name);
    if (!pathset_has(written, path) && remove_tree(path) != 0) rc = -1;
  }
  closedir(d);
  return rc;
}

static int entry(unpack_ctx *c, int layer, struct archive *w, struct archive *a, struct archive_entry *e, pathset *written) {
  char name[4096], target[4096];
  const char *raw = archive_entry_pathname(e);
  if (!raw) return fail(c, layer, "(unnamed entry)", "has no name");
  const char *path = clean(raw, name, sizeof name);
  if (!path) return fail(c, layer, raw, "absolute or '..' names are refused");
  if (!*path) return 0; /* the root itself */
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char dir[4096];
  snprintf(dir, sizeof dir, "%.*s", (int)(base - path > 0 ? base - path - 1 : 0), path);
  if (ensure_parents(c, name) != 0) return fail(c, layer, raw, "its directory is a symlink or a file");
  /* what replaces a checked directory, or removes things, may make it something else */
  if (archive_entry_filetype(e) != AE_IFDIR && covers(path, c->verified)) c->verified[0] = '\0';

  mode_t type = archive_entry_filetype(e);
  int whiteout_dev = type == AE_IFCHR && archive_entry_rdevmajor(e) == 0 && archive_entry_rdevminor(e) == 0;
  if (!strcmp(base, WH_OPAQUE) || !strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) || whiteout_dev) c->verified[0] = '\0';
  if (!strcmp(base, WH_OPAQUE)) return opaque(dir, written) == 0 ? 0 : fail(c, layer, raw, strerror(errno));
  if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) || whiteout_dev) {
    if (!strncmp(base, WH_PREFIX WH_PREFIX, 2 * strlen(WH_PREFIX))) return 0; /* aufs metadata */
    char victim[8192];
    snprintf(victim, sizeof victim, "%s%s%s", dir, *dir ? "/" : "", whiteout_dev ? base : base + strlen(WH_PREFIX));
    if (pathset_has(written, victim)) return 0;
    return remove_tree(victim) == 0 ? 0 : fail(c, layer, raw, strerror(errno));
  }
  if (type == AE_IFCHR || type == AE_IFBLK) return fail(c, layer, raw, "device nodes are refused");
  if (type == AE_IFSOCK) return 0;

  const char *link = archive_entry_hardlink(e);
  if (link) {
    const char *t = clean(link, target, sizeof target);
    if (!t || !*t) return fail(c, layer, raw, "hard link to an absolute or '..' name is refused");
    archive_entry_set_hardlink(e, t);
  }
  la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
  if (uid < 0 || gid < 0 || (unsigned long)uid >= c->count || (unsigned long)gid >= c->count)
    return fail(c, layer, raw, "owned by an id beyond the sandbox's 65536");
  archive_entry_set_uid(e, c->base + uid);
  archive_entry_set_gid(e, c->base + gid);
  archive_entry_set_uname(e, NULL);
  archive_entry_set_gname(e, NULL);
  archive_entry_set_pathname(e, path);

  /* a later layer replaces: whatever stands there goes, unless both are directories */
  struct stat st;
  if (lstat(path, &st) == 0 && !(S_ISDIR(st.st_mode) && type == AE_IFDIR) && remove_tree(path) != 0)
    return fail(c, layer, raw, strerror(errno));
  pathset_add(written, path);
  if (archive_write_header(w, e) != ARCHIVE_OK) return fail(c, layer, raw, archive_error_string(w));
  if (type == AE_IFREG && !link) c->size += archive_entry_size(e);
  const void *buf;
  size_t n;
  la_int64_t off;
  int r;
  while ((r = archive_read_data_block(a, &buf, &n, &off)) == ARCHIVE_OK)
    if (archive_write_data_block(w, buf, n, off) != ARCHIVE_OK) return fail(c, layer, raw, archive_error_string(w));
  if (r != ARCHIVE_EOF) return fail(c, layer, raw, archive_error_string(a));
  if (archive_write_finish_entry(w) != ARCHIVE_OK) return fail(c, layer, raw, archive_error_string(w));
  return 0;
}

/* The layer's bytes as the tar reader asks for them: decompressed by the outer (raw) reader,
 * hashed for the diff_id, and counted against the image's bound. */
typedef struct layer_stream {
  unpack_ctx *c;
  struct archive *raw;
  sha256_ctx sha;
  char buf[1 << 16];
  int over; /* past c->max */
} layer_stream;

static la_ssize_t stream_read(struct archive *a, void *ud, const void **out) {
  layer_stream *s = ud;
  la_ssize_t n = archive_read_data(s->raw, s->buf, sizeof s->buf);
  if (n < 0) {
    archive_set_error(a, archive_errno(s->raw), "%s", archive_error_string(s->raw));
    return -1;
  }
  s->c->read += n;
  if (s->c->read > s->c->max) {
    s->over = 1;
    archive_set_error(a, EFBIG, "too big");
    return -1;
  }
  sha256_update(&s->sha, s->buf, (size_t)n);
  *out = s->buf;
  return n;
}

/* The rest of the stream (what follows the tar's end), hashed: the diff_id is of every byte. */
static int drain(layer_stream *s, struct archive *a) {
  const void *p;
  la_ssize_t n;
  while ((n = stream_read(a, s, &p)) > 0) {
  }
  return n == 0 ? 0 : -1;
}

int layer_apply(unpack_ctx *c, int fd, int index, const char *diff_id) {
  struct archive *raw = archive_read_new(), *a = archive_read_new(), *w = archive_write_disk_new();
  pathset *written = pathset_new();
  layer_stream *s = calloc(1, sizeof *s);
  int rc = -1;
  if (!raw || !a || !w || !written || !s) {
    snprintf(c->error, sizeof c->error, "out of memory");
    goto out;
  }
  s->c = c, s->raw = raw;
  sha256_init(&s->sha);
  /* any compression, then the bytes as they are: the tar reader below gets them through us */
  archive_read_support_filter_all(raw);
  archive_read_support_format_raw(raw);
  archive_read_support_format_tar(a);
  archive_write_disk_set_options(w, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                        ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                        ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
  struct archive_entry *e;
  if (archive_read_open_fd(raw, fd, 1 << 16) != ARCHIVE_OK || archive_read_next_header(raw, &e) != ARCHIVE_OK) {
    snprintf(c->error, sizeof c->error, "layer %d: %s", index, archive_error_string(raw));
    goto out;
  }
  if (archive_read_open(a, s, NULL, stream_read, NULL) != ARCHIVE_OK) {
    snprintf(c->error, sizeof c->error, "layer %d: %s", index, s->over ? "" : archive_error_string(a));
    goto out;
  }
  int r;
  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK)
    if (entry(c, index, w, a, e, written) != 0) goto out;
  if (r != ARCHIVE_EOF || drain(s, a) != 0) {
    snprintf(c->error, sizeof c->error, "layer %d: %s", index, archive_error_string(a));
    goto out;
  }
  char got[65];
  sha256_hex(&s->sha, got);
  if (strcmp(got, diff_id) != 0) {
    snprintf(c->error, sizeof c->error,
             "layer %d: its content (sha256:%.12s...) is not what the image's config says it is (diff_id sha256:%.12s...)",
             index, got, diff_id);
    goto out;
  }
  rc = 0;
out:
  if (s && s->over)
    snprintf(c->error, sizeof c->error, "the image unpacks to more than %lld bytes (%s)", c->max, c->max_why);
  if (w) archive_write_free(w);
  if (a) archive_read_free(a);
  if (raw) archive_read_free(raw);
  pathset_free(written);
  free(s);
  return rc;
}
