/* Which clients the API answers (clients.c). */
#ifndef CLIENTS_H
#define CLIENTS_H

#include "server.h"
#include "spool.h"

/* Host (a header's value, port and all) is an address, a loopback name, listen_host or one of
 * names; origin is NULL or one of origins. */
int api_host_allowed(const char *host, const char *listen_host, char *const *names, int n);
int api_origin_allowed(const char *origin, char *const *origins, int n);
/* Why a request with these headers is refused (in buf), or NULL. */
const char *api_client_refusal(const char *host, const char *origin, char *buf, size_t n);
int runtime_terminate(const char *id);  /* 1 if it was live */
int runtime_live(const char *id);       /* running (exec possible) */
int runtime_count(void);
/* Runs argv inside the sandbox; answers 0 and fills out/err/code, or an HTTP status. */
/* Runs argv in the sandbox; 0 with *json the ExecResponse (on disk), else an HTTP status and
 * why. */
/* client: the requester's socket, watched: if it goes away first, the command is killed (499) */
int runtime_exec(const char *id, json_t *argv, int client, spool *json, char *why, size_t n);
/* A running sandbox's scratch dir as the server reaches it (its /tmp and writable layer are in
 * it: "tmp", "upper"), the ids it runs as, and whether it has a writable layer (not the host's
 * root). 0 if it is not running. */
int runtime_scratch(const char *id, char *out, size_t n, unsigned long *uid_base, int *layered);

#endif
