/* The exec client: a command run in a sandbox by its pid 1 (csrc/exec/control.c), asked over
 * the sandbox's control socket, its output read from pipes we pass it into spools (spool.c),
 * the client watched meanwhile so that an exec nobody waits for is killed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "exec_proto.h"
#include "server.h"
#include "logs.h"
#include "spool.h"
#include "execclient.h"

/* Asks the sandbox's pid 1 (csrc/exec/control.c) to run cmd with stdout and stderr on our
 * pipes; the socket then answers how it ended. -1 if pid 1 is not there (the sandbox ended). */
static int send_exec(const char *dir, unsigned uid, unsigned gid, const char *cwd, json_t *cmd, char **env, int out,
                     int err) {
  int d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/" EXEC_SOCKET, d);
  int ok = d >= 0 && c >= 0 && connect(c, (struct sockaddr *)&addr, sizeof addr) == 0;
  if (d >= 0) close(d);
  /* the payload: cwd, argv..., "", env... */
  size_t len = strlen(cwd) + 2;
  size_t i;
  json_t *v;
  json_array_foreach(cmd, i, v) len += strlen(json_string_value(v)) + 1;
  for (char **e = env; *e; e++) len += strlen(*e) + 1;
  char *payload = ok && len <= EXEC_MAX_PAYLOAD ? malloc(len) : NULL;
  if (!payload) {
    if (c >= 0) close(c);
    return -1;
  }
  size_t at = 0;
#define PUT(str) (memcpy(payload + at, (str), strlen(str) + 1), at += strlen(str) + 1)
  PUT(cwd);
  json_array_foreach(cmd, i, v) PUT(json_string_value(v));
  payload[at++] = '\0';
  for (char **e = env; *e; e++) PUT(*e);
#undef PUT
  exec_req rq = {EXEC_MAGIC, uid, gid, (uint32_t)at};
  char cbuf[CMSG_SPACE(2 * sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {&rq, sizeof rq};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  cm->cmsg_level = SOL_SOCKET, cm->cmsg_type = SCM_RIGHTS, cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
  int fds[2] = {out, err};
  memcpy(CMSG_DATA(cm), fds, sizeof fds);
  ok = sendmsg(c, &m, MSG_NOSIGNAL) == (ssize_t)sizeof rq;
  for (size_t off = 0; ok && off < at;) {
    ssize_t w = send(c, payload + off, at - off, MSG_NOSIGNAL);
    if (w <= 0) ok = 0;
    else off += (size_t)w;
  }
  free(payload);
  if (!ok) {
    close(c);
    return -1;
  }
  return c;
}

/* "exit CODE" or "error MESSAGE" from pid 1; 0 once read (code set, or why filled), -1 if the
 * connection ended first. */
static int read_reply(int c, int *code, char *why, size_t wn) {
  char line[600];
  size_t n = 0;
  ssize_t r;
  while (n < sizeof line - 1 && (r = read(c, line + n, sizeof line - 1 - n)) > 0) {
    n += (size_t)r;
    if (memchr(line, '\n', n)) break;
  }
  line[n] = '\0';
  line[strcspn(line, "\n")] = '\0';
  if (sscanf(line, "exit %d", code) == 1) return 0;
  if (!strncmp(line, "error ", 6)) {
    *code = -1;
    snprintf(why, wn, "%.500s", line + 6);
    return 0;
  }
  return -1;
}

/* Reads the command's stdout and stderr into b until it has ended (pid 1 answers on ctl) and
 * what it printed is read; *code gets its status. -1 if the sandbox ended under it, -2 if the
 * client (on the socket client, or -1) went away first: then pid 1, hung up on, kills it. */
static int collect(int out, int err, int ctl, int client, spool b[2], int *code, char *why, size_t wn) {
  struct pollfd p[4] = {{out, POLLIN, 0}, {err, POLLIN, 0}, {ctl, POLLIN, 0}, {client, POLLRDHUP, 0}};
  int open_fds = 2, exited = 0, lost = 0;
  char chunk[65536];
  /* The exec ends when its command does, even if something it started in the background
   * still holds the output pipes: once pid 1 says it exited, take what is buffered and stop. */
  while (open_fds > 0 || !exited) {
    int ready = poll(p, 4, exited ? 0 : -1);
    if (ready < 0 && errno != EINTR) break;
    if (ready == 0 && exited) break;
    if (!exited && client >= 0 && (p[3].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
      for (int i = 0; i < 2; i++)
        if (p[i].fd >= 0) close(p[i].fd);
      return -2;
    }
    for (int i = 0; ready > 0 && i < 2; i++) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = read(p[i].fd, chunk, sizeof chunk);
      if (r <= 0) {
        close(p[i].fd);
        p[i].fd = -1;
        open_fds--;
      } else {
        spool_add(&b[i], chunk, (size_t)r, MAX_EXEC_OUTPUT);
      }
    }
    if (!exited && p[2].fd >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      lost = read_reply(ctl, code, why, wn) != 0;
      exited = 1;
      p[2].fd = -1;
    }
  }
  for (int i = 0; i < 2; i++)
    if (p[i].fd >= 0) close(p[i].fd);
  return lost ? -1 : 0;
}

/* The command's output into the sandbox's logs, and the ExecResponse into json. */
static int record_exec(const char *id, const char *exec_id, spool b[2], int code, spool *json, char *why, size_t wn) {
  log_spool(id, "info", exec_id, &b[0]);
  log_spool(id, "error", exec_id, &b[1]);
  if (b[0].truncated || b[1].truncated) {
    /* the rest was read and dropped, so the command never blocked on a full pipe */
    static const char note[] = "exec output beyond 8 MiB per stream was dropped";
    log_line(id, "warning", exec_id, note, sizeof note - 1);
  }
  if (spool_exec_json(json, &b[0], &b[1], code) == 0) return 0;
  snprintf(why, wn, "cannot write the command's output: %s", strerror(errno));
  return 500;
}

int exec_run(const char *id, const char *dir, unsigned uid, unsigned gid, const char *cwd, json_t *cmd, char **env,
             int client, spool *json, char *why, size_t wn) {
  char exec_id[40];
  new_id("exec", exec_id, sizeof exec_id);
  spool b[2];
  spool_open(&b[0]), spool_open(&b[1]), spool_open(json);
  int out[2], err[2], rc = 0, code = 0, ctl = -1;
  if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    snprintf(why, wn, "could not create pipes");
    rc = 500;
  } else {
    ctl = send_exec(dir, uid, gid, cwd, cmd, env, out[1], err[1]);
    close(out[1]);
    close(err[1]);
    if (ctl < 0) {
      close(out[0]), close(err[0]);
      rc = 409; /* pid 1 is gone: the sandbox ended while we were asking */
    } else {
      int lost = collect(out[0], err[0], ctl, client, b, &code, why, wn);
      close(ctl);
      if (lost == -2) {
        static const char note[] = "the exec's client went away before it ended: killed, with what it started";
        log_line(id, "warning", exec_id, note, sizeof note - 1);
      }
      rc = lost == -2 ? 499 : lost ? 409 /* the sandbox ended under the command */
           : code < 0 ? 500 : record_exec(id, exec_id, b, code, json, why, wn);
    }
  }
  spool_close(&b[0]);
  spool_close(&b[1]);
  if (rc) spool_close(json);
  return rc;
}
