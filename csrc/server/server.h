/* porter-sandboxd: the Porter Sandbox API on one machine. */
#ifndef SERVER_H
#define SERVER_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_JSON_BODY (1u << 20)
#define PAGE_SIZE 50
#define MAX_EXEC_OUTPUT (8u << 20)  /* bytes per stream that one exec returns */

/* ---- configuration (daemon.c) ---- */
typedef struct named_path {
  char *name, *path;
} named_path;

typedef struct srv_config {
  char *state_dir;
  char *image_dir;                   /* the image store (images.c) */
  char *api_key;
  named_path images[64];
  int nimages;
  named_path env_groups[64];
  int ngroups;
  named_path buckets[16];            /* --bucket: local directories standing in for buckets */
  int bucket_ro[16];                 /* registered read_only */
  dev_t bucket_dev[16];              /* a writable one's filesystem: its size bound */
  int nbuckets;
  unsigned long uid_base, uid_count; /* the owner on disk of the sandboxes' files (images, volumes) */
  unsigned long run_base, run_slots; /* the ids sandboxes run as: slots of 65536 (uidrange.c); 0:
                                        uid_base's, shared (no idmapped mounts here) */
  char *registry_auth;               /* Docker's config.json, for skopeo --authfile */
  int fallback_none;                 /* --image-fallback none: an image that cannot be had fails */
  unsigned long pids_max;            /* per sandbox */
  unsigned long long memory_max;     /* bytes, per sandbox, no swap */
  unsigned long long disk_max;       /* bytes of /tmp and writable layer together, per sandbox */
  unsigned long long volume_size;    /* bytes of a new volume's filesystem; 0: plain directories */
  unsigned long long snapshot_space; /* bytes all snapshots together may take */
  unsigned long long log_space;      /* bytes the log files of all sandboxes may take (retention.c) */
  long long max_ended;               /* ended sandboxes kept (retention.c) */
  unsigned long long volume_space;   /* bytes the live volumes' filesystems may add up to */
  unsigned long long image_space;    /* bytes all unpacked images together may take */
  unsigned long max_sandboxes;       /* running at once (admit.c) */
  unsigned long long memory_commit;  /* their --memory-max together */
  unsigned long long image_max_size; /* bytes one image may unpack to */
  int allow_private_egress;          /* sandboxes may reach private ranges (10/8, ...) */
  unsigned long cpu_weight;          /* cgroup v2's scale: 100 is the default share */
  char listen_host[128];             /* its HOST, a Host header we answer to (clients.c) */
  char *allow_hosts[16];             /* --allow-host: Host names answered besides loopback's */
  int nallow_hosts;
  char *allow_origins[16];           /* --allow-origin: web origins answered */
  int nallow_origins;
  long max_log_lines;                /* kept per sandbox */
  unsigned long long max_log_bytes;  /* of lines kept per sandbox */
} srv_config;
extern srv_config cfg;
void default_state_dir(char *out, size_t n);
int image_main(int argc, char **argv); /* imagecmd.c: porter-sandboxd image ... */

/* ---- per-request state (http.c) ---- */
typedef struct req {
  const struct route *route;
  char params[2][256];
  int authorized;
  /* buffered JSON body */
  char *body;
  size_t len, cap;
  int too_big;
  char bad_query[160]; /* a query argument with a NUL or control character */
  int bad_framing;     /* two Content-Lengths, or one with Transfer-Encoding */
  int foreign;         /* from a web page, or to a Host we do not answer to (clients.c) */
  char refusal[320];   /* why, then */
  /* what the route keeps for a streamed body (files.c's upload), freed by its end hook */
  void *route_ctx;
} req;

typedef enum MHD_Result (*handler_fn)(struct MHD_Connection *c, req *r);
/* From api/openapi.yaml (scripts/gen_contract.lua): op_id, OPW_<op> = id, method, path, params;
 * OPT_<op> = the query, body and answer types. */
#include "contract_gen.h"

typedef struct route {
  const char *op;      /* operationId */
  const char *method;
  const char *pattern; /* the contract's path; each "{name}" captures one segment */
  int nparams;
  const ct_type *query;
  ct_body body;
  const ct_type *body_type; /* body_object() checks a JSON body against it */
  const ct_type *answer;
  int octets;
  handler_fn fn;
  /* streamed bodies: begin at the headers, chunk per piece of body, end when the request is
   * done, however it ended (frees route_ctx) */
  void (*begin)(struct MHD_Connection *c, req *r);
  void (*chunk)(req *r, const char *data, size_t n);
  void (*end)(req *r);
} route;
extern const route routes[OP__COUNT];
/* The route of method and path, its captures in params; NULL if none (*method_mismatch: the
 * path is known, for another method). */
const route *route_match(const route *table, size_t n_routes, const char *method, const char *path, char params[2][256],
                         int *method_mismatch);

enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, json_t *v); /* takes v */
enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...);
enum MHD_Result reply_empty(struct MHD_Connection *c, unsigned status);
/* Parses the body as a JSON object (an empty body is {}) that the route's body type accepts;
 * on failure replies 400 and returns NULL. */
json_t *body_object(struct MHD_Connection *c, req *r, enum MHD_Result *sent);
const char *query_arg(struct MHD_Connection *c, const char *key);
int http_serve(const char *host, int port, int *bound_port); /* starts MHD; 0 on success */
void http_stop(void);

/* ---- validation (validate.c) ---- */
/* Checks obj against the allowed fields; returns an error message or NULL. */
/* NULL if body (a JSON object) is a value of t, else why not, naming the field by its path */
const char *contract_check(json_t *body, const ct_type *t, char *buf, size_t n);
/* An egress rule: hostname, *.wildcard, IP literal or CIDR range. */
int egress_rule(const char *s);

/* ---- utilities (util.c) ---- */
int64_t now_ms(void);
void fmt_time(int64_t ms, char *buf, size_t n); /* RFC 3339 UTC with milliseconds */
int parse_time(const char *s, int64_t *ms);   /* RFC 3339 -> epoch ms; 0 on error */
void new_id(const char *prefix, char *out, size_t n);
/* snprintf for paths: -1 (ENAMETOOLONG) rather than a silently shortened path */
int pathf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int mkdir_p(const char *path, mode_t mode);
int rm_rf(const char *path);
/* 1 if dir is a filesystem of its own (another one than its parent's) */
int is_mount_point(const char *dir);
/* "512M", "1G", "1048576" in bytes; 0 when it is none of these */
unsigned long long parse_size(const char *s);
/* Replaces invalid UTF-8 with U+FFFD so that output of any bytes can go into JSON. */
json_t *json_bytes(const char *p, size_t n);
/* Length of the valid UTF-8 sequence at p (n bytes available), or 0. */
size_t utf8_seq(const unsigned char *p, size_t n);
/* How many bytes of p[0..n) are '\n' (a word at a time: log blocks are counted so). */
size_t count_newlines(const char *p, size_t n);
/* How many leading bytes of text are valid UTF-8 without NUL. */
size_t utf8_valid_prefix(const char *text, size_t n);
/* text with every invalid byte (and NUL) as U+FFFD, into out (room for 3n); its length. */
size_t utf8_sanitize(const char *text, size_t n, char *out);

/* ---- the store (db.c): SQLite behind its own lock; binds by fmt: 's' text, 'i' int64 ---- */
int db_open(const char *path);
void db_close(void);
int db_exec(const char *sql, const char *fmt, ...); /* SQLITE_DONE / error code */
/* The rows of a query, each an array of its columns (string, integer or null); NULL on error. */
json_t *db_rows(const char *sql, const char *fmt, ...);
json_t *db_rows_binds(const char *sql, json_t *binds); /* binds: strings, integers, nulls */
/* fn(row) of every row, as an array (taking rows; NULL rows give an empty array) */
json_t *db_map(json_t *rows, json_t *(*fn)(json_t *row));
/* fn(ctx) in one transaction (committed if it answers 0), under the store's lock; it may use
 * db_prepare for statements it runs many times, and finalizes them itself. */
int db_batch(int (*fn)(void *ctx), void *ctx);
sqlite3_stmt *db_prepare(const char *sql); /* inside db_batch only */
/* Runs sql with binds, calling fn on each row (at st) while it answers 0; 0, or -1 (the
 * query failed, or fn's answer). */
int db_each(const char *sql, json_t *binds, int (*fn)(sqlite3_stmt *st, void *ctx), void *ctx);
int db_update(const char *sql, const char *fmt, ...); /* rows changed, -1 on error */

/* ---- the bounds of history (retention.c): oldest ended sandboxes go past them ---- */
int retention_init(void);                /* the log files' size, from the store: 0, or -1 */
void retention_logged(long long bytes);  /* bytes appended to a log file */
/* Prunes what is past the bounds; ended says a sandbox has just ended (the count may be past). */
void retention_check(int ended);

/* ---- logs (logs.c) ---- */
/* Removes a pruned sandbox's log file and counters. */
void logs_forget(const char *id);
/* Moves the lines of a store from before log blocks (a row a line) into blocks; 0, or -1. */
int logs_upgrade(void);
void log_line(const char *sandbox_id, const char *level, const char *exec_id, const char *line, size_t n);
/* The lines of a workload's output text[0..n) in one transaction, each cut at max bytes; the
 * bytes it took: up to the last newline (a line in the making stays), or all of them if final. */
size_t log_text(const char *sandbox_id, const char *level, const char *text, size_t n, size_t max, int final);
/* Splits text into lines and logs each. */

/* ---- sandbox specs (spec.c) ---- */
/* NULL if spec may be run, else why not (in buf or static), naming the field. */
const char *sandbox_spec_check(json_t *spec, char *buf, size_t n);
/* A Range header against a file of size bytes: RANGE_OK with [*start, *start + *len), or why not. */
enum { RANGE_OK, RANGE_UNSUPPORTED, RANGE_MALFORMED, RANGE_OUTSIDE };
int range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *len);

/* ---- exec output on disk (spool.c) ---- */
typedef struct spool {
  char *mem;     /* the bytes while they fit in SPOOL_MEM (spool.c), else NULL */
  int fd;        /* then an unlinked file in the state dir, else -1 */
  size_t size;
  int truncated; /* more came than the cap */
  int failed;    /* a write failed (disk full): size is what was kept */
} spool;
void spool_open(spool *s); /* empty, in memory: nothing to fail */
void spool_close(spool *s);
void spool_add(spool *s, const char *p, size_t n, size_t cap);
ssize_t spool_read(const spool *s, size_t at, char *buf, size_t n);
/* Writes the ExecResponse JSON for stdout so and stderr se into out. */
int spool_exec_json(spool *out, const spool *so, const spool *se, int code);
/* Queues out's content as the JSON answer (taking its descriptor). */
enum MHD_Result reply_spool(struct MHD_Connection *c, unsigned status, spool *out);
int spool_put(spool *out, const char *p, size_t n);        /* 0, or -1 once it failed */
int spool_put_string(spool *out, const char *p, size_t n); /* as a JSON string (quoted) */
size_t json_escape(const char *p, size_t n, char *out); /* a JSON string's inside; out has room for 6n */
/* A GetSandboxLogsResponse of the sandbox's lines since since_ms (the last limit of them, if
 * limit > 0), oldest first, into out. 0 or -1. */
int logs_json(const char *sandbox_id, int64_t since_ms, long limit, spool *out);
/* Logs the lines of s, each cut at 64 KiB. */
void log_spool(const char *sandbox_id, const char *level, const char *exec_id, const spool *s);

/* ---- sandbox records (records.c): what the runtime reports, what the API answers ---- */
void sandbox_set_phase(const char *id, const char *phase, int has_exit, int exit_code, int started);
json_t *sandbox_status(const char *id); /* NULL if unknown */
/* A db_each row function: the StatusResponse of a row of STATUS_COLS, as JSON text appended to
 * ctx (a spool); the one place that shape is made. */
int status_put(sqlite3_stmt *st, void *ctx);
/* the first column of each row, as an array (taking rows) */
json_t *first_column(json_t *rows);
/* Called after a change to the sandboxes' records is committed (a new one, a phase): marks
 * of list pages made before it no longer hold. */
void records_changed(void);
unsigned long records_generation(void);

/* ---- list pages (pages.c): where a page ended, for the next one to start from ---- */
uint64_t page_key(const char *sql, json_t *binds);
/* 1 with the seq the page ended at, if a mark of that list's page made at gen is kept */
int page_mark_find(uint64_t key, long page, unsigned long gen, long long *last_seq);
void page_mark_keep(uint64_t key, long page, unsigned long gen, long long last_seq);
#define STATUS_COLS "id, name, image, spec, tags, phase, exit_code, created_ms, started_ms, host, finished_ms"
#define LIVE_PHASES "('queued','creating','running')"

/* ---- sandboxes (sandboxes.c) and volumes (volumes.c) ---- */
json_t *volume_attached(const char *volume_id); /* ids of live sandboxes that mount it */
void sandboxes_recover(void); /* after a restart: what was live is failed */

/* ---- child processes (proc.c) ---- */
/* Starts argv with stdin /dev/null, stdout out, stderr err, and extra (if >= 0) as fd 3. */
pid_t proc_spawn(char *const argv[], char *const envp[], int out, int err, int extra);
pid_t proc_spawn4(char *const argv[], char *const envp[], int out, int err, int extra, int extra4); /* and fd 4 */
int proc_wait(pid_t pid); /* exit code, 128+signal, -1 */
/* Runs argv to its end, keeping the last bytes of its stdout and stderr; its exit code. */
int proc_run(char *const argv[], char *out, size_t on, char *err, size_t en);
/* A helper program installed next to porter-sandboxd. */
const char *helper_path(const char *name, char *out, size_t n);

/* ---- images (imageref.c, images.c, archive.c) ---- */
typedef struct image_ref {
  char registry[256], repository[600], tag[130], digest[80];
  char full[1200]; /* registry/repository[:tag][@digest] */
  int loopback;    /* spoken to over plain HTTP, as Docker does */
} image_ref;
/* Parses a reference as Docker does; on failure why says what is wrong with it. */
int image_ref_parse(const char *in, image_ref *out, char *why, size_t wn);

typedef struct image_info {
  int host;            /* the host's system directories, read-only */
  char rootfs[4096];   /* otherwise the lower layer of the sandbox's root */
  json_t *config;      /* the image config's "config": Env, Entrypoint, Cmd, WorkingDir, User */
  unsigned uid, gid;   /* User, resolved in the image's /etc/passwd */
  char home[1024];
  char user_error[600]; /* User named nobody the image knows */
  int hold;             /* store_hold's lock on a store image, or -1 (image_info_free lets go) */
} image_info;
/* "host", a --image NAME, or a reference from the store, pulled on first use (one pull however
 * many sandboxes wait for it). */
int image_resolve(const char *image, image_info *out, char *why, size_t wn);
void image_info_free(image_info *info);
int store_init(void);
int store_pull(const image_ref *ref, char *why, size_t wn);
int store_import(const char *archive, const char *name, char *why, size_t wn);
json_t *store_list(void); /* [{reference, id, size}] */
/* --image-space SIZE, --image-max-size SIZE (the server's and `image`'s alike): 1 when a (with
 * its value v) was one of them, -1 when it was but v is not a size, else 0 */
int store_option(const char *a, const char *v); /* --image-dir DIR too; 2 for --shared-images, which takes no value */
/* cfg.image_dir unless given: STATE/images for a server given --state-dir, else the user's cache */
void store_default_dir(int state_given);
int store_hold(const char *rootfs); /* a live sandbox's shared lock on its image: fd or -1 */
int store_remove(const char *ref, char *why, size_t wn);
int archive_is_oci(const char *path);
int archive_image_name(const char *path, char *out, size_t n);

/* ---- limits (cgroup.c) ---- */
/* Creates the sandbox's cgroup directories (out: up to 3) with the configured limits; how many. */
int cgroup_create(const char *id, char out[][512], char *why, size_t wn);
void cgroup_remove(const char *id); /* kills what is left in them, then removes them */
int cgroup_rename(const char *from, const char *to);
int cgroup_dirs(const char *id, char out[][512]); /* its directories, made or not; how many */
int cgroup_oom_kills(const char *id); /* processes the OOM killer took in the sandbox */

/* ---- volume filesystems (voldisk.c) ---- */
/* The server's own mount namespace, private: called before any thread exists. */
int voldisk_private_mounts(void);
/* A new volume's image (--volume-size), made and mounted on its data directory (which exists);
 * nothing with --volume-size 0. */
int voldisk_create(const char *id, char *why, size_t wn);
/* Mounts a volume's image if it has one and it is not mounted yet. */
int voldisk_mount(const char *id, char *why, size_t wn);
void voldisk_unmount(const char *id);
/* A volume's files gone from the host: its filesystem unmounted, its directory removed. */
void voldisk_remove(const char *id);
/* The bytes its image is allotted (its size; 0 for none). */
unsigned long long voldisk_allotted(const char *id);
/* Where its files are: its filesystem's mount point, or a plain directory. */
void volume_data_dir(const char *id, char *out, size_t n);
/* 1 if the volume's files may be used: a plain directory, or its filesystem mounted (now, if it
 * was not); never the bare directory under an image that is not mounted. */
int voldisk_ready(const char *id);
/* Every live volume's filesystem mounted (at start); warns of those that cannot be. */
void volumes_mount_all(void);

/* ---- warm launchers (pool.c) ---- */
typedef struct warm {
  pid_t pid;
  int out, err, status, config; /* our ends of its pipes */
  char cgroup_id[48];           /* the name its cgroups have until a sandbox takes them */
} warm;
void pool_start(void);
/* A launcher already in a cgroup of its own, with its network up: renamed to id's cgroups. */
int pool_take(const char *id, warm *out);
/* Ends a warm launcher and closes its pipes (its cgroups are the caller's: a taken one's are
 * the sandbox's). */
void pool_release(warm *w);
void pool_stop(void);

/* ---- runtime (runtime.c): sandboxes as processes in namespaces of their own ---- */
/* Spawns the launcher; host_fd (or -1) is the listener of the sandbox's exposed port, which it
 * takes, closed whatever happens. */
int runtime_start(const char *id, const char *name, json_t *spec, int host_fd);
/* A listener on the host's 127.0.0.1:port, or on a free port when that one is taken (as
 * `docker run -p` gives each container its own); *got is the port. The fd or -1. */
int runtime_host_listener(int port, int *got);

/* ---- which clients the API answers (clients.c) ---- */
/* Host (a header's value, port and all) is an address, a loopback name, listen_host or one of
 * names; origin is NULL or one of origins. */
int api_host_allowed(const char *host, const char *listen_host, char *const *names, int n);
int api_origin_allowed(const char *origin, char *const *origins, int n);
/* Why a request with these headers is refused (in buf), or NULL. */
const char *api_client_refusal(const char *host, const char *origin, char *buf, size_t n);
int runtime_terminate(const char *id);  /* 1 if it was live */
int runtime_live(const char *id);       /* running (exec possible) */
int runtime_count(void);
/* Runs argv inside the sandbox; answers 0 and fills out/err/code, or an HTTP status. */
/* Runs argv in the sandbox; 0 with *json the ExecResponse (on disk), else an HTTP status and
 * why. */
/* client: the requester's socket, watched: if it goes away first, the command is killed (499) */
int runtime_exec(const char *id, json_t *argv, int client, spool *json, char *why, size_t n);
int runtime_tmpdir(const char *id, char *out, size_t n, unsigned long *uid_base); /* and the ids it runs as */

/* ---- the launcher's command line (launchargs.c; its flags: launch_flags.h) ---- */
typedef struct argv_buf {
  char **v; /* NULL-terminated */
  int n, cap, oom;
} argv_buf;
void argv_add(argv_buf *a, const char *s);
void argv_addf(argv_buf *a, const char *fmt, unsigned long v);
void argv_free(argv_buf *a);
typedef struct launch_early {
  int prestart;            /* a warm launcher: the rest comes on fd 4 */
  int network;             /* outbound network (slirp4netns) */
  int proxy_port;          /* the egress proxy's port, or 0 */
  json_t *allow;           /* the allow list, or NULL */
  int forward_port;        /* the sandbox's exposed port, or 0 */
  const char (*cgroups)[512];
  int ncgroups;
} launch_early;
/* The helper's path and the options a launcher starts with. */
void launch_early_args(argv_buf *a, const launch_early *e);

/* ---- room to run (admit.c) ---- */
typedef struct admit_node {
  unsigned long long mem;
  const int *cancel; /* set (then admit_wake) to stop waiting */
  int admitted, linked;
  struct admit_node *next;
} admit_node;
/* A sandbox of mem bytes joins the line, in the order the requests come: 0, or -1 when too
 * many wait already. */
int admit_join(admit_node *n, unsigned long long mem, const int *cancel);
/* Until its turn and room under --max-sandboxes and --memory-commit: 0 once it holds room, -1
 * if *cancel was set meanwhile. */
int admit_wait(admit_node *n);
void admit_leave(admit_node *n); /* out of the line, its room given back; any time, once */
void admit_wake(void);           /* after setting a waiter's cancel */

/* ---- the ids sandboxes run as (uidrange.c) ---- */
/* Refuses a run range that overlaps an account, a subordinate range or the store's ids. */
int uidrange_check(char *why, size_t wn);
/* A slot of its own for a sandbox (its host ids from *base), -1 when none is free; without a run
 * range, -1 and *base is uid_base. */
long uidrange_take(unsigned long *base);
void uidrange_give(long slot);
void runtime_stop_all(void);

void runtime_ttl_tick(void);

/* ---- volumes (volumes.c, vfs.c, files.c) ---- */
int volume_exists(const char *id); /* live */
/* a live volume's kind, in one query: what the files API asks before each request */
enum { VOLUME_NONE, VOLUME_DISK, VOLUME_OBJECT };
int volume_kind(const char *id);

/* Handlers. */
enum MHD_Result h_healthz(struct MHD_Connection *c, req *r);
enum MHD_Result h_readyz(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_create(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_list(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_counts(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_lookup(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_get(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_delete(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_logs(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_exec(struct MHD_Connection *c, req *r);
enum MHD_Result h_snapshot_create(struct MHD_Connection *c, req *r);
enum MHD_Result h_snapshot_list(struct MHD_Connection *c, req *r);
enum MHD_Result h_snapshot_delete(struct MHD_Connection *c, req *r);
/* ---- the workload (workload.c) ---- */
/* The environment: the image's, PATH/HOME/HOSTNAME if it lacks them, the egress proxy's, the
 * env groups in order, the spec's env; later wins. NULL when out of memory. */
char **workload_env(json_t *spec, const char *name, const image_info *img, int proxied);
/* The launcher's "--idle" or "-- argv...": command replaces the ENTRYPOINT, args the CMD. */
int workload_command(argv_buf *a, json_t *spec, json_t *config, char *why, size_t wn);

/* ---- the exec client (execclient.c) ---- */
/* Runs cmd in sandbox id (its dir, ids, cwd and env) through its pid 1; its ExecResponse into
 * json. 0, or an HTTP status with why: 409 the sandbox ended, 499 the client went away. */
int exec_run(const char *id, const char *dir, unsigned uid, unsigned gid, const char *cwd, json_t *cmd, char **env,
             int client, spool *json, char *why, size_t wn);

/* ---- buckets (buckets.c): object volumes' storage ---- */
/* Registers --bucket NAME=DIR[,read_only]: DIR made absolute, without symlinks; a writable one
 * must be a filesystem of its own. 0, or -1 with why printed. */
int bucket_register(const char *arg);
/* Checks an object volume's VolumeObjectSpec (bucket registered, prefix, access) and makes its
 * directory, owned by the sandboxes' root. NULL, or why not (in buf). */
const char *bucket_volume_prepare(json_t *object, char *buf, size_t n);
/* The directory an object volume's VolumeObjectSpec (JSON text) names, and whether sandboxes
 * mount it read-only. 0, or -1 with why (its bucket not registered, or no longer bounded). */
int bucket_volume_dir(const char *object_json, char *out, size_t n, int *read_only, char *why, size_t wn);
/* An object volume's VolumeObjectSpec as JSON text (in out), or NULL: a disk volume, or none. */
const char *volume_object(const char *id, char *out, size_t n);

/* What a sandbox started from snapshot id needs: the tar, its SHA-256 and the image it was
 * taken on (any of them may be NULL). 0, or -1 with why (no such snapshot, not ready). */
int snapshot_source(const char *id, char *tar, size_t tn, char sha[65], char *image, size_t in, char *why, size_t wn);
enum MHD_Result h_volume_list(struct MHD_Connection *c, req *r);
enum MHD_Result h_volume_create(struct MHD_Connection *c, req *r);
enum MHD_Result h_volume_lookup(struct MHD_Connection *c, req *r);
enum MHD_Result h_volume_get(struct MHD_Connection *c, req *r);
enum MHD_Result h_volume_delete(struct MHD_Connection *c, req *r);
enum MHD_Result h_files_list(struct MHD_Connection *c, req *r);
enum MHD_Result h_files_read(struct MHD_Connection *c, req *r);
enum MHD_Result h_files_write(struct MHD_Connection *c, req *r);
void files_write_begin(struct MHD_Connection *c, req *r);
void files_write_chunk(req *r, const char *data, size_t n);
void files_write_end(req *r);
enum MHD_Result h_files_move(struct MHD_Connection *c, req *r);

/* ---- confined file operations (vfs.c) ---- */
/* Splits a volume path into components, refusing '..'; 0 on success, else fills why. */
int vfs_split(const char *path, char comps[][256], int max, int *n, char *why, size_t wn);
/* Opens the directory at comps[0..n) below root (no symlinks followed); -1 + errno. With
 * create, missing directories are made. */
int vfs_open_dir(int rootfd, char comps[][256], int n, int create);
json_t *vfs_list(int dirfd, const char *search, int budget, int *truncated);

#endif
