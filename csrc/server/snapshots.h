/* Snapshots (snapshots.c): a sandbox's /tmp as a tar, and sandboxes started from one. */
#ifndef SNAPSHOTS_H
#define SNAPSHOTS_H

#include "server.h"

/* A snapshot's tars and their SHA-256s: its /tmp, and the layer of its root's changes (root_sha
 * "" when it has none: taken on the host's root, or before roots were captured). */
typedef struct snapshot_files {
  char tmp_tar[4300], tmp_sha[65], root_tar[4300], root_sha[65];
} snapshot_files;
/* What a sandbox started from snapshot id needs: its files and the image it was taken on (either
 * may be NULL). 0, or -1 with why (no such snapshot, not ready). */
int snapshot_source(const char *id, snapshot_files *f, char *image, size_t in, char *why, size_t wn);

#endif
