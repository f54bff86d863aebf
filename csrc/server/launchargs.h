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
/* The helper's path and the options a launcher starts with. */
void launch_early_args(argv_buf *a, const launch_early *e);

#endif
