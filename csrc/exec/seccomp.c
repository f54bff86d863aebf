/* The system calls a sandbox may make: an allow list, as Docker's default profile is, so that a
 * call this list does not name (one a newer kernel adds, or one nobody thought of) fails with
 * EPERM instead of running. The list is Docker's for a container without extra capabilities,
 * less what porter-sandboxd refuses beyond it: io_uring (its own path around this filter and a
 * long run of kernel bugs), file handles (name_to_handle_at), other processes' memory
 * (process_vm_*) and NUMA policy. libseccomp resolves the names for the running architecture
 * and skips those it does not have. clone may not make namespaces, clone3 (whose flags a filter
 * cannot read) answers ENOSYS so that libc falls back to clone, and personality takes only the
 * values Docker allows. */
#include <errno.h>
#include <malloc.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helper.h"

static const char *const allowed[] = {
  /* files and directories */
  "access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "chmod", "fchmod", "fchmodat", "fchmodat2",
  "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32", "chroot", "creat", "open", "openat",
  "openat2", "close", "close_range", "dup", "dup2", "dup3", "fcntl", "fcntl64", "flock", "fsync", "fdatasync",
  "sync", "syncfs", "sync_file_range", "sync_file_range2", "arm_sync_file_range", "fadvise64", "fadvise64_64",
  "arm_fadvise64_64", "fallocate", "ftruncate", "ftruncate64", "truncate", "truncate64", "getdents",
  "getdents64", "link", "linkat", "symlink", "symlinkat", "readlink", "readlinkat", "mkdir", "mkdirat", "mknod",
  "mknodat", "rename", "renameat", "renameat2", "rmdir", "unlink", "unlinkat", "stat", "stat64", "lstat",
  "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat", "statx", "statfs", "statfs64", "fstatfs",
  "fstatfs64", "umask", "utime", "utimes", "utimensat", "utimensat_time64", "futimesat", "getxattr",
  "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr", "listxattr", "llistxattr", "flistxattr",
  "removexattr", "lremovexattr", "fremovexattr", "inotify_init", "inotify_init1", "inotify_add_watch",
  "inotify_rm_watch", "fanotify_mark", "cachestat",
  /* reading and writing */
  "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64", "pwritev", "pwritev2", "lseek",
  "_llseek", "sendfile", "sendfile64", "splice", "tee", "vmsplice", "copy_file_range", "readahead", "ioctl",
  "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
  /* waiting on descriptors, and descriptors that wait */
  "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64", "epoll_create",
  "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old", "epoll_pwait", "epoll_pwait2",
  "eventfd", "eventfd2", "signalfd", "signalfd4", "timerfd_create", "timerfd_settime", "timerfd_settime64",
  "timerfd_gettime", "timerfd_gettime64", "pipe", "pipe2", "memfd_create", "memfd_secret",
  /* memory */
  "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock", "mlock2",
  "mlockall", "munlock", "munlockall", "remap_file_pages", "membarrier", "pkey_alloc", "pkey_free",
  "pkey_mprotect", "map_shadow_stack",
  /* processes, threads and signals (clone and personality below, with their arguments) */
  "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid", "kill", "tkill",
  "tgkill", "pidfd_open", "pidfd_send_signal", "process_mrelease", "ptrace", "rt_sigaction", "rt_sigpending",
  "rt_sigprocmask", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
  "rt_sigtimedwait_time64", "sigaltstack", "sigprocmask", "sigreturn", "pause", "restart_syscall", "futex",
  "futex_time64", "futex_waitv", "set_robust_list", "get_robust_list", "set_tid_address", "set_thread_area",
  "get_thread_area", "arch_prctl", "modify_ldt", "set_tls", "cacheflush", "breakpoint", "riscv_flush_icache",
  "rseq", "prctl", "seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
  "capget", "capset",
  /* ids, limits, scheduling */
  "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid", "getuid", "getuid32",
  "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32", "getresuid", "getresuid32", "getresgid",
  "getresgid32", "getgroups", "getgroups32", "setuid", "setuid32", "setgid", "setgid32", "setreuid",
  "setreuid32", "setregid", "setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32", "setfsuid",
  "setfsuid32", "setfsgid", "setfsgid32", "setgroups", "setgroups32", "getrlimit", "ugetrlimit", "setrlimit",
  "prlimit64", "getrusage", "getpriority", "setpriority", "ioprio_get", "ioprio_set", "sched_yield",
  "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr", "sched_getparam",
  "sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
  "sched_get_priority_min", "sched_rr_get_interval", "sched_rr_get_interval_time64", "getcpu",
  /* time (reading it; setting it is the host's) */
  "time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
  "clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "alarm", "getitimer", "setitimer", "times",
  "timer_create", "timer_delete", "timer_settime", "timer_settime64", "timer_gettime", "timer_gettime64",
  "timer_getoverrun", "adjtimex", "clock_adjtime", "clock_adjtime64",
  /* sockets (socket itself below: not AF_VSOCK, the host's) */
  "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername", "getsockopt",
  "setsockopt", "shutdown", "send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg",
  "recvmmsg_time64", "socketcall",
  /* System V and POSIX IPC (in the sandbox's own IPC namespace) */
  "ipc", "msgget", "msgctl", "msgsnd", "msgrcv", "semget", "semctl", "semop", "semtimedop", "semtimedop_time64",
  "shmget", "shmctl", "shmat", "shmdt", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64",
  "mq_timedreceive", "mq_timedreceive_time64", "mq_notify", "mq_getsetattr",
  /* the system, as the sandbox sees it */
  "uname", "sysinfo", "getrandom",
  NULL,
};

/* personality(2) values Docker allows: Linux, with ADDR_NO_RANDOMIZE or the 32-bit address
 * space, and the query (0xffffffff) */
static const unsigned long personalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

/* The filter as BPF, compiled once per process tree: pid 1 compiles it before it forks an exec,
 * so an exec loads what pid 1 made (its copy of pid 1's memory) instead of compiling ~350 rules
 * again, which was most of an exec's round trip. */
static struct sock_filter *program;
static unsigned short program_len;

static int compile(void) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (!ctx) return -1;
  /* a binary tree of the allowed calls rather than a chain: fewer comparisons a call */
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (int i = 0; allowed[i] && rc == 0; i++) {
    int nr = seccomp_syscall_resolve_name(allowed[i]);
    if (nr == __NR_SCMP_ERROR) continue; /* not on this architecture */
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
  }
  /* a fork or a thread, never a namespace */
  const unsigned long ns_flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                                 CLONE_NEWUTS | CLONE_NEWCGROUP;
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags, 0));
  int nr3 = seccomp_syscall_resolve_name("clone3");
  if (rc == 0 && nr3 != __NR_SCMP_ERROR) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr3, 0);
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_VSOCK));
  for (size_t i = 0; i < sizeof personalities / sizeof *personalities && rc == 0; i++)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1, SCMP_A0(SCMP_CMP_EQ, personalities[i]));
  int fd = rc == 0 ? memfd_create("porter-seccomp", MFD_CLOEXEC) : -1;
  if (fd >= 0 && seccomp_export_bpf(ctx, fd) == 0) {
    off_t n = lseek(fd, 0, SEEK_END);
    size_t count = n > 0 ? (size_t)n / sizeof *program : 0;
    program = count > 0 && count <= 65535 && (size_t)n % sizeof *program == 0 ? malloc((size_t)n) : NULL;
    if (program && pread(fd, program, (size_t)n, 0) == n) {
      program_len = (unsigned short)count;
    } else {
      free(program);
      program = NULL;
    }
  }
  if (fd >= 0) close(fd);
  seccomp_release(ctx);
  /* libseccomp's rule tree took ~300 KiB of heap: freed, the pages would stay dirty for pid 1's
   * life (every idle sandbox's); given back, pid 1 keeps only the program */
  malloc_trim(0);
  return program ? 0 : -1;
}

int seccomp_confine(void) {
  if (!program && compile() != 0) return -1;
  struct sock_fprog fp = {program_len, program};
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp);
}
