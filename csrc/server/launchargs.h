/* The launcher's command line (launchargs.c; its flags: launch_flags.h). */
#ifndef LAUNCHARGS_H
#define LAUNCHARGS_H

#include "server.h"

typedef struct argv_buf {
  char **v; /* NULL-terminated */
  int n, cap, oom;
} argv_buf;
void argv_add(argv_buf *a, const char *s);
void argv_addf(argv_buf *a, const char *fmt, unsigned long v);
void argv_free(argv_buf *a);
typedef struct launch_early {
  int prestart;            /* a warm launcher: the rest comes on fd 4 */
  int network;             /* outbound network (slirp4netns) */
  int proxy_port;          /* the egress proxy's port, or 0 */
  json_t *allow;           /* the allow list, or NULL */
  int forward_port;        /* the sandbox's exposed port, or 0 */
  const char (*cgroups)[512];
  int ncgroups;
} launch_early;
/* A launcher's own environment: never the workload's, which reaches it on a pipe (a host-root
 * process must not see LD_PRELOAD, GCONV_PATH, RES_OPTIONS... of a spec or an image). */
#define LAUNCHER_ENV {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL} /* slirp4netns is looked up in it */
/* The helper's path and the options a launcher starts with. */
void launch_early_args(argv_buf *a, const launch_early *e);

#endif
