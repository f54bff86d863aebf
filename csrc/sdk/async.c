/* The transport of AsyncPorter: libcurl's multi interface. Tasks are coroutines scheduled by
 * the Lua façade (async.lua); a call inside a task yields its request (http.c), the
 * scheduler hands it to _submit, and _wait sleeps in curl_multi_poll until transfers end,
 * answering which requests to resume. Retries come back through _submit with a not_before
 * time, so a back-off delays only its own task. */
#include <stdlib.h>
#include <string.h>
#include "porter.h"

typedef struct async_loop {
  CURLM *multi;
  CURL **pool; /* idle easy handles: their options are set once */
  int npool, cappool;
  porter_preq **active; /* in the multi, or waiting for their not_before */
  int nactive, capactive;
} async_loop;

static const char TASKS_KEY[] = "porter_sandbox.tasks";

static porter_client *async_client_test(lua_State *L, int idx) {
  porter_client *c = luaL_testudata(L, idx, MT_ASYNC);
  return c && !c->closed ? c : NULL;
}

static async_loop *loop_get(lua_State *L, porter_client *c) {
  if (c->loop) return c->loop;
  async_loop *lp = calloc(1, sizeof *lp);
  if (!lp || !(lp->multi = curl_multi_init())) {
    free(lp);
    porter_raise(L, ERR_BASE, 0, 0, "could not initialise libcurl");
  }
  /* bounds the requests in flight; curl queues the rest until a connection frees up */
  curl_multi_setopt(lp->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->max_connections);
  curl_multi_setopt(lp->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->max_connections);
  curl_multi_setopt(lp->multi, CURLMOPT_MAXCONNECTS, (long)c->max_connections);
  c->loop = lp;
  return lp;
}

void async_close(porter_client *c) {
  async_loop *lp = c->loop;
  if (!lp) return;
  for (int i = 0; i < lp->nactive; i++) {
    porter_preq *r = lp->active[i];
    if (r->easy) {
      curl_multi_remove_handle(lp->multi, r->easy);
      curl_easy_cleanup(r->easy);
      r->easy = NULL;
    }
    r->queued = 0;
  }
  for (int i = 0; i < lp->npool; i++) curl_easy_cleanup(lp->pool[i]);
  curl_multi_cleanup(lp->multi);
  free(lp->pool);
  free(lp->active);
  free(lp);
  c->loop = NULL;
}

static void start(lua_State *L, porter_client *c, async_loop *lp, porter_preq *r) {
  CURL *e;
  if (lp->npool) {
    e = lp->pool[--lp->npool];
  } else {
    if (!(e = curl_easy_init())) porter_raise(L, ERR_BASE, 0, 0, "could not initialise libcurl");
    easy_init_common(c, e);
  }
  preq_prepare(r, e);
  curl_easy_setopt(e, CURLOPT_PRIVATE, r);
  r->easy = e;
  if (curl_multi_add_handle(lp->multi, e) != CURLM_OK) {
    r->easy = NULL;
    curl_easy_cleanup(e);
    porter_raise(L, ERR_BASE, 0, 0, "could not start a transfer");
  }
}

static void active_remove(async_loop *lp, porter_preq *r) {
  for (int i = 0; i < lp->nactive; i++)
    if (lp->active[i] == r) {
      lp->active[i] = lp->active[--lp->nactive];
      return;
    }
}

/* aporter:_submit(preq) -> key (a light userdata naming the request) */
static int async_submit(lua_State *L) {
  porter_client *c = client_check(L, 1);
  porter_preq *r = luaL_checkudata(L, 2, MT_PREQ);
  async_loop *lp = loop_get(L, c);
  if (lp->nactive == lp->capactive) {
    int cap = lp->capactive ? lp->capactive * 2 : 64;
    porter_preq **a = realloc(lp->active, sizeof *a * (size_t)cap);
    if (!a) return luaL_error(L, "not enough memory");
    lp->active = a;
    lp->capactive = cap;
  }
  if (lp->npool == lp->cappool) {
    /* room to take every easy handle back without allocating when transfers end */
    int cap = lp->cappool ? lp->cappool * 2 : 64;
    CURL **p = realloc(lp->pool, sizeof *p * (size_t)cap);
    if (!p) return luaL_error(L, "not enough memory");
    lp->pool = p;
    lp->cappool = cap;
  }
  lp->active[lp->nactive++] = r;
  r->queued = 1;
  r->easy = NULL;
  if (r->not_before <= porter_now()) start(L, c, lp, r);
  lua_pushlightuserdata(L, r);
  return 1;
}


void async_forget(porter_client *c, porter_preq *r) {
  async_loop *lp = c->loop;
  if (!lp || !r->queued) return;
  if (r->easy) {
    curl_multi_remove_handle(lp->multi, r->easy);
    if (lp->npool < lp->cappool) lp->pool[lp->npool++] = r->easy;
    else curl_easy_cleanup(r->easy);
    r->easy = NULL;
  }
  r->queued = 0;
  active_remove(lp, r);
}

/* aporter:_cancel_all(): abandons every transfer (a gather that failed in its scheduler). */
static int async_cancel_all(lua_State *L) {
  porter_client *c = async_client_test(L, 1);
  if (c && c->loop)
    while (c->loop->nactive > 0) async_forget(c, c->loop->active[0]);
  return 0;
}

/* aporter:_wait([max_seconds]) -> array of keys of requests whose transfer ended; sleeps
 * until at least one did, or max_seconds passed (the scheduler's own timers). */
static int async_wait(lua_State *L) {
  porter_client *c = client_check(L, 1);
  double deadline = lua_isnoneornil(L, 2) ? -1 : porter_now() + luaL_checknumber(L, 2);
  async_loop *lp = loop_get(L, c);
  lua_newtable(L);
  int n = 0;
  if (lp->nactive == 0 && deadline > 0) {
    double left = deadline - porter_now();
    if (left > 0) curl_multi_poll(lp->multi, NULL, 0, (int)(left * 1000.0) + 1, NULL);
  }
  while (lp->nactive > 0) {
    double now = porter_now(), next = -1;
    for (int i = 0; i < lp->nactive; i++) {
      porter_preq *r = lp->active[i];
      if (r->easy) continue;
      if (r->not_before <= now) start(L, c, lp, r);
      else if (next < 0 || r->not_before < next) next = r->not_before;
    }
    int running;
    c->cb_L = L; /* progress functions run on the scheduler's state */
    curl_multi_perform(lp->multi, &running);
    c->cb_L = NULL;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(lp->multi, &left))) {
      if (msg->msg != CURLMSG_DONE) continue;
      porter_preq *r = NULL;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
      preq_done(r, msg->easy_handle, msg->data.result);
      async_forget(c, r);
      lua_pushlightuserdata(L, r);
      lua_rawseti(L, -2, ++n);
    }
    if (n || (deadline > 0 && porter_now() >= deadline)) break;
    long ms = 1000;
    curl_multi_timeout(lp->multi, &ms);
    if (ms < 0 || ms > 1000) ms = 1000;
    if (deadline > 0 && (next < 0 || deadline < next)) next = deadline;
    if (next >= 0) {
      long t = (long)((next - porter_now()) * 1000.0) + 1;
      if (t < ms) ms = t < 0 ? 0 : t;
    }
    curl_multi_poll(lp->multi, NULL, 0, (int)ms, NULL);
  }
  return 1;
}

/* aporter:_tasks() -> the weak table marking coroutines that run as tasks of a client */
static int async_tasks(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, TASKS_KEY);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, TASKS_KEY);
  }
  return 1;
}

/* Used by http.c: is the running coroutine a task of client c_idx? */
int async_in_task(lua_State *L, int client_idx) {
  lua_getfield(L, LUA_REGISTRYINDEX, TASKS_KEY);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushthread(L);
  lua_rawget(L, -2);
  int yes = lua_rawequal(L, -1, client_idx);
  lua_pop(L, 2);
  return yes;
}

const luaL_Reg async_methods[] = {
  {"_submit", async_submit},
  {"_wait", async_wait},
  {"_tasks", async_tasks},
  {"_cancel_all", async_cancel_all},
  {NULL, NULL},
};
