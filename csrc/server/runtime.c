/* Sandboxes as processes under bubblewrap.
 *
 * Each sandbox gets a launcher thread that builds the bwrap command line, starts it, learns
 * the pid of the sandbox's init from --info-fd, logs the workload's output line by line and
 * waits for it, then records how it ended. Namespaces: pid, ipc, uts (hostname = name),
 * and net unless the sandbox asked for the network. The root is the host's (or a registered
 * image's) directories bound read-only onto a fresh tmpfs, so mount points for volumes can
 * be made; /tmp is a private writable directory; volumes are bound read-write.
 *
 * Exec joins the sandbox's namespaces and root with setns/chroot, drops every capability
 * (as the workload runs with --cap-drop ALL), and forks the command inside its pid namespace.
 * Killing the sandbox's init (pid 1 inside) takes every process of the sandbox with it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "server.h"

#define MAX_OUTPUT (256u << 20) /* per stream of one exec */

typedef struct sandbox_rt {
  char id[40], name[64];
  json_t *spec;
  pid_t bwrap;       /* our child */
  pid_t init;        /* the sandbox's pid 1, as the host sees it */
  int running;
  int net_shared;
  int terminating;
  int64_t deadline_ms; /* ttl; 0 = none */
  char **env;          /* KEY=VALUE, NULL-terminated */
  char tmpdir[4096];
  struct sandbox_rt *next;
} sandbox_rt;

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rt_changed = PTHREAD_COND_INITIALIZER;
static sandbox_rt *sandboxes;
static int stopping;

static sandbox_rt *find(const char *id) {
  for (sandbox_rt *s = sandboxes; s; s = s->next)
    if (!strcmp(s->id, id)) return s;
  return NULL;
}

static void free_rt(sandbox_rt *s) {
  for (char **e = s->env; e && *e; e++) free(*e);
  free(s->env);
  json_decref(s->spec);
  free(s);
}

/* ---- the command line ---- */
typedef struct argv_buf {
  char **v;
  int n, cap;
} argv_buf;

static void add(argv_buf *a, const char *s) {
  if (a->n + 2 > a->cap) {
    a->cap = a->cap ? a->cap * 2 : 64;
    a->v = realloc(a->v, sizeof *a->v * (size_t)a->cap);
  }
  a->v[a->n++] = strdup(s);
  a->v[a->n] = NULL;
}

static void argv_free(argv_buf *a) {
  for (int i = 0; i < a->n; i++) free(a->v[i]);
  free(a->v);
}

/* Directories whose host content must stay visible: a volume may only be mounted under them
 * where the mount point already exists. Any other top-level directory that holds a mount point
 * becomes a fresh tmpfs in the sandbox. */
static int system_dir(const char *name) {
  static const char *const sys[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "var", NULL};
  for (int i = 0; sys[i]; i++)
    if (!strcmp(sys[i], name)) return 1;
  return 0;
}

static int mount_top(json_t *mounts, const char *name) {
  const char *k;
  json_t *v;
  json_object_foreach(mounts, k, v) {
    const char *p = k + 1, *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (strlen(name) == n && !strncmp(p, name, n)) return 1;
  }
  return 0;
}

static const char *image_root(const char *image) {
  for (int i = 0; i < cfg.nimages; i++)
    if (!strcmp(cfg.images[i].name, image)) return cfg.images[i].path;
  return "/";
}

static void bind_root(argv_buf *a, const char *root, json_t *mounts) {
  DIR *d = opendir(root);
  if (!d) return;
  struct dirent *e;
  char src[4096], dst[300], target[4096];
  while ((e = readdir(d))) {
    const char *n = e->d_name;
    if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2]))) continue;
    /* the sandbox's own /proc, /dev, /tmp, /run; no /sys; nothing of the host's state */
    if (!strcmp(n, "proc") || !strcmp(n, "dev") || !strcmp(n, "sys") || !strcmp(n, "tmp") || !strcmp(n, "run") ||
        !strcmp(n, "lost+found"))
      continue;
    snprintf(src, sizeof src, "%s%s%s", root, strcmp(root, "/") ? "/" : "", n);
    snprintf(dst, sizeof dst, "/%s", n);
    struct stat st;
    if (lstat(src, &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      ssize_t len = readlink(src, target, sizeof target - 1);
      if (len <= 0) continue;
      target[len] = '\0';
      add(a, "--symlink"), add(a, target), add(a, dst);
    } else if (S_ISDIR(st.st_mode)) {
      if (mount_top(mounts, n) && !system_dir(n)) {
        add(a, "--tmpfs"), add(a, dst);
      } else {
        add(a, "--ro-bind"), add(a, src), add(a, dst);
      }
    } else if (S_ISREG(st.st_mode)) {
      add(a, "--ro-bind"), add(a, src), add(a, dst);
    }
  }
  closedir(d);
}

static void add_env(char ***env, int *n, const char *k, const char *v) {
  size_t kl = strlen(k);
  for (int i = 0; i < *n; i++)
    if (!strncmp((*env)[i], k, kl) && (*env)[i][kl] == '=') {
      free((*env)[i]);
      (*env)[i] = NULL;
      asprintf(&(*env)[i], "%s=%s", k, v);
      return;
    }
  *env = realloc(*env, sizeof **env * (size_t)(*n + 2));
  asprintf(&(*env)[*n], "%s=%s", k, v);
  (*n)++;
  (*env)[*n] = NULL;
}

/* PATH and friends, then env groups in order, then the spec's env: later wins. */
static char **build_env(json_t *spec, const char *name) {
  char **env = calloc(1, sizeof *env);
  int n = 0;
  add_env(&env, &n, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  add_env(&env, &n, "HOME", "/tmp");
  add_env(&env, &n, "HOSTNAME", name);
  size_t i;
  json_t *g;
  json_array_foreach(json_object_get(spec, "env_groups"), i, g) {
    for (int k = 0; k < cfg.ngroups; k++) {
      if (strcmp(cfg.env_groups[k].name, json_string_value(g))) continue;
      FILE *f = fopen(cfg.env_groups[k].path, "r");
      char line[8192];
      while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq || eq == line) continue;
        *eq = '\0';
        add_env(&env, &n, line, eq + 1);
      }
      if (f) fclose(f);
    }
  }
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(spec, "env"), k, v) add_env(&env, &n, k, json_string_value(v));
  return env;
}

static void build_argv(sandbox_rt *s, argv_buf *a) {
  json_t *spec = s->spec;
  json_t *mounts = json_object_get(spec, "volume_mounts");
  add(a, "bwrap");
  /* if porter-sandboxd dies, its sandboxes die with it (and are marked failed on restart) */
  add(a, "--die-with-parent");
  add(a, "--new-session");
  add(a, "--unshare-pid"), add(a, "--unshare-ipc"), add(a, "--unshare-uts");
  add(a, "--hostname"), add(a, s->name);
  if (!s->net_shared) add(a, "--unshare-net");
  add(a, "--cap-drop"), add(a, "ALL");
  add(a, "--info-fd"), add(a, "3");
  bind_root(a, image_root(json_string_value(json_object_get(spec, "image"))), mounts);
  add(a, "--proc"), add(a, "/proc");
  add(a, "--dev"), add(a, "/dev");
  add(a, "--bind"), add(a, s->tmpdir), add(a, "/tmp");
  add(a, "--tmpfs"), add(a, "/run");
  const char *k;
  json_t *v;
  json_object_foreach(mounts, k, v) {
    char dir[4096];
    volume_data_dir(json_string_value(v), dir, sizeof dir);
    add(a, "--bind"), add(a, dir), add(a, k);
  }
  add(a, "--chdir"), add(a, "/");
  add(a, "--clearenv");
  for (char **e = s->env; *e; e++) {
    char *eq = strchr(*e, '=');
    char key[1024];
    snprintf(key, sizeof key, "%.*s", (int)(eq - *e), *e);
    add(a, "--setenv"), add(a, key), add(a, eq + 1);
  }
  add(a, "--");
  json_t *cmd = json_object_get(spec, "command"), *args = json_object_get(spec, "args");
  size_t i;
  if (json_array_size(cmd) == 0 && json_array_size(args) == 0) {
    /* no workload: idle until terminated, so that exec has something to join */
    add(a, "sleep"), add(a, "infinity");
    return;
  }
  json_array_foreach(cmd, i, v) add(a, json_string_value(v));
  json_array_foreach(args, i, v) add(a, json_string_value(v));
}

/* ---- launching ---- */
extern char **environ;

/* posix_spawn rather than fork: the server has hundreds of threads and a large address space,
 * and copying its page tables for every sandbox and exec shows in the latencies. Output goes to
 * the pipes given; fd 3 (bwrap's --info-fd) when info >= 0. */
static pid_t spawn(char *const argv[], char *const envp[], int out, int err, int info) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, dfl;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  posix_spawn_file_actions_adddup2(&fa, err, 2);
  if (info >= 0) posix_spawn_file_actions_adddup2(&fa, info, 3);
  posix_spawnattr_init(&at);
  sigemptyset(&none);
  sigemptyset(&dfl);
  sigaddset(&dfl, SIGPIPE);
  posix_spawnattr_setsigmask(&at, &none); /* the server blocks TERM/INT in its threads */
  posix_spawnattr_setsigdefault(&at, &dfl);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  return rc == 0 ? pid : -1;
}
static void log_s(const char *id, const char *level, const char *msg) { log_line(id, level, "", msg, strlen(msg)); }

/* Reads the workload's stdout and stderr until both close, logging each line. */
static void pump_output(const char *id, int out, int err) {
  struct pollfd p[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
  char *buf[2] = {malloc(65536), malloc(65536)};
  size_t have[2] = {0, 0};
  const char *level[2] = {"info", "error"};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(p, 2, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = read(p[i].fd, buf[i] + have[i], 65536 - have[i]);
      if (r <= 0) {
        if (have[i]) log_line(id, level[i], "", buf[i], have[i]);
        have[i] = 0;
        close(p[i].fd);
        p[i].fd = -1;
        open_fds--;
        continue;
      }
      have[i] += (size_t)r;
      size_t start = 0;
      for (size_t j = 0; j < have[i]; j++)
        if (buf[i][j] == '\n') {
          log_line(id, level[i], "", buf[i] + start, j - start);
          start = j + 1;
        }
      if (start == 0 && have[i] == 65536) { /* a very long line: log it in pieces */
        log_line(id, level[i], "", buf[i], have[i]);
        start = have[i];
      }
      memmove(buf[i], buf[i] + start, have[i] - start);
      have[i] -= start;
    }
  }
  free(buf[0]);
  free(buf[1]);
}

static pid_t read_child_pid(int fd) {
  char buf[4096];
  size_t have = 0;
  ssize_t r;
  while (have < sizeof buf - 1 && (r = read(fd, buf + have, sizeof buf - 1 - have)) > 0) {
    have += (size_t)r;
    buf[have] = '\0';
    if (strchr(buf, '}')) break;
  }
  buf[have] = '\0';
  const char *p = strstr(buf, "\"child-pid\"");
  if (!p) return -1;
  p = strchr(p, ':');
  return p ? (pid_t)strtol(p + 1, NULL, 10) : -1;
}

/* bwrap reports the sandbox's pid 1 before that process has built the sandbox's root; it
 * forks the workload only once the root is complete. Exec must not join a half-built root, so
 * the sandbox counts as running when pid 1 has a child. */
static void wait_setup(pid_t init) {
  char path[64], buf[32];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)init, (int)init);
  for (int i = 0; i < 20000; i++) {
    FILE *f = fopen(path, "re");
    if (!f) return; /* pid 1 is gone: the launcher sees bwrap exit next */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    if (n > 0) return;
    struct timespec ts = {0, 500000L};
    nanosleep(&ts, NULL);
  }
}

static void *launcher(void *arg) {
  sandbox_rt *s = arg;
  sandbox_set_phase(s->id, "creating", 0, 0, 0);
  argv_buf a = {0};
  build_argv(s, &a);
  int out[2], err[2], info[2];
  if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(info, O_CLOEXEC)) {
    log_s(s->id, "error", "could not create pipes for the sandbox");
    sandbox_set_phase(s->id, "failed", 0, 0, 0);
    argv_free(&a);
    goto done;
  }
  pid_t pid = spawn(a.v, environ, out[1], err[1], info[1]);
  argv_free(&a);
  close(out[1]);
  close(err[1]);
  close(info[1]);
  if (pid < 0) {
    close(out[0]), close(err[0]), close(info[0]);
    log_s(s->id, "error", "could not start bwrap (is bubblewrap installed?)");
    sandbox_set_phase(s->id, "failed", 0, 0, 0);
    goto done;
  }
  pid_t init = read_child_pid(info[0]);
  close(info[0]);
  if (init > 0) wait_setup(init);
  pthread_mutex_lock(&rt_lock);
  s->bwrap = pid;
  s->init = init;
  s->running = init > 0 && !s->terminating;
  int killed_early = s->terminating && init > 0;
  pthread_mutex_unlock(&rt_lock);
  if (killed_early) kill(init, SIGKILL);
  if (init > 0 && !killed_early) sandbox_set_phase(s->id, "running", 0, 0, 1);

  pump_output(s->id, out[0], err[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  pthread_mutex_lock(&rt_lock);
  s->running = 0;
  int terminated = s->terminating;
  pthread_mutex_unlock(&rt_lock);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  if (stopping && !terminated) {
    log_s(s->id, "error", "porter-sandboxd stopped while this sandbox was live; it is gone");
    sandbox_set_phase(s->id, "failed", 0, 0, 0);
  } else if (terminated) {
    sandbox_set_phase(s->id, "terminated", 0, 0, 0);
  } else if (init <= 0) {
    sandbox_set_phase(s->id, "failed", 1, code, 0);
  } else {
    sandbox_set_phase(s->id, code == 0 ? "succeeded" : "failed", 1, code, 0);
  }
done:
  pthread_mutex_lock(&rt_lock);
  for (sandbox_rt **pp = &sandboxes; *pp; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  pthread_cond_broadcast(&rt_changed);
  pthread_mutex_unlock(&rt_lock);
  rm_rf(s->tmpdir);
  free_rt(s);
  return NULL;
}

int runtime_start(const char *id, const char *name, json_t *spec) {
  sandbox_rt *s = calloc(1, sizeof *s);
  snprintf(s->id, sizeof s->id, "%s", id);
  snprintf(s->name, sizeof s->name, "%s", name);
  s->spec = json_incref(spec);
  json_t *eg = json_object_get(spec, "egress");
  json_t *allowed = eg ? json_object_get(eg, "allowed_destinations") : NULL;
  /* no egress rule: the network as usual; an allow list cannot be enforced here, so it gets the
   * host network with a warning; an empty allow list gets no network at all */
  s->net_shared = !(allowed && json_array_size(allowed) == 0);
  if (json_array_size(json_object_get(spec, "networking"))) s->net_shared = 1;
  if (allowed && json_array_size(allowed) > 0)
    log_s(id, "warning", "egress.allowed_destinations is not enforced by porter-sandboxd: the sandbox has the host network");
  json_t *ttl = json_object_get(spec, "ttl_seconds");
  if (json_is_integer(ttl)) s->deadline_ms = now_ms() + json_integer_value(ttl) * 1000;
  s->env = build_env(spec, name);
  snprintf(s->tmpdir, sizeof s->tmpdir, "%s/sandboxes/%s/tmp", cfg.state_dir, id);
  mkdir_p(s->tmpdir, 01777);
  chmod(s->tmpdir, 01777);
  pthread_mutex_lock(&rt_lock);
  s->next = sandboxes;
  sandboxes = s;
  pthread_mutex_unlock(&rt_lock);
  pthread_t t;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 256 * 1024);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  int rc = pthread_create(&t, &at, launcher, s);
  pthread_attr_destroy(&at);
  return rc;
}

int runtime_terminate(const char *id) {
  pthread_mutex_lock(&rt_lock);
  sandbox_rt *s = find(id);
  if (!s) {
    pthread_mutex_unlock(&rt_lock);
    return 0;
  }
  s->terminating = 1;
  s->running = 0;
  if (s->init > 0) kill(s->init, SIGKILL); /* pid 1 of the namespace: the kernel kills the rest */
  if (s->bwrap > 0) kill(s->bwrap, SIGKILL);
  /* wait until the launcher recorded the end, so that a refresh right after says terminated */
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  while (find(id) && pthread_cond_timedwait(&rt_changed, &rt_lock, &until) == 0) {
  }
  pthread_mutex_unlock(&rt_lock);
  return 1;
}

int runtime_live(const char *id) {
  pthread_mutex_lock(&rt_lock);
  sandbox_rt *s = find(id);
  int live = s && s->running;
  pthread_mutex_unlock(&rt_lock);
  return live;
}

int runtime_count(void) {
  int n = 0;
  pthread_mutex_lock(&rt_lock);
  for (sandbox_rt *s = sandboxes; s; s = s->next) n++;
  pthread_mutex_unlock(&rt_lock);
  return n;
}

int runtime_tmpdir(const char *id, char *out, size_t n) {
  pthread_mutex_lock(&rt_lock);
  sandbox_rt *s = find(id);
  int ok = s && s->running;
  if (ok) snprintf(out, n, "%s", s->tmpdir);
  pthread_mutex_unlock(&rt_lock);
  return ok;
}

void runtime_ttl_tick(void) {
  char expired[64][40];
  int n = 0;
  int64_t now = now_ms();
  pthread_mutex_lock(&rt_lock);
  for (sandbox_rt *s = sandboxes; s && n < 64; s = s->next)
    if (s->deadline_ms && now >= s->deadline_ms && !s->terminating) snprintf(expired[n++], 40, "%s", s->id);
  pthread_mutex_unlock(&rt_lock);
  for (int i = 0; i < n; i++) {
    log_s(expired[i], "info", "ttl_seconds elapsed: terminating");
    runtime_terminate(expired[i]);
  }
}

void runtime_stop_all(void) {
  pthread_mutex_lock(&rt_lock);
  stopping = 1;
  for (sandbox_rt *s = sandboxes; s; s = s->next) {
    if (s->init > 0) kill(s->init, SIGKILL);
    if (s->bwrap > 0) kill(s->bwrap, SIGKILL);
  }
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  while (sandboxes && pthread_cond_timedwait(&rt_changed, &rt_lock, &until) == 0) {
  }
  pthread_mutex_unlock(&rt_lock);
}

/* ---- exec ---- */
/* The helper that joins a sandbox (csrc/exec/): a small program of its own, next to this one,
 * so that starting it loads no more than libc. */
static char helper_path[4096];

static const char *exec_helper(void) {
  if (!helper_path[0]) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    snprintf(helper_path, sizeof helper_path, "%.4000s/porter-sandbox-exec", self);
  }
  return helper_path;
}

typedef struct outbuf {
  char *p;
  size_t n, cap;
  int truncated;
} outbuf;

static void outbuf_add(outbuf *b, const char *p, size_t n) {
  if (b->n + n > MAX_OUTPUT) {
    b->truncated = 1;
    n = MAX_OUTPUT - b->n;
  }
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->n + n) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) {
      b->truncated = 1;
      return;
    }
    b->p = q, b->cap = cap;
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
}

int runtime_exec(const char *id, json_t *cmd, json_t **result, char *why, size_t wn) {
  pthread_mutex_lock(&rt_lock);
  sandbox_rt *s = find(id);
  if (!s || !s->running || s->init <= 0) {
    pthread_mutex_unlock(&rt_lock);
    return 409;
  }
  pid_t init = s->init;
  int net = !s->net_shared;
  size_t nenv = 0;
  while (s->env[nenv]) nenv++;
  char **env = calloc(nenv + 1, sizeof *env);
  for (size_t i = 0; i < nenv; i++) env[i] = strdup(s->env[i]);
  pthread_mutex_unlock(&rt_lock);

  size_t argc = json_array_size(cmd);
  char **argv = calloc(argc + 6, sizeof *argv);
  char initbuf[24], netbuf[4];
  snprintf(initbuf, sizeof initbuf, "%d", (int)init);
  snprintf(netbuf, sizeof netbuf, "%d", net);
  argv[0] = strdup(exec_helper());
  argv[1] = strdup("--join");
  argv[2] = strdup(initbuf);
  argv[3] = strdup(netbuf);
  argv[4] = strdup("--");
  for (size_t i = 0; i < argc; i++) argv[5 + i] = strdup(json_string_value(json_array_get(cmd, i)));
  argc += 5;
  char exec_id[40];
  new_id("exec", exec_id, sizeof exec_id);

  int out[2], err[2];
  int rc = 0;
  if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    snprintf(why, wn, "could not create pipes");
    rc = 500;
    goto cleanup;
  }
  pid_t pid = spawn(argv, env, out[1], err[1], -1);
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    close(out[0]), close(err[0]);
    snprintf(why, wn, "could not start the command");
    rc = 500;
    goto cleanup;
  }
  outbuf b[2] = {{0}, {0}};
  struct pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2, st = 0, exited = 0;
  char chunk[65536];
  /* The exec ends when its command does, even if something it started in the background
   * still holds the output pipes: once the command exited, take what is buffered and stop. */
  while (open_fds > 0) {
    int ready = poll(p, 2, exited ? 0 : 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready == 0 && exited) break;
    for (int i = 0; ready > 0 && i < 2; i++) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = read(p[i].fd, chunk, sizeof chunk);
      if (r <= 0) {
        close(p[i].fd);
        p[i].fd = -1;
        open_fds--;
      } else {
        outbuf_add(&b[i], chunk, (size_t)r);
      }
    }
    if (!exited && waitpid(pid, &st, WNOHANG) == pid) exited = 1;
  }
  for (int i = 0; i < 2; i++)
    if (p[i].fd >= 0) close(p[i].fd);
  if (!exited)
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (code == 125 && b[0].n == 0 && b[1].n == 0 && !runtime_live(id)) {
    rc = 409; /* it ended while we were joining it */
  } else {
    log_text(id, "info", exec_id, b[0].p ? b[0].p : "", b[0].n);
    log_text(id, "error", exec_id, b[1].p ? b[1].p : "", b[1].n);
    *result = json_pack("{sososi}", "stdout", json_bytes(b[0].p ? b[0].p : "", b[0].n), "stderr",
                        json_bytes(b[1].p ? b[1].p : "", b[1].n), "exit_code", code);
  }
  free(b[0].p);
  free(b[1].p);
cleanup:
  for (size_t i = 0; i < argc; i++) free(argv[i]);
  free(argv);
  for (size_t i = 0; i < nenv; i++) free(env[i]);
  free(env);
  return rc;
}
