/* The files API's streamed upload (files.c): the route's hooks around a request body. */
#ifndef FILES_H
#define FILES_H

#include "http.h"

void files_write_begin(struct MHD_Connection *c, req *r);
void files_write_chunk(req *r, const char *data, size_t n);
void files_write_end(req *r);

#endif
