/* Volume filesystems (voldisk.c). */
#ifndef VOLDISK_H
#define VOLDISK_H

#include "server.h"

/* The server's own mount namespace, private: called before any thread exists. */
int voldisk_private_mounts(void);
int voldisk_own_mounts(void); /* 1 once the server has a mount namespace of its own */
/* A new volume's image (--volume-size), made and mounted on its data directory (which exists);
 * nothing with --volume-size 0. */
int voldisk_create(const char *id, char *why, size_t wn);
/* Mounts a volume's image if it has one and it is not mounted yet. */
int voldisk_mount(const char *id, char *why, size_t wn);
void voldisk_unmount(const char *id);
/* A volume's files gone from the host: its filesystem unmounted, its directory removed. */
void voldisk_remove(const char *id);
/* The bytes its image is allotted (its size; 0 for none). */
unsigned long long voldisk_allotted(const char *id);
/* Where its files are: its filesystem's mount point, or a plain directory. */
void volume_data_dir(const char *id, char *out, size_t n);
/* 1 if the volume's files may be used: a plain directory, or its filesystem mounted (now, if it
 * was not); never the bare directory under an image that is not mounted. */
int voldisk_ready(const char *id);
/* Every live volume's filesystem mounted (at start); warns of those that cannot be. */
void volumes_mount_all(void);

#endif
