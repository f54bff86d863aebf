/* porter-sandboxd: the Porter Sandbox API on one machine. What every part of it shares: the
 * configuration and the utilities; each other module has a header of its own, included where
 * it is used. */
#ifndef SERVER_H
#define SERVER_H

#include <jansson.h>
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

#define MAX_CONNECTIONS 8000u /* open at once, each with a thread of its own (http.c) */

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
  unsigned max_connections;          /* open at once (http.c): MAX_CONNECTIONS unless files are short */
  unsigned long sandbox_nofile;      /* RLIMIT_NOFILE of a sandbox's processes: the server's own,
                                      * as it was before it raised it for their pipes */
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

#endif
