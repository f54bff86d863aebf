/* The exec client (execclient.c). */
#ifndef EXECCLIENT_H
#define EXECCLIENT_H

#include "server.h"
#include "spool.h"

/* Runs cmd in sandbox id (its dir, ids, cwd and env) through its pid 1; its ExecResponse into
 * json. 0, or an HTTP status with why: 409 the sandbox ended, 499 the client went away. */
int exec_run(const char *id, const char *dir, unsigned uid, unsigned gid, const char *cwd, json_t *cmd, char **env,
             int client, spool *json, char *why, size_t wn);

#endif
