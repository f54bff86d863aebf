/* DNS messages as the sandbox's resolver reads them (dnsmsg.c): pure functions over bytes, so
 * that a fuzz target drives them as the resolver does. */
#ifndef DNSMSG_H
#define DNSMSG_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 256 /* a name's text, its NUL included */

/* The query's one question: its name (dotted, lower-case, hostname characters only) and type.
 * 0, or -1 if the message is not such a query. */
int dns_question(const uint8_t *msg, size_t n, char *name, size_t namen, unsigned *qtype);

/* Calls each(family 4 or 6, the address's bytes, ctx) for every IN A and AAAA record of the
 * answer section. The number found, or -1 if the message is malformed (none called after). */
typedef void (*dns_addr_fn)(int family, const uint8_t *addr, void *ctx);
int dns_addresses(const uint8_t *msg, size_t n, dns_addr_fn each, void *ctx);

#endif
