/* What porter-sandboxd asks of a sandbox spec beyond the contract (which body_object has
 * checked: types, fields, bounds, the name's and the mount paths' formats): images it can run,
 * volumes and environment groups that exist, egress rules it can enforce, limits of its own.
 * Kept apart from the handlers so that the fuzzer (fuzz/server_spec.c) can drive it alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"
#include "validate.h"
#include "spec.h"
#include "volumes.h"
#include "images.h"

#define MAX_TTL 31536000

const char *sandbox_spec_check(json_t *spec, char *buf, size_t n) {
  const char *image = json_string_value(json_object_get(spec, "image"));
  int named = !strcmp(image, "host");
  for (int i = 0; i < cfg.nimages; i++) named |= !strcmp(cfg.images[i].name, image);
  image_ref ref;
  char rwhy[256];
  if (!named && image_ref_parse(image, &ref, rwhy, sizeof rwhy) != 0) {
    snprintf(buf, n, "'image' %s: '%.80s%s'", rwhy, image, strlen(image) > 80 ? "..." : "");
    return buf;
  }
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(spec, "volume_mounts"), k, v) {
    if (!volume_exists(json_string_value(v))) {
      snprintf(buf, n, "volume_mounts: no such volume '%s'", json_string_value(v));
      return buf;
    }
  }
  size_t i;
  json_array_foreach(json_object_get(spec, "env_groups"), i, v) {
    int found = 0;
    for (int g = 0; g < cfg.ngroups; g++)
      if (!strcmp(cfg.env_groups[g].name, json_string_value(v))) found = 1;
    if (!found) {
      snprintf(buf, n, "env_groups: no such environment group '%s'", json_string_value(v));
      return buf;
    }
  }
  json_t *eg = json_object_get(spec, "egress");
  if (eg && !json_is_null(eg)) {
    json_t *ad = json_object_get(eg, "allowed_destinations");
    if (json_array_size(ad) > 256) return "'egress.allowed_destinations' holds at most 256 rules";
    json_array_foreach(ad, i, v) {
      if (!egress_rule(json_string_value(v))) {
        snprintf(buf, n, "'egress.allowed_destinations[%zu]' must be a hostname, *.wildcard, IP address or CIDR range: '%.100s'",
                 i + 1, json_string_value(v));
        return buf;
      }
    }
  }
  json_t *ttl = json_object_get(spec, "ttl_seconds");
  if (json_is_integer(ttl) && json_integer_value(ttl) > MAX_TTL)
    return "'ttl_seconds' must be an integer from 1 to 31536000 (a year)";
  json_t *cmd = json_object_get(spec, "command");
  if (cmd && json_array_size(cmd) == 0) return "'command' must not be empty (leave it out to keep the image's ENTRYPOINT)";
  if (cmd && !*json_string_value(json_array_get(cmd, 0))) return "'command[1]' must not be empty";
  json_t *args = json_object_get(spec, "args");
  if (args && json_array_size(args) == 0) return "'args' must not be empty (leave it out to keep the image's CMD)";
  json_object_foreach(json_object_get(spec, "env"), k, v) {
    if (!*k || strchr(k, '=') || strlen(k) > 1024) {
      snprintf(buf, n, "'env' keys must be non-empty, without '=', at most 1024 bytes: '%.60s'", k);
      return buf;
    }
  }
  return NULL;
}

int range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *len) {
  unsigned long long a, b = size - 1;
  char *end;
  if (strncmp(h, "bytes=", 6) || !(h[6] >= '0' && h[6] <= '9')) return RANGE_UNSUPPORTED;
  a = strtoull(h + 6, &end, 10);
  if (*end != '-') return RANGE_MALFORMED;
  if (end[1]) {
    if (!(end[1] >= '0' && end[1] <= '9')) return RANGE_MALFORMED;
    b = strtoull(end + 1, &end, 10);
    if (*end) return RANGE_MALFORMED;
  }
  if (size == 0 || a >= size || b < a) return RANGE_OUTSIDE;
  if (b >= size) b = size - 1;
  *start = a, *len = b - a + 1;
  return RANGE_OK;
}
