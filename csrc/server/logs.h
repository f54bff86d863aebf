/* Logs (logs.c). */
#ifndef LOGS_H
#define LOGS_H

#include "server.h"
#include "spool.h"

/* Removes a pruned sandbox's log file and counters. */
void logs_forget(const char *id);
/* Moves the lines of a store from before log blocks (a row a line) into blocks; 0, or -1. */
int logs_upgrade(void);
void log_line(const char *sandbox_id, const char *level, const char *exec_id, const char *line, size_t n);
/* The lines of a workload's output text[0..n) in one transaction, each cut at max bytes; the
 * bytes it took: up to the last newline (a line in the making stays), or all of them if final. */
size_t log_text(const char *sandbox_id, const char *level, const char *text, size_t n, size_t max, int final);

/* A GetSandboxLogsResponse of the sandbox's lines since since_ms (the last limit of them, if
 * limit > 0), oldest first, into out. 0 or -1. */
int logs_json(const char *sandbox_id, int64_t since_ms, long limit, spool *out);
/* Logs the lines of s, each cut at 64 KiB. */
void log_spool(const char *sandbox_id, const char *level, const char *exec_id, const spool *s);

#endif
