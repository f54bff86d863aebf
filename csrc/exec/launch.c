/* porter-sandbox-exec --launch: starts one sandbox.
 *
 *   --parent PID            our parent must be PID (porter-sandboxd); we die with it
 *   --status-fd N           "pid P" once the sandbox's init exists, then "ready" or "error MSG"
 *   --nofile N              the sandbox's RLIMIT_NOFILE, set first (the server raises its own
 *                           far above, for the pipes of thousands of sandboxes)
 *   --uidmap BASE COUNT     uids and gids 0..COUNT-1 of the sandbox are BASE.. on the host
 *   --idmap-from STORE      the image's root and the volumes are owned by STORE.. on disk (the
 *                           server's store): they are mounted idmapped, STORE+k shown as BASE+k,
 *                           so each sandbox has ids of its own and its files stay the store's
 *   --overlay LOWER UPPER WORK | --host-root
 *   --mnt DIR               where the root is assembled, in a mount namespace of our own
 *   --tmp DIR               bound at /tmp
 *   --seed-tmp UNPACKER TAR SHA256
 *                           the --tmp dir starts with the files of TAR (a snapshot's), unpacked
 *                           by UNPACKER (porter-sandbox-unpack --seed, chrooted into the dir, the
 *                           owners shifted to --uidmap's), checked against SHA256, before the
 *                           command runs
 *   --seed-root UNPACKER TAR SHA256
 *                           the same for the root: TAR is a snapshot's layer (what its sandbox
 *                           changed in the image), applied over the --overlay root, so that its
 *                           writes land in this sandbox's writable layer
 *   --scratch DIR BYTES     a tmpfs of BYTES mounted at DIR first, in our mount namespace only:
 *                           the --overlay upper and work dirs and the --tmp dir, made in it, so
 *                           that what the sandbox writes outside its volumes is bounded and
 *                           vanishes with the sandbox (even if the server is killed)
 *   --bind SRC DST          a volume (repeatable)
 *   --bind-bucket SRC DST ro|rw
 *                           an object volume's directory (repeatable), never through a symlink
 *   --cgroup DIR            a cgroup of the sandbox's, joined before anything starts (repeatable)
 *   --slirp                 outbound network through slirp4netns, filtered by netfilter.c's
 *                           rules (never the host, its loopback, link-local or metadata
 *                           addresses; private ranges only with --allow-private)
 *   --allow RULE            (repeatable) an allow list: with --slirp, only what it allows goes out
 *   --forward PORT          the host's listener on fd 4 (the server's, on 127.0.0.1) reaches PORT
 *                           on the sandbox's loopback, through a forwarder of ours that connects
 *                           to nothing else
 *   --egress-proxy PORT     an HTTP and SOCKS5 proxy on the sandbox's 127.0.0.1:PORT for names
 *                           the --allow rules allow (wildcards too), inside the sandbox's
 *                           network, so the rules bind it as they bind the sandbox
 *   --hostname NAME   --user UID GID   --cwd DIR
 *   --idle | -- command...  with the workload's environment, never ours (read_late)
 *   --env-fd N              that environment: a NUL, then NUL-separated KEY=VALUE until N closes
 *   --prestart              a warm launcher: join the --cgroup dirs and bring the network up
 *                           now, then read the rest of the options, a NUL, and the workload's
 *                           environment (NUL-separated KEY=VALUE) from fd 4 until it closes
 *
 * The root is assembled by this process as the host's root in a private mount namespace, so
 * nothing of it is visible on the host and nothing outlives the sandbox. Then a child is cloned
 * into new user, pid, mount, ipc, uts and cgroup namespaces, inside the network namespace we
 * made first (with slirp4netns, user-mode TCP/IP, making outbound connections on the host's
 * behalf with the host's own loopback out of reach, if asked); we write its uid and gid
 * maps and let it go: it mounts
 * /proc and /dev/pts, pivots into the root, and becomes the sandbox's pid 1, which starts the
 * workload and ends with it. We wait for pid 1 and exit with its status. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"
#include "launch_flags.h"

#define MAX_BINDS 64

typedef struct seed {
  const char *unpacker, *tar, *sha; /* LF_SEED_TMP's or LF_SEED_ROOT's */
} seed;

typedef struct opts {
  pid_t parent;
  unsigned long base, count;
  unsigned long store_base; /* --idmap-from: the owner on disk of the image and the volumes, or 0 */
  const char *lower, *upper, *work, *mnt, *tmp, *hostname, *cwd, *scratch, *scratch_size;
  seed seed_tmp, seed_root;
  int host_root, idle, prestart;
  unsigned long nofile;     /* LF_NOFILE, or 0: as inherited */
  int env_fd;               /* LF_ENV_FD, or 0: a warm launcher's environment comes on fd 4 */
  int slirp, proxy_port, allow_private;
  char *allow[256];
  int nallow;
  int forward_port;
  uid_t uid;
  gid_t gid;
  const char *bind_src[MAX_BINDS], *bind_dst[MAX_BINDS];
  int bind_kind[MAX_BINDS]; /* 0: a volume's; 1, 2: a bucket's, read-write or read-only; 3, 4: the
                             * same, not idmapped (a FUSE bucket's) */
  int nbinds;
  const char *cgroups[4];
  int ncgroups;
  char **argv;
} opts;

static int parse(int argc, char **argv, opts *o) {
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    int left = argc - i - 1;
#define NEED(k)                                   \
  if (left < (k)) {                               \
    report("option %s needs %d argument(s)", a, k); \
    return -1;                                    \
  }
    if (!strcmp(a, "--")) {
      o->argv = argv + i + 1;
      return argv[i + 1] ? 0 : (report("no command after --"), -1);
    } else if (!strcmp(a, LF_PRESTART)) {
      o->prestart = 1;
    } else if (!strcmp(a, LF_IDLE)) {
      o->idle = 1;
    } else if (!strcmp(a, LF_HOST_ROOT)) {
      o->host_root = 1;
    } else if (!strcmp(a, LF_EGRESS_PROXY)) {
      NEED(1) o->proxy_port = atoi(argv[++i]);
    } else if (!strcmp(a, LF_ALLOW)) {
      NEED(1) if (o->nallow == 256) return report("too many egress rules (at most 256)"), -1;
      o->allow[o->nallow++] = argv[++i];
    } else if (!strcmp(a, LF_SLIRP)) {
      o->slirp = 1;
    } else if (!strcmp(a, LF_ALLOW_PRIVATE)) {
      o->allow_private = 1;
    } else if (!strcmp(a, LF_FORWARD)) {
      NEED(1) o->forward_port = atoi(argv[++i]);
    } else if (!strcmp(a, LF_NOFILE)) {
      NEED(1) o->nofile = strtoul(argv[++i], NULL, 10);
    } else if (!strcmp(a, LF_PARENT)) {
      NEED(1) o->parent = (pid_t)atoi(argv[++i]);
    } else if (!strcmp(a, LF_STATUS_FD)) {
      NEED(1) status_fd = atoi(argv[++i]);
    } else if (!strcmp(a, LF_UIDMAP)) {
      NEED(2) o->base = strtoul(argv[i + 1], NULL, 10), o->count = strtoul(argv[i + 2], NULL, 10), i += 2;
    } else if (!strcmp(a, LF_IDMAP_FROM)) {
      NEED(1) o->store_base = strtoul(argv[i + 1], NULL, 10), i++;
    } else if (!strcmp(a, LF_OVERLAY)) {
      NEED(3) o->lower = argv[i + 1], o->upper = argv[i + 2], o->work = argv[i + 3], i += 3;
    } else if (!strcmp(a, LF_MNT)) {
      NEED(1) o->mnt = argv[++i];
    } else if (!strcmp(a, LF_TMP)) {
      NEED(1) o->tmp = argv[++i];
    } else if (!strcmp(a, LF_SEED_TMP) || !strcmp(a, LF_SEED_ROOT)) {
      seed *sd = !strcmp(a, LF_SEED_TMP) ? &o->seed_tmp : &o->seed_root;
      NEED(3) sd->unpacker = argv[i + 1], sd->tar = argv[i + 2], sd->sha = argv[i + 3], i += 3;
    } else if (!strcmp(a, LF_SCRATCH)) {
      NEED(2) o->scratch = argv[i + 1], o->scratch_size = argv[i + 2], i += 2;
    } else if (!strcmp(a, LF_HOSTNAME)) {
      NEED(1) o->hostname = argv[++i];
    } else if (!strcmp(a, LF_ENV_FD)) {
      NEED(1) o->env_fd = atoi(argv[++i]);
      if (o->env_fd < 3) return report("bad %s", LF_ENV_FD), -1;
    } else if (!strcmp(a, LF_CWD)) {
      NEED(1) o->cwd = argv[++i];
    } else if (!strcmp(a, LF_USER)) {
      NEED(2) o->uid = (uid_t)atoi(argv[i + 1]), o->gid = (gid_t)atoi(argv[i + 2]), i += 2;
    } else if (!strcmp(a, LF_CGROUP)) {
      NEED(1) if (o->ncgroups == 4) return report("too many cgroups"), -1;
      o->cgroups[o->ncgroups++] = argv[++i];
    } else if (!strcmp(a, LF_BIND)) {
      NEED(2) if (o->nbinds == MAX_BINDS) return report("too many volume mounts"), -1;
      o->bind_kind[o->nbinds] = 0;
      o->bind_src[o->nbinds] = argv[i + 1], o->bind_dst[o->nbinds++] = argv[i + 2], i += 2;
    } else if (!strcmp(a, LF_BIND_BUCKET)) {
      NEED(3) if (o->nbinds == MAX_BINDS) return report("too many volume mounts"), -1;
      const char *mode = argv[i + 3];
      o->bind_kind[o->nbinds] = !strcmp(mode, LF_BUCKET_RW)           ? 1
                                : !strcmp(mode, LF_BUCKET_RO)           ? 2
                                : !strcmp(mode, LF_BUCKET_RW_NOIDMAP) ? 3
                                : !strcmp(mode, LF_BUCKET_RO_NOIDMAP) ? 4
                                                                        : 0;
      if (!o->bind_kind[o->nbinds]) return report("bad %s mode %s", LF_BIND_BUCKET, mode), -1;
      o->bind_src[o->nbinds] = argv[i + 1], o->bind_dst[o->nbinds++] = argv[i + 2], i += 3;
    } else {
      report("unknown option %s", a);
      return -1;
    }
#undef NEED
  }
  return 0;
}

static int complete(const opts *o) {
  if (!o->idle && !o->argv) return report("neither --idle nor a command"), -1;
  if (!o->mnt || !o->count || (!o->host_root && !o->lower)) return report("incomplete options"), -1;
  if (o->uid >= o->count || o->gid >= o->count) return report("user %u:%u is outside the sandbox's %lu ids", o->uid, o->gid, o->count), -1;
  return 0;
}

/* The workload's alone: never ours (environ), so that nothing we run on the host as root or as
 * nobody (slirp4netns, the unpacker, libnftables' loader) sees a spec's LD_PRELOAD. */
static char **workload_env;

/* The rest of a warm launcher's options and its workload's environment, from fd: tokens up
 * to an empty one, then KEY=VALUE entries. Kept for the life of the process. */
static int read_late(opts *o, int fd) {
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  ssize_t r;
  while (buf && (r = read(fd, buf + n, cap - n)) != 0) {
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    n += (size_t)r;
    if (n == cap) { /* on failure the old buffer goes too: there is no using half the options */
      char *bigger = realloc(buf, cap *= 2);
      if (!bigger) free(buf);
      buf = bigger;
    }
  }
  close(fd);
  if (!buf || n == 0 || buf[n - 1] != '\0') return report("the sandbox's options never came"), -1;
  size_t count = 0;
  for (size_t i = 0; i < n; i++) count += buf[i] == '\0';
  char **v = calloc(count + 2, sizeof *v);
  if (!v) return report("out of memory"), -1;
  size_t k = 0, i = 0;
  for (; i < n && buf[i]; i += strlen(buf + i) + 1) v[k++] = buf + i;
  int argc = (int)k;
  v[k++] = NULL;
  char **env = v + k;
  for (i++; i < n; i += strlen(buf + i) + 1) v[k++] = buf + i;
  v[k] = NULL;
  workload_env = env;
  return parse(argc, v, o);
}

/* ---- in the host's user namespace, as root: the root file system ---- */
static int make_dir(const char *path, mode_t mode, uid_t uid) {
  if (!path) return 0;
  if (mkdir(path, mode) != 0 && errno != EEXIST) return -1;
  return chmod(path, mode) == 0 && chown(path, uid, uid) == 0 ? 0 : -1;
}

static int mount_scratch(const opts *o, uid_t root) {
  char data[96];
  char *end;
  unsigned long long bytes = strtoull(o->scratch_size, &end, 10);
  if (*end || !bytes) return report("--scratch needs a size in bytes"), -1;
  snprintf(data, sizeof data, "mode=0711,size=%llu", bytes);
  if (mount("tmpfs", o->scratch, "tmpfs", MS_NOSUID | MS_NODEV, data) != 0)
    return report("cannot mount the sandbox's scratch space: %s", strerror(errno)), -1;
  if (make_dir(o->upper, 0755, 0) != 0 || make_dir(o->work, 0700, 0) != 0 || make_dir(o->tmp, 01777, root) != 0)
    return report("cannot make the writable layer: %s", strerror(errno)), -1;
  return 0;
}

/* A snapshot's files into the new /tmp (or root), by the unpacker in a process of its own (it
 * chroots into the dir before reading an entry); what it says on failure is the launch's error. */
static int seed_dir(const opts *o, const seed *sd, const char *dir, const char *what) {
  if (!o->scratch) return report("--seed-tmp and --seed-root need --scratch"), -1;
  char base[24], count[24], err[512] = "";
  snprintf(base, sizeof base, "%lu", o->base);
  snprintf(count, sizeof count, "%lu", o->count);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return report("cannot seed /tmp: %s", strerror(errno)), -1;
  pid_t pid = fork();
  if (pid < 0) return report("cannot seed /tmp: %s", strerror(errno)), -1;
  if (pid == 0) {
    /* it dies with us (a sandbox terminated while its snapshot is restored leaves nothing) */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1) _exit(126);
    /* its "size N" is not the sandbox's output: stdout is the workload's log */
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 1) < 0 || dup2(pipefd[1], 2) < 0) _exit(126);
    char *argv[] = {(char *)sd->unpacker, "--seed", (char *)dir, base, count, (char *)sd->tar,
                    (char *)o->scratch_size, (char *)sd->sha, NULL};
    execv(argv[0], argv);
    _exit(127);
  }
  close(pipefd[1]);
  ssize_t n, got = 0;
  while (got < (ssize_t)sizeof err - 1 && (n = read(pipefd[0], err + got, sizeof err - 1 - (size_t)got)) > 0) got += n;
  err[got] = '\0';
  close(pipefd[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    err[strcspn(err, "\n")] = '\0';
    return report("cannot restore the snapshot's files into %s: %s", what, err[0] ? err : "the unpacker failed"), -1;
  }
  return 0;
}

/* The sandbox's resolver is slirp4netns's forwarder, whatever the image's /etc/resolv.conf says
 * (as Docker's is its own): a file of ours bound over it, read-only. */
static int sandbox_resolv(const opts *o, int rootfd) {
  char path[4200];
  snprintf(path, sizeof path, "%s/resolv.conf", o->scratch);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const char *text = o->nallow ? FILTERED_RESOLV : SANDBOX_RESOLV;
  if (fd < 0 || write(fd, text, strlen(text)) < 0) return -1;
  close(fd);
  int etc = root_mkdirs(rootfd, "/etc", (uid_t)o->base, (gid_t)o->base);
  if (etc < 0) return -1;
  struct stat st;
  /* a symlink there (systemd's stub) is replaced; a read-only /etc (the host image's) keeps a
   * file to bind over, so the bind is all it needs */
  if (fstatat(etc, "resolv.conf", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) unlinkat(etc, "resolv.conf", 0);
  int target = openat(etc, "resolv.conf", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (target < 0) target = openat(etc, "resolv.conf", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  close(etc);
  if (target < 0) return -1;
  if (fstat(target, &st) != 0 || !S_ISREG(st.st_mode)) { /* a symlink in a read-only /etc: left as it is */
    close(target);
    return 0;
  }
  int rc = bind_onto_fd(path, target, 1, -1);
  close(target);
  return rc;
}

static int assemble(const opts *o) {
  uid_t root = (uid_t)o->base;
  if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    return report("cannot make a mount namespace: %s", strerror(errno)), -1;
  if (o->scratch && mount_scratch(o, root) != 0) return -1;
  if (o->seed_tmp.tar && !o->tmp) return report("--seed-tmp needs --tmp"), -1;
  if (o->seed_tmp.tar && seed_dir(o, &o->seed_tmp, o->tmp, "/tmp") != 0) return -1;
  int userns = -1;
  if (o->store_base && o->store_base != o->base &&
      (userns = make_userns(o->store_base, o->base, o->count, 0, NULL)) < 0)
    return report("cannot make the idmapping of the sandbox's files: %s", strerror(errno)), -1;
  char lower[4200];
  snprintf(lower, sizeof lower, "%s", o->lower ? o->lower : "");
  if (userns >= 0 && !o->host_root) {
    /* the image as the sandbox's ids own it, where only we can see it */
    int n = snprintf(lower, sizeof lower, "%s/lower", o->scratch ? o->scratch : "");
    int fd = !o->scratch || n >= (int)sizeof lower || mkdir(lower, 0700) != 0 ? -1 : open(lower, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || bind_onto_fd(o->lower, fd, 0, userns) != 0)
      return report("cannot mount the image idmapped (%s): %s", o->scratch ? o->lower : "no --scratch", strerror(errno)), -1;
    close(fd);
  }
  if (o->host_root && o->seed_root.tar) return report("--seed-root needs --overlay"), -1;
  if (o->host_root) {
    /* writable like an image's root, and bounded like it */
    char data[96];
    snprintf(data, sizeof data, "mode=0755%s%s", o->scratch ? ",size=" : "", o->scratch ? o->scratch_size : "");
    if (mount("tmpfs", o->mnt, "tmpfs", MS_NOSUID | MS_NODEV, data) != 0 || chown(o->mnt, root, root) != 0)
      return report("cannot mount the root: %s", strerror(errno)), -1;
  } else {
    /* the merged root's own owner and mode are the upper dir's: make them the image's */
    struct stat st;
    if (stat(lower, &st) != 0 || chown(o->upper, st.st_uid, st.st_gid) != 0 || chmod(o->upper, st.st_mode & 07777) != 0)
      return report("cannot prepare the writable layer: %s", strerror(errno)), -1;
    /* whatever the host's defaults: a renamed directory copied up whole, no metadata-only copy,
     * so that the upper dir alone holds what the sandbox changed (a snapshot packs it) */
    char data[12288];
    int n = snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s,volatile,redirect_dir=off,metacopy=off", lower,
                     o->upper, o->work);
    if (n >= (int)sizeof data || strpbrk(lower, ",:") || strpbrk(o->upper, ",:") || strpbrk(o->work, ",:"))
      return report("the state directory's path cannot hold ',' or ':' (overlayfs options)"), -1;
    if (mount("overlay", o->mnt, "overlay", MS_NODEV, data) != 0)
      return report("cannot mount the image's root (overlayfs): %s", strerror(errno)), -1;
    /* before anything of ours is made in it: the snapshot's root is the sandbox's */
    if (o->seed_root.tar && seed_dir(o, &o->seed_root, o->mnt, "the root") != 0) return -1;
  }
  int rootfd = open(o->mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return report("cannot open the root: %s", strerror(errno)), -1;
  if (o->host_root && make_host_root(rootfd, root, root) != 0)
    return report("cannot build the host image: %s", strerror(errno)), -1;
  if (o->slirp && o->scratch && sandbox_resolv(o, rootfd) != 0)
    return report("cannot write the sandbox's /etc/resolv.conf: %s", strerror(errno)), -1;
  int fd = root_topdir(rootfd, "proc", root, root);
  if (fd < 0) return report("cannot make /proc: %s", strerror(errno)), -1;
  close(fd);
  fd = root_topdir(rootfd, "dev", root, root);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  if (fd < 0 || mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") != 0)
    return report("cannot make /dev: %s", strerror(errno)), -1;
  close(fd);
  int dev = openat(rootfd, "dev", O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dev < 0 || fchown(dev, root, root) != 0 || make_dev(dev, root, root) != 0)
    return report("cannot populate /dev: %s", strerror(errno)), -1;
  fd = openat(dev, "shm", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  char shm_opts[64];
  snprintf(shm_opts, sizeof shm_opts, "mode=1777,size=64m,uid=%u,gid=%u", root, root);
  if (fd < 0 || mount("shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm_opts) != 0)
    return report("cannot mount /dev/shm: %s", strerror(errno)), -1;
  close(fd);
  close(dev);
  if (o->tmp) {
    fd = root_topdir(rootfd, "tmp", root, root);
    if (fd < 0 || bind_onto_fd(o->tmp, fd, 0, -1) != 0) return report("cannot mount /tmp: %s", strerror(errno)), -1;
    close(fd);
  }
  for (int i = 0; i < o->nbinds; i++) {
    fd = root_mkdirs(rootfd, o->bind_dst[i], root, root);
    int rc = fd < 0 ? -1
             : o->bind_kind[i] ? bind_nofollow_onto_fd(o->bind_src[i], fd, o->bind_kind[i] % 2 == 0,
                                                       o->bind_kind[i] <= 2 ? userns : -1)
                               : bind_onto_fd(o->bind_src[i], fd, 0, userns);
    if (rc != 0)
      return report("cannot mount the volume at %s: %s%s", o->bind_dst[i], strerror(errno),
                    errno == ELOOP ? " (a symlink in the bucket where its prefix should be)" : ""), -1;
    close(fd);
  }
  if (o->cwd) {
    fd = root_mkdirs(rootfd, o->cwd, root + o->uid, root + o->gid);
    if (fd < 0) return report("cannot make the working directory %s: %s", o->cwd, strerror(errno)), -1;
    close(fd);
  }
  if (userns >= 0) close(userns);
  /* the child finds the root as its working directory, carried into its mount namespace */
  if (fchdir(rootfd) != 0) return report("cannot enter the root: %s", strerror(errno)), -1;
  close(rootfd);
  return 0;
}

/* ---- pid 1 of the sandbox ---- */

/* Docker's masks: what of the kernel a container must not read or change through /proc. */
static void mask_proc(void) {
  static const char *const hide[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
                                     "/proc/latency_stats", "/proc/timer_stats", "/proc/kallsyms", NULL};
  static const char *const empty[] = {"/proc/acpi", "/proc/scsi", "/proc/asound", "/proc/driver", NULL};
  static const char *const ro[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", NULL};
  for (int i = 0; hide[i]; i++) mount("/dev/null", hide[i], NULL, MS_BIND, NULL);
  for (int i = 0; empty[i]; i++) mount("tmpfs", empty[i], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0");
  for (int i = 0; ro[i]; i++)
    if (mount(ro[i], ro[i], NULL, MS_BIND | MS_REC, NULL) == 0)
      mount(NULL, ro[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

static int control_fd = -1;

static int enter(const opts *o) {
  /* pivot_root refuses the root we assembled, as in this namespace it is a locked copy: bind
   * it onto itself for a mount of our own, while we are still the uid that owns the path */
  if (mount(o->mnt, o->mnt, NULL, MS_BIND | MS_REC, NULL) != 0 || chdir(o->mnt) != 0)
    return report("cannot bind the root: %s", strerror(errno)), -1;
  if ((control_fd = control_listen()) < 0) return report("cannot listen for execs: %s", strerror(errno)), -1;
  if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0 || setgroups(0, NULL) != 0)
    return report("cannot become the sandbox's root: %s", strerror(errno)), -1;
  if (o->hostname && sethostname(o->hostname, strlen(o->hostname)) != 0)
    return report("cannot set the hostname: %s", strerror(errno)), -1;
  if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
    return report("cannot mount /proc: %s", strerror(errno)), -1;
  if (mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") != 0)
    return report("cannot mount /dev/pts: %s", strerror(errno)), -1;
  if (mount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
    return report("cannot mount /dev/mqueue: %s", strerror(errno)), -1;
  if (syscall(SYS_pivot_root, ".", ".") != 0 || umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
    return report("cannot enter the root: %s", strerror(errno)), -1;
  mask_proc();
  return 0;
}

static int wait_code(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return EXIT_SETUP;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void start_workload(const opts *o) {
  if (creds_become(o->uid, o->gid) != 0) {
    dprintf(2, "porter-sandbox: cannot become user %u:%u: %s\n", o->uid, o->gid, strerror(errno));
    _exit(EXIT_SETUP);
  }
  if (o->cwd && chdir(o->cwd) != 0) {
    dprintf(2, "porter-sandbox: cannot enter the working directory %s: %s\n", o->cwd, strerror(errno));
    _exit(EXIT_SETUP);
  }
  syscall(SYS_close_range, 3, ~0u, 0);
  static char *none[] = {NULL};
  extern char **environ;
  environ = workload_env ? workload_env : none; /* PATH for execvp is the workload's too */
  execvp(o->argv[0], o->argv);
  dprintf(2, "porter-sandbox: %s: %s\n", o->argv[0], strerror(errno));
  _exit(errno == ENOENT ? 127 : 126);
}

static void die_with_parent(int sig) {
  (void)sig;
  _exit(EXIT_SETUP);
}

/* Our command line names host paths; /proc/1/cmdline is readable by everyone inside. */
static char *args_start, *args_end;

static int pid1(const opts *o, int go, int net, int life) {
  char b;
  if (read(go, &b, 1) != 1) _exit(EXIT_SETUP); /* our parent died before it mapped our ids */
  close(go);
  /* As a namespace's init we ignore every signal we have no handler for, SIGKILL from our
   * parent's death included: a handler makes that signal end us, and the namespace with us. */
  signal(SIGUSR2, die_with_parent);
  prctl(PR_SET_PDEATHSIG, SIGUSR2);
  /* joining a v1 cgroup can wait out an RCU grace period: here it overlaps slirp4netns's start */
  for (int i = 0; i < o->ncgroups; i++)
    if (join_cgroup(o->cgroups[i]) != 0) {
      report("cannot join the sandbox's cgroup: %s", strerror(errno));
      _exit(EXIT_SETUP);
    }
  /* a cgroup namespace of its own, rooted at the cgroup it is now in */
  if (unshare(CLONE_NEWCGROUP) != 0) {
    report("cannot make a cgroup namespace: %s", strerror(errno));
    _exit(EXIT_SETUP);
  }
  if (enter(o) != 0) _exit(EXIT_SETUP);
  if (read(net, &b, 1) != 1) _exit(EXIT_SETUP); /* the network is up */
  close(net);
  pid_t workload = -1;
  if (!o->idle) {
    workload = fork();
    if (workload < 0) {
      report("cannot start the workload: %s", strerror(errno));
      _exit(EXIT_SETUP);
    }
    if (workload == 0) start_workload(o);
  }
  if (args_start) {
    memset(args_start, 0, (size_t)(args_end - args_start));
    snprintf(args_start, (size_t)(args_end - args_start), "porter-sandbox-init");
  }
  dprintf(status_fd, "ready\n");
  close(status_fd);
  /* pid 1 keeps only what a container's root has, and cannot be inspected by it */
  creds_become(0, 0);
  prctl(PR_SET_DUMPABLE, 0);
  /* a change of uid cleared the parent-death signal: arm it again, then make sure the parent
   * did not die meanwhile (its end of the life pipe would have closed) */
  prctl(PR_SET_PDEATHSIG, SIGUSR2);
  struct pollfd lp = {life, POLLIN, 0};
  if (poll(&lp, 1, 0) == 1) _exit(EXIT_SETUP);
  for (int fd = 3; fd < 1024; fd++)
    if (fd != control_fd && fd != life) close(fd);
  control_loop(control_fd, workload);
  _exit(EXIT_SETUP);
}

int launch_main(int argc, char **argv) {
  opts o;
  memset(&o, 0, sizeof o);
  if (parse(argc - 1, argv + 1, &o) != 0) return EXIT_SETUP;
  args_start = argv[-1]; /* the program's own name, before --launch */
  args_end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (o.parent && getppid() != o.parent) return EXIT_SETUP; /* the server is already gone */
  struct rlimit nofile = {o.nofile, o.nofile};
  if (o.nofile && setrlimit(RLIMIT_NOFILE, &nofile) != 0)
    return report("cannot set the sandbox's limit on open files: %s", strerror(errno)), EXIT_SETUP;
  if (o.env_fd && read_late(&o, o.env_fd) != 0) return EXIT_SETUP;
  if (o.prestart) {
    /* the slow parts, done before any sandbox asks: a v1 cgroup join waits out an RCU grace
     * period, and slirp4netns takes milliseconds to come up */
    for (int i = 0; i < o.ncgroups; i++)
      if (join_cgroup(o.cgroups[i]) != 0) return report("cannot join the sandbox's cgroup: %s", strerror(errno)), EXIT_SETUP;
    o.ncgroups = 0;
  }
  net_plan np = {(const char *const *)o.cgroups, o.ncgroups, o.slirp, o.allow_private, o.allow, o.nallow, o.proxy_port, o.forward_port, 4};
  int slirp_ready;
  if (net_setup(&np, &slirp_ready) != 0) return EXIT_SETUP;
  if (o.prestart && o.slirp && net_slirp_ready(slirp_ready) != 0) return EXIT_SETUP;
  if (o.prestart) {
    slirp_ready = -1; /* up already */
    dprintf(status_fd, "warm\n"); /* the server may rename our cgroups now */
  }
  if (o.prestart && read_late(&o, 4) != 0) return EXIT_SETUP;
  if (complete(&o) != 0) return EXIT_SETUP;
  umask(0);
  if (assemble(&o) != 0) return EXIT_SETUP;
  int go[2], net[2], life[2];
  if (pipe2(go, O_CLOEXEC) != 0 || pipe2(net, O_CLOEXEC) != 0 || pipe2(life, O_CLOEXEC) != 0)
    return report("cannot make a pipe: %s", strerror(errno)), EXIT_SETUP;
  int flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) return report("cannot create the sandbox's namespaces: %s", strerror(errno)), EXIT_SETUP;
  if (pid == 0) {
    close(go[1]);
    close(net[1]);
    close(life[1]);
    pid1(&o, go[0], net[0], life[0]);
  }
  close(go[0]);
  close(net[0]);
  close(life[0]); /* life[1] stays open as long as we live */
  if (write_idmap(pid, "uid_map", 0, o.base, o.count) != 0 || write_idmap(pid, "gid_map", 0, o.base, o.count) != 0) {
    report("cannot map the sandbox's user ids: %s", strerror(errno));
    kill(pid, SIGKILL);
    return EXIT_SETUP;
  }
  dprintf(status_fd, "pid %d\n", (int)pid);
  if (write(go[1], "g", 1) != 1) return EXIT_SETUP;
  close(go[1]);
  if (slirp_ready >= 0 && net_slirp_ready(slirp_ready) != 0) {
    kill(pid, SIGKILL);
    return EXIT_SETUP;
  }
  if (write(net[1], "n", 1) != 1) return EXIT_SETUP;
  close(net[1]);
  close(status_fd);
  _exit(wait_code(pid));
}
