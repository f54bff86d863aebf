/* An egress rule's address form (an IPv4/IPv6 literal or a CIDR range), read the same way by
 * the server, which validates a spec, and by the sandbox's egress proxy, which matches by it. */
#ifndef EGRESS_RULE_H
#define EGRESS_RULE_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct egress_addr {
  int family; /* AF_INET or AF_INET6 */
  unsigned char net[16];
  int bits;
} egress_addr;

/* 0 and *out filled if s is an address or range; -1 if it is something else (a name). */
static inline int egress_parse_addr(const char *s, egress_addr *out) {
  char buf[64];
  if (strlen(s) >= sizeof buf) return -1;
  snprintf(buf, sizeof buf, "%s", s);
  char *slash = strchr(buf, '/');
  long bits = -1;
  if (slash) {
    char *end;
    *slash = '\0';
    bits = strtol(slash + 1, &end, 10);
    if (*end || !slash[1] || bits < 0) return -1;
  }
  if (inet_pton(AF_INET, buf, out->net) == 1) out->family = AF_INET, out->bits = bits < 0 ? 32 : (int)bits;
  else if (inet_pton(AF_INET6, buf, out->net) == 1) out->family = AF_INET6, out->bits = bits < 0 ? 128 : (int)bits;
  else return -1;
  return out->bits <= (out->family == AF_INET ? 32 : 128) ? 0 : -1;
}

#endif
