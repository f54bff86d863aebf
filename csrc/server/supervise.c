/* The live sandboxes' launchers, watched from one thread: an epoll loop over each launcher's
 * stdout and stderr (the workload's output, logged line by line). A sandbox has ended once both
 * are over: their write ends are held by the launcher, its pid 1 and the workload's processes,
 * all in the sandbox's pid namespace (which dies with pid 1, and pid 1 with the launcher), and
 * by nothing else (its helpers have /dev/null for output), so the end of both is the end of all
 * of them; the launcher is then waited for. A live sandbox costs no thread of ours, only two
 * descriptors and a few bytes (a pidfd each would have been a third: 5000 sandboxes would not
 * fit in a hard limit of 20000 open files); the threads that start a sandbox and that clean up
 * after one last as long as that takes.
 *
 * The loop also spawns every launcher: the kernel sends a child's parent-death signal when the
 * thread that made it ends (prctl(2)), and a launcher must outlive the thread that started its
 * sandbox, but not the server. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include "logs.h"
#include "proc.h"
#include "supervise.h"

/* A line longer than this is logged in pieces of this size. */
#define CHUNK 65536
/* A read's worth: what a burst left in the pipe (it holds 1 MiB) comes in one read and one
 * transaction, not sixteen */
#define READ_MAX (1 << 20)

enum { OUT, ERR };

typedef struct watch watch;
typedef struct slot {
  watch *w;
  int kind; /* OUT or ERR */
} slot;

struct watch {
  char id[40];
  pid_t pid;
  int fd[2];          /* stdout, stderr; -1 once over */
  char *part[2];      /* a line in the making, until its newline comes */
  size_t npart[2];
  int finished;
  slot slots[2];
  supervise_end end;
  void *ctx;
  watch *next; /* in the list of arrivals, then of those done in a batch */
};

typedef struct spawn_req {
  char *const *argv, *const *envp;
  int out, err;
  const int *fds;
  int nfds;
  pid_t pid;
  int done;
  struct spawn_req *next;
} spawn_req;

static int ep = -1, wake = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spawned = PTHREAD_COND_INITIALIZER;
static spawn_req *requests;
static watch *arrivals; /* watched once the loop has them in its epoll set */
static int watching;
static char buf[READ_MAX]; /* the loop's alone */

static void forget(watch *w, int kind) {
  if (w->fd[kind] < 0) return;
  epoll_ctl(ep, EPOLL_CTL_DEL, w->fd[kind], NULL);
  close(w->fd[kind]);
  w->fd[kind] = -1;
}

/* One read of stream i, its complete lines logged; returns 0, 1 once the stream is over, or 2 if
 * there was nothing to read. */
static int pump(watch *w, int i) {
  static const char *level[2] = {"info", "error"};
  size_t have = w->npart[i];
  if (have) memcpy(buf, w->part[i], have);
  ssize_t r = read(w->fd[i], buf + have, READ_MAX - have);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 2;
  free(w->part[i]);
  w->part[i] = NULL, w->npart[i] = 0;
  if (r <= 0) {
    if (have) log_text(w->id, level[i], buf, have, CHUNK, 1);
    forget(w, i);
    return 1;
  }
  have += (size_t)r;
  /* what one read brought, in one transaction: a workload printing fast is not slowed to one
   * commit a line */
  size_t start = log_text(w->id, level[i], buf, have, CHUNK, 0);
  if (start < have) {
    w->part[i] = malloc(have - start);
    if (w->part[i]) {
      memcpy(w->part[i], buf + start, have - start);
      w->npart[i] = have - start;
    } else { /* out of memory: the line is cut here rather than lost */
      log_text(w->id, level[i], buf + start, have - start, CHUNK, 1);
    }
  }
  return 0;
}

static void *ending(void *arg) {
  watch *w = arg;
  int code = proc_wait(w->pid); /* it has closed its output: it is ending, if not gone */
  w->end(w->ctx, code);
  free(w);
  return NULL;
}

static void finish(watch *w) {
  pthread_mutex_lock(&lock);
  watching--;
  pthread_mutex_unlock(&lock);
  pthread_t t;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 256 * 1024);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&t, &at, ending, w) != 0) ending(w); /* no thread to be had: here, then */
  pthread_attr_destroy(&at);
}

/* A new watch into the epoll set; the loop's alone from here on. */
static void arm(watch *w, watch **done) {
  for (int k = OUT; k <= ERR; k++) {
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &w->slots[k]};
    if (w->fd[k] >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, w->fd[k], &e) != 0) {
      close(w->fd[k]); /* out of memory: this stream's output is lost, not the sandbox */
      w->fd[k] = -1;
    }
  }
  if (w->fd[OUT] < 0 && w->fd[ERR] < 0) {
    w->finished = 1;
    w->next = *done;
    *done = w;
  }
}

static void serve_requests(watch **done) {
  uint64_t n;
  if (read(wake, &n, sizeof n) < 0) {
  } /* EAGAIN: a batch before took what woke it */
  pthread_mutex_lock(&lock);
  spawn_req *q = requests;
  watch *w = arrivals;
  requests = NULL, arrivals = NULL;
  pthread_mutex_unlock(&lock);
  while (w) {
    watch *next = w->next;
    arm(w, done);
    w = next;
  }
  while (q) {
    spawn_req *next = q->next;
    pid_t pid = proc_spawn_fds(q->argv, q->envp, q->out, q->err, q->fds, q->nfds);
    pthread_mutex_lock(&lock);
    q->pid = pid, q->done = 1; /* q is its caller's, and may be gone once done is seen */
    pthread_cond_broadcast(&spawned);
    pthread_mutex_unlock(&lock);
    q = next;
  }
}

static void *loop(void *arg) {
  (void)arg;
  struct epoll_event ev[64];
  for (;;) {
    int n = epoll_wait(ep, ev, 64, -1);
    watch *done = NULL;
    for (int i = 0; i < n; i++) {
      slot *s = ev[i].data.ptr;
      if (!s) {
        serve_requests(&done);
        continue;
      }
      watch *w = s->w;
      if (w->fd[s->kind] < 0) continue; /* already done with, earlier in this batch */
      pump(w, s->kind);
      int over = w->fd[OUT] < 0 && w->fd[ERR] < 0;
      if (over && !w->finished) {
        w->finished = 1; /* freed after the batch: a later event of it may still be in ev */
        w->next = done;
        done = w;
      }
    }
    while (done) {
      watch *next = done->next;
      finish(done);
      done = next;
    }
  }
  return NULL;
}

int supervise_start(void) {
  ep = epoll_create1(EPOLL_CLOEXEC);
  wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
  pthread_t t;
  if (ep < 0 || wake < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, wake, &e) != 0 || pthread_create(&t, NULL, loop, NULL) != 0) {
    if (ep >= 0) close(ep);
    if (wake >= 0) close(wake);
    ep = wake = -1;
    return -1;
  }
  pthread_detach(t); /* never joined: it lives as long as the process, as its children must */
  return 0;
}

static void poke(void) {
  uint64_t one = 1;
  if (write(wake, &one, sizeof one) < 0) {
  } /* EAGAIN only: the counter is already set, and the loop will look */
}

pid_t supervise_spawn(char *const argv[], char *const envp[], int out, int err, const int *fds, int n) {
  spawn_req q = {argv, envp, out, err, fds, n, -1, 0, NULL};
  pthread_mutex_lock(&lock);
  q.next = requests;
  requests = &q;
  pthread_mutex_unlock(&lock);
  poke();
  pthread_mutex_lock(&lock);
  while (!q.done) pthread_cond_wait(&spawned, &lock);
  pthread_mutex_unlock(&lock);
  return q.pid;
}

int supervise_watch(const char *id, pid_t pid, int out, int err, supervise_end end, void *ctx) {
  watch *w = calloc(1, sizeof *w);
  if (!w) {
    close(out), close(err);
    return -1;
  }
  snprintf(w->id, sizeof w->id, "%s", id);
  w->pid = pid, w->end = end, w->ctx = ctx;
  w->fd[OUT] = out, w->fd[ERR] = err;
  /* room for a burst: a workload printing fast runs ahead of the store by this much, rather
   * than by the 64 KiB a pipe has; the kernel takes the pages only as they fill */
  fcntl(out, F_SETPIPE_SZ, 1 << 20), fcntl(err, F_SETPIPE_SZ, 1 << 20);
  for (int k = OUT; k <= ERR; k++) w->slots[k] = (slot){w, k};
  for (int k = OUT; k <= ERR; k++) fcntl(w->fd[k], F_SETFL, fcntl(w->fd[k], F_GETFL) | O_NONBLOCK);
  pthread_mutex_lock(&lock);
  watching++;
  w->next = arrivals;
  arrivals = w;
  pthread_mutex_unlock(&lock);
  poke();
  return 0;
}

int supervise_count(void) {
  pthread_mutex_lock(&lock);
  int n = watching;
  pthread_mutex_unlock(&lock);
  return n;
}
