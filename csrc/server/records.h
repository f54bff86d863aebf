/* Sandbox records (records.c): what the runtime reports, what the API answers. */
#ifndef RECORDS_H
#define RECORDS_H

#include <sqlite3.h>
#include "server.h"

void sandbox_set_phase(const char *id, const char *phase, int has_exit, int exit_code, int started);
json_t *sandbox_status(const char *id); /* NULL if unknown */
/* A db_each row function: the StatusResponse of a row of STATUS_COLS, as JSON text appended to
 * ctx (a spool); the one place that shape is made. */
int status_put(sqlite3_stmt *st, void *ctx);
/* the first column of each row, as an array (taking rows) */
json_t *first_column(json_t *rows);
/* Called after a change to the sandboxes' records is committed (a new one, a phase): marks
 * of list pages made before it no longer hold. */
void records_changed(void);
unsigned long records_generation(void);

#endif
