/* Printable answers: an exec result, a log line, a file entry, a sandbox status and a snapshot get a
 * metatable whose __tostring reads like the official SDKs' reprs,
 * ExecResult(exit_code=0, stdout="hi\n", stderr=""), so that print and the REPL show them. */
#include <stdio.h>
#include <string.h>
#include "porter.h"

static const char REPRS_KEY[] = "porter_sandbox.reprs";
#define MAX_SHOWN 120 /* bytes of a string value shown before "..." */

typedef struct repr {
  const schema *s;
  const char *name;
  const char *fields[12]; /* in the order shown; ExecResult's first three always */
  int always;
} repr;

static const repr reprs[] = {
  {&CT_ExecResponse, "ExecResult", {"exit_code", "stdout", "stderr", "truncated"}, 3},
  {&CT_LogLine, "LogLine", {"timestamp", "level", "exec_id", "line"}, 0},
  {&CT_VolumeFileEntry, "FileEntry", {"path", "name", "type", "size_bytes", "modified_at", "truncated"}, 0},
  {&CT_StatusResponse, "SandboxStatus", {"id", "name", "phase", "exit_code", "image", "tags", "created_at", "started_at", "finished_at"}, 0},
  {&CT_Snapshot, "Snapshot", {"id", "sandbox_id", "mode", "status", "size_bytes", "t_created_unix_ms", "t_ready_unix_ms", "failure_reason"}, 0},
};
#define NREPRS (sizeof reprs / sizeof *reprs)

/* Pushes s quoted, with escapes, cut after MAX_SHOWN bytes. */
static void push_quoted(lua_State *L, const char *s, size_t n) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '"');
  for (size_t i = 0; i < n && i < MAX_SHOWN; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    if (c == '\n') luaL_addstring(&b, "\\n");
    else if (c == '\t') luaL_addstring(&b, "\\t");
    else if (c == '\r') luaL_addstring(&b, "\\r");
    else if (c == '"' || c == '\\') luaL_addchar(&b, '\\'), luaL_addchar(&b, (char)c);
    else if (c < 0x20 || c == 0x7f) snprintf(esc, sizeof esc, "\\x%02x", c), luaL_addstring(&b, esc);
    else luaL_addchar(&b, (char)c);
  }
  luaL_addchar(&b, '"');
  luaL_pushresult(&b);
  if (n > MAX_SHOWN) {
    lua_pushfstring(L, "...(%d bytes)", (int)n);
    lua_concat(L, 2);
  }
}

/* Appends the string at the top to the one at acc (both Lua strings), popping it. */
static void append(lua_State *L, int acc) {
  lua_pushvalue(L, acc);
  lua_insert(L, -2);
  lua_concat(L, 2);
  lua_replace(L, acc);
}

/* Pushes how the value at idx reads: strings quoted, tables as {k="v", ...} one level deep,
 * anything else as tostring gives it. */
static void push_value(lua_State *L, int idx, int depth) {
  idx = lua_absindex(L, idx);
  int t = lua_type(L, idx);
  if (t == LUA_TSTRING) {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    push_quoted(L, s, n);
  } else if (t == LUA_TTABLE && depth == 0) {
    lua_pushliteral(L, "{");
    int acc = lua_gettop(L), first = 1;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      if (!first) lua_pushliteral(L, ", "), append(L, acc);
      first = 0;
      if (lua_type(L, -2) == LUA_TSTRING) lua_pushfstring(L, "%s=", lua_tostring(L, -2)), append(L, acc);
      push_value(L, -1, depth + 1);
      append(L, acc);
      lua_pop(L, 1);
    }
    lua_pushliteral(L, "}");
    append(L, acc);
  } else if (t == LUA_TTABLE) {
    lua_pushliteral(L, "{...}");
  } else {
    luaL_tolstring(L, idx, NULL);
  }
}

static int repr_tostring(lua_State *L) {
  const repr *r = lua_touserdata(L, lua_upvalueindex(1));
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushfstring(L, "%s(", r->name);
  int acc = lua_gettop(L), shown = 0;
  for (int i = 0; i < 12 && r->fields[i]; i++) {
    lua_getfield(L, 1, r->fields[i]);
    if (lua_isnil(L, -1) && i >= r->always) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushfstring(L, "%s%s=", shown++ ? ", " : "", r->fields[i]);
    append(L, acc);
    push_value(L, -1, 0);
    append(L, acc);
    lua_pop(L, 1);
  }
  lua_pushliteral(L, ")");
  append(L, acc);
  return 1;
}

void repr_open(lua_State *L) {
  lua_newtable(L);
  for (size_t i = 0; i < NREPRS; i++) {
    lua_newtable(L);
    lua_pushlightuserdata(L, (void *)&reprs[i]);
    lua_pushcclosure(L, repr_tostring, 1);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, reprs[i].name);
    lua_setfield(L, -2, "__name");
    lua_setfield(L, -2, reprs[i].name);
  }
  lua_setfield(L, LUA_REGISTRYINDEX, REPRS_KEY);
}

void repr_apply(lua_State *L, int idx, const schema *s) {
  for (size_t i = 0; i < NREPRS; i++) {
    if (reprs[i].s != s) continue;
    idx = lua_absindex(L, idx);
    lua_getfield(L, LUA_REGISTRYINDEX, REPRS_KEY);
    lua_getfield(L, -1, reprs[i].name);
    lua_setmetatable(L, idx);
    lua_pop(L, 1);
    return;
  }
}

void repr_push_all(lua_State *L) { lua_getfield(L, LUA_REGISTRYINDEX, REPRS_KEY); }
