/* fh.c - NFS file handle codec: a fixed 56-byte layout (fh.h) sealed
 * with a truncated HMAC-SHA256, so that any handle a client forges,
 * corrupts or carries over from another network is refused before it
 * reaches the namespace layer. */
#include "fh.h"

#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "merr.h"
#include "mlog.h"

#define FH_OFF_VERSION 0
#define FH_OFF_RESERVED 1
#define FH_OFF_EXPORT 2
#define FH_OFF_HOME 4
#define FH_OFF_ID (FH_OFF_HOME + KEYS_RING_LEN) /* 24 */
#define FH_OFF_MAC (FH_OFF_ID + KEYS_ID_LEN)    /* 40 */
#define FH_MAC_LEN 16

_Static_assert(FH_OFF_MAC + FH_MAC_LEN == FH_LEN, "handle layout");

/* MAC of bytes 0..39 under K_handle, truncated to FH_MAC_LEN. */
static int fh_mac(const magma_keys *k, const uint8_t *body,
                  uint8_t mac[FH_MAC_LEN])
{
	uint8_t full[32];
	int rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, k->handle, KEYS_LEN, body,
	                          FH_OFF_MAC, full);
	if (rc < 0) {
		LOG_E("HMAC-SHA256 failed: %s", gnutls_strerror(rc));
		return MAGMA_ECRYPTO;
	}
	memcpy(mac, full, FH_MAC_LEN);
	return 0;
}

int fh_encode(const magma_keys *k, uint16_t export_id, const fs_ref *ref,
              uint8_t out[FH_LEN])
{
	uint8_t h[FH_LEN];
	int rc;

	/* A volunteer has no handle key; a handle sealed with zeros would
	 * be forgeable. */
	if (!k->have_content)
		return MAGMA_EINVAL;
	h[FH_OFF_VERSION] = FH_VERSION;
	h[FH_OFF_RESERVED] = 0;
	h[FH_OFF_EXPORT] = (uint8_t)(export_id >> 8);
	h[FH_OFF_EXPORT + 1] = (uint8_t)export_id;
	memcpy(h + FH_OFF_HOME, ref->home, KEYS_RING_LEN);
	memcpy(h + FH_OFF_ID, ref->id, KEYS_ID_LEN);
	rc = fh_mac(k, h, h + FH_OFF_MAC);
	if (rc < 0)
		return rc;
	memcpy(out, h, FH_LEN);
	return 0;
}

int fh_decode(const magma_keys *k, const void *fh, size_t len,
              uint16_t *export_id, fs_ref *ref)
{
	const uint8_t *h = fh;
	uint8_t mac[FH_MAC_LEN];
	int rc;

	if (!k->have_content)
		return MAGMA_EINVAL;
	if (h == NULL || len != FH_LEN || h[FH_OFF_VERSION] != FH_VERSION ||
	    h[FH_OFF_RESERVED] != 0)
		return MAGMA_EBADHANDLE;
	rc = fh_mac(k, h, mac);
	if (rc < 0)
		return rc;
	/* Constant time, so the MAC cannot be guessed byte by byte. */
	if (gnutls_memcmp(mac, h + FH_OFF_MAC, FH_MAC_LEN) != 0)
		return MAGMA_EBADHANDLE;
	*export_id = (uint16_t)((h[FH_OFF_EXPORT] << 8) | h[FH_OFF_EXPORT + 1]);
	memcpy(ref->home, h + FH_OFF_HOME, KEYS_RING_LEN);
	memcpy(ref->id, h + FH_OFF_ID, KEYS_ID_LEN);
	return 0;
}
