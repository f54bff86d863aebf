/* The sandboxes' names in order (names.c), for a name search. Touched only under the store's
 * lock (db_batch), as the rows it mirrors are. */
#ifndef NAMES_H
#define NAMES_H

#include <stddef.h>

/* From the store's rows, replacing what was kept (at start, and after a transaction that
 * changed names rolled back); inside db_batch. 0, or -1 (out of memory: searches then go to
 * the store's index, as names_ready says). */
int names_load(void *unused);
int names_ready(void);
/* A row's name and seq, after its INSERT; 0, or -1 (out of memory: names_ready is then 0
 * until the next names_load). */
int names_add(const char *name, long long seq);
void names_remove(const char *name);
/* How many names begin with prefix; the seqs of the first max of them (in names' order) into
 * out. */
size_t names_prefix(const char *prefix, long long *out, size_t max);

#endif
