/* attack NAME [ARG]: makes one system call a sandbox must not be allowed, and prints
 * "ok" if it worked or "refused <errno name>" if it did not. Built by spec/server/hostile_spec.lua
 * and run inside sandboxes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int child_fn(void *arg) { (void)arg; return 0; }

static long attempt(const char *name, const char *arg) {
  if (!strcmp(name, "mount")) return mount("none", "/tmp", "tmpfs", 0, NULL);
  if (!strcmp(name, "umount")) return umount2("/proc", MNT_DETACH);
  if (!strcmp(name, "unshare-user")) return unshare(CLONE_NEWUSER);
  if (!strcmp(name, "unshare-mnt")) return unshare(CLONE_NEWNS);
  if (!strcmp(name, "unshare-net")) return unshare(CLONE_NEWNET);
  if (!strcmp(name, "clone-user")) {
    static char stack[65536];
    int pid = clone(child_fn, stack + sizeof stack, CLONE_NEWUSER | SIGCHLD, NULL);
    if (pid > 0) waitpid(pid, NULL, 0);
    return pid;
  }
  if (!strcmp(name, "setns")) return setns(open("/proc/1/ns/mnt", O_RDONLY), 0);
  if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
  if (!strcmp(name, "add_key")) return syscall(SYS_add_key, "user", "porter", "x", 1, -3);
  if (!strcmp(name, "bpf")) {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    return syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a);
  }
  if (!strcmp(name, "perf_event_open")) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_CPU_CLOCK;
    return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
  }
  if (!strcmp(name, "init_module")) return syscall(SYS_init_module, "", 0, "");
  if (!strcmp(name, "finit_module")) return syscall(SYS_finit_module, open("/dev/null", O_RDONLY), "", 0);
  if (!strcmp(name, "ptrace")) return ptrace(PTRACE_ATTACH, atoi(arg), 0, 0);
  if (!strcmp(name, "process_vm_readv")) {
    char buf[8];
    struct iovec l = {buf, 8}, r = {buf, 8};
    return process_vm_readv(1, &l, 1, &r, 1, 0);
  }
  if (!strcmp(name, "open_by_handle_at")) return syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0);
  if (!strcmp(name, "reboot")) return reboot(RB_POWER_OFF);
  if (!strcmp(name, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0);
  if (!strcmp(name, "swapon")) return syscall(SYS_swapon, "/dev/null", 0);
  if (!strcmp(name, "pivot_root")) return syscall(SYS_pivot_root, "/tmp", "/tmp");
  if (!strcmp(name, "io_uring_setup")) {
    char params[120];
    memset(params, 0, sizeof params);
    return syscall(SYS_io_uring_setup, 1, params);
  }
  if (!strcmp(name, "userfaultfd")) return syscall(SYS_userfaultfd, 0);
  if (!strcmp(name, "settimeofday")) return syscall(SYS_settimeofday, NULL, NULL);
  if (!strcmp(name, "mknod")) return mknod("/tmp/sda", S_IFBLK | 0600, makedev(8, 0));
  if (!strcmp(name, "kill")) return kill(atoi(arg), SIGKILL);
  if (!strcmp(name, "chroot-escape")) {
    /* the classic: chroot into a subdirectory, then walk up past it */
    mkdir("/tmp/jail", 0755);
    if (chroot("/tmp/jail") != 0) return -1;
    for (int i = 0; i < 64; i++) chdir("..");
    if (chroot(".") != 0) return -1;
    return access("/tmp/jail", F_OK) == 0 ? -2 : 0; /* -2: still inside the sandbox */
  }
  /* no such call: ENOSYS from a kernel that is asked, EPERM from an allow list that is not */
  if (!strcmp(name, "unknown-syscall")) return syscall(1000, 0, 0, 0);
  /* another process's descriptor, without ptrace: the kernel lets a parent take its child's,
   * Docker's profile does not */
  if (!strcmp(name, "pidfd_getfd")) {
    pid_t child = fork();
    if (child == 0) {
      pause();
      _exit(0);
    }
    long pidfd = syscall(SYS_pidfd_open, child, 0);
    long fd = pidfd < 0 ? -1 : syscall(SYS_pidfd_getfd, (int)pidfd, 0, 0);
    int saved = errno;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    errno = saved;
    return fd;
  }
  if (!strcmp(name, "sethostname")) return sethostname("owned", 5);
  if (!strcmp(name, "vsock")) return socket(40 /* AF_VSOCK */, SOCK_STREAM, 0);
  if (!strcmp(name, "personality")) return syscall(SYS_personality, 0x0040000 /* READ_IMPLIES_EXEC */);
  if (!strcmp(name, "alloc")) { /* ARG MiB, touched page by page */
    size_t n = (size_t)atoi(arg) << 20;
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    return 0;
  }
  fprintf(stderr, "unknown attack %s\n", name);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  errno = 0;
  long r = attempt(argv[1], argc > 2 ? argv[2] : "0");
  if (r == -2) printf("contained\n");
  else if (r < 0) printf("refused %s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
  else printf("ok\n");
  return 0;
}
