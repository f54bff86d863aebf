/* Egress rules: which destinations a sandbox's allow list lets through. A rule is a hostname
 * (exact, case-insensitive), "*.suffix" (any name below suffix), an IPv4 or IPv6 literal, or a
 * CIDR range. A name allowed by a name rule may connect to whatever it resolves to; any other
 * name only to addresses an address rule allows. What is never allowed (the host, its loopback,
 * link-local, metadata) the sandbox's nftables rules refuse, for the proxy too (netfilter.c). */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "egress_rule.h"
#include "helper.h"

static int addr_in(const egress_addr *r, const struct sockaddr *sa) {
  const unsigned char *a;
  if (sa->sa_family != r->family) return 0;
  a = r->family == AF_INET ? (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr
                           : (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
  int full = r->bits / 8, rest = r->bits % 8;
  if (memcmp(a, r->net, (size_t)full)) return 0;
  return !rest || ((a[full] ^ r->net[full]) & (0xff << (8 - rest))) == 0;
}

int egress_is_address(const char *rule) {
  egress_addr r;
  return egress_parse_addr(rule, &r) == 0;
}

int egress_name_allowed(const char *host, char **rules, int n) {
  size_t hl = strlen(host);
  for (int i = 0; i < n; i++) {
    const char *r = rules[i];
    if (egress_is_address(r)) continue;
    if (r[0] == '*' && r[1] == '.') {
      size_t sl = strlen(r + 1); /* ".suffix" */
      if (hl > sl && !strcasecmp(host + hl - sl, r + 1)) return 1;
    } else if (!strcasecmp(host, r)) {
      return 1;
    }
  }
  return 0;
}

int egress_addr_allowed(const struct sockaddr *sa, int by_name, char **rules, int n) {
  if (by_name) return 1;
  for (int i = 0; i < n; i++) {
    egress_addr r;
    if (egress_parse_addr(rules[i], &r) == 0 && addr_in(&r, sa)) return 1;
  }
  return 0;
}
