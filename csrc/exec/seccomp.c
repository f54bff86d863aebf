/* The system calls a sandbox may not make: those Docker's default profile refuses, as a deny
 * list over the calls this kernel knows (libseccomp resolves names for the running
 * architecture). Refused calls fail with EPERM, as under Docker; clone3 fails with ENOSYS, so
 * that libc falls back to clone, whose flags a filter can see. */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include "helper.h"

static const char *const denied[] = {
  /* the kernel, its modules and clocks */
  "acct", "create_module", "delete_module", "finit_module", "init_module", "get_kernel_syms", "query_module",
  "kexec_file_load", "kexec_load", "reboot", "swapon", "swapoff", "syslog", "sysfs", "_sysctl", "uselib",
  "ustat", "nfsservctl", "lookup_dcookie", "quotactl", "quotactl_fd", "clock_adjtime", "clock_settime",
  "clock_settime64", "settimeofday", "stime", "adjtimex", "ioperm", "iopl", "vm86", "vm86old",
  /* mounts and namespaces */
  "mount", "umount", "umount2", "pivot_root", "setns", "unshare", "fsopen", "fsconfig", "fsmount",
  "fspick", "move_mount", "open_tree", "mount_setattr",
  /* keyrings, bpf, perf, other processes' memory, handles that bypass the mount tree */
  "add_key", "request_key", "keyctl", "bpf", "perf_event_open", "process_vm_readv", "process_vm_writev",
  "kcmp", "name_to_handle_at", "open_by_handle_at", "userfaultfd", "io_uring_setup", "io_uring_enter",
  "io_uring_register",
  /* NUMA policy (host-wide memory placement) */
  "get_mempolicy", "set_mempolicy", "mbind", "move_pages", "migrate_pages", NULL,
};

int seccomp_confine(void) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return -1;
  int rc = 0;
  for (int i = 0; denied[i] && rc == 0; i++) {
    int nr = seccomp_syscall_resolve_name(denied[i]);
    if (nr == __NR_SCMP_ERROR) continue; /* not on this architecture */
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
  }
  /* new namespaces: clone with any namespace flag (a plain fork or thread is fine) */
  static const unsigned long ns_flags[] = {CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,   CLONE_NEWNET,
                                           CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP};
  for (size_t i = 0; i < sizeof ns_flags / sizeof *ns_flags && rc == 0; i++)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
  int nr3 = seccomp_syscall_resolve_name("clone3");
  if (rc == 0 && nr3 != __NR_SCMP_ERROR) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr3, 0);
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  return rc;
}
