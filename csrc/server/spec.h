/* Sandbox specs (spec.c). */
#ifndef SPEC_H
#define SPEC_H

#include "server.h"

/* NULL if spec may be run, else why not (in buf or static), naming the field. */
const char *sandbox_spec_check(json_t *spec, char *buf, size_t n);
/* A Range header against a file of size bytes: RANGE_OK with [*start, *start + *len), or why not. */
enum { RANGE_OK, RANGE_UNSUPPORTED, RANGE_MALFORMED, RANGE_OUTSIDE };
int range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *len);

#endif
