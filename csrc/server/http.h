/* Per-request state (http.c). */
#ifndef HTTP_H
#define HTTP_H

#include "server.h"
#include <microhttpd.h>

typedef struct req {
  const struct route *route;
  char params[2][256];
  int authorized;
  /* buffered JSON body */
  char *body;
  size_t len, cap;
  int too_big;
  char bad_query[160]; /* a query argument with a NUL or control character */
  int bad_framing;     /* two Content-Lengths, or one with Transfer-Encoding */
  int foreign;         /* from a web page, or to a Host we do not answer to (clients.c) */
  char refusal[320];   /* why, then */
  /* what the route keeps for a streamed body (files.c's upload), freed by its end hook */
  void *route_ctx;
} req;

typedef enum MHD_Result (*handler_fn)(struct MHD_Connection *c, req *r);
/* From api/openapi.yaml (scripts/gen_contract.lua): op_id, OPW_<op> = id, method, path, params;
 * OPT_<op> = the query, body and answer types. */
#include "contract_gen.h"

typedef struct route {
  const char *op;      /* operationId */
  const char *method;
  const char *pattern; /* the contract's path; each "{name}" captures one segment */
  int nparams;
  const ct_type *query;
  ct_body body;
  const ct_type *body_type; /* body_object() checks a JSON body against it */
  const ct_type *answer;
  int octets;
  handler_fn fn;
  /* streamed bodies: begin at the headers, chunk per piece of body, end when the request is
   * done, however it ended (frees route_ctx) */
  void (*begin)(struct MHD_Connection *c, req *r);
  void (*chunk)(req *r, const char *data, size_t n);
  void (*end)(req *r);
} route;
extern const route routes[OP__COUNT];
/* The route of method and path, its captures in params; NULL if none (*method_mismatch: the
 * path is known, for another method). */
const route *route_match(const route *table, size_t n_routes, const char *method, const char *path, char params[2][256],
                         int *method_mismatch);

enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, json_t *v); /* takes v */
enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...);
enum MHD_Result reply_empty(struct MHD_Connection *c, unsigned status);
/* Parses the body as a JSON object (an empty body is {}) that the route's body type accepts;
 * on failure replies 400 and returns NULL. */
json_t *body_object(struct MHD_Connection *c, req *r, enum MHD_Result *sent);
const char *query_arg(struct MHD_Connection *c, const char *key);
int http_serve(const char *host, int port, int *bound_port); /* starts MHD; 0 on success */
void http_stop(void);

#endif
