/* The launcher's command line (porter-sandbox-exec --launch, csrc/exec/launch.c): one list of
 * its flags, for the server that builds it (csrc/server/launchargs.c, runtime.c) and the
 * launcher that parses it. The meaning of each is in launch.c's header comment. */
#ifndef LAUNCH_FLAGS_H
#define LAUNCH_FLAGS_H

#define LF_LAUNCH "--launch"             /* first: what porter-sandbox-exec is to do */
/* early: what a warm launcher (pool.c) is started with */
#define LF_PRESTART "--prestart"         /* the rest comes later, on fd 4 */
#define LF_PARENT "--parent"             /* PID */
#define LF_STATUS_FD "--status-fd"       /* N */
#define LF_NOFILE "--nofile"             /* N: the sandbox's RLIMIT_NOFILE (soft and hard) */
#define LF_SLIRP "--slirp"
#define LF_ALLOW_PRIVATE "--allow-private"
#define LF_EGRESS_PROXY "--egress-proxy" /* PORT */
#define LF_ALLOW "--allow"               /* RULE, repeatable */
#define LF_FORWARD "--forward"           /* PORT */
#define LF_CGROUP "--cgroup"             /* DIR, repeatable */
/* late: the sandbox's own */
#define LF_UIDMAP "--uidmap"             /* BASE COUNT */
#define LF_IDMAP_FROM "--idmap-from"     /* STORE */
#define LF_SCRATCH "--scratch"           /* DIR BYTES */
#define LF_HOST_ROOT "--host-root"
#define LF_OVERLAY "--overlay"           /* LOWER UPPER WORK */
#define LF_MNT "--mnt"                   /* DIR */
#define LF_TMP "--tmp"                   /* DIR */
#define LF_SEED_TMP "--seed-tmp"         /* UNPACKER TAR SHA256 */
#define LF_SEED_ROOT "--seed-root"       /* UNPACKER TAR SHA256: a snapshot's layer over the image */
#define LF_BIND "--bind"                 /* SRC DST, repeatable */
#define LF_BIND_BUCKET "--bind-bucket"   /* SRC DST MODE, repeatable: an object volume's prefix */
/* its MODE: read-only or read-write, idmapped as disk volumes are, or not (a FUSE bucket's:
 * s3fs serves no idmapped mount) */
#define LF_BUCKET_RO "ro"
#define LF_BUCKET_RW "rw"
#define LF_BUCKET_RO_NOIDMAP "ro-noidmap"
#define LF_BUCKET_RW_NOIDMAP "rw-noidmap"
#define LF_HOSTNAME "--hostname"         /* NAME */
#define LF_USER "--user"                 /* UID GID */
#define LF_CWD "--cwd"                   /* DIR */
#define LF_ENV_FD "--env-fd"             /* N: the workload's environment, as a warm launcher's fd 4 */
#define LF_IDLE "--idle"                 /* or "--" and the command */

#endif
