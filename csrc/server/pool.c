/* Warm launchers: a few porter-sandbox-exec --launch --prestart processes kept ready, each
 * already in cgroups of its own (joining a v1 cgroup waits out an RCU grace period) and with
 * its network namespace and slirp4netns up, the slow parts of a start. A sandbox with the
 * default network takes one, renames its cgroups to its own id, and sends it the rest of its
 * options; the pool makes another meanwhile. The refill thread lives as long as the server,
 * as the launchers' parent-death signal is tied to the thread that spawned them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include "server.h"
#include "proc.h"
#include "cgroup.h"
#include "pool.h"
#include "launchargs.h"

#define POOL_SIZE 3

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static warm ready[POOL_SIZE];
static int nready, stopping;

void pool_release(warm *w) {
  kill(w->pid, SIGKILL);
  close(w->out), close(w->err), close(w->status), close(w->config);
  proc_wait(w->pid);
}

static void discard(warm *w) {
  pool_release(w);
  cgroup_remove(w->cgroup_id);
}

static int make_one(warm *w, unsigned long serial) {
  snprintf(w->cgroup_id, sizeof w->cgroup_id, "warm-%lu", serial);
  char cg[3][512], why[256];
  int ncg = cgroup_create(w->cgroup_id, cg, why, sizeof why);
  if (ncg < 0) return -1;
  /* the default network's early options: what a sandbox that takes it would have been given */
  launch_early e = {1, 1, 0, NULL, 0, (const char(*)[512])cg, ncg};
  argv_buf a = {0};
  launch_early_args(&a, &e);
  if (a.oom) {
    argv_free(&a);
    cgroup_remove(w->cgroup_id);
    return -1;
  }
  char **argv = a.v;
  int out[2], err[2], st[2], conf[2];
  if (pipe2(out, O_CLOEXEC)) goto fail0;
  if (pipe2(err, O_CLOEXEC)) goto fail1;
  if (pipe2(st, O_CLOEXEC)) goto fail2;
  if (pipe2(conf, O_CLOEXEC)) goto fail3;
  char *env[] = LAUNCHER_ENV;
  int fds[2] = {st[1], conf[0]};
  w->pid = proc_spawn_fds(argv, env, out[1], err[1], fds, 2);
  argv_free(&a);
  close(out[1]), close(err[1]), close(st[1]), close(conf[0]);
  if (w->pid < 0) {
    close(out[0]), close(err[0]), close(st[0]), close(conf[1]);
    cgroup_remove(w->cgroup_id);
    return -1;
  }
  w->out = out[0], w->err = err[0], w->status = st[0], w->config = conf[1];
  return 0;
fail3:
  close(st[0]), close(st[1]);
fail2:
  close(err[0]), close(err[1]);
fail1:
  close(out[0]), close(out[1]);
fail0:
  argv_free(&a);
  cgroup_remove(w->cgroup_id);
  return -1;
}

static void *refill(void *arg) {
  (void)arg;
  unsigned long serial = 0;
  pthread_mutex_lock(&lock);
  while (!stopping) {
    if (nready == POOL_SIZE) {
      pthread_cond_wait(&changed, &lock);
      continue;
    }
    pthread_mutex_unlock(&lock);
    warm w;
    int ok = make_one(&w, serial++) == 0;
    pthread_mutex_lock(&lock);
    if (!ok) { /* not now (out of pids or fds): try again a little later */
      struct timespec until;
      clock_gettime(CLOCK_REALTIME, &until);
      until.tv_sec += 1;
      pthread_cond_timedwait(&changed, &lock, &until);
      continue;
    }
    if (stopping) {
      pthread_mutex_unlock(&lock);
      discard(&w);
      pthread_mutex_lock(&lock);
      break;
    }
    ready[nready++] = w;
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

void pool_start(void) {
  pthread_t t;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 256 * 1024);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  pthread_create(&t, &at, refill, NULL);
  pthread_attr_destroy(&at);
}

int pool_take(const char *id, warm *out) {
  for (;;) {
    pthread_mutex_lock(&lock);
    if (nready == 0 || stopping) {
      pthread_mutex_unlock(&lock);
      return -1;
    }
    *out = ready[--nready];
    pthread_cond_signal(&changed);
    pthread_mutex_unlock(&lock);
    /* it says "warm" once it is in its cgroups (only then may they be renamed) with its
     * network up; one still on its way is waited for a little, one that died is no use */
    struct pollfd p = {out->status, POLLIN, 0};
    char line[8];
    if (poll(&p, 1, 200) != 1 || read(out->status, line, 5) != 5 || memcmp(line, "warm\n", 5) ||
        cgroup_rename(out->cgroup_id, id) != 0) {
      discard(out);
      continue;
    }
    return 0;
  }
}

void pool_stop(void) {
  pthread_mutex_lock(&lock);
  stopping = 1;
  while (nready > 0) {
    warm w = ready[--nready];
    pthread_mutex_unlock(&lock);
    discard(&w);
    pthread_mutex_lock(&lock);
  }
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
}
