/* porter-sandboxd image ls|pull|rm|import: the image store from the command line, for offline
 * use and housekeeping. Works beside a running server on the same --state-dir (every change
 * to the store is a rename). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"
#include "db.h"
#include "images.h"

static int usage(FILE *f) {
  fprintf(f, "usage: porter-sandboxd image [--state-dir DIR] [--image-dir DIR] [--registry-auth FILE]\n"
             "                             [--image-space SIZE] [--image-max-size SIZE] COMMAND\n"
             "  ls                       the images in the store\n"
             "  pull REF                 fetch REF from its registry\n"
             "  rm REF                   remove REF (refused while a live sandbox runs it)\n"
             "  import ARCHIVE [NAME]    load a `docker save` or OCI archive (NAME: the archive's own by default)\n");
  return f == stdout ? 0 : 2;
}

/* A live sandbox of the same image (by normalized reference) holds it. */
static int in_use(const char *full) {
  char path[4200];
  snprintf(path, sizeof path, "%s/state.db", cfg.state_dir);
  FILE *probe = fopen(path, "r");
  if (!probe) return 0;
  fclose(probe);
  if (db_open(path) != 0) return 0;
  int used = 0;
  json_t *rows = db_rows("SELECT image FROM sandboxes WHERE phase IN ('queued','creating','running')", "");
  size_t i;
  json_t *row;
  json_array_foreach(rows, i, row) {
    image_ref r;
    char why[256];
    if (image_ref_parse(json_string_value(json_array_get(row, 0)), &r, why, sizeof why) == 0 && !strcmp(r.full, full)) used = 1;
  }
  json_decref(rows);
  db_close();
  return used;
}

int image_main(int argc, char **argv) {
  int i = 1, state_given = 0;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout);
    if (i + 1 >= argc) return usage(stderr);
    int bound = store_option(argv[i], argv[i + 1]);
    if (bound < 0) {
      fprintf(stderr, "porter-sandboxd image: %s wants a size of at least 1M such as 512M or 20G (got '%s')\n", argv[i],
              argv[i + 1]);
      return 2;
    }
    if (bound == 2) continue;
    if (bound) i++;
    else if (!strcmp(argv[i], "--state-dir")) cfg.state_dir = argv[++i], state_given = 1;
    else if (!strcmp(argv[i], "--registry-auth")) cfg.registry_auth = argv[++i];
    else return usage(stderr);
  }
  if (i >= argc) return usage(stderr);
  store_default_dir(state_given);
  if (store_init() != 0) {
    fprintf(stderr, "porter-sandboxd: cannot use the image store in %s\n", cfg.image_dir);
    return 1;
  }
  const char *cmd = argv[i++];
  int left = argc - i;
  char why[1400];
  if (!strcmp(cmd, "ls") && left == 0) {
    json_t *list = store_list();
    size_t k;
    json_t *v;
    printf("%-60s %-19s %s\n", "REFERENCE", "IMAGE ID", "SIZE");
    json_array_foreach(list, k, v) {
      const char *id = json_string_value(json_object_get(v, "id"));
      printf("%-60s %-19.19s %.1f MB\n", json_string_value(json_object_get(v, "reference")), id ? id : "?",
             (double)json_integer_value(json_object_get(v, "size")) / 1e6);
    }
    json_decref(list);
    return 0;
  }
  if (!strcmp(cmd, "pull") && left == 1) {
    image_ref ref;
    if (image_ref_parse(argv[i], &ref, why, sizeof why) != 0) {
      fprintf(stderr, "porter-sandboxd: '%s' %s\n", argv[i], why);
      return 1;
    }
    if (store_pull(&ref, why, sizeof why) != 0) {
      fprintf(stderr, "porter-sandboxd: %s\n", why);
      return 1;
    }
    printf("%s\n", ref.full);
    return 0;
  }
  if (!strcmp(cmd, "rm") && left == 1) {
    image_ref ref;
    if (image_ref_parse(argv[i], &ref, why, sizeof why) == 0 && in_use(ref.full)) {
      fprintf(stderr, "porter-sandboxd: %s is used by a live sandbox\n", ref.full);
      return 1;
    }
    if (store_remove(argv[i], why, sizeof why) != 0) {
      fprintf(stderr, "porter-sandboxd: %s\n", why);
      return 1;
    }
    return 0;
  }
  if (!strcmp(cmd, "import") && (left == 1 || left == 2)) {
    char name[1200];
    if (left == 2) snprintf(name, sizeof name, "%s", argv[i + 1]);
    else if (archive_image_name(argv[i], name, sizeof name) != 0) {
      fprintf(stderr, "porter-sandboxd: %s names no image; give one: image import %s NAME\n", argv[i], argv[i]);
      return 1;
    }
    if (store_import(argv[i], name, why, sizeof why) != 0) {
      fprintf(stderr, "porter-sandboxd: %s\n", why);
      return 1;
    }
    image_ref ref;
    image_ref_parse(name, &ref, why, sizeof why);
    printf("%s\n", ref.full);
    return 0;
  }
  return usage(stderr);
}
