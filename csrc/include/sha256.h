/* SHA-256 (FIPS 180-4), streamed (csrc/common/sha256.c): the scripted server hashes uploads as
 * they arrive, the unpacker a layer's uncompressed bytes (its diff_id) as it applies them. */
#ifndef SHA256_H
#define SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct sha256_ctx {
  uint32_t h[8];
  uint64_t len;
  uint8_t buf[64];
  size_t fill;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_hex(sha256_ctx *c, char out[65]); /* lowercase hex and a NUL */

#endif
