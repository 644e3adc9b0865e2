/* fh.h - NFS file handle codec (DESIGN.md section 3).
 *
 * Layout, 56 bytes:
 *   0      version (FH_VERSION)
 *   1      reserved, 0
 *   2..3   export id (BE)
 *   4..23  home ring key of the flare
 *   24..39 flare id
 *   40..55 HMAC-SHA256(K_handle, bytes 0..39) truncated to 16 bytes
 * A handle of another length, version or with a wrong MAC is
 * MAGMA_EBADHANDLE. Whether the flare still exists is fs's business
 * (MAGMA_ESTALE). */
#ifndef MAGMA_FH_H
#define MAGMA_FH_H

#include <stddef.h>
#include <stdint.h>

#include "fs.h"
#include "keys.h"

#define FH_VERSION 1
#define FH_LEN 56

int fh_encode(const magma_keys *k, uint16_t export_id, const fs_ref *ref,
              uint8_t out[FH_LEN]);
int fh_decode(const magma_keys *k, const void *fh, size_t len,
              uint16_t *export_id, fs_ref *ref);

#endif
