/* Limits (cgroup.c). */
#ifndef CGROUP_H
#define CGROUP_H

#include "server.h"

/* This server's directory in each hierarchy, after removing those of servers that are gone
 * (their sandboxes' processes killed); before any sandbox. */
void cgroup_init(void);
void cgroup_fini(void); /* removes this server's directory and everything left in it */
/* Creates the sandbox's cgroup directories (out: up to 3) with the configured limits; how many. */
int cgroup_create(const char *id, char out[][512], char *why, size_t wn);
void cgroup_remove(const char *id); /* kills what is left in them, then removes them */
int cgroup_rename(const char *from, const char *to);
int cgroup_dirs(const char *id, char out[][512]); /* its directories, made or not; how many */
int cgroup_oom_kills(const char *id); /* processes the OOM killer took in the sandbox */

#endif
