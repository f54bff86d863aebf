/* porter-sandbox-exec --join INIT NET -- argv...: porter-sandboxd's exec helper. Joins the
 * namespaces and root of the sandbox whose pid 1 is INIT (its network too when NET is 1), drops
 * every capability as the sandbox's own processes have none, and runs argv with the environment
 * it was given; exits with argv's status (125 if it could not join). A program of its own so that
 * each exec loads only libc, not the server's libraries. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void drop_capabilities(void) {
  for (int cap = 0; cap <= 63; cap++) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  syscall(SYS_capset, &h, d);
}

static int join(pid_t init, int net) {
  const char *kinds[] = {"ipc", "uts", "net", "pid", "mnt"};
  int fds[5];
  char path[64];
  for (int i = 0; i < 5; i++) {
    fds[i] = -1;
    if (i == 2 && !net) continue;
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)init, kinds[i]);
    if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) return -1;
  }
  /* the root is opened before the mount namespace changes under us */
  snprintf(path, sizeof path, "/proc/%d/root", (int)init);
  int root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -1;
  for (int i = 0; i < 5; i++)
    if (fds[i] >= 0 && setns(fds[i], 0) != 0) return -1;
  if (fchdir(root) != 0 || chroot(".") != 0 || chdir("/") != 0) return -1;
  drop_capabilities();
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 6 || strcmp(argv[1], "--join") || strcmp(argv[4], "--")) {
    fprintf(stderr, "usage: porter-sandbox-exec --join INIT NET -- command [args]\n");
    return 125;
  }
  if (join((pid_t)atoi(argv[2]), atoi(argv[3])) != 0) return 125;
  /* joining a pid namespace takes effect for children: fork once more */
  pid_t child = fork();
  if (child < 0) return 125;
  if (child == 0) {
    execvp(argv[5], argv + 5);
    fprintf(stderr, "%s: %s\n", argv[5], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  int st;
  while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
  }
  /* _exit: nothing to flush, and a sanitizer's exit-time leak scan cannot work from inside the
   * sandbox's mount namespace */
  _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}
