/* Buckets (buckets.c): object volumes' storage, local directories standing in for a cluster's
 * buckets, or S3 buckets mounted through s3fs. */
#ifndef BUCKETS_H
#define BUCKETS_H

#include "server.h"

/* Registers --bucket NAME=DIR[,read_only]: DIR made absolute, without symlinks; a writable one
 * must be a filesystem of its own. Or NAME=s3:http[s]://HOST[:PORT]/BUCKET[,read_only], with
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment. 0, or -1 with why printed. */
int bucket_register(const char *arg);
/* Mounts the S3 buckets (each its FUSE connection, served by an s3fs of its own), once the
 * state dir and the supervising thread are there. 0, or -1 with why printed. */
int buckets_start(void);
/* Checks an object volume's VolumeObjectSpec (bucket registered, prefix, access) and makes its
 * directory, owned by the sandboxes' root. NULL, or why not (in buf). */
const char *bucket_volume_prepare(json_t *object, char *buf, size_t n);
/* The directory an object volume's VolumeObjectSpec (JSON text) names, whether sandboxes mount
 * it read-only, and whether it is s3fs's (FUSE: mounted as it is, not idmapped). 0, or -1 with
 * why (its bucket not registered, not mounted, or no longer bounded). */
int bucket_volume_dir(const char *object_json, char *out, size_t n, int *read_only, int *fuse, char *why, size_t wn);

#endif
