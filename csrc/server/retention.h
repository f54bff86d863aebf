/* The bounds of history (retention.c): oldest ended sandboxes go past them. */
#ifndef RETENTION_H
#define RETENTION_H

#include "server.h"

int retention_init(void);                /* the log files' size, from the store: 0, or -1 */
void retention_logged(long long bytes);  /* bytes appended to a log file */
/* Prunes what is past the bounds; ended says a sandbox has just ended (the count may be past). */
void retention_check(int ended);

#endif
