/* The resolver of a sandbox with an allow list, on its own 127.0.0.53:53 (UDP): a query for a
 * name the rules allow goes on to slirp4netns's forwarder (10.0.2.3, which only we and the
 * proxy may reach), and the addresses of the answer join the sandbox's nftables sets, so the
 * sandbox may then connect to them by any protocol; any other name is REFUSED, so nothing the
 * rules do not name can even be resolved. An allowed name that resolves into a range the rules
 * never allow stays unreachable: those rules come first in the chain (netfilter.c).
 * Queries are answered one at a time, each waiting at most 3 s for the upstream answer. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dnsmsg.h"
#include "helper.h"
#include "nftlib.h"

typedef struct added {
  struct nft_ctx *nft;
  char cmd[4096];
  size_t len;
} added;

static void add_addr(int family, const uint8_t *addr, void *ctx) {
  added *a = ctx;
  char s[INET6_ADDRSTRLEN];
  if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, s, sizeof s)) return;
  int k = snprintf(a->cmd + a->len, sizeof a->cmd - a->len, "add element inet porter %s { %s }\n",
                   family == 4 ? "named4" : "named6", s);
  if (k > 0 && (size_t)k < sizeof a->cmd - a->len) a->len += (size_t)k;
}

/* A reply of our own to a query: the query itself with QR, RA and rcode set, nothing answered. */
static void refuse(int fd, uint8_t *q, size_t n, const struct sockaddr *to, socklen_t tolen, int rcode) {
  if (n < 12) return;
  q[2] = (uint8_t)(q[2] | 0x80);
  q[3] = (uint8_t)(0x80 | rcode);
  memset(q + 6, 0, 6); /* no answer, authority or additional records; EDNS dropped with them */
  sendto(fd, q, n, 0, to, tolen);
}

/* Asks upstream and waits for its answer to this id; its length or -1. */
static ssize_t ask(int up, const struct sockaddr_in *upstream, uint8_t *q, size_t n, uint8_t *ans, size_t ansn) {
  uint16_t id, theirs;
  memcpy(&theirs, q, 2);
  if (getrandom(&id, sizeof id, 0) != sizeof id) return -1;
  memcpy(q, &id, 2);
  ssize_t r = -1;
  if (sendto(up, q, n, 0, (const struct sockaddr *)upstream, sizeof *upstream) == (ssize_t)n) {
    for (int tries = 0; tries < 8; tries++) {
      struct pollfd p = {up, POLLIN, 0};
      if (poll(&p, 1, 3000) != 1) break;
      struct sockaddr_in from;
      socklen_t fl = sizeof from;
      r = recvfrom(up, ans, ansn, 0, (struct sockaddr *)&from, &fl);
      if (r >= 12 && !memcmp(ans, &id, 2) && from.sin_addr.s_addr == upstream->sin_addr.s_addr &&
          from.sin_port == upstream->sin_port)
        break;
      r = -1; /* a late answer to an earlier query, or not upstream's */
    }
  }
  memcpy(q, &theirs, 2);
  if (r >= 12) memcpy(ans, &theirs, 2);
  return r;
}

void dns_serve(int fd, const nft_lib *lib, char **rules, int n) {
  struct nft_ctx *nft = lib->ctx_new(NFT_CTX_DEFAULT);
  int up = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in upstream = {.sin_family = AF_INET, .sin_port = htons(53)};
  inet_pton(AF_INET, "10.0.2.3", &upstream.sin_addr);
  /* not connected: slirp4netns may not have made the route to it yet when we start. Made here,
   * as nobody, since the rules match the socket's owner. Without either, nothing would answer:
   * the sandbox's lookups then fail at once (ICMP unreachable), as with no resolver at all. */
  if (!nft || up < 0) _exit(1);
  lib->buffer_error(nft);
  lib->buffer_output(nft);
  static uint8_t q[4096], ans[65536];
  for (;;) {
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    ssize_t len = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &fromlen);
    if (len < 0) continue;
    char name[DNS_NAME_MAX];
    if (dns_question(q, (size_t)len, name, sizeof name, NULL) != 0 || (q[2] & 0x80)) {
      refuse(fd, q, (size_t)len, (struct sockaddr *)&from, fromlen, 1); /* FORMERR */
      continue;
    }
    if (!egress_name_allowed(name, rules, n)) {
      refuse(fd, q, (size_t)len, (struct sockaddr *)&from, fromlen, 5); /* REFUSED */
      continue;
    }
    ssize_t r = ask(up, &upstream, q, (size_t)len, ans, sizeof ans);
    if (r < 0) {
      refuse(fd, q, (size_t)len, (struct sockaddr *)&from, fromlen, 2); /* SERVFAIL */
      continue;
    }
    added a = {nft, "", 0};
    /* the addresses join the sets before the sandbox learns them: its connect cannot race us */
    if (dns_addresses(ans, (size_t)r, add_addr, &a) < 0) {
      refuse(fd, q, (size_t)len, (struct sockaddr *)&from, fromlen, 2);
      continue;
    }
    if (a.len && lib->run(nft, a.cmd) != 0) {
      /* a set full (they are bounded): the name cannot be reached, so it is not answered */
      refuse(fd, q, (size_t)len, (struct sockaddr *)&from, fromlen, 2);
      continue;
    }
    sendto(fd, ans, (size_t)r, 0, (struct sockaddr *)&from, fromlen);
  }
}
