/* Small utilities: time, ids, directories, JSON text of arbitrary bytes. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "server.h"

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *digits(char *p, unsigned v, int n) {
  for (int i = n - 1; i >= 0; i--, v /= 10) p[i] = (char)('0' + v % 10);
  return p + n;
}

/* Every status carries three of these and a list page fifty statuses: the date from the day
 * count by arithmetic (the proleptic Gregorian calendar, as gmtime's), not gmtime_r, strftime
 * and snprintf (7% of a page's time, perf); the library's way outside years 0-9999, and before
 * 1970 a time's milliseconds are still 0-999 (C's % would make them negative). */
void fmt_time(int64_t ms, char *buf, size_t n) {
  /* years 0000-9999 (what parse_time reads back), checked before any arithmetic on ms */
  if (ms < -62167219200000LL || ms > 253402300799999LL || n < 25) {
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char base[32];
    if (!gmtime_r(&s, &tm) || !strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm)) snprintf(base, sizeof base, "?");
    snprintf(buf, n, "%s.%03dZ", base, (int)(ms % 1000 + 1000) % 1000);
    return;
  }
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t in_day = ms - days * 86400000; /* 0 .. 86399999 */
  /* days since 1970-01-01 to year, month, day (the civil-from-days method) */
  int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
  unsigned sec = (unsigned)(in_day / 1000), milli = (unsigned)(in_day % 1000);
  char *p = digits(buf, (unsigned)y, 4);
  *p++ = '-';
  p = digits(p, m, 2);
  *p++ = '-';
  p = digits(p, d, 2);
  *p++ = 'T';
  p = digits(p, sec / 3600, 2);
  *p++ = ':';
  p = digits(p, sec / 60 % 60, 2);
  *p++ = ':';
  p = digits(p, sec % 60, 2);
  *p++ = '.';
  p = digits(p, milli, 3);
  *p++ = 'Z';
  *p = '\0';
}

int parse_time(const char *s, int64_t *ms) {
  struct tm tm = {0};
  int frac_ms = 0;
  const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p) return 0;
  if (*p == '.') {
    p++;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
      if (digits < 3) frac_ms = frac_ms * 10 + (*p - '0');
      digits++, p++;
    }
    while (digits > 0 && digits < 3) frac_ms *= 10, digits++;
  }
  int64_t off = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int hh, mm;
    if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2) return 0;
    off = (int64_t)(hh * 60 + mm) * 60000 * (*p == '+' ? 1 : -1);
    p += 6;
  } else {
    return 0;
  }
  if (*p) return 0;
  *ms = (int64_t)timegm(&tm) * 1000 + frac_ms - off;
  return 1;
}

void new_id(const char *prefix, char *out, size_t n) {
  unsigned char b[8];
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
    uint64_t t = (uint64_t)now_ms() ^ (uint64_t)getpid();
    memcpy(b, &t, sizeof b);
  }
  snprintf(out, n, "%s_%02x%02x%02x%02x%02x%02x%02x%02x", prefix, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}

int pathf(char *out, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(out, n, fmt, ap);
  va_end(ap);
  if (len < 0 || (size_t)len >= n) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

int mkdir_p(const char *path, mode_t mode) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, mode) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(buf, mode) == 0 || errno == EEXIST ? 0 : -1;
}

/* Empties the directory fd one level deep: files go, subdirectories are emptied of their files
 * and their own subdirectories are moved up into top (renamed, same file system), so that the
 * tree gets shallower each round however deep it was: no recursion, no path longer than a name,
 * no descriptor per level (a sandbox can leave a directory nested thousands deep). */
static int flatten(int top, unsigned long *serial) {
  int busy = 0, fd = dup(top);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) return -1;
  rewinddir(d); /* the dup shares top's offset, left at the end by the previous round */
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (unlinkat(top, e->d_name, 0) == 0 || errno == ENOENT) continue;
    if (unlinkat(top, e->d_name, AT_REMOVEDIR) == 0) continue;
    int sub = openat(top, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *sd = sub >= 0 ? fdopendir(sub) : NULL;
    if (!sd) {
      if (sub >= 0) close(sub);
      continue;
    }
    struct dirent *f;
    while ((f = readdir(sd))) {
      if (!strcmp(f->d_name, ".") || !strcmp(f->d_name, "..")) continue;
      if (unlinkat(sub, f->d_name, 0) == 0) continue;
      char up[64];
      snprintf(up, sizeof up, ".porter-rm-%lu", (*serial)++);
      renameat(sub, f->d_name, top, up);
    }
    closedir(sd);
    busy = 1;
  }
  closedir(d);
  return busy;
}

int rm_rf(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
  if (!S_ISDIR(st.st_mode)) return unlink(path);
  int top = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (top < 0) return -1;
  unsigned long serial = 0;
  int rounds = 0, r;
  /* each round takes at least one level off every subtree */
  while ((r = flatten(top, &serial)) > 0 && ++rounds < 1000000) {
  }
  close(top);
  return r < 0 ? -1 : rmdir(path);
}

size_t utf8_seq(const unsigned char *p, size_t n) {
  if (p[0] < 0x80) return 1;
  size_t len = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
  if (!len || len > n || p[0] == 0xc0 || p[0] == 0xc1 || p[0] > 0xf4) return 0;
  for (size_t i = 1; i < len; i++)
    if ((p[i] & 0xc0) != 0x80) return 0;
  if (len == 3 && p[0] == 0xe0 && p[1] < 0xa0) return 0;
  if (len == 3 && p[0] == 0xed && p[1] >= 0xa0) return 0;
  if (len == 4 && p[0] == 0xf0 && p[1] < 0x90) return 0;
  if (len == 4 && p[0] == 0xf4 && p[1] >= 0x90) return 0;
  return len;
}

size_t utf8_valid_prefix(const char *text, size_t n) {
  const unsigned char *p = (const unsigned char *)text;
  size_t i = 0;
  const uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
  while (i < n) {
    /* ASCII without NUL, a word at a time: what logs and answers mostly are */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      if ((w & high) || ((w - ones) & ~w & high)) break;
      i += 8;
    }
    if (i >= n) break;
    if (p[i] < 0x80 && p[i] != 0) {
      i++;
      continue;
    }
    size_t k = p[i] ? utf8_seq(p + i, n - i) : 0;
    if (!k) break;
    i += k;
  }
  return i;
}

size_t count_newlines(const char *p, size_t n) {
  const uint64_t ones = 0x0101010101010101ull, nl = ones * '\n', high = ones * 0x80, low = ones * 0x7f;
  size_t count = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    w ^= nl; /* a '\n' byte is now 0 */
    /* 1 in each byte that was '\n', summed into the top byte by the multiply */
    count += (size_t)((((~(((w & low) + low) | w) & high) >> 7) * ones) >> 56);
  }
  for (; i < n; i++) count += p[i] == '\n';
  return count;
}

size_t utf8_sanitize(const char *text, size_t n, char *out) {
  const unsigned char *p = (const unsigned char *)text;
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t k = p[i] ? utf8_seq(p + i, n - i) : 0;
    if (k) {
      memcpy(out + o, p + i, k);
      o += k, i += k;
    } else {
      memcpy(out + o, "\xef\xbf\xbd", 3);
      o += 3, i++;
    }
  }
  return o;
}

json_t *json_bytes(const char *text, size_t n) {
  if (utf8_valid_prefix(text, n) == n) return json_stringn_nocheck(text, n);
  /* rare: rebuild with replacement characters (and NULs as U+FFFD too) */
  char *out = malloc(n * 3 + 1);
  if (!out) return json_string("");
  json_t *s = json_stringn_nocheck(out, utf8_sanitize(text, n, out));
  free(out);
  return s;
}

int is_mount_point(const char *dir) {
  char parent[4300];
  if (pathf(parent, sizeof parent, "%s/..", dir) != 0) return 0;
  struct stat a, b;
  return stat(dir, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

unsigned long long parse_size(const char *s) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s) return 0;
  if (*end == 'K' || *end == 'k') v <<= 10, end++;
  else if (*end == 'M' || *end == 'm') v <<= 20, end++;
  else if (*end == 'G' || *end == 'g') v <<= 30, end++;
  return *end ? 0 : v;
}
