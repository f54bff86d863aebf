/* Runtime (runtime.c): sandboxes as processes in namespaces of their own. */
#ifndef RUNTIME_H
#define RUNTIME_H

#include "server.h"

/* Spawns the launcher; host_fd (or -1) is the listener of the sandbox's exposed port, which it
 * takes, closed whatever happens. */
int runtime_start(const char *id, const char *name, json_t *spec, int host_fd);
/* A listener on the host's 127.0.0.1:port, or on a free port when that one is taken (as
 * `docker run -p` gives each container its own); *got is the port. The fd or -1. */
int runtime_host_listener(int port, int *got);

#endif
