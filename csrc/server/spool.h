/* Exec output on disk (spool.c). */
#ifndef SPOOL_H
#define SPOOL_H

#include "server.h"
#include "http.h"

typedef struct spool {
  char *mem;     /* the bytes while they fit in SPOOL_MEM (spool.c), else NULL */
  int fd;        /* then an unlinked file in the state dir, else -1 */
  size_t size;
  int truncated; /* more came than the cap */
  int failed;    /* a write failed (disk full): size is what was kept */
} spool;
void spool_open(spool *s); /* empty, in memory: nothing to fail */
void spool_close(spool *s);
void spool_add(spool *s, const char *p, size_t n, size_t cap);
ssize_t spool_read(const spool *s, size_t at, char *buf, size_t n);
/* Writes the ExecResponse JSON for stdout so and stderr se into out. */
int spool_exec_json(spool *out, const spool *so, const spool *se, int code);
/* Queues out's content as the JSON answer (taking its descriptor). */
enum MHD_Result reply_spool(struct MHD_Connection *c, unsigned status, spool *out);
int spool_put(spool *out, const char *p, size_t n);        /* 0, or -1 once it failed */
int spool_put_string(spool *out, const char *p, size_t n); /* as a JSON string (quoted) */
size_t json_escape(const char *p, size_t n, char *out); /* a JSON string's inside; out has room for 6n */


#endif
