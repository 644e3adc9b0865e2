/* repair.c - anti-entropy by range digests, catch-up at start-up, and
 * the tombstone purge (contract in repair.h); the RANGE_DIGEST and
 * RANGE_PULL handlers' work.
 *
 * Ranges: the peer protocol and ring_arcs speak of arcs (lo, hi]; the
 * store of [start, end).  (lo, hi] is [lo + 1, hi + 1), and lo == hi
 * (the whole ring) stays start == end. */
#include "repair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keys.h"
#include "mclock.h"
#include "magma_peer.h"
#include "merr.h"
#include "mlog.h"
#include "peer_client.h"
#include "throttle.h"

#define SMALL_RANGE 512 /* records: pull at once rather than split */

_Static_assert(PEER_HASH_LEN == STORE_DIGEST_LEN, "digest sizes differ");
_Static_assert(PEER_CURSOR_MAX == STORE_CURSOR_MAX, "cursor sizes differ");
_Static_assert(REPAIR_PARTS <= PEER_PARTS_MAX, "too many parts");

static void arc_to_store(const uint8_t lo[KV_KEY_LEN],
                         const uint8_t hi[KV_KEY_LEN],
                         uint8_t start[KV_KEY_LEN], uint8_t end[KV_KEY_LEN])
{
	memcpy(start, lo, KV_KEY_LEN);
	memcpy(end, hi, KV_KEY_LEN);
	ring_key_inc(start);
	ring_key_inc(end);
}

/* ---- the server side ---- */

int repair_serve_digest(store *s, const peer_digest_args *a, peer_digest_res *r)
{
	uint8_t start[KV_KEY_LEN], end[KV_KEY_LEN];
	uint8_t(*dg)[STORE_DIGEST_LEN] = NULL;
	uint64_t *counts = NULL;
	unsigned parts = a->parts;
	peer_digest *out = NULL;
	int rc;

	if (parts == 0 || parts > PEER_PARTS_MAX) {
		rc = MAGMA_EINVAL;
		goto out;
	}
	arc_to_store((const uint8_t *)a->lo, (const uint8_t *)a->hi, start,
	             end);
	dg = malloc(parts * sizeof(*dg));
	counts = malloc(parts * sizeof(*counts));
	out = calloc(parts, sizeof(*out));
	if (!dg || !counts || !out) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	if ((rc = store_range_digest_split(s, start, end, parts, dg, counts)))
		goto out;
	for (unsigned i = 0; i < parts; i++) {
		uint8_t p[KV_KEY_LEN];
		(void)store_range_point(start, end, parts, i, p);
		ring_key_dec(p);
		memcpy(out[i].lo, p, KV_KEY_LEN);
		(void)store_range_point(start, end, parts, i + 1, p);
		ring_key_dec(p);
		memcpy(out[i].hi, p, KV_KEY_LEN);
		out[i].records = counts[i];
		memcpy(out[i].hash, dg[i], STORE_DIGEST_LEN);
	}
	r->parts.parts_val = out;
	r->parts.parts_len = parts;
	out = NULL;
out:
	free(dg);
	free(counts);
	free(out);
	r->rh.status = rc;
	return rc;
}

typedef struct pull_acc {
	peer_pull_res *r;
	u_int max;
	int values;
} pull_acc;

static int pull_keep(void *arg, const store_rec *rec)
{
	pull_acc *acc = arg;
	peer_pull_res *r = acc->r;
	peer_pull_rec *p;

	if (r->recs.recs_val == NULL &&
	    !(r->recs.recs_val = calloc(acc->max, sizeof(*p))))
		return MAGMA_ENOMEM;
	p = &r->recs.recs_val[r->recs.recs_len++];
	memcpy(p->key, rec->key, KV_KEY_LEN);
	p->ver = rec->version;
	p->tombstone = (rec->flags & STORE_REC_TOMBSTONE) ? TRUE : FALSE;
	if (!(p->sub.sub_val = malloc(rec->sublen + 1)))
		return MAGMA_ENOMEM;
	memcpy(p->sub.sub_val, rec->sub, rec->sublen);
	p->sub.sub_len = (u_int)rec->sublen;
	if (acc->values) {
		if (!(p->value.value_val = malloc(rec->vallen + 1)))
			return MAGMA_ENOMEM;
		memcpy(p->value.value_val, rec->val, rec->vallen);
		p->value.value_len = (u_int)rec->vallen;
	}
	return r->recs.recs_len >= acc->max ? 1 : 0;
}

int repair_serve_pull(store *s, const peer_pull_args *a, peer_pull_res *r)
{
	uint8_t start[KV_KEY_LEN], end[KV_KEY_LEN];
	pull_acc acc = { r, a->max_records, a->want_values };
	store_cursor from, next;
	int done = 0, rc;

	if (a->max_records == 0 || a->max_records > PEER_RECS_MAX ||
	    a->max_bytes == 0 || a->max_bytes > PEER_BYTES_MAX ||
	    a->cursor.cursor_len > PEER_CURSOR_MAX ||
	    (a->cursor.cursor_len && a->cursor.cursor_len < KV_KEY_LEN)) {
		rc = MAGMA_EINVAL;
		goto out;
	}
	arc_to_store((const uint8_t *)a->lo, (const uint8_t *)a->hi, start,
	             end);
	memset(&from, 0, sizeof(from));
	if (a->cursor.cursor_len)
		memcpy(from.key, a->cursor.cursor_val, a->cursor.cursor_len);
	from.len = a->cursor.cursor_len;
	rc = store_range_pull(s, start, end, &from, a->max_bytes, pull_keep,
	                      &acc, &next, &done);
	if (rc)
		goto out;
	r->done = done ? TRUE : FALSE;
	if (next.len) {
		if (!(r->cursor.cursor_val = malloc(next.len))) {
			rc = MAGMA_ENOMEM;
			goto out;
		}
		memcpy(r->cursor.cursor_val, next.key, next.len);
		r->cursor.cursor_len = (u_int)next.len;
	}
out:
	if (rc) {
		xdr_free((xdrproc_t)xdr_peer_pull_res, (char *)r);
		memset(r, 0, sizeof(*r));
	}
	r->rh.status = rc;
	return rc;
}

/* ---- a pass ---- */

typedef struct pass {
	kv_net *kn;
	store *s;
	ring *view;
	uint8_t self[RING_ID_LEN];
	repair_stats st;
	int failed;
	uint8_t dead[RING_MEMBERS_MAX > 64 ? 64 : RING_MEMBERS_MAX]
	            [RING_ID_LEN];
	size_t ndead;   /* peers that failed in this pass: not asked again */
	throttle *pace; /* the repair thread's (may be NULL): stop, rate */
	int paced;      /* charge it with the bytes pulled */
} pass;

/* Set by the repair thread (repair_main): the passes, hand-off checks
 * and drops it runs, itself or through the hook, pull at move_rate
 * (the catch-up of an owner excepted: see repair_main) and end soon
 * after repair_stop.  On other threads (tests) nothing is paced. */
static __thread throttle *thread_pace;
static __thread int thread_paced;

static void pass_init(pass *p, kv_net *kn)
{
	memset(p, 0, sizeof(*p));
	p->kn = kn;
	p->s = kv_net_store(kn);
	kv_net_self(kn, p->self);
	p->pace = thread_pace;
	p->paced = thread_paced;
}

/* repair_stop was called: end the pass now. */
static int pass_stopping(const pass *p)
{
	return p->pace && throttle_stopped(p->pace);
}

static int pass_dead(const pass *p, const uint8_t id[RING_ID_LEN])
{
	for (size_t i = 0; i < p->ndead; i++)
		if (memcmp(p->dead[i], id, RING_ID_LEN) == 0)
			return 1;
	return 0;
}

typedef struct peer_ref {
	uint8_t id[RING_ID_LEN];
	char addr[RING_ADDR_MAX];
} peer_ref;

static int remote_digest(pass *p, const peer_ref *who, const uint8_t *lo,
                         const uint8_t *hi, unsigned parts,
                         peer_digest_res *res)
{
	peer_digest_args a;
	peer_client *pc = NULL;
	int rc;

	memset(&a, 0, sizeof(a));
	memcpy(a.lo, lo, KV_KEY_LEN);
	memcpy(a.hi, hi, KV_KEY_LEN);
	a.parts = parts;
	memset(res, 0, sizeof(*res));
	if ((rc = kv_net_get_client(p->kn, who->addr, 2, &pc)) < 0)
		return rc;
	peer_client_hdr(pc, &a.hdr);
	rc = peer_client_call(pc, PEERPROC_RANGE_DIGEST,
	                      (xdrproc_t)xdr_peer_digest_args, &a,
	                      (xdrproc_t)xdr_peer_digest_res, res);
	kv_net_put_client(p->kn, pc, 2, rc == 0);
	if (rc < 0)
		return rc;
	if ((rc = res->rh.status) == 0 && res->parts.parts_len != parts)
		rc = MAGMA_EPROTO;
	if (rc)
		xdr_free((xdrproc_t)xdr_peer_digest_res, (char *)res);
	return rc;
}

/* Pull (lo, hi] from the peer into the local store, a reply at a time;
 * between replies the pass's bucket (move_rate) may sleep, with the
 * client given back: nothing of ours is held while it does. */
static int pull_range(pass *p, const peer_ref *who, const uint8_t *lo,
                      const uint8_t *hi)
{
	char cursor[PEER_CURSOR_MAX];
	peer_pull_args a;
	int rc = 0, done = 0;

	memset(&a, 0, sizeof(a));
	memcpy(a.lo, lo, KV_KEY_LEN);
	memcpy(a.hi, hi, KV_KEY_LEN);
	a.cursor.cursor_val = cursor;
	a.max_records = PEER_RECS_MAX;
	a.max_bytes = PEER_BYTES_MAX;
	a.want_values = TRUE;
	while (!done && rc == 0) {
		peer_pull_res res;
		store_replica_stats rs = { 0 };
		store_rec *recs = NULL;
		peer_client *pc = NULL;
		uint64_t bytes = 0;

		if ((rc = kv_net_get_client(p->kn, who->addr, 2, &pc)) < 0)
			break;
		memset(&res, 0, sizeof(res));
		peer_client_hdr(pc, &a.hdr);
		rc = peer_client_call(pc, PEERPROC_RANGE_PULL,
		                      (xdrproc_t)xdr_peer_pull_args, &a,
		                      (xdrproc_t)xdr_peer_pull_res, &res);
		kv_net_put_client(p->kn, pc, 2, rc == 0);
		if (rc < 0)
			break; /* nothing decoded to free */
		rc = res.rh.status;
		if (rc == 0 && (res.cursor.cursor_len > PEER_CURSOR_MAX ||
		                (!res.done && res.recs.recs_len == 0)))
			rc = MAGMA_EPROTO; /* no progress: refuse to loop */
		if (rc == 0 && res.recs.recs_len &&
		    !(recs = calloc(res.recs.recs_len, sizeof(*recs))))
			rc = MAGMA_ENOMEM;
		for (u_int i = 0; rc == 0 && i < res.recs.recs_len; i++) {
			const peer_pull_rec *q = &res.recs.recs_val[i];
			memcpy(recs[i].key, q->key, KV_KEY_LEN);
			recs[i].sub = q->sub.sub_val;
			recs[i].sublen = q->sub.sub_len;
			recs[i].version = q->ver;
			recs[i].flags = q->tombstone ? STORE_REC_TOMBSTONE : 0;
			recs[i].val = q->value.value_val;
			recs[i].vallen = q->value.value_len;
			bytes += KV_KEY_LEN + q->sub.sub_len +
			         q->value.value_len;
		}
		if (rc == 0)
			rc = store_apply_replica(p->s, recs, res.recs.recs_len,
			                         &rs);
		if (rc == 0) {
			p->st.pulled += res.recs.recs_len;
			p->st.applied += rs.applied;
			done = res.done;
			memcpy(cursor, res.cursor.cursor_val,
			       res.cursor.cursor_len);
			a.cursor.cursor_len = res.cursor.cursor_len;
		}
		free(recs);
		xdr_free((xdrproc_t)xdr_peer_pull_res, (char *)&res);
		if (rc == 0 && p->pace)
			rc = throttle_take(p->pace, p->paced ? bytes : 0);
	}
	return rc;
}

/* (lo, hi] differs (or, at depth 0, may differ) from the peer's. */
static int diff_range(pass *p, const peer_ref *who, const uint8_t *lo,
                      const uint8_t *hi, int depth, uint64_t records)
{
	uint8_t start[KV_KEY_LEN], end[KV_KEY_LEN];
	uint8_t mine[REPAIR_PARTS][STORE_DIGEST_LEN];
	uint64_t counts[REPAIR_PARTS], local = 0;
	peer_digest_res res;
	int rc;

	arc_to_store(lo, hi, start, end);
	if (depth == 0) {
		uint8_t d[STORE_DIGEST_LEN];
		if ((rc = store_range_digest(p->s, start, end, d, &local)) ||
		    (rc = remote_digest(p, who, lo, hi, 1, &res)))
			return rc;
		p->st.ranges++;
		records = res.parts.parts_val[0].records;
		rc = memcmp(d, res.parts.parts_val[0].hash, STORE_DIGEST_LEN);
		xdr_free((xdrproc_t)xdr_peer_digest_res, (char *)&res);
		if (rc == 0)
			return 0;
		p->st.differing++;
	}
	/* The peer's records only matter: ours that it lacks are its
	 * pass's to pull. */
	if (records == 0)
		return 0;
	if (depth >= REPAIR_DEPTH || records <= SMALL_RANGE)
		return pull_range(p, who, lo, hi);
	if ((rc = store_range_digest_split(p->s, start, end, REPAIR_PARTS, mine,
	                                   counts)) ||
	    (rc = remote_digest(p, who, lo, hi, REPAIR_PARTS, &res)))
		return rc;
	for (unsigned i = 0; i < REPAIR_PARTS && rc == 0; i++) {
		const peer_digest *q = &res.parts.parts_val[i];
		if (memcmp(mine[i], q->hash, STORE_DIGEST_LEN) != 0)
			rc = diff_range(p, who, (const uint8_t *)q->lo,
			                (const uint8_t *)q->hi, depth + 1,
			                q->records);
	}
	xdr_free((xdrproc_t)xdr_peer_digest_res, (char *)&res);
	return rc;
}

/* ---- pieces ---- */

typedef struct bounds {
	uint8_t (*k)[RING_KEY_LEN];
	size_t n, cap;
} bounds;

static int bound_add(bounds *b, const uint8_t *k)
{
	if (b->n == b->cap) {
		size_t nc = b->cap ? 2 * b->cap : 1024;
		uint8_t(*p)[RING_KEY_LEN] = realloc(b->k, nc * sizeof(*p));
		if (!p)
			return MAGMA_ENOMEM;
		b->k = p;
		b->cap = nc;
	}
	memcpy(b->k[b->n++], k, RING_KEY_LEN);
	return 0;
}

static int bound_arc(void *arg, const uint8_t lo[RING_KEY_LEN],
                     const uint8_t hi[RING_KEY_LEN],
                     const uint8_t owners[][RING_ID_LEN], size_t n)
{
	(void)owners;
	(void)n;
	if (bound_add(arg, lo) < 0 || bound_add(arg, hi) < 0)
		return MAGMA_ENOMEM;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, RING_KEY_LEN);
}

/* The owners and placement of piece key k, as sets. */
typedef struct sets {
	uint8_t o[RING_R_MAX][RING_ID_LEN], p[RING_R_MAX][RING_ID_LEN];
	size_t no, np;
} sets;

static void sets_at(const ring *rg, const uint8_t *k, sets *s)
{
	s->no = s->np = 0;
	if (ring_owners(rg, k, s->o, RING_R_MAX, &s->no) < 0)
		s->no = 0;
	if (ring_placement(rg, k, s->p, RING_R_MAX, &s->np) < 0)
		s->np = 0;
}

static int id_in(const uint8_t (*ids)[RING_ID_LEN], size_t n, const uint8_t *id)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(ids[i], id, RING_ID_LEN) == 0)
			return 1;
	return 0;
}

static int same_set(const uint8_t (*a)[RING_ID_LEN], size_t na,
                    const uint8_t (*b)[RING_ID_LEN], size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (!id_in(b, nb, a[i]))
			return 0;
	return 1;
}

static int same_sets(const sets *a, const sets *b)
{
	return same_set((const uint8_t(*)[RING_ID_LEN])a->o, a->no,
	                (const uint8_t(*)[RING_ID_LEN])b->o, b->no) &&
	       same_set((const uint8_t(*)[RING_ID_LEN])a->p, a->np,
	                (const uint8_t(*)[RING_ID_LEN])b->p, b->np);
}

int repair_pieces(const ring *rg, repair_piece **out, size_t *nout)
{
	bounds b = { NULL, 0, 0 };
	repair_piece *pc = NULL;
	size_t n = 0, count = 0, np = 0, u = 0;
	sets cur, next;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if ((rc = ring_count(rg, &count)) < 0)
		return rc;
	for (size_t i = 0; i < count && rc == 0; i++) {
		ring_member m;
		if ((rc = ring_member_at(rg, i, &m)) < 0)
			break;
		rc = ring_arcs(rg, m.id, RING_VIEW_OWNERS, bound_arc, &b);
		if (rc == 0)
			rc = ring_arcs(rg, m.id, RING_VIEW_PLACEMENT, bound_arc,
			               &b);
	}
	if (rc < 0 || b.n == 0)
		goto out;
	qsort(b.k, b.n, RING_KEY_LEN, key_cmp);
	for (size_t i = 0; i < b.n; i++)
		if (u == 0 || memcmp(b.k[u - 1], b.k[i], RING_KEY_LEN) != 0)
			memmove(b.k[u++], b.k[i], RING_KEY_LEN);
	if ((n = u) == 0)
		goto out;
	if (!(pc = calloc(n, sizeof(*pc)))) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	/* Pieces (k[i-1], k[i]], i = 1..n, k[n] being k[0] (the wrap);
	 * neighbours with the same sets merge.  With one boundary, or when
	 * everything merges, the piece is (k[0], k[0]]: the whole ring. */
	memcpy(pc[0].lo, b.k[0], RING_KEY_LEN);
	sets_at(rg, b.k[n > 1 ? 1 : 0], &cur);
	for (size_t i = 1; i <= n; i++) {
		const uint8_t *hi = b.k[i % n];
		if (i < n) {
			sets_at(rg, b.k[(i + 1) % n], &next);
			if (same_sets(&cur, &next))
				continue;
		}
		memcpy(pc[np].hi, hi, RING_KEY_LEN);
		np++;
		if (i < n) {
			memcpy(pc[np].lo, hi, RING_KEY_LEN);
			cur = next;
		}
	}
	*out = pc;
	*nout = np;
	pc = NULL;
out:
	free(pc);
	free(b.k);
	return rc;
}

/* ---- a pass ---- */

/* Compare (lo, hi] with the member id and pull what it has that we
 * lack; a failure is logged and the peer skipped for the pass. */
static int piece_peer(pass *p, const uint8_t *lo, const uint8_t *hi,
                      const uint8_t *id)
{
	ring_member m;
	peer_ref who;
	int rc;

	/* Members the view has down are asked anyway: at start-up
	 * nobody has answered a heartbeat yet, and a dead one fails
	 * fast (then it is not asked again in this pass). */
	if (memcmp(id, p->self, RING_ID_LEN) == 0 || pass_dead(p, id) ||
	    ring_member_find(p->view, id, &m) < 0 || m.state == RING_DOWN ||
	    pass_stopping(p))
		return 0;
	memcpy(who.id, m.id, RING_ID_LEN);
	snprintf(who.addr, sizeof(who.addr), "%s", m.peer);
	rc = diff_range(p, &who, lo, hi, 0, 0);
	if (rc < 0 && pass_stopping(p)) {
		p->failed = 1; /* the pass did not finish */
		return rc;
	}
	if (rc < 0) {
		char hex[2 * RING_ID_LEN + 1];
		keys_hex(m.id, RING_ID_LEN, hex);
		LOG_W("repair with %s (%s): %s", hex, m.peer,
		      magma_strerror(rc));
		p->st.failed++;
		if (!kv_net_is_down(p->kn, m.id))
			p->st.failed_up++;
		p->failed = 1;
		if (rc == MAGMA_EUNAVAIL || rc == MAGMA_ECRYPTO ||
		    rc == MAGMA_EPROTO)
			kv_net_suspect(p->kn, m.id, rc);
		if (rc == MAGMA_EUNAVAIL &&
		    p->ndead < sizeof(p->dead) / sizeof(p->dead[0]))
			memcpy(p->dead[p->ndead++], m.id, RING_ID_LEN);
	}
	return rc;
}

int repair_pass_progress(kv_net *kn, repair_stats *st, repair_progress_fn fn,
                         void *arg)
{
	repair_piece *pcs = NULL;
	size_t npc = 0, total = 0, done = 0;
	pass p;
	int rc;

	pass_init(&p, kn);
	if ((rc = kv_net_view(kn, &p.view)) < 0)
		return rc;
	if (p.view && (rc = repair_pieces(p.view, &pcs, &npc)) < 0)
		goto out;
	/* The pieces this node is placed on; peers: every other owner and
	 * placement member (a leaving owner hands off to the new one, a
	 * joining one pulls from the owners). */
	for (size_t i = 0; i < npc; i++) {
		sets s;
		sets_at(p.view, pcs[i].hi, &s);
		if (id_in((const uint8_t(*)[RING_ID_LEN])s.p, s.np, p.self))
			total++;
		else
			pcs[i].mark = 1;
	}
	for (size_t i = 0; i < npc && !pass_stopping(&p); i++) {
		sets s;
		if (pcs[i].mark)
			continue;
		sets_at(p.view, pcs[i].hi, &s);
		for (size_t j = 0; j < s.np; j++)
			(void)piece_peer(&p, pcs[i].lo, pcs[i].hi, s.p[j]);
		for (size_t j = 0; j < s.no; j++)
			if (!id_in((const uint8_t(*)[RING_ID_LEN])s.p, s.np,
			           s.o[j]))
				(void)piece_peer(&p, pcs[i].lo, pcs[i].hi,
				                 s.o[j]);
		done++;
		if (fn && (done % 32 == 0 || done == total))
			fn(arg, done, total);
	}
	if (pass_stopping(&p))
		p.failed = 1; /* not a finished pass: nobody acts on it */
out:
	free(pcs);
	ring_free(p.view);
	if (st) {
		st->ranges += p.st.ranges;
		st->differing += p.st.differing;
		st->pulled += p.st.pulled;
		st->applied += p.st.applied;
		st->failed += p.st.failed;
		st->failed_up += p.st.failed_up;
	}
	if (rc == 0 && p.failed)
		rc = MAGMA_EUNAVAIL;
	return rc;
}

int repair_pass(kv_net *kn, repair_stats *st)
{
	return repair_pass_progress(kn, st, NULL, NULL);
}

/* ---- hand-off and the epoch barrier ---- */

int repair_handoff_check(kv_net *kn, repair_progress_fn fn, void *arg,
                         uint64_t *equal, uint64_t *total)
{
	repair_piece *pcs = NULL;
	size_t npc = 0;
	uint64_t eq = 0, tot = 0;
	pass p;
	int rc, differ = 0;

	pass_init(&p, kn);
	if ((rc = kv_net_view(kn, &p.view)) < 0)
		return rc;
	if (p.view == NULL) {
		rc = MAGMA_EUNAVAIL;
		goto out;
	}
	if ((rc = repair_pieces(p.view, &pcs, &npc)) < 0)
		goto out;
	for (size_t i = 0; i < npc; i++) {
		sets s;
		sets_at(p.view, pcs[i].hi, &s);
		pcs[i].mark =
		        !id_in((const uint8_t(*)[RING_ID_LEN])s.o, s.no,
		               p.self) ||
		        id_in((const uint8_t(*)[RING_ID_LEN])s.p, s.np, p.self);
		tot += !pcs[i].mark;
	}
	for (size_t i = 0; i < npc && rc == 0; i++) {
		uint8_t start[KV_KEY_LEN], end[KV_KEY_LEN];
		uint8_t mine[STORE_DIGEST_LEN];
		int all = 1;
		sets s;

		if (pcs[i].mark)
			continue;
		sets_at(p.view, pcs[i].hi, &s);
		arc_to_store(pcs[i].lo, pcs[i].hi, start, end);
		for (size_t j = 0; j < s.np && rc == 0; j++) {
			peer_digest_res res;
			ring_member m;
			peer_ref who;
			int same;

			if (memcmp(s.p[j], p.self, RING_ID_LEN) == 0)
				continue;
			if ((rc = ring_member_find(p.view, s.p[j], &m)) < 0)
				break;
			memcpy(who.id, m.id, RING_ID_LEN);
			snprintf(who.addr, sizeof(who.addr), "%s", m.peer);
			if ((rc = store_range_digest(p.s, start, end, mine,
			                             NULL)) < 0 ||
			    (rc = remote_digest(&p, &who, pcs[i].lo, pcs[i].hi,
			                        1, &res)) < 0)
				break;
			same = memcmp(mine, res.parts.parts_val[0].hash,
			              STORE_DIGEST_LEN) == 0;
			xdr_free((xdrproc_t)xdr_peer_digest_res, (char *)&res);
			if (!same) {
				/* Take what it has that we lack: its own
				 * pass pulls ours, and the digests meet. */
				all = 0;
				rc = diff_range(&p, &who, pcs[i].lo, pcs[i].hi,
				                0, 0);
			}
		}
		if (rc == 0 && all)
			eq++;
		else
			differ = 1;
		if (fn)
			fn(arg, eq, tot);
	}
out:
	free(pcs);
	ring_free(p.view);
	if (equal)
		*equal = eq;
	if (total)
		*total = tot;
	if (rc == 0 && differ)
		rc = MAGMA_EJUKEBOX;
	return rc;
}

int repair_drop(kv_net *kn, uint64_t *dropped)
{
	repair_piece *pcs = NULL;
	size_t npc = 0;
	uint64_t total = 0;
	pass p;
	int rc;

	pass_init(&p, kn);
	if ((rc = kv_net_view(kn, &p.view)) < 0 || p.view == NULL)
		goto out;
	if ((rc = repair_pieces(p.view, &pcs, &npc)) < 0)
		goto out;
	for (size_t i = 0; i < npc; i++) {
		uint8_t start[KV_KEY_LEN], end[KV_KEY_LEN];
		uint8_t mine[STORE_DIGEST_LEN];
		uint64_t count = 0, n = 0;
		int all = 1;
		sets s;

		if (pass_stopping(&p))
			break;
		sets_at(p.view, pcs[i].hi, &s);
		if (s.np == 0 ||
		    id_in((const uint8_t(*)[RING_ID_LEN])s.o, s.no, p.self) ||
		    id_in((const uint8_t(*)[RING_ID_LEN])s.p, s.np, p.self))
			continue;
		arc_to_store(pcs[i].lo, pcs[i].hi, start, end);
		if (store_range_digest(p.s, start, end, mine, &count) < 0 ||
		    count == 0)
			continue;
		/* Every placement member up, reachable, and holding
		 * exactly what we hold. */
		for (size_t j = 0; j < s.np && all; j++) {
			peer_digest_res res;
			ring_member m;
			peer_ref who;

			if (ring_member_find(p.view, s.p[j], &m) < 0 ||
			    m.state != RING_UP || kv_net_is_down(kn, m.id) ||
			    pass_dead(&p, m.id)) {
				all = 0;
				break;
			}
			memcpy(who.id, m.id, RING_ID_LEN);
			snprintf(who.addr, sizeof(who.addr), "%s", m.peer);
			if (remote_digest(&p, &who, pcs[i].lo, pcs[i].hi, 1,
			                  &res) < 0) {
				if (p.ndead <
				    sizeof(p.dead) / sizeof(p.dead[0]))
					memcpy(p.dead[p.ndead++], m.id,
					       RING_ID_LEN);
				all = 0;
				break;
			}
			all = memcmp(mine, res.parts.parts_val[0].hash,
			             STORE_DIGEST_LEN) == 0;
			xdr_free((xdrproc_t)xdr_peer_digest_res, (char *)&res);
			/* Ours are older (writes no longer come here):
			 * take theirs, and compare again next time. */
			if (!all)
				(void)diff_range(&p, &who, pcs[i].lo, pcs[i].hi,
				                 0, 0);
		}
		/* The store compares again in the transaction that drops:
		 * a record that came meanwhile keeps the range. */
		if (all && store_range_drop(p.s, start, end, mine, &n) == 0)
			total += n;
	}
out:
	free(pcs);
	ring_free(p.view);
	if (dropped)
		*dropped = total;
	return rc;
}

int repair_epoch_barrier(kv_net *kn, uint64_t epoch)
{
	uint8_t self[RING_ID_LEN], k[RING_KEY_LEN];
	ring *v = NULL;
	size_t n = 0;
	int rc;

	kv_net_self(kn, self);
	if ((rc = kv_net_view(kn, &v)) < 0 || v == NULL)
		return rc < 0 ? rc : 0;
	memset(k, 0, sizeof(k));
	(void)ring_count(v, &n);
	for (size_t i = 0; i < n && rc == 0; i++) {
		peer_digest_args a;
		peer_digest_res res;
		peer_client *pc = NULL;
		ring_member m;

		if (ring_member_at(v, i, &m) < 0 ||
		    memcmp(m.id, self, RING_ID_LEN) == 0 ||
		    m.state == RING_DOWN || kv_net_is_down(kn, m.id))
			continue;
		/* Any reply carries the peer's epoch: a digest of one key
		 * is the cheapest call that has one. */
		memset(&a, 0, sizeof(a));
		memset(&res, 0, sizeof(res));
		memcpy(a.hi, k, RING_KEY_LEN);
		ring_key_dec(k);
		memcpy(a.lo, k, RING_KEY_LEN);
		ring_key_inc(k);
		a.parts = 1;
		if ((rc = kv_net_get_client(kn, m.peer, 2, &pc)) < 0)
			break;
		peer_client_hdr(pc, &a.hdr);
		rc = peer_client_call(pc, PEERPROC_RANGE_DIGEST,
		                      (xdrproc_t)xdr_peer_digest_args, &a,
		                      (xdrproc_t)xdr_peer_digest_res, &res);
		if (rc == 0 && res.rh.epoch < epoch &&
		    peer_client_seen_epoch(pc) < epoch)
			rc = MAGMA_EJUKEBOX;
		kv_net_put_client(kn, pc, 2, rc == 0 || rc == MAGMA_EJUKEBOX);
		xdr_free((xdrproc_t)xdr_peer_digest_res, (char *)&res);
	}
	ring_free(v);
	return rc;
}

/* ---- the thread ---- */

struct repair {
	kv_net *kn;
	throttle *pace; /* move_rate; stopped by repair_stop */
	uint64_t move_rate;
	repair_hook_fn hook;
	repair_progress_fn progress;
	void *hook_arg;
	unsigned interval_s;
	uint64_t tomb_age_s;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, kicked, catch_up, caught_up;
	/* repair_missed: a catch-up is due (held: not yet), after wait_ms;
	 * gen tells a pass whether another call came meanwhile */
	int missed, held;
	unsigned missed_wait_ms;
	uint64_t missed_gen;
	repair_stats st, last;
	uint64_t passes;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int view_others(kv_net *kn)
{
	ring *v = NULL;
	size_t n = 0;

	if (kv_net_view(kn, &v) < 0 || v == NULL)
		return 0;
	(void)ring_count(v, &n);
	ring_free(v);
	return n > 1;
}

/* This node owns ranges in the view (up or leaving): while it catches
 * up it serves nothing as primary, so that pass is not paced. */
static int self_owns(kv_net *kn)
{
	uint8_t self[RING_ID_LEN];
	ring_member me;
	ring *v = NULL;
	int owns = 0;

	kv_net_self(kn, self);
	if (kv_net_view(kn, &v) < 0 || v == NULL)
		return 0;
	if (ring_member_find(v, self, &me) == 0)
		owns = me.state == RING_UP || me.state == RING_LEAVING;
	ring_free(v);
	return owns;
}

/* This node is in the table (or there is none): a node that left
 * serves nothing (rebal.c), whatever catch-up ends. */
static int self_listed(kv_net *kn)
{
	uint8_t self[RING_ID_LEN];
	ring_member me;
	ring *v = NULL;
	int in;

	kv_net_self(kn, self);
	if (kv_net_view(kn, &v) < 0)
		return 1;
	in = v == NULL || ring_member_find(v, self, &me) == 0;
	ring_free(v);
	return in;
}

/* After a pass: serve again when the catch-up it was is over.  Under
 * rp->mu; *again_ms set when a repair_missed catch-up must run again. */
static void end_catch_up(repair *rp, int catch_up, int missed, uint64_t gen,
                         int others, int rc, const repair_stats *st,
                         unsigned *again_ms)
{
	if (rp->missed) {
		/* Only the latest repair_missed's own pass ends it. */
		if (!missed || gen != rp->missed_gen || rp->held)
			return;
		if (others && rc < 0 &&
		    (rc != MAGMA_EUNAVAIL || st->failed_up ||
		     throttle_stopped(rp->pace))) {
			*again_ms = 1000;
			return;
		}
		rp->missed = 0;
		if (self_listed(rp->kn)) {
			/* Logged first: a log without it proves not serving. */
			LOG_I("caught up after missed writes: serving as "
			      "primary again");
			kv_net_set_serving(rp->kn, 1);
		}
		return;
	}
	if (catch_up) {
		store_set_restart_ties(kv_net_store(rp->kn), 0);
		kv_net_set_serving(rp->kn, 1);
		if (others)
			LOG_I("caught up: serving as primary");
	}
}

static void purge(repair *rp, int others)
{
	uint64_t age = others ? rp->tomb_age_s * 1000000000ull : 0;
	uint64_t now = now_ns(), total = 0;
	size_t got = 0;

	do {
		if (store_purge_tombstones(kv_net_store(rp->kn), now - age,
		                           1024, &got) < 0)
			break;
		total += got;
	} while (got == 1024);
	if (total)
		LOG_D("purged %llu tombstones", (unsigned long long)total);
	pthread_mutex_lock(&rp->mu);
	rp->st.purged += total;
	pthread_mutex_unlock(&rp->mu);
}

static void *repair_main(void *arg)
{
	repair *rp = arg;

	thread_pace = rp->pace;
	thread_paced = 1;
	pthread_mutex_lock(&rp->mu);
	while (!rp->stop) {
		repair_stats st = { 0 };
		int catch_up = rp->catch_up, others, rc = 0;
		int missed = rp->missed && !rp->held;
		uint64_t gen = rp->missed_gen;
		unsigned again_ms = 0, hook_ms = 0;
		struct timespec ts;

		rp->kicked = 0;
		rp->catch_up = 0;
		if (missed && rp->missed_wait_ms) {
			/* Let the others see this node again first. */
			mclock_deadline(&ts, rp->missed_wait_ms);
			rp->missed_wait_ms = 0;
			while (!rp->stop && gen == rp->missed_gen &&
			       pthread_cond_timedwait(&rp->cv, &rp->mu, &ts) ==
			               0)
				;
			rp->catch_up |= catch_up;
			continue;
		}
		pthread_mutex_unlock(&rp->mu);
		others = view_others(rp->kn);
		if (others) {
			if (catch_up && !missed) {
				kv_net_set_serving(rp->kn, 0);
				LOG_I("catching up with the other owners "
				      "before "
				      "serving as primary");
			}
			if (missed)
				LOG_I("catching up with the other owners "
				      "after missed heartbeats");
			/* Movement and anti-entropy while serving are paced
			 * (move_rate); an owner's catch-up is not: it
			 * delays serving (DESIGN 5). */
			thread_paced =
			        !((catch_up || missed) && self_owns(rp->kn));
			uint64_t bgen = kv_net_behind_gen(rp->kn);
			rc = repair_pass_progress(rp->kn, &st, rp->progress,
			                          rp->hook_arg);
			/* the keys found behind before the pass are level */
			if (rc == 0)
				kv_net_behind_clear(rp->kn, bgen);
			thread_paced = 1;
			if (catch_up || missed || st.applied)
				LOG_I("repair pass: %llu ranges compared, %llu "
				      "differed, %llu records pulled, %llu "
				      "applied, %llu failed%s",
				      (unsigned long long)st.ranges,
				      (unsigned long long)st.differing,
				      (unsigned long long)st.pulled,
				      (unsigned long long)st.applied,
				      (unsigned long long)st.failed,
				      rc < 0 ? " (some peers did not answer)"
				             : "");
		}
		pthread_mutex_lock(&rp->mu);
		end_catch_up(rp, catch_up, missed, gen, others, rc, &st,
		             &again_ms);
		pthread_mutex_unlock(&rp->mu);
		purge(rp, others);
		/* Data movement's turn (rebal.c): it may run passes of its
		 * own and ask for the next one sooner. */
		if (rp->hook && !throttle_stopped(rp->pace))
			hook_ms = rp->hook(rp->hook_arg, others ? rc : 0);
		if (hook_ms && (!again_ms || hook_ms < again_ms))
			again_ms = hook_ms;
		pthread_mutex_lock(&rp->mu);
		rp->st.ranges += st.ranges;
		rp->st.differing += st.differing;
		rp->st.pulled += st.pulled;
		rp->st.applied += st.applied;
		rp->st.failed += st.failed;
		rp->st.failed_up += st.failed_up;
		rp->caught_up = 1;
		if (others) {
			rp->last = st;
			rp->passes++;
		}
		if (again_ms) {
			mclock_deadline(&ts, again_ms);
		} else {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += rp->interval_s;
		}
		while (!rp->stop && !rp->kicked &&
		       pthread_cond_timedwait(&rp->cv, &rp->mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&rp->mu);
	return NULL;
}

int repair_start(repair **out, const repair_config *cfg)
{
	repair *rp;
	int rc;

	if (!out || !cfg || !cfg->net)
		return MAGMA_EINVAL;
	if (!(rp = calloc(1, sizeof(*rp))))
		return MAGMA_ENOMEM;
	rp->kn = cfg->net;
	rp->hook = cfg->hook;
	rp->progress = cfg->progress;
	rp->hook_arg = cfg->hook_arg;
	rp->interval_s = cfg->interval_s ? cfg->interval_s : REPAIR_INTERVAL_S;
	rp->tomb_age_s = cfg->tomb_age_s ? cfg->tomb_age_s : REPAIR_TOMB_AGE_S;
	rp->catch_up = !kv_net_serving(cfg->net) || view_others(cfg->net);
	rp->move_rate = cfg->move_rate;
	/* Burst: a second of the rate.  A reply larger than that still
	 * goes whole; the bucket's debt then spaces the next one. */
	rc = throttle_new(&rp->pace, cfg->move_rate, 0);
	if (rc < 0) {
		free(rp);
		return rc;
	}
	pthread_mutex_init(&rp->mu, NULL);
	pthread_cond_init(&rp->cv, NULL);
	if (pthread_create(&rp->th, NULL, repair_main, rp) != 0) {
		pthread_cond_destroy(&rp->cv);
		pthread_mutex_destroy(&rp->mu);
		throttle_free(rp->pace);
		free(rp);
		return MAGMA_ESYS;
	}
	*out = rp;
	return 0;
}

void repair_stop(repair *rp)
{
	if (!rp)
		return;
	pthread_mutex_lock(&rp->mu);
	rp->stop = 1;
	pthread_cond_broadcast(&rp->cv);
	pthread_mutex_unlock(&rp->mu);
	/* A pass in progress ends at its next pull or piece, and a sleep
	 * in the bucket at once. */
	throttle_stop(rp->pace);
	pthread_join(rp->th, NULL);
	pthread_cond_destroy(&rp->cv);
	pthread_mutex_destroy(&rp->mu);
	throttle_free(rp->pace);
	free(rp);
}

void repair_kick(repair *rp, int catch_up)
{
	if (!rp)
		return;
	pthread_mutex_lock(&rp->mu);
	rp->kicked = 1;
	if (catch_up)
		rp->catch_up = 1;
	pthread_cond_broadcast(&rp->cv);
	pthread_mutex_unlock(&rp->mu);
}

void repair_missed(repair *rp, int held, unsigned delay_ms)
{
	if (!rp)
		return;
	pthread_mutex_lock(&rp->mu);
	kv_net_set_serving(rp->kn, 0);
	rp->missed = 1;
	rp->held = held;
	rp->missed_gen++;
	rp->missed_wait_ms = delay_ms;
	if (!held) {
		rp->kicked = 1;
		pthread_cond_broadcast(&rp->cv);
	}
	pthread_mutex_unlock(&rp->mu);
}

void repair_get_stats(repair *rp, repair_stats *st, repair_stats *last,
                      uint64_t *passes, int *caught_up)
{
	pthread_mutex_lock(&rp->mu);
	if (st)
		*st = rp->st;
	if (last)
		*last = rp->last;
	if (passes)
		*passes = rp->passes;
	if (caught_up)
		*caught_up = rp->caught_up;
	pthread_mutex_unlock(&rp->mu);
}

void repair_get_pace(repair *rp, uint64_t *rate, uint64_t *bytes,
                     uint64_t *waited_ms)
{
	uint64_t ns = 0;

	throttle_totals(rp->pace, bytes, &ns);
	if (rate)
		*rate = rp->move_rate;
	if (waited_ms)
		*waited_ms = ns / 1000000u;
}
