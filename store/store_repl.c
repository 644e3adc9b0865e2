/* store_repl.c - what an owner needs for replication: applying records
 * from other owners by the version rule, purging old tombstones, and
 * range digests and pulls over the 160-bit ring for anti-entropy and
 * rebalancing.  The rule and the range conventions are in store.h.
 *
 * Bounded: digests and pulls walk one LMDB cursor in one read
 * transaction and keep one hash state, whatever the range holds; a pull
 * stops at max_bytes and resumes from a cursor that is just the last key
 * handed out.  Writes (replica apply, purge) are one synced transaction
 * per call, as every write of this store. */
#include "store.h"
#include "store_int.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merr.h"
#include "mlog.h"

/* ---- ring arithmetic: 160-bit positions in 192-bit numbers ---- */

/* Little-endian 32-bit limbs; w[5] holds the bit 2^160 of a whole-ring
 * length and the overflow of len * i. */
typedef struct rnum {
	uint32_t w[6];
} rnum;

static void rn_load(rnum *n, const uint8_t k[KV_KEY_LEN])
{
	for (int i = 0; i < 5; i++) {
		const uint8_t *p = k + 16 - 4 * i;
		n->w[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		          (uint32_t)p[2] << 8 | p[3];
	}
	n->w[5] = 0;
}

static void rn_store(const rnum *n, uint8_t k[KV_KEY_LEN])
{
	for (int i = 0; i < 5; i++) {
		uint8_t *p = k + 16 - 4 * i;
		p[0] = (uint8_t)(n->w[i] >> 24);
		p[1] = (uint8_t)(n->w[i] >> 16);
		p[2] = (uint8_t)(n->w[i] >> 8);
		p[3] = (uint8_t)n->w[i];
	}
}

/* r = a - b or a + b, modulo 2^160. */
static void rn_addsub(rnum *r, const rnum *a, const rnum *b, int sub)
{
	int64_t c = 0;

	for (int i = 0; i < 6; i++) {
		c += (int64_t)a->w[i] + (sub ? -(int64_t)b->w[i] : b->w[i]);
		r->w[i] = (uint32_t)c;
		c = c < 0 ? -1 : c >> 32;
	}
	r->w[5] = 0;
}

static void rn_mul(rnum *n, uint32_t m)
{
	uint64_t c = 0;

	for (int i = 0; i < 6; i++) {
		c += (uint64_t)n->w[i] * m;
		n->w[i] = (uint32_t)c;
		c >>= 32;
	}
}

static void rn_div(rnum *n, uint32_t d)
{
	uint64_t rem = 0;

	for (int i = 5; i >= 0; i--) {
		rem = rem << 32 | n->w[i];
		n->w[i] = (uint32_t)(rem / d);
		rem %= d;
	}
}

static int rn_cmp(const rnum *a, const rnum *b)
{
	for (int i = 5; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

/* Length of [start, end) on the ring; 2^160 when start == end. */
static void rn_range_len(rnum *len, const uint8_t start[KV_KEY_LEN],
                         const uint8_t end[KV_KEY_LEN])
{
	rnum a, b;

	if (memcmp(start, end, KV_KEY_LEN) == 0) {
		memset(len, 0, sizeof(*len));
		len->w[5] = 1;
		return;
	}
	rn_load(&a, end);
	rn_load(&b, start);
	rn_addsub(len, &a, &b, 1);
}

/* Offset of split point i: floor(len * i / parts). */
static void rn_point_off(rnum *off, const rnum *len, unsigned parts, unsigned i)
{
	*off = *len;
	rn_mul(off, i);
	rn_div(off, parts);
}

int store_range_point(const uint8_t start[KV_KEY_LEN],
                      const uint8_t end[KV_KEY_LEN], unsigned parts, unsigned i,
                      uint8_t out[KV_KEY_LEN])
{
	rnum len, off, st;

	if (!start || !end || !out || parts == 0 || parts > STORE_SPLIT_MAX ||
	    i > parts)
		return MAGMA_EINVAL;
	rn_range_len(&len, start, end);
	rn_point_off(&off, &len, parts, i);
	rn_load(&st, start);
	rn_addsub(&off, &st, &off, 0);
	rn_store(&off, out);
	return 0;
}

/* ---- walking a ring range ---- */

/* 0 continues, 1 stops the walk, negative aborts it. */
typedef int (*walk_fn)(void *arg, const MDB_val *mk, const store_raw *r);

/* Records from seek (inclusive) while the ring key is below hi (NULL: to
 * the end of the database). */
static int walk_seg(MDB_cursor *cur, const MDB_val *seek, const uint8_t *hi,
                    walk_fn fn, void *arg)
{
	MDB_val mk = *seek, mv;
	store_raw r;
	int rc, mrc = mdb_cursor_get(cur, &mk, &mv, MDB_SET_RANGE);

	for (; mrc == 0; mrc = mdb_cursor_get(cur, &mk, &mv, MDB_NEXT)) {
		if (mk.mv_size < KV_KEY_LEN || mk.mv_size > STORE_KEYMAX) {
			LOG_E("corrupt record key of %zu bytes", mk.mv_size);
			return MAGMA_EIO;
		}
		if (hi && memcmp(mk.mv_data, hi, KV_KEY_LEN) >= 0)
			return 0;
		if ((rc = store_rec_decode(&mv, &r)) || (rc = fn(arg, &mk, &r)))
			return rc;
	}
	return mrc == MDB_NOTFOUND ? 0 : store_err(mrc, "mdb_cursor_get");
}

/* Walk [start, end) in ring order after *after (NULL or empty: from
 * start): for a wrapping range, [start, top) then [0, end).  A cursor
 * below start in a wrapping range is in the second part. */
static int range_walk(store *s, MDB_txn *txn, const uint8_t *start,
                      const uint8_t *end, const store_cursor *after, walk_fn fn,
                      void *arg)
{
	static const uint8_t zero[KV_KEY_LEN];
	uint8_t sk[STORE_CURSOR_MAX + 1];
	MDB_cursor *cur = NULL;
	MDB_val seek = { .mv_size = KV_KEY_LEN, .mv_data = (void *)start };
	int wrap = memcmp(start, end, KV_KEY_LEN) >= 0, second = 0, rc;

	if (after && after->len) {
		if (after->len < KV_KEY_LEN || after->len > STORE_CURSOR_MAX)
			return MAGMA_EINVAL;
		second = wrap && memcmp(after->key, start, KV_KEY_LEN) < 0;
		/* Just past the cursor: the key with a 0 byte appended. */
		if (wrap || memcmp(after->key, start, KV_KEY_LEN) >= 0) {
			memcpy(sk, after->key, after->len);
			sk[after->len] = 0;
			seek.mv_data = sk;
			seek.mv_size = after->len + 1;
		}
	}
	if ((rc = store_err(mdb_cursor_open(txn, s->rec, &cur), "cursor")))
		return rc;
	if (!second) {
		rc = walk_seg(cur, &seek, wrap ? NULL : end, fn, arg);
		if (rc || !wrap)
			goto out;
		seek.mv_data = (void *)zero;
		seek.mv_size = KV_KEY_LEN;
	}
	rc = walk_seg(cur, &seek, end, fn, arg);
out:
	mdb_cursor_close(cur);
	return rc;
}

/* ---- digests ---- */

struct digest_walk {
	gnutls_hash_hd_t h;
	rnum start, len, next; /* next: offset where part p + 1 begins */
	unsigned parts, p;
	uint8_t (*out)[STORE_DIGEST_LEN];
	uint64_t *counts;
	uint64_t n; /* records in part p so far */
};

/* Close part p and open p + 1. */
static void digest_next_part(struct digest_walk *d)
{
	gnutls_hash_output(d->h, d->out[d->p]); /* also resets the state */
	if (d->counts)
		d->counts[d->p] = d->n;
	d->n = 0;
	d->p++;
	rn_point_off(&d->next, &d->len, d->parts, d->p + 1);
}

static int digest_one(void *arg, const MDB_val *mk, const store_raw *r)
{
	struct digest_walk *d = arg;
	uint8_t hdr[STORE_KEYMAX + 14 + STORE_VHASH_LEN], *p = hdr;
	size_t sublen = mk->mv_size - KV_KEY_LEN;
	rnum k, off;

	rn_load(&k, mk->mv_data);
	rn_addsub(&off, &k, &d->start, 1);
	while (d->p + 1 < d->parts && rn_cmp(&off, &d->next) >= 0)
		digest_next_part(d);
	memcpy(p, mk->mv_data, KV_KEY_LEN);
	p += KV_KEY_LEN;
	*p++ = (uint8_t)sublen;
	memcpy(p, (const uint8_t *)mk->mv_data + KV_KEY_LEN, sublen);
	p += sublen;
	store_put_be64(p, r->ver);
	p += 8;
	*p++ = r->flags;
	for (int i = 3; i >= 0; i--)
		*p++ = (uint8_t)(r->vallen >> (8 * i));
	store_rec_vhash(r, p);
	p += STORE_VHASH_LEN;
	if (gnutls_hash(d->h, hdr, (size_t)(p - hdr)) < 0)
		return MAGMA_ECRYPTO;
	d->n++;
	return 0;
}

int store_range_digest_split(store *s, const uint8_t start[KV_KEY_LEN],
                             const uint8_t end[KV_KEY_LEN], unsigned parts,
                             uint8_t (*digests)[STORE_DIGEST_LEN],
                             uint64_t *counts)
{
	struct digest_walk d = { .parts = parts,
		                 .out = digests,
		                 .counts = counts };
	MDB_txn *txn = NULL;
	int rc = 0;

	if (!s || !start || !end || !digests || parts == 0 ||
	    parts > STORE_SPLIT_MAX)
		return MAGMA_EINVAL;
	if (gnutls_hash_init(&d.h, GNUTLS_DIG_SHA256) < 0) {
		LOG_E("gnutls_hash_init(SHA-256) failed");
		return MAGMA_ECRYPTO;
	}
	rn_load(&d.start, start);
	rn_range_len(&d.len, start, end);
	rn_point_off(&d.next, &d.len, parts, 1);
	if ((rc = store_read_begin(s, &txn)) ||
	    (rc = range_walk(s, txn, start, end, NULL, digest_one, &d)))
		goto out;
	while (d.p + 1 < parts)
		digest_next_part(&d);
	gnutls_hash_output(d.h, digests[d.p]);
	if (counts)
		counts[d.p] = d.n;
out:
	gnutls_hash_deinit(d.h, NULL);
	mdb_txn_abort(txn);
	return rc;
}

int store_range_digest(store *s, const uint8_t start[KV_KEY_LEN],
                       const uint8_t end[KV_KEY_LEN],
                       uint8_t out[STORE_DIGEST_LEN], uint64_t *records)
{
	uint8_t dg[1][STORE_DIGEST_LEN];
	uint64_t n;
	int rc = out ? store_range_digest_split(s, start, end, 1, dg, &n)
	             : MAGMA_EINVAL;

	if (rc)
		return rc;
	memcpy(out, dg[0], STORE_DIGEST_LEN);
	if (records)
		*records = n;
	return 0;
}

/* ---- pulls ---- */

struct pull_walk {
	store_rec_fn fn;
	void *arg;
	size_t max, used, n;
	int more; /* stopped with records possibly left */
	store_cursor last;
};

static int pull_one(void *arg, const MDB_val *mk, const store_raw *r)
{
	struct pull_walk *pw = arg;
	store_rec rec;
	int rc;

	if (pw->n && pw->used >= pw->max) {
		pw->more = 1;
		return 1;
	}
	memcpy(rec.key, mk->mv_data, KV_KEY_LEN);
	rec.sub = (const uint8_t *)mk->mv_data + KV_KEY_LEN;
	rec.sublen = mk->mv_size - KV_KEY_LEN;
	rec.version = r->ver;
	rec.flags = r->flags;
	rec.val = r->val;
	rec.vallen = r->vallen;
	if ((rc = pw->fn(pw->arg, &rec)) < 0)
		return rc;
	pw->n++;
	pw->used += mk->mv_size + STORE_HDR + r->vallen;
	memcpy(pw->last.key, mk->mv_data, mk->mv_size);
	pw->last.len = mk->mv_size;
	if (rc > 0)
		pw->more = 1;
	return rc > 0;
}

int store_range_pull(store *s, const uint8_t start[KV_KEY_LEN],
                     const uint8_t end[KV_KEY_LEN], const store_cursor *from,
                     size_t max_bytes, store_rec_fn fn, void *arg,
                     store_cursor *next, int *done)
{
	struct pull_walk pw = { .fn = fn, .arg = arg, .max = max_bytes };
	MDB_txn *txn = NULL;
	int rc;

	if (!s || !start || !end || !fn || !next || !done)
		return MAGMA_EINVAL;
	if (from)
		pw.last = *from;
	if ((rc = store_read_begin(s, &txn)))
		goto out;
	rc = range_walk(s, txn, start, end, from, pull_one, &pw);
	if (rc < 0)
		goto out;
	rc = 0;
	*next = pw.last;
	*done = !pw.more;
out:
	mdb_txn_abort(txn);
	return rc;
}

/* ---- replica apply ---- */

/* Rule 3 of store.h, for two different copies of one version: 1 when
 * (af, a) beats (bf, b).  Flags are 0 or STORE_REC_TOMBSTONE here. */
static int copy_beats(uint8_t af, const void *a, size_t alen, uint8_t bf,
                      const void *b, size_t blen)
{
	if (af != bf)
		return !(af & STORE_REC_TOMBSTONE); /* live beats tombstone */
	return store_bytes_cmp(a, alen, b, blen) > 0;
}

static void key_hex(char *out, const uint8_t key[KV_KEY_LEN])
{
	for (int i = 0; i < KV_KEY_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", key[i]);
}

static int rec_valid(const store_rec *r)
{
	if (r->version == KV_VER_ABSENT || r->version == KV_VER_ANY ||
	    (r->flags & ~STORE_REC_TOMBSTONE) || r->sublen > KV_SUB_MAX ||
	    (r->sublen && !r->sub) || r->vallen > KV_VAL_MAX ||
	    (r->vallen && !r->val))
		return 0;
	return !(r->flags & STORE_REC_TOMBSTONE) || r->vallen == STORE_TOMB_LEN;
}

/* Apply one record by the rule; st counts what happened. */
static int repl_one(store *s, MDB_txn *txn, const store_rec *r,
                    store_replica_stats *st)
{
	uint8_t kb[STORE_KEYMAX];
	char hex[2 * KV_KEY_LEN + 1];
	MDB_val mk;
	store_raw old;
	int found = 0, win, rc;

	if (!rec_valid(r))
		return MAGMA_EINVAL;
	if ((rc = store_rec_key(&mk, kb, r->key, r->sub, r->sublen)) ||
	    (rc = store_rec_lookup(s, txn, &mk, &old, &found)))
		return rc;
	if (found && r->version < old.ver) {
		st->stale++;
		return 0;
	}
	if (found && r->version == old.ver) {
		if (r->flags == old.flags &&
		    store_bytes_cmp(r->val, r->vallen, old.val, old.vallen) ==
		            0) {
			st->same++;
			return 0;
		}
		int restart =
		        __atomic_load_n(&s->restart_ties, __ATOMIC_ACQUIRE);
		st->conflicts++;
		win = restart || copy_beats(r->flags, r->val, r->vallen,
		                            old.flags, old.val, old.vallen);
		key_hex(hex, r->key);
		LOG_W("conflict: key %s sub of %zu bytes, version %" PRIu64
		      ": two owners wrote it; kept the %s copy (%s, %zu "
		      "bytes)%s",
		      hex, r->sublen, r->version, win ? "incoming" : "local",
		      (win ? r->flags : old.flags) ? "tombstone" : "live",
		      win ? r->vallen : old.vallen,
		      restart ? ", this node's being one it had not forwarded "
		                "when it stopped"
		              : "");
		if (!win)
			return 0;
	}
	st->applied++;
	return store_rec_write(s, txn, &mk, found ? &old : NULL, r->version,
	                       r->flags, r->val, r->vallen);
}

int store_replica_behind(store *s, const store_rec *recs, size_t n)
{
	MDB_txn *txn = NULL;
	int rc = store_read_begin(s, &txn), behind = 0;

	for (size_t i = 0; rc == 0 && i < n && !behind; i++) {
		uint8_t kb[STORE_KEYMAX];
		MDB_val mk;
		store_raw old;
		int found = 0;

		if (recs[i].prev == 0)
			continue;
		if ((rc = store_rec_key(&mk, kb, recs[i].key, recs[i].sub,
		                        recs[i].sublen)) ||
		    (rc = store_rec_lookup(s, txn, &mk, &old, &found)))
			break;
		behind = (found ? old.ver : 0) < recs[i].prev;
	}
	mdb_txn_abort(txn);
	return rc ? rc : behind;
}

int store_apply_replica(store *s, const store_rec *recs, size_t n,
                        store_replica_stats *st)
{
	store_replica_stats got = { 0 };
	MDB_txn *txn = NULL;
	uint64_t need = 256u << 10, total;
	int rc = 0;

	if (!s || (n && !recs))
		return MAGMA_EINVAL;
	if (n == 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		need += recs[i].vallen + 2 * STORE_KEYMAX + 64;
	if ((rc = store_write_begin(s, &txn, need + need / 4)))
		goto out;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = repl_one(s, txn, &recs[i], &got);
	if (rc == 0 && got.conflicts &&
	    (rc = store_meta_u64(s, txn, STORE_META_CONFLICTS, &total)) == 0)
		rc = store_meta_set_u64(s, txn, STORE_META_CONFLICTS,
		                        total + got.conflicts);
	if (rc)
		goto out;
	rc = store_write_commit(txn);
	txn = NULL; /* commit frees it, even on failure */
	if (rc)
		goto out;
done:
	if (st) {
		st->applied += got.applied;
		st->stale += got.stale;
		st->same += got.same;
		st->conflicts += got.conflicts;
	}
out:
	mdb_txn_abort(txn);
	return rc;
}

void store_set_restart_ties(store *s, int on)
{
	__atomic_store_n(&s->restart_ties, on ? 1 : 0, __ATOMIC_RELEASE);
}

int store_conflicts(store *s, uint64_t *n)
{
	MDB_txn *txn = NULL;
	uint64_t v;
	int rc;

	if (!s || !n)
		return MAGMA_EINVAL;
	if ((rc = store_read_begin(s, &txn)) ||
	    (rc = store_meta_u64(s, txn, STORE_META_CONFLICTS, &v)))
		goto out;
	*n = v;
out:
	mdb_txn_abort(txn);
	return rc;
}

/* ---- purge ---- */

/* Drop the oldest tombstone index entry's record when it is still that
 * tombstone; *floor rises to its version.  1 when the oldest entry is
 * not older than older_than (or there is none): the purge is done. */
static int purge_first(store *s, MDB_txn *txn, MDB_cursor *cur,
                       uint64_t older_than, uint64_t *floor)
{
	uint8_t kb[STORE_KEYMAX];
	MDB_val ik, iv, mk;
	store_raw r;
	int found = 0, rc = mdb_cursor_get(cur, &ik, &iv, MDB_FIRST);

	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc)
		return store_err(rc, "mdb_cursor_get(tomb)");
	if (ik.mv_size < 8 + KV_KEY_LEN || ik.mv_size > STORE_TIDX_MAX) {
		LOG_E("corrupt tombstone index key of %zu bytes", ik.mv_size);
		return MAGMA_EIO;
	}
	if (store_get_be64(ik.mv_data) >= older_than)
		return 1;
	memcpy(kb, (const uint8_t *)ik.mv_data + 8, ik.mv_size - 8);
	mk.mv_data = kb;
	mk.mv_size = ik.mv_size - 8;
	if ((rc = store_rec_lookup(s, txn, &mk, &r, &found)))
		return rc;
	/* A stale entry (the record was re-written) only goes itself. */
	if (found && store_is_tomb(&r) && r.vallen == STORE_TOMB_LEN &&
	    store_get_be64(r.val) == store_get_be64(ik.mv_data)) {
		if (r.ver > *floor)
			*floor = r.ver;
		if ((rc = store_err(mdb_del(txn, s->rec, &mk, NULL),
		                    "mdb_del")))
			return rc;
	}
	return store_err(mdb_cursor_del(cur, 0), "mdb_cursor_del(tomb)");
}

int store_purge_tombstones(store *s, uint64_t older_than_ns, size_t max,
                           size_t *purged)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	uint64_t floor = 0, floor0 = 0;
	size_t n = 0;
	int rc;

	if (!s || !purged || max == 0)
		return MAGMA_EINVAL;
	if ((rc = store_write_begin(s, &txn, STORE_NEED_UNKNOWN)) ||
	    (rc = store_meta_u64(s, txn, STORE_META_FLOOR, &floor0)) ||
	    (rc = store_err(mdb_cursor_open(txn, s->tomb, &cur), "cursor")))
		goto out;
	floor = floor0;
	while (n < max &&
	       (rc = purge_first(s, txn, cur, older_than_ns, &floor)) == 0)
		n++;
	if (rc < 0)
		goto out;
	mdb_cursor_close(cur);
	cur = NULL;
	/* Re-created records start above every purged version. */
	if (floor != floor0 &&
	    (rc = store_meta_set_u64(s, txn, STORE_META_FLOOR, floor)))
		goto out;
	rc = store_write_commit(txn);
	txn = NULL;
	if (rc == 0)
		*purged = n;
out:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	store_write_end(s);
	return rc;
}

/* ---- dropping a range this node no longer holds ---- */

struct drop_walk {
	uint8_t (*keys)[STORE_KEYMAX];
	size_t *lens;
	size_t n, cap;
	uint64_t maxver;
};

static int drop_note(void *arg, const MDB_val *mk, const store_raw *r)
{
	struct drop_walk *w = arg;

	if (w->n == w->cap) {
		size_t nc = w->cap ? 2 * w->cap : 256;
		uint8_t(*k)[STORE_KEYMAX] = realloc(w->keys, nc * sizeof(*k));
		size_t *l;
		if (!k)
			return MAGMA_ENOMEM;
		w->keys = k;
		if (!(l = realloc(w->lens, nc * sizeof(*l))))
			return MAGMA_ENOMEM;
		w->lens = l;
		w->cap = nc;
	}
	memcpy(w->keys[w->n], mk->mv_data, mk->mv_size);
	w->lens[w->n++] = mk->mv_size;
	if (r->ver > w->maxver)
		w->maxver = r->ver;
	return 0;
}

int store_range_drop(store *s, const uint8_t start[KV_KEY_LEN],
                     const uint8_t end[KV_KEY_LEN],
                     const uint8_t expect[STORE_DIGEST_LEN], uint64_t *dropped)
{
	struct digest_walk d = { .parts = 1 };
	struct drop_walk w = { NULL, NULL, 0, 0, 0 };
	uint8_t dg[1][STORE_DIGEST_LEN];
	uint64_t floor = 0;
	MDB_txn *txn = NULL;
	int rc, hashing = 0;

	if (!s || !start || !end || !expect)
		return MAGMA_EINVAL;
	if (gnutls_hash_init(&d.h, GNUTLS_DIG_SHA256) < 0)
		return MAGMA_ECRYPTO;
	hashing = 1;
	d.out = dg;
	rn_load(&d.start, start);
	rn_range_len(&d.len, start, end);
	rn_point_off(&d.next, &d.len, 1, 1);
	/* One write transaction: what is compared is what goes. */
	if ((rc = store_write_begin(s, &txn, STORE_NEED_UNKNOWN)) ||
	    (rc = range_walk(s, txn, start, end, NULL, digest_one, &d)))
		goto out;
	gnutls_hash_output(d.h, dg[0]);
	if (memcmp(dg[0], expect, STORE_DIGEST_LEN) != 0) {
		rc = MAGMA_ECONFLICT;
		goto out;
	}
	if ((rc = range_walk(s, txn, start, end, NULL, drop_note, &w)))
		goto out;
	for (size_t i = 0; i < w.n && rc == 0; i++) {
		MDB_val mk = { .mv_size = w.lens[i], .mv_data = w.keys[i] };
		rc = store_err(mdb_del(txn, s->rec, &mk, NULL), "mdb_del");
	}
	/* Tombstone index entries of dropped tombstones are stale now:
	 * the purge drops them.  Re-created records start above every
	 * dropped version, as after a purge. */
	if (rc == 0 && w.n &&
	    (rc = store_meta_u64(s, txn, STORE_META_FLOOR, &floor)) == 0 &&
	    w.maxver > floor)
		rc = store_meta_set_u64(s, txn, STORE_META_FLOOR, w.maxver);
	if (rc)
		goto out;
	rc = store_write_commit(txn);
	txn = NULL;
	if (rc == 0 && dropped)
		*dropped = w.n;
out:
	if (hashing)
		gnutls_hash_deinit(d.h, NULL);
	mdb_txn_abort(txn);
	store_write_end(s);
	free(w.keys);
	free(w.lens);
	return rc;
}

/* ---- the primary's apply, with the records it wrote ---- */

struct store_collect {
	store_rec *recs;
	size_t n, cap;
};

int store_collect_note(store *s, const MDB_val *mk, uint64_t prev, uint64_t ver,
                       uint8_t flags, const void *val, size_t vallen)
{
	struct store_collect *c = s->collect;
	size_t sublen = mk->mv_size - KV_KEY_LEN;
	store_rec *r;
	uint8_t *buf;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? 2 * c->cap : 16;
		store_rec *p = realloc(c->recs, ncap * sizeof(*p));
		if (!p)
			return MAGMA_ENOMEM;
		c->recs = p;
		c->cap = ncap;
	}
	/* One block per record: sub then value; rec.sub owns it. */
	if (!(buf = malloc(sublen + vallen + 1)))
		return MAGMA_ENOMEM;
	r = &c->recs[c->n++];
	memcpy(r->key, mk->mv_data, KV_KEY_LEN);
	memcpy(buf, (const uint8_t *)mk->mv_data + KV_KEY_LEN, sublen);
	if (vallen)
		memcpy(buf + sublen, val, vallen);
	r->sub = buf;
	r->sublen = sublen;
	r->val = buf + sublen;
	r->vallen = vallen;
	r->version = ver;
	r->flags = flags;
	r->prev = prev;
	return 0;
}

static void collect_truncate(struct store_collect *c, size_t n)
{
	while (c->n > n)
		free((void *)c->recs[--c->n].sub);
}

void store_applied_free(store_applied *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nrecs; i++)
		free((void *)a->recs[i].sub);
	free(a->recs);
	a->recs = NULL;
	a->nrecs = 0;
}

static int cond_failure(int rc)
{
	return rc == MAGMA_ECONFLICT || rc == MAGMA_EEXIST ||
	       rc == MAGMA_ENOENT;
}

int store_apply_collect(store *s, const kv_batch *b, size_t n,
                        store_applied *out)
{
	return store_apply_collect_hooked(s, b, n, out, NULL);
}

int store_apply_collect_hooked(store *s, const kv_batch *b, size_t n,
                               store_applied *out,
                               const store_commit_hooks *hooks)
{
	struct store_collect c = { NULL, 0, 0 };
	MDB_txn *txn = NULL, *child = NULL;
	size_t i = 0;
	int rc = 0, frc = 0;

	if (!s || !out || (n && !b) || !s->tombstones)
		return MAGMA_EINVAL;
	if (n && (rc = store_write_begin(s, &txn, store_batch_need(b, n))))
		goto out;
	s->collect = &c;
	for (i = 0; i < n; i++) {
		size_t mark = c.n;

		if ((rc = store_err(mdb_txn_begin(s->env, txn, 0, &child),
		                    "mdb_txn_begin(nested)")))
			break;
		rc = store_batch_run(s, child, &b[i], 1);
		if (rc) {
			mdb_txn_abort(child);
			child = NULL;
			collect_truncate(&c, mark);
			if (cond_failure(rc)) {
				frc = rc;
				rc = 0;
			}
			break;
		}
		rc = store_err(mdb_txn_commit(child), "mdb_txn_commit(nested)");
		child = NULL;
		if (rc)
			break;
	}
	s->collect = NULL;
	if (rc)
		goto out;
	if (hooks && hooks->prepared)
		hooks->prepared(hooks->arg, c.recs, c.n);
	if (txn) {
		rc = store_write_commit(txn);
		txn = NULL; /* commit frees it, even on failure */
	}
	if (hooks && hooks->settled)
		hooks->settled(hooks->arg, rc);
	if (rc)
		goto out;
	out->recs = c.recs;
	out->nrecs = c.n;
	out->failed = frc ? i : n;
	out->failed_rc = frc;
	c.recs = NULL;
	c.n = 0;
out:
	s->collect = NULL;
	mdb_txn_abort(txn);
	collect_truncate(&c, 0);
	free(c.recs);
	return rc;
}
