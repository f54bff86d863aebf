/* porter-sandboxd: options, state directory, the HTTP server, and an orderly stop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include "server.h"
#include "cgroup.h"
#include "http.h"
#include "db.h"
#include "retention.h"
#include "logs.h"
#include "sandboxes.h"
#include "proc.h"
#include "voldisk.h"
#include "names.h"
#include "pool.h"
#include "supervise.h"
#include "uidrange.h"
#include "buckets.h"
#include "images.h"

srv_config cfg;

static const char USAGE[] =
          "usage: porter-sandboxd [options]\n"
          "  --listen ADDR:PORT     where to listen (default 127.0.0.1:8080; port 0 picks a free one)\n"
          "  --listen unix:PATH     or on a Unix socket that only this uid (and root) may use: mode 0600\n"
          "  --print-url            print http://ADDR:PORT on stdout once ready\n"
          "  --state-dir DIR        records, logs and volumes (default $XDG_STATE_HOME/porter-sandboxd)\n"
          "  --api-key KEY          require 'Authorization: Bearer KEY' (also PORTER_SANDBOX_API_KEY)\n"
          "  --image NAME=ROOTFS    run image NAME with ROOTFS as its root (repeatable)\n"
          "  --env-group NAME=FILE  an environment group of KEY=VALUE lines (repeatable)\n"
          "  --bucket NAME=DIR[,read_only]\n"
          "                         a local directory standing in for bucket NAME, for object volumes\n"
          "                         (type object; repeatable, at most 16); porter-sandboxd owns it: the\n"
          "                         directories it makes there are the sandboxes' root's; read_only:\n"
          "                         it takes read_only volumes only\n"
          "  --image-fallback MODE  host (default): an image that cannot be had runs on the host image,\n"
          "                         with a warning in its logs; none: the sandbox fails instead\n"
          "  --registry-auth FILE   registry credentials, in Docker's config.json format\n"
          "  --uid-base N           host uid (and gid) owning the sandboxes' files on disk: images,\n"
          "                         volumes (default 100000; 65536 ids)\n"
          "  --sandbox-uids START   the host ids sandboxes run as: 65536 a live sandbox, its own, from\n"
          "                         START (default 1879048192, 4094 sandboxes; at most 8192 from a\n"
          "                         higher START), a range no account or subordinate range may\n"
          "                         hold; 'shared': all on --uid-base's\n"
          "  --pids-max N           processes per sandbox (default 1024)\n"
          "  --memory-max SIZE      memory per sandbox, no swap (default 1G; K, M, G suffixes)\n"
          "  --disk-max SIZE        /tmp and the image's writable layer together, per sandbox, in\n"
          "                         memory and counted in --memory-max (default 512M)\n"
          "  --volume-size SIZE     the filesystem of each new volume, an ext4 image that takes on\n"
          "                         the host's disk what is in it (default 1G; 0: plain directories,\n"
          "                         without a bound)\n"
          "  --volume-space SIZE    what the live volumes' filesystems may add up to (default 64G)\n"
          "  --allow-host NAME      answer requests with Host NAME too (besides addresses, localhost\n"
          "                         and *.localhost, and the --listen host; repeatable, at most 16)\n"
          "  --allow-origin ORIGIN  answer requests from web pages at ORIGIN (others are 403)\n"
          "  --allow-private-egress sandboxes may reach private ranges (10/8, 172.16/12, 192.168/16,\n"
          "                         100.64/10, fc00::/7); else only an allow list's own CIDR opens one\n"
          "  --snapshot-space SIZE  what all snapshots together may take of the host's disk (default 8G)\n"
          "  --image-dir DIR        the image store (default STATE_DIR/images with --state-dir, else the\n"
          "                         user's cache, $XDG_CACHE_HOME/porter-sandbox/images, shared)\n"
          "  --shared-images        the user's cache even with --state-dir (what --local servers use)\n"
          "  --image-space SIZE     what all unpacked images together may take (default 64G)\n"
          "  --max-sandboxes N      sandboxes running at once (default 1024); beyond, a new one waits\n"
          "                         in phase queued until one ends, in order\n"
          "  --memory-commit SIZE   the sum of the running sandboxes' --memory-max (default twice the\n"
          "                         host's memory); beyond, a new one waits the same way\n"
          "  --image-max-size SIZE  what one image may unpack to (default 8G); past either, a pull fails\n"
          "  --cpu-weight N         CPU weight per sandbox, 1-10000 (default 100, as cgroup v2)\n"
          "  --max-log-lines N      log lines kept per sandbox (default 100000)\n"
          "  --max-log-bytes SIZE   bytes of log lines kept per sandbox (default 64M)\n"
          "  --max-ended N          ended sandboxes kept, records and logs (default 100000); past it,\n"
          "                         the oldest go (their names stay taken)\n"
          "  --log-space SIZE       what the log files of all sandboxes may take (default 8G); past it,\n"
          "                         the oldest ended sandboxes go the same way\n"
          "or: porter-sandboxd image [--state-dir DIR] ls|pull REF|rm REF|import ARCHIVE [NAME]\n";

static void usage(FILE *f) { fputs(USAGE, f); }

/* An option that is known but was given no value it takes: its lines of the usage, which say
 * what it takes; else it is unknown. */
static void bad_option(const char *a, const char *v) {
  char at[64];
  snprintf(at, sizeof at, "\n  %s ", a);
  const char *line = strlen(a) < 48 ? strstr(USAGE, at) : NULL;
  if (!line) {
    fprintf(stderr, "porter-sandboxd: unknown option '%s' (see --help)\n", a);
    return;
  }
  if (v) fprintf(stderr, "porter-sandboxd: %s does not take '%s':\n", a, v);
  else fprintf(stderr, "porter-sandboxd: %s wants a value:\n", a);
  /* its line and the ones continuing it, up to the next option's */
  const char *end = line + 1;
  do end = strchr(end + 1, '\n');
  while (end && !strncmp(end, "\n    ", 5));
  fprintf(stderr, "%.*s\n", end ? (int)(end - line - 1) : (int)strlen(line + 1), line + 1);
}

static int named(const char *arg, named_path *out, const char *opt) {
  const char *eq = strchr(arg, '=');
  if (!eq || eq == arg || !eq[1]) {
    fprintf(stderr, "porter-sandboxd: %s wants NAME=PATH (got '%s')\n", opt, arg);
    return -1;
  }
  out->name = strndup(arg, (size_t)(eq - arg));
  out->path = strdup(eq + 1);
  return 0;
}

/* MemTotal, or 32G if /proc/meminfo does not say */
static unsigned long long host_memory(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  unsigned long long kb = 0;
  char line[128];
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) break;
  if (f) fclose(f);
  return kb ? kb << 10 : 32ull << 30;
}

void default_state_dir(char *out, size_t n) {
  const char *xdg = getenv("XDG_STATE_HOME");
  if (xdg && *xdg) snprintf(out, n, "%s/porter-sandboxd", xdg);
  else snprintf(out, n, "%s/.local/state/porter-sandboxd", getenv("HOME") ? getenv("HOME") : "/tmp");
}

static void *ttl_thread(void *arg) {
  (void)arg;
  for (;;) {
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    runtime_ttl_tick();
  }
  return NULL;
}

/* the command line into cfg (state dir, listen address, whether to print the URL); 0 to go on,
 * else the exit status */
typedef struct args {
  char *state; /* 4096 bytes */
  const char *listen;
  int print_url, done;
  int state_given;
} args;

static int parse_args(int argc, char **argv, args *o) {
  char *state = o->state;
  o->listen = "127.0.0.1:8080";
  cfg.api_key = getenv("PORTER_SANDBOX_API_KEY");
  if (cfg.api_key && !*cfg.api_key) cfg.api_key = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    int image_opt = store_option(a, v); /* the image store's (images.c), shared with `image` */
    if (image_opt < 0) {
      fprintf(stderr, "porter-sandboxd: %s wants %s (got '%s')\n", a,
              !strcmp(a, "--image-dir") ? "a directory" : "a size of at least 1M such as 512M or 20G", v ? v : "");
      return 2;
    } else if (image_opt) {
      i += image_opt == 1; /* 2: a flag without a value */
    } else if (!strcmp(a, "--print-url")) {
      o->print_url = 1;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      o->done = 1;
      return 0;
    } else if (v && !strcmp(a, "--listen")) {
      o->listen = v, i++;
    } else if (v && !strcmp(a, "--state-dir")) {
      snprintf(state, 4096, "%s", v), i++, o->state_given = 1;
    } else if (v && !strcmp(a, "--api-key")) {
      cfg.api_key = *v ? (char *)v : NULL, i++;
    } else if (v && !strcmp(a, "--image") && cfg.nimages < 64) {
      if (named(v, &cfg.images[cfg.nimages++], a)) return 2;
      i++;
    } else if (v && !strcmp(a, "--image-fallback") && (!strcmp(v, "host") || !strcmp(v, "none"))) {
      cfg.fallback_none = !strcmp(v, "none"), i++;
    } else if (v && !strcmp(a, "--registry-auth")) {
      cfg.registry_auth = (char *)v, i++;
    } else if (v && !strcmp(a, "--uid-base") && strtoul(v, NULL, 10) >= 1000 && strtoul(v, NULL, 10) < 4000000000ul) {
      cfg.uid_base = strtoul(v, NULL, 10), i++;
    } else if (v && !strcmp(a, "--sandbox-uids") && !strcmp(v, "shared")) {
      cfg.run_base = 0, i++;
    } else if (v && !strcmp(a, "--sandbox-uids") && strtoul(v, NULL, 10) >= 65536 &&
               strtoul(v, NULL, 10) <= 4294967294ul - 65536 * 8ul) {
      cfg.run_base = strtoul(v, NULL, 10), i++;
    } else if (v && !strcmp(a, "--max-sandboxes") && strtoul(v, NULL, 10) >= 1 && strtoul(v, NULL, 10) <= 8192) {
      cfg.max_sandboxes = strtoul(v, NULL, 10), i++;
    } else if (v && !strcmp(a, "--memory-commit") && parse_size(v) >= (16ull << 20)) {
      cfg.memory_commit = parse_size(v), i++;
    } else if (v && !strcmp(a, "--pids-max") && strtoul(v, NULL, 10) >= 8) {
      cfg.pids_max = strtoul(v, NULL, 10), i++;
    } else if (v && !strcmp(a, "--memory-max") && parse_size(v) >= (16ull << 20)) {
      cfg.memory_max = parse_size(v), i++;
    } else if (v && !strcmp(a, "--disk-max") && parse_size(v) >= (1ull << 20)) {
      cfg.disk_max = parse_size(v), i++;
    } else if (v && !strcmp(a, "--volume-size") && (!strcmp(v, "0") || parse_size(v) >= (16ull << 20))) {
      cfg.volume_size = parse_size(v), i++;
    } else if (v && !strcmp(a, "--allow-host") && cfg.nallow_hosts < 16) {
      cfg.allow_hosts[cfg.nallow_hosts++] = (char *)v, i++;
    } else if (v && !strcmp(a, "--allow-origin") && cfg.nallow_origins < 16) {
      cfg.allow_origins[cfg.nallow_origins++] = (char *)v, i++;
    } else if (!strcmp(a, "--allow-private-egress")) {
      cfg.allow_private_egress = 1;
    } else if (v && !strcmp(a, "--volume-space") && parse_size(v) >= (16ull << 20)) {
      cfg.volume_space = parse_size(v), i++;
    } else if (v && !strcmp(a, "--snapshot-space") && parse_size(v) >= (1ull << 20)) {
      cfg.snapshot_space = parse_size(v), i++;
    } else if (v && !strcmp(a, "--cpu-weight") && strtoul(v, NULL, 10) >= 1 && strtoul(v, NULL, 10) <= 10000) {
      cfg.cpu_weight = strtoul(v, NULL, 10), i++;
    } else if (v && !strcmp(a, "--max-log-bytes") && parse_size(v) >= (64ull << 10)) {
      cfg.max_log_bytes = parse_size(v), i++;
    } else if (v && !strcmp(a, "--max-ended") && strtoll(v, NULL, 10) >= 1) {
      cfg.max_ended = strtoll(v, NULL, 10), i++;
    } else if (v && !strcmp(a, "--log-space") && parse_size(v) >= (64ull << 10)) {
      cfg.log_space = parse_size(v), i++;
    } else if (v && !strcmp(a, "--max-log-lines") && strtol(v, NULL, 10) >= 10) {
      cfg.max_log_lines = strtol(v, NULL, 10), i++;
    } else if (v && !strcmp(a, "--bucket") && cfg.nbuckets < 16) {
      if (bucket_register(v) != 0) return 2;
      i++;
    } else if (v && !strcmp(a, "--env-group") && cfg.ngroups < 64) {
      if (named(v, &cfg.env_groups[cfg.ngroups++], a)) return 2;
      i++;
    } else {
      bad_option(a, v);
      return 2;
    }
  }
  /* the network helpers run as nobody, whom the sandbox's nftables rules let through */
  if (cfg.uid_base <= 65534 && 65534 < cfg.uid_base + cfg.uid_count) {
    fprintf(stderr, "porter-sandboxd: --uid-base %lu: the sandboxes' %lu ids may not include 65534 (nobody, the uid of "
                    "the network helpers)\n", cfg.uid_base, cfg.uid_count);
    return 2;
  }
  return 0;
}

/* The run range's size and checks: it must be nobody else's, and this machine must show the
 * store's files to it through idmapped mounts; where it cannot (a filesystem without them), every
 * sandbox runs as --uid-base's ids, as said. */
static int sandbox_uids(void) {
  if (!cfg.run_base) return 0;
  unsigned long end = cfg.run_base == 0x70000000ul ? 0x7FFE0000ul : 4294967295ul;
  cfg.run_slots = (end - cfg.run_base) / 65536;
  /* 4096 ranges unless more sandboxes may run at once: a wider span would need more ids free */
  unsigned long want = cfg.max_sandboxes > 4096 ? cfg.max_sandboxes : 4096;
  if (cfg.run_slots > want) cfg.run_slots = want;
  else if (cfg.run_slots > 1) cfg.run_slots--; /* one slot after them is the helpers' (uidrange_helper) */
  if (cfg.max_sandboxes > cfg.run_slots) cfg.max_sandboxes = cfg.run_slots; /* each running one holds a range */
  char why[700], helper[4096], from[24], to[24], err[512];
  if (uidrange_check(why, sizeof why) != 0) {
    fprintf(stderr, "porter-sandboxd: --sandbox-uids %lu: %s; give it a range of %lu ids that is nobody's, or "
                    "'shared' for every sandbox on --uid-base's\n", cfg.run_base, why, (cfg.run_slots + 1) * 65536);
    return -1;
  }
  snprintf(from, sizeof from, "%lu", cfg.uid_base);
  snprintf(to, sizeof to, "%lu", cfg.run_base);
  char *argv[] = {(char *)helper_path("porter-sandbox-exec", helper, sizeof helper), "--idmap-probe", cfg.state_dir,
                  from, to, NULL};
  if (proc_run(argv, NULL, 0, err, sizeof err) != 0) {
    err[strcspn(err, "\n")] = '\0';
    fprintf(stderr, "porter-sandboxd: no idmapped mounts on %s (%s): every sandbox runs as the ids from --uid-base "
                    "%lu, shared\n", cfg.state_dir, err[0] ? err : "the probe failed", cfg.uid_base);
    cfg.run_base = 0;
  }
  return 0;
}

/* the state dir's layout, its lock (one server a dir), the image store and the database */
static int open_state(const char *state) {
  char path[4200];
  snprintf(path, sizeof path, "%s/volumes", state);
  if (mkdir_p(path, 0700) != 0) {
    fprintf(stderr, "porter-sandboxd: cannot create %s: %s\n", path, strerror(errno));
    return 1;
  }
  snprintf(path, sizeof path, "%s/sandboxes", state);
  mkdir_p(path, 0700);
  snprintf(path, sizeof path, "%s/snapshots", state);
  mkdir_p(path, 0700);
  /* one server per state dir: a second would take the first one's live sandboxes for the
   * remains of a crash and fail them */
  snprintf(path, sizeof path, "%s/lock", state);
  int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = "?";
    if (lock >= 0) {
      ssize_t n = pread(lock, holder, sizeof holder - 1, 0);
      holder[n > 0 ? n : 0] = '\0';
      holder[strcspn(holder, "\n")] = '\0';
    }
    fprintf(stderr, "porter-sandboxd: %s is in use by another porter-sandboxd (pid %s); give each server a --state-dir of its own\n",
            state, holder);
    return 1;
  }
  char pidline[32];
  int pl = snprintf(pidline, sizeof pidline, "%d\n", (int)getpid());
  if (ftruncate(lock, 0) != 0 || pwrite(lock, pidline, (size_t)pl, 0) != pl) {
    fprintf(stderr, "porter-sandboxd: cannot write %s: %s\n", path, strerror(errno));
    return 1;
  }
  if (store_init() != 0) {
    fprintf(stderr, "porter-sandboxd: cannot create the image store in %s: %s\n", cfg.image_dir, strerror(errno));
    return 1;
  }
  snprintf(path, sizeof path, "%s/state.db", state);
  if (db_open(path) != 0) return 1;
  if (logs_upgrade() != 0) {
    fprintf(stderr, "porter-sandboxd: cannot move the log lines of %s into log blocks\n", path);
    return 1;
  }
  if (retention_init() != 0) {
    fprintf(stderr, "porter-sandboxd: cannot read the size of the logs in %s\n", path);
    return 1;
  }
  db_batch(names_load, NULL); /* without it (out of memory) searches use the store's index */
  return 0;
}

/* Each live sandbox holds two descriptors (its output pipes), one starting ten (at most 64 start
 * at once: runtime.c's STARTING_MAX), and each connection one: a soft limit of 1024 would cap
 * us near 400 sandboxes. The limits are raised (root with CAP_SYS_RESOURCE may raise the hard one too) to what --max-sandboxes and the
 * connections need; where they cannot be, --max-sandboxes is lowered to what fits, and said, so
 * that a sandbox past it waits in queued instead of failing for want of a pipe. Sandboxes keep
 * the limit the server was started with (the launcher sets it back: LF_NOFILE). */
static void open_files(void) {
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) != 0) return;
  cfg.sandbox_nofile = nofile.rlim_max == RLIM_INFINITY ? 1048576 : (unsigned long)nofile.rlim_max;
  rlim_t want = (rlim_t)cfg.max_sandboxes * 2 + MAX_CONNECTIONS + 1024, cap = 1048576;
  FILE *f = fopen("/proc/sys/fs/nr_open", "re");
  unsigned long nr_open;
  if (f && fscanf(f, "%lu", &nr_open) == 1) cap = nr_open;
  if (f) fclose(f);
  if (want > cap) want = cap;
  struct rlimit up = {want, want};
  if (nofile.rlim_max == RLIM_INFINITY || want <= nofile.rlim_max || setrlimit(RLIMIT_NOFILE, &up) != 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  getrlimit(RLIMIT_NOFILE, &nofile);
  rlim_t have = nofile.rlim_cur;
  cfg.max_connections = MAX_CONNECTIONS;
  if (have >= want) return;
  cfg.max_connections = have / 4 < MAX_CONNECTIONS ? (unsigned)(have / 4) : MAX_CONNECTIONS;
  unsigned long fit = have > cfg.max_connections + 1024 + 2 ? (unsigned long)(have - cfg.max_connections - 1024) / 2 : 1;
  if (fit < cfg.max_sandboxes) {
    fprintf(stderr, "porter-sandboxd: %lu open files allowed (and no raising the hard limit here): at most %lu sandboxes run "
            "at once, not %lu, and %u connections; more wait in queued (raise it with ulimit -Hn, or give CAP_SYS_RESOURCE)\n",
            (unsigned long)have, fit, cfg.max_sandboxes, cfg.max_connections);
    cfg.max_sandboxes = fit;
  }
}

int main(int argc, char **argv) {
  char state[4096] = "";
  default_state_dir(state, sizeof state);
  cfg.state_dir = state;
  cfg.uid_base = 100000;
  cfg.uid_count = 65536;
  /* 0x70000000..0x7FFDFFFF: above what useradd hands out (SUB_UID_MAX 600100000) and systemd's
   * container ranges, below its foreign range and the ids signedness bugs reach */
  cfg.run_base = 0x70000000ul;
  cfg.pids_max = 1024;
  cfg.memory_max = 1ull << 30;
  cfg.disk_max = 512ull << 20;
  cfg.volume_size = 1ull << 30;
  cfg.snapshot_space = 8ull << 30;
  cfg.volume_space = 64ull << 30;
  cfg.image_space = 64ull << 30;
  cfg.max_sandboxes = 1024;
  cfg.memory_commit = 2 * host_memory();
  cfg.image_max_size = 8ull << 30;
  cfg.cpu_weight = 100;
  cfg.max_log_lines = 100000;
  cfg.max_log_bytes = 64ull << 20;
  cfg.max_ended = 100000;
  cfg.log_space = 8ull << 30;
  if (argc > 1 && !strcmp(argv[1], "image")) return image_main(argc - 1, argv + 1);
  for (int i = 0; i < OP__COUNT; i++)
    if (!routes[i].fn) {
      fprintf(stderr, "porter-sandboxd: operation %d of api/openapi.yaml has no handler in routes.c\n", i);
      return 1;
    }
  args o = {state, NULL, 0, 0, 0};
  int rc = parse_args(argc, argv, &o);
  if (rc || o.done) return rc;
  store_default_dir(o.state_given);
  const char *listen = o.listen;
  int print_url = o.print_url;

  char host[128];
  int port = 0, unix_socket = !strncmp(listen, "unix:", 5);
  const char *colon = strrchr(listen, ':');
  if (unix_socket) {
    if (listen[5] != '/' || strlen(listen) >= sizeof host) {
      fprintf(stderr, "porter-sandboxd: --listen unix:PATH wants an absolute path (got '%s')\n", listen);
      return 2;
    }
    snprintf(host, sizeof host, "%s", listen);
  } else if (!colon || (size_t)(colon - listen) >= sizeof host) {
    fprintf(stderr, "porter-sandboxd: --listen wants ADDR:PORT or unix:PATH (got '%s')\n", listen);
    return 2;
  } else {
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    port = atoi(colon + 1);
  }

  /* before any thread: a namespace is unshared by one thread only */
  if (cfg.volume_size && (voldisk_private_mounts() != 0 || access("/dev/loop-control", R_OK | W_OK) != 0)) {
    fprintf(stderr, "porter-sandboxd: no mount namespace or loop devices here (%s): volumes are plain directories, without "
            "a bound on their size\n", strerror(errno));
    cfg.volume_size = 0;
  }
  if (open_state(state) != 0) return 1;
  if (sandbox_uids() != 0) {
    db_close();
    return 2;
  }
  volumes_mount_all();
  cgroup_init();
  sandboxes_recover();

  /* signals are taken synchronously by main; every other thread blocks them */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  /* after the mask: a thread that took SIGTERM would end the server without its cleanup */
  if (supervise_start() != 0) {
    fprintf(stderr, "porter-sandboxd: cannot start the thread that watches sandboxes: %s\n", strerror(errno));
    db_close();
    return 1;
  }
  if (buckets_start() != 0) {
    db_close();
    return 2;
  }
  open_files();

  int bound;
  if (http_serve(host, port, &bound) != 0) {
    db_close();
    return 1;
  }
  /* a Unix socket's clients (curl, our SDK) say Host: localhost, which is allowed anyway */
  snprintf(cfg.listen_host, sizeof cfg.listen_host, "%s", unix_socket ? "localhost" : host);
  pool_start();
  pthread_t ttl;
  pthread_create(&ttl, NULL, ttl_thread, NULL);
  pthread_detach(ttl);
  char url[160];
  if (unix_socket) snprintf(url, sizeof url, "%s", host);
  else snprintf(url, sizeof url, "http://%s:%d", host, bound);
  fprintf(stderr, "porter-sandboxd: listening on %s, state in %s%s\n", url, state,
          cfg.api_key ? ", API key required" : "");
  if (print_url) {
    printf("%s\n", url);
    fflush(stdout);
  }
  int sig;
  sigwait(&set, &sig);
  fprintf(stderr, "porter-sandboxd: stopping (signal %d)\n", sig);
  http_stop();
  runtime_stop_all();
  cgroup_fini();
  db_close(); /* keeps the store locked: a straggling thread waits instead of writing */
  return 0;
}
