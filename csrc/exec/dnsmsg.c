/* Reading DNS messages (RFC 1035) as far as the sandbox's resolver needs: the one question of a
 * query, and the A and AAAA records of an answer. Every length is checked against the message;
 * names are followed through at most 32 compression pointers, so no message makes us loop. */
#include <stddef.h>
#include <string.h>
#include "dnsmsg.h"

static unsigned u16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

/* Reads the name at *off into out (dotted, lower-case; out may be NULL to skip it) and moves
 * *off past it in the message. 0, or -1 if the name is malformed or does not fit. */
static int read_name(const uint8_t *m, size_t n, size_t *off, char *out, size_t outn) {
  size_t at = *off, len = 0, end = 0;
  int jumps = 0;
  for (;;) {
    if (at >= n) return -1;
    uint8_t c = m[at];
    if ((c & 0xc0) == 0xc0) {
      if (at + 1 >= n || ++jumps > 32) return -1;
      if (!end) end = at + 2;
      at = (size_t)(c & 0x3f) << 8 | m[at + 1];
      continue;
    }
    if (c & 0xc0) return -1; /* the reserved label types */
    if (c == 0) {
      if (!end) end = at + 1;
      break;
    }
    if (at + 1 + c > n || len + c + 2 > DNS_NAME_MAX) return -1;
    if (out) {
      if (len + c + 2 > outn) return -1;
      if (len) out[len] = '.';
      for (size_t i = 0; i < c; i++) {
        char ch = (char)m[at + 1 + i];
        out[len + (len ? 1 : 0) + i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
      }
    }
    len += c + (len ? 1 : 0);
    at += 1 + (size_t)c;
  }
  if (out) {
    if (len + 1 > outn) return -1;
    out[len] = '\0';
  }
  *off = end;
  return 0;
}

int dns_question(const uint8_t *m, size_t n, char *name, size_t namen, unsigned *qtype) {
  if (n < 12 || u16(m + 4) != 1) return -1; /* one question, as every resolver sends */
  size_t off = 12;
  if (read_name(m, n, &off, name, namen) != 0 || off + 4 > n) return -1;
  for (const char *p = name; *p; p++) /* names of hostnames only: no byte an egress rule lacks */
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_')) return -1;
  if (qtype) *qtype = u16(m + off);
  return 0;
}

int dns_addresses(const uint8_t *m, size_t n, dns_addr_fn each, void *ctx) {
  if (n < 12) return -1;
  unsigned qd = u16(m + 4), an = u16(m + 6);
  size_t off = 12;
  for (unsigned i = 0; i < qd; i++) {
    if (read_name(m, n, &off, NULL, 0) != 0 || off + 4 > n) return -1;
    off += 4;
  }
  int found = 0;
  for (unsigned i = 0; i < an; i++) {
    if (read_name(m, n, &off, NULL, 0) != 0 || off + 10 > n) return -1;
    unsigned type = u16(m + off), klass = u16(m + off + 2), rdlen = u16(m + off + 8);
    off += 10;
    if (off + rdlen > n) return -1;
    if (klass == 1 && ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16))) {
      each(type == 1 ? 4 : 6, m + off, ctx);
      found++;
    }
    off += rdlen;
  }
  return found;
}
