/* Buckets for object volumes: on one machine, local directories standing in for a cluster's
 * registered buckets (--bucket NAME=DIR). An object volume is a prefix of one, mounted into the
 * sandboxes that attach it, read-only when its access says so. Sandboxes with read_write access
 * shape what is under a prefix: nothing of theirs is ever followed here (prefix directories are
 * walked and made without following symlinks, and the launcher mounts them the same way).
 * A writable bucket must be a filesystem of its own, which bounds what sandboxes can write
 * there: on its parent's filesystem they could fill the host's disk. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "server.h"
#include "buckets.h"

int bucket_register(const char *arg) {
  const char *eq = strchr(arg, '=');
  if (!eq || eq == arg || !eq[1]) {
    fprintf(stderr, "porter-sandboxd: --bucket wants NAME=DIR[,read_only] (got '%s')\n", arg);
    return -1;
  }
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", eq + 1);
  int ro = 0;
  char *comma = strrchr(dir, ',');
  if (comma && !strcmp(comma, ",read_only")) *comma = '\0', ro = 1;
  char real[PATH_MAX];
  struct stat st;
  if (!realpath(dir, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "porter-sandboxd: --bucket %.*s: %s is not a directory\n", (int)(eq - arg), arg, dir);
    return -1;
  }
  /* what sandboxes write there (a setuid file of the sandboxes' ids, say) must be out of the
   * reach of the machine's other users, as the volumes' filesystems are */
  if (st.st_mode & 077) {
    fprintf(stderr, "porter-sandboxd: --bucket %.*s: %s must be root's alone (chmod 700 it): sandboxes write there\n",
            (int)(eq - arg), arg, real);
    return -1;
  }
  if (!ro && !is_mount_point(real)) {
    fprintf(stderr,
            "porter-sandboxd: --bucket %.*s: %s is on its parent's filesystem, so sandboxes writing there could "
            "fill it: give the bucket a filesystem of its own, which is its size bound (a tmpfs with size=, or a "
            "loop-mounted image), or register it ',read_only'\n",
            (int)(eq - arg), arg, real);
    return -1;
  }
  for (int i = 0; i < cfg.nbuckets; i++)
    if (strlen(cfg.buckets[i].name) == (size_t)(eq - arg) && !strncmp(cfg.buckets[i].name, arg, (size_t)(eq - arg))) {
      fprintf(stderr, "porter-sandboxd: --bucket %s is given twice\n", cfg.buckets[i].name);
      return -1;
    }
  cfg.buckets[cfg.nbuckets].name = strndup(arg, (size_t)(eq - arg));
  cfg.buckets[cfg.nbuckets].path = strdup(real);
  cfg.bucket_dev[cfg.nbuckets] = st.st_dev;
  cfg.bucket_ro[cfg.nbuckets++] = ro;
  return 0;
}

static int bucket_find(const char *name) {
  for (int i = 0; name && i < cfg.nbuckets; i++)
    if (!strcmp(cfg.buckets[i].name, name)) return i;
  return -1;
}

/* A writable bucket's bound is the filesystem it was registered on: if that was unmounted
 * since, its directory is on its parent's again, and nothing may be written there. */
static int bucket_bounded(int b) {
  struct stat st;
  return cfg.bucket_ro[b] || (stat(cfg.buckets[b].path, &st) == 0 && st.st_dev == cfg.bucket_dev[b]);
}

static const char k_unbounded[] = "is no longer on the filesystem it was registered on (was it unmounted?), which bounds it";

/* A prefix as S3 keys have one: '/'-separated names, none empty, '.' or '..', no '/' at
 * either end. */
static int prefix_ok(const char *p) {
  if (strlen(p) > 1024 || *p == '/') return 0;
  for (const char *s = p; *s;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (!n || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
    if (!e) break;
    s = e + 1;
    if (!*s) return 0;
  }
  return 1;
}

/* Makes DIR/prefix, a component at a time, never through a symlink; the last one is made the
 * sandboxes' root's (their files there are theirs to write). */
static int make_prefix(const char *root, const char *prefix, char *why, size_t wn) {
  int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return snprintf(why, wn, "cannot open the bucket's directory: %s", strerror(errno)), -1;
  char buf[1100];
  snprintf(buf, sizeof buf, "%s", prefix);
  char *save = NULL;
  for (char *c = *buf ? strtok_r(buf, "/", &save) : NULL; c; c = strtok_r(NULL, "/", &save)) {
    if (mkdirat(fd, c, 0755) != 0 && errno != EEXIST) {
      close(fd);
      return snprintf(why, wn, "cannot make the prefix's directory: %s", strerror(errno)), -1;
    }
    int next = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(fd);
    if (next < 0) return snprintf(why, wn, "the prefix's '%s' is not a directory in the bucket", c), -1;
    fd = next;
  }
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
  int rc = chown(self, (uid_t)cfg.uid_base, (gid_t)cfg.uid_base);
  close(fd);
  if (rc != 0) return snprintf(why, wn, "cannot hand the prefix's directory to the sandboxes: %s", strerror(errno)), -1;
  return 0;
}

const char *bucket_volume_prepare(json_t *object, char *buf, size_t n) {
  if (!json_is_object(object)) return "'object' is required for a volume of type object ({bucket, prefix, access})";
  const char *bucket = json_string_value(json_object_get(object, "bucket"));
  const char *prefix = json_string_value(json_object_get(object, "prefix"));
  const char *access = json_string_value(json_object_get(object, "access"));
  int b = bucket_find(bucket);
  if (b < 0) {
    snprintf(buf, n, "no bucket '%.80s' is registered with this server (porter-sandboxd --bucket NAME=DIR)", bucket ? bucket : "");
    return buf;
  }
  if (prefix && !prefix_ok(prefix))
    return "'object.prefix' must be '/'-separated names without '.' or '..', and no '/' at either end";
  if (access && !strcmp(access, "write_only_new_files"))
    return "'object.access' write_only_new_files cannot be enforced by porter-sandboxd on a directory: use "
           "read_only or read_write";
  if (cfg.bucket_ro[b] && (!access || strcmp(access, "read_only"))) {
    snprintf(buf, n, "bucket '%s' is registered read_only: it takes read_only volumes only ('object.access')", bucket);
    return buf;
  }
  if (!bucket_bounded(b)) {
    snprintf(buf, n, "bucket '%s' %s", bucket, k_unbounded);
    return buf;
  }
  char why[256];
  if (make_prefix(cfg.buckets[b].path, prefix ? prefix : "", why, sizeof why) != 0) {
    snprintf(buf, n, "bucket '%s': %s", bucket, why);
    return buf;
  }
  return NULL;
}

int bucket_volume_dir(const char *object_json, char *out, size_t n, int *read_only, char *why, size_t wn) {
  json_t *o = json_loads(object_json ? object_json : "", 0, NULL);
  const char *name = json_string_value(json_object_get(o, "bucket"));
  int b = bucket_find(name);
  const char *prefix = json_string_value(json_object_get(o, "prefix"));
  const char *access = json_string_value(json_object_get(o, "access"));
  int rc = -1;
  if (b < 0) {
    snprintf(why, wn, "its bucket '%s' is not registered with this server (--bucket)", name ? name : "");
  } else {
    snprintf(out, n, "%s%s%s", cfg.buckets[b].path, prefix && *prefix ? "/" : "", prefix ? prefix : "");
    *read_only = cfg.bucket_ro[b] || (access && !strcmp(access, "read_only"));
    if (*read_only || bucket_bounded(b)) rc = 0;
    else snprintf(why, wn, "its bucket '%s' %s", name, k_unbounded);
  }
  json_decref(o);
  return rc;
}
