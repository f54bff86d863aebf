/* The ids sandboxes run as (uidrange.c). */
#ifndef UIDRANGE_H
#define UIDRANGE_H

#include "server.h"

/* Refuses a run range that overlaps an account, a subordinate range or the store's ids. */
int uidrange_check(char *why, size_t wn);
/* A slot of its own for a sandbox (its host ids from *base), -1 when none is free; without a run
 * range, -1 and *base is uid_base. */
long uidrange_take(unsigned long *base);
void uidrange_give(long slot);
/* A host uid of its own for the i-th bucket's s3fs: from the span's slot kept for helpers, or
 * nobody's without a run range (every sandbox then shares --uid-base's ids anyway). */
unsigned long uidrange_helper(int i);
void runtime_stop_all(void);

void runtime_ttl_tick(void);

#endif
