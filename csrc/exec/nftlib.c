/* libnftables through dlopen, not linked: a library linked into porter-sandbox-exec is mapped in
 * every launcher and every pid 1 for the sandbox's whole life, and libnftables with what it
 * pulls in (libnftnl, libmnl, libxtables, libgmp, jansson) dirties about 120 KiB of relocations
 * in each. Only a short-lived child that installs the rules (netfilter.c) and the resolver of an
 * allow list (dns.c) load it. */
#include <dlfcn.h>
#include "helper.h"
#include "nftlib.h"

int nft_lib_load(nft_lib *l) {
  void *h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) return report("cannot load nftables: %s", dlerror()), -1;
  l->ctx_new = (__typeof__(l->ctx_new))dlsym(h, "nft_ctx_new");
  l->ctx_free = (__typeof__(l->ctx_free))dlsym(h, "nft_ctx_free");
  l->buffer_output = (__typeof__(l->buffer_output))dlsym(h, "nft_ctx_buffer_output");
  l->buffer_error = (__typeof__(l->buffer_error))dlsym(h, "nft_ctx_buffer_error");
  l->error_buffer = (__typeof__(l->error_buffer))dlsym(h, "nft_ctx_get_error_buffer");
  l->run = (__typeof__(l->run))dlsym(h, "nft_run_cmd_from_buffer");
  if (!l->ctx_new || !l->ctx_free || !l->buffer_output || !l->buffer_error || !l->error_buffer || !l->run)
    return report("cannot load nftables: libnftables.so.1 lacks a function we use"), -1;
  return 0; /* never closed: the process that loads it ends with it */
}
