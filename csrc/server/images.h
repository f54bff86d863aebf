/* Images (imageref.c, images.c, archive.c). */
#ifndef IMAGES_H
#define IMAGES_H

#include "server.h"

typedef struct image_ref {
  char registry[256], repository[600], tag[130], digest[80];
  char full[1200]; /* registry/repository[:tag][@digest] */
  int loopback;    /* spoken to over plain HTTP, as Docker does */
} image_ref;
/* Parses a reference as Docker does; on failure why says what is wrong with it. */
int image_ref_parse(const char *in, image_ref *out, char *why, size_t wn);

typedef struct image_info {
  int host;            /* the host's system directories, read-only */
  char rootfs[4096];   /* otherwise the lower layer of the sandbox's root */
  json_t *config;      /* the image config's "config": Env, Entrypoint, Cmd, WorkingDir, User */
  unsigned uid, gid;   /* User, resolved in the image's /etc/passwd */
  char home[1024];
  char user_error[600]; /* User named nobody the image knows */
  int hold;             /* store_hold's lock on a store image, or -1 (image_info_free lets go) */
} image_info;
/* "host", a --image NAME, or a reference from the store, pulled on first use (one pull however
 * many sandboxes wait for it). */
int image_resolve(const char *image, image_info *out, char *why, size_t wn);
void image_info_free(image_info *info);
int store_init(void);
int store_pull(const image_ref *ref, char *why, size_t wn);
int store_import(const char *archive, const char *name, char *why, size_t wn);
json_t *store_list(void); /* [{reference, id, size}] */
/* --image-space SIZE, --image-max-size SIZE (the server's and `image`'s alike): 1 when a (with
 * its value v) was one of them, -1 when it was but v is not a size, else 0 */
int store_option(const char *a, const char *v); /* --image-dir DIR too; 2 for --shared-images, which takes no value */
/* cfg.image_dir unless given: STATE/images for a server given --state-dir, else the user's cache */
void store_default_dir(int state_given);
int store_hold(const char *rootfs); /* a live sandbox's shared lock on its image: fd or -1 */
int store_remove(const char *ref, char *why, size_t wn);
int archive_is_oci(const char *path);
int archive_image_name(const char *path, char *out, size_t n);

#endif
