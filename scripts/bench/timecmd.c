/* timecmd N command...: runs command N times (after one warm-up run), one after the other, and
 * prints the median wall time in seconds. The baseline for process-level latencies (bwrap,
 * runc) without a shell's own start-up in the number. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: timecmd N command...\n");
    return 2;
  }
  int n = atoi(argv[1]);
  double *t = calloc((size_t)n + 1, sizeof *t);
  for (int i = -1; i < n; i++) {
    double t0 = now();
    pid_t pid;
    if (posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2, environ) != 0) {
      perror(argv[2]);
      return 1;
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      fprintf(stderr, "%s failed\n", argv[2]);
      return 1;
    }
    if (i >= 0) t[i] = now() - t0;
  }
  qsort(t, (size_t)n, sizeof *t, cmp);
  printf("%.6f\n", n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2);
  free(t);
  return 0;
}
