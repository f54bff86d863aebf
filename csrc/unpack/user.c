/* The image's User as ids, from its own /etc/passwd and /etc/group. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unpack.h"

/* Reads a small regular file (a FIFO or device an image left there must not block us). */
static char *slurp(const char *path) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  char *buf = NULL;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (1 << 22) && (buf = malloc((size_t)st.st_size + 1))) {
    ssize_t n = read(fd, buf, (size_t)st.st_size);
    buf[n > 0 ? n : 0] = '\0';
  }
  close(fd);
  return buf;
}

static int numeric(const char *s, unsigned long *out) {
  char *end;
  if (!*s) return 0;
  errno = 0;
  *out = strtoul(s, &end, 10);
  return !*end && !errno && s[0] != '-';
}

/* Finds the line of a colon-separated file whose field 0 (by name) or field 2 (by id) matches;
 * fills fields[0..7]. */
static int lookup(char *text, const char *name, unsigned long id, int by_id, char *fields[8]) {
  for (char *line = text; line && *line;) {
    char *next = strchr(line, '\n');
    if (next) *next++ = '\0';
    int n = 0;
    for (char *p = line; n < 8;) {
      fields[n++] = p;
      p = strchr(p, ':');
      if (!p) break;
      *p++ = '\0';
    }
    for (int i = n; i < 8; i++) fields[i] = "";
    unsigned long v;
    if (line[0] != '#' && n >= 3 && (by_id ? numeric(fields[2], &v) && v == id : !strcmp(fields[0], name))) return 1;
    line = next;
  }
  return 0;
}

int user_resolve(const char *spec, unsigned long *uid, unsigned long *gid, char *home, size_t hn, char *why, size_t wn) {
  char user[256], group[256] = "";
  snprintf(user, sizeof user, "%s", spec);
  char *colon = strchr(user, ':');
  if (colon) {
    snprintf(group, sizeof group, "%s", colon + 1);
    *colon = '\0';
  }
  *uid = 0, *gid = 0;
  snprintf(home, hn, "/");
  char *passwd = slurp("/etc/passwd"), *groups = slurp("/etc/group");
  char *f[8];
  int ok = 1;
  int by_id = numeric(user, uid);
  if (passwd && lookup(passwd, user, *uid, by_id, f)) {
    *uid = strtoul(f[2], NULL, 10);
    *gid = strtoul(f[3], NULL, 10);
    if (*f[5]) snprintf(home, hn, "%s", f[5]);
  } else if (!by_id) {
    snprintf(why, wn, "unable to find user %s: no matching entries in the image's /etc/passwd", user);
    ok = 0;
  }
  if (ok && group[0]) {
    int gid_numeric = numeric(group, gid);
    if (!gid_numeric) {
      if (groups && lookup(groups, group, 0, 0, f)) {
        *gid = strtoul(f[2], NULL, 10);
      } else {
        snprintf(why, wn, "unable to find group %s: no matching entries in the image's /etc/group", group);
        ok = 0;
      }
    }
  }
  free(passwd);
  free(groups);
  return ok ? 0 : -1;
}
