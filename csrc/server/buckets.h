/* Buckets (buckets.c): object volumes' storage, local directories standing in for a cluster's. */
#ifndef BUCKETS_H
#define BUCKETS_H

#include "server.h"

/* Registers --bucket NAME=DIR[,read_only]: DIR made absolute, without symlinks; a writable one
 * must be a filesystem of its own. 0, or -1 with why printed. */
int bucket_register(const char *arg);
/* Checks an object volume's VolumeObjectSpec (bucket registered, prefix, access) and makes its
 * directory, owned by the sandboxes' root. NULL, or why not (in buf). */
const char *bucket_volume_prepare(json_t *object, char *buf, size_t n);
/* The directory an object volume's VolumeObjectSpec (JSON text) names, and whether sandboxes
 * mount it read-only. 0, or -1 with why (its bucket not registered, or no longer bounded). */
int bucket_volume_dir(const char *object_json, char *out, size_t n, int *read_only, char *why, size_t wn);

#endif
