/* keys.h - key derivation from the network keyphrase (GnuTLS KDFs) and
 * the keyed hashes that place flares on the ring.
 *
 * keyphrase --PBKDF2-SHA256(salt "magma/v1/join/")--> join master
 * join master --HKDF-expand("magma join token")--> join token (TLS PSK)
 * keyphrase --PBKDF2-SHA256(salt "magma/v1/" || network name)--> master
 * master --HKDF-expand("magma content")--> content secret, from which
 *   ring (HMAC-SHA1 key), aead and handle keys are expanded.
 * The join token needs no network name, so `magmactl join` can open TLS
 * to a member with the keyphrase alone and learn the name inside it
 * (HELLO); networks sharing a keyphrase share the token, and HELLO/JOIN
 * tell them apart by name.  A node given only the join token cannot
 * compute the content keys. */
#ifndef MAGMA_KEYS_H
#define MAGMA_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_LEN 32
#define KEYS_ID_LEN 16   /* flare id */
#define KEYS_RING_LEN 20 /* ring key */
#define KEYS_PBKDF2_ITER 100000

typedef struct magma_keys {
	uint8_t join_token[KEYS_LEN];
	uint8_t ring[KEYS_LEN];
	uint8_t aead[KEYS_LEN];
	uint8_t handle[KEYS_LEN];
	int have_content; /* 0 on a volunteer holding only the join token */
} magma_keys;

/* Derive every key from the keyphrase and network name (join_token as
 * keys_derive_join).  *out is untouched on failure. */
int keys_derive(const void *phrase, size_t len, const char *network,
                magma_keys *out);

/* The join token alone, from the keyphrase alone.  MAGMA_EINVAL on an
 * empty phrase; out is untouched on failure. */
int keys_derive_join(const void *phrase, size_t len, uint8_t out[KEYS_LEN]);

/* Read a keyphrase file: the whole file less one trailing newline.
 * Refuses files readable by group/other (MAGMA_ECONFIG, logged), empty
 * files and files over 4 KiB.  *phrase is malloc'd; caller frees. */
int keys_read_phrase_file(const char *path, char **phrase, size_t *len);

/* Ring key of the root directory: HMAC-SHA1(K_ring, "/"). */
void keys_ring_root(const magma_keys *k, uint8_t out[KEYS_RING_LEN]);

/* Ring key of name in the directory with flare id parent:
 * HMAC-SHA1(K_ring, parent_id || "/" || name). */
void keys_ring_child(const magma_keys *k, const uint8_t parent[KEYS_ID_LEN],
                     const char *name, size_t namelen,
                     uint8_t out[KEYS_RING_LEN]);

/* Ring key of a per-flare record set other than the flare itself, e.g.
 * a directory's entries: HMAC-SHA1(K_ring, purpose || 0 || id). */
void keys_ring_derived(const magma_keys *k, const char *purpose,
                       const uint8_t id[KEYS_ID_LEN],
                       uint8_t out[KEYS_RING_LEN]);

/* Fill buf with cryptographically random bytes (GnuTLS nonce RNG). */
int keys_random(void *buf, size_t len);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void keys_hex(const uint8_t *in, size_t len, char *out);

#endif
