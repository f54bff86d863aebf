/* Request validation: the type of every field, unknown fields refused, messages that name
 * the field. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "egress_rule.h"
#include "contract.h"
#include "server.h"

static const char *type_name(int t) {
  switch (t) {
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_ARRAY: return "an array";
    case JSON_OBJECT: return "an object";
    case JSON_TRUE: return "a boolean";
    default: return "a value";
  }
}

static int is_type(json_t *v, int t) {
  if (t == JSON_TRUE) return json_is_boolean(v);
  return json_typeof(v) == (json_type)t;
}

const char *check_fields(json_t *obj, const field_rule *rules, char *buf, size_t n) {
  if (!json_is_object(obj)) return "the body must be a JSON object";
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    const field_rule *r = rules;
    while (r->name && strcmp(r->name, key)) r++;
    if (!r->name) {
      snprintf(buf, n, "unknown field '%s'", key);
      return buf;
    }
    if (json_is_null(v)) continue;
    if (!is_type(v, r->type)) {
      snprintf(buf, n, "'%s' must be %s", key, type_name(r->type));
      return buf;
    }
    if (r->elem && json_is_array(v)) {
      size_t i;
      json_t *e;
      json_array_foreach(v, i, e) if (!is_type(e, r->elem)) {
        snprintf(buf, n, "'%s[%zu]' must be %s", key, i + 1, type_name(r->elem));
        return buf;
      }
    }
    if (r->elem && json_is_object(v)) {
      const char *k2;
      json_t *e;
      json_object_foreach(v, k2, e) if (!is_type(e, r->elem)) {
        snprintf(buf, n, "'%s.%s' must be %s", key, k2, type_name(r->elem));
        return buf;
      }
    }
  }
  for (const field_rule *r = rules; r->name; r++) {
    json_t *v2 = json_object_get(obj, r->name);
    if (r->required && (!v2 || json_is_null(v2))) {
      snprintf(buf, n, "'%s' is required", r->name);
      return buf;
    }
  }
  return NULL;
}

int dns_label(const char *s) { return contract_dns_label(s, strlen(s)); }

int egress_rule(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 253) return 0;
  egress_addr a;
  if (egress_parse_addr(s, &a) == 0) return 1;
  if (strchr(s, '/') || strchr(s, ':')) return 0; /* a range or address that does not parse */
  char buf[256];
  snprintf(buf, sizeof buf, "%s", s);
  const char *name = !strncmp(buf, "*.", 2) ? buf + 2 : buf;
  /* labels of letters, digits and '-', not starting or ending with '-' */
  for (const char *p = name; *p;) {
    size_t len = strcspn(p, ".");
    if (len == 0 || len > 63 || p[0] == '-' || p[len - 1] == '-') return 0;
    for (size_t i = 0; i < len; i++)
      if (!(isalnum((unsigned char)p[i]) || p[i] == '-')) return 0;
    p += len;
    if (*p == '.') {
      p++;
      if (!*p) return 0;
    }
  }
  return *name != '\0';
}
