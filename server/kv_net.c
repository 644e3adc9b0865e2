/* kv_net.c - the network kv backend: routing by the ring, reads with
 * fail-over, writes through the primary, the primary's forward to the
 * backups, and the KV_APPLY handler's work (contract in kv_net.h). */
#include "kv_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keys.h"
#include "kv_fwd.h"
#include "magma_peer.h"
#include "merr.h"
#include "mlog.h"
#include "peer_client.h"
#include "rpc/rpcmsg.h"

#define POOL_IDLE_MAX 8 /* idle connections kept per peer and kind */
#define SUSPECT_MAX 64  /* suspects remembered */
#define BEHIND_MAX 256  /* keys marked behind (kv_net.behind) */
/* Encoded bytes (batch_bytes, rec_bytes: upper bounds) of the entries
 * of one KV_APPLY call of more than one entry; the rest of the record
 * is left for the headers.  As large as fits, so that one NFS WRITE
 * (NFS3_WTMAX of chunks and the flare record) is one call, one commit
 * and one sync on each owner, not two. */
#define CALL_BYTES (RPC_MAX_RECORD - 64u * 1024u)

typedef struct pool_ent {
	char addr[RING_ADDR_MAX];
	int kind;
	peer_client *idle[POOL_IDLE_MAX];
	size_t n;
	struct pool_ent *next;
} pool_ent;

typedef struct suspect {
	uint8_t id[RING_ID_LEN];
	long until; /* monotonic ms */
} suspect;

struct kv_net {
	kv kv; /* first: kv_net_kv hands out &kn->kv */
	store *local;
	kv *lkv;
	uint8_t self[RING_ID_LEN];
	uint8_t psk[32];
	pthread_rwlock_t vlock;       /* the routes: */
	ring *view;                   /* the table */
	uint8_t (*down)[RING_ID_LEN]; /* members down in the view */
	size_t ndown;
	int alone; /* atomic: no table, or this node its only member */
	unsigned timeout_ms;
	kv_net_down_fn peer_down;
	kv_net_epoch_fn saw_epoch;
	kv_net_missed_fn missed;
	void *hook_arg;
	peer_client_opts opts[3]; /* front end, forward, repair */
	int serving;              /* atomic */
	long tick;                /* atomic: kv_net_tick's now_ms() */
	long tick_limit;          /* atomic: 0, or the stale tick (ms) */
	uint64_t missed_gen;      /* atomic: forwards that said "missed" */
	uint64_t reads_here;      /* atomic: read_many from this copy */
	uint64_t reads_away;      /* atomic: read_many from other owners */
	pthread_mutex_t mu;       /* pool and suspects */
	pool_ent *pool;
	suspect sus[SUSPECT_MAX];
	/* Peers an earlier forward failed or skipped: the next forward
	 * that reaches one tells it (peer_apply_args.missed). */
	uint8_t missed_ids[SUSPECT_MAX][RING_ID_LEN];
	size_t nmissed;
	/* Keys whose copy here is behind a forward that reached it (an
	 * earlier one was lost or is still on its way): no witness reads
	 * of them until a repair pass that began after they were marked
	 * (kv_net_behind_clear).  Full: every key (behind_all). */
	struct {
		uint8_t key[KV_KEY_LEN];
		uint64_t gen;
	} behind[BEHIND_MAX];
	size_t nbehind;
	uint64_t behind_all; /* 0, or the gen when the set overflowed */
	/* The primary's forward queues, and this run's number (atomic:
	 * kv_net_interrupted changes it). */
	kv_fwd *fwd;
	uint64_t incarnation;
	/* Front end: the owners that took UNSTABLE writes from here since
	 * the last kv_sync, with the run (incarnation) that took them;
	 * under mu.  sync_mu: one kv_sync at a time. */
	struct dirty {
		uint8_t id[RING_ID_LEN];
		char addr[RING_ADDR_MAX];
		uint64_t inc;
		int self, lost;
	} * dirty;
	size_t ndirty, dirtycap;
	int dirty_lost;
	pthread_mutex_t sync_mu;
	uint64_t behind_gen;
};

/* One owner of a key as routing found it. */
typedef struct owner {
	uint8_t id[RING_ID_LEN];
	char addr[RING_ADDR_MAX];
	int self;
	int down; /* down in membership's view: not tried */
} owner;

typedef struct route {
	owner o[RING_R_MAX]; /* owners view, primary first */
	size_t n;
	owner x[RING_R_MAX]; /* placement-only extras (joining nodes) */
	size_t nx;
	uint64_t epoch;
	int local_only; /* no table, or this node alone */
} route;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In a network with a tick limit, the last kv_net_tick is older than
 * it: this process was paused (kv_net_set_tick_limit). */
static int tick_stale(kv_net *kn)
{
	long lim = __atomic_load_n(&kn->tick_limit, __ATOMIC_ACQUIRE);

	if (lim == 0 || __atomic_load_n(&kn->alone, __ATOMIC_ACQUIRE))
		return 0;
	return now_ms() - __atomic_load_n(&kn->tick, __ATOMIC_ACQUIRE) > lim;
}

/* This run's number (kv_net_incarnation). */
static uint64_t run_now(kv_net *kn)
{
	return __atomic_load_n(&kn->incarnation, __ATOMIC_ACQUIRE);
}

static kv_net *net_of(kv *k)
{
	return (kv_net *)k;
}

/* ---- routing ---- */

/* Under vlock. */
static int down_locked(kv_net *kn, const uint8_t id[RING_ID_LEN])
{
	for (size_t i = 0; i < kn->ndown; i++)
		if (memcmp(kn->down[i], id, RING_ID_LEN) == 0)
			return 1;
	return 0;
}

static int owner_fill(kv_net *kn, const ring *rg, const uint8_t id[RING_ID_LEN],
                      owner *o)
{
	ring_member m;
	int rc = ring_member_find(rg, id, &m);

	if (rc < 0)
		return rc;
	memcpy(o->id, id, RING_ID_LEN);
	snprintf(o->addr, sizeof(o->addr), "%s", m.peer);
	o->self = memcmp(id, kn->self, RING_ID_LEN) == 0;
	o->down = !o->self && down_locked(kn, id);
	return 0;
}

/* The owners of key in the current view; with_extras adds the
 * placement view's members that are not owners (writes). */
static int route_key(kv_net *kn, const uint8_t key[KV_KEY_LEN], int with_extras,
                     route *r)
{
	uint8_t ids[RING_R_MAX][RING_ID_LEN], pl[RING_R_MAX][RING_ID_LEN];
	size_t n = 0, np = 0, count = 0;
	const ring *rg;
	int rc = 0;

	r->n = r->nx = 0;
	r->epoch = 0;
	/* The one-node case costs one atomic load: no lock, no lookup. */
	r->local_only = __atomic_load_n(&kn->alone, __ATOMIC_ACQUIRE);
	if (r->local_only)
		return 0;
	pthread_rwlock_rdlock(&kn->vlock);
	rg = kn->view;
	if (rg == NULL || ring_count(rg, &count) < 0 || count == 0) {
		r->local_only = 1;
		goto out;
	}
	if (count == 1) {
		ring_member m;
		if (ring_member_at(rg, 0, &m) == 0 &&
		    memcmp(m.id, kn->self, RING_ID_LEN) == 0) {
			r->local_only = 1;
			goto out;
		}
	}
	(void)ring_epoch(rg, &r->epoch);
	if ((rc = ring_owners(rg, key, ids, RING_R_MAX, &n)) < 0)
		goto out;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = owner_fill(kn, rg, ids[i], &r->o[r->n++]);
	if (rc == 0 && with_extras &&
	    ring_placement(rg, key, pl, RING_R_MAX, &np) == 0) {
		for (size_t i = 0; i < np && rc == 0; i++) {
			size_t j;
			for (j = 0; j < n && memcmp(ids[j], pl[i], RING_ID_LEN);
			     j++)
				;
			if (j == n)
				rc = owner_fill(kn, rg, pl[i], &r->x[r->nx++]);
		}
	}
out:
	pthread_rwlock_unlock(&kn->vlock);
	return rc;
}

static int same_owners(const route *a, const route *b)
{
	if (a->local_only != b->local_only || a->n != b->n || a->nx != b->nx)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(a->o[i].id, b->o[i].id, RING_ID_LEN))
			return 0;
	for (size_t i = 0; i < a->nx; i++)
		if (memcmp(a->x[i].id, b->x[i].id, RING_ID_LEN))
			return 0;
	return 1;
}

/* ---- suspects ---- */

static int is_suspect(kv_net *kn, const uint8_t id[RING_ID_LEN], long now)
{
	int s = 0;

	pthread_mutex_lock(&kn->mu);
	for (size_t i = 0; i < SUSPECT_MAX && !s; i++)
		s = kn->sus[i].until > now &&
		    memcmp(kn->sus[i].id, id, RING_ID_LEN) == 0;
	pthread_mutex_unlock(&kn->mu);
	return s;
}

void kv_net_suspect(kv_net *kn, const uint8_t id[RING_ID_LEN], int rc)
{
	char hex[2 * RING_ID_LEN + 1];
	long now = now_ms();
	size_t slot = 0;

	pthread_mutex_lock(&kn->mu);
	for (size_t i = 0; i < SUSPECT_MAX; i++) {
		if (memcmp(kn->sus[i].id, id, RING_ID_LEN) == 0) {
			slot = i;
			break;
		}
		if (kn->sus[i].until < kn->sus[slot].until)
			slot = i;
	}
	memcpy(kn->sus[slot].id, id, RING_ID_LEN);
	kn->sus[slot].until = now + KV_NET_SUSPECT_MS;
	pthread_mutex_unlock(&kn->mu);
	keys_hex(id, RING_ID_LEN, hex);
	LOG_W("peer %s failed: %s; suspect", hex, magma_strerror(rc));
	if (kn->peer_down)
		kn->peer_down(kn->hook_arg, id, rc);
}

/* The order to try owners in: as routed, suspects last, and this node
 * left out while it catches up. */
static size_t try_order(kv_net *kn, const route *r, const owner **out)
{
	long now = now_ms();
	size_t k = 0;
	int serving = kv_net_serving(kn);

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < r->n; i++) {
			const owner *o = &r->o[i];
			int sus;
			if ((o->self && !serving) || o->down)
				continue;
			sus = !o->self && is_suspect(kn, o->id, now);
			if (sus == (pass == 1))
				out[k++] = o;
		}
	return k;
}

/* Failures that say "this owner did not serve the call": try the next. */
static int failover_error(int rc)
{
	return rc == MAGMA_EUNAVAIL || rc == MAGMA_EPROTO ||
	       rc == MAGMA_ECRYPTO || rc == MAGMA_ENOTSUPP ||
	       rc == MAGMA_EGARBAGE || rc == MAGMA_ESYS || rc == MAGMA_EACCES;
}

/* ---- the pool of connections ---- */

static uint64_t view_epoch(kv_net *kn)
{
	uint64_t e = 0;

	pthread_rwlock_rdlock(&kn->vlock);
	if (kn->view)
		(void)ring_epoch(kn->view, &e);
	pthread_rwlock_unlock(&kn->vlock);
	return e;
}

int kv_net_get_client(kv_net *kn, const char *addr, int kind, peer_client **out)
{
	peer_client *pc = NULL;
	pool_ent *e;
	uint64_t epoch = 0;
	int rc = 0;

	pthread_mutex_lock(&kn->mu);
	for (e = kn->pool; e; e = e->next)
		if (e->kind == kind && strcmp(e->addr, addr) == 0)
			break;
	if (e && e->n)
		pc = e->idle[--e->n];
	pthread_mutex_unlock(&kn->mu);
	if (pc == NULL)
		rc = peer_client_new(addr, kn->psk, kn->self, &kn->opts[kind],
		                     &pc);
	if (rc < 0)
		return rc;
	epoch = view_epoch(kn);
	peer_client_set_epoch(pc, epoch);
	*out = pc;
	return 0;
}

void kv_net_put_client(kv_net *kn, peer_client *pc, int kind, int ok)
{
	const char *addr = peer_client_addr(pc);
	pool_ent *e, *add = NULL;
	uint64_t seen = peer_client_seen_epoch(pc);

	if (kn->saw_epoch && seen > view_epoch(kn))
		kn->saw_epoch(kn->hook_arg, seen, NULL);

	if (!ok) {
		peer_client_free(pc);
		return;
	}
	pthread_mutex_lock(&kn->mu);
	for (e = kn->pool; e; e = e->next)
		if (e->kind == kind && strcmp(e->addr, addr) == 0)
			break;
	if (e == NULL && (add = calloc(1, sizeof(*add))) != NULL) {
		snprintf(add->addr, sizeof(add->addr), "%s", addr);
		add->kind = kind;
		add->next = kn->pool;
		kn->pool = e = add;
	}
	if (e && e->n < POOL_IDLE_MAX) {
		e->idle[e->n++] = pc;
		pc = NULL;
	}
	pthread_mutex_unlock(&kn->mu);
	peer_client_free(pc);
}

/* ---- reads ---- */

typedef struct read_op {
	int kind; /* 0 get, 1 read, 2 scan */
	const uint8_t *key;
	const void *sub;
	size_t sublen;
	/* get */
	void **val;
	size_t *vallen;
	uint64_t *ver;
	/* read */
	size_t off, len;
	void *buf;
	size_t *got;
	/* scan */
	const void *prefix, *from;
	size_t prefixlen, fromlen, max;
	kv_scan_fn fn;
	void *arg;
	/* scan progress, for a fail-over that must not repeat records */
	uint8_t last[KV_SUB_MAX];
	size_t lastlen, seen;
	int have_last, user_rc;
} read_op;

/* Bytewise order, a prefix first (as the store's). */
static int sub_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int scan_filter(void *arg, const void *sub, size_t sublen,
                       const void *val, size_t vallen, uint64_t ver)
{
	read_op *op = arg;
	int rc;

	if (op->have_last && sub_cmp(sub, sublen, op->last, op->lastlen) <= 0)
		return 0; /* delivered before a fail-over */
	rc = op->fn(op->arg, sub, sublen, val, vallen, ver);
	if (rc < 0) {
		op->user_rc = rc;
		return rc;
	}
	memcpy(op->last, sub, sublen);
	op->lastlen = sublen;
	op->have_last = 1;
	op->seen++;
	if (rc == 0 && op->max && op->seen >= op->max)
		return 1;
	return rc;
}

static int read_local(kv_net *kn, read_op *op)
{
	kv *l = kn->lkv;

	switch (op->kind) {
	case 0:
		return kv_get(l, op->key, op->sub, op->sublen, op->val,
		              op->vallen, op->ver);
	case 1:
		return kv_read(l, op->key, op->sub, op->sublen, op->off,
		               op->len, op->buf, op->got);
	default:
		return kv_scan(l, op->key, op->prefix, op->prefixlen, op->from,
		               op->fromlen, 0, scan_filter, op);
	}
}

static int read_remote(peer_client *pc, read_op *op)
{
	switch (op->kind) {
	case 0:
		return peer_call_kv_get(pc, op->key, op->sub, op->sublen,
		                        op->val, op->vallen, op->ver);
	case 1:
		return peer_call_kv_read(pc, op->key, op->sub, op->sublen,
		                         op->off, op->len, op->buf, op->got);
	default:
		return peer_call_kv_scan(pc, op->key, op->prefix, op->prefixlen,
		                         op->from, op->fromlen, 0, scan_filter,
		                         op);
	}
}

static void log_unavail(const uint8_t key[KV_KEY_LEN], const char *what, int rc)
{
	char hex[2 * KV_KEY_LEN + 1];

	keys_hex(key, KV_KEY_LEN, hex);
	LOG_E("resource unavailable: %s of key %s: no owner answered (last: "
	      "%s)",
	      what, hex, magma_strerror(rc));
}

/* The worst time one remote attempt may take (kind 0 clients). */
static long attempt_ms(kv_net *kn)
{
	const peer_client_opts *o = &kn->opts[0];

	return (long)o->connect_ms + o->handshake_ms + o->call_ms;
}

static int read_run(kv_net *kn, read_op *op)
{
	const owner *order[RING_R_MAX];
	route r;
	long deadline = now_ms() + (long)kn->timeout_ms;
	size_t k;
	int rc = route_key(kn, op->key, 0, &r);

	if (rc < 0 || r.local_only)
		return rc < 0 ? rc : read_local(kn, op);
	k = try_order(kn, &r, order);
	rc = MAGMA_EUNAVAIL;
	for (size_t i = 0; i < k; i++) {
		peer_client *pc = NULL;

		if (order[i]->self) {
			rc = read_local(kn, op);
			goto done;
		}
		if (i > 0 && now_ms() + attempt_ms(kn) > deadline)
			break;
		if ((rc = kv_net_get_client(kn, order[i]->addr, 0, &pc)) < 0)
			break;
		rc = read_remote(pc, op);
		kv_net_put_client(kn, pc, 0, !failover_error(rc));
		if (op->user_rc)
			return op->user_rc;
		if (!failover_error(rc))
			goto done;
		kv_net_suspect(kn, order[i]->id, rc);
		rc = MAGMA_EUNAVAIL;
	}
	log_unavail(op->key, op->kind == 2 ? "scan" : "read", rc);
	return MAGMA_EUNAVAIL;
done:
	if (op->user_rc)
		return op->user_rc;
	return rc;
}

static int net_get(kv *k, const uint8_t key[KV_KEY_LEN], const void *sub,
                   size_t sublen, void **val, size_t *vallen, uint64_t *ver)
{
	read_op op = { .kind = 0,
		       .key = key,
		       .sub = sub,
		       .sublen = sublen,
		       .val = val,
		       .vallen = vallen,
		       .ver = ver };

	return read_run(net_of(k), &op);
}

static int net_read(kv *k, const uint8_t key[KV_KEY_LEN], const void *sub,
                    size_t sublen, size_t off, size_t len, void *buf,
                    size_t *got)
{
	read_op op = { .kind = 1,
		       .key = key,
		       .sub = sub,
		       .sublen = sublen,
		       .off = off,
		       .len = len,
		       .buf = buf,
		       .got = got };

	return read_run(net_of(k), &op);
}

static int net_scan(kv *k, const uint8_t key[KV_KEY_LEN], const void *prefix,
                    size_t prefixlen, const void *from, size_t fromlen,
                    size_t max, kv_scan_fn fn, void *arg)
{
	read_op op = { .kind = 2,
		       .key = key,
		       .prefix = prefix,
		       .prefixlen = prefixlen,
		       .from = from,
		       .fromlen = fromlen,
		       .max = max,
		       .fn = fn,
		       .arg = arg };
	kv_net *kn = net_of(k);
	route r;

	/* The common single-node case: straight through. */
	if (route_key(kn, key, 0, &r) == 0 && r.local_only)
		return kv_scan(kn->lkv, key, prefix, prefixlen, from, fromlen,
		               max, fn, arg);
	return read_run(kn, &op);
}

/* ---- many gets (READDIRPLUS) ---- */

#define GETM_PENDING 1 /* a kv_get_req not answered yet */

/* Ask owner addr for the reqs whose indexes are idx[0..n), in calls of
 * at most PEER_GETM_MAX; what it does not answer stays pending. */
static void getm_owner(kv_net *kn, const owner *o, kv_get_req *reqs,
                       const size_t *idx, size_t n)
{
	kv_get_req *tmp =
	        calloc(n < PEER_GETM_MAX ? n : PEER_GETM_MAX, sizeof(*tmp));
	size_t at = 0;

	while (tmp && at < n) {
		size_t m = n - at < PEER_GETM_MAX ? n - at : PEER_GETM_MAX;
		size_t done = 0;
		peer_client *pc = NULL;
		int rc;

		for (size_t i = 0; i < m; i++)
			tmp[i] = reqs[idx[at + i]];
		rc = kv_net_get_client(kn, o->addr, 0, &pc);
		if (rc == 0) {
			rc = peer_call_kv_get_many(pc, tmp, m, &done);
			kv_net_put_client(kn, pc, 0, !failover_error(rc));
		}
		if (rc < 0) {
			if (failover_error(rc))
				kv_net_suspect(kn, o->id, rc);
			break;
		}
		for (size_t i = 0; i < done; i++) {
			if (failover_error(tmp[i].rc)) {
				free(tmp[i].val);
				continue; /* left pending: net_get tries others
				           */
			}
			reqs[idx[at + i]] = tmp[i];
		}
		at += done;
	}
	free(tmp);
}

/* One KV_GET_MANY per owner for the keys it is the first to try (this
 * node's own keys from the store); whatever stays unanswered (a failed
 * owner, a partial reply) goes through net_get, which fails over. */
static int net_get_many(kv *k, kv_get_req *reqs, size_t n)
{
	kv_net *kn = net_of(k);
	const owner *first = NULL, *order[RING_R_MAX];
	owner *owners = calloc(n ? n : 1, sizeof(*owners));
	size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	int *who = calloc(n ? n : 1, sizeof(*who));
	size_t nown = 0;
	int rc = 0;

	if (!owners || !idx || !who) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		route r;

		reqs[i].val = NULL;
		reqs[i].rc = GETM_PENDING;
		who[i] = -1;
		if (route_key(kn, reqs[i].key, 0, &r) < 0)
			continue;
		first = r.local_only || try_order(kn, &r, order) == 0
		                ? NULL
		                : order[0];
		if (r.local_only || (first && first->self)) {
			reqs[i].rc = kv_get(kn->lkv, reqs[i].key, reqs[i].sub,
			                    reqs[i].sublen, &reqs[i].val,
			                    &reqs[i].vallen, &reqs[i].ver);
			continue;
		}
		if (!first)
			continue;
		for (size_t j = 0; j < nown && who[i] < 0; j++)
			if (memcmp(owners[j].id, first->id, RING_ID_LEN) == 0)
				who[i] = (int)j;
		if (who[i] < 0) {
			owners[nown] = *first;
			who[i] = (int)nown++;
		}
	}
	for (size_t j = 0; j < nown; j++) {
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			if (who[i] == (int)j)
				idx[m++] = i;
		getm_owner(kn, &owners[j], reqs, idx, m);
	}
	for (size_t i = 0; i < n; i++)
		if (reqs[i].rc == GETM_PENDING)
			reqs[i].rc = net_get(k, reqs[i].key, reqs[i].sub,
			                     reqs[i].sublen, &reqs[i].val,
			                     &reqs[i].vallen, &reqs[i].ver);
out:
	free(owners);
	free(idx);
	free(who);
	return rc;
}

/* ---- many reads under one key (a file's chunks) ---- */

/* reqs from owner pc: KV_GET_MANY calls of at most PEER_GETM_MAX
 * values, the asked ranges copied out.  A failure of the owner (of the
 * call or of one record) is returned, for the next owner to retry all. */
static int readm_remote(peer_client *pc, const uint8_t key[KV_KEY_LEN],
                        kv_read_req *reqs, size_t n)
{
	size_t at = 0;
	int rc = 0;

	while (rc == 0 && at < n) {
		size_t m = n - at < PEER_GETM_MAX ? n - at : PEER_GETM_MAX;
		size_t done = 0;

		rc = peer_call_kv_read_many(pc, key, reqs + at, m, &done);
		for (size_t i = 0; rc == 0 && i < done; i++)
			if (failover_error(reqs[at + i].rc))
				rc = reqs[at + i].rc;
		at += done;
	}
	return rc;
}

/* This node's store, by the witness when given. */
static int key_behind(kv_net *kn, const uint8_t key[KV_KEY_LEN])
{
	int b;

	pthread_mutex_lock(&kn->mu);
	b = kn->behind_all != 0;
	for (size_t i = 0; i < kn->nbehind && !b; i++)
		b = memcmp(kn->behind[i].key, key, KV_KEY_LEN) == 0;
	pthread_mutex_unlock(&kn->mu);
	return b;
}

static void mark_behind(kv_net *kn, const store_rec *recs, size_t n)
{
	pthread_mutex_lock(&kn->mu);
	kn->behind_gen++;
	for (size_t i = 0; i < n; i++) {
		size_t j;
		for (j = 0; j < kn->nbehind; j++)
			if (memcmp(kn->behind[j].key, recs[i].key,
			           KV_KEY_LEN) == 0)
				break;
		if (j == kn->nbehind) {
			if (j == BEHIND_MAX) {
				kn->behind_all = kn->behind_gen;
				break;
			}
			memcpy(kn->behind[j].key, recs[i].key, KV_KEY_LEN);
			kn->nbehind++;
		}
		kn->behind[j].gen = kn->behind_gen;
	}
	pthread_mutex_unlock(&kn->mu);
}

uint64_t kv_net_behind_gen(kv_net *kn)
{
	uint64_t g;

	pthread_mutex_lock(&kn->mu);
	g = kn->behind_gen;
	pthread_mutex_unlock(&kn->mu);
	return g;
}

void kv_net_behind_clear(kv_net *kn, uint64_t gen)
{
	size_t k = 0;

	pthread_mutex_lock(&kn->mu);
	for (size_t i = 0; i < kn->nbehind; i++)
		if (kn->behind[i].gen > gen)
			kn->behind[k++] = kn->behind[i];
	kn->nbehind = k;
	if (kn->behind_all && kn->behind_all <= gen)
		kn->behind_all = 0;
	pthread_mutex_unlock(&kn->mu);
}

/* reqs from this node's store, in place into *view when view is not
 * NULL (else copied); check: by the witness, as a backup. */
static int readm_here(kv_net *kn, const uint8_t key[KV_KEY_LEN], kv_witness *w,
                      kv_read_req *reqs, size_t n, int check, store_view **view)
{
	uint64_t gen = __atomic_load_n(&kn->missed_gen, __ATOMIC_ACQUIRE);
	const kv_witness *cw = check ? w : NULL;
	int rc = view ? store_read_many_view(kn->local, key, cw, reqs, n, view)
	              : store_read_many(kn->local, key, cw, reqs, n);

	/* A backup's copy found behind a forward (before or during the
	 * read), or no longer serving: its witness proves nothing. */
	if (rc == 0 && check &&
	    (gen != __atomic_load_n(&kn->missed_gen, __ATOMIC_ACQUIRE) ||
	     !kv_net_serving(kn) || key_behind(kn, key))) {
		rc = MAGMA_ECONFLICT;
		if (view) {
			store_view_end(*view);
			*view = NULL;
		}
	}

	if (rc == 0) {
		if (w) {
			w->here = 1;
			w->witnessed = check;
		}
		__atomic_add_fetch(&kn->reads_here, 1, __ATOMIC_RELAXED);
	}
	return rc;
}

/* From the primary, then each backup in order (as read_run); but a
 * backup that is this node serves them itself when its copy passes the
 * witness, which saves moving the bytes between nodes.  With view (in
 * place), only this node's copy: MAGMA_EREMOTE where another's would be
 * read. */
static int read_many_from(kv_net *kn, const uint8_t key[KV_KEY_LEN],
                          kv_witness *w, kv_read_req *reqs, size_t n,
                          store_view **view)
{
	const owner *order[RING_R_MAX];
	long deadline = now_ms() + (long)kn->timeout_ms;
	route r;
	size_t cnt;
	int rc = route_key(kn, key, 0, &r);

	if (rc < 0 || r.local_only)
		return rc < 0 ? rc : readm_here(kn, key, w, reqs, n, 0, view);
	cnt = try_order(kn, &r, order);
	for (size_t i = 1; w && i < cnt; i++)
		if (order[i]->self &&
		    readm_here(kn, key, w, reqs, n, 1, view) == 0)
			return 0;
	rc = MAGMA_EUNAVAIL;
	for (size_t i = 0; i < cnt; i++) {
		peer_client *pc = NULL;

		if (order[i]->self)
			return readm_here(kn, key, w, reqs, n, 0, view);
		if (view)
			return MAGMA_EREMOTE;
		if (i > 0 && now_ms() + attempt_ms(kn) > deadline)
			break;
		if ((rc = kv_net_get_client(kn, order[i]->addr, 0, &pc)) < 0)
			break;
		rc = readm_remote(pc, key, reqs, n);
		kv_net_put_client(kn, pc, 0, !failover_error(rc));
		if (!failover_error(rc)) {
			__atomic_add_fetch(&kn->reads_away, 1,
			                   __ATOMIC_RELAXED);
			return rc;
		}
		kv_net_suspect(kn, order[i]->id, rc);
		rc = MAGMA_EUNAVAIL;
	}
	if (view)
		return MAGMA_EREMOTE;
	log_unavail(key, "read", rc);
	return MAGMA_EUNAVAIL;
}

static int net_read_many(kv *k, const uint8_t key[KV_KEY_LEN], kv_witness *w,
                         kv_read_req *reqs, size_t n)
{
	return read_many_from(net_of(k), key, w, reqs, n, NULL);
}

static int net_read_many_view(kv *k, const uint8_t key[KV_KEY_LEN],
                              kv_witness *w, kv_read_req *reqs, size_t n,
                              store_view **view)
{
	return read_many_from(net_of(k), key, w, reqs, n, view);
}

/* ---- KV_APPLY encoding ---- */

static const char empty_bytes[1];

/* Wire form of entries b[0..n): pointers into the caller's buffers. */
static int batches_to_wire(const kv_batch *b, size_t n, peer_batch **out)
{
	peer_batch *w = calloc(n ? n : 1, sizeof(*w));

	if (!w)
		return MAGMA_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		peer_op *ops = calloc(b[i].nops ? b[i].nops : 1, sizeof(*ops));
		if (!ops) {
			for (size_t j = 0; j < i; j++)
				free(w[j].ops.ops_val);
			free(w);
			return MAGMA_ENOMEM;
		}
		memcpy(w[i].key, b[i].key, KV_KEY_LEN);
		for (size_t j = 0; j < b[i].nops; j++) {
			const kv_op *o = &b[i].ops[j];
			ops[j].kind = o->kind;
			ops[j].sub.sub_val =
			        (char *)(o->sub ? o->sub : empty_bytes);
			ops[j].sub.sub_len = (u_int)o->sublen;
			ops[j].val.val_val =
			        (char *)(o->val ? o->val : empty_bytes);
			ops[j].val.val_len = (u_int)o->vallen;
			ops[j].expect = o->expect;
			ops[j].assigned = 0;
		}
		w[i].ops.ops_val = ops;
		w[i].ops.ops_len = (u_int)b[i].nops;
	}
	*out = w;
	return 0;
}

static void wire_free(peer_batch *w, size_t n)
{
	if (!w)
		return;
	for (size_t i = 0; i < n; i++)
		free(w[i].ops.ops_val);
	free(w);
}

/* XDR of a peer_batch: key and count at most KV_KEY_LEN + 16, each
 * peer_op at most 40 besides its (padded) sub and val. */
static size_t batch_bytes(const kv_batch *b)
{
	size_t s = KV_KEY_LEN + 16;

	for (size_t j = 0; j < b->nops; j++)
		s += b->ops[j].sublen + b->ops[j].vallen + 40;
	return s;
}

/* The same for a record forwarded as a one-op batch. */
static size_t rec_bytes(const store_rec *r)
{
	return KV_KEY_LEN + 16 + r->sublen + r->vallen + 40;
}

/* One KV_APPLY call.  *failed is the index the peer reported on a
 * condition failure; *incarnation (may be NULL) the peer's run. */
static int apply_call(peer_client *pc, peer_batch *w, size_t n, int dur,
                      int replica, int missed, size_t *failed,
                      uint64_t *incarnation)
{
	peer_apply_args a;
	peer_apply_res res;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&res, 0, sizeof(res));
	peer_client_hdr(pc, &a.hdr);
	a.batches.batches_val = w;
	a.batches.batches_len = (u_int)n;
	a.durability = dur;
	a.replica = replica ? TRUE : FALSE;
	a.missed = missed ? TRUE : FALSE;
	rc = peer_client_call(pc, PEERPROC_KV_APPLY,
	                      (xdrproc_t)xdr_peer_apply_args, &a,
	                      (xdrproc_t)xdr_peer_apply_res, &res);
	if (rc < 0)
		return rc;
	rc = res.rh.status;
	if (failed)
		*failed = res.failed;
	if (incarnation)
		*incarnation = res.rh.incarnation;
	xdr_free((xdrproc_t)xdr_peer_apply_res, (char *)&res);
	return rc;
}

/* ---- the primary's forward ---- */

typedef struct fwd_target {
	owner who;
	size_t *idx; /* records for it */
	size_t n, bytes;
	int rc;
	int wait;        /* a durable forward: the apply waits for it */
	kv_fwd_job *job; /* NULL when it could not be queued */
} fwd_target;

/* Records recs[idx[0..n)] as replica batches: one entry per record. */
static int recs_to_wire(const store_rec *recs, const size_t *idx, size_t n,
                        peer_batch *w, peer_op *ops)
{
	for (size_t i = 0; i < n; i++) {
		const store_rec *r = &recs[idx[i]];
		memcpy(w[i].key, r->key, KV_KEY_LEN);
		ops[i].kind =
		        (r->flags & STORE_REC_TOMBSTONE) ? KV_DEL : KV_PUT;
		ops[i].sub.sub_val = (char *)(r->sublen ? r->sub : empty_bytes);
		ops[i].sub.sub_len = (u_int)r->sublen;
		ops[i].val.val_val = (char *)(r->vallen ? r->val : empty_bytes);
		ops[i].val.val_len = (u_int)r->vallen;
		/* a replica's expect: the version the record replaced
		 * here (0: none), for the replica to see what it missed */
		ops[i].expect = r->prev;
		ops[i].assigned = r->version;
		w[i].ops.ops_val = &ops[i];
		w[i].ops.ops_len = 1;
	}
	return 0;
}

/* Remember that peer id lacks a forward (a full table keeps the
 * oldest: the newest then catches up by repair alone, as before). */
static void missed_set(kv_net *kn, const uint8_t id[RING_ID_LEN])
{
	size_t i;

	pthread_mutex_lock(&kn->mu);
	for (i = 0; i < kn->nmissed; i++)
		if (memcmp(kn->missed_ids[i], id, RING_ID_LEN) == 0)
			break;
	if (i == kn->nmissed && kn->nmissed < SUSPECT_MAX)
		memcpy(kn->missed_ids[kn->nmissed++], id, RING_ID_LEN);
	pthread_mutex_unlock(&kn->mu);
}

/* Whether peer id is to be told; forgets it (a failed forward sets it
 * again). */
static int missed_take(kv_net *kn, const uint8_t id[RING_ID_LEN])
{
	int was = 0;

	pthread_mutex_lock(&kn->mu);
	for (size_t i = 0; i < kn->nmissed && !was; i++)
		if (memcmp(kn->missed_ids[i], id, RING_ID_LEN) == 0) {
			memmove(kn->missed_ids[i], kn->missed_ids[i + 1],
			        (kn->nmissed - i - 1) * RING_ID_LEN);
			kn->nmissed--;
			was = 1;
		}
	pthread_mutex_unlock(&kn->mu);
	return was;
}

/* kv_fwd's sender: records recs[idx[0..n)] to peer (id, addr), in calls
 * of at most CALL_BYTES.  A peer that fails has missed writes (it is
 * told so with the next forward that reaches it) and is suspect; one
 * that went down in the view since the job was queued is skipped, as
 * forwards queued after that skip it. */
static int fwd_send(void *arg, const uint8_t id[RING_ID_LEN], const char *addr,
                    const store_rec *recs, const size_t *idx, size_t n,
                    uint64_t run)
{
	kv_net *kn = arg;
	peer_batch *w = NULL;
	peer_op *ops = NULL;
	peer_client *pc = NULL;
	size_t i = 0;
	int rc = 0;

	/* Queued before this node was paused or cut off (the clock may
	 * not have told yet: a stale tick): the other owners have served
	 * these keys without it since, and a late forward could undo what
	 * they wrote.  Dropped; the apply that queued it failed or its
	 * COMMIT answers another verifier (kv_net_interrupted). */
	if (run == run_now(kn) && tick_stale(kn))
		kv_net_interrupted(kn);
	if (run != run_now(kn))
		return MAGMA_EUNAVAIL;
	if (kv_net_is_down(kn, id)) {
		missed_set(kn, id);
		return MAGMA_EUNAVAIL;
	}
	w = calloc(n ? n : 1, sizeof(*w));
	ops = calloc(n ? n : 1, sizeof(*ops));
	if (!w || !ops) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	recs_to_wire(recs, idx, n, w, ops);
	if ((rc = kv_net_get_client(kn, addr, 1, &pc)) < 0)
		goto out;
	while (i < n && rc == 0) {
		size_t j = i, bytes = 0;
		while (j < n && j - i < PEER_BATCHES_MAX &&
		       (j == i ||
		        bytes + rec_bytes(&recs[idx[j]]) <= CALL_BYTES))
			bytes += rec_bytes(&recs[idx[j++]]);
		rc = apply_call(pc, w + i, j - i, KV_DURABLE, 1,
		                i == 0 && missed_take(kn, id), NULL, NULL);
		i = j;
	}
	kv_net_put_client(kn, pc, 1, !failover_error(rc));
out:
	free(w);
	free(ops);
	if (rc < 0) {
		missed_set(kn, id);
		kv_net_suspect(kn, id, rc);
	}
	return rc;
}

static fwd_target *target_for(fwd_target **ts, size_t *nt, size_t *cap,
                              const owner *o, size_t nrecs)
{
	fwd_target *t;

	for (size_t i = 0; i < *nt; i++)
		if (memcmp((*ts)[i].who.id, o->id, RING_ID_LEN) == 0)
			return &(*ts)[i];
	if (*nt == *cap) {
		size_t nc = *cap ? 2 * *cap : 4;
		fwd_target *p = realloc(*ts, nc * sizeof(*p));
		if (!p)
			return NULL;
		*ts = p;
		*cap = nc;
	}
	t = &(*ts)[(*nt)++];
	memset(t, 0, sizeof(*t));
	t->who = *o;
	t->idx = malloc(nrecs * sizeof(size_t));
	if (!t->idx) {
		(*nt)--;
		return NULL;
	}
	return t;
}

/* One apply's forward, from its queueing (under the store's write lock,
 * beside the local commit) to its end (after it). */
typedef struct fwd_async {
	kv_net *kn;
	uint64_t run; /* the incarnation the apply began in: its jobs' tag */
	int unstable; /* KV_UNSTABLE: owners' forwards are not waited for */
	kv_fwd_recs *h;
	const store_rec *recs;
	size_t n;
	route *rt;
	fwd_target *ts;
	size_t nt;
	int rc;
} fwd_async;

/* Queue recs to every other owner and placement member of their keys.
 * Every forward of a durable apply is waited for; of an UNSTABLE one,
 * those of records whose key is moving (it has placement members: a
 * join or leave may soon make one of them, or a backup, its primary,
 * and that one must then have every write already answered) and of
 * records this node is no owner of (nobody would hold them yet). */
static int fwd_start(fwd_async *fa)
{
	kv_net *kn = fa->kn;
	size_t cap = 0;
	int rc = 0;

	if (!(fa->rt = calloc(fa->n, sizeof(*fa->rt))))
		return MAGMA_ENOMEM;
	for (size_t i = 0; i < fa->n && rc == 0; i++) {
		const store_rec *r = &fa->recs[i];
		int mine = 0;

		if (i > 0 &&
		    memcmp(r->key, fa->recs[i - 1].key, KV_KEY_LEN) == 0)
			fa->rt[i] = fa->rt[i - 1];
		else if ((rc = route_key(kn, r->key, 1, &fa->rt[i])) < 0)
			break;
		for (size_t j = 0; j < fa->rt[i].n; j++)
			mine |= fa->rt[i].o[j].self;
		for (size_t j = 0; j < fa->rt[i].n + fa->rt[i].nx && rc == 0;
		     j++) {
			const route *rt = &fa->rt[i];
			const owner *o =
			        j < rt->n ? &rt->o[j] : &rt->x[j - rt->n];
			fwd_target *t;
			if (o->self)
				continue;
			if (o->down) { /* catches up when it returns */
				missed_set(kn, o->id);
				continue;
			}
			if (!(t = target_for(&fa->ts, &fa->nt, &cap, o,
			                     fa->n))) {
				rc = MAGMA_ENOMEM;
				break;
			}
			t->idx[t->n++] = i;
			t->bytes += rec_bytes(r);
			t->wait |= !fa->unstable || rt->nx > 0 || !mine;
		}
	}
	if (rc < 0)
		return rc;
	if (!(fa->h = kv_fwd_recs_new(fa->recs, fa->n)))
		rc = MAGMA_ENOMEM;
	for (size_t i = 0; i < fa->nt; i++) {
		fwd_target *t = &fa->ts[i];
		if (fa->h)
			t->job = kv_fwd_queue(kn->fwd, fa->h, t->who.id,
			                      t->who.addr, t->idx, t->n,
			                      t->bytes, fa->run);
		if (!t->job) {
			t->rc = MAGMA_ENOMEM;
			missed_set(kn, t->who.id);
		}
	}
	return rc;
}

/* After the local commit (commit_rc): wait for the forwards that are
 * to be waited for, all of them when the commit failed (the records
 * are freed then); MAGMA_EUNAVAIL when some record reached no owner. */
static int fwd_finish(fwd_async *fa, int commit_rc)
{
	kv_net *kn = fa->kn;
	int rc = 0;

	for (size_t i = 0; i < fa->nt; i++) {
		fwd_target *t = &fa->ts[i];
		if (!t->job)
			continue;
		if (t->wait || commit_rc != 0)
			t->rc = kv_fwd_wait(kn->fwd, t->job);
		else
			kv_fwd_release(kn->fwd, t->job);
		t->job = NULL;
	}
	/* Every record must be with some owner: here, or an acked peer. */
	for (size_t i = 0; i < fa->n && rc == 0 && fa->rt; i++) {
		const route *rt = &fa->rt[i];
		int held = 0;
		for (size_t j = 0; j < rt->n && !held; j++) {
			if (rt->o[j].self) {
				held = 1;
				break;
			}
			for (size_t t = 0; t < fa->nt && !held; t++)
				held = fa->ts[t].rc == 0 && fa->ts[t].wait &&
				       memcmp(fa->ts[t].who.id, rt->o[j].id,
				              RING_ID_LEN) == 0;
		}
		if (!held && rt->n > 0) {
			log_unavail(fa->recs[i].key, "write", MAGMA_EUNAVAIL);
			rc = MAGMA_EUNAVAIL;
		}
	}
	for (size_t i = 0; i < fa->nt; i++)
		free(fa->ts[i].idx);
	free(fa->ts);
	free(fa->rt);
	fa->ts = NULL;
	fa->rt = NULL;
	fa->nt = 0;
	return rc;
}

/* Under the store's write lock: queue the forward and return. */
static void fwd_prepared(void *arg, const store_rec *recs, size_t n)
{
	fwd_async *fa = arg;

	fa->recs = recs;
	fa->n = n;
	if (n > 0)
		fa->rc = fwd_start(fa);
}

/* After the local commit.  A forward of a write whose local commit
 * failed may have reached a backup: like any failed NFS write, it may
 * then have happened in part; repair keeps the owners equal. */
static void fwd_settled(void *arg, int commit_rc)
{
	fwd_async *fa = arg;
	int rc;

	if (fa->n == 0)
		return;
	rc = fwd_finish(fa, commit_rc);
	if (fa->rc == 0)
		fa->rc = rc;
}

int kv_net_primary_apply(kv_net *kn, const kv_batch *b, size_t n,
                         int durability, size_t *failed, uint64_t *versions,
                         uint64_t *run)
{
	fwd_async fa = { .kn = kn,
		         .run = run_now(kn),
		         .unstable = durability == KV_UNSTABLE };
	store_commit_hooks hooks = { fwd_prepared, fwd_settled, &fa };
	store_applied ap;
	int rc;

	if (fa.unstable)
		kv_fwd_room(kn->fwd);
	rc = store_apply_collect_hooked(kn->local, b, n, &ap, &hooks);
	if (rc < 0) {
		kv_fwd_recs_put(kn->fwd, fa.h, 0); /* the store freed them */
		return rc;
	}
	if (versions) {
		memset(versions, 0, n * sizeof(*versions));
		for (size_t i = 0; i < ap.failed; i++) {
			const kv_op *last;
			if (b[i].nops == 0)
				continue;
			last = &b[i].ops[b[i].nops - 1];
			if (last->kind != KV_PUT)
				continue;
			for (size_t j = ap.nrecs; j-- > 0;) {
				const store_rec *r = &ap.recs[j];
				if (!memcmp(r->key, b[i].key, KV_KEY_LEN) &&
				    r->sublen == last->sublen &&
				    !memcmp(r->sub, last->sub, r->sublen)) {
					versions[i] = r->version;
					break;
				}
			}
		}
	}
	rc = fa.rc; /* forwarded during the commit */
	if (failed)
		*failed = ap.failed;
	if (rc == 0)
		rc = ap.failed_rc;
	if (run)
		*run = fa.run;
	/* Interrupted meanwhile: its forwards are dropped, so it is on no
	 * other owner and may be undone by what they wrote without this
	 * node (the next owner takes the op instead). */
	if (fa.n > 0 && fa.run != run_now(kn)) {
		LOG_W("a write applied here while this node was paused or cut "
		      "off was not forwarded: failed, for another owner");
		rc = MAGMA_EUNAVAIL;
	}
	if (fa.h) /* the queued forwards free ap's records */
		kv_fwd_recs_put(kn->fwd, fa.h, 1);
	else
		store_applied_free(&ap);
	return rc;
}

/* ---- front-end writes ---- */

/* An owner took UNSTABLE writes from here (inc: its run's number). */
static void dirty_note(kv_net *kn, const owner *o, uint64_t inc)
{
	struct dirty *d = NULL;

	pthread_mutex_lock(&kn->mu);
	for (size_t i = 0; i < kn->ndirty && !d; i++)
		if (memcmp(kn->dirty[i].id, o->id, RING_ID_LEN) == 0)
			d = &kn->dirty[i];
	if (!d && kn->ndirty == kn->dirtycap) {
		size_t nc = kn->dirtycap ? 2 * kn->dirtycap : 8;
		struct dirty *p = realloc(kn->dirty, nc * sizeof(*p));
		if (p) {
			kn->dirty = p;
			kn->dirtycap = nc;
		}
	}
	if (!d && kn->ndirty < kn->dirtycap) {
		d = &kn->dirty[kn->ndirty++];
		memset(d, 0, sizeof(*d));
		memcpy(d->id, o->id, RING_ID_LEN);
		d->inc = inc;
	}
	if (d) {
		snprintf(d->addr, sizeof(d->addr), "%s", o->addr);
		d->self = o->self;
		if (d->inc != inc) /* it restarted since it took some */
			d->lost = 1;
		d->inc = inc;
	} else {
		kn->dirty_lost = 1; /* no room to remember it */
	}
	pthread_mutex_unlock(&kn->mu);
}

/* Entries b[0..n) (one owner set) through their primary.  *applied:
 * how many of them landed before a failure (a run of several calls).
 * MAGMA_EJUKEBOX: an owner routes by a newer table than ours (its
 * epoch is reported to membership, with it as the one to fetch from):
 * route the rest again once ours is as new. */
static int write_run(kv_net *kn, const route *r, const kv_batch *b, size_t n,
                     int dur, size_t *applied)
{
	const owner *order[RING_R_MAX];
	peer_batch *w = NULL;
	long deadline = now_ms() + (long)kn->timeout_ms;
	size_t k = try_order(kn, r, order), failed = 0;
	uint64_t inc = 0;
	int rc = MAGMA_EUNAVAIL;

	*applied = 0;
	for (size_t i = 0; i < k; i++) {
		peer_client *pc = NULL;
		size_t at = 0;

		if (order[i]->self) {
			rc = kv_net_primary_apply(kn, b, n, dur, NULL, NULL,
			                          &inc);
			if (rc == MAGMA_EUNAVAIL && !kv_net_serving(kn))
				continue; /* interrupted: the next owner */
			if (rc == 0)
				*applied = n;
			if (rc == 0 && dur == KV_UNSTABLE)
				dirty_note(kn, order[i], inc);
			goto out;
		}
		if (i > 0 && now_ms() + attempt_ms(kn) > deadline)
			break;
		if (!w && (rc = batches_to_wire(b, n, &w)) < 0)
			goto out;
		if ((rc = kv_net_get_client(kn, order[i]->addr, 0, &pc)) < 0)
			goto out;
		/* Calls of at most CALL_BYTES (and one entry at least). */
		while (at < n) {
			size_t j = at, bytes = 0;
			while (j < n && j - at < PEER_BATCHES_MAX &&
			       (j == at ||
			        bytes + batch_bytes(&b[j]) <= CALL_BYTES))
				bytes += batch_bytes(&b[j++]);
			rc = apply_call(pc, w + at, j - at, dur, 0, 0, &failed,
			                &inc);
			if (rc < 0)
				break;
			at = j;
		}
		*applied = at;
		if (at > 0 && dur == KV_UNSTABLE)
			dirty_note(kn, order[i], inc);
		if (rc == MAGMA_EJUKEBOX && kn->saw_epoch) {
			uint64_t seen = peer_client_seen_epoch(pc);
			if (seen > view_epoch(kn))
				kn->saw_epoch(kn->hook_arg, seen, order[i]->id);
		}
		kv_net_put_client(kn, pc, 0, !failover_error(rc));
		/* Once a call of the run went through, the rest belongs to
		 * the same coordinator's answer: no fail-over half-way. */
		if (!failover_error(rc) || at > 0)
			goto out;
		kv_net_suspect(kn, order[i]->id, rc);
		rc = MAGMA_EUNAVAIL;
	}
	log_unavail(b[0].key, "write", rc);
	rc = MAGMA_EUNAVAIL;
out:
	wire_free(w, n);
	return rc;
}

/* Wait (polling, until deadline) for the view to be newer than epoch. */
static int view_newer(kv_net *kn, uint64_t epoch, long deadline)
{
	struct timespec ts = { 0, 10 * 1000000L };

	while (view_epoch(kn) <= epoch) {
		if (now_ms() + 10 > deadline)
			return 0;
		nanosleep(&ts, NULL);
	}
	return 1;
}

static int net_apply(kv *k, const kv_batch *b, size_t n, int durability)
{
	kv_net *kn = net_of(k);
	long deadline = now_ms() + (long)kn->timeout_ms;
	route cur, next;
	size_t i = 0, done;
	int rc;

	if (n == 0)
		return 0;
	if (!b)
		return MAGMA_EINVAL;
	if ((rc = route_key(kn, b[0].key, 1, &cur)) < 0)
		return rc;
	if (cur.local_only) {
		/* This node alone: straight through (whole batch, one
		 * transaction, as kv_local). */
		return kv_apply(kn->lkv, b, n, durability);
	}
	while (i < n) {
		size_t j = i + 1;
		while (j < n) {
			if ((rc = route_key(kn, b[j].key, 1, &next)) < 0)
				return rc;
			if (!same_owners(&cur, &next))
				break;
			j++;
		}
		rc = write_run(kn, &cur, b + i, j - i, durability, &done);
		if (rc == MAGMA_EJUKEBOX) {
			/* Our table is older than an owner's: what landed
			 * stays, the rest is routed again by the newer one
			 * (or fails as unavailable at the op's bound). */
			i += done;
			if (!view_newer(kn, cur.epoch, deadline)) {
				log_unavail(b[i].key, "write", MAGMA_EJUKEBOX);
				return MAGMA_EUNAVAIL;
			}
			if ((rc = route_key(kn, b[i].key, 1, &cur)) < 0)
				return rc;
			continue;
		}
		if (rc < 0)
			return rc;
		i = j;
		cur = next;
	}
	return 0;
}

/* ---- sync and stat ---- */

/* COMMIT: every owner that took UNSTABLE writes from here since the
 * last sync sends what it still has queued for its backups
 * (KV_SYNC; kv_fwd_drain here), so that they are on every live
 * owner's disk.  Its own commits were synced already.  KV_SYNC_LOST
 * when one of them cannot be reached, or restarted since (its queue
 * went with it): some acknowledged write may then be on no disk but
 * that owner's, or on none, and the front end's write verifier must
 * change so that clients send it again. */
static int net_sync(kv *k)
{
	kv_net *kn = net_of(k);
	struct dirty *d;
	size_t n;
	int lost;

	pthread_mutex_lock(&kn->sync_mu);
	pthread_mutex_lock(&kn->mu);
	d = kn->dirty;
	n = kn->ndirty;
	lost = kn->dirty_lost;
	kn->dirty = NULL;
	kn->ndirty = kn->dirtycap = 0;
	kn->dirty_lost = 0;
	pthread_mutex_unlock(&kn->mu);
	for (size_t i = 0; i < n; i++) {
		peer_client *pc = NULL;
		uint64_t inc = 0;
		int rc;

		if (d[i].lost) {
			lost = 1;
			continue;
		}
		if (d[i].self) {
			if (kv_fwd_drain(kn->fwd, kn->timeout_ms) < 0 ||
			    d[i].inc != run_now(kn))
				lost = 1;
			continue;
		}
		if ((rc = kv_net_get_client(kn, d[i].addr, 0, &pc)) < 0) {
			lost = 1;
			continue;
		}
		rc = peer_call_kv_sync(pc, &inc);
		if (rc < 0 || inc != d[i].inc)
			lost = 1;
		kv_net_put_client(kn, pc, 0, !failover_error(rc));
	}
	pthread_mutex_unlock(&kn->sync_mu);
	if (lost)
		LOG_W("commit: an owner that took unstable writes from here "
		      "restarted or does not answer: clients resend them");
	free(d);
	return lost ? KV_SYNC_LOST : 0;
}

int kv_net_drain(kv_net *kn)
{
	/* A COMMIT that reaches this node before its clock noticed a pause
	 * must see the incarnation change too. */
	if (tick_stale(kn))
		kv_net_interrupted(kn);
	return kv_fwd_drain(kn->fwd, kn->timeout_ms);
}

uint64_t kv_net_incarnation(kv_net *kn)
{
	return run_now(kn);
}

void kv_net_interrupted(kv_net *kn)
{
	if (!kn)
		return;
	__atomic_add_fetch(&kn->incarnation, 1, __ATOMIC_ACQ_REL);
	LOG_W("paused or cut off: forwards queued before are dropped, and "
	      "COMMITs of writes taken before answer a new verifier");
}

/* This node's store: the figures of the local owner.  (The network's
 * total is membership's to report.) */
static int net_stat(kv *k, kv_stat *st)
{
	return kv_stat_get(net_of(k)->lkv, st);
}

static void net_close(kv *k)
{
	(void)k;
}

static const struct kv_ops net_ops = {
	.get = net_get,
	.read = net_read,
	.apply = net_apply,
	.scan = net_scan,
	.sync = net_sync,
	.stat = net_stat,
	.close = net_close,
	.get_many = net_get_many,
	.read_many = net_read_many,
	.read_many_view = net_read_many_view,
};

/* ---- the KV_APPLY handler ---- */

/* A replica forward: records with the primary's versions. */
static int serve_replica(kv_net *kn, const peer_apply_args *a)
{
	size_t n = 0, k = 0;
	store_rec *recs;
	int rc;

	for (u_int i = 0; i < a->batches.batches_len; i++)
		n += a->batches.batches_val[i].ops.ops_len;
	if (n == 0)
		return 0;
	if (!(recs = calloc(n, sizeof(*recs))))
		return MAGMA_ENOMEM;
	for (u_int i = 0; i < a->batches.batches_len; i++) {
		const peer_batch *pb = &a->batches.batches_val[i];
		for (u_int j = 0; j < pb->ops.ops_len; j++) {
			const peer_op *o = &pb->ops.ops_val[j];
			store_rec *r = &recs[k++];
			if (o->kind != KV_PUT && o->kind != KV_DEL) {
				rc = MAGMA_EINVAL;
				goto out;
			}
			memcpy(r->key, pb->key, KV_KEY_LEN);
			r->sub = o->sub.sub_val;
			r->sublen = o->sub.sub_len;
			r->val = o->val.val_val;
			r->vallen = o->val.val_len;
			r->version = o->assigned;
			r->flags = o->kind == KV_DEL ? STORE_REC_TOMBSTONE : 0;
			/* older senders said KV_VER_ANY: nothing known */
			r->prev = o->expect == KV_VER_ANY ? 0 : o->expect;
		}
	}
	/* A record older here than the one the primary replaced: an
	 * earlier forward was lost or is still on its way (forwards of one
	 * key may pass each other), so this copy may soon hold a newer
	 * witness record than the data beside it: no witness reads of
	 * these keys (readm_here) until a repair pass.  Told by the
	 * primary that a forward failed or skipped this node: no serving
	 * at all until caught up.  Both from before these records land. */
	if (store_replica_behind(kn->local, recs, n) != 0) {
		mark_behind(kn, recs, n);
		__atomic_add_fetch(&kn->missed_gen, 1, __ATOMIC_ACQ_REL);
	}
	if (a->missed) {
		__atomic_add_fetch(&kn->missed_gen, 1, __ATOMIC_ACQ_REL);
		if (kn->missed)
			kn->missed(kn->hook_arg);
	}
	rc = store_apply_replica(kn->local, recs, n, NULL);
out:
	free(recs);
	return rc;
}

int kv_net_serve_apply(kv_net *kn, const peer_apply_args *a, peer_apply_res *r)
{
	size_t n = a->batches.batches_len, failed = 0;
	kv_batch *b = NULL;
	kv_op *ops = NULL;
	uint64_t *vers = NULL;
	size_t nops = 0, k = 0;
	int rc;

	if (a->replica) {
		rc = serve_replica(kn, a);
		goto out;
	}
	if (!kv_net_serving(kn)) {
		rc = MAGMA_EUNAVAIL; /* catching up: not a primary yet */
		goto out;
	}
	/* The sender routed by an older table: by ours another owner may
	 * coordinate these keys now, and two coordinators must never both
	 * check conditions.  It routes again once it has ours. */
	if (a->hdr.epoch < view_epoch(kn)) {
		rc = MAGMA_EJUKEBOX;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		nops += a->batches.batches_val[i].ops.ops_len;
	b = calloc(n ? n : 1, sizeof(*b));
	ops = calloc(nops ? nops : 1, sizeof(*ops));
	vers = calloc(n ? n : 1, sizeof(*vers));
	if (!b || !ops || !vers) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const peer_batch *pb = &a->batches.batches_val[i];
		memcpy(b[i].key, pb->key, KV_KEY_LEN);
		b[i].ops = ops + k;
		b[i].nops = pb->ops.ops_len;
		for (u_int j = 0; j < pb->ops.ops_len; j++) {
			const peer_op *o = &pb->ops.ops_val[j];
			kv_op *d = &ops[k++];
			d->kind = o->kind;
			d->sub = o->sub.sub_val;
			d->sublen = o->sub.sub_len;
			/* A range end is never NULL off the wire (NULL would
			 * mean "to the end of the key", which fs never
			 * sends and the wire cannot say). */
			d->val = o->val.val_val ? o->val.val_val : empty_bytes;
			d->vallen = o->val.val_len;
			d->expect = o->expect;
		}
	}
	rc = kv_net_primary_apply(kn, b, n, a->durability, &failed, vers,
	                          &r->rh.incarnation);
	r->failed = (u_int)failed;
	if (rc == 0 || rc == MAGMA_ECONFLICT || rc == MAGMA_EEXIST ||
	    rc == MAGMA_ENOENT) {
		r->versions.versions_val = (u_quad_t *)vers;
		r->versions.versions_len = (u_int)failed;
		vers = NULL;
	}
out:
	r->rh.status = rc;
	free(b);
	free(ops);
	free(vers);
	return rc;
}

/* ---- life ---- */

int kv_net_new(const kv_net_config *cfg, kv_net **out)
{
	kv_net *kn;
	unsigned t;

	if (!cfg || !cfg->local || !cfg->self_id || !cfg->psk || !out)
		return MAGMA_EINVAL;
	t = cfg->timeout_ms ? cfg->timeout_ms : KV_NET_TIMEOUT_MS;
	if (t < KV_NET_TIMEOUT_MIN || t > KV_NET_TIMEOUT_MAX)
		return MAGMA_EINVAL;
	if (!(kn = calloc(1, sizeof(*kn))))
		return MAGMA_ENOMEM;
	if (pthread_mutex_init(&kn->mu, NULL) != 0) {
		free(kn);
		return MAGMA_ESYS;
	}
	if (pthread_rwlock_init(&kn->vlock, NULL) != 0) {
		pthread_mutex_destroy(&kn->mu);
		free(kn);
		return MAGMA_ESYS;
	}
	if (pthread_mutex_init(&kn->sync_mu, NULL) != 0) {
		pthread_rwlock_destroy(&kn->vlock);
		pthread_mutex_destroy(&kn->mu);
		free(kn);
		return MAGMA_ESYS;
	}
	if (keys_random((uint8_t *)&kn->incarnation, sizeof(kn->incarnation)) <
	            0 ||
	    kv_fwd_new(fwd_send, kn, &kn->fwd) < 0) {
		pthread_mutex_destroy(&kn->sync_mu);
		pthread_rwlock_destroy(&kn->vlock);
		pthread_mutex_destroy(&kn->mu);
		free(kn);
		return MAGMA_ESYS;
	}
	kn->kv.ops = &net_ops;
	kn->kv.always_durable = 1; /* alone until a table says otherwise */
	kn->local = cfg->local;
	kn->lkv = store_kv(cfg->local);
	memcpy(kn->self, cfg->self_id, RING_ID_LEN);
	memcpy(kn->psk, cfg->psk, sizeof(kn->psk));
	kn->timeout_ms = t;
	kn->peer_down = cfg->peer_down;
	kn->saw_epoch = cfg->saw_epoch;
	kn->missed = cfg->missed;
	kn->hook_arg = cfg->hook_arg;
	/* Front end: two attempts fit in t (each at most t/2).  Forward:
	 * 0.3 t, so a primary answers a front end well before its call
	 * times out (0.35 t). */
	kn->opts[0].connect_ms = (int)(t / 20);
	kn->opts[0].handshake_ms = (int)(t / 10);
	kn->opts[0].call_ms = (int)(t * 35 / 100);
	kn->opts[1].connect_ms = (int)(t / 20);
	kn->opts[1].handshake_ms = (int)(t / 20);
	kn->opts[1].call_ms = (int)(t / 5);
	/* Repair: a digest of a large range takes a while to compute. */
	kn->opts[2].connect_ms = (int)(t / 20);
	kn->opts[2].handshake_ms = (int)(t / 10);
	kn->opts[2].call_ms = 60000;
	kn->serving = 1;
	kn->alone = 1;
	kn->kv.atomic_batches = 1;
	*out = kn;
	return 0;
}

void kv_net_free(kv_net *kn)
{
	if (!kn)
		return;
	kv_fwd_free(kn->fwd); /* sends what is queued: before the pool */
	while (kn->pool) {
		pool_ent *e = kn->pool;
		kn->pool = e->next;
		while (e->n)
			peer_client_free(e->idle[--e->n]);
		free(e);
	}
	explicit_bzero(kn->psk, sizeof(kn->psk));
	ring_free(kn->view);
	free(kn->down);
	free(kn->dirty);
	pthread_rwlock_destroy(&kn->vlock);
	pthread_mutex_destroy(&kn->sync_mu);
	pthread_mutex_destroy(&kn->mu);
	free(kn);
}

int kv_net_set_routes(kv_net *kn, const ring *table, const ring *view)
{
	uint8_t(*down)[RING_ID_LEN] = NULL, (*olddown)[RING_ID_LEN];
	ring *copy = NULL, *old;
	ring_member me;
	size_t n = 0, ndown = 0;
	int rc, alone = 0;

	if (table && (rc = ring_dup(table, &copy)) < 0)
		return rc;
	if (table && view && ring_count(view, &n) == 0 && n &&
	    !(down = calloc(n, sizeof(*down)))) {
		ring_free(copy);
		return MAGMA_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		ring_member m;
		if (ring_member_at(view, i, &m) == 0 && m.state == RING_DOWN)
			memcpy(down[ndown++], m.id, RING_ID_LEN);
	}
	if (copy == NULL || (ring_count(copy, &n) == 0 && n == 0))
		alone = 1;
	else if (n == 1 && ring_member_at(copy, 0, &me) == 0 &&
	         memcmp(me.id, kn->self, RING_ID_LEN) == 0)
		alone = 1;
	pthread_rwlock_wrlock(&kn->vlock);
	__atomic_store_n(&kn->alone, alone, __ATOMIC_RELEASE);
	/* Alone, apply is one local transaction (net_apply). */
	__atomic_store_n(&kn->kv.atomic_batches, alone, __ATOMIC_RELEASE);
	/* In a network, backups may get UNSTABLE writes after the reply. */
	__atomic_store_n(&kn->kv.always_durable, alone, __ATOMIC_RELEASE);
	old = kn->view;
	olddown = kn->down;
	kn->view = copy;
	kn->down = down;
	kn->ndown = ndown;
	pthread_rwlock_unlock(&kn->vlock);
	ring_free(old);
	free(olddown);
	return 0;
}

int kv_net_is_down(kv_net *kn, const uint8_t id[RING_ID_LEN])
{
	int d;

	pthread_rwlock_rdlock(&kn->vlock);
	d = down_locked(kn, id);
	pthread_rwlock_unlock(&kn->vlock);
	return d;
}

int kv_net_view(kv_net *kn, ring **out)
{
	int rc = 0;

	*out = NULL;
	pthread_rwlock_rdlock(&kn->vlock);
	if (kn->view)
		rc = ring_dup(kn->view, out);
	pthread_rwlock_unlock(&kn->vlock);
	return rc;
}

kv *kv_net_kv(kv_net *kn)
{
	return &kn->kv;
}

void kv_net_set_serving(kv_net *kn, int on)
{
	__atomic_store_n(&kn->serving, on ? 1 : 0, __ATOMIC_RELEASE);
}

/* On every read: two atomic loads, and a clock read (vDSO) only in a
 * network. */
int kv_net_serving(kv_net *kn)
{
	return __atomic_load_n(&kn->serving, __ATOMIC_ACQUIRE) &&
	       !tick_stale(kn);
}

void kv_net_tick(kv_net *kn)
{
	__atomic_store_n(&kn->tick, now_ms(), __ATOMIC_RELEASE);
}

void kv_net_set_tick_limit(kv_net *kn, unsigned limit_ms)
{
	kv_net_tick(kn);
	__atomic_store_n(&kn->tick_limit, (long)limit_ms, __ATOMIC_RELEASE);
}

unsigned kv_net_timeout_ms(kv_net *kn)
{
	return kn->timeout_ms;
}

void kv_net_read_counts(kv_net *kn, uint64_t *here, uint64_t *away)
{
	*here = __atomic_load_n(&kn->reads_here, __ATOMIC_RELAXED);
	*away = __atomic_load_n(&kn->reads_away, __ATOMIC_RELAXED);
}

void kv_net_self(kv_net *kn, uint8_t id[RING_ID_LEN])
{
	memcpy(id, kn->self, RING_ID_LEN);
}

store *kv_net_store(kv_net *kn)
{
	return kn->local;
}
