/* Matching a request's method and path to a route: literal segments, and "{name}" capturing
 * one segment (at most two, at most 255 bytes each), in table order. Apart from the table so
 * that the fuzzer (fuzz/server_spec.c) drives it with the contract's own routes. */
#include <string.h>
#include "server.h"
#include "http.h"

const route *route_match(const route *table, size_t n_routes, const char *method, const char *path, char params[2][256],
                         int *method_mismatch) {
  *method_mismatch = 0;
  for (const route *rt = table; rt < table + n_routes; rt++) {
    if (!rt->pattern) continue;
    const char *p = rt->pattern, *u = path;
    int np = 0, ok = 1;
    while (*p && ok) {
      if (*p == '{') {
        const char *end = strchr(u, '/');
        size_t n = end ? (size_t)(end - u) : strlen(u);
        if (n == 0 || n >= sizeof params[0] || np >= 2) {
          ok = 0;
          break;
        }
        memcpy(params[np], u, n);
        params[np++][n] = 0;
        u += n;
        p = strchr(p, '}') + 1;
      } else if (*p == *u) {
        p++, u++;
      } else {
        ok = 0;
      }
    }
    if (!ok || *u) continue;
    if (strcmp(rt->method, method)) {
      *method_mismatch = 1;
      continue;
    }
    return rt;
  }
  return NULL;
}
