/* porter-sandbox-exec --launch ...: see helper.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helper.h"
#include "launch_flags.h"

int main(int argc, char **argv) {
  /* run as fusermount by s3fs (s3fs.c): the one descriptor it hands over is the server's */
  if (getenv("_FUSE_COMMFD") && getenv("PORTER_FUSE_FD")) return fusermount_stand_in(argc, argv);
  if (argc > 1 && !strcmp(argv[1], LF_LAUNCH)) return launch_main(argc - 1, argv + 1);
  if (argc > 1 && !strcmp(argv[1], "--s3fs")) return s3fs_main(argc - 1, argv + 1);
  if (argc == 5 && !strcmp(argv[1], "--idmap-probe")) return idmap_probe(argv[2], strtoul(argv[3], NULL, 10),
                                                                          strtoul(argv[4], NULL, 10));
  fprintf(stderr, "usage: porter-sandbox-exec --launch OPTIONS [-- command]\n"
                  "(porter-sandboxd's helper; not meant to be run by hand)\n");
  return EXIT_SETUP;
}
