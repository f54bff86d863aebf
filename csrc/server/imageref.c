/* Image references as Docker reads them: "python:3.12-slim" is
 * "docker.io/library/python:3.12-slim"; a first component with a '.' or ':' or "localhost" is
 * a registry; a tag defaults to "latest" unless a digest is given. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "server.h"
#include "images.h"

#define MAX_REF 512 /* Docker's repository names stop at 255; leave room for host and digest */

static int path_char(int c) { return islower(c) || isdigit(c) || c == '.' || c == '_' || c == '-' || c == '/'; }

static int valid_tag(const char *t, size_t n) {
  if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_')) return 0;
  for (size_t i = 0; i < n; i++)
    if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-')) return 0;
  return 1;
}

static int valid_digest(const char *d) {
  if (strncmp(d, "sha256:", 7) || strlen(d) != 7 + 64) return 0;
  for (const char *p = d + 7; *p; p++)
    if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p)) return 0;
  return 1;
}

int image_ref_parse(const char *in, image_ref *out, char *why, size_t wn) {
  memset(out, 0, sizeof *out);
  size_t len = strlen(in);
  if (len == 0) return snprintf(why, wn, "must not be empty"), -1;
  if (len > MAX_REF) return snprintf(why, wn, "is longer than %d characters", MAX_REF), -1;
  char buf[MAX_REF + 1];
  memcpy(buf, in, len + 1);
  char *at = strchr(buf, '@');
  if (at) {
    *at = '\0';
    if (!valid_digest(at + 1)) return snprintf(why, wn, "has a digest that is not sha256:<64 lowercase hex digits>"), -1;
    memcpy(out->digest, at + 1, strlen(at + 1) + 1); /* valid_digest: 71 characters */
  }
  char *slash = strchr(buf, '/');
  const char *name = buf;
  if (slash && (memchr(buf, '.', (size_t)(slash - buf)) || memchr(buf, ':', (size_t)(slash - buf)) ||
                !strncmp(buf, "localhost/", 10))) {
    *slash = '\0';
    if ((size_t)(slash - buf) >= sizeof out->registry) return snprintf(why, wn, "has a registry host that is too long"), -1;
    memcpy(out->registry, buf, (size_t)(slash - buf) + 1);
    name = slash + 1;
    for (const char *p = out->registry; *p; p++)
      if (!(isalnum((unsigned char)*p) || strchr(".-:[]", *p))) return snprintf(why, wn, "has an invalid registry host"), -1;
  } else {
    snprintf(out->registry, sizeof out->registry, "docker.io");
  }
  char *last = strrchr(name, '/');
  char *colon = strchr(last ? last : name, ':');
  if (colon) {
    *colon = '\0';
    if (!valid_tag(colon + 1, strlen(colon + 1)))
      return snprintf(why, wn, "has an invalid tag (letters, digits, '_', '.', '-'; at most 128)"), -1;
    memcpy(out->tag, colon + 1, strlen(colon + 1) + 1); /* valid_tag: at most 128 */
  } else if (!out->digest[0]) {
    snprintf(out->tag, sizeof out->tag, "latest");
  }
  if (!*name) return snprintf(why, wn, "has no repository name"), -1;
  for (const char *p = name; *p; p++)
    if (!path_char((unsigned char)*p))
      return snprintf(why, wn, isupper((unsigned char)*p) ? "has an upper-case repository name (must be lowercase)"
                                                          : "has an invalid character in its repository name"),
             -1;
  if (name[0] == '/' || name[strlen(name) - 1] == '/' || strstr(name, "//"))
    return snprintf(why, wn, "has an empty path component"), -1;
  if (!strcmp(out->registry, "docker.io") && !strchr(name, '/'))
    pathf(out->repository, sizeof out->repository, "library/%s", name);
  else
    pathf(out->repository, sizeof out->repository, "%s", name);
  const char *host = out->registry;
  out->loopback = !strncmp(host, "localhost", 9) && (!host[9] || host[9] == ':');
  out->loopback |= !strncmp(host, "127.", 4) || !strncmp(host, "[::1]", 5);
  pathf(out->full, sizeof out->full, "%s/%s%s%s%s%s", out->registry, out->repository, out->tag[0] ? ":" : "",
           out->tag, out->digest[0] ? "@" : "", out->digest);
  return 0;
}
