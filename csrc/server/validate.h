/* Validation (validate.c). */
#ifndef VALIDATE_H
#define VALIDATE_H

#include "server.h"
#include "contract_gen.h"

/* NULL if body (a JSON object) is a value of t, else why not, naming the field by its path */
const char *contract_check(json_t *body, const ct_type *t, char *buf, size_t n);
/* An egress rule: hostname, *.wildcard, IP literal or CIDR range. */
int egress_rule(const char *s);

#endif
