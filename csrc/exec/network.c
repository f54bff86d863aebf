/* The sandbox's network, made by the launcher before the sandbox exists: its namespace, the
 * egress rules in it (netfilter.c), the helpers that serve it from inside (proxy, resolver, port
 * forward) and slirp4netns, which carries it to the host's network from outside. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"
#include "nftlib.h"

#define SLIRP_MAX_FDS 512 /* slirp4netns holds a socket per connection it carries */

static const net_plan *plan;
static int host_netns = -1; /* open only while the network is being made */
static int net_userns = -1; /* the namespace's owner (make_namespace), for slirp4netns */

/* A helper's fork: in the sandbox's cgroups, gone with us. 0 in the child, its pid here, or -1. */
static pid_t fork_helper(const char *what) {
  pid_t pid = fork();
  if (pid < 0) return report("cannot start the %s: %s", what, strerror(errno)), -1;
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (int i = 0; i < plan->ncgroups; i++) join_cgroup(plan->cgroups[i]);
  }
  return pid;
}

/* slirp4netns's own /dev/net/tun: the host's may be root's alone (0600), and slirp4netns opens it
 * as the root of its user namespace, which is nobody here. A node of the same device, nobody's,
 * on a tmpfs in a mount namespace of its own; what the device lets it do, the namespace decides. */
static int own_tun(void) {
  if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount("tmpfs", "/dev/net", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=4k,mode=0755") != 0 ||
      mknod("/dev/net/tun", S_IFCHR | 0600, makedev(10, 200)) != 0 || chown("/dev/net/tun", HELPER_UID, HELPER_UID) != 0)
    return -1;
  return 0;
}

/* slirp4netns for our network namespace, run in the host's, where its connections go out: it is
 * the sandbox's only way off its namespace. It runs as the root of the namespace's own user
 * namespace (make_namespace), which is nobody on the host: every capability it needs to start,
 * over that namespace alone. Then it confines itself (a mount namespace of its own with nothing
 * of the host's but /etc and /run, no capability but NET_BIND_SERVICE, a seccomp filter). It
 * holds a bounded number of descriptors whatever the sandbox asks of it, and is gone with us
 * (its exit fd is ours). Returns its ready fd. */
static int spawn_slirp(void) {
  int ready[2], ex[2];
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(ex, O_CLOEXEC) != 0) return report("cannot make a pipe: %s", strerror(errno)), -1;
  pid_t self = getpid();
  /* in the sandbox's cgroups: what the sandbox makes it carry is the sandbox's to pay */
  pid_t pid = fork_helper("slirp4netns");
  if (pid < 0) return -1;
  if (pid == 0) {
    /* ours for slirp4netns to join (by descriptor: nobody may not open a root process's), then
     * the host's network first: once in the user namespace, we could not go back to it */
    int ours = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (getppid() != self || ours < 0 || setns(host_netns, CLONE_NEWNET) != 0) _exit(1);
    struct rlimit nofile = {SLIRP_MAX_FDS, SLIRP_MAX_FDS};
    if (setrlimit(RLIMIT_NOFILE, &nofile) != 0 || own_tun() != 0) _exit(1);
    if (setgroups(0, NULL) != 0 || setns(net_userns, CLONE_NEWUSER) != 0 || setresgid(0, 0, 0) != 0 ||
        setresuid(0, 0, 0) != 0)
      _exit(1);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* cleared by the change of uid */
    if (getppid() != self) _exit(1);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0), dup2(null, 1), dup2(null, 2);
    dup2(ready[1], 3), dup2(ex[0], 4), dup2(ours, 5);
    syscall(SYS_close_range, 6, ~0u, 0);
    /* it may join our network namespace: the namespace's owner is its user namespace */
    char *argv[] = {"slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox",
                    "--enable-seccomp", "--ready-fd=3", "--exit-fd=4", "--netns-type=path", "/proc/self/fd/5", "tap0", NULL};
    execvp(argv[0], argv);
    _exit(127);
  }
  close(ready[1]);
  close(ex[0]); /* ex[1] stays open as long as we live */
  return ready[0];
}

/* Waits for slirp4netns to say it is up, or to end (its end of the pipe closes): a state, not a
 * time. A machine making thousands of network namespaces at once (each takes the kernel's rtnl
 * lock, as their teardown does) can take many seconds to give it its device, and a sandbox that
 * starts late beats one that fails; the bound is only against a slirp4netns that hangs. */
#define SLIRP_UP_LIMIT_S 120
int net_slirp_ready(int ready) {
  struct pollfd p = {ready, POLLIN, 0};
  char b;
  int polled;
  while ((polled = poll(&p, 1, SLIRP_UP_LIMIT_S * 1000)) < 0 && errno == EINTR) {
  }
  ssize_t got = polled == 1 ? read(ready, &b, 1) : -1;
  close(ready);
  if (got == 1) return 0;
  if (polled == 0) return report("slirp4netns was not up after %d s", SLIRP_UP_LIMIT_S), -1;
  return report("slirp4netns exited before it was up"), -1;
}

/* What the egress proxy, the resolver and the port forward become once they hold their sockets: a
 * root of their own (a tmpfs in a mount namespace of their own, holding copies of the host files
 * named in keep and nothing else), nobody, no way to gain privileges, gone with us. The proxy
 * parses what untrusted code sends: taken over, it would find nothing of the host's to read.
 * Returns only if all of it was done. */
static void become_helper(const char *const keep[], const char *resolv, int net_admin) {
  if (host_netns >= 0) close(host_netns);
  if (net_userns >= 0) close(net_userns);
  int null = open("/dev/null", O_RDWR);
  dup2(null, 0), dup2(null, 1), dup2(null, 2);
  char *copy[8] = {0};
  size_t len[8] = {0};
  for (int i = 0; i < 8 && keep[i]; i++) { /* read before the host's files are out of sight */
    int fd = open(keep[i], O_RDONLY | O_CLOEXEC);
    copy[i] = fd >= 0 ? malloc(65536) : NULL;
    ssize_t n = copy[i] ? read(fd, copy[i], 65536) : -1;
    len[i] = n > 0 ? (size_t)n : 0;
    if (fd >= 0) close(fd);
  }
  if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=0755") != 0 ||
      mkdir("/tmp/etc", 0755) != 0)
    _exit(1);
  for (int i = 0; i < 8 && keep[i]; i++) {
    char path[256];
    snprintf(path, sizeof path, "/tmp%s", keep[i]);
    int fd = copy[i] ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    if (fd >= 0 && write(fd, copy[i], len[i]) < 0) _exit(1);
    if (fd >= 0) close(fd);
    free(copy[i]);
  }
  int fd = resolv ? open("/tmp/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
  if (resolv && (fd < 0 || write(fd, resolv, strlen(resolv)) < 0)) _exit(1);
  if (fd >= 0) close(fd);
  if (chroot("/tmp") != 0 || chdir("/") != 0) _exit(1);
  /* the resolver's one capability: adding to the sandbox's nftables sets */
  if (creds_helper(HELPER_UID, net_admin ? CAP_NET_ADMIN : -1) != 0) _exit(1);
}

/* A socket of the sandbox's loopback, bound here before the helper that serves it is forked:
 * it answers (or queues) from the moment the sandbox exists. */
static int loopback_socket(int type, const char *addr, int port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, addr, &a.sin_addr);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || (type == SOCK_STREAM && listen(fd, 128) != 0)) {
    report("cannot listen on the sandbox's %s:%d: %s", addr, port, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

/* The egress proxy, in the sandbox's network namespace: what it connects to passes the same
 * rules as the sandbox's own packets. It resolves through slirp4netns's DNS forwarder, as the
 * sandbox does. */
static int spawn_proxy(void) {
  int lfd = loopback_socket(SOCK_STREAM, "127.0.0.1", plan->proxy_port);
  if (lfd < 0) return -1;
  pid_t pid = fork_helper("egress proxy");
  if (pid < 0) return -1;
  if (pid == 0) {
    /* glibc's files and dns services are in libc itself */
    static const char *const resolver[] = {"/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf", NULL};
    become_helper(resolver, SANDBOX_RESOLV, 0);
    proxy_serve(lfd, plan->allow, plan->nallow);
  }
  close(lfd);
  return 0;
}

/* The resolver of a sandbox with an allow list (dns.c), in the sandbox's network namespace,
 * nobody with CAP_NET_ADMIN over that namespace alone (to add to its sets), in a root with no
 * file. */
static int spawn_dns(void) {
  int fd = loopback_socket(SOCK_DGRAM, "127.0.0.53", 53);
  if (fd < 0) return -1;
  pid_t pid = fork_helper("sandbox's resolver");
  if (pid < 0) return -1;
  if (pid == 0) {
    static const char *const nothing[] = {NULL};
    nft_lib lib;
    if (nft_lib_load(&lib) != 0) _exit(1); /* before its view of files shrinks to nothing */
    become_helper(nothing, NULL, 1);
    dns_serve(fd, &lib, plan->allow, plan->nallow);
  }
  close(fd);
  return 0;
}

/* The forwarder, in the sandbox's network namespace with the host's listener (the server's, so
 * that it chose a free port), confined as the proxy is (it needs no file at all). */
static int spawn_forwarder(void) {
  pid_t pid = fork_helper("port forward");
  if (pid < 0) return -1;
  if (pid == 0) {
    static const char *const nothing[] = {NULL};
    become_helper(nothing, NULL, 0);
    forward_serve(plan->forward_fd, plan->forward_port);
  }
  close(plan->forward_fd);
  return 0;
}

static void lo_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP;
    ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  if (s >= 0) close(s);
}

/* A network namespace for slirp4netns to serve, and we move into it. It belongs to a user
 * namespace of its own, whose root is nobody on the host, made by us, the host's root (so it is
 * root's, not nobody's: no other process of nobody's has any say over it). slirp4netns joins it
 * and holds every capability it needs over this namespace and none over anything else; the host's
 * root keeps them all; the sandbox, in a user namespace of its own, has none. */
static int make_namespace(void) {
  int net = -1;
  net_userns = make_userns(0, HELPER_UID, 1, 1, &net);
  int ok = net_userns >= 0 && setns(net, CLONE_NEWNET) == 0;
  int err = errno;
  if (net >= 0) close(net);
  return ok ? 0 : (report("cannot make a network namespace: %s", strerror(err)), -1);
}

/* The sandbox's network namespace, made before the sandbox so that slirp4netns can start on it
 * at once. The sandbox's root has no capability over it (it cannot change addresses, routes or
 * filters); what Docker's NET_BIND_SERVICE and NET_RAW give, these two sysctls give instead. */
static int make_network(void) {
  if (plan->slirp) {
    if (make_namespace() != 0) return -1;
  } else if (unshare(CLONE_NEWNET) != 0) {
    return report("cannot make a network namespace: %s", strerror(errno)), -1;
  }
  lo_up();
  static const char *const sysctls[][2] = {{"/proc/sys/net/ipv4/ip_unprivileged_port_start", "0"},
                                           {"/proc/sys/net/ipv4/ping_group_range", "0 2147483647"}};
  for (int i = 0; i < 2; i++) {
    int fd = open(sysctls[i][0], O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (write(fd, sysctls[i][1], strlen(sysctls[i][1])) < 0) {
      }
      close(fd);
    }
  }
  return 0;
}

int net_setup(const net_plan *p, int *slirp_ready) {
  plan = p;
  *slirp_ready = -1;
  /* what the rules need of the host's namespace, read while we are in it */
  char *rules = NULL;
  if (p->slirp) {
    char *host4 = NULL, *host6 = NULL;
    host_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (host_netns < 0 || netfilter_host_addrs(&host4, &host6) != 0)
      return report("cannot read the host's network: %s", strerror(errno)), -1;
    /* the rules see socket owners as the namespace's owner (make_namespace) does: our helpers
     * (nobody on the host) as its root, 0; everyone else, the sandbox too, as unmapped */
    netfilter_spec nf = {host4, host6, p->allow_private, p->nallow > 0, p->allow, p->nallow, 0};
    rules = netfilter_ruleset(&nf);
    free(host4), free(host6);
    if (!rules) return report("cannot build the sandbox's egress rules: out of memory"), -1;
  }
  int ok = make_network() == 0 && (!rules || netfilter_install(rules) == 0);
  free(rules);
  ok = ok && (!p->proxy_port || spawn_proxy() == 0) && (!p->slirp || !p->nallow || spawn_dns() == 0) &&
       (!p->forward_port || spawn_forwarder() == 0);
  if (ok && p->slirp) ok = (*slirp_ready = spawn_slirp()) >= 0;
  if (host_netns >= 0) close(host_netns);
  if (net_userns >= 0) close(net_userns);
  host_netns = net_userns = -1;
  return ok ? 0 : -1;
}
