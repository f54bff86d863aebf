/* porter-sandbox-unpack --pack DIR BASE OUT MAX: a snapshot (at most MAX bytes) of DIR (a sandbox's /tmp) as a tar
 * archive written to the new file OUT, ids shifted back by BASE. --pack-root is the same of a
 * sandbox's writable layer (overlayfs's upper dir: what it changed in its image's root) as an
 * OCI layer: a deletion is overlayfs's whiteout (a 0:0 character device, which layer.c takes
 * as containerd does) and a directory made anew over one of the image's (overlayfs's opaque
 * xattr) gets a .wh..wh..opq entry, so the layer applied over the image gives the root back.
 * DIR's content is the sandbox's to shape, and it may change while we read it: so we chroot
 * into DIR first, and a symlink, however swapped in, can only name what is in DIR. DIR is a
 * tmpfs of the sandbox's own (no devices but whiteouts, no mounts, no hard links from
 * elsewhere), and we run no code of its, so staying root in there reads what the sandbox's
 * root could and nothing more. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "unpack.h"

static int fail(const char *what, struct archive *a) {
  fprintf(stderr, "%s: %s\n", what, a ? archive_error_string(a) : "failed");
  return 1;
}

static int copy_data(struct archive *from, struct archive *to) {
  char buf[65536];
  la_ssize_t n;
  while ((n = archive_read_data(from, buf, sizeof buf)) > 0)
    if (archive_write_data(to, buf, (size_t)n) != n) return -1;
  return n < 0 ? -1 : 0;
}

static void unshift(struct archive_entry *e, uid_t base) {
  la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
  archive_entry_set_uid(e, uid >= base ? uid - base : 65534);
  archive_entry_set_gid(e, gid >= base ? gid - base : 65534);
  archive_entry_set_uname(e, NULL);
  archive_entry_set_gname(e, NULL);
}

/* The archive's bytes go to the file through here, counted: holes and hard links are stored
 * as such, but a tree shaped to grow in the copy (a million tiny files, say) must still not fill
 * the host's disk, so past max the write fails and the snapshot with it. */
typedef struct sink {
  int fd;
  long long written, max;
} sink;

static la_ssize_t sink_write(struct archive *a, void *ud, const void *buf, size_t n) {
  sink *k = ud;
  if (k->written + (long long)n > k->max) {
    /* libarchive's formatter has no %lld */
    char why[96];
    snprintf(why, sizeof why, "the snapshot would be larger than %lld bytes", k->max);
    archive_set_error(a, EFBIG, "%s", why);
    return -1;
  }
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(k->fd, (const char *)buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      archive_set_error(a, errno, "cannot write the snapshot: %s", strerror(errno));
      return -1;
    }
    done += (size_t)w;
  }
  k->written += (long long)n;
  return (la_ssize_t)n;
}

/* A directory that overlayfs made opaque: it hides what the image had there. */
static int is_opaque(const char *path) {
  char v[2];
  return lgetxattr(path, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
}

/* The opaque marker of the directory just written. */
static int write_opaque(struct archive *tar, struct archive_entry *dir) {
  char name[4200];
  snprintf(name, sizeof name, "%s/.wh..wh..opq", archive_entry_pathname(dir));
  struct archive_entry *m = archive_entry_new();
  if (!m) return -1;
  archive_entry_set_pathname(m, name);
  archive_entry_set_filetype(m, AE_IFREG);
  archive_entry_set_perm(m, 0600);
  archive_entry_set_size(m, 0);
  archive_entry_set_mtime(m, archive_entry_mtime(dir), 0);
  int rc = archive_write_header(tar, m) == ARCHIVE_OK && archive_write_finish_entry(tar) != ARCHIVE_FATAL ? 0 : -1;
  archive_entry_free(m);
  return rc;
}

int pack_main(const char *dir, uid_t base, const char *out_path, long long max, int layer) {
  int out = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) return perror("cannot create the snapshot"), 1;
  if (chdir(dir) != 0 || chroot(".") != 0 || chdir("/") != 0) return perror("cannot enter the sandbox's files"), 1;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return perror("no_new_privs"), 1;
  struct archive *disk = archive_read_disk_new(), *tar = archive_write_new();
  struct archive_entry *e = archive_entry_new();
  struct archive_entry_linkresolver *links = archive_entry_linkresolver_new();
  if (!disk || !tar || !e || !links) return fail("out of memory", NULL);
  archive_read_disk_set_symlink_physical(disk);
  /* a layer's xattrs are overlayfs's own bookkeeping (origin, impure): never restored */
  if (layer) archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL | ARCHIVE_READDISK_NO_FFLAGS);
  sink k = {out, 0, max};
  if (archive_write_set_format_pax_restricted(tar) != ARCHIVE_OK ||
      archive_write_open2(tar, &k, NULL, sink_write, NULL, NULL) != ARCHIVE_OK)
    return fail("cannot write the snapshot", tar);
  /* a file's other names become links to its first: its bytes once, however many names */
  archive_entry_linkresolver_set_strategy(links, archive_format(tar));
  if (archive_read_disk_open(disk, ".") != ARCHIVE_OK) return fail("cannot read the sandbox's files", disk);
  for (;;) {
    int r = archive_read_next_header2(disk, e);
    if (r == ARCHIVE_EOF) break;
    if (r == ARCHIVE_FATAL) return fail("cannot read the sandbox's files", disk);
    /* the sandbox runs on while we read: what vanishes or changes under us is left out */
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) continue;
    archive_read_disk_descend(disk);
    unshift(e, base);
    struct archive_entry *w = e, *spare = NULL;
    archive_entry_linkify(links, &w, &spare);
    if (!w) continue;
    if (archive_write_header(tar, w) != ARCHIVE_OK) return fail("cannot write the snapshot", tar);
    /* a file cut short meanwhile is padded to the size its header says */
    if (archive_entry_filetype(w) == AE_IFREG && archive_entry_size(w) > 0 && copy_data(disk, tar) != 0 &&
        archive_errno(tar) == EFBIG)
      return fail("cannot write the snapshot", tar);
    if (archive_write_finish_entry(tar) == ARCHIVE_FATAL) return fail("cannot write the snapshot", tar);
    if (layer && archive_entry_filetype(w) == AE_IFDIR && is_opaque(archive_entry_sourcepath(w)) && write_opaque(tar, w) != 0)
      return fail("cannot write the snapshot", tar);
  }
  archive_read_close(disk);
  if (archive_write_close(tar) != ARCHIVE_OK) return fail("cannot finish the snapshot", tar);
  archive_entry_free(e);
  archive_entry_linkresolver_free(links);
  archive_read_free(disk);
  archive_write_free(tar);
  printf("size %lld\n", k.written);
  return 0;
}
