/* kv.h - the key-value interface the namespace layer (fs) sees.
 *
 * An owner is a blind, versioned key-value store.  Records are addressed
 * by a 160-bit ring key (which decides the owners) and a short "sub" key
 * (which orders the records under one ring key).  Values are opaque bytes:
 * the owner never parses them.  Each record carries a version that the
 * owner bumps on every put; puts and deletes may be conditional on it
 * (compare-and-swap).
 *
 * Backends: kv_local (this node's LMDB store, store/), later kv_remote
 * (the owners over the peer protocol).  Both sit behind this table.
 *
 * Atomicity: all ops of one kv_batch entry (one ring key) are atomic.
 * Entries of one batch are applied in order; a backend that can (the local
 * one) applies the whole batch in one transaction and says so with
 * atomic_batches; a distributed one does not promise atomicity across ring
 * keys (a failed condition may leave earlier entries applied).  Callers
 * order their writes so that any prefix of a batch leaves the namespace
 * consistent (child before entry on create, entry before child on
 * remove). */
#ifndef MAGMA_KV_H
#define MAGMA_KV_H

#include <stddef.h>
#include <stdint.h>

#include "merr.h"

struct store_view; /* store.h: values held in place */

#define KV_KEY_LEN 20         /* ring key: HMAC-SHA1 sized */
#define KV_SUB_MAX 64         /* longest sub key */
#define KV_VAL_MAX (1u << 20) /* longest value (a chunk plus header) */

/* Expected-version values for conditional ops. */
#define KV_VER_ANY UINT64_MAX /* no condition */
#define KV_VER_ABSENT 0       /* record must not exist (versions start at 1) */

typedef struct kv kv;

enum kv_op_kind {
	KV_PUT = 1,       /* put sub = val, if expect matches */
	KV_DEL = 2,       /* delete sub, if expect matches (absent: no-op when
	                     KV_VER_ANY) */
	KV_DEL_RANGE = 3, /* delete every sub with sub <= s < end (bytewise);
	                     expect ignored */
	KV_CHECK = 4      /* only check that sub's version equals expect */
};

typedef struct kv_op {
	int kind;
	const void *sub;
	size_t sublen;
	const void *val; /* KV_PUT: value; KV_DEL_RANGE: end sub key */
	size_t vallen;
	uint64_t expect; /* KV_VER_ANY, KV_VER_ABSENT or an exact version */
} kv_op;

typedef struct kv_batch {
	uint8_t key[KV_KEY_LEN];
	const kv_op *ops;
	size_t nops;
} kv_batch;

/* Durability asked of a write: the NFS stability levels. */
enum kv_durability {
	KV_UNSTABLE = 0, /* may be lost until kv_sync(); verifier covers it */
	KV_DURABLE = 1   /* on stable storage before the call returns */
};

/* Scan callback: return 0 to continue, 1 to stop (not an error), or a
 * negative MAGMA_E* code to abort the scan with that error.  The pointers
 * are valid only during the call. */
typedef int (*kv_scan_fn)(void *arg, const void *sub, size_t sublen,
                          const void *val, size_t vallen, uint64_t ver);

typedef struct kv_stat {
	uint64_t bytes_total; /* capacity (store limit or disk, smaller) */
	uint64_t bytes_free;  /* what can still be written */
	uint64_t bytes_avail; /* free to unprivileged users (same here) */
	uint64_t records;     /* records held */
} kv_stat;

/* One read of a kv_get_many call: key and sub in; rc (0, MAGMA_ENOENT
 * or another error), val (malloc'd, the caller frees it), vallen and ver
 * out, as kv_get would give them. */
typedef struct kv_get_req {
	uint8_t key[KV_KEY_LEN];
	const void *sub;
	size_t sublen;
	int rc;
	void *val;
	size_t vallen;
	uint64_t ver;
} kv_get_req;

/* One byte-range read of a kv_read_many call: sub, off, len and buf
 * (len bytes) in; rc (0, MAGMA_ENOENT or another error) and got (the
 * bytes the value had there, 0..len) out, as kv_read would give them. */
typedef struct kv_read_req {
	const void *sub;
	size_t sublen;
	size_t off, len;
	void *buf;
	int rc;
	size_t got;
	const void *at; /* out: where the got bytes are (read_many_view) */
} kv_read_req;

/* What lets any copy of a ring key serve reads, not only the first
 * owner: the record (key, sub) had version ver when the caller read it
 * from the owners, and every change to what the reads fetch changes
 * that record in the same batch (so in the same transaction on every
 * copy).  A copy whose witness record has exactly that version holds
 * what the owners held then.  here is set when this node's own copy
 * served the reads, witnessed too when that copy is a backup's that
 * passed the witness (the caller's read of the witness went to another
 * node). */
typedef struct kv_witness {
	const void *sub;
	size_t sublen;
	uint64_t ver;
	int here, witnessed; /* out */
} kv_witness;

/* Buffer returned by get: *val is malloc'd, caller frees it with free(). */
struct kv_ops {
	/* Read one record.  On success *val (malloc'd; caller frees) and
	 * *vallen hold the value and *ver its version.  MAGMA_ENOENT when
	 * absent. val may be NULL to fetch only the version. */
	int (*get)(kv *, const uint8_t key[KV_KEY_LEN], const void *sub,
	           size_t sublen, void **val, size_t *vallen, uint64_t *ver);
	/* Read a byte range [off, off+len) of one record's value into buf
	 * (which holds len bytes); *got is how many bytes the value had
	 * there (0..len).  MAGMA_ENOENT when absent. */
	int (*read)(kv *, const uint8_t key[KV_KEY_LEN], const void *sub,
	            size_t sublen, size_t off, size_t len, void *buf,
	            size_t *got);
	/* Apply a batch (see above).  On a failed condition nothing of that
	 * key's ops is applied and MAGMA_ECONFLICT is returned (MAGMA_EEXIST
	 * when the op expected KV_VER_ABSENT and the record exists,
	 * MAGMA_ENOENT when an exact version was expected and it is absent). */
	int (*apply)(kv *, const kv_batch *b, size_t n, int durability);
	/* Visit the records under key with from <= sub (bytewise; from may
	 * be NULL for the first) and sub starting with prefix (prefix may be
	 * NULL), in sub order, at most max records (0 = no limit). */
	int (*scan)(kv *, const uint8_t key[KV_KEY_LEN], const void *prefix,
	            size_t prefixlen, const void *from, size_t fromlen,
	            size_t max, kv_scan_fn fn, void *arg);
	/* Make everything applied so far durable (NFS COMMIT). */
	int (*sync)(kv *);
	int (*stat)(kv *, kv_stat *st);
	void (*close)(kv *);
	/* Many gets at once (READDIRPLUS): each req filled as above.  A
	 * networked backend sends one call per owner, not one per key.
	 * Returns 0 once every req is filled (each with its own rc), or
	 * an error only when none could be.  May be NULL: kv_get_many
	 * then loops over get. */
	int (*get_many)(kv *, kv_get_req *reqs, size_t n);
	/* Many byte-range reads of records under one ring key (a file's
	 * chunks), straight into the callers' buffers, each filled as
	 * kv_read would (its own rc and got).  With a witness (may be
	 * NULL) a networked backend serves them from this node's copy
	 * when that copy's witness record has the witness version, in
	 * one transaction with the reads; otherwise from the owners, one
	 * call for all.  Returns 0 once every req is filled, or an error
	 * only when none could be.  May be NULL: kv_read_many then loops
	 * over read. */
	int (*read_many)(kv *, const uint8_t key[KV_KEY_LEN], kv_witness *w,
	                 kv_read_req *reqs, size_t n);
	/* read_many without copying, when this node's own copy is the one
	 * read_many would read (this node is the primary, or a backup
	 * whose copy passes the witness): buf is not used, each req's at
	 * points at its got bytes inside this node's store map, held
	 * until store_view_end(*view).  MAGMA_EREMOTE, and nothing held,
	 * when read_many would read another node's copy: the caller then
	 * calls read_many.  *view is set only when 0 is returned.  May be
	 * NULL (kv_read_many_view then answers MAGMA_EREMOTE). */
	int (*read_many_view)(kv *, const uint8_t key[KV_KEY_LEN],
	                      kv_witness *w, kv_read_req *reqs, size_t n,
	                      struct store_view **view);
};

struct kv {
	const struct kv_ops *ops;
	/* Non-zero when every apply is on stable storage before it returns,
	 * whatever durability was asked (the local LMDB store; the networked
	 * kv while this node routes alone): writes can then be reported
	 * FILE_SYNC and clients skip COMMIT.  A backend may change it at any
	 * time: read it with kv_always_durable(). */
	int always_durable;
	/* Non-zero while apply is atomic across the ring keys of a batch
	 * (the local store; the networked kv while this node routes
	 * alone).  A backend may change it at any time: read it with
	 * kv_atomic_batches() once per operation. */
	int atomic_batches;
};

static inline int kv_always_durable(kv *k)
{
	return __atomic_load_n(&k->always_durable, __ATOMIC_ACQUIRE);
}
static inline int kv_atomic_batches(kv *k)
{
	return __atomic_load_n(&k->atomic_batches, __ATOMIC_ACQUIRE);
}

/* Convenience wrappers, so callers read top-down. */
static inline int kv_get(kv *k, const uint8_t key[KV_KEY_LEN], const void *sub,
                         size_t sublen, void **val, size_t *vallen,
                         uint64_t *ver)
{
	return k->ops->get(k, key, sub, sublen, val, vallen, ver);
}
static inline int kv_read(kv *k, const uint8_t key[KV_KEY_LEN], const void *sub,
                          size_t sublen, size_t off, size_t len, void *buf,
                          size_t *got)
{
	return k->ops->read(k, key, sub, sublen, off, len, buf, got);
}
static inline int kv_apply(kv *k, const kv_batch *b, size_t n, int dur)
{
	return k->ops->apply(k, b, n, dur);
}
static inline int kv_scan(kv *k, const uint8_t key[KV_KEY_LEN],
                          const void *prefix, size_t prefixlen,
                          const void *from, size_t fromlen, size_t max,
                          kv_scan_fn fn, void *arg)
{
	return k->ops->scan(k, key, prefix, prefixlen, from, fromlen, max, fn,
	                    arg);
}
static inline int kv_get_many(kv *k, kv_get_req *reqs, size_t n)
{
	if (k->ops->get_many)
		return k->ops->get_many(k, reqs, n);
	for (size_t i = 0; i < n; i++) {
		reqs[i].val = NULL;
		reqs[i].rc = k->ops->get(k, reqs[i].key, reqs[i].sub,
		                         reqs[i].sublen, &reqs[i].val,
		                         &reqs[i].vallen, &reqs[i].ver);
	}
	return 0;
}
static inline int kv_read_many(kv *k, const uint8_t key[KV_KEY_LEN],
                               kv_witness *w, kv_read_req *reqs, size_t n)
{
	if (w)
		w->here = w->witnessed = 0;
	if (k->ops->read_many)
		return k->ops->read_many(k, key, w, reqs, n);
	for (size_t i = 0; i < n; i++) {
		reqs[i].got = 0;
		reqs[i].rc = k->ops->read(k, key, reqs[i].sub, reqs[i].sublen,
		                          reqs[i].off, reqs[i].len, reqs[i].buf,
		                          &reqs[i].got);
	}
	return 0;
}
static inline int kv_read_many_view(kv *k, const uint8_t key[KV_KEY_LEN],
                                    kv_witness *w, kv_read_req *reqs, size_t n,
                                    struct store_view **view)
{
	*view = NULL;
	if (w)
		w->here = w->witnessed = 0;
	if (!k->ops->read_many_view)
		return MAGMA_EREMOTE;
	return k->ops->read_many_view(k, key, w, reqs, n, view);
}
/* kv_sync's answer when some write applied KV_UNSTABLE since the last
 * kv_sync may have been lost (an owner that took it restarted or does
 * not answer): what is still there is durable, and the caller must
 * change its write verifier so that clients send the rest again. */
#define KV_SYNC_LOST 1
static inline int kv_sync(kv *k)
{
	return k->ops->sync(k);
}
static inline int kv_stat_get(kv *k, kv_stat *st)
{
	return k->ops->stat(k, st);
}
static inline void kv_close(kv *k)
{
	if (k)
		k->ops->close(k);
}

#endif
