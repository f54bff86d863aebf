/* Confined file operations (vfs.c). */
#ifndef VFS_H
#define VFS_H

#include "server.h"

/* Splits a volume path into components, refusing '..'; 0 on success, else fills why. */
int vfs_split(const char *path, char comps[][256], int max, int *n, char *why, size_t wn);
/* Opens the directory at comps[0..n) below root (no symlinks followed); -1 + errno. With
 * create, missing directories are made. */
int vfs_open_dir(int rootfd, char comps[][256], int n, int create);
json_t *vfs_list(int dirfd, const char *search, int budget, int *truncated);

#endif
