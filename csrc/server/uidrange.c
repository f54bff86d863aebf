/* The host ids sandboxes run as: 65536 of them per live sandbox (a slot), from a span that no
 * account and no subordinate range of this machine is handed, so that no host account shares an
 * id with a sandbox's processes and no two sandboxes share one. Their files stay owned by the
 * store's ids (--uid-base) on disk; the launcher shows them to each sandbox through idmapped
 * mounts (csrc/exec/launch.c, --idmap-from). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "server.h"
#include "uidrange.h"

#define SLOT_IDS 65536ul
#define MAX_SLOTS 8192

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char taken[MAX_SLOTS];

/* [lo, hi) against the span; a clash is said in why */
static int clashes(unsigned long lo, unsigned long hi, const char *what, char *why, size_t wn) {
  /* the sandboxes' slots and the helpers' after them */
  unsigned long start = cfg.run_base, end = cfg.run_base + (cfg.run_slots + 1) * SLOT_IDS;
  if (hi <= start || lo >= end) return 0;
  snprintf(why, wn, "ids %lu..%lu overlap %s (%lu..%lu)", start, end - 1, what, lo, hi - 1);
  return 1;
}

/* SUB_UID_MIN..SUB_UID_MAX and the like from /etc/login.defs, with useradd's defaults */
static void login_defs(const char *min_key, const char *max_key, unsigned long *lo, unsigned long *hi) {
  *lo = 100000, *hi = 600100000;
  FILE *f = fopen("/etc/login.defs", "r");
  char line[256], key[64];
  unsigned long v;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, " %63s %lu", key, &v) == 2) {
      if (!strcmp(key, min_key)) *lo = v;
      if (!strcmp(key, max_key)) *hi = v;
    }
  if (f) fclose(f);
}

/* name:start:count lines (/etc/subuid, /etc/subgid) */
static int sub_file(const char *path, char *why, size_t wn) {
  FILE *f = fopen(path, "r");
  char line[512], what[600];
  int bad = 0;
  while (f && !bad && fgets(line, sizeof line, f)) {
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    unsigned long start = strtoul(c1 + 1, NULL, 10), count = strtoul(c2 + 1, NULL, 10);
    *c1 = '\0';
    snprintf(what, sizeof what, "%s's range in %s", line, path);
    bad = clashes(start, start + count, what, why, wn);
  }
  if (f) fclose(f);
  return bad;
}

int uidrange_check(char *why, size_t wn) {
  if (!cfg.run_base) return 0;
  unsigned long lo, hi;
  char what[300];
  login_defs("SUB_UID_MIN", "SUB_UID_MAX", &lo, &hi);
  if (clashes(lo, hi + 1, "/etc/login.defs's SUB_UID_MIN..SUB_UID_MAX, from which useradd hands out ranges", why, wn))
    return -1;
  login_defs("SUB_GID_MIN", "SUB_GID_MAX", &lo, &hi);
  if (clashes(lo, hi + 1, "/etc/login.defs's SUB_GID_MIN..SUB_GID_MAX", why, wn)) return -1;
  if (sub_file("/etc/subuid", why, wn) || sub_file("/etc/subgid", why, wn)) return -1;
  if (clashes(cfg.uid_base, cfg.uid_base + cfg.uid_count, "--uid-base's, the owner of the sandboxes' files on disk", why,
              wn) ||
      clashes(65534, 65535, "nobody, the network helpers' uid", why, wn))
    return -1;
  int bad = 0;
  setpwent();
  for (struct passwd *p; !bad && (p = getpwent());) {
    snprintf(what, sizeof what, "the uid of account %s", p->pw_name);
    bad = clashes(p->pw_uid, (unsigned long)p->pw_uid + 1, what, why, wn);
  }
  endpwent();
  setgrent();
  for (struct group *g; !bad && (g = getgrent());) {
    snprintf(what, sizeof what, "the gid of group %s", g->gr_name);
    bad = clashes(g->gr_gid, (unsigned long)g->gr_gid + 1, what, why, wn);
  }
  endgrent();
  return bad ? -1 : 0;
}

unsigned long uidrange_helper(int i) {
  /* the span's last slot is no sandbox's (sandbox_uids keeps it out of the sandboxes' count) */
  return cfg.run_base ? cfg.run_base + cfg.run_slots * SLOT_IDS + (unsigned long)i : 65534;
}

long uidrange_take(unsigned long *base) {
  if (!cfg.run_base) {
    *base = cfg.uid_base;
    return -1;
  }
  long slot = -1;
  pthread_mutex_lock(&lock);
  for (unsigned i = 0; i < cfg.run_slots && i < MAX_SLOTS; i++)
    if (!taken[i]) {
      taken[i] = 1, slot = i;
      break;
    }
  pthread_mutex_unlock(&lock);
  if (slot >= 0) *base = cfg.run_base + (unsigned long)slot * SLOT_IDS;
  return slot;
}

void uidrange_give(long slot) {
  if (slot < 0 || slot >= MAX_SLOTS) return;
  pthread_mutex_lock(&lock);
  taken[slot] = 0;
  pthread_mutex_unlock(&lock);
}
