/* fs_tx.c - the batch an operation writes (fs_tx) and how it is applied:
 * as one batch when the kv applies batches atomically, else the child
 * part first and then each delta by its own compare-and-swap loop (see
 * fs_internal.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fs_internal.h"
#include "merr.h"
#include "mlog.h"

/* ---- building ---- */

void fs_tx_init(fs_tx *t)
{
	memset(t, 0, offsetof(fs_tx, subs));
	memset(t->vals, 0, sizeof(t->vals));
	t->nb = t->nops = t->nd = 0;
	t->err = 0;
}

void fs_tx_key(fs_tx *t, const uint8_t key[KV_KEY_LEN])
{
	if (t->nb == FS_TX_KEYS) {
		t->err = MAGMA_EINVAL;
		return;
	}
	kv_batch *b = &t->b[t->nb++];
	memcpy(b->key, key, KV_KEY_LEN);
	b->ops = &t->ops[t->nops];
	b->nops = 0;
}

static kv_op *tx_op(fs_tx *t, int kind, const void *sub, size_t sublen)
{
	if (t->nb == 0 || t->nops == FS_TX_OPS || sublen > KV_SUB_MAX) {
		t->err = MAGMA_EINVAL;
		return NULL;
	}
	size_t i = t->nops++;
	kv_op *op = &t->ops[i];
	memset(op, 0, sizeof(*op));
	memcpy(t->subs[i], sub, sublen);
	op->kind = kind;
	op->sub = t->subs[i];
	op->sublen = sublen;
	op->expect = KV_VER_ANY;
	t->b[t->nb - 1].nops++;
	return op;
}

void fs_tx_put(fs_tx *t, const void *sub, size_t sublen, uint8_t *val,
               size_t len, uint64_t expect)
{
	kv_op *op = tx_op(t, KV_PUT, sub, sublen);
	if (!op || !val) {
		free(val);
		if (!val && !t->err)
			t->err = MAGMA_ENOMEM;
		return;
	}
	t->vals[op - t->ops] = val;
	op->val = val;
	op->vallen = len;
	op->expect = expect;
}

void fs_tx_put_ref(fs_tx *t, const void *sub, size_t sublen, const uint8_t *val,
                   size_t len, uint64_t expect)
{
	kv_op *op = tx_op(t, KV_PUT, sub, sublen);
	if (!op)
		return;
	op->val = val;
	op->vallen = len;
	op->expect = expect;
}

void fs_tx_del(fs_tx *t, const void *sub, size_t sublen, uint64_t expect)
{
	kv_op *op = tx_op(t, KV_DEL, sub, sublen);
	if (op)
		op->expect = expect;
}

void fs_tx_del_range(fs_tx *t, const void *from, size_t fromlen,
                     const void *end, size_t endlen)
{
	kv_op *op = tx_op(t, KV_DEL_RANGE, from, fromlen);
	if (!op)
		return;
	size_t i = (size_t)(op - t->ops);
	memcpy(t->ends[i], end, endlen);
	op->val = t->ends[i];
	op->vallen = endlen;
}

void fs_tx_put_node(fs_tx *t, const fs_node *n, int create)
{
	uint8_t sub[FS_SUB_FLARE_LEN];
	uint8_t *val = NULL;
	size_t len = 0;
	int rc;

	fs_tx_key(t, n->ref.home);
	fs_sub_flare(n->ref.id, sub);
	rc = fs_rec_encode(&n->rec, &val, &len);
	if (rc) {
		t->err = rc;
		return;
	}
	fs_tx_put(t, sub, sizeof(sub), val, len,
	          create ? KV_VER_ABSENT : n->ver);
}

void fs_tx_put_name(fs *f, fs_tx *t, const fs_ref *dir_ref,
                    const uint8_t nkey[KEYS_RING_LEN], const char *name,
                    size_t len, const fs_node *n, uint64_t bind_expect,
                    uint64_t ent_expect)
{
	uint8_t ekey[KEYS_RING_LEN], esub[FS_SUB_ENTRY_LEN];
	fs_bind b = { .type = n->rec.type, .ref = n->ref };
	fs_ent e = { .type = n->rec.type, .ref = n->ref, .namelen = len };
	uint8_t *val = NULL;
	size_t vlen = 0;
	int rc;

	memcpy(e.name, name, len);
	fs_tx_key(t, nkey);
	rc = fs_bind_encode(&b, &val, &vlen);
	if (rc)
		t->err = rc;
	else
		fs_tx_put(t, "N", 1, val, vlen, bind_expect);

	fs_ents_key(f, dir_ref->id, ekey);
	fs_sub_entry(nkey, esub);
	fs_tx_key(t, ekey);
	rc = fs_ent_encode(&e, &val, &vlen);
	if (rc)
		t->err = rc;
	else
		fs_tx_put(t, esub, sizeof(esub), val, vlen, ent_expect);
}

void fs_tx_del_name(fs *f, fs_tx *t, const fs_ref *dir_ref,
                    const uint8_t nkey[KEYS_RING_LEN], uint64_t bind_ver,
                    uint64_t ent_ver)
{
	uint8_t ekey[KEYS_RING_LEN], esub[FS_SUB_ENTRY_LEN];

	/* Entry before binding: a half-done remove leaves no visible
	 * entry without a flare. */
	fs_ents_key(f, dir_ref->id, ekey);
	fs_sub_entry(nkey, esub);
	fs_tx_key(t, ekey);
	fs_tx_del(t, esub, sizeof(esub), ent_ver);
	fs_tx_key(t, nkey);
	fs_tx_del(t, "N", 1, bind_ver);
}

void fs_tx_free(fs_tx *t)
{
	for (size_t i = 0; i < t->nops; i++) {
		free(t->vals[i]);
		t->vals[i] = NULL;
	}
	t->nb = t->nops = t->nd = 0;
}

/* ---- deltas ---- */

/* d applied to r (a drop is decided by the caller). */
static void delta_rec(const fs_delta *d, fs_rec *r)
{
	if (d->flags & FS_DELTA_TOUCH)
		r->mtime = r->ctime = d->now;
	if (d->flags & (FS_DELTA_CTIME | FS_DELTA_UNLINK))
		r->ctime = d->now;
	if (d->flags & FS_DELTA_PARENT)
		r->parent = d->parent;
	if (d->nlink < 0 && r->nlink < (uint32_t)-d->nlink)
		r->nlink = 0; /* never wraps, whatever was stored */
	else
		r->nlink += (uint32_t)d->nlink;
	if ((d->flags & FS_DELTA_UNLINK) && r->nlink > 0)
		r->nlink--;
}

/* Add to t d applied to n (as read at n->ver): put n's new record
 * conditional on n->ver, or drop it when its last name goes. */
static void delta_put(fs_tx *t, const fs_delta *d, fs_node *n)
{
	if ((d->flags & FS_DELTA_UNLINK) &&
	    (n->rec.type == FS_DIR || n->rec.nlink <= 1)) {
		fs_tx_key(t, n->ref.home);
		fs_file_drop(t, n);
		return;
	}
	delta_rec(d, &n->rec);
	fs_tx_put_node(t, n, 0);
}

void fs_tx_delta(fs_tx *t, fs_node *n, int flags, int nlink,
                 const fs_ref *parent, const fs_time *now, fs_wcc *wcc)
{
	fs_delta *d;

	if (t->nd == FS_TX_DELTAS) {
		t->err = MAGMA_EINVAL;
		return;
	}
	d = &t->d[t->nd++];
	memset(d, 0, sizeof(*d));
	d->node = n;
	d->flags = flags;
	d->nlink = nlink;
	if (parent)
		d->parent = *parent;
	d->now = *now;
	d->wcc = wcc;
	d->b0 = t->nb;
	delta_put(t, d, n);
	d->b1 = t->nb;
}

/* Apply d alone: read its flare, apply, put conditional on the version
 * just read; again on a lost CAS.  A flare gone is what an UNLINK wants;
 * for the others MAGMA_ESTALE (removed by another front end). */
static int delta_run(fs *f, fs_delta *d, int durability)
{
	fs_node n;
	fs_tx t;
	int rc = MAGMA_ECONFLICT;

	for (int i = 0; i < FS_RETRIES && rc == MAGMA_ECONFLICT; i++) {
		rc = fs_node_get(f, &d->node->ref, &n);
		if (rc == MAGMA_ESTALE && (d->flags & FS_DELTA_UNLINK))
			return 0;
		if (rc)
			return rc;
		if (d->wcc)
			fs_wcc_pre(d->wcc, &n);
		fs_tx_init(&t);
		delta_put(&t, d, &n);
		rc = t.err ? t.err : kv_apply(f->kv, t.b, t.nb, durability);
		fs_tx_free(&t);
		/* an exact version gone: removed meanwhile, read again */
		if (rc == MAGMA_ENOENT)
			rc = MAGMA_ECONFLICT;
	}
	if (rc == 0) {
		n.ver = 0; /* unknown: the caller reads again if it needs it */
		*d->node = n;
	} else if (rc == MAGMA_ECONFLICT) {
		LOG_W("a directory update gave up after %d conflicts",
		      FS_RETRIES);
		rc = MAGMA_EIO; /* never a redo of what already landed */
	}
	return rc;
}

/* Apply d: first the put the operation built on the version it read
 * (no read again when nothing changed the flare since, the usual case),
 * then, on a lost CAS, by delta_run. */
static int delta_apply(fs *f, fs_tx *t, fs_delta *d, int durability)
{
	int rc = kv_apply(f->kv, t->b + d->b0, d->b1 - d->b0, durability);

	if (rc == 0)
		d->node->ver = 0; /* as delta_run leaves it */
	else if (rc == MAGMA_ECONFLICT || rc == MAGMA_ENOENT)
		rc = delta_run(f, d, durability);
	return rc;
}

/* Undo a FIRST delta whose operation failed: its link count back. */
static void delta_undo(fs *f, const fs_delta *d, int durability)
{
	fs_node n = *d->node;
	fs_delta u = *d;
	u.node = &n;
	u.flags = FS_DELTA_CTIME;
	u.nlink = -d->nlink;
	u.wcc = NULL;
	if (delta_run(f, &u, durability))
		LOG_W("could not undo a link count change (a leak, no harm)");
}

/* Non-atomic kv: FIRST deltas, the child part, the other deltas. */
static int tx_apply_split(fs *f, fs_tx *t, int durability)
{
	kv_batch rest[FS_TX_KEYS];
	size_t nr = 0, nfirst = 0;
	int rc = 0;

	for (size_t i = 0; i < t->nb; i++) {
		size_t k = 0;
		while (k < t->nd && (i < t->d[k].b0 || i >= t->d[k].b1))
			k++;
		if (k == t->nd)
			rest[nr++] = t->b[i];
	}
	for (size_t k = 0; k < t->nd && rc == 0; k++)
		if (t->d[k].flags & FS_DELTA_FIRST) {
			rc = delta_apply(f, t, &t->d[k], durability);
			nfirst += rc == 0;
		}
	if (rc == 0 && nr)
		rc = kv_apply(f->kv, rest, nr, durability);
	if (rc) {
		for (size_t k = 0; k < t->nd && nfirst; k++)
			if (t->d[k].flags & FS_DELTA_FIRST) {
				delta_undo(f, &t->d[k], durability);
				nfirst--;
			}
		return rc;
	}
	/* The child part landed: every delta is tried, the first error
	 * reported. */
	for (size_t k = 0; k < t->nd; k++) {
		int r;
		if (t->d[k].flags & FS_DELTA_FIRST)
			continue;
		r = delta_apply(f, t, &t->d[k], durability);
		if (r && !rc)
			rc = r;
	}
	return rc;
}

int fs_tx_apply(fs *f, fs_tx *t, int durability)
{
	if (t->err)
		return t->err;
	if (t->nd == 0 || kv_atomic_batches(f->kv))
		return kv_apply(f->kv, t->b, t->nb, durability);
	return tx_apply_split(f, t, durability);
}
