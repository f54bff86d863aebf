/* Warm launchers (pool.c). */
#ifndef POOL_H
#define POOL_H

#include "server.h"

typedef struct warm {
  pid_t pid;
  int out, err, status, config; /* our ends of its pipes */
  char cgroup_id[48];           /* the name its cgroups have until a sandbox takes them */
} warm;
void pool_start(void);
/* A launcher already in a cgroup of its own, with its network up: renamed to id's cgroups. */
int pool_take(const char *id, warm *out);
/* Ends a warm launcher and closes its pipes (its cgroups are the caller's: a taken one's are
 * the sandbox's). */
void pool_release(warm *w);
void pool_stop(void);

#endif
