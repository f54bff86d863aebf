/* porter-sandbox-exec --s3fs UID URL BUCKET rw|ro: s3fs for a bucket registered with the
 * server (--bucket NAME=s3:URL/BUCKET), serving the FUSE connection the server opened and
 * mounted itself (fd 3), as a uid of its own, with no capability and no_new_privs. It holds the
 * bucket's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY in its environment) and talks
 * to a network service: nothing else of the host is its to touch.
 *
 * s3fs's libfuse 2 mounts by itself only as root; otherwise it runs fusermount (the setuid
 * /bin/fusermount first), which mounts and hands it the /dev/fuse descriptor over the socket
 * named by _FUSE_COMMFD. Here, in a mount namespace of its own, fusermount is this program,
 * which hands over fd 3: the mount is the server's, made before s3fs ran, so s3fs needs no
 * privilege to have it. (/dev/fuse is /dev/null there, so that libfuse's own attempt fails as
 * any unprivileged one does, and it asks fusermount.) */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "helper.h"
#include "launch_flags.h"

/* what s3fs stages (a file being written is kept here until it is uploaded): bounded, and
 * uploaded in parts before it fills */
#define STAGE_MB 512
#define DIRTY_MB "128"

int fusermount_stand_in(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "-u")) return 0; /* unmounting is the server's, as mounting was */
  int sock = atoi(getenv("_FUSE_COMMFD")), fd = atoi(getenv("PORTER_FUSE_FD"));
  char byte = 0, ctl[CMSG_SPACE(sizeof(int))];
  memset(ctl, 0, sizeof ctl);
  struct iovec iov = {&byte, 1};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET, h->cmsg_type = SCM_RIGHTS, h->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(h), &fd, sizeof fd);
  return sendmsg(sock, &m, 0) == 1 ? 0 : 1;
}

/* a detached copy of this program's mount of itself, taken while its path still resolves (it
 * may be under /tmp, which the staging tmpfs then covers) */
static int self_tree(const char *self) { return open_tree(AT_FDCWD, self, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC); }

/* tree attached over path (an empty file made there if missing) */
static int attach_over(int tree, const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
  if (fd >= 0) close(fd);
  int rc = tree >= 0 ? move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) : -1;
  if (tree >= 0) close(tree);
  return rc;
}

int s3fs_main(int argc, char **argv) {
  if (argc != 5 || (strcmp(argv[4], LF_BUCKET_RW) && strcmp(argv[4], LF_BUCKET_RO))) {
    fprintf(stderr, "usage: porter-sandbox-exec --s3fs UID URL BUCKET rw|ro (fd 3: the mounted FUSE connection)\n");
    return EXIT_SETUP;
  }
  uid_t uid = (uid_t)strtoul(argv[1], NULL, 10);
  char self[4096];
  ssize_t sn = readlink("/proc/self/exe", self, sizeof self - 1);
  if (sn <= 0) return EXIT_SETUP;
  self[sn] = '\0';
  const char *url = argv[2], *bucket = argv[3];
  struct stat st;
  char opts[64];
  snprintf(opts, sizeof opts, "size=%dm,mode=0700,uid=%u,gid=%u", STAGE_MB, uid, uid);
  int in_path = -1, at_bin = -1; /* (a bind of /proc/self/exe would name the old namespace's mount) */
  if (fstat(3, &st) != 0 || unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
      (in_path = self_tree(self)) < 0 || (access("/bin/fusermount", F_OK) == 0 && (at_bin = self_tree(self)) < 0) ||
      mount("s3fs-stage", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) != 0 ||
      mkdir("/tmp/mnt", 0700) != 0 || mkdir("/tmp/stage", 0700) != 0 || mkdir("/tmp/bin", 0755) != 0 ||
      chown("/tmp/mnt", uid, uid) != 0 || chown("/tmp/stage", uid, uid) != 0 ||
      attach_over(in_path, "/tmp/bin/fusermount") != 0 || (at_bin >= 0 && attach_over(at_bin, "/bin/fusermount") != 0) ||
      mount("/dev/null", "/dev/fuse", NULL, MS_BIND, NULL) != 0) {
    fprintf(stderr, "porter-sandbox-exec --s3fs: cannot set up s3fs's namespace: %s\n", strerror(errno));
    return EXIT_SETUP;
  }
  if (creds_helper(uid, -1) != 0) {
    fprintf(stderr, "porter-sandbox-exec --s3fs: cannot become uid %u: %s\n", uid, strerror(errno));
    return EXIT_SETUP;
  }
  const char *key = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
  char k[512], s[512], u[1100];
  snprintf(k, sizeof k, "AWS_ACCESS_KEY_ID=%s", key ? key : "");
  snprintf(s, sizeof s, "AWS_SECRET_ACCESS_KEY=%s", secret ? secret : "");
  snprintf(u, sizeof u, "url=%s", url);
  char *env[] = {k, s, "PORTER_FUSE_FD=3", "HOME=/tmp", "PATH=/tmp/bin:/usr/bin:/bin", NULL};
  const char *args[] = {"s3fs", "-f", bucket, "/tmp/mnt", "-o", u, "-o", "use_path_request_style", "-o", "allow_other",
                        "-o", "umask=0000", "-o", "tmpdir=/tmp/stage", "-o", "max_dirty_data=" DIRTY_MB,
                        "-o", "dbglevel=err", "-o", !strcmp(argv[4], LF_BUCKET_RO) ? "ro" : "rw", NULL};
  execve("/usr/bin/s3fs", (char **)args, env);
  fprintf(stderr, "porter-sandbox-exec --s3fs: cannot run /usr/bin/s3fs: %s\n", strerror(errno));
  return EXIT_SETUP;
}
