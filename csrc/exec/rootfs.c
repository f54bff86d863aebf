/* Building a sandbox's root: safe lookups inside an image's tree, device nodes, the host image.
 * Everything here runs as the host's root before the sandbox exists, so no path inside the
 * image may be followed as the host sees it: lookups go through openat2(RESOLVE_IN_ROOT). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "helper.h"

int status_fd = -1;

void report(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (status_fd >= 0) dprintf(status_fd, "error %s\n", msg);
  else dprintf(2, "porter-sandbox-exec: %s\n", msg);
}

static int open_in_root(int rootfd, const char *path) {
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

int root_mkdirs(int rootfd, const char *path, uid_t uid, gid_t gid) {
  char prefix[4096];
  size_t n = strlen(path);
  if (n >= sizeof prefix) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int parent = open_in_root(rootfd, "/");
  if (parent < 0) return -1;
  for (size_t i = 1; i <= n; i++) {
    if (i < n && path[i] != '/') continue;
    if (path[i - 1] == '/') continue; /* "//" or a leading "/" */
    memcpy(prefix, path, i);
    prefix[i] = '\0';
    int fd = open_in_root(rootfd, prefix);
    if (fd < 0 && errno == ENOENT) {
      const char *name = strrchr(prefix, '/');
      name = name ? name + 1 : prefix;
      if (mkdirat(parent, name, 0755) != 0 && errno != EEXIST) {
        close(parent);
        return -1;
      }
      fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW);
      fd = open_in_root(rootfd, prefix);
    }
    close(parent);
    if (fd < 0) return -1;
    parent = fd;
  }
  return parent;
}

int root_topdir(int rootfd, const char *name, uid_t uid, gid_t gid) {
  struct stat st;
  if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) && unlinkat(rootfd, name, 0) != 0)
    return -1;
  if (mkdirat(rootfd, name, 0755) == 0) fchownat(rootfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
  else if (errno != EEXIST) return -1;
  return openat(rootfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int attach(int tree, int fd, int readonly, int userns);

int bind_onto_fd(const char *src, int fd, int readonly, int userns) {
  return attach(open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE), fd, readonly, userns);
}

int bind_nofollow_onto_fd(const char *src, int fd, int readonly, int userns) {
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int dir = (int)syscall(SYS_openat2, AT_FDCWD, src, &how, sizeof how);
  if (dir < 0) return -1;
  int tree = open_tree(dir, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  int saved = errno;
  close(dir);
  errno = saved;
  return attach(tree, fd, readonly, userns);
}

/* a detached copy, made read-only or idmapped before it is attached: a remount would need a
 * path to the new mount, and the fd names what lies beneath it (and only a detached mount can
 * take an idmapping) */
static int attach(int tree, int fd, int readonly, int userns) {
  if (tree < 0) return -1;
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
  struct mount_attr idmap = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
  int rc = 0;
  if (readonly && mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) rc = -1;
  if (rc == 0 && userns >= 0 && mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &idmap, sizeof idmap) != 0) rc = -1;
  if (rc == 0 && move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) rc = -1;
  int saved = errno;
  close(tree);
  errno = saved;
  return rc;
}

int make_dev(int devfd, uid_t uid, gid_t gid) {
  static const struct {
    const char *name;
    unsigned maj, min;
  } nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
    if (mknodat(devfd, nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) != 0) return -1;
    fchownat(devfd, nodes[i].name, uid, gid, AT_SYMLINK_NOFOLLOW);
  }
  static const char *const links[][2] = {{"/proc/self/fd", "fd"},     {"/proc/self/fd/0", "stdin"},
                                         {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
                                         {"pts/ptmx", "ptmx"}};
  for (size_t i = 0; i < sizeof links / sizeof *links; i++)
    if (symlinkat(links[i][0], devfd, links[i][1]) != 0) return -1;
  if (mkdirat(devfd, "pts", 0755) != 0 || mkdirat(devfd, "shm", 01777) != 0 || mkdirat(devfd, "mqueue", 01777) != 0)
    return -1;
  fchownat(devfd, "shm", uid, gid, 0);
  fchownat(devfd, "mqueue", uid, gid, 0);
  return 0;
}

/* What of the host an image named "host" gets: its programs and libraries, read-only. */
static const char *const host_dirs[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", NULL};
/* ... and never these, although they live in /etc */
static const char *const etc_secrets[] = {"shadow", "shadow-", "gshadow", "gshadow-", "sudoers", "ssh/ssh_host_rsa_key",
                                          "ssh/ssh_host_ecdsa_key", "ssh/ssh_host_ed25519_key", "ssh/ssh_host_dsa_key",
                                          "krb5.keytab", NULL};
static const char *const etc_secret_dirs[] = {"ssl/private", "sudoers.d", "porter-sandboxd", NULL};

int make_host_root(int rootfd, uid_t uid, gid_t gid) {
  char src[64], target[4096];
  for (int i = 0; host_dirs[i]; i++) {
    snprintf(src, sizeof src, "/%s", host_dirs[i]);
    struct stat st;
    if (lstat(src, &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      ssize_t len = readlink(src, target, sizeof target - 1);
      if (len <= 0) continue;
      target[len] = '\0';
      if (symlinkat(target, rootfd, host_dirs[i]) != 0) return -1;
      fchownat(rootfd, host_dirs[i], uid, gid, AT_SYMLINK_NOFOLLOW);
      continue;
    }
    if (!S_ISDIR(st.st_mode)) continue;
    if (mkdirat(rootfd, host_dirs[i], 0755) != 0) return -1;
    int fd = openat(rootfd, host_dirs[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || bind_onto_fd(src, fd, 1, -1) != 0) return -1;
    close(fd);
  }
  /* cover the secrets of the (now mounted) /etc: /dev/null over files, an empty tmpfs over dirs */
  int etc = openat(rootfd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (etc < 0) return 0;
  for (int i = 0; etc_secrets[i]; i++) {
    int fd = openat(etc, etc_secrets[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && bind_onto_fd("/dev/null", fd, 1, -1) != 0) return -1;
    close(fd);
  }
  for (int i = 0; etc_secret_dirs[i]; i++) {
    int fd = openat(etc, etc_secret_dirs[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    snprintf(src, sizeof src, "/proc/self/fd/%d", fd);
    if (mount("tmpfs", src, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0755") != 0) return -1;
    close(fd);
  }
  close(etc);
  return 0;
}

int idmap_probe(const char *dir, unsigned long from, unsigned long to) {
  if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    return perror("cannot make a mount namespace"), 1;
  int userns = make_userns(from, to, 65536, 0, NULL);
  if (userns < 0) return perror("cannot make a user namespace"), 1;
  int tree = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  struct mount_attr idmap = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
  if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &idmap, sizeof idmap) != 0) return perror("mount_setattr"), 1;
  return 0;
}
