/* Child processes: the sandbox helpers, skopeo. posix_spawn rather than fork: the server has
 * hundreds of threads and a large address space, and copying its page tables for every
 * sandbox and exec shows in the latencies. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pthread.h>
#include "server.h"
#include "proc.h"

extern char **environ;

pid_t proc_spawn(char *const argv[], char *const envp[], int out, int err, int extra) {
  return proc_spawn_fds(argv, envp, out, err, &extra, 1);
}

pid_t proc_spawn_fds(char *const argv[], char *const envp[], int out, int err, const int *fds, int n) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, dfl;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  posix_spawn_file_actions_adddup2(&fa, err, 2);
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) posix_spawn_file_actions_adddup2(&fa, fds[i], 3 + i);
  posix_spawnattr_init(&at);
  sigemptyset(&none);
  sigemptyset(&dfl);
  sigaddset(&dfl, SIGPIPE);
  posix_spawnattr_setsigmask(&at, &none); /* the server blocks TERM/INT in its threads */
  posix_spawnattr_setsigdefault(&at, &dfl);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, envp ? envp : environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  return rc == 0 ? pid : -1;
}

int proc_wait(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Keeps the last n-1 bytes of what arrives (the end of a message matters most). */
static void keep(char *buf, size_t n, size_t *have, const char *p, size_t len) {
  if (!buf || n == 0) return;
  if (len >= n - 1) {
    memcpy(buf, p + len - (n - 1), n - 1);
    *have = n - 1;
  } else {
    if (*have + len > n - 1) {
      size_t drop = *have + len - (n - 1);
      memmove(buf, buf + drop, *have - drop);
      *have -= drop;
    }
    memcpy(buf + *have, p, len);
    *have += len;
  }
  buf[*have] = '\0';
}

int proc_run(char *const argv[], char *out, size_t on, char *err, size_t en) {
  if (out && on) out[0] = '\0';
  if (err && en) err[0] = '\0';
  int po[2], pe[2];
  if (pipe2(po, O_CLOEXEC) != 0) return -1;
  if (pipe2(pe, O_CLOEXEC) != 0) {
    close(po[0]), close(po[1]);
    return -1;
  }
  pid_t pid = proc_spawn(argv, NULL, po[1], pe[1], -1);
  close(po[1]);
  close(pe[1]);
  if (pid < 0) {
    close(po[0]), close(pe[0]);
    if (err && en) snprintf(err, en, "cannot run %s: %s", argv[0], strerror(errno));
    return -1;
  }
  struct pollfd p[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
  size_t have[2] = {0, 0};
  char chunk[8192];
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = read(p[i].fd, chunk, sizeof chunk);
      if (r <= 0) {
        close(p[i].fd);
        p[i].fd = -1;
        open_fds--;
      } else {
        keep(i ? err : out, i ? en : on, &have[i], chunk, (size_t)r);
      }
    }
  }
  for (int i = 0; i < 2; i++)
    if (p[i].fd >= 0) close(p[i].fd);
  return proc_wait(pid);
}

/* The directory of our own executable, read once: helpers are looked up on every sandbox start
 * and every exec. */
static char self_dir[4096];
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

static void find_self(void) {
  ssize_t len = readlink("/proc/self/exe", self_dir, sizeof self_dir - 1);
  self_dir[len > 0 ? len : 0] = '\0';
  char *slash = strrchr(self_dir, '/');
  if (slash) *slash = '\0';
}

const char *helper_path(const char *name, char *out, size_t n) {
  pthread_once(&self_once, find_self);
  snprintf(out, n, "%.3900s/%s", self_dir, name);
  return out;
}
