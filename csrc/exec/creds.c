/* The credentials a sandbox's processes run with, the same for the workload and for exec, and
 * those of the helpers outside it (creds_helper). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <grp.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helper.h"

/* Docker's default set: what a container's root may do by default. */
static const int default_caps[] = {
  CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
  CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
};

static int is_default(int cap) {
  for (size_t i = 0; i < sizeof default_caps / sizeof *default_caps; i++)
    if (default_caps[i] == cap) return 1;
  return 0;
}

int creds_become(uid_t uid, gid_t gid) {
  /* the bounding set first: it needs CAP_SETPCAP, which setuid may take away */
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
    if (!is_default(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return -1;
  if (setgroups(0, NULL) != 0) return -1;
  if (setresgid(gid, gid, gid) != 0) return -1;
  if (setresuid(uid, uid, uid) != 0) return -1; /* a non-root uid loses every capability here */
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  if (uid == 0)
    for (size_t i = 0; i < sizeof default_caps / sizeof *default_caps; i++) {
      int c = default_caps[i];
      d[c / 32].effective |= 1u << (c % 32);
      d[c / 32].permitted |= 1u << (c % 32);
      d[c / 32].inheritable |= 1u << (c % 32);
    }
  if (syscall(SYS_capset, &h, d) != 0) return -1;
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return seccomp_confine();
}

int join_cgroup(const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int ok = write(fd, "0", 1) == 1;
  close(fd);
  return ok ? 0 : -1;
}

int write_idmap(pid_t pid, const char *kind, unsigned long inside, unsigned long outside, unsigned long count) {
  char path[64], line[96];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, kind);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  int n = snprintf(line, sizeof line, "%lu %lu %lu\n", inside, outside, count);
  int ok = fd >= 0 && write(fd, line, (size_t)n) == n;
  if (fd >= 0) close(fd);
  return ok ? 0 : -1;
}

int make_userns(unsigned long inside, unsigned long outside, unsigned long count, int with_net, int *net_fd) {
  pid_t self = getpid();
  int up[2];
  if (pipe2(up, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return close(up[0]), close(up[1]), -1;
  if (pid == 0) { /* holds the namespaces until we have them open, and never outlives us */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(up[0]);
    int flags = CLONE_NEWUSER | (with_net ? CLONE_NEWNET : 0); /* the user namespace first: it owns the rest */
    if (getppid() != self || unshare(flags) != 0 || write(up[1], "u", 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(up[1]);
  char b, path[64];
  int fd = -1, net = -1;
  if (read(up[0], &b, 1) == 1 && write_idmap(pid, "uid_map", inside, outside, count) == 0 &&
      write_idmap(pid, "gid_map", inside, outside, count) == 0) {
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
    if (with_net && fd >= 0 && (net = open(path, O_RDONLY | O_CLOEXEC)) < 0) close(fd), fd = -1;
  }
  int saved = errno;
  close(up[0]);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  if (net_fd) *net_fd = net;
  errno = saved;
  return fd;
}

int creds_helper(uid_t uid, int keep_cap) {
  /* nothing but keep_cap can be had again, whatever runs next: the bounding set emptied while
   * we may (it takes CAP_SETPCAP, which the change of uid takes away) */
  for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
    if (c != keep_cap && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) return -1;
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (keep_cap >= 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return -1;
  if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) return -1;
  if (keep_cap >= 0) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    d[keep_cap / 32].effective = d[keep_cap / 32].permitted = 1u << (keep_cap % 32);
    if (syscall(SYS_capset, &h, d) != 0) return -1;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* cleared by the change of uid */
  return getppid() == 1 ? -1 : 0;   /* the parent went before the signal was set */
}
