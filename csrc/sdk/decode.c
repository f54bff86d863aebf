/* Answers decoded in one pass, driven by the contract's types, straight into Lua values: an
 * integer field becomes a Lua integer as it is read (never a float first), JSON null is nil
 * (a member left out; in an array of a declared type, the null sentinel), unknown fields are
 * kept with integral numbers as integers, a value of the wrong type is refused naming its
 * field, and a declared object gets its printable metatable (repr.c). The text is never
 * copied: a string without escapes is pushed from where it lies, one with escapes is unescaped
 * into a scratch buffer that a userdata owns, so a Lua error (out of memory) leaks nothing. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "porter.h"

#define MAX_DEPTH 4096 /* a volume listing nests two levels a directory; C recursion is bounded */

typedef struct dec {
  lua_State *L;
  const char *p, *start, *end;
  membuf *scratch;
  int names; /* stack index of the field-name cache */
  int depth;
  const char *err; /* the first problem: "malformed JSON ..." or "unexpected response: ..." */
} dec;

static int malformed(dec *d, const char *what) {
  if (!d->err)
    d->err = lua_pushfstring(d->L, "malformed JSON in response: %s at byte %d", what, (int)(d->p - d->start) + 1);
  return 0;
}

static int unexpected(dec *d, const char *fmt, const char *a) {
  if (!d->err) d->err = lua_pushfstring(d->L, fmt, a);
  return 0;
}

static void skip_ws(dec *d) {
  while (d->p < d->end && (*d->p == ' ' || *d->p == '\n' || *d->p == '\r' || *d->p == '\t')) d->p++;
}

static int hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static size_t utf8_put(char *o, unsigned cp) {
  if (cp < 0x80) return o[0] = (char)cp, 1;
  if (cp < 0x800) return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
  if (cp < 0x10000)
    return o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[2] = (char)(0x80 | (cp & 0x3f)), 3;
  o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

/* 1 for the bytes a string holds as they are: not a quote (0x22), a backslash (0x5c) or a
 * control character (below 0x20) */
static const unsigned char plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* At the opening quote: pushes the string. 1, or 0 with d->err. */
static int string(dec *d) {
  const char *s = ++d->p, *q = s;
  while (q < d->end && plain[(unsigned char)*q]) q++;
  if (q < d->end && *q == '"') { /* no escapes: as it lies */
    lua_pushlstring(d->L, s, (size_t)(q - s));
    d->p = q + 1;
    return 1;
  }
  membuf *m = d->scratch;
  m->n = 0;
  /* unescaped is no longer than escaped; one byte more, so that there is a buffer at all */
  if (!membuf_reserve(m, (size_t)(d->end - s) + 1)) return luaL_error(d->L, "not enough memory");
  char *o = m->p;
  memcpy(o, s, (size_t)(q - s));
  o += q - s;
  d->p = q;
  for (;;) {
    if (d->p >= d->end) return malformed(d, "unterminated string");
    unsigned char c = (unsigned char)*d->p;
    if (c == '"') break;
    if (c < 0x20) return malformed(d, "control character in string");
    if (c != '\\') {
      *o++ = (char)c, d->p++;
      continue;
    }
    if (d->end - d->p < 2) return malformed(d, "unterminated string");
    char e = d->p[1];
    d->p += 2;
    switch (e) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        unsigned cp, lo;
        if (d->end - d->p < 4 || !hex4(d->p, &cp)) return malformed(d, "bad \\u escape");
        d->p += 4;
        if (cp >= 0xd800 && cp <= 0xdbff) { /* a pair's first half: the second must follow */
          if (d->end - d->p < 6 || d->p[0] != '\\' || d->p[1] != 'u' || !hex4(d->p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
            return malformed(d, "bad \\u surrogate pair");
          d->p += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
          return malformed(d, "bad \\u surrogate pair");
        }
        o += utf8_put(o, cp); /* at most 4 bytes for the 6 or 12 it read */
        break;
      }
      default: return malformed(d, "bad escape in string");
    }
  }
  d->p++;
  lua_pushlstring(d->L, m->p, (size_t)(o - m->p));
  return 1;
}

/* Pushes a number: an integer when it is one (written without fraction or exponent and in
 * range, or integral as a float), else a float. */
static int number(dec *d) {
  const char *s = d->p, *q = s;
  int frac = 0;
  if (q < d->end && *q == '-') q++;
  if (q >= d->end || *q < '0' || *q > '9') return malformed(d, "bad number");
  if (*q == '0') q++;
  else
    while (q < d->end && *q >= '0' && *q <= '9') q++;
  if (q < d->end && *q == '.') {
    frac = 1, q++;
    if (q >= d->end || *q < '0' || *q > '9') return malformed(d, "bad number");
    while (q < d->end && *q >= '0' && *q <= '9') q++;
  }
  if (q < d->end && (*q == 'e' || *q == 'E')) {
    frac = 1, q++;
    if (q < d->end && (*q == '+' || *q == '-')) q++;
    if (q >= d->end || *q < '0' || *q > '9') return malformed(d, "bad number");
    while (q < d->end && *q >= '0' && *q <= '9') q++;
  }
  d->p = q;
  char buf[64];
  size_t n = (size_t)(q - s);
  if (n >= sizeof buf) { /* a very long literal: its value as a float */
    char *t = malloc(n + 1);
    if (!t) return luaL_error(d->L, "not enough memory");
    memcpy(t, s, n), t[n] = '\0';
    double v = strtod(t, NULL);
    free(t);
    lua_pushnumber(d->L, v);
    return 1;
  }
  memcpy(buf, s, n), buf[n] = '\0';
  if (!frac) {
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == 0) {
      lua_pushinteger(d->L, (lua_Integer)v);
      return 1;
    }
  }
  double v = strtod(buf, NULL);
  if (v == floor(v) && v >= -9.2e18 && v <= 9.2e18) lua_pushinteger(d->L, (lua_Integer)v);
  else lua_pushnumber(d->L, v);
  return 1;
}

static int literal(dec *d, const char *word, size_t n) {
  if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n)) return malformed(d, "unexpected character");
  d->p += n;
  return 1;
}

static int value(dec *d, const schema *s, const char *name, int *was_null);

/* '[': items of type items (NULL: an array of an undeclared shape); a null item of a declared
 * array stays as the null sentinel (its place kept), of an undeclared one it is a hole */
static int array(dec *d, const schema *items, const char *name) {
  lua_State *L = d->L;
  lua_newtable(L);
  int t = lua_gettop(L);
  d->p++;
  skip_ws(d);
  if (d->p < d->end && *d->p == ']') return d->p++, 1;
  for (lua_Integer i = 1;; i++) {
    int null;
    if (!value(d, items, name, &null)) return 0;
    if (!null) lua_rawseti(L, t, i);
    else if (items) lua_pushlightuserdata(L, NULL), lua_rawseti(L, t, i);
    skip_ws(d);
    if (d->p < d->end && *d->p == ',') {
      d->p++;
      continue;
    }
    if (d->p < d->end && *d->p == ']') return d->p++, 1;
    return malformed(d, "expected ',' or ']' in array");
  }
}

/* The index of s's field named by the kn bytes at k, or -1. Servers write the fields in the
 * contract's order, so the one after the last found is tried first. */
static int field_named(const schema *s, int nfields, int next, const char *k, size_t kn) {
  for (int j = 0; j < nfields; j++) {
    int at = (next + j) % nfields;
    const char *name = s->fields[at].name;
    if (kn && name[0] == k[0] && strlen(name) == kn && !memcmp(name, k, kn)) return at;
  }
  return -1;
}

/* At a member name's opening quote: the index of s's field it names, d->p past its closing
 * quote, the name read from the text itself; else -1 (no field's) or -2 (written with an
 * escape, so only its unescaped bytes can tell), d->p unmoved. */
static int known_field(dec *d, const schema *s, int nfields, int next) {
  const char *k = d->p + 1, *q = k;
  while (q < d->end && plain[(unsigned char)*q]) q++;
  if (q < d->end && *q == '\\') return -2;
  if (q >= d->end || *q != '"') return -1;
  int at = field_named(s, nfields, next, k, (size_t)(q - k));
  if (at >= 0) d->p = q + 1;
  return at;
}

/* Pushes a field's name as a Lua string, made once per name and state: hashing and interning
 * every member name of every answer again was a sixth of a decode */
static void push_name(dec *d, const char *name) {
  lua_State *L = d->L;
  lua_pushlightuserdata(L, (void *)name);
  if (lua_rawget(L, d->names) == LUA_TSTRING) return;
  lua_pop(L, 1);
  lua_pushlightuserdata(L, (void *)name);
  lua_pushstring(L, name);
  lua_rawset(L, d->names);
  lua_pushstring(L, name);
}

/* '{': members; a declared object's fields have their types, the rest are any */
static int object(dec *d, const schema *s) {
  lua_State *L = d->L;
  int nfields = 0;
  if (s && s->kind == CT_OBJ)
    for (const field *f = s->fields; f->name; f++) nfields++;
  lua_createtable(L, 0, nfields);
  int t = lua_gettop(L);
  uint64_t seen = 0; /* of the first 64 fields: enough for every schema of the contract */
  int next = 0;
  d->p++;
  skip_ws(d);
  if (d->p < d->end && *d->p == '}') {
    d->p++;
  } else {
    for (;;) {
      skip_ws(d);
      if (d->p >= d->end || *d->p != '"') return malformed(d, "expected a member name");
      const field *f = NULL;
      int fi = nfields ? known_field(d, s, nfields, next) : -1;
      if (fi >= 0) {
        f = &s->fields[fi], next = fi + 1;
        push_name(d, f->name);
      } else {
        if (!string(d)) return 0;
        if (fi == -2) { /* "\u0069d" is "id" */
          size_t kn;
          const char *k = lua_tolstring(L, -1, &kn);
          if ((fi = field_named(s, nfields, next, k, kn)) >= 0) f = &s->fields[fi], next = fi + 1;
        }
      }
      const char *key = f ? f->name : lua_tostring(L, -1);
      skip_ws(d);
      if (d->p >= d->end || *d->p != ':') return malformed(d, "expected ':' after a member name");
      d->p++;
      int null;
      if (!value(d, f ? f->type : NULL, f ? f->name : key, &null)) return 0;
      if (null) {
        lua_pop(L, 1); /* the key: a null member is left out */
      } else {
        lua_rawset(L, t);
        if (f && fi < 64) seen |= 1ull << fi;
      }
      skip_ws(d);
      if (d->p < d->end && *d->p == ',') {
        d->p++;
        continue;
      }
      if (d->p < d->end && *d->p == '}') {
        d->p++;
        break;
      }
      return malformed(d, "expected ',' or '}' in object");
    }
  }
  if (nfields) {
    int fi = 0;
    for (const field *f = s->fields; f->name; f++, fi++)
      if (f->required && fi < 64 && !(seen & (1ull << fi))) return unexpected(d, "missing field '%s'", f->name);
    repr_apply(L, t, s);
  }
  return 1;
}

/* Pushes the value at d->p as s (NULL: any) says, or, for null, pushes nothing and sets
 * *was_null. 1, or 0 with d->err. */
static int value(dec *d, const schema *s, const char *name, int *was_null) {
  *was_null = 0;
  skip_ws(d);
  if (d->p >= d->end) return malformed(d, "unexpected end");
  if (++d->depth > MAX_DEPTH) return malformed(d, "nested too deeply");
  luaL_checkstack(d->L, 4, "JSON nested too deeply");
  int kind = s ? s->kind : CT_ANY, ok = 1;
  char c = *d->p;
  /* an empty table is written [] or {} by Lua's encoders alike (lua-cjson: {}): either is an
   * empty array, an empty map or an empty object */
  if ((kind == CT_ARR && c == '{') || ((kind == CT_MAP || kind == CT_OBJ) && c == '[')) {
    const char *q = d->p + 1;
    while (q < d->end && (*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t')) q++;
    if (q < d->end && *q == (c == '{' ? '}' : ']')) {
      d->p = q + 1;
      d->depth--;
      lua_newtable(d->L);
      if (kind == CT_OBJ) {
        for (const field *f = s->fields; f->name; f++)
          if (f->required) return unexpected(d, "missing field '%s'", f->name);
        repr_apply(d->L, lua_gettop(d->L), s);
      }
      return 1;
    }
  }
  if (c == 'n') {
    ok = literal(d, "null", 4);
    *was_null = 1;
  } else if (kind == CT_STR && c != '"') {
    ok = unexpected(d, "'%s' should be a string", name);
  } else if (kind == CT_BOOL && c != 't' && c != 'f') {
    ok = unexpected(d, "'%s' should be a boolean", name);
  } else if (kind == CT_INT && c != '-' && (c < '0' || c > '9')) {
    ok = unexpected(d, "'%s' should be an integer", name);
  } else if (kind == CT_ARR && c != '[') {
    ok = unexpected(d, "'%s' should be an array", name);
  } else if (kind == CT_MAP && c != '{') {
    ok = unexpected(d, "'%s' should be an object", name);
  } else if (kind == CT_OBJ && c != '{') {
    ok = unexpected(d, "expected %s", s->label);
  } else if (c == '"') {
    ok = string(d);
  } else if (c == '{') {
    ok = object(d, kind == CT_OBJ ? s : NULL); /* a map's values are of any type, as an unknown field's */
  } else if (c == '[') {
    ok = array(d, kind == CT_ARR ? s->items : NULL, name);
  } else if (c == 't') {
    ok = literal(d, "true", 4);
    if (ok) lua_pushboolean(d->L, 1);
  } else if (c == 'f') {
    ok = literal(d, "false", 5);
    if (ok) lua_pushboolean(d->L, 0);
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    ok = number(d);
    if (ok && kind == CT_INT && !lua_isinteger(d->L, -1)) ok = unexpected(d, "'%s' should be an integer", name);
  } else {
    ok = malformed(d, "unexpected character");
  }
  d->depth--;
  return ok;
}

static const char names_key = 0;

int model_decode(lua_State *L, const char *text, size_t len, const schema *s, membuf *scratch) {
  int top = lua_gettop(L);
  if (scratch) {
    lua_pushnil(L); /* where the scratch userdata would be: the caller's owns the buffer */
  } else {
    scratch = lua_newuserdata(L, sizeof *scratch);
    memset(scratch, 0, sizeof *scratch);
    luaL_setmetatable(L, "porter_sandbox.membuf");
  }
  /* the cache of field names: one per state, as many entries as the contract has names */
  lua_pushlightuserdata(L, (void *)&names_key);
  if (lua_rawget(L, LUA_REGISTRYINDEX) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushlightuserdata(L, (void *)&names_key);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
  }
  dec d = {L, text, text, text + len, scratch, lua_gettop(L), 0, NULL};
  int null;
  int ok = value(&d, s, "value", &null);
  if (ok) {
    skip_ws(&d);
    if (d.p != d.end) ok = malformed(&d, "text after the value");
  }
  if (!ok) {
    const char *err = d.err ? d.err : "malformed JSON in response";
    int unexpected_type = strncmp(err, "malformed", 9) != 0;
    lua_pushfstring(L, unexpected_type ? "unexpected response: %s" : "%s", err);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return 0;
  }
  if (null) lua_pushnil(L);
  lua_replace(L, top + 1); /* over the scratch userdata, if any, which __gc frees */
  lua_settop(L, top + 1);
  return 1;
}
