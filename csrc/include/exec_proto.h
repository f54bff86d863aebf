/* The exec protocol between porter-sandboxd and a sandbox's pid 1 (porter-sandbox-exec), over
 * the unix socket pid 1 binds at sandboxes/<id>/ctl.sock before it enters its root: a command
 * forked by pid 1 is in every namespace, cgroup and filter of the sandbox already, with no
 * setns and no cgroup migration (which on cgroup v1 waits out an RCU grace period).
 *
 *   request:  exec_req, with SCM_RIGHTS [stdout, stderr] in the same message, then len bytes:
 *             cwd NUL argv[0] NUL ... argv[n] NUL NUL env[0] NUL ... env[m] NUL
 *   reply:    "exit CODE\n" when the command has ended (128+N if killed by signal N), or
 *             "error MESSAGE\n" if it could not be started. */
#ifndef EXEC_PROTO_H
#define EXEC_PROTO_H

#include <stdint.h>

#define EXEC_MAGIC 0x70657865u   /* "exep" */
#define EXEC_MAX_PAYLOAD (4u << 20)
#define EXEC_SOCKET "ctl.sock"

typedef struct exec_req {
  uint32_t magic;
  uint32_t uid, gid;
  uint32_t len; /* of the payload that follows */
} exec_req;

#endif
