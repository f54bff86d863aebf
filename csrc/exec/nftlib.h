/* libnftables, loaded only by the processes that use it (nftlib.c). */
#ifndef NFTLIB_H
#define NFTLIB_H

#include <nftables/libnftables.h>

typedef struct nft_lib {
  __typeof__(nft_ctx_new) *ctx_new;
  __typeof__(nft_ctx_free) *ctx_free;
  __typeof__(nft_ctx_buffer_output) *buffer_output;
  __typeof__(nft_ctx_buffer_error) *buffer_error;
  __typeof__(nft_ctx_get_error_buffer) *error_buffer;
  __typeof__(nft_run_cmd_from_buffer) *run;
} nft_lib;

/* 0, or -1 with the reason reported. */
int nft_lib_load(nft_lib *l);

#endif
