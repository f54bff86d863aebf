/* A volume's filesystem: an ext4 image of --volume-size bytes (STATE/volumes/ID/disk.img,
 * sparse, so it takes on the host's disk what is in it), loop-mounted on the volume's data
 * directory. A sandbox that fills its volume gets ENOSPC, and the files API a 507; the host's
 * disk is not theirs to fill. The mounts live in the server's own mount namespace (made at
 * start, before any thread): they vanish with the server however it ends, the loop devices
 * free themselves as the mounts go, and the host's mount table never holds one. A volume of
 * an older state dir, without an image, stays a plain directory. */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "server.h"
#include "proc.h"
#include "voldisk.h"

static int own_mounts;

int voldisk_private_mounts(void) {
  if (unshare(CLONE_NEWNS) != 0) return -1;
  /* nothing mounted here reaches the host, nor the host's later mounts us */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return -1;
  own_mounts = 1;
  return 0;
}

int voldisk_own_mounts(void) { return own_mounts; }

/* The layout of a disk volume, owned here: STATE/volumes/ID/{disk.img,data}. */
static void volume_dir(const char *id, char *out, size_t n) { snprintf(out, n, "%s/volumes/%s", cfg.state_dir, id); }

void volume_data_dir(const char *id, char *out, size_t n) { snprintf(out, n, "%s/volumes/%s/data", cfg.state_dir, id); }

static void paths(const char *id, char *img, char *data, size_t n) {
  snprintf(img, n, "%s/volumes/%s/disk.img", cfg.state_dir, id);
  volume_data_dir(id, data, n);
}

unsigned long long voldisk_allotted(const char *id) {
  char img[4200], data[4200];
  struct stat st;
  paths(id, img, data, sizeof img);
  return stat(img, &st) == 0 ? (unsigned long long)st.st_size : 0;
}

void voldisk_remove(const char *id) {
  char dir[4200];
  voldisk_unmount(id);
  volume_dir(id, dir, sizeof dir);
  rm_rf(dir);
}

/* A free loop device bound to img (freed by the kernel once unmounted); its fd, or -1. */
static int attach(const char *img, char *dev, size_t dn, char *why, size_t wn) {
  int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) {
    snprintf(why, wn, "no loop devices (/dev/loop-control: %s)", strerror(errno));
    return -1;
  }
  int file = open(img, O_RDWR | O_CLOEXEC);
  if (file < 0) {
    snprintf(why, wn, "cannot open the volume's image: %s", strerror(errno));
    close(ctl);
    return -1;
  }
  int fd = -1;
  /* another thread (or program) may take the free device between the two calls: ask again */
  for (int tries = 0; fd < 0 && tries < 16; tries++) {
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0) {
      snprintf(why, wn, "no free loop device: %s", strerror(errno));
      break;
    }
    snprintf(dev, dn, "/dev/loop%d", n);
    fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      snprintf(why, wn, "cannot open %s: %s", dev, strerror(errno));
      break;
    }
    struct loop_config lc;
    memset(&lc, 0, sizeof lc);
    lc.fd = (unsigned)file;
    lc.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    if (ioctl(fd, LOOP_CONFIGURE, &lc) != 0) {
      snprintf(why, wn, "cannot set up %s: %s", dev, strerror(errno));
      close(fd);
      fd = -1;
      if (errno != EBUSY) break;
    }
  }
  close(file);
  close(ctl);
  return fd;
}

int voldisk_mount(const char *id, char *why, size_t wn) {
  char img[4200], data[4200], dev[64];
  paths(id, img, data, sizeof img);
  if (access(img, F_OK) != 0 || is_mount_point(data)) return 0;
  int fd = attach(img, dev, sizeof dev, why, wn);
  if (fd < 0) return -1;
  /* discard: what the sandbox deletes is given back to the host as holes in the image */
  int rc = mount(dev, data, "ext4", MS_NODEV | MS_NOSUID | MS_NOATIME, "discard");
  if (rc != 0) {
    snprintf(why, wn, "cannot mount the volume's filesystem: %s", strerror(errno));
    ioctl(fd, LOOP_CLR_FD, 0);
  }
  close(fd); /* the mount holds the device now; autoclear frees it with the mount */
  return rc;
}

int voldisk_create(const char *id, char *why, size_t wn) {
  if (cfg.volume_size == 0) return 0;
  char img[4200], data[4200], owner[64];
  paths(id, img, data, sizeof img);
  int f = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (f < 0 || ftruncate(f, (off_t)cfg.volume_size) != 0) {
    snprintf(why, wn, "cannot create the volume's image: %s", strerror(errno));
    if (f >= 0) close(f);
    return -1;
  }
  close(f);
  /* the root directory is the sandboxes' root's; no blocks kept back for a root user; the inode
   * tables are written lazily (a new volume in tens of milliseconds) */
  snprintf(owner, sizeof owner, "root_owner=%lu:%lu,lazy_itable_init=1,lazy_journal_init=1", cfg.uid_base,
           cfg.uid_base);
  const char *mkfs = access("/usr/sbin/mkfs.ext4", X_OK) == 0 ? "/usr/sbin/mkfs.ext4"
                     : access("/sbin/mkfs.ext4", X_OK) == 0   ? "/sbin/mkfs.ext4"
                                                              : "mkfs.ext4";
  char *argv[] = {(char *)mkfs, "-q", "-F", "-m", "0", "-E", owner, img, NULL};
  char err[512] = "";
  int code = proc_run(argv, NULL, 0, err, sizeof err);
  if (code != 0) {
    err[strcspn(err, "\n")] = '\0';
    snprintf(why, wn, "cannot make the volume's filesystem (mkfs.ext4 exited %d: %s)", code, err);
    return -1;
  }
  if (voldisk_mount(id, why, wn) != 0) return -1;
  char lf[4300];
  snprintf(lf, sizeof lf, "%s/lost+found", data);
  rmdir(lf); /* fsck makes it again if it ever needs it; a listing should hold what was put there */
  return 0;
}

int voldisk_ready(const char *id) {
  char img[4200], data[4200], why[512];
  paths(id, img, data, sizeof img);
  /* mounted now if it can be: one that could not be at start may be by now */
  return access(img, F_OK) != 0 || is_mount_point(data) || voldisk_mount(id, why, sizeof why) == 0;
}

void voldisk_unmount(const char *id) {
  char img[4200], data[4200];
  paths(id, img, data, sizeof img);
  if (is_mount_point(data)) umount2(data, MNT_DETACH);
}
