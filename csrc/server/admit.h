/* Room to run (admit.c). */
#ifndef ADMIT_H
#define ADMIT_H

#include "server.h"

typedef struct admit_node {
  unsigned long long mem;
  const int *cancel; /* set (then admit_wake) to stop waiting */
  int admitted, linked;
  struct admit_node *next;
} admit_node;
/* A sandbox of mem bytes joins the line, in the order the requests come: 0, or -1 when too
 * many wait already. */
int admit_join(admit_node *n, unsigned long long mem, const int *cancel);
/* Until its turn and room under --max-sandboxes and --memory-commit: 0 once it holds room, -1
 * if *cancel was set meanwhile. */
int admit_wait(admit_node *n);
void admit_leave(admit_node *n); /* out of the line, its room given back; any time, once */
void admit_wake(void);           /* after setting a waiter's cancel */

#endif
