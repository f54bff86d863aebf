/* The physical floor of small durable writes: N files of SIZE bytes written into DIR, each
 * opened O_SYNC (as `dd oflag=sync` does, without a process a file); prints the seconds. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: syncwrite DIR N SIZE\n");
    return 2;
  }
  int n = atoi(argv[2]);
  size_t size = (size_t)atol(argv[3]);
  char *buf = malloc(size), path[4096];
  if (!buf) return 1;
  memset(buf, 'x', size);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/f%d", argv[1], i);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_SYNC, 0644);
    if (fd < 0 || write(fd, buf, size) != (ssize_t)size || close(fd) != 0) {
      perror(path);
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
  free(buf);
  return 0;
}
