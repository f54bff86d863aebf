/* Volumes (volumes.c): their records; a disk volume's filesystem is voldisk.c's, an object
 * volume's storage buckets.c's. */
#ifndef VOLUMES_H
#define VOLUMES_H

#include "server.h"

int volume_exists(const char *id); /* live */
/* a live volume's kind, in one query: what the files API asks before each request */
enum { VOLUME_NONE, VOLUME_DISK, VOLUME_OBJECT };
int volume_kind(const char *id);
/* An object volume's VolumeObjectSpec as JSON text (in out), or NULL: a disk volume, or none. */
const char *volume_object(const char *id, char *out, size_t n);
json_t *volume_attached(const char *volume_id); /* ids of live sandboxes that mount it */

#endif
