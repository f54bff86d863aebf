/* The launcher's command line, built: a growing argv (argv_buf) and the early options that a
 * cold launcher (runtime.c) and a warm one (pool.c) both start with. The flags themselves are
 * launch_flags.h's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "launch_flags.h"
#include "server.h"
#include "proc.h"
#include "launchargs.h"

void argv_add(argv_buf *a, const char *s) {
  if (a->oom) return;
  if (a->n + 2 > a->cap) {
    int cap = a->cap ? a->cap * 2 : 64;
    char **v = realloc(a->v, sizeof *v * (size_t)cap);
    if (!v) {
      a->oom = 1;
      return;
    }
    a->v = v, a->cap = cap;
  }
  if (!(a->v[a->n] = strdup(s))) {
    a->oom = 1;
    return;
  }
  a->v[++a->n] = NULL;
}

void argv_addf(argv_buf *a, const char *fmt, unsigned long v) {
  char buf[32];
  snprintf(buf, sizeof buf, fmt, v);
  argv_add(a, buf);
}

void argv_free(argv_buf *a) {
  for (int i = 0; i < a->n; i++) free(a->v[i]);
  free(a->v);
  memset(a, 0, sizeof *a);
}

void launch_early_args(argv_buf *a, const launch_early *e) {
  char helper[4096];
  argv_add(a, helper_path("porter-sandbox-exec", helper, sizeof helper));
  argv_add(a, LF_LAUNCH);
  if (e->prestart) argv_add(a, LF_PRESTART);
  argv_add(a, LF_PARENT), argv_addf(a, "%lu", (unsigned long)getpid());
  argv_add(a, LF_STATUS_FD), argv_add(a, "3");
  if (cfg.sandbox_nofile) argv_add(a, LF_NOFILE), argv_addf(a, "%lu", cfg.sandbox_nofile);
  if (e->network) argv_add(a, LF_SLIRP);
  if (e->network && cfg.allow_private_egress) argv_add(a, LF_ALLOW_PRIVATE);
  if (e->proxy_port) argv_add(a, LF_EGRESS_PROXY), argv_addf(a, "%lu", (unsigned long)e->proxy_port);
  size_t i;
  json_t *v;
  json_array_foreach(e->allow, i, v) argv_add(a, LF_ALLOW), argv_add(a, json_string_value(v));
  if (e->forward_port) argv_add(a, LF_FORWARD), argv_addf(a, "%lu", (unsigned long)e->forward_port);
  for (int k = 0; k < e->ncgroups; k++) argv_add(a, LF_CGROUP), argv_add(a, e->cgroups[k]);
}
