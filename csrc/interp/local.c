/* porter-lua --local: start porter-sandboxd on a Unix socket of ours alone (a 0600 socket in a
 * 0700 dir: no other account, and no web page, can reach it), wait until /readyz answers,
 * point the script at it through PORTER_SANDBOX_BASE_URL, stop it afterwards. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "interp.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* PORTER_SANDBOXD, else next to this executable, else PATH. */
static void find_daemon(char *out, size_t n) {
  const char *env = getenv("PORTER_SANDBOXD");
  if (env && *env) {
    snprintf(out, n, "%s", env);
    return;
  }
  char self[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len > 0) {
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) {
      *slash = '\0';
      if ((size_t)snprintf(out, n, "%.*s/porter-sandboxd", (int)(n - 17), self) < n && access(out, X_OK) == 0) return;
    }
  }
  snprintf(out, n, "porter-sandboxd");
}

static size_t discard(char *p, size_t s, size_t n, void *ud) {
  (void)p, (void)ud;
  return s * n;
}

static int ready(const char *url) {
  CURL *c = curl_easy_init();
  if (!c) return 0;
  long code = 0;
  curl_easy_setopt(c, CURLOPT_URL, "http://localhost/readyz");
  curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, url + 5); /* unix:PATH */
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(c);
  return code == 200;
}

static void show_log(local_daemon *d) {
  FILE *f = fopen(d->log, "r");
  if (!f) return;
  char line[1024];
  while (fgets(line, sizeof line, f)) fputs(line, stderr);
  fclose(f);
}

static int fail(local_daemon *d, const char *prog, const char *what) {
  fprintf(stderr, "%s: --local: %s\n", prog, what);
  show_log(d);
  local_stop(d);
  return -1;
}

/* os.exit() in the script calls exit() without returning to main: stop the daemon then too */
static local_daemon *active;
static void stop_at_exit(void) {
  if (active) local_stop(active);
}

int local_start(local_daemon *d, const char *prog) {
  active = d;
  atexit(stop_at_exit);
  char path[PATH_MAX];
  find_daemon(path, sizeof path);
  snprintf(d->log, sizeof d->log, "/tmp/porter-sandboxd.%d.log", (int)getpid());
  d->pid = -1;
  if (!d->state[0]) {
    snprintf(d->state, sizeof d->state, "/tmp/porter-local.XXXXXX");
    if (!mkdtemp(d->state)) return fail(d, prog, strerror(errno));
    d->throwaway = 1;
  }
  snprintf(d->sockdir, sizeof d->sockdir, "/tmp/porter-lua.XXXXXX");
  if (!mkdtemp(d->sockdir)) {
    d->sockdir[0] = '\0';
    return fail(d, prog, strerror(errno));
  }
  char listen[128];
  snprintf(listen, sizeof listen, "unix:%s/api.sock", d->sockdir);
  int fds[2];
  if (pipe(fds) != 0) return fail(d, prog, strerror(errno));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return fail(d, prog, strerror(errno));
  if (pid == 0) {
    /* the daemon must not outlive porter-lua, even if porter-lua is killed */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    int null = open("/dev/null", O_RDONLY);
    int log = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(null, 0);
    dup2(fds[1], 1);
    if (log >= 0) dup2(log, 2);
    close(fds[0]);
    close(fds[1]);
    /* PORTER_SANDBOXD_FLAGS: the server's own flags (--image-fallback none, limits), words
     * split on blanks, after ours so that the user's win */
    /* every --local run shares the user's image cache: a private state dir, not a private pull */
    char *argv[64] = {path, "--listen", listen, "--print-url", "--state-dir", d->state, "--shared-images"};
    int n = 7;
    char *flags = getenv("PORTER_SANDBOXD_FLAGS") ? strdup(getenv("PORTER_SANDBOXD_FLAGS")) : NULL;
    for (char *save = NULL, *w = flags ? strtok_r(flags, " \t\n", &save) : NULL; w && n < 63;
         w = strtok_r(NULL, " \t\n", &save))
      argv[n++] = w;
    argv[n] = NULL;
    execvp(path, argv);
    fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
    _exit(127);
  }
  d->pid = pid;
  close(fds[1]);

  char url[512] = "";
  size_t have = 0;
  double deadline = now() + 15;
  while (now() < deadline) {
    struct pollfd p = {fds[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t r = read(fds[0], url + have, sizeof url - 1 - have);
    if (r <= 0) break;
    have += (size_t)r;
    url[have] = '\0';
    if (strchr(url, '\n')) break;
  }
  close(fds[0]);
  char *nl = strchr(url, '\n');
  if (!nl || strncmp(url, "unix:/", 6)) return fail(d, prog, "porter-sandboxd did not print its URL");
  *nl = '\0';
  while (now() < deadline) {
    if (ready(url)) {
      setenv("PORTER_SANDBOX_BASE_URL", url, 1);
      return 0;
    }
    int st;
    if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
      d->pid = -1;
      return fail(d, prog, "porter-sandboxd exited before it was ready");
    }
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
  }
  return fail(d, prog, "porter-sandboxd did not become ready in 15 s");
}

void local_stop(local_daemon *d) {
  active = NULL;
  if (d->pid > 0) {
    kill(d->pid, SIGTERM);
    double deadline = now() + 10;
    int st;
    while (waitpid(d->pid, &st, WNOHANG) == 0) {
      if (now() > deadline) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, &st, 0);
        break;
      }
      struct timespec ts = {0, 20 * 1000000L};
      nanosleep(&ts, NULL);
    }
    d->pid = -1;
  }
  unlink(d->log);
  if (d->sockdir[0]) { /* the server removes its socket as it stops; a killed one leaves it */
    char sock[128];
    snprintf(sock, sizeof sock, "%s/api.sock", d->sockdir);
    unlink(sock);
    rmdir(d->sockdir);
    d->sockdir[0] = '\0';
  }
  if (d->throwaway) { /* its sandboxes' files belong to other uids: rm does what it takes */
    d->throwaway = 0;
    pid_t rm = fork();
    if (rm == 0) {
      execlp("rm", "rm", "-rf", "--", d->state, (char *)NULL);
      _exit(127);
    }
    int st;
    if (rm > 0) waitpid(rm, &st, 0);
  }
}
