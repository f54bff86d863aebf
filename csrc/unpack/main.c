/* porter-sandbox-unpack --pack DIR BASE OUT MAX, --pack-root DIR BASE OUT MAX: see pack.c.
 * porter-sandbox-unpack --seed DIR BASE COUNT TAR MAX SHA256: a snapshot's tar (from --pack or
 * --pack-root) applied to the existing directory DIR (a new sandbox's /tmp, or its root over
 * its image), chrooted into it, owners shifted by BASE, checked against SHA256, at most MAX
 * bytes.
 * porter-sandbox-unpack ROOT BASE COUNT USER MAX WHY LAYER DIFFID...: applies the layers, in
 * order, to the new directory ROOT, owned as in the image but shifted by BASE (the sandbox's
 * uid 0 on the host), each checked against its DIFFID (the hex of the config's diff_id), all of
 * them together at most MAX bytes uncompressed (WHY says what sets MAX, for the error).
 * Prints "size BYTES" and "unpacked BYTES" (the uncompressed bytes read) and, when USER is not
 * empty, "user UID GID HOME" or "user-error MSG"; on failure prints the reason on stderr and
 * exits 1. porter-sandboxd's helper: a process of its own so that it can chroot into ROOT before
 * reading a single entry. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unpack.h"

/* _exit: once chrooted, a sanitizer's exit-time leak scan cannot read /proc and would fail us */
static void leave(int code) {
  fflush(stdout);
  fflush(stderr);
  _exit(code);
}

int main(int argc, char **argv) {
  if (argc == 6 && (!strcmp(argv[1], "--pack") || !strcmp(argv[1], "--pack-root")))
    leave(pack_main(argv[2], (uid_t)strtoul(argv[3], NULL, 10), argv[4], strtoll(argv[5], NULL, 10),
                    !strcmp(argv[1], "--pack-root")));
  if (argc == 8 && !strcmp(argv[1], "--seed")) {
    unpack_ctx c = {.base = (uid_t)strtoul(argv[3], NULL, 10), .count = strtoul(argv[4], NULL, 10),
                    .max = strtoll(argv[6], NULL, 10), .max_why = "the sandbox's scratch space"};
    int fd = open(argv[5], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      perror("cannot open the snapshot");
      return 1;
    }
    umask(0);
    if (chroot(argv[2]) != 0 || chdir("/") != 0) {
      perror("cannot enter the directory");
      leave(1);
    }
    if (layer_apply(&c, fd, 1, argv[7]) != 0) {
      fprintf(stderr, "%s\n", c.error);
      leave(1);
    }
    printf("size %lld\n", c.size);
    leave(0);
  }
  if (argc < 7 || (argc - 7) % 2) {
    fprintf(stderr, "usage: porter-sandbox-unpack ROOT BASE COUNT USER MAX WHY LAYER DIFFID...\n");
    return 2;
  }
  unpack_ctx c = {.base = (uid_t)strtoul(argv[2], NULL, 10), .count = strtoul(argv[3], NULL, 10),
                  .max = strtoll(argv[5], NULL, 10), .max_why = argv[6]};
  int nlayers = (argc - 7) / 2;
  int *fds = calloc((size_t)nlayers + 1, sizeof *fds);
  for (int i = 0; i < nlayers; i++)
    if ((fds[i] = open(argv[7 + 2 * i], O_RDONLY | O_CLOEXEC)) < 0) {
      fprintf(stderr, "cannot open layer %d\n", i + 1);
      return 1;
    }
  umask(0);
  if (mkdir(argv[1], 0755) != 0 || chown(argv[1], c.base, c.base) != 0 || chroot(argv[1]) != 0 || chdir("/") != 0) {
    perror("cannot make the root");
    leave(1);
  }
  for (int i = 0; i < nlayers; i++) {
    if (layer_apply(&c, fds[i], i + 1, argv[8 + 2 * i]) != 0) {
      fprintf(stderr, "%s\n", c.error);
      leave(1);
    }
    close(fds[i]);
  }
  free(fds);
  printf("size %lld\nunpacked %lld\n", c.size, c.read);
  if (argv[4][0]) {
    unsigned long uid, gid;
    char home[1024], why[512];
    if (user_resolve(argv[4], &uid, &gid, home, sizeof home, why, sizeof why) == 0 && uid < c.count && gid < c.count)
      printf("user %lu %lu %s\n", uid, gid, home);
    else
      printf("user-error %s\n", uid >= c.count || gid >= c.count ? "the image's user is beyond the sandbox's ids" : why);
  }
  leave(0);
}
