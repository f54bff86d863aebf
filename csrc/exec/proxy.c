/* Connections between the host's network and a sandbox's without slirp4netns. The egress proxy
 * of a sandbox with an allow list listens on the sandbox's own loopback (the socket was made
 * inside its network namespace) and connects out from the host's, for destinations the rules
 * allow. The port forward of such a sandbox is the other way round: it listens on the host's
 * 127.0.0.1:PORT (a socket made before the namespace) and connects to PORT on the sandbox's
 * loopback, from inside; it never connects anywhere else. One port speaks both HTTP proxying (CONNECT, and plain requests
 * with an absolute URI) and SOCKS5, told apart by the first byte. Each connection is served by
 * a child process of its own, with timeouts, at most MAX_CLIENTS at a time; the proxy runs as
 * nobody, parsing what untrusted code sends. */
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"

#define MAX_CLIENTS 64
#define HEAD_MAX 16384
#define IO_TIMEOUT_MS 30000

static char **rules;
static int nrules;

static int read_some(int fd, char *buf, size_t n, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return -1;
  ssize_t r = read(fd, buf, n);
  return r > 0 ? (int)r : -1;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w, n -= (size_t)w;
  }
  return 0;
}

/* Resolves host and connects to the first address the rules allow; -1 and *why otherwise
 * (403: not allowed, 502: allowed but unreachable). */
static int dial(const char *host, const char *port, int *why) {
  int by_name = egress_name_allowed(host, rules, nrules);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
  if (getaddrinfo(host, port, &hints, &res) != 0) {
    /* a name no rule allows is refused whether or not it resolves */
    *why = by_name ? 502 : 403;
    return -1;
  }
  *why = 403;
  int fd = -1;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    if (!egress_addr_allowed(a->ai_addr, by_name, rules, nrules)) continue;
    *why = 502;
    fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

static void relay(int a, int b, const char *pending, size_t np) {
  if (np && write_all(b, pending, np) != 0) return;
  struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  char buf[65536];
  for (;;) {
    if (poll(p, 2, IO_TIMEOUT_MS * 10) <= 0) return;
    for (int i = 0; i < 2; i++) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = read(p[i].fd, buf, sizeof buf);
      if (r <= 0 || write_all(p[1 - i].fd, buf, (size_t)r) != 0) return;
    }
  }
}

static void http_refuse(int c, int why, const char *host) {
  char msg[600];
  int n = snprintf(msg, sizeof msg,
                   "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
                   "porter-sandboxd: %s %.200s\n",
                   why, why == 403 ? "Forbidden" : "Bad Gateway",
                   why == 403 ? "egress not allowed by this sandbox's egress.allowed_destinations:" : "cannot reach", host);
  write_all(c, msg, (size_t)n);
}

/* host[:port] into host and port (default def); brackets of IPv6 literals removed */
static int split_hostport(const char *in, size_t len, char *host, size_t hn, char *port, size_t pn, const char *def) {
  if (len == 0 || len >= hn) return -1;
  const char *end = in + len, *colon = NULL;
  if (in[0] == '[') {
    const char *rb = memchr(in, ']', len);
    if (!rb) return -1;
    snprintf(host, hn, "%.*s", (int)(rb - in - 1), in + 1);
    colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
  } else {
    colon = memchr(in, ':', len);
    snprintf(host, hn, "%.*s", (int)((colon ? colon : end) - in), in);
  }
  if (colon) snprintf(port, pn, "%.*s", (int)(end - colon - 1), colon + 1);
  else snprintf(port, pn, "%s", def);
  return host[0] && port[0] ? 0 : -1;
}

static void serve_http(int c, char *buf, int have) {
  while (!memmem(buf, (size_t)have, "\r\n\r\n", 4)) {
    if (have >= HEAD_MAX - 1) return;
    int r = read_some(c, buf + have, (size_t)(HEAD_MAX - 1 - have), IO_TIMEOUT_MS);
    if (r < 0) return;
    have += r;
  }
  buf[have] = '\0';
  char *head_end = strstr(buf, "\r\n\r\n") + 4;
  char method[16], target[4096];
  if (sscanf(buf, "%15s %4095s", method, target) != 2) return;
  char host[1024], port[16];
  int why;
  if (!strcmp(method, "CONNECT")) {
    if (split_hostport(target, strlen(target), host, sizeof host, port, sizeof port, "443") != 0) return;
    int s = dial(host, port, &why);
    if (s < 0) return http_refuse(c, why, host);
    const char *ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    if (write_all(c, ok, strlen(ok)) != 0) return;
    relay(c, s, head_end, (size_t)(buf + have - head_end));
    return;
  }
  /* GET http://host[:port]/path HTTP/1.1 -> GET /path HTTP/1.1 to host */
  if (strncmp(target, "http://", 7)) return http_refuse(c, 403, "(not an absolute http:// URI)");
  char *auth = target + 7, *path = strchr(auth, '/');
  size_t alen = path ? (size_t)(path - auth) : strlen(auth);
  if (split_hostport(auth, alen, host, sizeof host, port, sizeof port, "80") != 0) return;
  int s = dial(host, port, &why);
  if (s < 0) return http_refuse(c, why, host);
  char *line_end = strstr(buf, "\r\n");
  char *version = memrchr(buf, ' ', (size_t)(line_end - buf));
  char first[4200];
  int n = snprintf(first, sizeof first, "%s %s%.*s", method, path ? path : "/", (int)(line_end - version), version);
  if (write_all(s, first, (size_t)n) == 0) relay(c, s, line_end, (size_t)(buf + have - line_end));
  close(s);
}

static void serve_socks(int c, unsigned char *buf, int have) {
  /* greeting: VER NMETHODS METHODS...; we take "no authentication" */
  while (have < 2 || have < 2 + buf[1]) {
    int r = read_some(c, (char *)buf + have, 512 - (size_t)have, IO_TIMEOUT_MS);
    if (r < 0) return;
    have += r;
  }
  if (write_all(c, "\x05\x00", 2) != 0) return;
  unsigned char req[300];
  int n = 0, need = 5;
  while (n < need) {
    int r = read_some(c, (char *)req + n, sizeof req - (size_t)n, IO_TIMEOUT_MS);
    if (r < 0) return;
    n += r;
    if (n >= 4) need = req[3] == 1 ? 10 : req[3] == 4 ? 22 : req[3] == 3 && n >= 5 ? 7 + req[4] : 5;
  }
  char host[300], port[8];
  if (req[0] != 5 || req[1] != 1) { /* CONNECT only */
    write_all(c, "\x05\x07\x00\x01\0\0\0\0\0\0", 10);
    return;
  }
  if (req[3] == 1) inet_ntop(AF_INET, req + 4, host, sizeof host);
  else if (req[3] == 4) inet_ntop(AF_INET6, req + 4, host, sizeof host);
  else snprintf(host, sizeof host, "%.*s", req[4], (char *)req + 5);
  snprintf(port, sizeof port, "%d", req[need - 2] << 8 | req[need - 1]);
  int why;
  int s = dial(host, port, &why);
  if (s < 0) {
    write_all(c, why == 403 ? "\x05\x02\x00\x01\0\0\0\0\0\0" : "\x05\x04\x00\x01\0\0\0\0\0\0", 10);
    return;
  }
  if (write_all(c, "\x05\x00\x00\x01\0\0\0\0\0\0", 10) == 0) relay(c, s, (char *)req + need, (size_t)(n - need));
  close(s);
}

static void serve(int c) {
  char buf[HEAD_MAX];
  int have = read_some(c, buf, sizeof buf - 1, IO_TIMEOUT_MS);
  if (have <= 0) return;
  if ((unsigned char)buf[0] == 5) serve_socks(c, (unsigned char *)buf, have);
  else serve_http(c, buf, have);
}

/* one connection forwarded to the sandbox's loopback */
static int forward_port;
static void serve_forward(int c) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)forward_port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0) relay(c, s, NULL, 0);
  if (s >= 0) close(s);
}

/* Accepts on lfd for ever, each connection served by a child of its own. */
static void accept_loop(int lfd, void (*serve_one)(int)) {
  signal(SIGPIPE, SIG_IGN);
  int clients = 0;
  for (;;) {
    while (waitpid(-1, NULL, WNOHANG) > 0) clients--;
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno != EINTR) usleep(10000);
      continue;
    }
    if (clients >= MAX_CLIENTS) {
      close(c);
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      close(lfd);
      serve_one(c);
      _exit(0);
    }
    if (pid > 0) clients++;
    close(c);
  }
}

void proxy_serve(int lfd, char **r, int n) {
  rules = r, nrules = n;
  accept_loop(lfd, serve);
}

void forward_serve(int lfd, int port) {
  forward_port = port;
  accept_loop(lfd, serve_forward);
}
