/* The contract (api/openapi.yaml) as data, for the SDK and the server alike. Its operations and
 * types are written by scripts/gen_contract.lua into build/gen/contract_gen.h (declarations) and
 * build/gen/contract_types.inc (definitions, included by one file of each binary); this header
 * holds what the generated tables are made of and the checks of the formats they name, so that
 * the client's refusal before sending and the server's 400 come from the same rule. */
#ifndef PORTER_CONTRACT_H
#define PORTER_CONTRACT_H

#include <stddef.h>
#include <string.h>

typedef enum { CT_ANY, CT_STR, CT_INT, CT_BOOL, CT_ARR, CT_MAP, CT_OBJ } ct_kind;
/* formats named in the contract beyond JSON's types ("format:" of a string, "x-key-format:"
 * of an object's keys) */
typedef enum { CT_FMT_NONE, CT_FMT_DNS_LABEL, CT_FMT_MOUNT_PATH } ct_format;
typedef enum { CT_BODY_NONE, CT_BODY_JSON, CT_BODY_OCTETS } ct_body;

struct ct_type;
typedef struct ct_field {
  const char *name;
  const struct ct_type *type;
  int required;
} ct_field;

typedef struct ct_type {
  ct_kind kind;
  const char *label;            /* what is expected, in words: "an integer from 1024 to 65535" */
  const struct ct_type *items;  /* CT_ARR: each element; CT_MAP: each value */
  const ct_field *fields;       /* CT_OBJ: ends with a NULL name */
  const char *const *enums;     /* CT_STR: the values allowed, NULL-terminated; NULL: any */
  ct_format format;             /* CT_STR: of the value; CT_MAP: of each key */
  int has_min, has_max;         /* CT_INT bounds */
  long long min, max;
  int min_items, max_items;     /* CT_ARR; max_items 0: unbounded */
} ct_type;

/* 1 if s[0..n) is a DNS label: 1 to 63 of lowercase letters, digits and '-', not at either end */
static inline int contract_dns_label(const char *s, size_t n) {
  if (n == 0 || n > 63) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(c == '-' && i > 0 && i < n - 1)) return 0;
  }
  return 1;
}

/* 1 if s[0..n) is an absolute path of plain components other than "/": no "", "." or ".."
 * between its slashes, no trailing slash, no control characters, at most 1024 bytes */
static inline int contract_mount_path(const char *s, size_t n) {
  if (n < 2 || n > 1024 || s[0] != '/' || s[n - 1] == '/') return 0;
  for (size_t i = 1; i < n;) {
    size_t len = 0;
    while (i + len < n && s[i + len] != '/') {
      if ((unsigned char)s[i + len] < 0x20) return 0;
      len++;
    }
    if (len == 0 || (len == 1 && s[i] == '.') || (len == 2 && s[i] == '.' && s[i + 1] == '.')) return 0;
    i += len + 1;
  }
  return 1;
}

static inline int ct_format_ok(ct_format f, const char *s, size_t n) {
  switch (f) {
    case CT_FMT_DNS_LABEL: return contract_dns_label(s, n);
    case CT_FMT_MOUNT_PATH: return contract_mount_path(s, n) && memchr(s, '\0', n) == NULL;
    default: return 1;
  }
}

/* index of s among t's enum values, or -1 */
static inline int ct_enum_index(const ct_type *t, const char *s) {
  for (int i = 0; t->enums && t->enums[i]; i++)
    if (!strcmp(s, t->enums[i])) return i;
  return -1;
}

/* 1 if the string s[0..n) is a value of t (a CT_STR): its enum and its format */
static inline int ct_string_ok(const ct_type *t, const char *s, size_t n) {
  if (t->enums && (memchr(s, '\0', n) || ct_enum_index(t, s) < 0)) return 0;
  return ct_format_ok(t->format, s, n);
}

/* 1 if v is within t's bounds (a CT_INT) */
static inline int ct_int_ok(const ct_type *t, long long v) {
  return !(t->has_min && v < t->min) && !(t->has_max && v > t->max);
}

/* what a map's keys must be, in words; NULL if anything goes */
static inline const char *ct_key_text(const ct_type *t) {
  return t->format == CT_FMT_MOUNT_PATH ? "an absolute path other than /, without '.' or '..' components" : NULL;
}

#endif
