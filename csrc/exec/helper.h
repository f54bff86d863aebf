/* porter-sandbox-exec: porter-sandboxd's helper for starting (--launch) and joining (--join)
 * sandboxes. A program of its own so that each start or exec loads only libc, and so that the
 * namespace work happens in a single-threaded process, never in the threaded server. */
#ifndef HELPER_H
#define HELPER_H

#include <sys/types.h>

#define EXIT_SETUP 125 /* could not set the sandbox up or join it */

/* ---- credentials and privileges (creds.c) ---- */
/* Becomes uid:gid inside the sandbox's user namespace; root keeps Docker's default
 * capabilities, anyone else none; no_new_privs and the seccomp filter either way. 0 on success. */
int creds_become(uid_t uid, gid_t gid);
/* What a helper outside the sandbox becomes (slirp4netns's proxy, resolver and forwarder,
 * s3fs): uid:uid and no groups, no capability but keep_cap (-1: none) and none to be had again
 * (the bounding set emptied, no_new_privs), killed when its parent ends. 0, or -1 (the parent
 * is gone already, or a step failed). */
int creds_helper(uid_t uid, int keep_cap);

/* Writes "inside outside count" to /proc/pid/<kind> (uid_map or gid_map). 0 or -1 with errno. */
int write_idmap(pid_t pid, const char *kind, unsigned long inside, unsigned long outside, unsigned long count);
/* A user namespace (its fd) whose ids inside..inside+count-1 are outside.. on the host, made by
 * us (so ours, not outside's): for an idmapped mount that shows files owned by the former as
 * owned by the latter, or, with_net, owning a new network namespace (its fd in *net_fd). -1
 * with errno. */
int make_userns(unsigned long inside, unsigned long outside, unsigned long count, int with_net, int *net_fd);
/* porter-sandbox-exec --idmap-probe DIR FROM TO: 0 when DIR's filesystem takes an idmapped
 * mount (FROM.. shown as TO..), else 1 with why on stderr. */
int idmap_probe(const char *dir, unsigned long from, unsigned long to);

/* ---- a registered S3 bucket's s3fs (s3fs.c) ---- */
/* porter-sandbox-exec --s3fs UID URL BUCKET rw|ro, with the server's mounted FUSE fd as 3 */
int s3fs_main(int argc, char **argv);
/* what runs when s3fs runs fusermount: hands it PORTER_FUSE_FD over _FUSE_COMMFD */
int fusermount_stand_in(int argc, char **argv);

/* Moves us into the cgroup directory dir (every process we start after stays there). */
int join_cgroup(const char *dir);
/* Installs the sandbox's seccomp filter (seccomp.c); no_new_privs must be set. */
int seccomp_confine(void);

/* ---- the root file system (rootfs.c) ---- */
/* Opens the directory at path below rootfd, resolving symlinks as if rootfd were /, creating
 * missing directories (mode 0755, owned by uid:gid). O_PATH fd, or -1 with errno. */
int root_mkdirs(int rootfd, const char *path, uid_t uid, gid_t gid);
/* Makes name at the top of the root a real directory (a symlink or file there is replaced). */
int root_topdir(int rootfd, const char *name, uid_t uid, gid_t gid);
/* Mounts src (bind, recursive) onto the directory fd refers to; through userns's idmapping
 * (make_userns) unless it is -1. */
int bind_onto_fd(const char *src, int fd, int readonly, int userns);
/* the same, refusing a src whose path holds a symlink anywhere (one a sandbox could have made) */
int bind_nofollow_onto_fd(const char *src, int fd, int readonly, int userns);
/* Populates a fresh tmpfs at the directory fd with the few device nodes a workload needs. */
int make_dev(int devfd, uid_t uid, gid_t gid);
/* A root of the host's system directories (no /root, /home, /var, state dirs; /etc without
 * its secrets) on the tmpfs at rootfd. */
int make_host_root(int rootfd, uid_t uid, gid_t gid);

/* Writes "error <msg>" on the status fd (if any) and stderr. */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int status_fd;

/* ---- the sandbox's network (network.c) ---- */
#define HELPER_UID 65534 /* nobody: slirp4netns, the proxy, resolver and forwarder */
#define SANDBOX_RESOLV "nameserver 10.0.2.3\n"   /* slirp4netns's DNS forwarder */
#define FILTERED_RESOLV "nameserver 127.0.0.53\n" /* ours, for an allow list (dns.c) */
typedef struct net_plan {
  const char *const *cgroups; /* every helper joins them: what it carries, the sandbox pays for */
  int ncgroups;
  int slirp, allow_private;   /* the launcher's --slirp and --allow-private */
  char **allow;               /* --allow rules */
  int nallow;
  int proxy_port;             /* --egress-proxy, or 0 */
  int forward_port, forward_fd; /* --forward, and the host's listener for it */
} net_plan;
/* Makes the sandbox's network namespace and moves us into it, installs its rules, starts its
 * helpers and slirp4netns (whose ready fd goes in *slirp_ready, or -1). 0, or -1 reported. */
int net_setup(const net_plan *p, int *slirp_ready);
/* Waits for slirp4netns to be up and closes its ready fd. 0, or -1 reported. */
int net_slirp_ready(int ready);

/* ---- egress (egress.c, proxy.c) ---- */
struct sockaddr;
int egress_is_address(const char *rule);
int egress_name_allowed(const char *host, char **rules, int n);
/* by_name: the name was allowed by a name rule. What is never allowed, whatever the rules say,
 * the sandbox's nftables rules refuse (netfilter.c), for the proxy as for the sandbox. */
int egress_addr_allowed(const struct sockaddr *sa, int by_name, char **rules, int n);
/* Serves HTTP (CONNECT and absolute-URI requests) and SOCKS5 on the listening socket lfd,
 * connecting out from the network namespace we are in; never returns. */
void proxy_serve(int lfd, char **rules, int n);
/* The sandbox's resolver for an allow list (dns.c), on the UDP socket fd; never returns. Its
 * upstream socket is its own, made as nobody: the rules let only nobody's packets reach
 * slirp4netns's forwarder. */
struct nft_lib; /* nftlib.h: loaded by the caller while it still sees the host's libraries */
void dns_serve(int fd, const struct nft_lib *nft, char **rules, int n);
/* Forwards what connects to lfd (the host's 127.0.0.1:port) to port on our own loopback. */
void forward_serve(int lfd, int port);

/* ---- egress at the network layer (netfilter.c) ---- */
typedef struct netfilter_spec {
  const char *host4, *host6; /* the host's own addresses, ", A, B" (netfilter_host_addrs) */
  int allow_private;         /* private ranges reachable (--allow-private-egress) */
  int allow_list;            /* rules is an allow list: nothing else goes out */
  char **rules;
  int nrules;
  int proxy_uid;             /* the egress proxy's and resolver's uid, exempt from the list (they
                                check names), or -1 */
} netfilter_spec;
/* The host's interface addresses as two lists for netfilter_spec (malloc'd). 0 or -1. */
int netfilter_host_addrs(char **v4, char **v6);
/* The ruleset's text (malloc'd; NULL when out of memory), and installing it in the network
 * namespace we are in. */
char *netfilter_ruleset(const netfilter_spec *s);
int netfilter_install(const char *rules);

/* ---- pid 1's exec service (control.c) ---- */
int control_listen(void); /* binds ../ctl.sock (we are in the root's directory); the fd or -1 */
void control_loop(int lfd, pid_t workload); /* reaps, serves execs, ends with the workload */

int launch_main(int argc, char **argv);

#endif
