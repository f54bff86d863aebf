/* Sandboxes as processes in namespaces of their own.
 *
 * Each sandbox gets a launcher thread that resolves its image (pulling it on first use, phase
 * "creating"), builds its environment and command from the image's config and the spec, and
 * starts porter-sandbox-exec --launch (csrc/exec/), or takes a warm one from the pool (pool.c),
 * which assembles the root (an overlay of the image with a writable layer of the sandbox's
 * own, or the host's system directories; the layer and /tmp in a --disk-max tmpfs of its mount
 * namespace), maps the sandbox's ids to an unprivileged range of the host's, and becomes its
 * pid 1. The thread learns pid 1's host pid and then "ready" on a status pipe, and ends: from
 * there the supervisor (supervise.c) logs the workload's output and waits for it, without a
 * thread of ours per live sandbox, and a thread of its own records how it ended. An exec is a request
 * to pid 1 over the sandbox's control socket (send_exec): pid 1 forks the command, already in
 * every namespace, cgroup and credential of the sandbox, and says how it ended; its output
 * comes back on pipes we pass it and is spooled (spool.c). Killing pid 1 takes every process
 * of the sandbox with it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "exec_proto.h"
#include "launch_flags.h"
#include <pthread.h>
#include "server.h"
#include "volumes.h"
#include "snapshots.h"
#include "logs.h"
#include "spool.h"
#include "records.h"
#include "proc.h"
#include "cgroup.h"
#include "voldisk.h"
#include "pool.h"
#include "runtime.h"
#include "clients.h"
#include "launchargs.h"
#include "admit.h"
#include "uidrange.h"
#include "workload.h"
#include "execclient.h"
#include "buckets.h"
#include "images.h"
#include "supervise.h"

#define PROXY_PORT 3128          /* the egress proxy, on the sandbox's own loopback */

typedef struct sandbox_rt {
  char id[40], name[64];
  json_t *spec;
  pid_t helper;      /* our child, the launcher */
  pid_t init;        /* the sandbox's pid 1, as the host sees it */
  int running;
  int network;         /* outbound network (slirp4netns); else loopback only */
  int port;            /* networking: the sandbox's port, reached from host_fd */
  int host_fd;         /* the listener on the host's loopback for it, until the launcher has it */
  json_t *allow;       /* egress.allowed_destinations, when not empty: nothing else goes out */
  int terminating;
  int64_t deadline_ms; /* ttl; 0 = none */
  char **env;          /* KEY=VALUE, NULL-terminated; set before running */
  unsigned uid, gid;   /* the workload's (and exec's) user inside */
  char cwd[1024];      /* its working directory; "" = / */
  char dir[4096];      /* sandboxes/<id>: root, upper, work, tmp */
  char cgroups[3][512]; /* its cgroup directories */
  int ncgroups;
  int cancel;              /* terminate or a stop while it waits for room (admit.c) */
  admit_node room;         /* its place in the line, then its room (admit.c) */
  int queue_full;          /* too many waited when it was asked for */
  image_info img;          /* what it runs, held until it ends */
  long uid_slot;           /* uidrange.c's, or -1 */
  unsigned long uid_base;  /* the host ids it runs as */
  struct sandbox_rt *next;
} sandbox_rt;

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rt_changed = PTHREAD_COND_INITIALIZER;
static sandbox_rt *sandboxes;
static int stopping;

static sandbox_rt *find(const char *id) {
  for (sandbox_rt *s = sandboxes; s; s = s->next)
    if (!strcmp(s->id, id)) return s;
  return NULL;
}

static void free_env(char **env) {
  for (char **e = env; e && *e; e++) free(*e);
  free(env);
}

static void free_rt(sandbox_rt *s) {
  admit_leave(&s->room);       /* out of the line, or its room given back */
  uidrange_give(s->uid_slot); /* its processes are gone: pid 1 has been waited for */
  if (s->host_fd >= 0) close(s->host_fd);
  free_env(s->env);
  json_decref(s->allow);
  json_decref(s->spec);
  image_info_free(&s->img);
  free(s);
}

/* What a launcher needs first: how its network and cgroups are made. A warm launcher (pool.c)
 * was started with the same for the default network. */
static int add_early(sandbox_rt *s, argv_buf *a, char *why, size_t wn) {
  launch_early e = {0, s->network, s->allow ? PROXY_PORT : 0, s->allow, s->port, (const char(*)[512])s->cgroups, s->ncgroups};
  launch_early_args(a, &e);
  return 0;
}

/* The rest: ids, root, mounts, user, command. */
static int add_late(sandbox_rt *s, const image_info *img, argv_buf *a, char *why, size_t wn) {
  /* s->dir (shorter than 4096, checked as it was made) and a suffix always fit: no pathf can fail */
  char path[4200], path2[4200], path3[4200];
  argv_add(a, LF_UIDMAP), argv_addf(a, "%lu", s->uid_base), argv_addf(a, "%lu", cfg.uid_count);
  if (s->uid_base != cfg.uid_base) argv_add(a, LF_IDMAP_FROM), argv_addf(a, "%lu", cfg.uid_base);
  pathf(path, sizeof path, "%s/scratch", s->dir);
  argv_add(a, LF_SCRATCH), argv_add(a, path), argv_addf(a, "%llu", cfg.disk_max);
  if (img->host) {
    argv_add(a, LF_HOST_ROOT);
  } else {
    pathf(path, sizeof path, "%s/scratch/upper", s->dir);
    pathf(path2, sizeof path2, "%s/scratch/work", s->dir);
    argv_add(a, LF_OVERLAY), argv_add(a, img->rootfs), argv_add(a, path), argv_add(a, path2);
  }
  pathf(path3, sizeof path3, "%s/root", s->dir);
  if (mkdir(path3, 0700) != 0) {
    snprintf(why, wn, "cannot create the sandbox's root: %s", strerror(errno));
    return -1;
  }
  argv_add(a, LF_MNT), argv_add(a, path3);
  pathf(path, sizeof path, "%s/scratch/tmp", s->dir);
  argv_add(a, LF_TMP), argv_add(a, path);
  const char *snap = json_string_value(json_object_get(s->spec, "snapshot_id"));
  if (snap) {
    snapshot_files f;
    char helper[4096];
    if (snapshot_source(snap, &f, NULL, 0, why, wn) != 0) return -1;
    helper_path("porter-sandbox-unpack", helper, sizeof helper);
    argv_add(a, LF_SEED_TMP), argv_add(a, helper), argv_add(a, f.tmp_tar), argv_add(a, f.tmp_sha);
    /* a layer of the image's root, so on the image's root only (a host-root sandbox has none) */
    if (f.root_sha[0] && !img->host)
      argv_add(a, LF_SEED_ROOT), argv_add(a, helper), argv_add(a, f.root_tar), argv_add(a, f.root_sha);
  }
  argv_add(a, LF_HOSTNAME), argv_add(a, s->name);
  argv_add(a, LF_USER), argv_addf(a, "%lu", s->uid), argv_addf(a, "%lu", s->gid);
  if (s->cwd[0]) argv_add(a, LF_CWD), argv_add(a, s->cwd);
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(s->spec, "volume_mounts"), k, v) {
    char dir[4096], object[2048];
    if (volume_object(json_string_value(v), object, sizeof object)) {
      int ro, fuse;
      char because[256];
      if (bucket_volume_dir(object, dir, sizeof dir, &ro, &fuse, because, sizeof because) != 0) {
        snprintf(why, wn, "object volume %s cannot be mounted: %s", json_string_value(v), because);
        return -1;
      }
      argv_add(a, LF_BIND_BUCKET), argv_add(a, dir), argv_add(a, k);
      argv_add(a, fuse ? (ro ? LF_BUCKET_RO_NOIDMAP : LF_BUCKET_RW_NOIDMAP) : ro ? LF_BUCKET_RO : LF_BUCKET_RW);
      continue;
    }
    if (!voldisk_ready(json_string_value(v))) {
      snprintf(why, wn, "the filesystem of volume %s cannot be mounted (see the server's log)", json_string_value(v));
      return -1;
    }
    volume_data_dir(json_string_value(v), dir, sizeof dir);
    argv_add(a, LF_BIND), argv_add(a, dir), argv_add(a, k);
  }
  if (workload_command(a, s->spec, img->config, why, wn) != 0) return -1;
  if (a->oom) {
    snprintf(why, wn, "out of memory");
    return -1;
  }
  return 0;
}

/* Sends a warm launcher the rest of its options, a NUL, and the workload's environment. */
static int send_late(int fd, argv_buf *late, char **env) {
  int ok = 1;
  for (int i = 0; ok && i < late->n; i++) ok = write(fd, late->v[i], strlen(late->v[i]) + 1) >= 0;
  ok = ok && write(fd, "", 1) == 1;
  for (char **e = env; ok && *e; e++) ok = write(fd, *e, strlen(*e) + 1) >= 0;
  close(fd);
  return ok ? 0 : -1;
}

/* ---- launching ---- */
static void log_s(const char *id, const char *level, const char *msg) { log_line(id, level, "", msg, strlen(msg)); }

/* Reads the launcher's status lines: "pid P" once pid 1 exists, then "ready" or "error MSG".
 * Returns pid 1's host pid once ready, -1 otherwise (why says what went wrong). */
static pid_t read_status(int fd, char *why, size_t wn) {
  char buf[4096];
  size_t have = 0;
  pid_t pid = -1;
  snprintf(why, wn, "the sandbox could not be set up");
  for (;;) {
    char *nl;
    while ((nl = memchr(buf, '\n', have))) {
      *nl = '\0';
      if (!strncmp(buf, "pid ", 4)) pid = (pid_t)strtol(buf + 4, NULL, 10);
      else if (!strcmp(buf, "ready")) return pid;
      else if (!strncmp(buf, "error ", 6)) {
        snprintf(why, wn, "%.900s", buf + 6);
        return -1;
      }
      have -= (size_t)(nl + 1 - buf);
      memmove(buf, nl + 1, have);
    }
    if (have == sizeof buf) have = 0;
    ssize_t r = read(fd, buf + have, sizeof buf - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    have += (size_t)r;
  }
}

/* The image, or what stands in for it when it cannot be had. */
static int choose_image(sandbox_rt *s, image_info *img) {
  const char *image = json_string_value(json_object_get(s->spec, "image"));
  char why[1024], msg[1400];
  if (image_resolve(image, img, why, sizeof why) == 0) return 0;
  if (cfg.fallback_none) {
    snprintf(msg, sizeof msg, "cannot use image '%s': %s", image, why);
    log_s(s->id, "error", msg);
    return -1;
  }
  snprintf(msg, sizeof msg, "image '%s' could not be used (%s); running on the host image instead", image, why);
  log_s(s->id, "warning", msg);
  fprintf(stderr, "porter-sandboxd: sandbox %s: %s\n", s->id, msg);
  return image_resolve("host", img, why, sizeof why);
}

/* How the sandbox ended, in its record and its logs: out of memory, stopped with the server,
 * terminated, failed to start, or its workload's exit code. */
static void record_end(sandbox_rt *s, pid_t init, int code) {
  if (cgroup_oom_kills(s->id) > 0) {
    char msg[200];
    snprintf(msg, sizeof msg, "the sandbox ran out of memory (its limit is %llu MiB): the kernel killed a process in it",
             cfg.memory_max >> 20);
    log_s(s->id, "error", msg);
  }
  pthread_mutex_lock(&rt_lock);
  s->running = 0;
  int terminated = s->terminating, stopped = stopping;
  pthread_mutex_unlock(&rt_lock);
  if (stopped && !terminated) {
    log_s(s->id, "error", "porter-sandboxd stopped while this sandbox was live; it is gone");
    sandbox_set_phase(s->id, "failed", 0, 0, 0);
  } else if (terminated) {
    sandbox_set_phase(s->id, "terminated", 0, 0, 0);
  } else if (init <= 0) {
    sandbox_set_phase(s->id, "failed", 0, 0, 0);
  } else {
    sandbox_set_phase(s->id, code == 0 ? "succeeded" : "failed", 1, code, 0);
  }
}

/* The image, the workload's environment, user and working directory, from the image's config. */
static int prepare(sandbox_rt *s, image_info *img, char *why, size_t wn) {
  if (choose_image(s, img) != 0) return -1;
  if (img->user_error[0]) {
    snprintf(why, wn, "%s", img->user_error);
    return -1;
  }
  char **env = workload_env(s->spec, s->name, img, s->allow != NULL);
  const char *wd = json_string_value(json_object_get(img->config, "WorkingDir"));
  pthread_mutex_lock(&rt_lock);
  s->env = env;
  s->uid = img->uid, s->gid = img->gid;
  if (pathf(s->cwd, sizeof s->cwd, "%s", wd && wd[0] == '/' ? wd : "") != 0) s->cwd[0] = '\0';
  pthread_mutex_unlock(&rt_lock);
  if (!env) {
    snprintf(why, wn, "out of memory");
    return -1;
  }
  return 0;
}

/* A launcher that runs: its pid, the workload's output and its status pipe. */
typedef struct launched {
  pid_t pid;
  int out, err, status;
} launched;

/* A new launcher, spawned with every option (LF_ENV_FD among them); the workload's environment
 * follows on its fd 5, as a warm launcher's does on fd 4. */
static int spawn_launcher(sandbox_rt *s, argv_buf *a, launched *l, char *why, size_t wn) {
  int out[2] = {-1, -1}, err[2] = {-1, -1}, status[2] = {-1, -1}, env[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(status, O_CLOEXEC) || pipe2(env, O_CLOEXEC)) {
    for (int i = 0; i < 2; i++) {
      if (out[i] >= 0) close(out[i]);
      if (err[i] >= 0) close(err[i]);
      if (status[i] >= 0) close(status[i]);
      if (env[i] >= 0) close(env[i]);
    }
    snprintf(why, wn, "could not create pipes for the sandbox");
    return -1;
  }
  char *own[] = LAUNCHER_ENV;
  int fds[3] = {status[1], s->host_fd, env[0]};
  pid_t pid = supervise_spawn(a->v, own, out[1], err[1], fds, 3);
  close(out[1]), close(err[1]), close(status[1]), close(env[0]);
  if (s->host_fd >= 0) close(s->host_fd);
  s->host_fd = -1; /* the launcher's now, gone with it */
  if (pid < 0) {
    close(out[0]), close(err[0]), close(status[0]), close(env[1]);
    snprintf(why, wn, "could not start the sandbox's launcher");
    return -1;
  }
  *l = (launched){pid, out[0], err[0], status[0]};
  argv_buf none = {0};
  /* a launcher that did not get it ends; read_status then says it could not start */
  if (send_late(env[1], &none, s->env) != 0) snprintf(why, wn, "could not start the sandbox's launcher");
  return 0;
}

/* Its cgroups and a launcher: a warm one from the pool when the sandbox has the default network
 * (it only needs the late options), else a new one. */
static int start_launcher(sandbox_rt *s, const image_info *img, launched *l, char *why, size_t wn) {
  warm w;
  int pooled = s->network && !s->port && !s->allow && pool_take(s->id, &w) == 0;
  char cg[3][512];
  int ncg = pooled ? cgroup_dirs(s->id, cg) : cgroup_create(s->id, cg, why, wn);
  if (ncg >= 0) {
    pthread_mutex_lock(&rt_lock);
    memcpy(s->cgroups, cg, sizeof cg);
    s->ncgroups = ncg;
    pthread_mutex_unlock(&rt_lock);
  }
  argv_buf early = {0}, late = {0};
  int rc = -1;
  if (ncg < 0 || (!pooled && add_early(s, &early, why, wn) != 0) || add_late(s, img, &late, why, wn) != 0) {
    if (pooled) pool_release(&w); /* a warm launcher we cannot use goes, as with the sandbox */
  } else if (pooled) {
    *l = (launched){w.pid, w.out, w.err, w.status};
    rc = 0;
    /* a launcher that did not get its options ends; read_status then says it could not start */
    if (send_late(w.config, &late, s->env) != 0) snprintf(why, wn, "could not start the sandbox's launcher");
  } else {
    argv_add(&early, LF_ENV_FD), argv_add(&early, "5");
    for (int i = 0; i < late.n; i++) argv_add(&early, late.v[i]);
    if (early.oom) snprintf(why, wn, "out of memory");
    else rc = spawn_launcher(s, &early, l, why, wn);
  }
  argv_free(&early);
  argv_free(&late);
  return rc;
}

/* Waits for pid 1 (or the launcher's failure) and records it; returns pid 1's host pid or -1. */
static pid_t await_ready(sandbox_rt *s, launched *l, char *why, size_t wn) {
  pid_t init = read_status(l->status, why, wn);
  close(l->status);
  pthread_mutex_lock(&rt_lock);
  s->helper = l->pid;
  s->init = init;
  s->running = init > 0 && !s->terminating;
  int killed_early = s->terminating && init > 0;
  int terminating = s->terminating;
  pthread_mutex_unlock(&rt_lock);
  if (killed_early) kill(init, SIGKILL);
  /* a launcher that said it failed but lives on (a helper of its reported) ends here, or the
   * sandbox would wait in creating for as long as it lives */
  if (init <= 0) kill(l->pid, SIGKILL);
  if (init > 0 && !killed_early) sandbox_set_phase(s->id, "running", 0, 0, 1);
  if (init <= 0 && !terminating) log_s(s->id, "error", why);
  return init;
}

/* What is left of a sandbox that ended: its cgroups, its directory, its place in the list. */
static void retire(sandbox_rt *s) {
  /* before the sandbox counts as gone: a 204 to DELETE means nothing is left */
  if (s->ncgroups) cgroup_remove(s->id);
  rm_rf(s->dir);
  pthread_mutex_lock(&rt_lock);
  for (sandbox_rt **pp = &sandboxes; *pp; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  pthread_cond_broadcast(&rt_changed);
  pthread_mutex_unlock(&rt_lock);
  free_rt(s);
}

/* Room to run (admit.c) and host ids of its own (uidrange.c); until then it is "queued". 0, or
 * -1 with the sandbox's end recorded. */
static int admit(sandbox_rt *s) {
  int rc = s->queue_full ? -2 : admit_wait(&s->room);
  unsigned long base = 0;
  long slot = rc == 0 ? uidrange_take(&base) : -1;
  if (rc == 0 && cfg.run_base && slot < 0) rc = -3;
  pthread_mutex_lock(&rt_lock);
  s->uid_slot = slot, s->uid_base = base;
  int terminating = s->terminating;
  pthread_mutex_unlock(&rt_lock);
  if (rc == 0) return 0;
  if (rc == -2) log_s(s->id, "error", "too many sandboxes wait for room (1024): none more is taken until some start");
  if (rc == -3) log_s(s->id, "error", "every uid range of --sandbox-uids is a live sandbox's");
  if (rc == -1 && !terminating) log_s(s->id, "error", "porter-sandboxd stopped before the sandbox had room to start");
  sandbox_set_phase(s->id, terminating ? "terminated" : "failed", 0, 0, 0);
  return -1;
}

/* The supervisor's word that the launcher ended (its output all logged). */
static void ended(void *ctx, int code) {
  sandbox_rt *s = ctx;
  pthread_mutex_lock(&rt_lock);
  pid_t init = s->init;
  pthread_mutex_unlock(&rt_lock);
  record_end(s, init, code);
  retire(s);
}

/* Launchers being set up at once. A create answers at once and its sandbox starts behind it, so
 * a client can ask for thousands in a second; each one starting holds ten descriptors (its
 * pipes, before the launcher has its ends) and makes a network namespace, which the kernel makes
 * one at a time anyway. Past this many, a sandbox waits in creating for its turn. */
#define STARTING_MAX 64
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_free = PTHREAD_COND_INITIALIZER;
static int starting;

static void gate_enter(void) {
  pthread_mutex_lock(&gate_lock);
  while (starting >= STARTING_MAX) pthread_cond_wait(&gate_free, &gate_lock);
  starting++;
  pthread_mutex_unlock(&gate_lock);
}

static void gate_leave(void) {
  pthread_mutex_lock(&gate_lock);
  starting--;
  pthread_cond_signal(&gate_free);
  pthread_mutex_unlock(&gate_lock);
}

static void *launcher(void *arg) {
  sandbox_rt *s = arg;
  if (admit(s) != 0) {
    retire(s);
    return NULL;
  }
  sandbox_set_phase(s->id, "creating", 0, 0, 0);
  char why[1024] = "";
  launched l;
  int prepared = prepare(s, &s->img, why, sizeof why) == 0; /* a pull may take minutes: not behind the gate */
  if (prepared) gate_enter();
  if (prepared && start_launcher(s, &s->img, &l, why, sizeof why) == 0) {
    await_ready(s, &l, why, sizeof why);
    gate_leave();
    /* from here the sandbox costs no thread: the supervisor calls ended */
    if (supervise_watch(s->id, l.pid, l.out, l.err, ended, s) != 0) ended(s, proc_wait(l.pid));
    return NULL;
  }
  if (prepared) gate_leave();
  if (why[0]) log_s(s->id, "error", why);
  sandbox_set_phase(s->id, s->terminating ? "terminated" : "failed", 0, 0, 0);
  retire(s);
  return NULL;
}

int runtime_host_listener(int port, int *got) {
  for (int k = 0; k < 2; k++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(k ? 0 : port)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 128) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
      *got = ntohs(a.sin_port);
      return fd;
    }
    if (fd >= 0) close(fd);
  }
  return -1;
}

int runtime_start(const char *id, const char *name, json_t *spec, int host_fd) {
  sandbox_rt *s = calloc(1, sizeof *s);
  if (!s) {
    if (host_fd >= 0) close(host_fd);
    return -1;
  }
  s->host_fd = host_fd;
  s->img.hold = -1;
  s->uid_slot = -1; /* taken once it has room (admit) */
  s->queue_full = admit_join(&s->room, cfg.memory_max, &s->cancel) != 0;
  snprintf(s->id, sizeof s->id, "%s", id);
  snprintf(s->name, sizeof s->name, "%s", name);
  s->spec = json_incref(spec);
  json_t *eg = json_object_get(spec, "egress");
  json_t *allowed = eg ? json_object_get(eg, "allowed_destinations") : NULL;
  /* no egress rule: outbound network through slirp4netns (the launcher's rules keep the host
   * and its neighbours out); an empty allow list: loopback only; a non-empty one: slirp4netns
   * with rules that let out only what the list allows, and a proxy for names. An exposed port
   * changes none of it: a forwarder of the launcher's connects to the port and nowhere else. */
  s->network = !allowed || json_array_size(allowed) > 0;
  if (json_array_size(allowed)) s->allow = json_incref(allowed);
  json_t *net = json_array_get(json_object_get(spec, "networking"), 0);
  if (net) s->port = (int)json_integer_value(json_object_get(net, "port"));
  json_t *ttl = json_object_get(spec, "ttl_seconds");
  if (json_is_integer(ttl)) s->deadline_ms = now_ms() + json_integer_value(ttl) * 1000;
  char scratch[4200];
  if (pathf(s->dir, sizeof s->dir, "%s/sandboxes/%s", cfg.state_dir, id) != 0 ||
      pathf(scratch, sizeof scratch, "%s/scratch", s->dir) != 0 || mkdir_p(scratch, 0700) != 0) {
    free_rt(s);
    return -1;
  }
  pthread_t t;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 256 * 1024);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  /* listed before the thread runs, so that its own removal finds it; unlisted if it cannot */
  pthread_mutex_lock(&rt_lock);
  s->next = sandboxes;
  sandboxes = s;
  int rc = pthread_create(&t, &at, launcher, s);
  if (rc != 0) sandboxes = s->next;
  pthread_mutex_unlock(&rt_lock);
  pthread_attr_destroy(&at);
  if (rc != 0) {
    rm_rf(s->dir);
    free_rt(s);
  }
  return rc;
}

int runtime_terminate(const char *id) {
  pthread_mutex_lock(&rt_lock);
  sandbox_rt *s = find(id);
  if (!s) {
    pthread_mutex_unlock(&rt_lock);
    return 0;
  }
  s->terminating = 1;
  __atomic_store_n(&s->cancel, 1, __ATOMIC_RELEASE);
  admit_wake(); /* if it waits for room, it ends now */
  s->running = 0;
  if (s->init > 0) kill(s->init, SIGKILL); /* pid 1 of the namespace: the kernel kills the rest */
  if (s->helper > 0) kill(s->helper, SIGKILL);
  /* wait until the launcher recorded the end, so that a refresh right after says terminated */
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  while (find(id) && pthread_cond_timedwait(&rt_changed, &rt_lock, &until) == 0) {
  }
  pthread_mutex_unlock(&rt_lock);
  return 1;
}

int runtime_live(const char *id) {
  pthread_mutex_lock(&rt_lock);
  sandbox_rt *s = find(id);
  int live = s && s->running;
  pthread_mutex_unlock(&rt_lock);
  return live;
}

int runtime_count(void) {
  int n = 0;
  pthread_mutex_lock(&rt_lock);
  for (sandbox_rt *s = sandboxes; s; s = s->next) n++;
  pthread_mutex_unlock(&rt_lock);
  return n;
}

int runtime_scratch(const char *id, char *out, size_t n, unsigned long *uid_base, int *layered) {
  pthread_mutex_lock(&rt_lock);
  sandbox_rt *s = find(id);
  int ok = s && s->running && s->helper > 0;
  if (ok) *uid_base = s->uid_base, *layered = !s->img.host;
  /* the scratch tmpfs exists in the launcher's mount namespace only */
  if (ok) ok = pathf(out, n, "/proc/%ld/root%s/scratch", (long)s->helper, s->dir) == 0;
  pthread_mutex_unlock(&rt_lock);
  return ok;
}

void runtime_ttl_tick(void) {
  char expired[64][40];
  int n = 0;
  int64_t now = now_ms();
  pthread_mutex_lock(&rt_lock);
  for (sandbox_rt *s = sandboxes; s && n < 64; s = s->next)
    if (s->deadline_ms && now >= s->deadline_ms && !s->terminating) snprintf(expired[n++], 40, "%s", s->id);
  pthread_mutex_unlock(&rt_lock);
  for (int i = 0; i < n; i++) {
    log_s(expired[i], "info", "ttl_seconds elapsed: terminating");
    runtime_terminate(expired[i]);
  }
}

void runtime_stop_all(void) {
  /* stopping first: the pool's thread ends in pool_stop, and with it (parent-death signal)
   * every launcher it made, adopted ones included; their sandboxes must read as stopped by us,
   * not as workloads that failed */
  pthread_mutex_lock(&rt_lock);
  stopping = 1;
  pthread_mutex_unlock(&rt_lock);
  pool_stop();
  pthread_mutex_lock(&rt_lock);
  for (sandbox_rt *s = sandboxes; s; s = s->next) {
    __atomic_store_n(&s->cancel, 1, __ATOMIC_RELEASE);
    if (s->init > 0) kill(s->init, SIGKILL);
    if (s->helper > 0) kill(s->helper, SIGKILL);
  }
  admit_wake();
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  while (sandboxes && pthread_cond_timedwait(&rt_changed, &rt_lock, &until) == 0) {
  }
  pthread_mutex_unlock(&rt_lock);
}

/* ---- exec (the exchange with pid 1 itself: execclient.c) ---- */
int runtime_exec(const char *id, json_t *cmd, int client, spool *json, char *why, size_t wn) {
  pthread_mutex_lock(&rt_lock);
  sandbox_rt *s = find(id);
  if (!s || !s->running || s->init <= 0) {
    pthread_mutex_unlock(&rt_lock);
    return 409;
  }
  unsigned uid = s->uid, gid = s->gid;
  char cwd[1024], dir[4096];
  snprintf(cwd, sizeof cwd, "%s", s->cwd);
  snprintf(dir, sizeof dir, "%s", s->dir);
  size_t nenv = 0;
  while (s->env[nenv]) nenv++;
  char **env = calloc(nenv + 1, sizeof *env);
  int oom = !env;
  for (size_t i = 0; env && i < nenv && !oom; i++) oom |= !(env[i] = strdup(s->env[i]));
  pthread_mutex_unlock(&rt_lock);

  int rc = oom ? (snprintf(why, wn, "out of memory"), 500) : exec_run(id, dir, uid, gid, cwd, cmd, env, client, json, why, wn);
  free_env(env);
  return rc;
}
