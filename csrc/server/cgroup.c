/* A cgroup per sandbox with limits on processes, memory (no swap) and a CPU weight: cgroup v2
 * where the host has it unified, else v1's pids, memory and cpu hierarchies (this machine's
 * hybrid layout). The launcher joins it before it clones the sandbox, and each exec before it
 * forks, so every process of the sandbox is counted, and can be found and killed.
 *
 * Each server keeps its sandboxes' cgroups under one of its own, porter-sandboxd/srv-NS-PID-START
 * (NS: its pid namespace, for a pid means something only there; START: the kernel's start time
 * of that pid, so a reused pid is not mistaken for it). The
 * kernel never removes a cgroup by itself, and an empty v1 memory cgroup still holds ~0.8 MB of
 * kernel memory: whatever a server could not remove (it was killed, or stopped with more
 * sandboxes than it could wait for) is removed by the next server to start on the machine,
 * whatever its state dir, once the pid that made it is gone (a server in another pid namespace
 * leaves those of its own namespace alone). */
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

static char own[96] = "srv-unknown"; /* this server's directory under porter-sandboxd */
static unsigned long own_ns;         /* the inode of its pid namespace */

static unsigned long pid_ns(void) {
  struct stat st;
  return stat("/proc/self/ns/pid", &st) == 0 ? (unsigned long)st.st_ino : 0;
}

/* The kernel's start time of a pid (clock ticks since boot), 0 if it is gone or has ended (a
 * zombie that its parent has not reaped yet). */
static unsigned long long start_time(long pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "re");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
  unsigned long long t = 0;
  char state = 'X';
  /* after the name: state is field 3, starttime field 22 */
  if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &state, &t) != 2)
    return 0;
  return state == 'Z' || state == 'X' ? 0 : t;
}

static int write_file(const char *dir, const char *name, const char *value) {
  char path[4200];
  if (pathf(path, sizeof path, "%s/%s", dir, name) != 0) return -1;
  FILE *f = fopen(path, "we");
  if (!f) return -1;
  int ok = fputs(value, f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

/* The porter-sandboxd directory of each hierarchy; how many. */
static int tops(char out[][512]) {
  if (unified()) {
    snprintf(out[0], 512, ROOT "/porter-sandboxd");
    return 1;
  }
  for (int i = 0; i < 3; i++) snprintf(out[i], 512, ROOT "/%s/porter-sandboxd", V1[i]);
  return 3;
}

int cgroup_dirs(const char *id, char out[][512]) {
  int n = tops(out);
  for (int i = 0; i < n; i++) {
    size_t len = strlen(out[i]);
    snprintf(out[i] + len, 512 - len, "/%s/%s", own, id);
  }
  return n;
}

int cgroup_create(const char *id, char out[][512], char *why, size_t wn) {
  int n = cgroup_dirs(id, out);
  char v[64];
  for (int i = 0; i < n; i++) {
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

/* Kills what is in a cgroup and removes it, waiting up to ~1 s: processes take a moment to
 * leave a cgroup after they die. */
static void remove_dir(const char *dir) {
  for (int tries = 0; tries < 200 && rmdir(dir) != 0 && errno == EBUSY; tries++) {
    kill_all(dir);
    struct timespec ts = {0, 5 * 1000000L};
    nanosleep(&ts, NULL);
  }
}

void cgroup_remove(const char *id) {
  char d[3][512];
  int n = cgroup_dirs(id, d);
  for (int i = 0; i < n; i++) remove_dir(d[i]);
}

/* A server's directory and the sandboxes' cgroups in it. Their processes are killed first, all
 * of them, so that the waits for them to leave overlap. */
static void remove_tree(const char *dir) {
  char path[1100];
  for (int pass = 0; pass < 2; pass++) {
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
      if (pathf(path, sizeof path, "%s/%s", dir, e->d_name) != 0) continue;
      if (pass == 0) kill_all(path);
      else remove_dir(path);
    }
    if (d) closedir(d);
  }
  remove_dir(dir);
}

/* Another server's directory whose pid is gone (or is another process now). Directories of the
 * layout before srv-*, sandboxes' and warm launchers' straight under porter-sandboxd, are
 * removed only if empty: rmdir refuses a cgroup with processes in it. */
static void sweep(const char *top) {
  DIR *d = opendir(top);
  struct dirent *e;
  char path[1100];
  while (d && (e = readdir(d))) {
    long pid;
    unsigned long ns;
    unsigned long long t;
    int end = 0;
    if (e->d_type != DT_DIR || pathf(path, sizeof path, "%s/%s", top, e->d_name) != 0) continue;
    if (sscanf(e->d_name, "srv-%lu-%ld-%llu%n", &ns, &pid, &t, &end) == 3 && !e->d_name[end]) {
      if (ns == own_ns && strcmp(e->d_name, own) != 0 && start_time(pid) != t) remove_tree(path);
    } else if (!strncmp(e->d_name, "sb_", 3) || !strncmp(e->d_name, "warm-", 5)) {
      rmdir(path);
    }
  }
  if (d) closedir(d);
}

void cgroup_init(void) {
  own_ns = pid_ns();
  snprintf(own, sizeof own, "srv-%lu-%ld-%llu", own_ns, (long)getpid(), start_time(getpid()));
  char t[3][512], mine[600];
  int n = tops(t);
  if (unified()) /* the controllers must be on for our subtree, which needs them on at the root */
    write_file(ROOT, "cgroup.subtree_control", "+pids +memory +cpu");
  for (int i = 0; i < n; i++) {
    mkdir(t[i], 0755);
    sweep(t[i]);
    if (pathf(mine, sizeof mine, "%s/%s", t[i], own) != 0) continue;
    mkdir(mine, 0755);
    if (unified()) {
      write_file(t[i], "cgroup.subtree_control", "+pids +memory +cpu");
      write_file(mine, "cgroup.subtree_control", "+pids +memory +cpu");
    }
  }
}

void cgroup_fini(void) {
  char t[3][512], mine[600];
  int n = tops(t);
  for (int i = 0; i < n; i++)
    if (pathf(mine, sizeof mine, "%s/%s", t[i], own) == 0) remove_tree(mine);
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
