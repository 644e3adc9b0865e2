/* store_int.h - what store.c and store_repl.c share: the store struct,
 * error translation, the record codec and the record writers that keep
 * the tombstone index right.  Internal to store/; not an API. */
#ifndef MAGMA_STORE_INT_H
#define MAGMA_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A record's header (store.h "On disk"): u64 version, u8 flags, then,
 * when the flags byte has STORE_HDR_HASHED, the value's hash. */
#define STORE_VHASH_LEN 16                         /* XXH128, canonical (BE) */
#define STORE_HDR_V1 9                             /* format 1: no hash */
#define STORE_HDR (STORE_HDR_V1 + STORE_VHASH_LEN) /* every write since */
#define STORE_HDR_HASHED 0x80u /* flags byte only: the hash is there */
#define STORE_KEYMAX (KV_KEY_LEN + KV_SUB_MAX)
/* tomb index key: u64 BE deletion time || record key */
#define STORE_TIDX_MAX (8 + STORE_KEYMAX)

struct store {
	kv kv; /* first: store_kv() hands out &s->kv */
	MDB_env *env;
	MDB_dbi rec;
	MDB_dbi meta;
	MDB_dbi tomb;     /* tombstone index (see store_rec_write) */
	int tombstones;   /* STORE_TOMBSTONES: deletes leave tombstones */
	int restart_ties; /* atomic: store_set_restart_ties */
	char *dir;        /* owned: strdup of cfg->dir, for statvfs and logs */
	uint64_t map_size;
	int fd;          /* LMDB's data file descriptor (not owned) */
	int dfd;         /* owned: O_DIRECT descriptor of it, or -1 */
	uint8_t *zeros;  /* owned: STORE_ZERO_BUF zero bytes for growth */
	int grow_off;    /* atomic: growth failed for lack of space */
	int grow_always; /* STORE_GROW_AHEAD */
	/* Growth ahead (store.c "Growth"): gmu is held by whoever writes
	 * zeros, and by a transaction of unknown size for its length;
	 * greq guards the grower thread's request and stop. */
	pthread_mutex_t gmu, greq;
	pthread_cond_t gcv;
	pthread_t grower, gowner;        /* gowner: the txn holding gmu */
	int grower_on, grow_stop, gheld; /* gheld: atomic */
	uint64_t grow_want; /* file size the grower is asked for, or 0 */
	/* Set by store_apply_collect for the length of its write
	 * transaction (LMDB runs one writer at a time): store_rec_write
	 * then notes every record it writes. */
	struct store_collect *collect;
};

/* A decoded record value; the pointer is into LMDB's map, valid until
 * the transaction ends or writes to that page. */
typedef struct store_raw {
	uint64_t ver;
	uint8_t flags; /* STORE_REC_* (STORE_HDR_HASHED taken out) */
	const uint8_t *val;
	size_t vallen;
	const uint8_t *vhash; /* the stored hash of val; NULL in a record
	                         written by format 1 */
} store_raw;

static inline void store_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t store_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline int store_is_tomb(const store_raw *r)
{
	return (r->flags & STORE_REC_TOMBSTONE) != 0;
}

/* The hash of r's value: the stored one, or computed (format 1). */
void store_rec_vhash(const store_raw *r, uint8_t out[STORE_VHASH_LEN]);

/* LMDB code to MAGMA_E*, logging real failures; what names the step. */
int store_err(int rc, const char *what);
/* Bytewise order (shorter prefix first), as LMDB's; NULL when empty ok. */
int store_bytes_cmp(const void *a, size_t alen, const void *b, size_t blen);
/* Build ring key || sub into buf (STORE_KEYMAX bytes). */
int store_rec_key(MDB_val *k, uint8_t *buf, const uint8_t key[KV_KEY_LEN],
                  const void *sub, size_t sublen);
/* Split a stored value; MAGMA_EIO when corrupt. */
int store_rec_decode(const MDB_val *v, store_raw *r);
/* The record at mk: *found 0 when absent (r untouched). */
int store_rec_lookup(store *s, MDB_txn *txn, const MDB_val *mk, store_raw *r,
                     int *found);
/* Write (ver, flags, val) at mk over old (NULL when absent), keeping the
 * tombstone index: drops old's entry, adds the new tombstone's.  mk must
 * not point into the map. */
int store_rec_write(store *s, MDB_txn *txn, const MDB_val *mk,
                    const store_raw *old, uint64_t ver, uint8_t flags,
                    const void *val, size_t vallen);
/* Note a record just written (store_apply_collect); 0 or MAGMA_ENOMEM. */
int store_collect_note(store *s, const MDB_val *mk, uint64_t prev, uint64_t ver,
                       uint8_t flags, const void *val, size_t vallen);
/* kv_apply's work inside txn: every op of b[0..n), stopping at the first
 * failure; and the bytes such a batch may add to the file. */
int store_batch_run(store *s, MDB_txn *txn, const kv_batch *b, size_t n);
uint64_t store_batch_need(const kv_batch *b, size_t n);
/* Begin a write transaction with the file grown ahead for need bytes.
 * need STORE_NEED_UNKNOWN: a transaction whose size is not known up
 * front (a purge, a range drop); no growth runs beside it, and
 * store_write_end() must follow its commit or abort. */
#define STORE_NEED_UNKNOWN UINT64_MAX
int store_write_begin(store *s, MDB_txn **txn, uint64_t need);
void store_write_end(store *s);
int store_read_begin(store *s, MDB_txn **txn);
/* Commit durably; LMDB frees the txn whether or not this succeeds. */
int store_write_commit(MDB_txn *txn);
/* A u64 in "meta" (0 when unset), and its update inside txn. */
int store_meta_u64(store *s, MDB_txn *txn, const char *name, uint64_t *v);
int store_meta_set_u64(store *s, MDB_txn *txn, const char *name, uint64_t v);

#define STORE_META_FLOOR "purge_floor"   /* highest purged version */
#define STORE_META_CONFLICTS "conflicts" /* conflicts resolved here */

#endif
