/* What a sandbox's workload runs: its argv and its environment, from the image's config and the
 * spec (runtime.c starts it, and gives the environment to every exec). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "launch_flags.h"
#include "server.h"
#include "launchargs.h"
#include "workload.h"
#include "images.h"

/* ---- the environment: the image's, then PATH/HOME/HOSTNAME if it lacks them, then env
 * groups in order, then the spec's env; later wins ---- */
static int env_set(argv_buf *env, const char *k, size_t kl, const char *v, int replace) {
  for (int i = 0; i < env->n; i++)
    if (!strncmp(env->v[i], k, kl) && env->v[i][kl] == '=') {
      if (!replace) return 0;
      char *nv = NULL;
      if (asprintf(&nv, "%.*s=%s", (int)kl, k, v) < 0) return -1;
      free(env->v[i]);
      env->v[i] = nv;
      return 0;
    }
  char *nv = NULL;
  if (asprintf(&nv, "%.*s=%s", (int)kl, k, v) < 0) return -1;
  argv_add(env, nv);
  free(nv);
  return env->oom ? -1 : 0;
}

static void env_line(argv_buf *env, const char *kv, int replace) {
  const char *eq = strchr(kv, '=');
  if (eq && eq != kv) env_set(env, kv, (size_t)(eq - kv), eq + 1, replace);
}

char **workload_env(json_t *spec, const char *name, const image_info *img, int proxied) {
  argv_buf env = {0};
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(img->config, "Env"), i, v) if (json_is_string(v)) env_line(&env, json_string_value(v), 1);
  env_set(&env, "PATH", 4, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
  env_set(&env, "HOME", 4, img->host || !img->config ? "/tmp" : img->home, 0);
  env_set(&env, "HOSTNAME", 8, name, 1);
  if (proxied) {
    static const char *const vars[] = {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", NULL};
    for (int k = 0; vars[k]; k++) env_set(&env, vars[k], strlen(vars[k]), "http://127.0.0.1:3128", 1);
    env_set(&env, "ALL_PROXY", 9, "socks5h://127.0.0.1:3128", 1);
    env_set(&env, "all_proxy", 9, "socks5h://127.0.0.1:3128", 1);
    env_set(&env, "NO_PROXY", 8, "localhost,127.0.0.1,::1", 1);
    env_set(&env, "no_proxy", 8, "localhost,127.0.0.1,::1", 1);
  }
  json_array_foreach(json_object_get(spec, "env_groups"), i, v) {
    for (int k = 0; k < cfg.ngroups; k++) {
      if (strcmp(cfg.env_groups[k].name, json_string_value(v))) continue;
      FILE *f = fopen(cfg.env_groups[k].path, "r");
      char line[8192];
      while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '#') env_line(&env, line, 1);
      }
      if (f) fclose(f);
    }
  }
  const char *k;
  json_object_foreach(json_object_get(spec, "env"), k, v) env_set(&env, k, strlen(k), json_string_value(v), 1);
  if (env.oom) {
    argv_free(&env);
    return NULL;
  }
  if (!env.v) env.v = calloc(1, sizeof *env.v); /* NULL (out of memory) is the caller's error */
  return env.v;
}

/* Kubernetes' rules: command replaces the ENTRYPOINT, args replace the CMD (and a command
 * without args drops the CMD). Neither: the sandbox idles, so that exec has something to join. */
int workload_command(argv_buf *a, json_t *spec, json_t *config, char *why, size_t wn) {
  json_t *cmd = json_object_get(spec, "command"), *args = json_object_get(spec, "args");
  int has_cmd = json_array_size(cmd) > 0, has_args = json_array_size(args) > 0;
  if (!has_cmd && !has_args) {
    argv_add(a, LF_IDLE);
    return 0;
  }
  json_t *entry = has_cmd ? cmd : json_object_get(config, "Entrypoint");
  json_t *rest = has_args ? args : has_cmd ? NULL : json_object_get(config, "Cmd");
  if (json_array_size(entry) + json_array_size(rest) == 0) {
    snprintf(why, wn, "the image has no ENTRYPOINT and the spec gives args but no command");
    return -1;
  }
  argv_add(a, "--");
  size_t i;
  json_t *v;
  json_array_foreach(entry, i, v) argv_add(a, json_string_value(v) ? json_string_value(v) : "");
  json_array_foreach(rest, i, v) argv_add(a, json_string_value(v) ? json_string_value(v) : "");
  return 0;
}
