/* porter-sandbox-exec --join INIT [--user UID GID] [--cwd DIR] [--cgroup DIR]... -- command...: runs command in
 * the sandbox whose pid 1 is INIT (as the host sees it), with exactly the workload's
 * confinement: its namespaces (the user namespace first, as it owns the others), its root,
 * its uid and gid, its capabilities. Exits with the command's status, EXIT_SETUP if it could
 * not join. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"

static int join(pid_t init) {
  /* the user namespace last: as the host's root we may enter each of the others, including a
   * shared host network that the sandbox's user namespace has no say over */
  static const char *const kinds[] = {"ipc", "uts", "net", "cgroup", "pid", "mnt", "user"};
  enum { N = sizeof kinds / sizeof *kinds };
  int fds[N];
  char path[64];
  for (int i = 0; i < N; i++) {
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)init, kinds[i]);
    if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) return -1;
  }
  for (int i = 0; i < N; i++) {
    if (setns(fds[i], 0) != 0) return -1;
    close(fds[i]);
  }
  /* setns(mnt) left us at the root of the sandbox's mount namespace: its pivoted root */
  if (chdir("/") != 0) return -1;
  return 0;
}

int join_main(int argc, char **argv) {
  if (argc < 4) {
    report("usage: --join INIT [--user UID GID] [--cwd DIR] -- command...");
    return EXIT_SETUP;
  }
  pid_t init = (pid_t)atoi(argv[1]);
  uid_t uid = 0;
  gid_t gid = 0;
  const char *cwd = NULL;
  int i = 2;
  for (; i < argc && strcmp(argv[i], "--"); i++) {
    if (!strcmp(argv[i], "--user") && i + 2 < argc) uid = (uid_t)atoi(argv[i + 1]), gid = (gid_t)atoi(argv[i + 2]), i += 2;
    else if (!strcmp(argv[i], "--cwd") && i + 1 < argc) cwd = argv[++i];
    else if (!strcmp(argv[i], "--cgroup") && i + 1 < argc) {
      if (join_cgroup(argv[++i]) != 0) return report("cannot join the sandbox's cgroup: %s", strerror(errno)), EXIT_SETUP;
    }
    else return report("unknown option %s", argv[i]), EXIT_SETUP;
  }
  if (i + 1 >= argc) return report("no command after --"), EXIT_SETUP;
  char **cmd = argv + i + 1;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (join(init) != 0) return EXIT_SETUP; /* the sandbox ended meanwhile: the server answers 409 */
  /* joining a pid namespace takes effect for children: fork once more */
  int life[2];
  if (pipe2(life, O_CLOEXEC) != 0) return EXIT_SETUP;
  pid_t child = fork();
  if (child < 0) return EXIT_SETUP;
  if (child == 0) {
    if (creds_become(uid, gid) != 0) {
      dprintf(2, "porter-sandbox: cannot become user %u:%u: %s\n", uid, gid, strerror(errno));
      _exit(EXIT_SETUP);
    }
    /* after the change of uid, which clears it; then make sure our parent is still there (its
     * end of the life pipe open), as getppid() cannot see it from this pid namespace */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(life[1]);
    struct pollfd lp = {life[0], POLLIN, 0};
    if (poll(&lp, 1, 0) == 1) _exit(EXIT_SETUP);
    close(life[0]);
    if (cwd && chdir(cwd) != 0) {
      dprintf(2, "porter-sandbox: cannot enter the working directory %s: %s\n", cwd, strerror(errno));
      _exit(EXIT_SETUP);
    }
    execvp(cmd[0], cmd);
    dprintf(2, "%s: %s\n", cmd[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(life[0]);
  int st;
  while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
  }
  /* _exit: nothing to flush, and a sanitizer's exit-time leak scan cannot work from inside the
   * sandbox's mount namespace */
  _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}
