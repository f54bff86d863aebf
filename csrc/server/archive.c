/* What an image archive is (`docker save` or OCI) and what it calls its image. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"
#include "images.h"

/* Reads the JSON file name (at the top of the archive) into a new value. */
static json_t *read_member(const char *path, const char *name, int *is_oci) {
  struct archive *a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  json_t *v = NULL;
  if (archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK) {
    struct archive_entry *e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      const char *n = archive_entry_pathname(e);
      if (n && !strncmp(n, "./", 2)) n += 2;
      if (!n) continue;
      if (!strcmp(n, "oci-layout") && is_oci) *is_oci = 1;
      if (!name || strcmp(n, name) || archive_entry_size(e) > (1 << 22)) continue;
      size_t size = (size_t)archive_entry_size(e);
      char *buf = malloc(size + 1);
      if (buf && archive_read_data(a, buf, size) == (la_ssize_t)size) v = json_loadb(buf, size, 0, NULL);
      free(buf);
      break;
    }
  }
  archive_read_free(a);
  return v;
}

int archive_is_oci(const char *path) {
  int oci = 0;
  read_member(path, NULL, &oci);
  return oci;
}

int archive_image_name(const char *path, char *out, size_t n) {
  json_t *m = read_member(path, "manifest.json", NULL);
  const char *name = json_string_value(json_array_get(json_object_get(json_array_get(m, 0), "RepoTags"), 0));
  if (!name) {
    json_decref(m);
    m = read_member(path, "index.json", NULL);
    json_t *ann = json_object_get(json_array_get(json_object_get(m, "manifests"), 0), "annotations");
    name = json_string_value(json_object_get(ann, "io.containerd.image.name"));
    if (!name) name = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
    if (name && !strchr(name, '/') && !strchr(name, ':')) name = NULL; /* a bare tag names no image */
  }
  int ok = name != NULL;
  if (ok) snprintf(out, n, "%s", name);
  json_decref(m);
  return ok ? 0 : -1;
}
