/* Snapshots (snapshots.c): a sandbox's /tmp as a tar, and sandboxes started from one. */
#ifndef SNAPSHOTS_H
#define SNAPSHOTS_H

#include "server.h"

/* What a sandbox started from snapshot id needs: the tar, its SHA-256 and the image it was
 * taken on (any of them may be NULL). 0, or -1 with why (no such snapshot, not ready). */
int snapshot_source(const char *id, char *tar, size_t tn, char sha[65], char *image, size_t in, char *why, size_t wn);

#endif
