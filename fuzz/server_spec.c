/* libFuzzer: what a client controls, as porter-sandboxd reads it: a request body ("{...") for
 * POST /v1/sandbox/run and for every other operation that takes one, a request line
 * "METHOD /path" routed by the contract's own table, and text taken as a Range header, a file
 * path, an image reference, an egress rule, a name and a mount path, and scanned as workload
 * output is for log lines. Every input must give an
 * answer (accepted, or a reason); none may crash, overrun or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"
#include "http.h"
#include "validate.h"
#include "spec.h"
#include "volumes.h"
#include "vfs.h"
#include "images.h"

srv_config cfg;

/* the database's answer, which the fuzzer need not vary */
int volume_exists(const char *id) { return id[0] == 'v'; }

/* the contract's routes, without handlers: matching and the body types are what is driven */
#define ROW(op) [OP_##op] = {OPW_##op, OPT_##op, 0, 0, 0, 0},
static const route table[OP__COUNT] = {PORTER_OPS(ROW)};

static void spec_input(const uint8_t *data, size_t size) {
  json_error_t err;
  json_t *v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
  if (!json_is_object(v)) {
    json_decref(v);
    return;
  }
  char buf[512];
  /* as the server does: the contract's check (body_object), then its own on what passed */
  const char *why = contract_check(v, &CT_SandboxSpec, buf, sizeof buf);
  if (!why) why = sandbox_spec_check(v, buf, sizeof buf);
  if (why && !memchr(why, '\0', 512)) abort(); /* a reason is a string that ends */
  /* and as the body of every other operation that takes one */
  for (int op = 0; op < OP__COUNT; op++)
    if (table[op].body_type && (why = contract_check(v, table[op].body_type, buf, sizeof buf)) && !memchr(why, '\0', 512))
      abort();
  json_decref(v);
}

static void route_input(const char *s) {
  char method[16], params[2][256];
  const char *sp = strchr(s, ' ');
  if (!sp || sp - s >= (int)sizeof method) return;
  memcpy(method, s, (size_t)(sp - s));
  method[sp - s] = '\0';
  int mismatch;
  const route *rt = route_match(table, OP__COUNT, method, sp + 1, params, &mismatch);
  if (rt && strcmp(rt->method, method)) abort(); /* a route answers its own method only */
  if (rt && rt->nparams > 0 && (!params[0][0] || strlen(params[0]) > 255)) abort();
}

/* The word-at-a-time scans of workload output (log lines) against a byte at a time. */
static void scan_input(const uint8_t *data, size_t size) {
  size_t lines = 0, valid = 0;
  for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
  while (valid < size) {
    size_t k = data[valid] ? utf8_seq(data + valid, size - valid) : 0;
    if (!k) break;
    valid += k;
  }
  if (count_newlines((const char *)data, size) != lines) abort();
  if (utf8_valid_prefix((const char *)data, size) != valid) abort();
}

static void text_input(const uint8_t *data, size_t size) {
  scan_input(data, size);
  char *s = malloc(size + 1);
  if (!s) return;
  memcpy(s, data, size);
  s[size] = '\0';
  uint64_t start = 0, len = 0, file = size ? data[0] * 1000003ull + size : 0;
  if (range_parse(s, file, &start, &len) == RANGE_OK && (len == 0 || start + len > file)) abort();
  char comps[64][256], why[256];
  int n;
  vfs_split(s, comps, 64, &n, why, sizeof why);
  image_ref ref;
  image_ref_parse(s, &ref, why, sizeof why);
  egress_rule(s);
  contract_dns_label(s, size);
  if (contract_mount_path(s, size) && (s[0] != '/' || strstr(s, "/../") || strstr(s, "//"))) abort();
  route_input(s);
  free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cfg.state_dir = "/nonexistent";
  if (size && data[0] == '{') spec_input(data, size);
  else text_input(data, size);
  return 0;
}
