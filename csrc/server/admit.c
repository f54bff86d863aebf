/* How many sandboxes run at once: at most --max-sandboxes, and the sum of their memory limits
 * at most --memory-commit. A sandbox beyond either waits in "queued" (the contract's "waiting
 * for capacity"), in the order it was asked for, until one ends; at most MAX_WAITING wait. */
#include <stdio.h>
#include <string.h>
#include "server.h"

#define MAX_WAITING 1024

typedef struct waiter {
  const int *cancel;
  struct waiter *next;
} waiter;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static waiter *head, **tail = &head;
static int waiting, running;
static unsigned long long committed;

static int room_for(unsigned long long mem) {
  return running < (int)cfg.max_sandboxes && committed + mem <= cfg.memory_commit;
}

int admit_wait(unsigned long long mem, const int *cancel) {
  pthread_mutex_lock(&lock);
  if (head == NULL && room_for(mem)) { /* the common case: nobody waits, there is room */
    running++, committed += mem;
    pthread_mutex_unlock(&lock);
    return 0;
  }
  if (waiting >= MAX_WAITING) {
    pthread_mutex_unlock(&lock);
    return -2;
  }
  waiter me = {cancel, NULL};
  *tail = &me, tail = &me.next, waiting++;
  int rc;
  for (;;) {
    if (__atomic_load_n(cancel, __ATOMIC_ACQUIRE)) {
      rc = -1;
      break;
    }
    if (head == &me && room_for(mem)) {
      running++, committed += mem;
      rc = 0;
      break;
    }
    pthread_cond_wait(&changed, &lock);
  }
  /* out of the line; the next one may have room now */
  for (waiter **pp = &head; *pp; pp = &(*pp)->next)
    if (*pp == &me) {
      *pp = me.next;
      if (tail == &me.next) tail = pp;
      break;
    }
  waiting--;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
  return rc;
}

void admit_release(unsigned long long mem) {
  pthread_mutex_lock(&lock);
  running--, committed -= mem;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
}

void admit_wake(void) {
  pthread_mutex_lock(&lock);
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
}
