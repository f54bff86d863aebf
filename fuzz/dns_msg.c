/* libFuzzer: what reaches the sandbox's resolver (csrc/exec/dns.c) from either side: a query
 * from the sandbox (its one question) and an answer from upstream (its A and AAAA records),
 * each read as the resolver reads it. None may crash, overrun or loop; every address handed on
 * lies within the message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dnsmsg.h"

typedef struct span {
  const uint8_t *lo, *hi;
  int count;
} span;

static void each(int family, const uint8_t *addr, void *ctx) {
  span *s = ctx;
  size_t n = family == 4 ? 4 : 16;
  if (family != 4 && family != 6) abort();
  if (addr < s->lo || addr + n > s->hi) abort();
  s->count++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char name[DNS_NAME_MAX];
  unsigned qtype;
  if (dns_question(data, size, name, sizeof name, &qtype) == 0 && strlen(name) >= sizeof name) abort();
  span s = {data, data + size, 0};
  int found = dns_addresses(data, size, each, &s);
  if (found >= 0 && found != s.count) abort();
  return 0;
}
