/* The image store: images pulled with skopeo (the registry protocol, token auth, manifest
 * lists, digest checks), unpacked once per image by porter-sandbox-unpack, and used by every
 * sandbox of that image as the read-only lower layer of its root.
 *
 * It lives in --image-dir: by default STATE_DIR/images for a server given a state dir of its own,
 * else the user's cache ($XDG_CACHE_HOME/porter-sandbox/images), which every server on the
 * defaults and every --local one share: each change is a rename, and a live sandbox holds a
 * shared lock on its image (store_hold) that `image rm` must get exclusively.
 *
 *   images/refs/<escaped reference>   the unpacked image a reference names ("<hex>-<uid base>")
 *   images/sha256/<hex>-<uid base>/   rootfs/ and meta.json (the image's config, its user as ids)
 *   images/tmp/<pid>-*                pulls and unpacks in progress; renamed into place when whole
 *
 * Every step writes under a temporary name and renames, so a failed or interrupted pull leaves
 * nothing that a later lookup could take for an image. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "server.h"
#include "proc.h"
#include "images.h"

static void store_path(char *out, size_t n, const char *sub) { snprintf(out, n, "%s/%s", cfg.image_dir, sub); }

static void escape(const char *ref, char *out, size_t n) {
  size_t o = 0;
  for (const char *p = ref; *p && o + 4 < n; p++) {
    unsigned char c = (unsigned char)*p;
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-') out[o++] = (char)c;
    else o += (size_t)snprintf(out + o, n - o, "%%%02X", c);
  }
  out[o] = '\0';
}

static void unescape(const char *in, char *out, size_t n) {
  size_t o = 0;
  for (const char *p = in; *p && o + 1 < n; p++) {
    unsigned v;
    if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1) out[o++] = (char)v, p += 2;
    else out[o++] = *p;
  }
  out[o] = '\0';
}

#define MAX_LAYERS 128 /* overlayfs's own bound on lower layers is near; no real image comes close */

static int shared_images; /* --shared-images */

int store_option(const char *a, const char *v) {
  if (!strcmp(a, "--shared-images")) return shared_images = 1, 2;
  if (!strcmp(a, "--image-dir")) {
    if (!v || !*v) return -1;
    cfg.image_dir = (char *)v;
    return 1;
  }
  unsigned long long *at = !strcmp(a, "--image-space") ? &cfg.image_space
                           : !strcmp(a, "--image-max-size") ? &cfg.image_max_size
                                                             : NULL;
  if (!at) return 0;
  if (!v || parse_size(v) < (1ull << 20)) return -1;
  *at = parse_size(v);
  return 1;
}

void store_default_dir(int state_given) {
  static char dir[4200];
  if (cfg.image_dir) return;
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  if (state_given && !shared_images) snprintf(dir, sizeof dir, "%s/images", cfg.state_dir);
  else if (xdg && *xdg == '/') snprintf(dir, sizeof dir, "%s/porter-sandbox/images", xdg);
  else snprintf(dir, sizeof dir, "%s/.cache/porter-sandbox/images", home && *home ? home : "/tmp");
  cfg.image_dir = dir;
}

/* The lock a live sandbox holds on its image (rootfs: the image's rootfs/): shared, so that
 * `image rm` (store_remove) of any server on the same store sees it in use. fd or -1. */
int store_hold(const char *rootfs) {
  char path[4400];
  const char *slash = strrchr(rootfs, '/');
  if (!slash || pathf(path, sizeof path, "%.*s/lock", (int)(slash - rootfs), rootfs) != 0) return -1;
  int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0 && flock(fd, LOCK_SH) != 0) close(fd), fd = -1;
  return fd;
}

static json_t *load_meta(const char *key);

/* What the unpacked images take: their uncompressed layers (the bound's own measure; an image
 * unpacked before it was recorded counts its files' bytes). */
static unsigned long long store_used(void) {
  char dir[4200];
  store_path(dir, sizeof dir, "sha256");
  DIR *d = opendir(dir);
  struct dirent *e;
  unsigned long long used = 0;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    json_t *meta = load_meta(e->d_name);
    json_t *n = json_object_get(meta, "unpacked");
    used += (unsigned long long)json_integer_value(n ? n : json_object_get(meta, "size"));
    json_decref(meta);
  }
  if (d) closedir(d);
  return used;
}

/* Room for one unpack: what --image-space leaves once the store and the unpacks under way have
 * theirs, at most --image-max-size; taken until unpack_done gives it back. */
static pthread_mutex_t room_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long reserved;

static unsigned long long unpack_room(const char **why) {
  pthread_mutex_lock(&room_lock);
  unsigned long long used = store_used() + reserved;
  unsigned long long left = used < cfg.image_space ? cfg.image_space - used : 0;
  unsigned long long room = left < cfg.image_max_size ? left : cfg.image_max_size;
  *why = left < cfg.image_max_size ? "what --image-space leaves: remove images with porter-sandboxd image rm"
                                   : "--image-max-size";
  reserved += room;
  pthread_mutex_unlock(&room_lock);
  return room;
}

static void unpack_done(unsigned long long room) {
  pthread_mutex_lock(&room_lock);
  reserved -= room;
  pthread_mutex_unlock(&room_lock);
}

static int tmp_dir(const char *what, char *out, size_t n) {
  char base[4200];
  store_path(base, sizeof base, "tmp");
  if (pathf(out, n, "%s/%d-%s-XXXXXX", base, (int)getpid(), what) != 0) return -1;
  return mkdtemp(out) ? 0 : -1;
}

int store_init(void) {
  char p[4200];
  const char *subs[] = {"refs", "sha256", "tmp"};
  for (int i = 0; i < 3; i++) {
    store_path(p, sizeof p, subs[i]);
    if (mkdir_p(p, 0700) != 0) return -1;
  }
  /* what a dead process left half-done */
  store_path(p, sizeof p, "tmp");
  DIR *d = opendir(p);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    int pid = atoi(e->d_name);
    if (pid <= 0 || (kill(pid, 0) == 0 || errno == EPERM)) continue;
    char victim[4500];
    pathf(victim, sizeof victim, "%s/%s", p, e->d_name);
    rm_rf(victim);
  }
  if (d) closedir(d);
  return 0;
}

/* ---- reading an OCI layout ---- */
static int digest_hex(const char *digest, char hex[65]) {
  if (!digest || strncmp(digest, "sha256:", 7) || strlen(digest) != 71) return -1;
  for (int i = 0; i < 64; i++) {
    char c = digest[7 + i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return -1;
    hex[i] = c;
  }
  hex[64] = '\0';
  return 0;
}

static void blob_path(const char *layout, const char *hex, char *out, size_t n) {
  pathf(out, n, "%s/blobs/sha256/%s", layout, hex);
}

static json_t *load_blob(const char *layout, const char *digest) {
  char hex[65], path[4400];
  if (digest_hex(digest, hex) != 0) return NULL;
  blob_path(layout, hex, path, sizeof path);
  return json_load_file(path, 0, NULL);
}

/* The runtime's view of an image: its config (Env, Entrypoint, Cmd, WorkingDir, User) and user. */
static int write_meta(const char *dir, const char *digest, json_t *config, const char *helper_out) {
  json_t *meta = json_pack("{sssOsI}", "digest", digest, "config", config ? config : json_null(), "created_ms",
                           (json_int_t)now_ms());
  long long size = 0, unpacked = 0;
  unsigned long uid, gid;
  char home[1024];
  const char *p;
  if ((p = strstr(helper_out, "size "))) sscanf(p, "size %lld", &size);
  if ((p = strstr(helper_out, "unpacked "))) sscanf(p, "unpacked %lld", &unpacked);
  json_object_set_new(meta, "size", json_integer(size));
  json_object_set_new(meta, "unpacked", json_integer(unpacked));
  if ((p = strstr(helper_out, "user ")) && sscanf(p, "user %lu %lu %1023[^\n]", &uid, &gid, home) == 3) {
    json_object_set_new(meta, "uid", json_integer((json_int_t)uid));
    json_object_set_new(meta, "gid", json_integer((json_int_t)gid));
    json_object_set_new(meta, "home", json_string(home));
  } else if ((p = strstr(helper_out, "user-error "))) {
    char why[600];
    snprintf(why, sizeof why, "%.*s", (int)strcspn(p + 11, "\n"), p + 11);
    json_object_set_new(meta, "user_error", json_string(why));
  }
  char path[4300];
  pathf(path, sizeof path, "%s/meta.json", dir);
  int rc = json_dump_file(meta, path, JSON_COMPACT);
  json_decref(meta);
  return rc;
}

static int write_ref(const char *ref, const char *key) {
  char esc[2048], dir[4200], path[6400], tmp[6500];
  escape(ref, esc, sizeof esc);
  store_path(dir, sizeof dir, "refs");
  pathf(path, sizeof path, "%s/%s", dir, esc);
  snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) return -1;
  fprintf(f, "%s\n", key);
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

static const char *last_line(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
  char *nl = strrchr(s, '\n');
  return nl ? nl + 1 : s;
}

/* Unpacks the image an OCI layout holds (its only manifest) and records it as ref. */
static int add_layout(const char *layout, const char *ref, char *why, size_t wn) {
  char path[4400], hex[65];
  pathf(path, sizeof path, "%s/index.json", layout);
  json_t *index = json_load_file(path, 0, NULL);
  json_t *manifest = index ? load_blob(layout, json_string_value(json_object_get(json_array_get(json_object_get(index, "manifests"), 0), "digest"))) : NULL;
  const char *config_digest = json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
  json_t *config = manifest ? load_blob(layout, config_digest) : NULL;
  json_t *layers = json_object_get(manifest, "layers");
  int rc = -1;
  if (!config || !json_is_array(layers) || digest_hex(config_digest, hex) != 0) {
    snprintf(why, wn, "the image's manifest or config is missing or malformed");
    goto out;
  }
  char key[100], final[4400], dir[4200];
  snprintf(key, sizeof key, "%s-%lu", hex, cfg.uid_base);
  store_path(dir, sizeof dir, "sha256");
  pathf(final, sizeof final, "%s/%s", dir, key);
  pathf(path, sizeof path, "%s/meta.json", final);
  if (access(path, F_OK) == 0) { /* another reference to an image we have */
    rc = write_ref(ref, key);
    goto out;
  }
  char work[4400], rootfs[4500], helper[4096];
  if (tmp_dir("unpack", work, sizeof work) != 0) {
    snprintf(why, wn, "cannot create a directory in the image store: %s", strerror(errno));
    goto out;
  }
  pathf(rootfs, sizeof rootfs, "%s/rootfs", work);
  size_t nl = json_array_size(layers);
  json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
  if (nl > MAX_LAYERS || json_array_size(diff_ids) != nl) {
    if (nl > MAX_LAYERS) snprintf(why, wn, "the image has %zu layers, more than %d", nl, MAX_LAYERS);
    else snprintf(why, wn, "the image's config lists %zu layer digests (rootfs.diff_ids) for its %zu layers",
                  json_array_size(diff_ids), nl);
    rm_rf(work);
    goto out;
  }
  const char *room_why;
  unsigned long long room = unpack_room(&room_why);
  if (room < (1u << 20)) {
    unpack_done(room);
    snprintf(why, wn, "the image store is full (--image-space %llu MiB): remove images with porter-sandboxd image rm",
             cfg.image_space >> 20);
    rm_rf(work);
    goto out;
  }
  char **argv = calloc(2 * nl + 9, sizeof *argv);
  char base[24], count[24], max[24];
  snprintf(max, sizeof max, "%llu", room);
  snprintf(base, sizeof base, "%lu", cfg.uid_base);
  snprintf(count, sizeof count, "%lu", cfg.uid_count);
  json_t *cc = json_object_get(config, "config");
  const char *user = json_string_value(json_object_get(cc, "User"));
  int k = 0;
  argv[k++] = strdup(helper_path("porter-sandbox-unpack", helper, sizeof helper));
  argv[k++] = strdup(rootfs);
  argv[k++] = strdup(base);
  argv[k++] = strdup(count);
  argv[k++] = strdup(user ? user : "");
  argv[k++] = strdup(max);
  argv[k++] = strdup(room_why);
  int bad = 0;
  for (size_t i = 0; i < nl; i++) {
    char lhex[65], lpath[4400], dhex[65];
    if (digest_hex(json_string_value(json_object_get(json_array_get(layers, i), "digest")), lhex) != 0 ||
        digest_hex(json_string_value(json_array_get(diff_ids, i)), dhex) != 0)
      bad = 1;
    blob_path(layout, lhex, lpath, sizeof lpath);
    argv[k++] = strdup(bad ? "" : lpath);
    argv[k++] = strdup(bad ? "" : dhex);
  }
  char out[4096], err[2048];
  int status = bad ? -1 : proc_run(argv, out, sizeof out, err, sizeof err);
  for (int i = 0; i < k; i++) free(argv[i]);
  free(argv);
  /* written or not, it is the store's now (on disk) or nobody's */
  if (status != 0) unpack_done(room);
  if (status != 0) {
    snprintf(why, wn, "cannot unpack the image: %s", bad ? "a layer or diff_id has a malformed digest" : last_line(err));
    rm_rf(work);
    goto out;
  }
  int meta_ok = write_meta(work, config_digest, cc, out) == 0;
  if (!meta_ok) snprintf(why, wn, "cannot write to the image store: %s", strerror(errno));
  if (!meta_ok || rename(work, final) != 0) rm_rf(work); /* or unpacked meanwhile by someone else: theirs stands */
  unpack_done(room); /* counted by store_used from here on */
  if (!meta_ok) goto out;
  rc = write_ref(ref, key);
  if (rc != 0) snprintf(why, wn, "cannot record the image: %s", strerror(errno));
out:
  json_decref(config);
  json_decref(manifest);
  json_decref(index);
  return rc;
}

/* skopeo's message without its log decoration (time="..." level=fatal msg="..."). */
static void skopeo_reason(char *err, char *why, size_t wn, const char *what) {
  const char *line = last_line(err);
  const char *msg = strstr(line, "msg=\"");
  if (msg) {
    msg += 5;
    size_t n = strlen(msg);
    if (n && msg[n - 1] == '"') n--;
    char clean[2048];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < sizeof clean; i++)
      if (!(msg[i] == '\\' && i + 1 < n && msg[i + 1] == '"')) clean[o++] = msg[i];
    clean[o] = '\0';
    snprintf(why, wn, "%s: %s", what, clean);
  } else {
    snprintf(why, wn, "%s: %s", what, *line ? line : "skopeo failed");
  }
}

/* skopeo copy SRC oci:DIR:img, then the layout into the store as ref. */
static int copy_in(const char *src, int insecure, const char *ref, char *why, size_t wn) {
  char work[4400], dest[4500];
  if (tmp_dir("pull", work, sizeof work) != 0) {
    snprintf(why, wn, "cannot create a directory in the image store: %s", strerror(errno));
    return -1;
  }
  pathf(dest, sizeof dest, "oci:%s/layout:img", work);
  char *argv[12];
  int k = 0;
  argv[k++] = "skopeo";
  argv[k++] = "copy";
  argv[k++] = "--quiet";
  if (insecure) argv[k++] = "--src-tls-verify=false";
  if (cfg.registry_auth) argv[k++] = "--authfile", argv[k++] = cfg.registry_auth;
  argv[k++] = (char *)src;
  argv[k++] = dest;
  argv[k] = NULL;
  char err[4096];
  int status = proc_run(argv, NULL, 0, err, sizeof err);
  int rc = -1;
  if (status != 0) {
    if (status < 0 && !err[0]) snprintf(err, sizeof err, "cannot run skopeo (is it installed?)");
    skopeo_reason(err, why, wn, "cannot fetch the image");
  } else {
    pathf(dest, sizeof dest, "%s/layout", work);
    rc = add_layout(dest, ref, why, wn);
  }
  rm_rf(work);
  return rc;
}

int store_pull(const image_ref *ref, char *why, size_t wn) {
  char src[1200];
  pathf(src, sizeof src, "docker://%s", ref->full);
  return copy_in(src, ref->loopback, ref->full, why, wn);
}

int store_import(const char *archive, const char *name, char *why, size_t wn) {
  image_ref ref;
  char rwhy[256];
  if (image_ref_parse(name, &ref, rwhy, sizeof rwhy) != 0) {
    snprintf(why, wn, "'%s' %s", name, rwhy);
    return -1;
  }
  char src[4200];
  if (pathf(src, sizeof src, "%s:%s", archive_is_oci(archive) ? "oci-archive" : "docker-archive", archive) != 0)
    return snprintf(why, wn, "the archive's path is too long"), -1;
  return copy_in(src, 0, ref.full, why, wn);
}

/* The unpacked image a reference names, if the store has it. */
static int lookup(const char *ref, char *key, size_t kn) {
  char esc[2048], dir[4200], path[6400];
  escape(ref, esc, sizeof esc);
  store_path(dir, sizeof dir, "refs");
  pathf(path, sizeof path, "%s/%s", dir, esc);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[128] = "";
  int ok = fgets(line, sizeof line, f) != NULL;
  fclose(f);
  line[strcspn(line, "\n")] = '\0';
  if (!ok || strchr(line, '/') || !line[0]) return -1;
  store_path(dir, sizeof dir, "sha256");
  pathf(path, sizeof path, "%s/%s/meta.json", dir, line);
  if (access(path, F_OK) != 0) return -1;
  snprintf(key, kn, "%s", line);
  return 0;
}

static json_t *load_meta(const char *key) {
  char dir[4200], path[4400];
  store_path(dir, sizeof dir, "sha256");
  pathf(path, sizeof path, "%s/%s/meta.json", dir, key);
  return json_load_file(path, 0, NULL);
}

json_t *store_list(void) {
  json_t *out = json_array();
  char dir[4200];
  store_path(dir, sizeof dir, "refs");
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp")) continue;
    char ref[1200], key[128];
    unescape(e->d_name, ref, sizeof ref);
    if (lookup(ref, key, sizeof key) != 0) continue;
    json_t *meta = load_meta(key);
    json_array_append_new(out, json_pack("{sssOsO}", "reference", ref, "id", json_object_get(meta, "digest"), "size",
                                         json_object_get(meta, "size")));
    json_decref(meta);
  }
  if (d) closedir(d);
  return out;
}

int store_remove(const char *name, char *why, size_t wn) {
  image_ref ref;
  char rwhy[256], key[128];
  if (image_ref_parse(name, &ref, rwhy, sizeof rwhy) != 0) return snprintf(why, wn, "'%s' %s", name, rwhy), -1;
  if (lookup(ref.full, key, sizeof key) != 0) return snprintf(why, wn, "no image %s in the store", ref.full), -1;
  char esc[2048], dir[4200], path[6400], lock[4400];
  /* a live sandbox of any server on this store holds its image's lock shared */
  store_path(dir, sizeof dir, "sha256");
  pathf(lock, sizeof lock, "%s/%s/lock", dir, key);
  int held = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (held >= 0 && flock(held, LOCK_EX | LOCK_NB) != 0) {
    close(held);
    return snprintf(why, wn, "%s is used by a live sandbox", ref.full), -1;
  }
  escape(ref.full, esc, sizeof esc);
  store_path(dir, sizeof dir, "refs");
  pathf(path, sizeof path, "%s/%s", dir, esc);
  if (unlink(path) != 0) {
    if (held >= 0) close(held);
    return snprintf(why, wn, "cannot remove %s: %s", ref.full, strerror(errno)), -1;
  }
  /* the unpacked image goes with its last reference */
  json_t *left = store_list();
  size_t i;
  json_t *v;
  char digest[80] = "";
  json_t *meta = load_meta(key);
  snprintf(digest, sizeof digest, "%s", json_string_value(json_object_get(meta, "digest")) ?: "");
  json_decref(meta);
  int used = 0;
  json_array_foreach(left, i, v) used |= !strcmp(json_string_value(json_object_get(v, "id")) ?: "", digest);
  json_decref(left);
  if (!used) {
    char trash[4400], victim[4400];
    store_path(dir, sizeof dir, "sha256");
    pathf(victim, sizeof victim, "%s/%s", dir, key);
    if (tmp_dir("rm", trash, sizeof trash) == 0) {
      char dest[4500];
      pathf(dest, sizeof dest, "%s/img", trash);
      if (rename(victim, dest) == 0) rm_rf(trash);
    }
  }
  if (held >= 0) close(held);
  return 0;
}

/* ---- resolving a sandbox's image ---- */
typedef struct pull {
  char ref[1200];
  int done, rc, refs;
  char why[1024];
  pthread_cond_t cond;
  struct pull *next;
} pull;
static pthread_mutex_t pulls_lock = PTHREAD_MUTEX_INITIALIZER;
static pull *pulls;

/* Pulls ref once however many sandboxes ask for it at the same time. */
static int pull_once(const image_ref *ref, char *why, size_t wn) {
  pthread_mutex_lock(&pulls_lock);
  pull *p = pulls;
  while (p && strcmp(p->ref, ref->full)) p = p->next;
  if (p) {
    p->refs++;
    while (!p->done) pthread_cond_wait(&p->cond, &pulls_lock);
  } else {
    p = calloc(1, sizeof *p);
    if (!p) {
      pthread_mutex_unlock(&pulls_lock);
      return snprintf(why, wn, "out of memory"), -1;
    }
    snprintf(p->ref, sizeof p->ref, "%s", ref->full);
    pthread_cond_init(&p->cond, NULL);
    p->refs = 1;
    p->next = pulls;
    pulls = p;
    pthread_mutex_unlock(&pulls_lock);
    p->rc = store_pull(ref, p->why, sizeof p->why);
    pthread_mutex_lock(&pulls_lock);
    p->done = 1;
    for (pull **pp = &pulls; *pp; pp = &(*pp)->next)
      if (*pp == p) {
        *pp = p->next;
        break;
      }
    pthread_cond_broadcast(&p->cond);
  }
  int rc = p->rc;
  snprintf(why, wn, "%s", p->why);
  if (--p->refs == 0) {
    pthread_cond_destroy(&p->cond);
    free(p);
  }
  pthread_mutex_unlock(&pulls_lock);
  return rc;
}

int image_resolve(const char *image, image_info *out, char *why, size_t wn) {
  memset(out, 0, sizeof *out);
  out->hold = -1;
  snprintf(out->home, sizeof out->home, "/root");
  if (!strcmp(image, "host")) {
    out->host = 1;
    return 0;
  }
  for (int i = 0; i < cfg.nimages; i++)
    if (!strcmp(cfg.images[i].name, image)) {
      snprintf(out->rootfs, sizeof out->rootfs, "%s", cfg.images[i].path);
      return 0;
    }
  image_ref ref;
  char rwhy[256], key[128];
  if (image_ref_parse(image, &ref, rwhy, sizeof rwhy) != 0) return snprintf(why, wn, "%s", rwhy), -1;
  if (lookup(ref.full, key, sizeof key) != 0) {
    if (pull_once(&ref, why, wn) != 0) return -1;
    if (lookup(ref.full, key, sizeof key) != 0) return snprintf(why, wn, "the image vanished from the store"), -1;
  }
  json_t *meta = load_meta(key);
  if (!meta) return snprintf(why, wn, "the image's record in the store is unreadable"), -1;
  char dir[4200];
  store_path(dir, sizeof dir, "sha256");
  if (pathf(out->rootfs, sizeof out->rootfs, "%s/%s/rootfs", dir, key) != 0) {
    json_decref(meta);
    return snprintf(why, wn, "the image store's path is too long"), -1;
  }
  /* held until the sandbox ends; removed between the lookup and the lock, it is gone */
  out->hold = store_hold(out->rootfs);
  if (out->hold < 0 || access(out->rootfs, F_OK) != 0) {
    json_decref(meta);
    image_info_free(out);
    return snprintf(why, wn, "the image was removed from the store meanwhile"), -1;
  }
  json_t *c = json_object_get(meta, "config");
  out->config = json_is_object(c) ? json_incref(c) : NULL;
  out->uid = (unsigned)json_integer_value(json_object_get(meta, "uid"));
  out->gid = (unsigned)json_integer_value(json_object_get(meta, "gid"));
  const char *home = json_string_value(json_object_get(meta, "home"));
  if (home) snprintf(out->home, sizeof out->home, "%s", home);
  else if (json_object_get(meta, "uid")) snprintf(out->home, sizeof out->home, "/");
  const char *ue = json_string_value(json_object_get(meta, "user_error"));
  if (ue) snprintf(out->user_error, sizeof out->user_error, "%s", ue);
  json_decref(meta);
  return 0;
}

void image_info_free(image_info *info) {
  json_decref(info->config);
  info->config = NULL;
  if (info->hold >= 0) close(info->hold);
  info->hold = -1;
}
