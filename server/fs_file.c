/* fs_file.c - file data: READ, WRITE, COMMIT and resizing.
 *
 * Data lives next to the flare record at its home key, in chunks of
 * FS_CHUNK bytes ("C" || id || idx).  A missing chunk, or the part of a
 * chunk past its stored length, reads as zeros (a hole).  A WRITE is one
 * kv_apply per slice of at most FS_SLICE chunks: the chunks it touches and
 * the flare record, conditional on the record's version, so concurrent
 * writers and truncates never lose each other's updates (the loser
 * retries). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fs_internal.h"
#include "store/store.h"
#include "merr.h"
#include "mlog.h"

#define FS_SLICE 16 /* chunks per atomic write step: 1 MiB */

/* End sub key (exclusive) past every chunk sub of id. */
static void chunk_end(const uint8_t id[KEYS_ID_LEN],
                      uint8_t out[FS_SUB_CHUNK_LEN + 1])
{
	out[0] = 'C';
	memcpy(out + 1, id, KEYS_ID_LEN);
	memset(out + 1 + KEYS_ID_LEN, 0xff, 9);
}

/* ---- sizes of stored chunks, without copying them ---- */

typedef struct len_sum {
	uint64_t bytes;
} len_sum;

static int sum_cb(void *arg, const void *sub, size_t sublen, const void *val,
                  size_t vallen, uint64_t ver)
{
	(void)sub;
	(void)sublen;
	(void)val;
	(void)ver;
	((len_sum *)arg)->bytes += vallen;
	return 0;
}

/* Total stored bytes of the chunks idx >= from (max chunks: 0 = all). */
static int chunks_len(fs *f, const fs_node *n, uint64_t from, size_t max,
                      uint64_t *bytes)
{
	uint8_t sub[FS_SUB_CHUNK_LEN];
	len_sum s = { 0 };
	int rc;

	fs_sub_chunk(n->ref.id, from, sub);
	rc = kv_scan(f->kv, n->ref.home, sub,
	             max == 1 ? sizeof(sub) : 1 + KEYS_ID_LEN, sub, sizeof(sub),
	             max, sum_cb, &s);
	if (rc == 0)
		*bytes = s.bytes;
	return rc;
}

/* ---- resize and drop (used by SETATTR and the namespace ops) ---- */

int fs_file_resize(fs *f, fs_tx *t, fs_node *n, uint64_t size)
{
	uint64_t keep = (size + FS_CHUNK - 1) / FS_CHUNK; /* chunks kept */
	uint8_t from[FS_SUB_CHUNK_LEN], end[FS_SUB_CHUNK_LEN + 1];
	uint64_t gone = 0;
	int rc;

	if (size >= n->rec.size) {
		n->rec.size = size; /* extension is a hole */
		return 0;
	}
	/* To zero every chunk goes, and with them every stored byte: no
	 * need to read their lengths (an O_TRUNC of a large file). */
	if (keep == 0)
		gone = n->rec.used;
	else if ((rc = chunks_len(f, n, keep, 0, &gone)))
		return rc;
	fs_sub_chunk(n->ref.id, keep, from);
	chunk_end(n->ref.id, end);
	fs_tx_del_range(t, from, sizeof(from), end, sizeof(end));

	if (size % FS_CHUNK) { /* trim the boundary chunk */
		uint32_t cut = size % FS_CHUNK;
		void *val = NULL;
		size_t len = 0;
		uint64_t ver;
		fs_sub_chunk(n->ref.id, size / FS_CHUNK, from);
		rc = kv_get(f->kv, n->ref.home, from, sizeof(from), &val, &len,
		            &ver);
		if (rc == 0 && len > cut) {
			gone += len - cut;
			fs_tx_put(t, from, sizeof(from), val, cut, KV_VER_ANY);
			val = NULL;
		}
		free(val);
		if (rc && rc != MAGMA_ENOENT)
			return rc;
	}
	n->rec.used = n->rec.used > gone ? n->rec.used - gone : 0;
	n->rec.size = size;
	return 0;
}

void fs_file_drop(fs_tx *t, const fs_node *n)
{
	uint8_t sub[FS_SUB_FLARE_LEN];
	uint8_t from[FS_SUB_CHUNK_LEN], end[FS_SUB_CHUNK_LEN + 1];

	fs_sub_flare(n->ref.id, sub);
	fs_tx_del(t, sub, sizeof(sub), n->ver);
	if (n->rec.type == FS_REG) {
		fs_sub_chunk(n->ref.id, 0, from);
		chunk_end(n->ref.id, end);
		fs_tx_del_range(t, from, sizeof(from), end, sizeof(end));
	}
}

/* ---- READ ---- */

static int file_check(const fs_node *n)
{
	if (n->rec.type == FS_DIR)
		return MAGMA_EISDIR;
	return n->rec.type == FS_REG ? 0 : MAGMA_EINVAL;
}

/* The reads of [off, off+len) of a file (len > 0): one per chunk it
 * spans, each into its place in buf (NULL: in place, kv_read_many_view),
 * witnessed by ver, the version of the flare record the caller read:
 * every change of the file's data puts that record in the same batch,
 * so a copy holding it at ver holds the data of then.  A file's chunks
 * share its home key: one kv_read_many reads them all. */
typedef struct chunk_reads {
	kv_read_req *q;
	uint8_t (*subs)[FS_SUB_CHUNK_LEN];
	size_t n;
	uint8_t wsub[FS_SUB_FLARE_LEN];
	kv_witness w;
} chunk_reads;

static int chunk_reads_new(chunk_reads *cr, const fs_ref *ref, uint64_t ver,
                           uint64_t off, uint32_t len, uint8_t *buf)
{
	uint64_t first = off / FS_CHUNK;
	uint32_t done = 0;

	cr->n = (size_t)((off + len - 1) / FS_CHUNK - first + 1);
	cr->q = calloc(cr->n, sizeof(*cr->q));
	cr->subs = calloc(cr->n, sizeof(*cr->subs));
	fs_sub_flare(ref->id, cr->wsub);
	cr->w = (kv_witness){ .sub = cr->wsub,
		              .sublen = sizeof(cr->wsub),
		              .ver = ver };
	if (!cr->q || !cr->subs)
		return MAGMA_ENOMEM;
	for (size_t i = 0; i < cr->n; i++) {
		uint64_t pos = off + done;
		uint32_t step = FS_CHUNK - (uint32_t)(pos % FS_CHUNK);

		if (step > len - done)
			step = len - done;
		fs_sub_chunk(ref->id, first + i, cr->subs[i]);
		cr->q[i].sub = cr->subs[i];
		cr->q[i].sublen = FS_SUB_CHUNK_LEN;
		cr->q[i].off = pos % FS_CHUNK;
		cr->q[i].len = step;
		cr->q[i].buf = buf ? buf + done : NULL;
		done += step;
	}
	return 0;
}

/* The reads' outcome as one: an absent chunk is a hole (no bytes). */
static int chunk_reads_rc(chunk_reads *cr)
{
	for (size_t i = 0; i < cr->n; i++) {
		if (cr->q[i].rc == MAGMA_ENOENT)
			cr->q[i].got = 0;
		else if (cr->q[i].rc != 0)
			return cr->q[i].rc;
	}
	return 0;
}

static void chunk_reads_free(chunk_reads *cr)
{
	free(cr->q);
	free(cr->subs);
}

/* [off, off+len) of the file into buf, zeros where not stored.
 * *ahead: a READ that reads on would gain from read-ahead, because the
 * data came from another node, or from this node's backup copy after
 * the flare's round trip to the primary (overlapped by the next range
 * then). */
int fs_chunks_read(fs *f, const fs_ref *ref, uint64_t ver, uint64_t off,
                   uint32_t len, uint8_t *buf, int *ahead)
{
	chunk_reads cr;
	int rc;

	*ahead = 0;
	if (len == 0)
		return 0;
	if ((rc = chunk_reads_new(&cr, ref, ver, off, len, buf)) == 0 &&
	    (rc = kv_read_many(f->kv, ref->home, &cr.w, cr.q, cr.n)) == 0 &&
	    (rc = chunk_reads_rc(&cr)) == 0) {
		for (size_t i = 0; i < cr.n; i++)
			if (cr.q[i].got < cr.q[i].len)
				memset((uint8_t *)cr.q[i].buf + cr.q[i].got, 0,
				       cr.q[i].len - cr.q[i].got);
		*ahead = !cr.w.here || cr.w.witnessed;
	}
	chunk_reads_free(&cr);
	return rc;
}

_Static_assert(FS_VIEWS_MAX <= STORE_MAXREADERS / 4,
               "READs leave most of the store's readers to others");

/* What a hole, or the part of a chunk past its stored bytes, reads as. */
static const uint8_t zeros[FS_CHUNK];

/* [off, off+len) of file n (len > 0) in place into d's segments, when
 * this node's copy is the one to read: MAGMA_EREMOTE (or another error)
 * and nothing held when not. */
static int chunks_view(fs *f, const fs_node *n, uint64_t off, uint32_t len,
                       fs_rdata *d)
{
	chunk_reads cr;
	int rc;

	if (__atomic_add_fetch(&f->views, 1, __ATOMIC_RELAXED) > FS_VIEWS_MAX) {
		__atomic_sub_fetch(&f->views, 1, __ATOMIC_RELAXED);
		return MAGMA_EREMOTE;
	}
	d->views = &f->views;
	rc = chunk_reads_new(&cr, &n->ref, n->ver, off, len, NULL);

	/* a chunk's bytes and a zero tail each: more can only be copied */
	if (rc == 0 && 2 * cr.n > FS_RSEG_MAX)
		rc = MAGMA_EREMOTE;
	if (rc == 0)
		rc = kv_read_many_view(f->kv, n->ref.home, &cr.w, cr.q, cr.n,
		                       &d->view);
	if (rc == 0)
		rc = chunk_reads_rc(&cr);
	for (size_t i = 0; rc == 0 && i < cr.n; i++) {
		const kv_read_req *q = &cr.q[i];

		if (q->got)
			d->seg[d->nseg++] =
			        (fs_seg){ .p = q->at, .len = (uint32_t)q->got };
		if (q->got < q->len)
			d->seg[d->nseg++] =
			        (fs_seg){ .p = zeros,
				          .len = (uint32_t)(q->len - q->got) };
	}
	if (rc)
		fs_rdata_free(d);
	chunk_reads_free(&cr);
	return rc;
}

/* A READ of count bytes at off, up to its first byte: the file read
 * into *n and checked, *want the bytes there are to read (0: none,
 * *eof already the answer). */
static int read_start(fs *f, const fs_cred *c, const fs_ref *ref, uint64_t off,
                      uint32_t count, fs_node *n, uint32_t *want, int *eof,
                      fs_attr *attr)
{
	int rc = fs_node_get(f, ref, n);

	*want = 0;
	*eof = 0;
	if (rc)
		return rc;
	fs_attr_of(n, attr);
	if ((rc = file_check(n)) ||
	    (rc = fs_perm_data(c, &n->rec, FS_MAY_READ)))
		return rc;
	if (off >= n->rec.size) {
		*eof = 1;
		return 0;
	}
	*want = n->rec.size - off < count ? (uint32_t)(n->rec.size - off)
	                                  : count;
	*eof = *want && off + *want >= n->rec.size; /* 0 for a zero count */
	return 0;
}

/* [off, off+want) of n copied into *bufp, from a prefetch when one has
 * it (swapped in whole when cap, the room of *bufp, allows: see
 * fs_ra_take); then the next ranges are fetched where that pays. */
static int read_copy(fs *f, const fs_node *n, uint64_t off, uint32_t want,
                     uint8_t **bufp, uint32_t cap)
{
	int ahead = 0, rc = 0, hit = fs_ra_take(f, n, off, want, bufp, cap);

	if (!hit)
		rc = fs_chunks_read(f, &n->ref, n->ver, off, want, *bufp,
		                    &ahead);
	if (rc == 0 && (hit || ahead))
		fs_ra_after(f, n, off, want);
	return rc;
}

int fs_read(fs *f, const fs_cred *c, const fs_ref *ref, uint64_t off,
            uint32_t count, void *buf, uint32_t *got, int *eof, fs_attr *attr)
{
	fs_node n;
	uint32_t want;
	uint8_t *b = buf;
	int rc = read_start(f, c, ref, off, count, &n, &want, eof, attr);

	if (rc == 0 && want)
		rc = read_copy(f, &n, off, want, &b, 0);
	*got = rc ? 0 : want;
	return rc;
}

int fs_read_data(fs *f, const fs_cred *c, const fs_ref *ref, uint64_t off,
                 uint32_t count, fs_rdata *d, uint32_t *got, int *eof,
                 fs_attr *attr)
{
	fs_node n;
	uint32_t want;
	int rc;

	memset(d, 0, sizeof(*d));
	*got = 0;
	rc = read_start(f, c, ref, off, count, &n, &want, eof, attr);
	if (rc || want == 0)
		return rc;
	/* In place, or else copied: from a prefetch or from the owners. */
	if (chunks_view(f, &n, off, want, d) != 0) {
		uint8_t *b = malloc(want);

		if (!b)
			return MAGMA_ENOMEM;
		rc = read_copy(f, &n, off, want, &b, want);
		d->buf = b; /* maybe a prefetch's, swapped in */
		if (rc)
			return rc;
		d->seg[0] = (fs_seg){ .p = b, .len = want };
		d->nseg = 1;
	}
	*got = want;
	return 0;
}

void fs_rdata_free(fs_rdata *d)
{
	if (d->view)
		store_view_end(d->view);
	if (d->views)
		__atomic_sub_fetch(d->views, 1, __ATOMIC_RELAXED);
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

/* ---- WRITE ---- */

/* Stored length of chunk idx (0 when absent), read without copying. */
static int chunk_len(fs *f, const fs_node *n, uint64_t idx, uint64_t *len)
{
	return chunks_len(f, n, idx, 1, len);
}

/* Build chunk idx's new value: the old bytes with data laid over
 * [in, in+len), zeros in a gap past the old end; adds the op to t and
 * the size change to *used.  A chunk at or past the end of the file is
 * absent (a resize drops the chunks past the new size in the batch that
 * changes it), so an append reads nothing.  When data covers the whole
 * old value, the put borrows data (the WRITE's own buffer, which
 * outlives the tx) instead of copying it. */
static int chunk_write(fs *f, fs_tx *t, const fs_node *n, uint64_t idx,
                       uint32_t in, const uint8_t *data, uint32_t len,
                       uint64_t *used)
{
	uint8_t sub[FS_SUB_CHUNK_LEN];
	void *old = NULL;
	size_t oldlen = 0, newlen;
	uint64_t ver, l64 = 0;
	uint8_t *buf;
	int rc = 0;

	fs_sub_chunk(n->ref.id, idx, sub);
	if (idx * (uint64_t)FS_CHUNK >= n->rec.size) {
		oldlen = 0;                      /* past the end: absent */
	} else if (in == 0 && len == FS_CHUNK) { /* whole chunk: no read */
		rc = chunk_len(f, n, idx, &l64);
		oldlen = (size_t)l64;
	} else {
		rc = kv_get(f->kv, n->ref.home, sub, sizeof(sub), &old, &oldlen,
		            &ver);
		if (rc == MAGMA_ENOENT)
			rc = 0, oldlen = 0;
	}
	if (rc)
		goto out;
	if (oldlen > FS_CHUNK) {
		LOG_E("chunk %llu over %u bytes", (unsigned long long)idx,
		      FS_CHUNK);
		rc = MAGMA_EIO;
		goto out;
	}
	newlen = in + len > oldlen ? in + len : oldlen;
	*used += newlen - oldlen;
	if (in == 0 && len >= oldlen) {
		fs_tx_put_ref(t, sub, sizeof(sub), data, len, KV_VER_ANY);
		goto out;
	}
	buf = malloc(newlen);
	if (!buf) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	if (oldlen)
		memcpy(buf, old, oldlen);
	if (in > oldlen)
		memset(buf + oldlen, 0, in - oldlen);
	memcpy(buf + in, data, len);
	fs_tx_put(t, sub, sizeof(sub), buf, newlen, KV_VER_ANY);
out:
	free(old);
	return rc;
}

/* One attempt at one slice (at most FS_SLICE chunks). */
static int write_slice(fs *f, const fs_cred *c, const fs_ref *ref, uint64_t off,
                       const uint8_t *data, uint32_t len, int dur, fs_wcc *wcc,
                       int first)
{
	fs_node n;
	fs_tx t;
	uint32_t done = 0;
	int rc = fs_node_get(f, ref, &n);

	if (rc)
		return rc;
	if (first)
		fs_wcc_pre(wcc, &n);
	fs_wcc_post(wcc, &n);
	if ((rc = file_check(&n)) ||
	    (rc = fs_perm_data(c, &n.rec, FS_MAY_WRITE)))
		return rc;
	fs_tx_init(&t);
	fs_tx_key(&t, n.ref.home);
	while (done < len && rc == 0) {
		uint64_t pos = off + done;
		uint32_t in = (uint32_t)(pos % FS_CHUNK);
		uint32_t step = FS_CHUNK - in;
		if (step > len - done)
			step = len - done;
		rc = chunk_write(f, &t, &n, pos / FS_CHUNK, in, data + done,
		                 step, &n.rec.used);
		done += step;
	}
	if (rc)
		goto out;
	if (off + len > n.rec.size)
		n.rec.size = off + len;
	fs_now(&n.rec.mtime);
	n.rec.ctime = n.rec.mtime;
	fs_perm_kill_suid(c, &n.rec);
	{
		uint8_t sub[FS_SUB_FLARE_LEN];
		uint8_t *val = NULL;
		size_t vlen = 0;
		fs_sub_flare(n.ref.id, sub);
		rc = fs_rec_encode(&n.rec, &val, &vlen);
		if (rc)
			goto out;
		fs_tx_put(&t, sub, sizeof(sub), val, vlen, n.ver);
	}
	rc = fs_tx_apply(f, &t, dur);
	if (rc == 0)
		fs_wcc_post(wcc, &n);
out:
	fs_tx_free(&t);
	return rc;
}

/* The stability a WRITE reached: all of it when the store syncs every
 * apply anyway, so the client need not send COMMIT. */
static int write_committed(const fs *f, int stable)
{
	if (stable == FS_UNSTABLE && !kv_always_durable(f->kv))
		return FS_UNSTABLE;
	return FS_FILE_SYNC;
}

/* A zero-length WRITE changes nothing but is checked like any other. */
static int write_nothing(fs *f, const fs_cred *c, const fs_ref *ref, int stable,
                         int *committed, fs_wcc *wcc)
{
	fs_node n;
	int rc = fs_node_get(f, ref, &n);
	if (rc)
		return rc;
	fs_wcc_pre(wcc, &n);
	fs_wcc_post(wcc, &n);
	if ((rc = file_check(&n)) ||
	    (rc = fs_perm_data(c, &n.rec, FS_MAY_WRITE)))
		return rc;
	if (committed)
		*committed = write_committed(f, stable);
	return 0;
}

int fs_write(fs *f, const fs_cred *c, const fs_ref *ref, uint64_t off,
             const void *data, uint32_t len, int stable, int *committed,
             fs_wcc *wcc)
{
	int dur = stable == FS_UNSTABLE ? KV_UNSTABLE : KV_DURABLE;
	uint32_t done = 0;
	int rc = 0;

	if (wcc)
		memset(wcc, 0, sizeof(*wcc));
	if (off > (uint64_t)FS_MAX_FILE_SIZE - len)
		return MAGMA_EFBIG;
	if (len == 0)
		return write_nothing(f, c, ref, stable, committed, wcc);
	do {
		uint64_t pos = off + done;
		uint64_t lim = (pos / FS_CHUNK + FS_SLICE) * FS_CHUNK;
		uint32_t step = len - done;
		if (pos + step > lim)
			step = (uint32_t)(lim - pos);
		rc = MAGMA_ECONFLICT;
		for (int i = 0; i < FS_RETRIES && rc == MAGMA_ECONFLICT; i++)
			rc = write_slice(f, c, ref, pos,
			                 (const uint8_t *)data + done, step,
			                 dur, wcc, done == 0);
		done += step;
	} while (rc == 0 && done < len);
	if (rc == MAGMA_ENOENT) /* the record vanished under the CAS */
		rc = MAGMA_ESTALE;
	if (rc == 0 && committed)
		*committed = write_committed(f, stable);
	return rc;
}

int fs_commit(fs *f, const fs_ref *ref, fs_wcc *wcc)
{
	fs_node n;
	int rc;

	if (wcc)
		memset(wcc, 0, sizeof(*wcc));
	rc = fs_node_get(f, ref, &n);
	if (rc)
		return rc;
	fs_wcc_pre(wcc, &n);
	pthread_mutex_lock(&f->commit_lock);
	rc = kv_sync(f->kv);
	if (rc == KV_SYNC_LOST) {
		/* Some unstable write may be lost: a new verifier makes
		 * clients send again what they have not seen committed. */
		uint64_t v;
		if (keys_random(&v, sizeof(v)) < 0)
			v = __atomic_load_n(&f->wverf, __ATOMIC_ACQUIRE) + 1;
		__atomic_store_n(&f->wverf, v, __ATOMIC_RELEASE);
		rc = 0;
	}
	pthread_mutex_unlock(&f->commit_lock);
	fs_wcc_post(wcc, &n);
	return rc;
}
