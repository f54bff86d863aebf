/* The sandbox's egress rules at the network layer: an nftables table in the sandbox's own
 * network namespace, made by us (the host's root, owner of that namespace) before the sandbox
 * exists. The sandbox's root has no capability over the namespace, so it can neither see nor
 * change the table; every packet the sandbox sends, by any protocol, proxy or not, passes it.
 *
 * Order of the chain, first match wins:
 *   1. the sandbox's own loopback, and slirp4netns's DNS forwarder (10.0.2.3:53): with an
 *      allow list, only for our resolver and proxy (dns.c, proxy.c, as nobody), so that the
 *      sandbox resolves only names the list allows;
 *   2. never, whatever the rules say: unspecified, loopback, link-local (the metadata
 *      endpoints are in it, and fd00:ec2::254 beside it), multicast and broadcast, slirp4netns's
 *      own network (its gateway is the host), IPv4-mapped IPv6, and every address of the host's
 *      own interfaces (a service bound to 0.0.0.0 on the host answers on each of them);
 *   3. the allow list's address rules;
 *   4. private ranges, unless --allow-private-egress;
 *   5. with an allow list: the egress proxy (nobody, which checks names itself), the addresses
 *      the list's names resolve to (sets named4 and named6: those resolved at the start, and
 *      what our resolver adds as the sandbox looks names up), and nothing else.
 * A refused TCP connection gets a reset, anything else an ICMP unreachable: it fails at once. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "egress_rule.h"
#include "helper.h"
#include "nftlib.h"

#define NAMED_MAX 65536 /* addresses a sandbox's names may add to its sets */

typedef struct text {
  char *p;
  size_t n, cap;
  int oom;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = t->oom ? 0 : vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
    va_end(ap);
    if (t->oom || k < 0) {
      t->oom = 1;
      return;
    }
    if (t->p && t->n + (size_t)k < t->cap) {
      t->n += (size_t)k;
      return;
    }
    size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)k;
    char *q = realloc(t->p, cap);
    if (!q) {
      t->oom = 1;
      return;
    }
    t->p = q, t->cap = cap;
  }
}

/* One address as nftables reads it, into the v4 or v6 list. */
static void put_addr(text *v4, text *v6, int family, const void *addr) {
  char s[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, addr, s, sizeof s)) return;
  put(family == AF_INET ? v4 : v6, ", %s", s);
}

/* Every address of the host's interfaces: read before the sandbox's namespace is made. */
int netfilter_host_addrs(char **v4_out, char **v6_out) {
  text v4 = {0}, v6 = {0};
  struct ifaddrs *ifs, *i;
  put(&v4, "%s", ""), put(&v6, "%s", "");
  if (getifaddrs(&ifs) == 0) {
    for (i = ifs; i; i = i->ifa_next) {
      if (!i->ifa_addr) continue;
      if (i->ifa_addr->sa_family == AF_INET)
        put_addr(&v4, &v6, AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr);
      else if (i->ifa_addr->sa_family == AF_INET6)
        put_addr(&v4, &v6, AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr);
    }
    freeifaddrs(ifs);
  }
  if (v4.oom || v6.oom) {
    free(v4.p), free(v6.p);
    return -1;
  }
  *v4_out = v4.p, *v6_out = v6.p;
  return 0;
}

/* The addresses the allow list's names resolve to now (the host's resolver, before the
 * namespace is made), and its address rules, each into its family's list. */
static void allowed_lists(char **rules, int n, text *names4, text *names6, text *cidr4, text *cidr6) {
  for (int i = 0; i < n; i++) {
    egress_addr a;
    if (egress_parse_addr(rules[i], &a) == 0) {
      /* as a network: nftables refuses a prefix with host bits set */
      int len = a.family == AF_INET ? 4 : 16;
      for (int b = 0; b < len; b++) {
        int keep = a.bits - 8 * b;
        a.net[b] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
      }
      char s[INET6_ADDRSTRLEN];
      if (inet_ntop(a.family, a.net, s, sizeof s)) put(a.family == AF_INET ? cidr4 : cidr6, ", %s/%d", s, a.bits);
      continue;
    }
    if (rules[i][0] == '*') continue; /* a wildcard names no address: the proxy's alone */
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *r;
    if (getaddrinfo(rules[i], NULL, &hints, &res) != 0) continue;
    for (r = res; r; r = r->ai_next) {
      if (r->ai_family == AF_INET) put_addr(names4, names6, AF_INET, &((struct sockaddr_in *)r->ai_addr)->sin_addr);
      else if (r->ai_family == AF_INET6)
        put_addr(names4, names6, AF_INET6, &((struct sockaddr_in6 *)r->ai_addr)->sin6_addr);
    }
    freeaddrinfo(res);
  }
}

/* nftables wants no empty set and a leading ", " gone */
static void put_set(text *t, const char *match, const text *list, const char *verdict) {
  if (list->n > 2) put(t, "  %s { %s } %s\n", match, list->p + 2, verdict);
}

char *netfilter_ruleset(const netfilter_spec *s) {
  text t = {0}, n4 = {0}, n6 = {0}, c4 = {0}, c6 = {0};
  put(&n4, "%s", ""), put(&n6, "%s", ""), put(&c4, "%s", ""), put(&c6, "%s", "");
  if (s->allow_list) allowed_lists(s->rules, s->nrules, &n4, &n6, &c4, &c6);
  put(&t, "table inet porter {\n");
  /* dynamic: the kernel's resizable hash, which grows with what is in it; otherwise it picks
   * one that reserves room for all NAMED_MAX up front, 4 MB of kernel memory a sandbox (and
   * "policy memory" picks one that refuses some addresses as already present) */
  if (s->allow_list)
    put(&t, " set named4 { type ipv4_addr; size %d; flags dynamic;%s%s%s }\n"
            " set named6 { type ipv6_addr; size %d; flags dynamic;%s%s%s }\n",
        NAMED_MAX, n4.n > 2 ? " elements = { " : "", n4.n > 2 ? n4.p + 2 : "", n4.n > 2 ? " };" : "",
        NAMED_MAX, n6.n > 2 ? " elements = { " : "", n6.n > 2 ? n6.p + 2 : "", n6.n > 2 ? " };" : "");
  put(&t, " chain refuse {\n  meta l4proto tcp reject with tcp reset\n  reject\n }\n"
          " chain out {\n  type filter hook output priority 0; policy accept;\n"
          "  oifname \"lo\" accept\n");
  if (s->allow_list && s->proxy_uid >= 0)
    put(&t, "  ip daddr 10.0.2.3 meta l4proto { tcp, udp } th dport 53 meta skuid %d accept\n", s->proxy_uid);
  else if (!s->allow_list)
    put(&t, "  ip daddr 10.0.2.3 meta l4proto { tcp, udp } th dport 53 accept\n");
  put(&t, "  ip daddr { 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 10.0.2.0/24, 224.0.0.0/3%s } goto refuse\n"
          "  ip6 daddr { ::/127, ::ffff:0:0/96, fe80::/10, fd00:ec2::254, ff00::/8%s } goto refuse\n",
      s->host4 ? s->host4 : "", s->host6 ? s->host6 : "");
  put_set(&t, "ip daddr", &c4, "accept");
  put_set(&t, "ip6 daddr", &c6, "accept");
  if (!s->allow_private)
    put(&t, "  ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 198.18.0.0/15 } goto refuse\n"
            "  ip6 daddr fc00::/7 goto refuse\n");
  if (s->allow_list) {
    if (s->proxy_uid >= 0) put(&t, "  meta skuid %d accept\n", s->proxy_uid);
    put(&t, "  ip daddr @named4 accept\n  ip6 daddr @named6 accept\n  goto refuse\n");
  }
  put(&t, " }\n}\n");
  free(n4.p), free(n6.p), free(c4.p), free(c6.p);
  int oom = t.oom || n4.oom || n6.oom || c4.oom || c6.oom;
  if (oom) {
    free(t.p);
    return NULL;
  }
  return t.p;
}

/* In a child that ends once they are in: its heap and libnftables are never the launcher's. */
int netfilter_install(const char *rules) {
  pid_t pid = fork();
  if (pid < 0) return report("cannot install the sandbox's egress rules: %s", strerror(errno)), -1;
  if (pid == 0) {
    nft_lib n;
    struct nft_ctx *nft = NULL;
    if (nft_lib_load(&n) != 0) _exit(2);
    if (!(nft = n.ctx_new(NFT_CTX_DEFAULT))) report("cannot load nftables"), _exit(2);
    n.buffer_error(nft);
    if (n.run(nft, rules) != 0) {
      const char *err = n.error_buffer(nft);
      report("cannot install the sandbox's egress rules: %.300s", err && *err ? err : strerror(errno));
      _exit(2);
    }
    _exit(0);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return report("cannot install the sandbox's egress rules: %s", strerror(errno)), -1;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  /* 2: it said why; anything else (a signal), we say it */
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 2) report("cannot install the sandbox's egress rules: the installer ended with status %d", st);
  return -1;
}
