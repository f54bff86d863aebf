/* The JSON model: requests are validated and encoded here in one pass over the schema (so
 * a bad argument is refused before anything is sent, with the field named); responses are
 * decoded in one pass too (decode.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "porter.h"


int membuf_reserve(membuf *m, size_t extra) {
  if (m->cap - m->n >= extra) return 1;
  size_t cap = m->cap ? m->cap : 256;
  while (cap - m->n < extra) {
    if (cap > SIZE_MAX / 2) return 0;
    cap *= 2;
  }
  char *p = realloc(m->p, cap);
  if (!p) return 0;
  m->p = p;
  m->cap = cap;
  return 1;
}

int membuf_add(membuf *m, const void *p, size_t n) {
  if (!membuf_reserve(m, n)) return 0;
  memcpy(m->p + m->n, p, n);
  m->n += n;
  return 1;
}

void membuf_free(membuf *m) {
  free(m->p);
  m->p = NULL;
  m->n = m->cap = 0;
}

/* ---- encoding ---- */
typedef struct enc {
  lua_State *L;
  membuf *out;
  const char *what;
  char path[256]; /* dotted field path for messages */
  size_t plen;
} enc;

static void put(enc *e, const char *s, size_t n) {
  if (!membuf_add(e->out, s, n)) luaL_error(e->L, "not enough memory");
}
#define PUTS(e, lit) put((e), (lit), sizeof(lit) - 1)

static void put_string(enc *e, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  if (!membuf_reserve(e->out, n + 2)) luaL_error(e->L, "not enough memory");
  PUTS(e, "\"");
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    put(e, s + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': PUTS(e, "\\\""); break;
      case '\\': PUTS(e, "\\\\"); break;
      case '\n': PUTS(e, "\\n"); break;
      case '\r': PUTS(e, "\\r"); break;
      case '\t': PUTS(e, "\\t"); break;
      default: {
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        put(e, u, 6);
      }
    }
  }
  put(e, s + run, n - run);
  PUTS(e, "\"");
}

static void fail(enc *e, const char *expected, int idx) {
  lua_State *L = e->L;
  const char *got = luaL_typename(L, idx);
  if (e->plen)
    porter_argerror(L, "%s: '%s' must be %s (got %s)", e->what, e->path, expected, got);
  porter_argerror(L, "%s: expected %s (got %s)", e->what, expected, got);
}

static size_t path_push(enc *e, const char *seg, int is_index, lua_Integer i) {
  size_t old = e->plen;
  int n;
  if (is_index)
    n = snprintf(e->path + old, sizeof e->path - old, "[%lld]", (long long)i);
  else
    n = snprintf(e->path + old, sizeof e->path - old, "%s%s", old ? "." : "", seg);
  if (n > 0) e->plen = old + (size_t)n < sizeof e->path ? old + (size_t)n : sizeof e->path - 1;
  return old;
}
static void path_pop(enc *e, size_t old) {
  e->plen = old;
  e->path[old] = '\0';
}

static int is_sequence(lua_State *L, int idx, lua_Integer *len) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n) {
      lua_pop(L, 1);
      return 0;
    }
    count++;
  }
  *len = n;
  return count == n;
}

static void encode_value(enc *e, int idx, const schema *s);

static void encode_any(enc *e, int idx) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      size_t n;
      const char *str = lua_tolstring(L, idx, &n);
      put_string(e, str, n);
      return;
    }
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) PUTS(e, "true"); else PUTS(e, "false");
      return;
    case LUA_TNUMBER:
      encode_value(e, idx, lua_isinteger(L, idx) ? &CT_integer : &CT_any);
      return;
    case LUA_TTABLE: {
      lua_Integer n;
      luaL_checkstack(L, 4, "nesting too deep");
      if (is_sequence(L, idx, &n) && n > 0) {
        PUTS(e, "[");
        for (lua_Integer i = 1; i <= n; i++) {
          if (i > 1) PUTS(e, ",");
          lua_rawgeti(L, idx, i);
          size_t old = path_push(e, NULL, 1, i);
          encode_any(e, lua_gettop(L));
          path_pop(e, old);
          lua_pop(L, 1);
        }
        PUTS(e, "]");
        return;
      }
      PUTS(e, "{");
      int first = 1;
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) fail(e, "a table with string keys", idx);
        if (!first) PUTS(e, ",");
        first = 0;
        size_t kn;
        const char *k = lua_tolstring(L, -2, &kn);
        put_string(e, k, kn);
        PUTS(e, ":");
        size_t old = path_push(e, k, 0, 0);
        encode_any(e, lua_gettop(L));
        path_pop(e, old);
        lua_pop(L, 1);
      }
      PUTS(e, "}");
      return;
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == NULL) { PUTS(e, "null"); return; }
      /* fall through */
    default:
      fail(e, "a string, number, boolean or table", idx);
  }
}

/* a value of the right type that the contract still refuses (a bound, an enum, a format) */
static void refuse(enc *e, const schema *s, int idx) {
  lua_State *L = e->L;
  porter_argerror(L, "%s: '%s' must be %s (got %s)", e->what, e->plen ? e->path : "value", s->label, porter_got(L, idx));
}

static void encode_object(enc *e, int idx, const schema *s) {
  lua_State *L = e->L;
  if (!lua_istable(L, idx)) fail(e, s->label, idx);
  /* every key must be a known field: a typo is an error, not a silently dropped option */
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    const field *f = NULL;
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -1);
      for (f = s->fields; f->name && strcmp(f->name, k); f++) {}
    }
    if (!f || !f->name) {
      luaL_Buffer b;
      const char *k = luaL_tolstring(L, -1, NULL);
      luaL_buffinit(L, &b);
      for (const field *g = s->fields; g->name; g++) {
        if (g != s->fields) luaL_addstring(&b, ", ");
        luaL_addstring(&b, g->name);
      }
      luaL_pushresult(&b);
      if (e->plen)
        porter_argerror(L, "%s: unknown field '%s' in '%s' (expected one of: %s)", e->what, k, e->path,
                        lua_tostring(L, -1));
      porter_argerror(L, "%s: unknown option '%s' (expected one of: %s)", e->what, k, lua_tostring(L, -1));
    }
  }
  PUTS(e, "{");
  int first = 1;
  for (const field *f = s->fields; f->name; f++) {
    lua_getfield(L, idx, f->name);
    size_t old = path_push(e, f->name, 0, 0);
    if (lua_isnil(L, -1)) {
      if (f->required) {
        if (old)
          porter_argerror(L, "%s: '%s' is required (%s)", e->what, e->path, f->type->label);
        porter_argerror(L, "%s: '%s' is required (%s)", e->what, f->name, f->type->label);
      }
    } else {
      if (!first) PUTS(e, ",");
      first = 0;
      put_string(e, f->name, strlen(f->name));
      PUTS(e, ":");
      encode_value(e, lua_gettop(L), f->type);
    }
    path_pop(e, old);
    lua_pop(L, 1);
  }
  PUTS(e, "}");
}


/* a number of undeclared type: integers as such, other numbers finite, in full precision */
static void encode_number(enc *e, int idx) {
  char num[64];
  double d = lua_tonumber(e->L, idx);
  if (!isfinite(d)) fail(e, "a finite number", idx);
  int n = snprintf(num, sizeof num, "%.17g", d);
  put(e, num, (size_t)n);
}

/* 5.0 is accepted as 5: Lua arithmetic produces floats easily */
static void encode_int(enc *e, int idx, const schema *s) {
  lua_State *L = e->L;
  if (lua_type(L, idx) != LUA_TNUMBER) fail(e, s->label, idx);
  if (!lua_isinteger(L, idx)) {
    double d = lua_tonumber(L, idx);
    if (d != floor(d) || d < -9.2e18 || d > 9.2e18) fail(e, s->label, idx);
    lua_pushinteger(L, (lua_Integer)d);
    lua_replace(L, idx);
  }
  if (!ct_int_ok(s, (long long)lua_tointeger(L, idx))) refuse(e, s, idx);
  char num[32];
  int n = snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, idx));
  put(e, num, (size_t)n);
}

/* the value at stack top as a member of what is being encoded (a key, or index i), popped */
static void encode_member(enc *e, const schema *s, const char *key, lua_Integer i) {
  size_t old = path_push(e, key, key == NULL, i);
  encode_value(e, lua_gettop(e->L), s);
  path_pop(e, old);
  lua_pop(e->L, 1);
}

static void encode_array(enc *e, int idx, const schema *s) {
  lua_State *L = e->L;
  lua_Integer n = 0;
  if (!lua_istable(L, idx) || !is_sequence(L, idx, &n)) fail(e, s->label, idx);
  if (n < s->min_items || (s->max_items && n > s->max_items)) {
    const char *where = e->plen ? e->path : "value";
    porter_argerror(L, "%s: '%s' must be %s (got %d items)", e->what, where, s->label, (int)n);
  }
  luaL_checkstack(L, 4, "nesting too deep");
  PUTS(e, "[");
  for (lua_Integer i = 1; i <= n; i++) {
    if (i > 1) PUTS(e, ",");
    lua_rawgeti(L, idx, i);
    encode_member(e, s->items, NULL, i);
  }
  PUTS(e, "]");
}

static void encode_map(enc *e, int idx, const schema *s) {
  lua_State *L = e->L;
  if (!lua_istable(L, idx)) fail(e, s->label, idx);
  luaL_checkstack(L, 4, "nesting too deep");
  PUTS(e, "{");
  int first = 1;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING) fail(e, s->label, idx);
    size_t kn;
    const char *k = lua_tolstring(L, -2, &kn);
    if (!ct_format_ok(s->format, k, kn))
      porter_argerror(L, "%s: key '%s' in '%s' must be %s", e->what, k, e->path, ct_key_text(s));
    if (!first) PUTS(e, ",");
    first = 0;
    put_string(e, k, kn);
    PUTS(e, ":");
    encode_member(e, s->items, k, 0);
  }
  PUTS(e, "}");
}

static void encode_value(enc *e, int idx, const schema *s) {
  lua_State *L = e->L;
  switch (s->kind) {
    case CT_ANY:
      if (lua_type(L, idx) == LUA_TNUMBER && !lua_isinteger(L, idx)) encode_number(e, idx);
      else encode_any(e, idx);
      return;
    case CT_STR: {
      if (lua_type(L, idx) != LUA_TSTRING) fail(e, s->label, idx);
      size_t n;
      const char *str = lua_tolstring(L, idx, &n);
      if (!ct_string_ok(s, str, n)) refuse(e, s, idx);
      put_string(e, str, n);
      return;
    }
    case CT_INT: encode_int(e, idx, s); return;
    case CT_BOOL:
      if (!lua_isboolean(L, idx)) fail(e, s->label, idx);
      if (lua_toboolean(L, idx)) PUTS(e, "true"); else PUTS(e, "false");
      return;
    case CT_ARR: encode_array(e, idx, s); return;
    case CT_MAP: encode_map(e, idx, s); return;
    case CT_OBJ: encode_object(e, idx, s); return;
  }
}

void model_encode(lua_State *L, membuf *out, int idx, const schema *s, const char *what) {
  enc e;
  e.L = L;
  e.out = out;
  e.what = what;
  e.plen = 0;
  e.path[0] = '\0';
  encode_value(&e, lua_absindex(L, idx), s);
}

void model_check(lua_State *L, int idx, const schema *s, const char *what) {
  membuf scratch = {0};
  /* the check is the encoder with its output thrown away; a raised error would leak the
   * scratch buffer, so it lives in a userdata that the GC frees */
  membuf *m = lua_newuserdatauv(L, sizeof *m, 0);
  *m = scratch;
  luaL_setmetatable(L, "porter_sandbox.membuf");
  model_encode(L, m, idx, s, what);
  membuf_free(m);
  lua_pop(L, 1);
}

int model_urlencode(membuf *out, const char *s, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  if (!membuf_reserve(out, len * 3)) return 0;
  char *p = out->p + out->n;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      *p++ = (char)c;
    } else {
      *p++ = '%';
      *p++ = hex[c >> 4];
      *p++ = hex[c & 15];
    }
  }
  out->n = (size_t)(p - out->p);
  return 1;
}

static int membuf_gc(lua_State *L) {
  membuf_free(lua_touserdata(L, 1));
  return 0;
}

void model_open(lua_State *L) {
  repr_open(L);
  if (luaL_newmetatable(L, "porter_sandbox.membuf")) {
    lua_pushcfunction(L, membuf_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}
