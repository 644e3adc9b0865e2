/* store.c - the LMDB object store of one node and its kv_ops ("local").
 *
 * One LMDB environment DIR/store.mdb (MDB_NOSUBDIR) with the named
 * databases "rec" (records) and "meta" (small named values).  A record's
 * LMDB key is ring key || sub; its LMDB value is
 *   u64 version (big-endian) || u8 flags || value bytes.
 * The flags byte marks tombstones (see store.h for versions, tombstones
 * and the conflict rule).  Without STORE_TOMBSTONES a delete really
 * deletes; with it, a delete writes a tombstone at the next version, and
 * the "tomb" database indexes tombstones by deletion time so a purge
 * finds the old ones without reading the records.  Replication (replica
 * apply, digests, pulls, purge) lives in store_repl.c.
 *
 * Threads: MDB_NOTLS, so read transactions are not tied to a thread; every
 * call opens its own transaction and ends it before returning.  LMDB
 * serialises write transactions.
 *
 * Durability: every write commits with LMDB's default synced commit, also
 * for KV_UNSTABLE.  MDB_NOSYNC/MDB_NOMETASYNC would be faster but can
 * corrupt the whole store on power loss, and integrity wins over speed.
 * So kv_sync has nothing left to do.
 *
 * Growth: on a file system with a journal, a commit that makes the data
 * file longer costs a journal commit on top of LMDB's two flushes (block
 * allocation and size are metadata); measured on ext4 with a journal,
 * 1 MiB commits ran at ~240 MB/s into a growing file and ~850 MB/s into
 * an already written one.  So there (fs_journals) the file is kept
 * extended with real zero blocks (not fallocate: unwritten extents need
 * the journal too) past LMDB's last page.  LMDB ignores bytes past its
 * last page.  The zeros go through a second, O_DIRECT descriptor when
 * the file system allows it, so growth costs the disk a write but no
 * page-cache copy.  A write transaction, holding LMDB's writer lock,
 * checks that the file holds its estimated need plus STORE_GROW_SLACK
 * past the last page; if so it runs at once, and when less than
 * STORE_GROW_STEP more is left it asks the grower thread to write the
 * next steps meanwhile.  The grower only ever writes past the file's
 * size at the start of its pass, and every running transaction writes
 * below the size it checked, so the two never touch the same bytes; a
 * transaction of unknown size (STORE_NEED_UNKNOWN) holds the growth lock
 * instead.  Only when the file is short does the transaction grow it
 * itself, in the same way, before it writes.  Growth never passes the
 * map size and takes at most 1/8 of the free disk; a failed growth
 * (ENOSPC) is only a missed speed-up: LMDB then extends the file itself
 * with pwrite and reports MDB_MAP_FULL/ENOSPC as before. */
#define _GNU_SOURCE /* O_DIRECT */
#include "config.h"

#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#if defined(HAVE_XXH_X86DISPATCH_H) && defined(HAVE_XXH3_128BITS_DISPATCH)
/* XXH3_128bits becomes its run-time dispatch: AVX2 or AVX-512 where the
 * CPU has them, about three times the SSE2 default's speed. */
#include <xxh_x86dispatch.h>
#endif

#include "merr.h"
#include "mlog.h"

#define STORE_FILE "store.mdb"
#define STORE_MAP_DEFAULT (1ull << 40) /* 1 TiB; not preallocated on Linux */
#define STORE_META_NAME_MAX 255
#define STORE_META_VAL_MAX 256
#define STORE_FORMAT 2u               /* 2: records carry their value hash */
#define STORE_GROW_STEP (64ull << 20) /* zeros added at a time */
#define STORE_GROW_SLACK (8ull << 20) /* headroom kept past a txn's need */
#define STORE_ZERO_BUF (1u << 20)

/* ---- error translation: the one place LMDB codes become MAGMA_E* ---- */

/* Map an LMDB return code (MDB_* or an errno value) without logging. */
static int store_code(int rc)
{
	switch (rc) {
	case MDB_SUCCESS: return 0;
	case MDB_NOTFOUND: return MAGMA_ENOENT;
	case MDB_KEYEXIST: return MAGMA_EEXIST;
	case MDB_MAP_FULL:
	case ENOSPC: return MAGMA_ENOSPC;
	case MDB_TXN_FULL: return MAGMA_EFBIG; /* batch too big for one txn */
	case MDB_READERS_FULL: return MAGMA_EJUKEBOX;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH: return MAGMA_EIO;
	case EACCES:
	case EPERM:
	case EROFS: return MAGMA_EACCES; /* the store cannot be written */
	default: break;
	}
	return rc > 0 ? merr_from_errno(rc) : MAGMA_ESYS;
}

/* Translate and log: what names the failed step.  Absent records are
 * not failures; a full store is a warning; the rest are errors. */
int store_err(int rc, const char *what)
{
	if (rc == MDB_SUCCESS || rc == MDB_NOTFOUND || rc == MDB_KEYEXIST)
		return store_code(rc);
	if (rc == MDB_MAP_FULL || rc == ENOSPC)
		LOG_W("%s: store full: %s", what, mdb_strerror(rc));
	else
		LOG_E("%s: %s", what, mdb_strerror(rc));
	return store_code(rc);
}

/* ---- record encoding ---- */

int store_rec_key(MDB_val *k, uint8_t *buf, const uint8_t key[KV_KEY_LEN],
                  const void *sub, size_t sublen)
{
	if (sublen > KV_SUB_MAX || (sublen && !sub))
		return MAGMA_EINVAL;
	memcpy(buf, key, KV_KEY_LEN);
	if (sublen)
		memcpy(buf + KV_KEY_LEN, sub, sublen);
	k->mv_data = buf;
	k->mv_size = KV_KEY_LEN + sublen;
	return 0;
}

int store_rec_decode(const MDB_val *v, store_raw *r)
{
	const uint8_t *p = v->mv_data;
	size_t hdr = STORE_HDR_V1;

	if (v->mv_size >= STORE_HDR_V1 && (p[8] & STORE_HDR_HASHED))
		hdr = STORE_HDR;
	if (v->mv_size < hdr) {
		LOG_E("corrupt record: value of %zu bytes", v->mv_size);
		return MAGMA_EIO;
	}
	r->ver = store_get_be64(p);
	r->flags = p[8] & (uint8_t)~STORE_HDR_HASHED;
	r->vhash = hdr == STORE_HDR ? p + STORE_HDR_V1 : NULL;
	r->val = p + hdr;
	r->vallen = v->mv_size - hdr;
	return 0;
}

static void vhash_of(const void *val, size_t len, uint8_t out[STORE_VHASH_LEN])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits(val, len));
	memcpy(out, c.digest, STORE_VHASH_LEN);
}

void store_rec_vhash(const store_raw *r, uint8_t out[STORE_VHASH_LEN])
{
	if (r->vhash)
		memcpy(out, r->vhash, STORE_VHASH_LEN);
	else
		vhash_of(r->val, r->vallen, out);
}

int store_rec_lookup(store *s, MDB_txn *txn, const MDB_val *mk, store_raw *r,
                     int *found)
{
	MDB_val k = *mk, v;
	int rc = mdb_get(txn, s->rec, &k, &v);

	*found = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return store_err(rc, "mdb_get");
	if ((rc = store_rec_decode(&v, r)))
		return rc;
	*found = 1;
	return 0;
}

/* The tomb index key of a tombstone deleted at t_ns, record key mk. */
static void tidx_key(MDB_val *k, uint8_t *buf, uint64_t t_ns, const MDB_val *mk)
{
	store_put_be64(buf, t_ns);
	memcpy(buf + 8, mk->mv_data, mk->mv_size);
	k->mv_data = buf;
	k->mv_size = 8 + mk->mv_size;
}

int store_rec_write(store *s, MDB_txn *txn, const MDB_val *mk,
                    const store_raw *old, uint64_t ver, uint8_t flags,
                    const void *val, size_t vallen)
{
	uint8_t ib[STORE_TIDX_MAX];
	MDB_val k = *mk, v = { .mv_size = STORE_HDR + vallen, .mv_data = NULL };
	MDB_val ik, empty = { .mv_size = 0, .mv_data = "" };
	int rc;

	if (vallen > KV_VAL_MAX || (vallen && !val) ||
	    ((flags & STORE_REC_TOMBSTONE) && vallen != STORE_TOMB_LEN))
		return MAGMA_EINVAL;
	/* The old tombstone's index entry goes before old's bytes may move. */
	if (old && store_is_tomb(old) && old->vallen == STORE_TOMB_LEN) {
		tidx_key(&ik, ib, store_get_be64(old->val), mk);
		rc = mdb_del(txn, s->tomb, &ik, NULL);
		if (rc && rc != MDB_NOTFOUND)
			return store_err(rc, "mdb_del(tomb)");
	}
	/* MDB_RESERVE: build the record in place, no staging copy. */
	if ((rc = mdb_put(txn, s->rec, &k, &v, MDB_RESERVE)))
		return store_err(rc, "mdb_put");
	store_put_be64(v.mv_data, ver);
	((uint8_t *)v.mv_data)[8] = flags | STORE_HDR_HASHED;
	if (vallen)
		memcpy((uint8_t *)v.mv_data + STORE_HDR, val, vallen);
	/* Hashed from the copy just made, while it is in the cache. */
	vhash_of((uint8_t *)v.mv_data + STORE_HDR, vallen,
	         (uint8_t *)v.mv_data + STORE_HDR_V1);
	if (s->collect && (rc = store_collect_note(s, mk, old ? old->ver : 0,
	                                           ver, flags, val, vallen)))
		return rc;
	if (!(flags & STORE_REC_TOMBSTONE))
		return 0;
	tidx_key(&ik, ib, store_get_be64(val), mk);
	return store_err(mdb_put(txn, s->tomb, &ik, &empty, 0),
	                 "mdb_put(tomb)");
}

/* Delete the live record at mk outright (no tombstone). */
static int rec_remove(store *s, MDB_txn *txn, const MDB_val *mk)
{
	MDB_val k = *mk;

	return store_err(mdb_del(txn, s->rec, &k, NULL), "mdb_del");
}

/* The kv.h condition: have is the current version (0 = absent). */
static int cond_check(uint64_t expect, uint64_t have)
{
	if (expect == KV_VER_ANY || expect == have)
		return 0;
	if (expect == KV_VER_ABSENT)
		return MAGMA_EEXIST;
	return have == KV_VER_ABSENT ? MAGMA_ENOENT : MAGMA_ECONFLICT;
}

static store *kv_store(kv *k)
{
	return (store *)k;
}

/* Open a read-only transaction (caller aborts it). */
int store_read_begin(store *s, MDB_txn **txn)
{
	return store_err(mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn),
	                 "mdb_txn_begin(read)");
}

int store_write_commit(MDB_txn *txn)
{
	return store_err(mdb_txn_commit(txn), "mdb_txn_commit");
}

static void store_grow(store *s, uint64_t need);

int store_write_begin(store *s, MDB_txn **txn, uint64_t need)
{
	int rc = store_err(mdb_txn_begin(s->env, NULL, 0, txn),
	                   "mdb_txn_begin(write)");

	if (rc == 0 && need == STORE_NEED_UNKNOWN) {
		pthread_mutex_lock(&s->gmu);
		s->gowner = pthread_self();
		__atomic_store_n(&s->gheld, 1, __ATOMIC_RELEASE);
		need = 0;
	}
	if (rc == 0)
		store_grow(s, need);
	return rc;
}

/* Does this thread's transaction hold gmu (STORE_NEED_UNKNOWN)? */
static int grow_held(store *s)
{
	return __atomic_load_n(&s->gheld, __ATOMIC_ACQUIRE) &&
	       pthread_equal(s->gowner, pthread_self());
}

void store_write_end(store *s)
{
	if (grow_held(s)) {
		__atomic_store_n(&s->gheld, 0, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&s->gmu);
	}
}

/* ---- kv_ops: reads ---- */

/* The live record at (key, sub) in txn: MAGMA_ENOENT when absent or a
 * tombstone (kv callers never see tombstones). */
static int live_get(store *s, MDB_txn *txn, const uint8_t key[KV_KEY_LEN],
                    const void *sub, size_t sublen, store_raw *r)
{
	uint8_t kb[STORE_KEYMAX];
	MDB_val mk;
	int found = 0, rc = store_rec_key(&mk, kb, key, sub, sublen);

	if (rc || (rc = store_rec_lookup(s, txn, &mk, r, &found)))
		return rc;
	return found && !store_is_tomb(r) ? 0 : MAGMA_ENOENT;
}

static int local_get(kv *k, const uint8_t key[KV_KEY_LEN], const void *sub,
                     size_t sublen, void **val, size_t *vallen, uint64_t *ver)
{
	store *s = kv_store(k);
	MDB_txn *txn = NULL;
	store_raw r;
	void *copy = NULL;
	int rc = store_read_begin(s, &txn);

	if (rc || (rc = live_get(s, txn, key, sub, sublen, &r)))
		goto out;
	if (val) {
		if (!(copy = malloc(r.vallen ? r.vallen : 1))) {
			rc = MAGMA_ENOMEM;
			goto out;
		}
		if (r.vallen)
			memcpy(copy, r.val, r.vallen);
		*val = copy;
	}
	if (vallen)
		*vallen = r.vallen;
	if (ver)
		*ver = r.ver;
out:
	mdb_txn_abort(txn);
	return rc;
}

/* ---- views ---- */

struct store_view {
	store *s;
	MDB_txn *txn;
};

int store_view_begin(store *s, store_view **out)
{
	store_view *v = malloc(sizeof(*v));
	int rc;

	*out = NULL;
	if (!v)
		return MAGMA_ENOMEM;
	v->s = s;
	v->txn = NULL;
	if ((rc = store_read_begin(s, &v->txn))) {
		free(v);
		return rc;
	}
	*out = v;
	return 0;
}

int store_view_get(store_view *v, const uint8_t key[KV_KEY_LEN],
                   const void *sub, size_t sublen, const void **val,
                   size_t *vallen, uint64_t *ver)
{
	store_raw r;
	int rc = live_get(v->s, v->txn, key, sub, sublen, &r);

	if (rc)
		return rc;
	*val = r.val;
	*vallen = r.vallen;
	if (ver)
		*ver = r.ver;
	return 0;
}

void store_view_end(store_view *v)
{
	if (!v)
		return;
	mdb_txn_abort(v->txn);
	free(v);
}

/* Copies only [off, off+len) out of the mapped value: no full-chunk copy. */
static int local_read(kv *k, const uint8_t key[KV_KEY_LEN], const void *sub,
                      size_t sublen, size_t off, size_t len, void *buf,
                      size_t *got)
{
	store *s = kv_store(k);
	MDB_txn *txn = NULL;
	store_raw r;
	size_t take = 0;
	int rc = len && !buf ? MAGMA_EINVAL : 0;

	if (rc || (rc = store_read_begin(s, &txn)) ||
	    (rc = live_get(s, txn, key, sub, sublen, &r)))
		goto out;
	if (off < r.vallen)
		take = r.vallen - off < len ? r.vallen - off : len;
	if (take)
		memcpy(buf, r.val + off, take);
	*got = take;
out:
	mdb_txn_abort(txn);
	return rc;
}

/* reqs under key in txn, after the witness check: each copied into its
 * buf, or, in place (buf NULL), pointed at inside the map. */
static int read_many_txn(store *s, MDB_txn *txn, const uint8_t key[KV_KEY_LEN],
                         const kv_witness *w, kv_read_req *reqs, size_t n,
                         int in_place)
{
	store_raw r;
	int rc = 0;

	if (w) {
		rc = live_get(s, txn, key, w->sub, w->sublen, &r);
		if (rc == MAGMA_ENOENT || (rc == 0 && r.ver != w->ver))
			rc = MAGMA_ECONFLICT;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		kv_read_req *q = &reqs[i];

		q->got = 0;
		q->at = NULL;
		q->rc = q->len && !q->buf && !in_place
		                ? MAGMA_EINVAL
		                : live_get(s, txn, key, q->sub, q->sublen, &r);
		if (q->rc == 0 && q->off < r.vallen) {
			const uint8_t *at = (const uint8_t *)r.val + q->off;

			q->got = r.vallen - q->off < q->len ? r.vallen - q->off
			                                    : q->len;
			if (in_place)
				q->at = at;
			else
				memcpy(q->buf, at, q->got);
		}
	}
	return rc;
}

int store_read_many(store *s, const uint8_t key[KV_KEY_LEN],
                    const kv_witness *w, kv_read_req *reqs, size_t n)
{
	MDB_txn *txn = NULL;
	int rc = store_read_begin(s, &txn);

	if (rc == 0)
		rc = read_many_txn(s, txn, key, w, reqs, n, 0);
	mdb_txn_abort(txn);
	return rc;
}

int store_read_many_view(store *s, const uint8_t key[KV_KEY_LEN],
                         const kv_witness *w, kv_read_req *reqs, size_t n,
                         store_view **view)
{
	int rc = store_view_begin(s, view);

	if (rc == 0 &&
	    (rc = read_many_txn(s, (*view)->txn, key, w, reqs, n, 1))) {
		store_view_end(*view);
		*view = NULL;
	}
	return rc;
}

/* The only copy there is: no witness to check. */
static int local_read_many(kv *k, const uint8_t key[KV_KEY_LEN], kv_witness *w,
                           kv_read_req *reqs, size_t n)
{
	int rc = store_read_many(kv_store(k), key, NULL, reqs, n);

	if (rc == 0 && w)
		w->here = 1;
	return rc;
}

static int local_read_many_view(kv *k, const uint8_t key[KV_KEY_LEN],
                                kv_witness *w, kv_read_req *reqs, size_t n,
                                store_view **view)
{
	int rc = store_read_many_view(kv_store(k), key, NULL, reqs, n, view);

	if (rc == 0 && w)
		w->here = 1;
	return rc;
}

int store_bytes_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0; /* a or b may be NULL when empty */

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Visit one cursor record for scan(): 1 stops (past the ring key or the
 * prefix, or the callback said stop), else 0 or the callback's error.
 * Tombstones are skipped and not counted in *seen. */
static int scan_one(const MDB_val *mk, const MDB_val *mv,
                    const uint8_t key[KV_KEY_LEN], const void *prefix,
                    size_t prefixlen, kv_scan_fn fn, void *arg, size_t *seen)
{
	const uint8_t *sub = (const uint8_t *)mk->mv_data + KV_KEY_LEN;
	size_t sublen;
	store_raw r;
	int rc;

	if (mk->mv_size < KV_KEY_LEN || memcmp(mk->mv_data, key, KV_KEY_LEN))
		return 1;
	sublen = mk->mv_size - KV_KEY_LEN;
	if (sublen < prefixlen || (prefixlen && memcmp(sub, prefix, prefixlen)))
		return 1;
	if ((rc = store_rec_decode(mv, &r)))
		return rc;
	if (store_is_tomb(&r))
		return 0;
	(*seen)++;
	rc = fn(arg, sub, sublen, r.val, r.vallen, r.ver);
	return rc > 0 ? 1 : rc;
}

/* The callback runs inside a read transaction: it may call the store
 * again (reads, and writes, which this scan does not see). */
static int local_scan(kv *k, const uint8_t key[KV_KEY_LEN], const void *prefix,
                      size_t prefixlen, const void *from, size_t fromlen,
                      size_t max, kv_scan_fn fn, void *arg)
{
	store *s = kv_store(k);
	uint8_t kb[STORE_KEYMAX];
	MDB_val mk, mv;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	const void *start = prefix;
	size_t startlen = prefixlen, seen = 0;
	int rc = 0, mrc;

	if ((prefixlen && !prefix) || (fromlen && !from) || !fn) {
		rc = MAGMA_EINVAL;
		goto out;
	}
	/* Start at the later of from and prefix. */
	if (from && store_bytes_cmp(from, fromlen, prefix, prefixlen) > 0) {
		start = from;
		startlen = fromlen;
	}
	if ((rc = store_rec_key(&mk, kb, key, start, startlen)) ||
	    (rc = store_read_begin(s, &txn)) ||
	    (rc = store_err(mdb_cursor_open(txn, s->rec, &cur),
	                    "mdb_cursor_open")))
		goto out;
	/* mrc: LMDB's codes; rc: ours and the callback's. */
	mrc = mdb_cursor_get(cur, &mk, &mv, MDB_SET_RANGE);
	while (mrc == 0 && (max == 0 || seen < max)) {
		if ((rc = scan_one(&mk, &mv, key, prefix, prefixlen, fn, arg,
		                   &seen)))
			break;
		mrc = mdb_cursor_get(cur, &mk, &mv, MDB_NEXT);
	}
	if (rc == 1)
		rc = 0;
	else if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = store_err(mrc, "mdb_cursor_get");
out:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

/* ---- kv_ops: writes ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Delete the live record old at mk: a tombstone at the next version when
 * the store keeps them, else really. */
static int rec_delete(store *s, MDB_txn *txn, const MDB_val *mk,
                      const store_raw *old)
{
	uint8_t t[STORE_TOMB_LEN];

	if (!s->tombstones)
		return rec_remove(s, txn, mk);
	store_put_be64(t, now_ns());
	return store_rec_write(s, txn, mk, old, old->ver + 1,
	                       STORE_REC_TOMBSTONE, t, sizeof(t));
}

/* KV_DEL_RANGE: delete every live record with key||sub <= k < key||end,
 * where end is op->val.  An end of NULL (not merely empty) means "to the
 * end of the ring key", so a caller can drop all of a key's records.
 * After each record the cursor re-seeks just past it (key || 0x00) rather
 * than trusting the position LMDB leaves behind a write. */
static int op_del_range(store *s, MDB_txn *txn, const MDB_val *start,
                        const uint8_t key[KV_KEY_LEN], const kv_op *op)
{
	uint8_t kb[STORE_KEYMAX + 1];
	MDB_cursor *cur = NULL;
	MDB_val mk, mv, at;
	store_raw r;
	int rc = store_err(mdb_cursor_open(txn, s->rec, &cur), "cursor");
	int mrc;

	memcpy(kb, start->mv_data, start->mv_size);
	at.mv_data = kb;
	at.mv_size = start->mv_size;
	while (rc == 0) {
		mk = at;
		if ((mrc = mdb_cursor_get(cur, &mk, &mv, MDB_SET_RANGE))) {
			rc = mrc == MDB_NOTFOUND ? 0
			                         : store_err(mrc, "del range");
			break;
		}
		if (mk.mv_size < KV_KEY_LEN ||
		    memcmp(mk.mv_data, key, KV_KEY_LEN) ||
		    (op->val &&
		     store_bytes_cmp((uint8_t *)mk.mv_data + KV_KEY_LEN,
		                     mk.mv_size - KV_KEY_LEN, op->val,
		                     op->vallen) >= 0))
			break;
		if ((rc = store_rec_decode(&mv, &r)))
			break;
		/* A copy of the key: the write may move the page it is on. */
		memcpy(kb, mk.mv_data, mk.mv_size);
		at.mv_size = mk.mv_size;
		if (!store_is_tomb(&r))
			rc = rec_delete(s, txn, &at, &r);
		kb[at.mv_size++] = 0;
	}
	mdb_cursor_close(cur);
	return rc;
}

/* Apply one op inside the batch's write transaction.  A tombstone is
 * absent for the condition, but its version still counts for the next
 * one; a record put where nothing is stored starts past the purge floor. */
static int op_apply(store *s, MDB_txn *txn, const uint8_t key[KV_KEY_LEN],
                    const kv_op *op)
{
	uint8_t kb[STORE_KEYMAX];
	MDB_val mk;
	store_raw old;
	uint64_t base = 0;
	int found = 0, live;
	int rc = store_rec_key(&mk, kb, key, op->sub, op->sublen);

	if (rc)
		return rc;
	if (op->kind < KV_PUT || op->kind > KV_CHECK)
		return MAGMA_EINVAL;
	if (op->kind == KV_DEL_RANGE)
		return op_del_range(s, txn, &mk, key, op);
	if ((rc = store_rec_lookup(s, txn, &mk, &old, &found)))
		return rc;
	live = found && !store_is_tomb(&old);
	if ((rc = cond_check(op->expect, live ? old.ver : KV_VER_ABSENT)))
		return rc;
	switch (op->kind) {
	case KV_PUT:
		if (op->vallen > KV_VAL_MAX || (op->vallen && !op->val))
			return MAGMA_EINVAL;
		if (found)
			base = old.ver;
		else if ((rc = store_meta_u64(s, txn, STORE_META_FLOOR, &base)))
			return rc;
		return store_rec_write(s, txn, &mk, found ? &old : NULL,
		                       base + 1, 0, op->val, op->vallen);
	case KV_DEL: return live ? rec_delete(s, txn, &mk, &old) : 0;
	default: return 0; /* KV_CHECK: the condition was all */
	}
}

/* Run every op of the batch in txn; stops at the first failure. */
int store_batch_run(store *s, MDB_txn *txn, const kv_batch *b, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		if (b[i].nops && !b[i].ops)
			return MAGMA_EINVAL;
		for (size_t j = 0; j < b[i].nops && rc == 0; j++)
			rc = op_apply(s, txn, b[i].key, &b[i].ops[j]);
	}
	return rc;
}

/* Bytes a batch may add to the file: values and keys, with room for
 * page headers, split branches and the free list. */
uint64_t store_batch_need(const kv_batch *b, size_t n)
{
	uint64_t need = 256u << 10;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < b[i].nops; j++)
			need += b[i].ops[j].vallen + 2 * STORE_KEYMAX + 64;
	return need + need / 4;
}

/* Does a commit that makes a file in dir longer cost a journal commit?
 * ext4 with a jbd2 journal and XFS: yes; ext4 without a journal, tmpfs
 * and the rest: no (or unknown), and there zeros written ahead only cost
 * the disk a second write of every byte (measured on ext4 without a
 * journal: 1 MiB commits ran ~20% slower with growth ahead). */
static int fs_journals(const char *dir)
{
	struct statfs sf;
	struct stat st;
	char link[PATH_MAX], path[PATH_MAX + 64];
	const char *name;
	ssize_t n;

	if (statfs(dir, &sf) != 0 || stat(dir, &st) != 0)
		return 0;
	if (sf.f_type == XFS_SUPER_MAGIC)
		return 1;
	if (sf.f_type != EXT4_SUPER_MAGIC)
		return 0;
	/* ext4: its journal, if any, is /proc/fs/jbd2/<device>-8. */
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(st.st_dev),
	         minor(st.st_dev));
	if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
		return 1; /* cannot tell: as before, grow */
	link[n] = '\0';
	name = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	snprintf(path, sizeof(path), "/proc/fs/jbd2/%s-8", name);
	return access(path, F_OK) == 0;
}

/* Write zeros from the end of the data file up to want bytes (at most
 * the map size and 1/8 of the free disk).  The caller holds gmu. */
static void grow_to(store *s, uint64_t want)
{
	struct stat st;
	struct statvfs vfs;
	uint64_t avail, end;

	if (want > s->map_size)
		want = s->map_size;
	if (fstat(s->fd, &st) != 0 || (uint64_t)st.st_size >= want ||
	    statvfs(s->dir, &vfs) != 0)
		return;
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize / 8;
	if (want > (uint64_t)st.st_size + avail)
		want = (uint64_t)st.st_size + avail;
	want -= want % STORE_ZERO_BUF;
	for (end = (uint64_t)st.st_size; end < want;) {
		size_t n = want - end < STORE_ZERO_BUF ? want - end
		                                       : STORE_ZERO_BUF;
		ssize_t w = -1;
		if (s->dfd >= 0) {
			w = pwrite(s->dfd, s->zeros, n, (off_t)end);
			if (w < 0 && errno == EINVAL) { /* no O_DIRECT here */
				close(s->dfd);
				s->dfd = -1;
			}
		}
		if (s->dfd < 0)
			w = pwrite(s->fd, s->zeros, n, (off_t)end);
		if (w <= 0) {
			if (w < 0 && (errno == ENOSPC || errno == EDQUOT)) {
				LOG_I("%s: disk full, store file not grown "
				      "ahead any more",
				      s->dir);
				__atomic_store_n(&s->grow_off, 1,
				                 __ATOMIC_RELAXED);
			}
			break;
		}
		end += (uint64_t)w;
	}
	if (end > (uint64_t)st.st_size)
		(void)fdatasync(s->fd);
}

/* The grower thread: one pass per request, until store_close. */
static void *grower_main(void *arg)
{
	store *s = arg;

	for (;;) {
		uint64_t want;
		int stop;

		pthread_mutex_lock(&s->greq);
		while (!s->grow_stop && s->grow_want == 0)
			pthread_cond_wait(&s->gcv, &s->greq);
		stop = s->grow_stop;
		want = s->grow_want;
		s->grow_want = 0;
		pthread_mutex_unlock(&s->greq);
		if (stop)
			break;
		pthread_mutex_lock(&s->gmu);
		grow_to(s, want);
		pthread_mutex_unlock(&s->gmu);
	}
	return NULL;
}

/* Make sure the data file holds need bytes of written zeros past LMDB's
 * last page plus the slack, and ask for the next steps when it runs low
 * (see "Growth" above).  Runs inside a write transaction.  Never fails:
 * a failure only leaves LMDB to grow the file itself. */
static void store_grow(store *s, uint64_t need)
{
	MDB_envinfo info;
	MDB_stat ms;
	struct stat st;
	uint64_t used, floor;
	int held;

	if (__atomic_load_n(&s->grow_off, __ATOMIC_RELAXED) || !s->zeros ||
	    s->fd < 0 || mdb_env_info(s->env, &info) ||
	    mdb_env_stat(s->env, &ms) || fstat(s->fd, &st))
		return;
	used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	floor = used + need + STORE_GROW_SLACK;
	held = grow_held(s);
	if ((uint64_t)st.st_size < floor) {
		if (!held)
			pthread_mutex_lock(&s->gmu);
		grow_to(s, floor + STORE_GROW_STEP);
		if (!held)
			pthread_mutex_unlock(&s->gmu);
	} else if ((uint64_t)st.st_size < floor + STORE_GROW_STEP &&
	           s->grower_on && !held) {
		pthread_mutex_lock(&s->greq);
		if (s->grow_want < floor + 2 * STORE_GROW_STEP)
			s->grow_want = floor + 2 * STORE_GROW_STEP;
		pthread_cond_signal(&s->gcv);
		pthread_mutex_unlock(&s->greq);
	}
}

/* One write transaction for the whole batch: all or nothing.  durability
 * is ignored on purpose: every commit is synced (see the file comment).
 * Any failure (a condition, MDB_MAP_FULL, ...) aborts the transaction,
 * which also leaves the store usable after a full map. */
static int local_apply(kv *k, const kv_batch *b, size_t n, int durability)
{
	store *s = kv_store(k);
	MDB_txn *txn = NULL;
	int rc;

	(void)durability;
	if (n == 0)
		return 0;
	if (!b)
		return MAGMA_EINVAL;
	if ((rc = store_write_begin(s, &txn, store_batch_need(b, n))) ||
	    (rc = store_batch_run(s, txn, b, n)))
		goto out;
	rc = store_write_commit(txn);
	txn = NULL; /* commit frees it, even on failure */
out:
	mdb_txn_abort(txn);
	return rc;
}

/* Every commit was already synced before local_apply returned, so an
 * fdatasync here would only cost a flush for nothing. */
static int local_sync(kv *k)
{
	(void)k;
	return 0;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static int local_stat(kv *k, kv_stat *st)
{
	store *s = kv_store(k);
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *txn = NULL;
	struct statvfs vfs;
	struct stat fst;
	uint64_t used, ahead = 0;
	int rc;

	if (statvfs(s->dir, &vfs) != 0) {
		rc = merr_from_errno(errno);
		LOG_E("statvfs %s: %s", s->dir, magma_strerror(rc));
		goto out;
	}
	if ((rc = store_err(mdb_env_info(s->env, &info), "mdb_env_info")) ||
	    (rc = store_read_begin(s, &txn)) ||
	    (rc = store_err(mdb_stat(txn, s->rec, &ms), "mdb_stat")))
		goto out;
	used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	/* Zeros grown ahead are the store's own free space. */
	if (s->fd >= 0 && fstat(s->fd, &fst) == 0 &&
	    (uint64_t)fst.st_size > used)
		ahead = (uint64_t)fst.st_size - used;
	st->bytes_total =
	        min64(info.me_mapsize, (uint64_t)vfs.f_blocks * vfs.f_frsize);
	st->bytes_free =
	        min64(used < info.me_mapsize ? info.me_mapsize - used : 0,
	              (uint64_t)vfs.f_bavail * vfs.f_frsize + ahead);
	st->bytes_avail = st->bytes_free;
	st->records = ms.ms_entries;
out:
	mdb_txn_abort(txn);
	return rc;
}

/* The store outlives its kv handle: store_close() releases everything. */
static void local_close(kv *k)
{
	(void)k;
}

static const struct kv_ops local_ops = {
	.get = local_get,
	.read = local_read,
	.read_many = local_read_many,
	.read_many_view = local_read_many_view,
	.apply = local_apply,
	.scan = local_scan,
	.sync = local_sync,
	.stat = local_stat,
	.close = local_close,
};

kv *store_kv(store *s)
{
	return &s->kv;
}

/* ---- meta ---- */

static int meta_key(MDB_val *k, const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > STORE_META_NAME_MAX)
		return MAGMA_EINVAL;
	k->mv_data = (void *)name;
	k->mv_size = n;
	return 0;
}

/* Copies the value into buf.  MAGMA_ENOENT when unset; MAGMA_ETOOSMALL
 * (nothing copied, *len untouched) when buflen is short. */
int store_meta_get(store *s, const char *name, void *buf, size_t buflen,
                   size_t *len)
{
	MDB_txn *txn = NULL;
	MDB_val mk, mv;
	int rc = meta_key(&mk, name);

	if (rc || (rc = store_read_begin(s, &txn)) ||
	    (rc = store_err(mdb_get(txn, s->meta, &mk, &mv), "mdb_get(meta)")))
		goto out;
	if (mv.mv_size > buflen) {
		rc = MAGMA_ETOOSMALL;
		goto out;
	}
	if (mv.mv_size)
		memcpy(buf, mv.mv_data, mv.mv_size);
	*len = mv.mv_size;
out:
	mdb_txn_abort(txn);
	return rc;
}

/* Durable (synced) like every write.  Values up to 256 bytes. */
int store_meta_put(store *s, const char *name, const void *val, size_t len)
{
	MDB_txn *txn = NULL;
	MDB_val mk, mv = { .mv_size = len, .mv_data = (void *)val };
	int rc = meta_key(&mk, name);

	if (!rc && (len > STORE_META_VAL_MAX || (len && !val)))
		rc = MAGMA_EINVAL;
	if (rc || (rc = store_write_begin(s, &txn, STORE_KEYMAX)) ||
	    (rc = store_err(mdb_put(txn, s->meta, &mk, &mv, 0),
	                    "mdb_put(meta)")))
		goto out;
	rc = store_write_commit(txn);
	txn = NULL; /* commit frees it, even on failure */
out:
	mdb_txn_abort(txn);
	return rc;
}

/* A u64 (big-endian) in "meta" inside txn: 0 when unset. */
int store_meta_u64(store *s, MDB_txn *txn, const char *name, uint64_t *v)
{
	MDB_val mk, mv;
	int rc = meta_key(&mk, name);

	if (rc)
		return rc;
	rc = mdb_get(txn, s->meta, &mk, &mv);
	if (rc == MDB_NOTFOUND) {
		*v = 0;
		return 0;
	}
	if (rc)
		return store_err(rc, "mdb_get(meta)");
	if (mv.mv_size != 8) {
		LOG_E("corrupt meta value %s", name);
		return MAGMA_EIO;
	}
	*v = store_get_be64(mv.mv_data);
	return 0;
}

int store_meta_set_u64(store *s, MDB_txn *txn, const char *name, uint64_t v)
{
	uint8_t b[8];
	MDB_val mk, mv = { .mv_size = sizeof(b), .mv_data = b };
	int rc = meta_key(&mk, name);

	if (rc)
		return rc;
	store_put_be64(b, v);
	return store_err(mdb_put(txn, s->meta, &mk, &mv, 0), "mdb_put(meta)");
}

/* ---- open / close ---- */

/* Open both databases and check (or write) the on-disk format. */
static int store_init_dbs(store *s)
{
	MDB_txn *txn = NULL;
	MDB_val mk = { .mv_size = 6, .mv_data = "format" }, mv;
	uint8_t fmt[4] = { 0, 0, 0, STORE_FORMAT };
	int rc = store_err(mdb_txn_begin(s->env, NULL, 0, &txn), "open txn");

	if (rc ||
	    (rc = store_err(mdb_dbi_open(txn, "rec", MDB_CREATE, &s->rec),
	                    "mdb_dbi_open(rec)")) ||
	    (rc = store_err(mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta),
	                    "mdb_dbi_open(meta)")) ||
	    (rc = store_err(mdb_dbi_open(txn, "tomb", MDB_CREATE, &s->tomb),
	                    "mdb_dbi_open(tomb)")))
		goto out;
	rc = mdb_get(txn, s->meta, &mk, &mv);
	if (rc == 0 && mv.mv_size == sizeof(fmt) &&
	    !memcmp(mv.mv_data, fmt, sizeof(fmt) - 1) &&
	    ((uint8_t *)mv.mv_data)[3] == 1) {
		/* Format 1's records stay as they are (store_rec_decode
		 * reads both); marking the store 2 keeps older binaries,
		 * which would misread the records written from now on,
		 * from opening it. */
		LOG_I("%s/%s: store format 1 upgraded to %u", s->dir,
		      STORE_FILE, STORE_FORMAT);
		rc = MDB_NOTFOUND;
	}
	if (rc == MDB_NOTFOUND) {
		mv.mv_size = sizeof(fmt);
		mv.mv_data = fmt;
		rc = mdb_put(txn, s->meta, &mk, &mv, 0);
	} else if (rc == 0 && (mv.mv_size != sizeof(fmt) ||
	                       memcmp(mv.mv_data, fmt, sizeof(fmt)))) {
		LOG_E("%s/%s: unsupported store format", s->dir, STORE_FILE);
		rc = MAGMA_ECONFIG;
		goto out;
	}
	if ((rc = store_err(rc, "format")))
		goto out;
	rc = store_write_commit(txn);
	txn = NULL;
out:
	mdb_txn_abort(txn);
	return rc;
}

/* Create and open the LMDB environment of s->dir. */
static int store_env_open(store *s, uint64_t map_size)
{
	char path[4096];
	int rc;
	int dead;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", s->dir, STORE_FILE) >=
	    sizeof(path))
		return MAGMA_ENAMETOOLONG;
	if ((rc = store_err(mdb_env_create(&s->env), "mdb_env_create")) ||
	    (rc = store_err(mdb_env_set_mapsize(s->env, map_size),
	                    "mdb_env_set_mapsize")) ||
	    (rc = store_err(mdb_env_set_maxdbs(s->env, 4), "set_maxdbs")) ||
	    (rc = store_err(mdb_env_set_maxreaders(s->env, STORE_MAXREADERS),
	                    "set_maxreaders")))
		return rc;
	rc = mdb_env_open(s->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600);
	if (rc) {
		LOG_E("cannot open store %s: %s", path, mdb_strerror(rc));
		return store_code(rc);
	}
	if (mdb_env_get_fd(s->env, &s->fd) != 0)
		s->fd = -1;
	/* Aligned for O_DIRECT; NULL: no growth ahead. */
	if (!s->grow_always && !fs_journals(s->dir))
		s->zeros = NULL;
	else if (posix_memalign((void **)&s->zeros, 4096, STORE_ZERO_BUF) == 0)
		memset(s->zeros, 0, STORE_ZERO_BUF);
	else
		s->zeros = NULL;
	if (s->zeros)
		s->dfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	LOG_D("%s: store file grown ahead: %s", s->dir,
	      s->zeros ? "yes" : "no");
	/* Free reader slots left by a crashed process of an earlier run. */
	if (mdb_reader_check(s->env, &dead) == 0 && dead)
		LOG_W("%s: cleared %d stale reader slots", path, dead);
	return 0;
}

int store_open(store **out, const store_config *cfg)
{
	return store_open_flags(out, cfg, 0);
}

int store_open_flags(store **out, const store_config *cfg, unsigned flags)
{
	store *s = NULL;
	int rc;

	if (!out || !cfg || !cfg->dir || !*cfg->dir ||
	    (flags & ~(STORE_TOMBSTONES | STORE_GROW_AHEAD)))
		return MAGMA_EINVAL;
	if (!(s = calloc(1, sizeof(*s))) || !(s->dir = strdup(cfg->dir))) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	pthread_mutex_init(&s->gmu, NULL);
	pthread_mutex_init(&s->greq, NULL);
	pthread_cond_init(&s->gcv, NULL);
	s->kv.ops = &local_ops;
	s->kv.always_durable = 1; /* every commit is synced */
	s->kv.atomic_batches = 1; /* one transaction per apply */
	s->tombstones = (flags & STORE_TOMBSTONES) != 0;
	s->grow_always = (flags & STORE_GROW_AHEAD) != 0;
	s->fd = -1;
	s->dfd = -1;
	s->map_size = cfg->map_size ? cfg->map_size : STORE_MAP_DEFAULT;
	if (mkdir(s->dir, 0700) != 0 && (rc = errno) != EEXIST) {
		LOG_E("cannot create store directory %s: %s", s->dir,
		      strerror(rc));
		rc = store_code(rc);
		goto out;
	}
	if ((rc = store_env_open(s, s->map_size)) || (rc = store_init_dbs(s)))
		goto out;
	/* No grower: every growth then runs in the transaction. */
	if (s->zeros && s->fd >= 0 &&
	    pthread_create(&s->grower, NULL, grower_main, s) == 0)
		s->grower_on = 1;
	*out = s;
	s = NULL;
out:
	store_close(s);
	return rc;
}

void store_close(store *s)
{
	if (!s)
		return;
	if (s->grower_on) {
		pthread_mutex_lock(&s->greq);
		s->grow_stop = 1;
		pthread_cond_signal(&s->gcv);
		pthread_mutex_unlock(&s->greq);
		pthread_join(s->grower, NULL);
	}
	pthread_mutex_destroy(&s->gmu);
	pthread_mutex_destroy(&s->greq);
	pthread_cond_destroy(&s->gcv);
	if (s->env)
		mdb_env_close(s->env);
	if (s->dfd >= 0)
		close(s->dfd);
	free(s->zeros);
	free(s->dir);
	free(s);
}
