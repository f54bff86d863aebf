/* How many sandboxes run at once: at most --max-sandboxes, and the sum of their memory limits
 * at most --memory-commit. A sandbox beyond either waits in "queued" (the contract's "waiting
 * for capacity"), in the order it was asked for, until one ends; at most MAX_WAITING wait.
 * The order is the requests': each sandbox joins the line when it is asked for (admit_join,
 * in the request's thread), and its launcher thread, whenever it runs, waits for its turn. */
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include "server.h"
#include "admit.h"

#define MAX_WAITING 1024

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static admit_node *head, **tail = &head;
static int waiting, running;
static unsigned long long committed;

static int room_for(unsigned long long mem) {
  return running < (int)cfg.max_sandboxes && committed + mem <= cfg.memory_commit;
}

static void take(admit_node *n) {
  running++, committed += n->mem;
  n->admitted = 1;
}

static void unlink_node(admit_node *n) {
  for (admit_node **pp = &head; *pp; pp = &(*pp)->next)
    if (*pp == n) {
      *pp = n->next;
      if (tail == &n->next) tail = pp;
      break;
    }
  n->linked = 0;
  waiting--;
}

int admit_join(admit_node *n, unsigned long long mem, const int *cancel) {
  memset(n, 0, sizeof *n);
  n->mem = mem, n->cancel = cancel;
  pthread_mutex_lock(&lock);
  int rc = 0;
  if (head == NULL && room_for(mem)) take(n); /* the common case: nobody waits, there is room */
  else if (waiting >= MAX_WAITING) rc = -1;
  else *tail = n, tail = &n->next, n->linked = 1, waiting++;
  pthread_mutex_unlock(&lock);
  return rc;
}

int admit_wait(admit_node *n) {
  pthread_mutex_lock(&lock);
  int rc;
  for (;;) {
    if (n->admitted) {
      rc = 0;
      break;
    }
    if (__atomic_load_n(n->cancel, __ATOMIC_ACQUIRE)) {
      rc = -1;
      break;
    }
    if (head == n && room_for(n->mem)) {
      unlink_node(n);
      take(n);
      rc = 0;
      break;
    }
    pthread_cond_wait(&changed, &lock);
  }
  if (n->linked) unlink_node(n);
  pthread_cond_broadcast(&changed); /* the next in line may have room now */
  pthread_mutex_unlock(&lock);
  return rc;
}

void admit_leave(admit_node *n) {
  pthread_mutex_lock(&lock);
  if (n->linked) unlink_node(n);
  if (n->admitted) running--, committed -= n->mem, n->admitted = 0;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
}

void admit_wake(void) {
  pthread_mutex_lock(&lock);
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
}
