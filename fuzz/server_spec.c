/* libFuzzer: a request body for POST /v1/sandbox/run, as porter-sandboxd checks it, and the
 * other text a client controls: Range headers, file paths, image references. Every input
 * must give an answer (accepted, or a reason); none may crash, overrun or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

srv_config cfg;

/* the database's answer, which the fuzzer need not vary */
int volume_exists(const char *id) { return id[0] == 'v'; }

static void spec_input(const uint8_t *data, size_t size) {
  json_error_t err;
  json_t *v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
  if (!json_is_object(v)) {
    json_decref(v);
    return;
  }
  char buf[512];
  const char *why = sandbox_spec_check(v, buf, sizeof buf);
  if (why && !memchr(why, '\0', 512)) abort(); /* a reason is a string that ends */
  json_decref(v);
}

static void text_input(const uint8_t *data, size_t size) {
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
  dns_label(s);
  free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cfg.state_dir = "/nonexistent";
  if (size && data[0] == '{') spec_input(data, size);
  else text_input(data, size);
  return 0;
}
