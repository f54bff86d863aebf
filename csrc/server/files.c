/* /v1/volume/{id}/files*: listing, ranged reads, streamed atomic writes, moves. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "server.h"
#include "files.h"
#include "handlers.h"
#include "http.h"
#include "spec.h"
#include "voldisk.h"
#include "volumes.h"
#include "vfs.h"

#define MAX_DEPTH 128
#define LIST_BUDGET 1000

/* An object volume's files are its bucket's: the files API serves disk volumes only (Porter's
 * SDKs give an ObjectVolume no file methods), and the bucket is read from a sandbox mounting it. */
#define OBJECT_FILES "volume '%.64s' is an object volume: its files live in its bucket, read and written by the sandboxes that mount it"

static int open_root(const char *id) {
  char dir[4200];
  if (!voldisk_ready(id)) {
    errno = EIO;
    return -1;
  }
  volume_data_dir(id, dir, sizeof dir);
  return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* a volume that is full (its filesystem is --volume-size bytes) answers 507, the rest 500 */
static unsigned storage_status(int e) { return e == ENOSPC || e == EDQUOT ? 507 : 500; }

/* errno of a confined walk -> answer */
static enum MHD_Result walk_error(struct MHD_Connection *c, const char *path) {
  if (errno == ELOOP || errno == ENOTDIR)
    return reply_error(c, errno == ELOOP ? 400 : 404,
                       errno == ELOOP ? "path '%s' goes through a symlink (not allowed)" : "'%s' is not a directory",
                       path);
  if (errno == ENOENT) return reply_error(c, 404, "no such file or directory: '%s'", path);
  return reply_error(c, 500, "cannot open '%s': %s", path, strerror(errno));
}

static void normalise(char comps[][256], int n, char *out, size_t on) {
  size_t o = 0;
  out[0] = '\0';
  for (int i = 0; i < n && o < on; i++) o += (size_t)snprintf(out + o, on - o, "/%s", comps[i]);
  if (!n) snprintf(out, on, "/");
}

enum MHD_Result h_files_list(struct MHD_Connection *c, req *r) {
  int kind = volume_kind(r->params[0]);
  if (kind == VOLUME_NONE) return reply_error(c, 404, "no volume '%s'", r->params[0]);
  if (kind == VOLUME_OBJECT) return reply_error(c, 409, OBJECT_FILES, r->params[0]);
  const char *path = query_arg(c, "path");
  if (!path) path = "/";
  char comps[MAX_DEPTH][256], why[512], norm[8192];
  int n;
  if (vfs_split(path, comps, MAX_DEPTH, &n, why, sizeof why)) return reply_error(c, 400, "%s", why);
  int root = open_root(r->params[0]);
  if (root < 0)
    return reply_error(c, 500, errno == EIO ? "the volume's filesystem cannot be mounted (the server's log says why)"
                                            : "the volume's directory is missing");
  int dir = vfs_open_dir(root, comps, n, 0);
  close(root);
  if (dir < 0) return walk_error(c, path);
  int truncated;
  const char *search = query_arg(c, "search");
  json_t *entries = vfs_list(dir, search, search && *search ? LIST_BUDGET * 10 : LIST_BUDGET, &truncated);
  close(dir);
  if (!entries) return reply_error(c, 500, "out of memory listing '%s'", path);
  normalise(comps, n, norm, sizeof norm);
  return reply_json(c, 200, json_pack("{sssosb}", "path", norm, "entries", entries, "truncated", truncated));
}

/* Opens the file at path read-only, confined; -1 with an answer already sent. */
static int open_file(struct MHD_Connection *c, const char *id, const char *path, enum MHD_Result *sent) {
  char comps[MAX_DEPTH][256], why[512];
  int n;
  if (vfs_split(path, comps, MAX_DEPTH, &n, why, sizeof why)) {
    *sent = reply_error(c, 400, "%s", why);
    return -1;
  }
  if (n == 0) {
    *sent = reply_error(c, 400, "'/' is a directory");
    return -1;
  }
  int root = open_root(id);
  int dir = root >= 0 ? vfs_open_dir(root, comps, n - 1, 0) : -1;
  if (root >= 0) close(root);
  if (dir < 0) {
    *sent = walk_error(c, path);
    return -1;
  }
  /* O_NONBLOCK: a FIFO a sandbox left here must not hold this thread; the caller checks the
   * type on the descriptor itself */
  int fd = openat(dir, comps[n - 1], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  int saved = errno;
  close(dir);
  errno = saved;
  if (fd < 0) {
    *sent = walk_error(c, path);
    return -1;
  }
  return fd;
}

enum MHD_Result h_files_read(struct MHD_Connection *c, req *r) {
  int kind = volume_kind(r->params[0]);
  if (kind == VOLUME_NONE) return reply_error(c, 404, "no volume '%s'", r->params[0]);
  if (kind == VOLUME_OBJECT) return reply_error(c, 409, OBJECT_FILES, r->params[0]);
  const char *path = query_arg(c, "path");
  if (!path || !*path) return reply_error(c, 400, "'path' is required");
  enum MHD_Result sent;
  int fd = open_file(c, r->params[0], path, &sent);
  if (fd < 0) return sent;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return reply_error(c, 400, "'%s' is not a regular file", path);
  }
  uint64_t size = (uint64_t)st.st_size, start = 0, len = size;
  unsigned status = 200;
  char crange[96] = "";
  const char *rh = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
  if (rh && size > 0) {
    int why = range_parse(rh, size, &start, &len);
    if (why == RANGE_UNSUPPORTED || why == RANGE_MALFORMED) {
      close(fd);
      return reply_error(c, 416, why == RANGE_MALFORMED ? "malformed Range header"
                                                        : "only a single range 'bytes=START-END' or 'bytes=START-' is supported");
    }
    if (why == RANGE_OUTSIDE) {
      close(fd);
      snprintf(crange, sizeof crange, "bytes */%llu", (unsigned long long)size);
      json_t *o = json_pack("{ss}", "error", "the range is outside the file");
      char *s = json_dumps(o, JSON_COMPACT);
      json_decref(o);
      struct MHD_Response *res = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
      MHD_add_response_header(res, "Content-Type", "application/json");
      MHD_add_response_header(res, "Content-Range", crange);
      enum MHD_Result ret = MHD_queue_response(c, 416, res);
      MHD_destroy_response(res);
      return ret;
    }
    status = 206;
    snprintf(crange, sizeof crange, "bytes %llu-%llu/%llu", (unsigned long long)start,
             (unsigned long long)(start + len - 1), (unsigned long long)size);
  }
  struct MHD_Response *res = len ? MHD_create_response_from_fd_at_offset64(len, fd, start)
                                 : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  if (!len) close(fd);
  char lm[64];
  struct tm tm;
  gmtime_r(&st.st_mtime, &tm);
  strftime(lm, sizeof lm, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  MHD_add_response_header(res, "Content-Type", "application/octet-stream");
  MHD_add_response_header(res, "Last-Modified", lm);
  if (crange[0]) MHD_add_response_header(res, "Content-Range", crange);
  enum MHD_Result ret = MHD_queue_response(c, status, res);
  MHD_destroy_response(res);
  return ret;
}

/* ---- PUT: streamed to a temp file beside the target, renamed into place at the end ---- */
/* an upload in progress: the route's context of its request (req.route_ctx) */
typedef struct upload {
  int fd, dirfd;
  char tmp[300], name[256];
  unsigned status; /* an error found before or during the upload */
  char error[512];
} upload;

void files_write_begin(struct MHD_Connection *c, req *r) {
  upload *u = calloc(1, sizeof *u);
  r->route_ctx = u;
  if (!u) return; /* h_files_write answers 500 */
  u->fd = u->dirfd = -1;
  const char *path = query_arg(c, "path");
  char comps[MAX_DEPTH][256];
  int n;
  int kind = volume_kind(r->params[0]);
  if (kind == VOLUME_NONE) {
    u->status = 404;
    snprintf(u->error, sizeof u->error, "no volume '%s'", r->params[0]);
    return;
  }
  if (kind == VOLUME_OBJECT) {
    u->status = 409;
    snprintf(u->error, sizeof u->error, OBJECT_FILES, r->params[0]);
    return;
  }
  if (!path || !*path) {
    u->status = 400;
    snprintf(u->error, sizeof u->error, "'path' is required");
    return;
  }
  if (vfs_split(path, comps, MAX_DEPTH, &n, u->error, sizeof u->error)) {
    u->status = 400;
    return;
  }
  if (n == 0) {
    u->status = 400;
    snprintf(u->error, sizeof u->error, "'/' is a directory");
    return;
  }
  int root = open_root(r->params[0]);
  u->dirfd = root >= 0 ? vfs_open_dir(root, comps, n - 1, 1) : -1;
  if (root >= 0) close(root);
  if (u->dirfd < 0) {
    u->status = errno == ELOOP ? 400 : errno == ENOTDIR ? 409 : storage_status(errno);
    snprintf(u->error, sizeof u->error, "cannot write '%s': %s", path,
             errno == ELOOP ? "the path goes through a symlink" : strerror(errno));
    return;
  }
  snprintf(u->name, sizeof u->name, "%s", comps[n - 1]);
  /* an unnamed file until it is whole: a server killed mid-upload leaves nothing on disk */
  u->fd = openat(u->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  u->tmp[0] = '\0';
  for (int i = 0; i < 100 && u->fd < 0; i++) {
    new_id(".porter-upload", u->tmp, sizeof u->tmp);
    u->fd = openat(u->dirfd, u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  }
  /* what the files API writes, a sandbox's root may change, and the other way round */
  if (u->fd >= 0) fchown(u->fd, (uid_t)cfg.uid_base, (gid_t)cfg.uid_base);
  if (u->fd < 0) {
    u->status = storage_status(errno);
    snprintf(u->error, sizeof u->error, "cannot create a temporary file: %s", strerror(errno));
  }
}

void files_write_chunk(req *r, const char *data, size_t n) {
  upload *u = r->route_ctx;
  if (!u || u->fd < 0 || u->status) return;
  while (n) {
    ssize_t w = write(u->fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      u->status = storage_status(errno);
      snprintf(u->error, sizeof u->error, "write failed: %s", strerror(errno));
      return;
    }
    data += w, n -= (size_t)w;
  }
}

/* the route's cleanup, whatever became of the request: an unfinished upload leaves nothing */
void files_write_end(req *r) {
  upload *u = r->route_ctx;
  if (!u) return;
  if (u->fd >= 0) {
    close(u->fd);
    if (u->tmp[0]) unlinkat(u->dirfd, u->tmp, 0);
    u->fd = -1;
  }
  if (u->dirfd >= 0) close(u->dirfd);
  free(u);
  r->route_ctx = NULL;
}

enum MHD_Result h_files_write(struct MHD_Connection *c, req *r) {
  upload *u = r->route_ctx;
  if (!u) return reply_error(c, 500, "out of memory");
  if (u->status) return reply_error(c, u->status, "%s", u->error);
  int named = u->tmp[0] != '\0';
  if (!named) { /* give the unnamed file a temporary name, to rename over the target */
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", u->fd);
    for (int i = 0; i < 100 && !named; i++) {
      new_id(".porter-upload", u->tmp, sizeof u->tmp);
      named = linkat(AT_FDCWD, self, u->dirfd, u->tmp, AT_SYMLINK_FOLLOW) == 0;
    }
    if (!named) return reply_error(c, storage_status(errno), "could not store the file: %s", strerror(errno));
  }
  /* the data written out now, so that blocks allocated late (a full volume) say so here and the
   * name below never reaches the disk ahead of it; durable once the flush after the rename is */
  int e = sync_file_range(u->fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0
              ? errno
              : 0;
  if (close(u->fd) != 0 && !e) e = errno;
  u->fd = -1;
  if (e) {
    unlinkat(u->dirfd, u->tmp, 0);
    return reply_error(c, storage_status(e), "could not store the file: %s", strerror(e));
  }
  struct stat st;
  if (fstatat(u->dirfd, u->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
    unlinkat(u->dirfd, u->tmp, 0);
    return reply_error(c, 409, "'%s' is a directory", u->name);
  }
  if (renameat(u->dirfd, u->tmp, u->dirfd, u->name) != 0) {
    e = errno;
    unlinkat(u->dirfd, u->tmp, 0);
    return reply_error(c, storage_status(e), "could not store the file: %s", strerror(e));
  }
  /* acknowledged once durable, data and name: the directory's fsync commits the volume's journal,
   * whose commit writers to the same volume at the same time share (ext4's group commit; one
   * syncfs shared among them by the server was measured slower) */
  if ((e = fsync(u->dirfd) != 0 ? errno : 0) != 0)
    return reply_error(c, storage_status(e), "could not make the file durable: %s", strerror(e));
  return reply_empty(c, 204);
}

/* ---- move ---- */
enum MHD_Result h_files_move(struct MHD_Connection *c, req *r) {
  int kind = volume_kind(r->params[0]);
  if (kind == VOLUME_NONE) return reply_error(c, 404, "no volume '%s'", r->params[0]);
  if (kind == VOLUME_OBJECT) return reply_error(c, 409, OBJECT_FILES, r->params[0]);
  enum MHD_Result sent;
  json_t *body = body_object(c, r, &sent);
  if (!body) return sent;
  const char *from = json_string_value(json_object_get(body, "from"));
  const char *to = json_string_value(json_object_get(body, "to"));
  static __thread char fc[MAX_DEPTH][256], tc[MAX_DEPTH][256];
  int fn, tn;
  char why[512];
  if (vfs_split(from, fc, MAX_DEPTH, &fn, why, sizeof why) || vfs_split(to, tc, MAX_DEPTH, &tn, why, sizeof why)) {
    json_decref(body);
    return reply_error(c, 400, "%s", why);
  }
  if (fn == 0 || tn == 0) {
    json_decref(body);
    return reply_error(c, 400, "cannot move the volume's root");
  }
  int prefix = tn > fn;
  for (int i = 0; prefix && i < fn; i++)
    if (strcmp(fc[i], tc[i])) prefix = 0;
  if (prefix) {
    enum MHD_Result ret = reply_error(c, 400, "cannot move '%s' into itself", from); /* from lives in body */
    json_decref(body);
    return ret;
  }
  int root = open_root(r->params[0]);
  int fdir = root >= 0 ? vfs_open_dir(root, fc, fn - 1, 0) : -1;
  if (fdir < 0) {
    enum MHD_Result ret = walk_error(c, from);
    if (root >= 0) close(root);
    json_decref(body);
    return ret;
  }
  int tdir = vfs_open_dir(root, tc, tn - 1, 0);
  close(root);
  if (tdir < 0) {
    int e = errno;
    close(fdir);
    errno = e;
    enum MHD_Result ret = e == ENOENT ? reply_error(c, 404, "the parent of '%s' does not exist", to) : walk_error(c, to);
    json_decref(body);
    return ret;
  }
  struct stat st;
  enum MHD_Result ret;
  if (fstatat(fdir, fc[fn - 1], &st, AT_SYMLINK_NOFOLLOW) != 0) {
    ret = reply_error(c, 404, "no such file or directory: '%s'", from);
  } else if (renameat2(fdir, fc[fn - 1], tdir, tc[tn - 1], RENAME_NOREPLACE) != 0) {
    ret = errno == EEXIST ? reply_error(c, 409, "'%s' exists; nothing moved", to)
                          : reply_error(c, 500, "could not move: %s", strerror(errno));
  } else {
    ret = reply_empty(c, 204);
  }
  close(fdir);
  close(tdir);
  json_decref(body);
  return ret;
}
