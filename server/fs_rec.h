/* fs_rec.h - the record formats of the namespace layer (see fs.h).
 *
 * Every value starts with a format byte (FS_REC_FMT) followed by
 * fixed-size little-endian fields.  Decoding is bounded: a value that is
 * short, long or of an unknown format is MAGMA_EIO (logged), never a
 * crash.  Encoding and decoding live here only, so that the AEAD layer
 * planned for later has one place to wrap.
 *
 * Sub keys (bytes under one ring key):
 *   flare  "F" || id                      (FS_SUB_FLARE_LEN)
 *   chunk  "C" || id || idx (8, BE)       (FS_SUB_CHUNK_LEN)
 *   name   "N"                            (1)
 *   entry  "D" || name key                (FS_SUB_ENTRY_LEN) */
#ifndef MAGMA_FS_REC_H
#define MAGMA_FS_REC_H

#include <stddef.h>
#include <stdint.h>

#include "fs.h"

#define FS_REC_FMT 1

#define FS_SUB_FLARE_LEN (1 + KEYS_ID_LEN)
#define FS_SUB_CHUNK_LEN (1 + KEYS_ID_LEN + 8)
#define FS_SUB_ENTRY_LEN (1 + KEYS_RING_LEN)

/* The flare record: everything fs knows about one flare except its data. */
typedef struct fs_rec {
	uint32_t type, mode, nlink, uid, gid;
	uint64_t size, used;
	uint32_t rdev_major, rdev_minor;
	fs_time atime, mtime, ctime;
	fs_ref parent; /* directories: the parent (root: itself) */
	int has_verf;  /* exclusive create verifier stored */
	uint8_t verf[8];
	uint32_t target_len; /* symlinks: target, NUL-terminated */
	char target[FS_PATH_MAX + 1];
} fs_rec;

/* A name binding ("N") and a directory entry ("D"). */
typedef struct fs_bind {
	uint32_t type;
	fs_ref ref;
} fs_bind;

typedef struct fs_ent {
	uint32_t type;
	fs_ref ref;
	uint8_t name_key[KEYS_RING_LEN];
	size_t namelen;
	char name[FS_NAME_MAX + 1]; /* NUL-terminated */
} fs_ent;

/* Encoders: *out is malloc'd (caller frees), *len its length. */
int fs_rec_encode(const fs_rec *r, uint8_t **out, size_t *len);
int fs_bind_encode(const fs_bind *b, uint8_t **out, size_t *len);
int fs_ent_encode(const fs_ent *e, uint8_t **out, size_t *len);

/* Decoders: 0, or MAGMA_EIO for a corrupt value. */
int fs_rec_decode(const void *val, size_t len, fs_rec *r);
int fs_bind_decode(const void *val, size_t len, fs_bind *b);
/* name_key is taken from the entry's sub key (sub must be the full
 * FS_SUB_ENTRY_LEN bytes). */
int fs_ent_decode(const void *sub, size_t sublen, const void *val, size_t len,
                  fs_ent *e);

/* Sub key builders; out must hold the stated length. */
void fs_sub_flare(const uint8_t id[KEYS_ID_LEN], uint8_t out[FS_SUB_FLARE_LEN]);
void fs_sub_chunk(const uint8_t id[KEYS_ID_LEN], uint64_t idx,
                  uint8_t out[FS_SUB_CHUNK_LEN]);
void fs_sub_entry(const uint8_t name_key[KEYS_RING_LEN],
                  uint8_t out[FS_SUB_ENTRY_LEN]);

uint64_t fs_be64_get(const uint8_t *p);
void fs_be64_put(uint8_t *p, uint64_t v);

#endif
