/* The scripted HTTP server of the wire specs (porter-scripted-server). */
#ifndef TESTSRV_H
#define TESTSRV_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sha256_ctx {
  uint32_t h[8];
  uint64_t len;
  uint8_t buf[64];
  size_t fill;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_hex(sha256_ctx *c, char out[65]);

#endif
