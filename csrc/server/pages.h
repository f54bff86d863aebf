/* List pages (pages.c): where a page ended, for the next one to start from. */
#ifndef PAGES_H
#define PAGES_H

#include "server.h"

uint64_t page_key(const char *sql, json_t *binds);
/* 1 with the seq the page ended at, if a mark of that list's page made at gen is kept */
int page_mark_find(uint64_t key, long page, unsigned long gen, long long *last_seq);
void page_mark_keep(uint64_t key, long page, unsigned long gen, long long last_seq);
#define STATUS_COLS "id, name, image, spec, tags, phase, exit_code, created_ms, started_ms, host, finished_ms"
#define LIVE_PHASES "('queued','creating','running')"

#endif
