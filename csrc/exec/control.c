/* pid 1's exec service (see csrc/include/exec_proto.h): the server connects to ctl.sock, pid 1
 * forks the command, which takes the sandbox's user and working directory and inherits
 * everything else (namespaces, cgroup, capabilities, no_new_privs, seccomp) from pid 1. pid 1
 * also reaps every orphan of the sandbox, and ends with the workload. When the server hangs up
 * before a command has ended (its client went away: a timeout, ^C), the command is killed with
 * everything it started (kill_tree). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "exec_proto.h"
#include "helper.h"

#define MAX_JOBS 256

typedef struct job {
  pid_t pid;
  int conn;
} job;
static job jobs[MAX_JOBS];
static int njobs;
static int chld[2];

static void on_chld(int sig) {
  (void)sig;
  int e = errno;
  if (write(chld[1], "c", 1) < 0) {
  }
  errno = e;
}

int control_listen(void) {
  /* relative to the root we are about to enter, that is in the sandbox's own directory, and
   * short whatever the state dir's path: a unix socket's path holds 107 bytes */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "../%s", EXEC_SOCKET);
  unlink(a.sun_path);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || chmod(a.sun_path, 0600) != 0 || listen(fd, 64) != 0)
    return -1;
  return fd;
}

static void exec_child(const exec_req *rq, char *payload, int out, int err) {
  /* payload: cwd, argv..., "", env... */
  char *end = payload + rq->len, *cwd = payload, *p = cwd + strlen(cwd) + 1;
  char *argv[4096], *env[8192];
  int na = 0, ne = 0;
  while (p < end && *p && na < 4095) argv[na++] = p, p += strlen(p) + 1;
  argv[na] = NULL;
  for (p++; p < end && ne < 8191; p += strlen(p) + 1) env[ne++] = p;
  env[ne] = NULL;
  int null = open("/dev/null", O_RDONLY);
  dup2(null, 0), dup2(out, 1), dup2(err, 2);
  syscall(SYS_close_range, 3, ~0u, 0);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGUSR2, SIG_DFL);
  /* what it starts stays in its tree, even what double-forks away: the orphans of its
   * descendants come to it, not to us, so kill_tree finds them */
  setpgid(0, 0);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (na == 0) _exit(EXIT_SETUP);
  if (creds_become(rq->uid, rq->gid) != 0) {
    dprintf(2, "porter-sandbox: cannot become user %u:%u: %s\n", rq->uid, rq->gid, strerror(errno));
    _exit(EXIT_SETUP);
  }
  if (*cwd && chdir(cwd) != 0) {
    dprintf(2, "porter-sandbox: cannot enter the working directory %s: %s\n", cwd, strerror(errno));
    _exit(EXIT_SETUP);
  }
  extern char **environ;
  environ = env;
  execvp(argv[0], argv);
  dprintf(2, "%s: %s\n", argv[0], strerror(errno));
  _exit(errno == ENOENT ? 127 : 126);
}

static int read_full(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r, n -= (size_t)r;
  }
  return 0;
}

/* One request from the server (the only one who can reach the socket). */
static void serve(int c) {
  struct timeval tv = {5, 0};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  exec_req rq;
  char cbuf[CMSG_SPACE(2 * sizeof(int))];
  struct iovec iov = {&rq, sizeof rq};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  ssize_t r = recvmsg(c, &m, MSG_CMSG_CLOEXEC);
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  int fds[2] = {-1, -1};
  if (cm && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(2 * sizeof(int))) memcpy(fds, CMSG_DATA(cm), sizeof fds);
  char *payload = NULL;
  const char *why = NULL;
  if (r != (ssize_t)sizeof rq || rq.magic != EXEC_MAGIC || fds[0] < 0 || rq.len == 0 || rq.len > EXEC_MAX_PAYLOAD)
    why = "malformed request";
  else if (!(payload = malloc(rq.len + 1)) || read_full(c, payload, rq.len) != 0)
    why = "incomplete request";
  else if (njobs == MAX_JOBS)
    why = "too many execs at once in this sandbox";
  pid_t pid = -1;
  if (!why) {
    payload[rq.len] = '\0';
    pid = fork();
    if (pid == 0) exec_child(&rq, payload, fds[0], fds[1]);
    if (pid < 0) why = "cannot fork (the sandbox's process limit?)";
  }
  free(payload);
  if (fds[0] >= 0) close(fds[0]);
  if (fds[1] >= 0) close(fds[1]);
  if (why) {
    dprintf(c, "error %s\n", why);
    close(c);
    return;
  }
  jobs[njobs++] = (job){pid, c};
}

#define MAX_TREE 4096

static int known(const pid_t *v, int n, pid_t p) {
  for (int i = 0; i < n; i++)
    if (v[i] == p) return 1;
  return 0;
}

/* root and its descendants (by /proc's children lists) into v, stopped as they are found so
 * that none forks meanwhile; returns how many. */
static int stop_tree(pid_t root, pid_t *v) {
  int n = 0;
  v[n++] = root;
  kill(root, SIGSTOP);
  for (int i = 0; i < n; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)v[i]);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      char cpath[320];
      snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", (int)v[i], e->d_name);
      FILE *f = fopen(cpath, "r");
      int c;
      while (f && fscanf(f, "%d", &c) == 1)
        if (n < MAX_TREE && !known(v, n, c)) kill(c, SIGSTOP), v[n++] = c;
      if (f) fclose(f);
    }
    if (d) closedir(d);
  }
  return n;
}

/* An exec's command and everything it started, gone: found and stopped until no more are
 * found (a process forking as we look), then killed at once, its process group too. */
static void kill_tree(pid_t root) {
  static pid_t v[MAX_TREE];
  int n = 0;
  for (int round = 0; round < 8; round++) {
    int now = stop_tree(root, v);
    if (now == n) break;
    n = now;
  }
  kill(-root, SIGKILL);
  for (int i = 0; i < n; i++) kill(v[i], SIGKILL);
}

void control_loop(int lfd, pid_t workload) {
  if (pipe2(chld, O_CLOEXEC | O_NONBLOCK) != 0) _exit(EXIT_SETUP);
  struct sigaction sa = {.sa_handler = on_chld, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
  sigaction(SIGCHLD, &sa, NULL);
  for (;;) {
    /* reap first: a child (the workload even) may have ended before the handler was there */
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
      int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      if (pid == workload) _exit(code);
      for (int i = 0; i < njobs; i++)
        if (jobs[i].pid == pid) {
          if (jobs[i].conn >= 0) dprintf(jobs[i].conn, "exit %d\n", code), close(jobs[i].conn);
          jobs[i] = jobs[--njobs];
          break;
        }
    }
    /* the server sends nothing after its request: a job's connection turning readable is the
     * server hanging up on it */
    struct pollfd p[2 + MAX_JOBS] = {{chld[0], POLLIN, 0}, {lfd, POLLIN, 0}};
    for (int i = 0; i < njobs; i++) p[2 + i] = (struct pollfd){jobs[i].conn, POLLIN | POLLRDHUP, 0};
    if (poll(p, (nfds_t)(2 + njobs), -1) < 0) continue;
    if (p[0].revents) {
      char drain[64];
      while (read(chld[0], drain, sizeof drain) > 0) {
      }
    }
    for (int i = 0; i < njobs; i++)
      if (jobs[i].conn >= 0 && p[2 + i].fd == jobs[i].conn && p[2 + i].revents) {
        close(jobs[i].conn);
        jobs[i].conn = -1; /* reaped as usual, answered to nobody */
        kill_tree(jobs[i].pid);
      }
    if (lfd >= 0 && (p[1].revents & POLLIN)) {
      int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
      if (c >= 0) serve(c);
    }
  }
}
