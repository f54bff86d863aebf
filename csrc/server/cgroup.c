/* A cgroup per sandbox with limits on processes, memory (no swap) and a CPU weight: cgroup v2
 * where the host has it unified, else v1's pids, memory and cpu hierarchies (this machine's
 * hybrid layout). The launcher joins it before it clones the sandbox, and each exec before it
 * forks, so every process of the sandbox is counted, and can be found and killed. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "server.h"
#include "cgroup.h"

#define ROOT "/sys/fs/cgroup"
static const char *const V1[] = {"pids", "memory", "cpu"};

static int unified(void) { return access(ROOT "/cgroup.controllers", F_OK) == 0; }

static int write_file(const char *dir, const char *name, const char *value) {
  char path[4200];
  if (pathf(path, sizeof path, "%s/%s", dir, name) != 0) return -1;
  FILE *f = fopen(path, "we");
  if (!f) return -1;
  int ok = fputs(value, f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

int cgroup_dirs(const char *id, char out[][512]) {
  if (unified()) {
    snprintf(out[0], 512, ROOT "/porter-sandboxd/%s", id);
    return 1;
  }
  for (int i = 0; i < 3; i++) snprintf(out[i], 512, ROOT "/%s/porter-sandboxd/%s", V1[i], id);
  return 3;
}

int cgroup_create(const char *id, char out[][512], char *why, size_t wn) {
  int n = cgroup_dirs(id, out);
  char v[64];
  if (unified()) {
    /* the controllers must be on for our subtree, which needs them on at the root */
    write_file(ROOT, "cgroup.subtree_control", "+pids +memory +cpu");
    mkdir(ROOT "/porter-sandboxd", 0755);
    write_file(ROOT "/porter-sandboxd", "cgroup.subtree_control", "+pids +memory +cpu");
  }
  for (int i = 0; i < n; i++) {
    char parent[512];
    snprintf(parent, sizeof parent, "%.*s", (int)(strrchr(out[i], '/') - out[i]), out[i]);
    mkdir(parent, 0755);
    if (mkdir(out[i], 0755) != 0 && errno != EEXIST) {
      snprintf(why, wn, "cannot create the sandbox's cgroup: %s", strerror(errno));
      return -1;
    }
  }
  int bad = 0;
  if (unified()) {
    snprintf(v, sizeof v, "%lu", cfg.pids_max);
    bad |= write_file(out[0], "pids.max", v);
    snprintf(v, sizeof v, "%llu", cfg.memory_max);
    bad |= write_file(out[0], "memory.max", v);
    write_file(out[0], "memory.swap.max", "0");
    snprintf(v, sizeof v, "%lu", cfg.cpu_weight);
    bad |= write_file(out[0], "cpu.weight", v);
  } else {
    snprintf(v, sizeof v, "%lu", cfg.pids_max);
    bad |= write_file(out[0], "pids.max", v);
    snprintf(v, sizeof v, "%llu", cfg.memory_max);
    bad |= write_file(out[1], "memory.limit_in_bytes", v);
    write_file(out[1], "memory.memsw.limit_in_bytes", v); /* only where swap is accounted */
    write_file(out[1], "memory.swappiness", "0");
    snprintf(v, sizeof v, "%lu", cfg.cpu_weight * 1024 / 100); /* v1 shares: 1024 is weight 100 */
    bad |= write_file(out[2], "cpu.shares", v);
  }
  if (bad) {
    snprintf(why, wn, "cannot set the sandbox's limits: %s", strerror(errno));
    cgroup_remove(id);
    return -1;
  }
  return n;
}

/* Kills every process left in the sandbox's cgroups. */
static int kill_all(const char *dir) {
  char path[600];
  if (pathf(path, sizeof path, "%s/cgroup.procs", dir) != 0) return 0;
  FILE *f = fopen(path, "re");
  if (!f) return 0;
  int n = 0, pid;
  while (fscanf(f, "%d", &pid) == 1)
    if (pid > 0 && kill(pid, SIGKILL) == 0) n++;
  fclose(f);
  return n;
}

void cgroup_remove(const char *id) {
  char d[3][512];
  int n = cgroup_dirs(id, d);
  for (int i = 0; i < n; i++) {
    /* processes take a moment to leave a cgroup after they die */
    for (int tries = 0; tries < 200 && rmdir(d[i]) != 0 && errno == EBUSY; tries++) {
      kill_all(d[i]);
      struct timespec ts = {0, 5 * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
}

int cgroup_oom_kills(const char *id) {
  char d[3][512], path[1200], line[128];
  int n = cgroup_dirs(id, d);
  pathf(path, sizeof path, "%s/%s", d[n == 1 ? 0 : 1], n == 1 ? "memory.events" : "memory.oom_control");
  FILE *f = fopen(path, "re");
  int kills = 0;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "oom_kill ", 9)) kills = atoi(line + 9);
  if (f) fclose(f);
  return kills;
}

int cgroup_rename(const char *from, const char *to) {
  char a[3][512], b[3][512];
  int n = cgroup_dirs(from, a);
  cgroup_dirs(to, b);
  for (int i = 0; i < n; i++)
    if (rename(a[i], b[i]) != 0) {
      while (i-- > 0) rename(b[i], a[i]);
      return -1;
    }
  return 0;
}
