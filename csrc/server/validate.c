/* Request validation: bodies against the contract's types, and the rules of the server's own
 * beyond them (egress rules). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "egress_rule.h"
#include "contract.h"
#include "server.h"
#include "validate.h"
#include "contract_types.inc"

/* A request body against the contract's type (build/gen/contract_types.inc, the tables the SDK
 * checks before sending): unknown fields refused, every value of its type, bounds, enums and
 * formats; the message names the field by its path ("networking[1].port"). */
typedef struct vpath {
  char text[256];
  size_t len;
} vpath;

static size_t vpath_push(vpath *p, const char *key, size_t index) {
  size_t old = p->len;
  int n = key ? snprintf(p->text + old, sizeof p->text - old, "%s%s", old ? "." : "", key)
              : snprintf(p->text + old, sizeof p->text - old, "[%zu]", index);
  if (n > 0) p->len = old + (size_t)n < sizeof p->text ? old + (size_t)n : sizeof p->text - 1;
  return old;
}
static void vpath_pop(vpath *p, size_t old) {
  p->len = old;
  p->text[old] = '\0';
}

/* JSON's word for the values of a kind: what a value of the wrong type is told */
static const char *kind_text(const ct_type *t) {
  switch (t->kind) {
    case CT_STR: return "a string";
    case CT_INT: return "an integer";
    case CT_BOOL: return "a boolean";
    case CT_ARR: return t->items->kind == CT_STR ? "an array of strings" : "an array";
    case CT_MAP: return t->items->kind == CT_STR ? "an object of strings" : "an object";
    case CT_OBJ: return "an object";
    default: return "a value";
  }
}

static int kind_is(json_t *v, ct_kind k) {
  switch (k) {
    case CT_STR: return json_is_string(v);
    case CT_INT: return json_is_integer(v);
    case CT_BOOL: return json_is_boolean(v);
    case CT_ARR: return json_is_array(v);
    case CT_MAP: case CT_OBJ: return json_is_object(v);
    default: return 1;
  }
}

static const char *check_value(json_t *v, const ct_type *t, vpath *p, char *buf, size_t n);

/* a member (key) or an element (index, 1-based) of a value, named by its path */
static const char *check_child(json_t *v, const ct_type *t, vpath *p, const char *key, size_t index, char *buf,
                               size_t n) {
  size_t old = vpath_push(p, key, index);
  const char *why = check_value(v, t, p, buf, n);
  vpath_pop(p, old);
  return why;
}

static const char *check_value(json_t *v, const ct_type *t, vpath *p, char *buf, size_t n) {
  if (!kind_is(v, t->kind)) {
    snprintf(buf, n, "'%s' must be %s", p->text, kind_text(t));
    return buf;
  }
  const char *key;
  json_t *e;
  size_t i;
  switch (t->kind) {
    case CT_STR:
      if (!ct_string_ok(t, json_string_value(v), json_string_length(v))) {
        snprintf(buf, n, "'%s' must be %s (got '%.100s')", p->text, t->label, json_string_value(v));
        return buf;
      }
      return NULL;
    case CT_INT:
      if (!ct_int_ok(t, json_integer_value(v))) {
        snprintf(buf, n, "'%s' must be %s (got %lld)", p->text, t->label, (long long)json_integer_value(v));
        return buf;
      }
      return NULL;
    case CT_ARR:
      if (json_array_size(v) < (size_t)t->min_items || (t->max_items && json_array_size(v) > (size_t)t->max_items)) {
        snprintf(buf, n, "'%s' must be %s (got %zu items)", p->text, t->label, json_array_size(v));
        return buf;
      }
      json_array_foreach(v, i, e) {
        const char *why = check_child(e, t->items, p, NULL, i + 1, buf, n);
        if (why) return why;
      }
      return NULL;
    case CT_MAP:
      json_object_foreach(v, key, e) {
        if (!ct_format_ok(t->format, key, strlen(key))) {
          snprintf(buf, n, "key '%.200s' in '%s' must be %s", key, p->text, ct_key_text(t));
          return buf;
        }
        const char *why = check_child(e, t->items, p, key, 0, buf, n);
        if (why) return why;
      }
      return NULL;
    case CT_OBJ:
      json_object_foreach(v, key, e) {
        const ct_field *f = t->fields;
        while (f->name && strcmp(f->name, key)) f++;
        if (!f->name) {
          if (p->len) snprintf(buf, n, "unknown field '%.100s' in '%s'", key, p->text);
          else snprintf(buf, n, "unknown field '%.100s'", key);
          return buf;
        }
        if (json_is_null(e)) continue; /* null is as good as absent */
        const char *why = check_child(e, f->type, p, key, 0, buf, n);
        if (why) return why;
      }
      for (const ct_field *f = t->fields; f->name; f++) {
        json_t *fv = json_object_get(v, f->name);
        if (f->required && (!fv || json_is_null(fv))) {
          size_t old = vpath_push(p, f->name, 0);
          snprintf(buf, n, "'%s' is required (%s)", p->text, f->type->label);
          vpath_pop(p, old);
          return buf;
        }
      }
      return NULL;
    default:
      return NULL;
  }
}

const char *contract_check(json_t *body, const ct_type *t, char *buf, size_t n) {
  if (!json_is_object(body)) return "the body must be a JSON object";
  vpath p = {.len = 0};
  p.text[0] = '\0';
  return check_value(body, t, &p, buf, n);
}

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
