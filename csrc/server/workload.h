/* The workload (workload.c). */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#include "server.h"
#include "launchargs.h"
#include "images.h"

/* The environment: the image's, PATH/HOME/HOSTNAME if it lacks them, the egress proxy's, the
 * env groups in order, the spec's env; later wins. NULL when out of memory. */
char **workload_env(json_t *spec, const char *name, const image_info *img, int proxied);
/* The launcher's "--idle" or "-- argv...": command replaces the ENTRYPOINT, args the CMD. */
int workload_command(argv_buf *a, json_t *spec, json_t *config, char *why, size_t wn);

#endif
