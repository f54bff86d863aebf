/* Buckets for object volumes: a cluster's registered buckets, on one machine either local
 * directories standing in for them (--bucket NAME=DIR) or real S3 buckets (--bucket
 * NAME=s3:URL/BUCKET), mounted through s3fs (csrc/exec/s3fs.c). An object volume is a prefix
 * of one, mounted into the sandboxes that attach it, read-only when its access says so.
 * Sandboxes with read_write access shape what is under a prefix: nothing of theirs is ever
 * followed here (prefix directories are walked and made without following symlinks, and the
 * launcher mounts them the same way). A writable local bucket must be a filesystem of its own,
 * which bounds what sandboxes can write there: on its parent's filesystem they could fill the
 * host's disk. An S3 bucket's bound is its service's; s3fs stages what it uploads in a tmpfs
 * of its own.
 *
 * An S3 bucket's FUSE connection is opened and mounted here, as root, in the server's own
 * mount namespace (so that it goes with the server, crash or not), at STATE/buckets/NAME; s3fs
 * only serves it, as a uid of its own without any capability. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include "server.h"
#include "proc.h"
#include "supervise.h"
#include "uidrange.h"
#include "voldisk.h"
#include "launch_flags.h"
#include "buckets.h"

/* what an S3 bucket is, from its --bucket; NULL url: a local directory */
static struct {
  char *url, *bucket; /* the endpoint (scheme://host[:port]) and the bucket's name there */
  pid_t helper;       /* its s3fs, once started */
} s3[16];

/* s3:http[s]://HOST[:PORT]/BUCKET */
static int s3_parse(const char *v, int b) {
  const char *u = v + 3;
  if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) return -1;
  const char *host = strstr(u, "//") + 2, *slash = strchr(host, '/');
  if (!slash || slash == host || !slash[1] || strchr(slash + 1, '/')) return -1;
  size_t bn = strlen(slash + 1);
  if (bn < 3 || bn > 63 || strspn(slash + 1, "abcdefghijklmnopqrstuvwxyz0123456789.-") != bn) return -1;
  s3[b].url = strndup(u, (size_t)(slash - u));
  s3[b].bucket = strdup(slash + 1);
  return s3[b].url && s3[b].bucket ? 0 : -1;
}

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
  for (int i = 0; i < cfg.nbuckets; i++)
    if (strlen(cfg.buckets[i].name) == (size_t)(eq - arg) && !strncmp(cfg.buckets[i].name, arg, (size_t)(eq - arg))) {
      fprintf(stderr, "porter-sandboxd: --bucket %s is given twice\n", cfg.buckets[i].name);
      return -1;
    }
  if (!strncmp(dir, "s3:", 3)) {
    if (s3_parse(dir, cfg.nbuckets) != 0) {
      fprintf(stderr, "porter-sandboxd: --bucket %.*s: '%s' is not s3:http[s]://HOST[:PORT]/BUCKET (a bucket's name: "
              "3 to 63 lowercase letters, digits, '.' and '-')\n", (int)(eq - arg), arg, dir);
      return -1;
    }
    if (!getenv("AWS_ACCESS_KEY_ID") || !getenv("AWS_SECRET_ACCESS_KEY")) {
      fprintf(stderr, "porter-sandboxd: --bucket %.*s: an S3 bucket's credentials come from AWS_ACCESS_KEY_ID and "
              "AWS_SECRET_ACCESS_KEY in the server's environment, and one is not set\n", (int)(eq - arg), arg);
      return -1;
    }
    cfg.buckets[cfg.nbuckets].name = strndup(arg, (size_t)(eq - arg));
    cfg.buckets[cfg.nbuckets].path = NULL; /* STATE/buckets/NAME, once mounted (buckets_start) */
    cfg.bucket_ro[cfg.nbuckets++] = ro;
    return 0;
  }
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
  if (!cfg.buckets[b].path) return 0; /* an S3 bucket that is not mounted */
  return cfg.bucket_ro[b] || (stat(cfg.buckets[b].path, &st) == 0 && st.st_dev == cfg.bucket_dev[b]);
}

/* kills an s3fs that has not answered its mount's first request in time */
static void *deadline(void *arg) {
  pid_t pid = (pid_t)(long)arg;
  sleep(30);
  kill(pid, SIGKILL);
  return NULL;
}

static void *reap(void *arg) {
  int b = (int)(long)arg;
  int code = proc_wait(s3[b].helper);
  fprintf(stderr, "porter-sandboxd: s3fs for bucket %s ended (%d): its volumes take no new mount\n", cfg.buckets[b].name,
          code);
  return NULL;
}

static int s3_mount(int b, char *why, size_t wn) {
  char dir[4200], opts[160], uid[24], helper[4096];
  if (pathf(dir, sizeof dir, "%s/buckets", cfg.state_dir) != 0 || (mkdir(dir, 0700) != 0 && errno != EEXIST) ||
      pathf(dir, sizeof dir, "%s/buckets/%s", cfg.state_dir, cfg.buckets[b].name) != 0 ||
      (mkdir(dir, 0700) != 0 && errno != EEXIST))
    return snprintf(why, wn, "cannot make its mount point: %s", strerror(errno)), -1;
  int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) return snprintf(why, wn, "cannot open /dev/fuse: %s", strerror(errno)), -1;
  snprintf(opts, sizeof opts, "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", fd);
  if (mount(cfg.buckets[b].name, dir, "fuse.s3fs", MS_NOSUID | MS_NODEV | (cfg.bucket_ro[b] ? MS_RDONLY : 0), opts) != 0) {
    close(fd);
    return snprintf(why, wn, "cannot mount its FUSE connection: %s", strerror(errno)), -1;
  }
  snprintf(uid, sizeof uid, "%lu", uidrange_helper(b));
  char key[512], secret[512];
  snprintf(key, sizeof key, "AWS_ACCESS_KEY_ID=%s", getenv("AWS_ACCESS_KEY_ID"));
  snprintf(secret, sizeof secret, "AWS_SECRET_ACCESS_KEY=%s", getenv("AWS_SECRET_ACCESS_KEY"));
  char *env[] = {key, secret, "PATH=/usr/bin:/bin", NULL};
  char *argv[] = {(char *)helper_path("porter-sandbox-exec", helper, sizeof helper), "--s3fs", uid, s3[b].url,
                  s3[b].bucket, cfg.bucket_ro[b] ? LF_BUCKET_RO : LF_BUCKET_RW, NULL};
  s3[b].helper = supervise_spawn(argv, env, 2, 2, &fd, 1);
  close(fd); /* s3fs's now; the connection ends when it does */
  if (s3[b].helper < 0) {
    umount2(dir, MNT_DETACH);
    return snprintf(why, wn, "cannot start s3fs"), -1;
  }
  pthread_t t;
  pthread_create(&t, NULL, deadline, (void *)(long)s3[b].helper);
  pthread_detach(t);
  /* its first answer: the bucket listed, or the connection gone with s3fs (wrong credentials,
   * no such bucket, no service) */
  struct stat st;
  int up = stat(dir, &st) == 0;
  pthread_cancel(t);
  if (!up) {
    kill(s3[b].helper, SIGKILL);
    proc_wait(s3[b].helper);
    umount2(dir, MNT_DETACH);
    return snprintf(why, wn, "s3fs did not serve it (%s; its own words are above)", strerror(errno)), -1;
  }
  cfg.buckets[b].path = strdup(dir);
  cfg.bucket_dev[b] = st.st_dev;
  pthread_create(&t, NULL, reap, (void *)(long)b);
  pthread_detach(t);
  return 0;
}

int buckets_start(void) {
  for (int b = 0; b < cfg.nbuckets; b++) {
    if (!s3[b].url) continue;
    char why[300];
    /* a mount in the host's namespace would outlive the server and its s3fs */
    if (!voldisk_own_mounts()) {
      fprintf(stderr, "porter-sandboxd: --bucket %s: an S3 bucket is mounted in the server's own mount namespace, and "
              "there is none here (no loop devices or no unshare: see above)\n", cfg.buckets[b].name);
      return -1;
    }
    if (s3_mount(b, why, sizeof why) != 0) {
      fprintf(stderr, "porter-sandboxd: --bucket %s (%s/%s): %s\n", cfg.buckets[b].name, s3[b].url, s3[b].bucket, why);
      return -1;
    }
  }
  return 0;
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

int bucket_volume_dir(const char *object_json, char *out, size_t n, int *read_only, int *fuse, char *why, size_t wn) {
  json_t *o = json_loads(object_json ? object_json : "", 0, NULL);
  const char *name = json_string_value(json_object_get(o, "bucket"));
  int b = bucket_find(name);
  const char *prefix = json_string_value(json_object_get(o, "prefix"));
  const char *access = json_string_value(json_object_get(o, "access"));
  int rc = -1;
  if (b < 0) {
    snprintf(why, wn, "its bucket '%s' is not registered with this server (--bucket)", name ? name : "");
  } else {
    snprintf(out, n, "%s%s%s", cfg.buckets[b].path ? cfg.buckets[b].path : "", prefix && *prefix ? "/" : "",
             prefix ? prefix : "");
    *read_only = cfg.bucket_ro[b] || (access && !strcmp(access, "read_only"));
    *fuse = s3[b].url != NULL;
    if (*fuse && !cfg.buckets[b].path) snprintf(why, wn, "its bucket '%s' is not mounted", name);
    else if (*read_only || bucket_bounded(b)) rc = 0;
    else snprintf(why, wn, "its bucket '%s' %s", name, k_unbounded);
  }
  json_decref(o);
  return rc;
}
