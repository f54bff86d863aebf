/* Internal interfaces of the porter_sandbox.core module.
 *
 * Every API call goes through one pipeline (http.c): arguments are validated and encoded
 * against the schemas of openapi.yaml (model.c, schema.c) before anything is sent, the
 * request runs with retries, and the decoded, coerced result is handed to a continuation.
 * The continuation style is what lets AsyncPorter reuse every function unchanged: a sync
 * client calls the continuation right after curl returns, an async client yields the
 * request to its scheduler and the continuation runs when the coroutine is resumed. */
#ifndef PORTER_H
#define PORTER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <curl/curl.h>
#include "luacompat.h"

#include "porter_version.h"

/* Metatable names (registry keys). */
#define MT_CLIENT "porter_sandbox.Porter"
#define MT_SANDBOX "porter_sandbox.Sandbox"
#define MT_VOLUME "porter_sandbox.Volume"
#define MT_OBJECT_VOLUME "porter_sandbox.ObjectVolume" /* a Volume of type object: no file methods */
#define MT_ERROR "porter_sandbox.Error"
#define MT_PREQ "porter_sandbox.Request"

/* ---- errors (error.c) ---- */
typedef enum {
  ERR_BASE, /* Error: root of every class */
  ERR_SANDBOX, ERR_AUTH, ERR_NOTFOUND, ERR_RATELIMIT, ERR_SERVER, ERR_TIMEOUT,
  ERR_CONFLICT, ERR_CONNECTION, ERR_CONFIG, ERR_ARGUMENT,
  ERR__COUNT
} err_class;

void porter_error_open(lua_State *L, int module_idx);
/* Pushes a new error value; body_idx 0 means no body. */
void porter_error_push(lua_State *L, err_class cls, const char *message, int status, int body_idx);
/* Raise helpers: never return (the int is for `return porter_raise(...)` in lua_CFunctions). */
__attribute__((noreturn)) int porter_raise(lua_State *L, err_class cls, int status, int body_idx, const char *fmt, ...);
/* Pushes and returns how a value reads in an error: 'the string "30"', 'nil', '1.5', 'a table'. */
const char *porter_got(lua_State *L, int idx);
__attribute__((noreturn)) int porter_argerror(lua_State *L, const char *fmt, ...);
/* The options table at idx (nil is none): a table whose every key is one of known
 * (NULL-terminated), else an ArgumentError "WHO: unknown option 'k' (expected one of: ...)",
 * the words every option check of the SDK, C or Lua, uses. */
void porter_check_options(lua_State *L, int idx, const char *who, const char *const *known);
/* 1 if the value at idx is an options table, 0 if it is nil or none; else an ArgumentError. */
int porter_options_table(lua_State *L, int idx, const char *who);
/* Raises that refusal for the key at key_idx (for a parser that reads its options in one pass). */
int porter_unknown_option(lua_State *L, int key_idx, const char *who, const char *const *known);

/* ---- the contract's types and the JSON model (schema.c, model.c) ---- */
/* The operations and types of api/openapi.yaml (scripts/gen_contract.lua): op_id OP_<op>,
 * OPW_<op> and OPT_<op> (the first nine fields of op_def), CT_<Schema> and CT_Q_<op>. */
#include "contract_gen.h"
typedef ct_type schema;
typedef ct_field field;

/* A growable byte buffer in C memory, for request and response bodies: owned by a
 * userdata whose __gc frees it, so an error never leaks it. */
typedef struct membuf {
  char *p;
  size_t n, cap;
} membuf;
int membuf_reserve(membuf *m, size_t extra); /* 0 on out of memory */
int membuf_add(membuf *m, const void *p, size_t n);
void membuf_free(membuf *m);

/* Validates the value at idx against s (raising ArgumentError naming what and the field)
 * and appends its JSON to out. */
void model_encode(lua_State *L, membuf *out, int idx, const schema *s, const char *what);
/* Validates without encoding (query tables). */
void model_check(lua_State *L, int idx, const schema *s, const char *what);
/* Decodes JSON text as s (NULL: any) says, in one pass (decode.c); on success pushes the value
 * and returns 1, else pushes an error message and returns 0. Escaped strings are unescaped in
 * scratch, which the caller owns (a request's), or with NULL in a buffer of the decode's own. */
int model_decode(lua_State *L, const char *text, size_t len, const schema *s, membuf *scratch);
/* Appends percent-encoded s to out (RFC 3986 unreserved characters pass); 0 on out of memory. */
int model_urlencode(membuf *out, const char *s, size_t len);
/* Opens the decoder (a private cjson instance in the registry). */
void model_open(lua_State *L);
/* Printable answers (repr.c): the metatables, made once; setting the one of schema s (if it has
 * one) on the table at idx; pushing the table of them by name. */
void repr_open(lua_State *L);
void repr_apply(lua_State *L, int idx, const schema *s);
void repr_push_all(lua_State *L);
/* core._readdir and core._open_under (localfs.c): the local side of directory transfers. */
void localfs_open(lua_State *L, int module_idx);

/* ---- operations of openapi.yaml (ops.c) ---- */
typedef struct op_def {
  /* from the contract (OPW_<op>, OPT_<op>) */
  const char *id;        /* operationId */
  const char *method;
  const char *path;      /* template; each {x} takes one positional argument */
  int npath;
  const schema *query;
  ct_body body;
  const schema *body_schema;
  const schema *resp;    /* NULL: no JSON content expected */
  int octets;            /* answer is raw bytes (Accept: application/octet-stream) */
  /* the SDK's own */
  const char *group;     /* raw sub-table: sandboxes, volumes, snapshots, health, readiness */
  int never_retry;       /* exec: a failed attempt may have run */
  int no_timeout;        /* exec: may run for hours */
} op_def;

extern const op_def porter_ops[OP__COUNT];
#define porter_nops ((size_t)OP__COUNT)
/* the operation, by name: a typo is a compile error, not a failure at run time */
#define OP(name) (&porter_ops[OP_##name])

/* ---- client and config (client.c, config.c) ---- */
#define MT_ASYNC "porter_sandbox.AsyncPorter"

typedef enum { HDR_JSON, HDR_JSON_BODY, HDR_OCTETS, HDR_OCTETS_BODY, HDR_KINDS } hdr_kind;

typedef struct porter_client {
  CURL *easy;                     /* sync client's handle: keeps its connections alive */
  /* request headers by hdr_kind: [1] carries the API key, [0] goes to other origins */
  struct curl_slist *hdr[2][HDR_KINDS];
  char *base_url;                 /* as given: http(s)://... or unix:/path */
  char *unix_socket;              /* the path of a unix: base URL, or NULL */
  char *api_key;
  char *proxy, *noproxy;          /* from the environment when the client was made; NULL: none */
  double timeout;                 /* seconds */
  int max_retries;
  int max_connections;
  lua_State *cb_L;                /* the state running curl now: progress functions run on it */
  lua_Integer max_response_bytes; /* of a JSON answer (file bytes are not counted) */
  int async;
  int closed;
  uint64_t rng;
  struct async_loop *loop;        /* async.c */
} porter_client;

typedef struct porter_config {
  char *base_url;    /* malloc'd */
  char *unix_socket; /* malloc'd or NULL: the path of a unix: base URL */
  char *api_key;     /* malloc'd or NULL */
  char *proxy;       /* malloc'd or NULL: the proxy the environment names for the base URL */
  char *noproxy;     /* malloc'd or NULL: no_proxy's hosts */
  double timeout;
  int max_retries;
  int max_connections;
  lua_Integer max_response_bytes;
} porter_config;

/* What request URLs start with: the base URL, or for a Unix socket a URL of no host's, for
 * the Host header (localhost, which a server's Host check accepts) */
#define porter_http_base(c) ((c)->unix_socket ? "http://localhost" : (c)->base_url)

/* Resolves the options table at opts (0: none) and the environment. Raises ConfigError or
 * ArgumentError; on success fills cfg with malloc'd strings. */
void config_resolve(lua_State *L, int opts, int async, porter_config *cfg);

/* The client userdata at idx (Porter or AsyncPorter), in class.c under the pipeline:
 * client_test answers NULL if it is none; client_check raises then, and on a closed client. */
porter_client *client_test(lua_State *L, int idx);
porter_client *client_check(lua_State *L, int idx);
void client_open(lua_State *L, int module_idx);

/* Namespace and method prologue: drops a namespace passed as self (upvalue 2) and puts the
 * client (upvalue 1) at stack index 1, so every function sees [client, args...]. */
void ns_prologue(lua_State *L);
/* a handle of class (const char *)ctx (MT_SANDBOX, MT_VOLUME) made of the result */
int k_handle(lua_State *L, int status, lua_KContext ctx);
/* pushes an array of handles of class mt, one a record of the array at idx */
void push_handles(lua_State *L, const char *mt, int client_idx, int idx);
/* Reads an options table {timeout, range} at idx for raw calls and exec. */

/* ---- the request pipeline (http.c) ---- */
typedef struct call_spec {
  const op_def *op;
  const char *what;      /* user-facing name for argument errors */
  int client_idx;        /* stack index of the client userdata */
  int path_idx;          /* first positional path argument (npath of them) */
  int query_idx;         /* query table or 0 */
  int body_idx;          /* JSON table, or string / io file for octets, or 0 */
  const char *range;     /* Range header value or NULL */
  double timeout;        /* <0: client default; 0: none */
  int progress_idx;      /* 0, or an options table whose .progress is a function(done_bytes,
                          * total_bytes), called as bytes move (it must not yield) */
} call_spec;

/* One API call in flight: a userdata on the calling thread's stack, so that whatever a
 * raised error abandons (buffers, the URL, the upload source) is freed by __gc. User values:
 * 1 the URL string, 2 the client userdata, 3 the upload source (string or file). */
typedef struct porter_preq {
  porter_client *c;
  const op_def *op;
  const char *url;           /* in user value 1 */
  membuf body;               /* JSON request body */
  const char *octets;        /* string upload (user value 3) */
  size_t octets_len;
  FILE *upload;              /* file upload (user value 3), streamed from upload_start */
  long upload_start;
  curl_off_t upload_size;
  const char *range;         /* Range header value without "bytes=", or NULL */
  char range_buf[64];
  double timeout;            /* seconds, 0 = none */
  int progress_ref;          /* registry ref of the progress function, or LUA_NOREF */
  curl_off_t progress_done;  /* bytes last reported */
  int progress_err_ref;      /* what the progress function raised (the transfer was aborted) */
  int attempt;               /* 0-based */
  int hops;                  /* redirects followed */
  int foreign;               /* a redirect left the base URL's origin: no credentials */
  /* response */
  membuf resp;
  long status;
  CURLcode cc;
  int oom;                   /* the write callback ran out of memory */
  int too_big;               /* a JSON answer past max_response_bytes: abandoned */
  size_t header_bytes;       /* of this response; past MAX_HEADER_BYTES it is a protocol error */
  long long content_length;  /* of this response, -1 if not said */
  char content_type[128];
  char content_range[128];
  char last_modified[64];
  char errbuf[CURL_ERROR_SIZE];
  membuf location;           /* absolute target of a 3xx answer, "" if none */
  membuf scratch;            /* the answer's escaped strings, unescaped */
  /* continuation of the caller */
  lua_KFunction k;
  lua_KContext kctx;
  /* async */
  CURL *easy;                /* pooled handle while queued in the multi */
  double not_before;         /* monotonic seconds: retry back-off */
  int queued;
} porter_preq;

/* Runs the call; then the stack holds [..., preq, result] (result: decoded value, bytes,
 * or nil) and k is called with ctx. Under an async client this yields first, so k must
 * rely on the stack only. Raises SandboxError and subclasses on failure. */
int porter_call(lua_State *L, const call_spec *cs, lua_KFunction k, lua_KContext ctx);
/* Common continuations (raw.c): return the result; its field (const char *)ctx; nothing. */
int k_result(lua_State *L, int status, lua_KContext ctx);
int k_field(lua_State *L, int status, lua_KContext ctx);
int k_none(lua_State *L, int status, lua_KContext ctx);
/* Reads an options table {timeout, range} at idx into cs. */
void call_opts(lua_State *L, int idx, call_spec *cs);
/* Pushes {status, content_range, last_modified, content_type} of a file read. */
void push_read_meta(lua_State *L, const porter_preq *r);
/* Configures an easy handle for one attempt of r. */
void preq_prepare(porter_preq *r, CURL *easy);
/* an answer's headers past this are a protocol error, not something to retry */
#define MAX_HEADER_BYTES (256u << 10)
/* ---- the transfer layer (transfer.c) ---- */
/* libcurl's header callback: keeps the headers a request needs, bounds their size. */
size_t preq_on_header(char *line, size_t size, size_t n, void *ud);
/* Records what an attempt's transfer ended with, before easy is reused. */
void preq_done(porter_preq *r, CURL *easy, CURLcode cc);
/* Common options of every easy handle a client uses. */
void easy_init_common(porter_client *c, CURL *easy);
double porter_now(void);
void porter_sleep(double seconds); /* blocking, through EINTR; nothing for s <= 0 */

/* ---- handles (class.c, sandbox.c, volume.c) ---- */
/* Registers metatable mt (left on the stack): methods (and more, if any) in __index, then the
 * object's fields from user value 1; fields are read-only; tostring. */
void class_register(lua_State *L, const char *mt, const luaL_Reg *methods, const luaL_Reg *more,
                    lua_CFunction tostring);
/* Pushes a handle of class mt: a userdata whose user value 1 is a fresh table with the fields
 * of the table at fields_idx, and user value 2 the client. */
void handle_push(lua_State *L, const char *mt, int client_idx, int fields_idx);
/* Method prologue: checks arg 1 is a handle of class mt, puts its client at index 1 (so the
 * handle is at 2) and returns the client; raises on a closed client. */
porter_client *handle_prologue(lua_State *L, const char *mt);
/* Calls op with the id of the handle at 2 as its path parameter (query, body: indices or 0;
 * timeout < 0: the client's). */
int handle_call(lua_State *L, const op_def *op, const char *what, int query_idx, int body_idx, double timeout,
                lua_KFunction k, lua_KContext ctx);
/* The same with a prepared call spec (its client and path indices are filled in). */
int handle_call_spec(lua_State *L, call_spec *cs, lua_KFunction k, lua_KContext ctx);
/* Continuation: merges the result into the fields of the handle at 2 and returns it. */
int handle_merge_k(lua_State *L, int status, lua_KContext ctx);
/* Replaces nil at idx with an empty table. */
void opt_table(lua_State *L, int idx);
/* Pushes the fields table of the handle at idx. */
void handle_fields(lua_State *L, int idx);
int handle_client_lua(lua_State *L);
/* Copies every field of the table at src into the table at dst. */
void table_merge(lua_State *L, int dst, int src);

/* Namespace functions (upvalue 1 = client, 2 = namespace). */
extern const luaL_Reg sandboxes_ns[], volumes_ns[], snapshots_ns[], health_ns[], readiness_ns[];
void sandbox_open(lua_State *L);
void volume_open(lua_State *L);
/* Handle constructors from a decoded record at record_idx (client at client_idx). */
void sandbox_push(lua_State *L, int client_idx, int record_idx);
void volume_push(lua_State *L, int client_idx, int record_idx);

/* Volume paths: pushes the '/'-rooted form of the string at idx ("a/b/" -> "/a/b"). */
const char *volpath_push(lua_State *L, int idx, const char *what);
int volpath_lua(lua_State *L);

/* ---- async (async.c) ---- */
struct async_loop;
void async_close(porter_client *c);
/* Takes r out of the client's loop (transfer abandoned). */
void async_forget(porter_client *c, porter_preq *r);
/* Whether the running coroutine is a task of the client at client_idx. */
int async_in_task(lua_State *L, int client_idx);
extern const luaL_Reg async_methods[];

/* ---- yielding from C (yield.c) ---- */
/* lua_yieldk where the VM has it, an emulation on LuaJIT */
int porter_yieldk(lua_State *L, int nres, lua_KContext ctx, lua_KFunction k);
/* Replaces the function on top with one that can yield through porter_yieldk (a no-op where
 * the VM resumes C itself). */
void porter_wrap_yielding(lua_State *L);
/* Wraps every function in the table at idx. */
void porter_wrap_table(lua_State *L, int idx);
void porter_yield_open(lua_State *L);

#endif
