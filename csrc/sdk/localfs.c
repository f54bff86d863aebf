/* The local side of directory transfers: listing a local tree and opening files in it
 * without following a symlink out of it. Lua's io cannot list a directory, make one, or open
 * a file relative to a directory; these few functions can, and give back Lua file handles. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "porter.h"

static int fs_error(lua_State *L, const char *what, const char *path) {
  return porter_raise(L, ERR_BASE, 0, 0, "%s '%s': %s", what, path, strerror(errno));
}

static int closedir_gc(lua_State *L) {
  DIR **d = lua_touserdata(L, 1);
  if (*d) closedir(*d);
  *d = NULL;
  return 0;
}

/* core._readdir(dir, root) -> { {name, kind, size, target}... }: kind is "file",
 * "directory", "symlink" or "other", by lstat. A symlink whose target resolves inside root
 * gets target (its path relative to root) and the target's kind in target_kind. */
static int fs_readdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  const char *root = luaL_checkstring(L, 2);
  char real_root[PATH_MAX];
  if (!realpath(root, real_root)) return fs_error(L, "cannot resolve", root);
  DIR **d = lua_newuserdatauv(L, sizeof *d, 0); /* closed by __gc if we raise */
  *d = NULL;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, closedir_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  if (!(*d = opendir(path))) return fs_error(L, "cannot list", path);
  lua_newtable(L);
  int n = 0;
  struct dirent *e;
  size_t rootlen = strlen(real_root);
  while ((errno = 0, e = readdir(*d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct stat st;
    if (fstatat(dirfd(*d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue; /* gone meanwhile */
    lua_createtable(L, 0, 5);
    lua_pushstring(L, e->d_name);
    lua_setfield(L, -2, "name");
    const char *kind = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "directory" : S_ISLNK(st.st_mode) ? "symlink" : "other";
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushinteger(L, (lua_Integer)st.st_size);
    lua_setfield(L, -2, "size");
    if (S_ISLNK(st.st_mode)) {
      char full[PATH_MAX], target[PATH_MAX];
      struct stat ts;
      if (snprintf(full, sizeof full, "%s/%s", path, e->d_name) < (int)sizeof full && realpath(full, target) &&
          !strncmp(target, real_root, rootlen) && target[rootlen] == '/' && stat(target, &ts) == 0) {
        lua_pushstring(L, target + rootlen + 1);
        lua_setfield(L, -2, "target");
        lua_pushstring(L, S_ISREG(ts.st_mode) ? "file" : S_ISDIR(ts.st_mode) ? "directory" : "other");
        lua_setfield(L, -2, "target_kind");
        lua_pushinteger(L, (lua_Integer)ts.st_size);
        lua_setfield(L, -2, "size");
      }
    }
    lua_rawseti(L, -2, ++n);
  }
  int err = errno;
  closedir(*d);
  *d = NULL;
  if (err) return errno = err, fs_error(L, "cannot list", path);
  return 1;
}

#ifdef PORTER_LUA51
/* 5.1's and LuaJIT's io library makes its file handles itself: io.open of the descriptor's
 * /proc/self/fd link opens the very file found (no second path walk), and ours is closed */
static int push_file(lua_State *L, int fd, int write, const char *rel) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  lua_getglobal(L, "io");
  lua_getfield(L, -1, "open");
  lua_pushstring(L, link);
  lua_pushstring(L, write ? "wb" : "rb");
  lua_call(L, 2, 2);
  close(fd);
  if (lua_isnil(L, -2)) return porter_raise(L, ERR_BASE, 0, 0, "cannot open '%s': %s", rel, lua_tostring(L, -1));
  lua_pop(L, 1);
  return 1;
}
#else
static int stream_close(lua_State *L) {
  luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
  int ok = fclose(p->f) == 0;
  return luaL_fileresult(L, ok, NULL);
}

static int push_file(lua_State *L, int fd, int write, const char *rel) {
  luaL_Stream *p = lua_newuserdatauv(L, sizeof *p, 0);
  p->closef = NULL; /* not a file until fdopen succeeds */
  luaL_setmetatable(L, LUA_FILEHANDLE);
  if (!(p->f = fdopen(fd, write ? "wb" : "rb"))) {
    close(fd);
    return fs_error(L, "cannot open", rel);
  }
  p->closef = stream_close;
  return 1;
}
#endif

/* core._open_under(root, rel, mode): mode "r" opens the file root/rel for reading, "w"
 * creates or truncates it (making the directories on the way), "d" makes the directory
 * root/rel. No component may be a symlink, so nothing lands or is read outside root.
 * Returns a Lua file handle ("r", "w") or true ("d"). */
static int fs_open_under(lua_State *L) {
  const char *root = luaL_checkstring(L, 1);
  const char *rel = luaL_checkstring(L, 2);
  const char *mode = luaL_checkstring(L, 3);
  int write = mode[0] != 'r', dir_only = mode[0] == 'd';
  char buf[PATH_MAX];
  if (strlen(rel) >= sizeof buf) return porter_raise(L, ERR_BASE, 0, 0, "path too long: '%s'", rel);
  strcpy(buf, rel);
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && write && errno == ENOENT && mkdir(root, 0777) == 0) fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fs_error(L, "cannot open", root);
  char *save = NULL, *comp = strtok_r(buf, "/", &save);
  while (comp) {
    char *next = strtok_r(NULL, "/", &save);
    if (!strcmp(comp, "..") || !strcmp(comp, ".")) {
      close(fd);
      return porter_raise(L, ERR_BASE, 0, 0, "'%s' has a '.' or '..' component", rel);
    }
    if (!next && !dir_only) {
      int flags = write ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY;
      int f = openat(fd, comp, flags | O_NOFOLLOW | O_CLOEXEC, 0666);
      int e = errno;
      close(fd);
      if (f < 0) return errno = e, fs_error(L, "cannot open", rel);
      struct stat st;
      if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return porter_raise(L, ERR_BASE, 0, 0, "'%s' is not a regular file", rel);
      }
      return push_file(L, f, write, rel);
    }
    if (write && mkdirat(fd, comp, 0777) != 0 && errno != EEXIST) {
      close(fd);
      return fs_error(L, "cannot make the directory for", rel);
    }
    int sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    close(fd);
    if (sub < 0) return errno = e, fs_error(L, "cannot enter a directory of", rel);
    fd = sub;
    comp = next;
  }
  close(fd);
  lua_pushboolean(L, 1);
  return 1;
}

void localfs_open(lua_State *L, int module_idx) {
  module_idx = lua_absindex(L, module_idx);
  lua_pushcfunction(L, fs_readdir);
  lua_setfield(L, module_idx, "_readdir");
  lua_pushcfunction(L, fs_open_under);
  lua_setfield(L, module_idx, "_open_under");
}
