/* Which clients the API answers: its own, never a web page. A page cannot set Host, so a
 * request whose Host is a name we do not answer to is a page on a rebound name (DNS rebinding:
 * evil.example resolving to 127.0.0.1); one carrying Origin comes from a page at that origin
 * (a "simple" cross-site POST needs no preflight). Programs send neither, or a Host that is an
 * address, a loopback name, or the name we were told to listen on. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "server.h"
#include "clients.h"

int api_host_allowed(const char *host, const char *listen_host, char *const *names, int n) {
  if (!host || !*host) return 1; /* HTTP/1.0 has none, and no browser sends that */
  char h[256];
  size_t len = strlen(host);
  if (len >= sizeof h) return 0;
  if (host[0] == '[') { /* [v6]:port */
    const char *end = strchr(host, ']');
    if (!end || (end[1] && end[1] != ':') || (size_t)(end - host - 1) >= sizeof h) return 0;
    memcpy(h, host + 1, (size_t)(end - host - 1));
    h[end - host - 1] = '\0';
    unsigned char a[16];
    return inet_pton(AF_INET6, h, a) == 1;
  }
  memcpy(h, host, len + 1);
  char *colon = strchr(h, ':');
  if (colon) *colon = '\0';
  unsigned char a[4];
  if (inet_pton(AF_INET, h, a) == 1) return 1; /* an address names no DNS record to rebind */
  size_t hl = strlen(h);
  if (hl && h[hl - 1] == '.') h[--hl] = '\0';
  /* browsers resolve localhost and every name below it to loopback themselves */
  if (!strcasecmp(h, "localhost") || (hl > 10 && !strcasecmp(h + hl - 10, ".localhost"))) return 1;
  if (listen_host && *listen_host && !strcasecmp(h, listen_host)) return 1;
  for (int i = 0; i < n; i++)
    if (!strcasecmp(h, names[i])) return 1;
  return 0;
}

int api_origin_allowed(const char *origin, char *const *origins, int n) {
  if (!origin) return 1;
  for (int i = 0; i < n; i++)
    if (!strcmp(origin, origins[i])) return 1;
  return 0;
}

const char *api_client_refusal(const char *host, const char *origin, char *buf, size_t n) {
  if (!api_host_allowed(host, cfg.listen_host, cfg.allow_hosts, cfg.nallow_hosts)) {
    snprintf(buf, n, "this server answers only its own clients: Host '%.100s' is not an address, a loopback name, "
             "the name it listens on or an --allow-host name", host);
    return buf;
  }
  if (!api_origin_allowed(origin, cfg.allow_origins, cfg.nallow_origins)) {
    snprintf(buf, n, "requests from web pages are refused (Origin '%.100s'); --allow-origin admits an origin", origin);
    return buf;
  }
  return NULL;
}
