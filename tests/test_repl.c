/* test_repl.c - CUnit suite for the replication pieces that run in one
 * process: store_apply_collect (the primary's apply), a primary's records
 * applied on a replica, the RANGE_DIGEST / RANGE_PULL handlers' work
 * (repair.c) between two stores, and kv_net on a table of this node
 * alone (straight to the local store).  The network paths are tested by
 * tests/it_repl.sh against real magmad processes. */
#include <CUnit/CUnit.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv_net.h"
#include "magma_peer.h"
#include "merr.h"
#include "peer_srv.h"
#include "repair.h"
#include "store/store.h"
#include "throttle.h"
#include "unit.h"

static store *open_store(void)
{
	store_config c = { .dir = unit_tmpdir(), .map_size = 64u << 20 };
	store *s = NULL;

	if (!c.dir || store_open_flags(&s, &c, STORE_TOMBSTONES) != 0)
		return NULL;
	return s;
}

static void key_of(uint8_t k[KV_KEY_LEN], unsigned i)
{
	memset(k, 0, KV_KEY_LEN);
	k[0] = (uint8_t)(i * 5); /* ring order follows i */
	k[19] = (uint8_t)i;
}

static void digest_all(store *s, uint8_t d[STORE_DIGEST_LEN], uint64_t *n)
{
	uint8_t z[KV_KEY_LEN] = { 0 };

	CU_ASSERT_EQUAL(store_range_digest(s, z, z, d, n), 0);
}

static void test_collect(void)
{
	store *p = open_store(), *b = open_store(), *plain = NULL;
	store_config pc = { .dir = unit_tmpdir(), .map_size = 64u << 20 };
	uint8_t k0[KV_KEY_LEN], k1[KV_KEY_LEN], dp[32], db[32];
	kv_op put[3] = {
		{ KV_PUT, "a", 1, "one", 3, KV_VER_ABSENT },
		{ KV_PUT, "b", 1, "two", 3, KV_VER_ANY },
		{ KV_PUT, "c", 1, "three", 5, KV_VER_ANY },
	};
	kv_op del[2] = {
		{ KV_DEL, "a", 1, NULL, 0, KV_VER_ANY },
		{ KV_DEL_RANGE, "b", 1, "d", 1, KV_VER_ANY },
	};
	kv_op bad = { KV_PUT, "a", 1, "x", 1, KV_VER_ABSENT };
	kv_batch bs[2];
	store_applied ap;
	uint64_t np, nb, ver;

	CU_ASSERT_FATAL(p && b);
	key_of(k0, 1);
	key_of(k1, 2);
	memcpy(bs[0].key, k0, KV_KEY_LEN);
	bs[0].ops = put;
	bs[0].nops = 3;
	memcpy(bs[1].key, k1, KV_KEY_LEN);
	bs[1].ops = put;
	bs[1].nops = 2;
	CU_ASSERT_EQUAL_FATAL(store_apply_collect(p, bs, 2, &ap), 0);
	CU_ASSERT_EQUAL(ap.failed, 2);
	CU_ASSERT_EQUAL(ap.failed_rc, 0);
	CU_ASSERT_EQUAL(ap.nrecs, 5);
	CU_ASSERT_EQUAL(ap.recs[2].version, 1);
	CU_ASSERT_EQUAL(ap.recs[2].prev, 0); /* new */
	CU_ASSERT_EQUAL(ap.recs[2].vallen, 5);
	CU_ASSERT(memcmp(ap.recs[2].val, "three", 5) == 0);
	CU_ASSERT_EQUAL(store_apply_replica(b, ap.recs, ap.nrecs, NULL), 0);
	store_applied_free(&ap);

	/* Deletes come back as tombstones at the next version, each
	 * naming the version it replaced; b holds those, so it is not
	 * behind them. */
	bs[0].ops = del;
	bs[0].nops = 2;
	CU_ASSERT_EQUAL_FATAL(store_apply_collect(p, bs, 1, &ap), 0);
	CU_ASSERT_EQUAL(ap.nrecs, 3);
	for (size_t i = 0; i < ap.nrecs; i++) {
		CU_ASSERT(ap.recs[i].flags & STORE_REC_TOMBSTONE);
		CU_ASSERT_EQUAL(ap.recs[i].vallen, STORE_TOMB_LEN);
		CU_ASSERT_EQUAL(ap.recs[i].version, 2);
		CU_ASSERT_EQUAL(ap.recs[i].prev, 1);
	}
	CU_ASSERT_EQUAL(store_replica_behind(b, ap.recs, ap.nrecs), 0);
	/* a copy that lacks the first forward is behind the second */
	{
		store *c = open_store();
		CU_ASSERT_FATAL(c != NULL);
		CU_ASSERT_EQUAL(store_replica_behind(c, ap.recs, ap.nrecs), 1);
		store_close(c);
	}
	CU_ASSERT_EQUAL(store_apply_replica(b, ap.recs, ap.nrecs, NULL), 0);
	store_applied_free(&ap);
	digest_all(p, dp, &np);
	digest_all(b, db, &nb);
	CU_ASSERT_EQUAL(np, 5);
	CU_ASSERT_EQUAL(nb, 5);
	CU_ASSERT(memcmp(dp, db, sizeof(dp)) == 0);

	/* A failed condition in entry 1: entry 0 stays applied. */
	bs[0].ops = put + 2;
	bs[0].nops = 1;
	bs[1].ops = &bad; /* "a" under k1 exists */
	bs[1].nops = 1;
	CU_ASSERT_EQUAL_FATAL(store_apply_collect(p, bs, 2, &ap), 0);
	CU_ASSERT_EQUAL(ap.failed, 1);
	CU_ASSERT_EQUAL(ap.failed_rc, MAGMA_EEXIST);
	CU_ASSERT_EQUAL(ap.nrecs, 1);
	CU_ASSERT_EQUAL(ap.recs[0].version, 3); /* past the tombstone */
	store_applied_free(&ap);
	CU_ASSERT_EQUAL(kv_get(store_kv(p), k0, "c", 1, NULL, NULL, &ver), 0);
	CU_ASSERT_EQUAL(ver, 3);

	/* Without tombstones a delete could not be forwarded. */
	CU_ASSERT_EQUAL_FATAL(store_open(&plain, &pc), 0);
	CU_ASSERT_EQUAL(store_apply_collect(plain, bs, 1, &ap), MAGMA_EINVAL);
	store_close(plain);
	store_close(p);
	store_close(b);
}

/* Pull everything of a (lo, hi] range from one store into another
 * through the handlers' code, as repair does over the wire. */
static void pull_all(store *from, store *to, const uint8_t *lo,
                     const uint8_t *hi)
{
	peer_pull_args a;
	char cur[PEER_CURSOR_MAX];
	int done = 0, calls = 0;

	memset(&a, 0, sizeof(a));
	memcpy(a.lo, lo, KV_KEY_LEN);
	memcpy(a.hi, hi, KV_KEY_LEN);
	a.cursor.cursor_val = cur;
	a.max_records = 3;
	a.max_bytes = PEER_BYTES_MAX;
	a.want_values = TRUE;
	while (!done && calls++ < 100) {
		peer_pull_res r;
		store_rec *recs;

		memset(&r, 0, sizeof(r));
		CU_ASSERT_EQUAL_FATAL(repair_serve_pull(from, &a, &r), 0);
		CU_ASSERT(r.recs.recs_len <= 3);
		recs = calloc(r.recs.recs_len + 1, sizeof(*recs));
		for (u_int i = 0; i < r.recs.recs_len; i++) {
			peer_pull_rec *q = &r.recs.recs_val[i];
			memcpy(recs[i].key, q->key, KV_KEY_LEN);
			recs[i].sub = q->sub.sub_val;
			recs[i].sublen = q->sub.sub_len;
			recs[i].version = q->ver;
			recs[i].flags = q->tombstone ? STORE_REC_TOMBSTONE : 0;
			recs[i].val = q->value.value_val;
			recs[i].vallen = q->value.value_len;
		}
		CU_ASSERT_EQUAL(
		        store_apply_replica(to, recs, r.recs.recs_len, NULL),
		        0);
		free(recs);
		done = r.done;
		memcpy(cur, r.cursor.cursor_val, r.cursor.cursor_len);
		a.cursor.cursor_len = r.cursor.cursor_len;
		xdr_free((xdrproc_t)xdr_peer_pull_res, (char *)&r);
	}
	CU_ASSERT(done);
}

static void test_digest_pull(void)
{
	store *a = open_store(), *b = open_store();
	uint8_t lo[KV_KEY_LEN], hi[KV_KEY_LEN], z[KV_KEY_LEN] = { 0 };
	peer_digest_args da;
	peer_digest_res ra, rb;
	unsigned differ = 0;

	CU_ASSERT_FATAL(a && b);
	for (unsigned i = 0; i < 40; i++) {
		kv_op op = { KV_PUT, "s", 1, &i, sizeof(i), KV_VER_ANY };
		kv_batch bt = { .ops = &op, .nops = 1 };
		key_of(bt.key, i);
		CU_ASSERT_EQUAL(kv_apply(store_kv(a), &bt, 1, KV_DURABLE), 0);
		if (i % 3 == 0) /* b has a third of them */
			CU_ASSERT_EQUAL(
			        kv_apply(store_kv(b), &bt, 1, KV_DURABLE), 0);
	}
	/* The whole ring in 8 parts: the parts tile it and some differ. */
	memset(&da, 0, sizeof(da));
	da.parts = 8;
	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	CU_ASSERT_EQUAL_FATAL(repair_serve_digest(a, &da, &ra), 0);
	CU_ASSERT_EQUAL_FATAL(repair_serve_digest(b, &da, &rb), 0);
	CU_ASSERT_EQUAL_FATAL(ra.parts.parts_len, 8);
	CU_ASSERT(memcmp(ra.parts.parts_val[0].lo, z, KV_KEY_LEN) == 0);
	for (unsigned i = 0; i < 8; i++) {
		peer_digest *p = &ra.parts.parts_val[i];
		if (i + 1 < 8)
			CU_ASSERT(memcmp(p->hi, ra.parts.parts_val[i + 1].lo,
			                 KV_KEY_LEN) == 0);
		if (memcmp(p->hash, rb.parts.parts_val[i].hash, 32) != 0) {
			differ++;
			pull_all(a, b, (uint8_t *)p->lo, (uint8_t *)p->hi);
		}
	}
	CU_ASSERT(differ > 0);
	xdr_free((xdrproc_t)xdr_peer_digest_res, (char *)&ra);
	xdr_free((xdrproc_t)xdr_peer_digest_res, (char *)&rb);
	/* Now equal, over the whole ring. */
	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	da.parts = 1;
	CU_ASSERT_EQUAL(repair_serve_digest(a, &da, &ra), 0);
	CU_ASSERT_EQUAL(repair_serve_digest(b, &da, &rb), 0);
	CU_ASSERT_EQUAL(ra.parts.parts_val[0].records, 40);
	CU_ASSERT(memcmp(ra.parts.parts_val[0].hash, rb.parts.parts_val[0].hash,
	                 32) == 0);
	xdr_free((xdrproc_t)xdr_peer_digest_res, (char *)&ra);
	xdr_free((xdrproc_t)xdr_peer_digest_res, (char *)&rb);
	/* A sub-range (lo, hi]: keys 5..9 only. */
	key_of(lo, 4);
	key_of(hi, 9);
	da.parts = 1;
	memcpy(da.lo, lo, KV_KEY_LEN);
	memcpy(da.hi, hi, KV_KEY_LEN);
	memset(&ra, 0, sizeof(ra));
	CU_ASSERT_EQUAL(repair_serve_digest(a, &da, &ra), 0);
	CU_ASSERT_EQUAL(ra.parts.parts_val[0].records, 5);
	xdr_free((xdrproc_t)xdr_peer_digest_res, (char *)&ra);
	/* Hostile sizes. */
	da.parts = 0;
	memset(&ra, 0, sizeof(ra));
	CU_ASSERT_EQUAL(repair_serve_digest(a, &da, &ra), MAGMA_EINVAL);
	store_close(a);
	store_close(b);
}

/* kv_net with this node alone: every op is the local store's. */
static void test_net_alone(void)
{
	static const uint8_t id[RING_ID_LEN] = { 1, 2, 3 }, psk[32] = { 9 };
	store *s = open_store();
	kv_net_config c;
	kv_net *kn = NULL;
	ring *rg = NULL;
	kv *k;
	uint8_t key[KV_KEY_LEN];
	kv_op op = { KV_PUT, "x", 1, "val", 3, KV_VER_ABSENT };
	kv_batch bt = { .ops = &op, .nops = 1 };
	void *val = NULL;
	size_t len = 0;
	uint64_t ver = 0;

	CU_ASSERT_FATAL(s != NULL);
	memset(&c, 0, sizeof(c));
	c.local = s;
	c.self_id = id;
	c.psk = psk;
	CU_ASSERT_EQUAL_FATAL(kv_net_new(&c, &kn), 0);
	k = kv_net_kv(kn);
	CU_ASSERT_EQUAL(k->always_durable, 1);
	CU_ASSERT_EQUAL(peer_table_single(id, 2, "127.0.0.1:1", "", &rg), 0);
	CU_ASSERT_EQUAL(kv_net_set_routes(kn, rg, rg), 0);
	key_of(key, 7);
	memcpy(bt.key, key, KV_KEY_LEN);
	CU_ASSERT_EQUAL(kv_apply(k, &bt, 1, KV_UNSTABLE), 0);
	CU_ASSERT_EQUAL(kv_apply(k, &bt, 1, KV_UNSTABLE), MAGMA_EEXIST);
	CU_ASSERT_EQUAL(kv_get(k, key, "x", 1, &val, &len, &ver), 0);
	CU_ASSERT(len == 3 && ver == 1 && memcmp(val, "val", 3) == 0);
	free(val);
	CU_ASSERT_EQUAL(kv_get(k, key, "y", 1, NULL, NULL, &ver), MAGMA_ENOENT);
	/* A timeout out of bounds is refused. */
	c.timeout_ms = 5;
	CU_ASSERT_EQUAL(kv_net_new(&c, &kn), MAGMA_EINVAL);
	kv_net_free(kn);
	ring_free(rg);
	store_close(s);
}

/* k in the arc (lo, hi] (lo == hi: the whole ring). */
static int in_arc(const uint8_t *k, const uint8_t *lo, const uint8_t *hi)
{
	int a = memcmp(lo, hi, RING_KEY_LEN);

	if (a == 0)
		return 1;
	if (a < 0)
		return memcmp(k, lo, RING_KEY_LEN) > 0 &&
		       memcmp(k, hi, RING_KEY_LEN) <= 0;
	return memcmp(k, lo, RING_KEY_LEN) > 0 ||
	       memcmp(k, hi, RING_KEY_LEN) <= 0;
}

static int same_ids(const uint8_t (*a)[RING_ID_LEN], size_t na,
                    const uint8_t (*b)[RING_ID_LEN], size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++) {
		size_t j = 0;
		while (j < nb && memcmp(a[i], b[j], RING_ID_LEN))
			j++;
		if (j == nb)
			return 0;
	}
	return 1;
}

/* Pieces tile the ring, and owners and placement are constant on each. */
static void test_pieces(void)
{
	static const int states[5] = { RING_UP, RING_UP, RING_JOINING,
		                       RING_LEAVING, RING_UP };
	repair_piece *pc = NULL;
	ring *rg = NULL;
	size_t n = 0, hits = 0;
	uint64_t x = 12345;

	CU_ASSERT_EQUAL_FATAL(ring_new(2, &rg), 0);
	for (int i = 0; i < 5; i++) {
		ring_member m;
		memset(&m, 0, sizeof(m));
		for (int b = 0; b < RING_ID_LEN; b++)
			m.id[b] = (uint8_t)(i * 37 + b * 11 + 1);
		snprintf(m.peer, sizeof(m.peer), "127.0.0.1:%d", 1000 + i);
		m.state = states[i];
		CU_ASSERT_EQUAL_FATAL(ring_add(rg, &m), 0);
		if (i == 0) {
			/* one member: one piece, the whole ring */
			CU_ASSERT_EQUAL(repair_pieces(rg, &pc, &n), 0);
			CU_ASSERT_EQUAL(n, 1);
			if (n == 1)
				CU_ASSERT(memcmp(pc[0].lo, pc[0].hi,
				                 RING_KEY_LEN) == 0);
			free(pc);
		}
	}
	CU_ASSERT_EQUAL_FATAL(repair_pieces(rg, &pc, &n), 0);
	CU_ASSERT_FATAL(n > 100);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT(memcmp(pc[i].hi, pc[(i + 1) % n].lo, RING_KEY_LEN) ==
		          0);
	for (int t = 0; t < 3000; t++) {
		uint8_t k[RING_KEY_LEN], o1[RING_R_MAX][RING_ID_LEN],
		        o2[RING_R_MAX][RING_ID_LEN];
		size_t n1 = 0, n2 = 0, in = 0, at = 0;

		for (int b = 0; b < RING_KEY_LEN; b++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			k[b] = (uint8_t)x;
		}
		for (size_t i = 0; i < n; i++)
			if (in_arc(k, pc[i].lo, pc[i].hi)) {
				in++;
				at = i;
			}
		CU_ASSERT_EQUAL(in, 1);
		CU_ASSERT_EQUAL(ring_owners(rg, k, o1, RING_R_MAX, &n1), 0);
		CU_ASSERT_EQUAL(ring_owners(rg, pc[at].hi, o2, RING_R_MAX, &n2),
		                0);
		hits += same_ids((const uint8_t(*)[RING_ID_LEN])o1, n1,
		                 (const uint8_t(*)[RING_ID_LEN])o2, n2);
		CU_ASSERT_EQUAL(ring_placement(rg, k, o1, RING_R_MAX, &n1), 0);
		CU_ASSERT_EQUAL(
		        ring_placement(rg, pc[at].hi, o2, RING_R_MAX, &n2), 0);
		hits += same_ids((const uint8_t(*)[RING_ID_LEN])o1, n1,
		                 (const uint8_t(*)[RING_ID_LEN])o2, n2);
	}
	CU_ASSERT_EQUAL(hits, 6000);
	free(pc);
	ring_free(rg);
}

/* store_range_drop: only with the expected digest, no tombstones left,
 * versions above the dropped ones afterwards. */
static void test_drop(void)
{
	store *s = open_store();
	uint8_t lo[KV_KEY_LEN], hi[KV_KEY_LEN], d[STORE_DIGEST_LEN],
	        bad[STORE_DIGEST_LEN] = { 0 }, all[STORE_DIGEST_LEN];
	uint64_t n = 0, dropped = 0, total = 0;
	store_applied ap;

	CU_ASSERT_FATAL(s != NULL);
	for (unsigned i = 0; i < 20; i++) {
		kv_op op = { KV_PUT, "s", 1, "value", 5, KV_VER_ANY };
		kv_batch b = { .ops = &op, .nops = 1 };
		key_of(b.key, i);
		CU_ASSERT_EQUAL(store_apply_collect(s, &b, 1, &ap), 0);
		store_applied_free(&ap);
		if (i == 7) { /* a second version, and a tombstone */
			kv_op del = { KV_DEL, "s", 1, NULL, 0, KV_VER_ANY };
			CU_ASSERT_EQUAL(store_apply_collect(s, &b, 1, &ap), 0);
			store_applied_free(&ap);
			b.ops = &del;
			CU_ASSERT_EQUAL(store_apply_collect(s, &b, 1, &ap), 0);
			store_applied_free(&ap);
		}
	}
	key_of(lo, 5); /* [5, 10) */
	key_of(hi, 10);
	CU_ASSERT_EQUAL(store_range_digest(s, lo, hi, d, &n), 0);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(store_range_drop(s, lo, hi, bad, &dropped),
	                MAGMA_ECONFLICT);
	CU_ASSERT_EQUAL(store_range_digest(s, lo, hi, all, &n), 0);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(store_range_drop(s, lo, hi, d, &dropped), 0);
	CU_ASSERT_EQUAL(dropped, 5);
	CU_ASSERT_EQUAL(store_range_digest(s, lo, hi, all, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	digest_all(s, all, &total);
	CU_ASSERT_EQUAL(total, 15);
	{
		/* re-created where nothing is stored: above the dropped */
		kv_op op = { KV_PUT, "s", 1, "again", 5, KV_VER_ABSENT };
		kv_batch b = { .ops = &op, .nops = 1 };
		key_of(b.key, 7);
		CU_ASSERT_EQUAL(store_apply_collect(s, &b, 1, &ap), 0);
		CU_ASSERT(ap.nrecs == 1 && ap.recs[0].version > 3);
		store_applied_free(&ap);
	}
	store_close(s);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *take_forever(void *arg)
{
	static int rc;

	rc = throttle_take(arg, 1ull << 30); /* a 1 KiB/s bucket: 12 days */
	return &rc;
}

/* move_rate's bucket (throttle.h): the rule, a real sleep of about the
 * debt, and a stop that wakes a sleeper at once. */
static void test_throttle(void)
{
	const uint64_t M = 1u << 20;
	throttle *t = NULL;
	pthread_t th;
	void *ret = NULL;
	double t0, dt;

	CU_ASSERT(throttle_delay_ns(0, 0, 1ull << 40) == 0);
	CU_ASSERT(throttle_delay_ns(M, (int64_t)M, M) == 0);
	CU_ASSERT(throttle_delay_ns(M, 0, M) == 1000000000u);
	CU_ASSERT(throttle_delay_ns(M, (int64_t)M / 2, M) == 500000000u);
	CU_ASSERT(throttle_delay_ns(M, -(int64_t)M, M) == 2000000000u);

	/* 4 MiB/s, 256 KiB of credit: the credit goes at once, then 1 MiB
	 * more is a quarter of a second's debt. */
	CU_ASSERT_FATAL(throttle_new(&t, 4 * M, M / 4) == 0);
	t0 = mono_s();
	CU_ASSERT(throttle_take(t, M / 4) == 0);
	CU_ASSERT(mono_s() - t0 < 0.1);
	t0 = mono_s();
	CU_ASSERT(throttle_take(t, M) == 0);
	dt = mono_s() - t0;
	CU_ASSERT(dt > 0.2 && dt < 2.0);
	throttle_free(t);

	/* No limit: never sleeps. */
	CU_ASSERT_FATAL(throttle_new(&t, 0, 0) == 0);
	t0 = mono_s();
	CU_ASSERT(throttle_take(t, 1ull << 40) == 0);
	CU_ASSERT(throttle_take(t, 1ull << 40) == 0);
	CU_ASSERT(mono_s() - t0 < 0.1);
	CU_ASSERT(!throttle_stopped(t));
	throttle_free(t);

	/* A sleeper is woken by a stop, and every later take fails. */
	CU_ASSERT_FATAL(throttle_new(&t, 1024, 0) == 0);
	CU_ASSERT_FATAL(pthread_create(&th, NULL, take_forever, t) == 0);
	{
		struct timespec nap = { 0, 100000000 };
		nanosleep(&nap, NULL);
	}
	t0 = mono_s();
	throttle_stop(t);
	pthread_join(th, &ret);
	CU_ASSERT(mono_s() - t0 < 1.0);
	CU_ASSERT(ret && *(int *)ret == MAGMA_EJUKEBOX);
	CU_ASSERT(throttle_stopped(t));
	CU_ASSERT(throttle_take(t, 0) == MAGMA_EJUKEBOX);
	CU_ASSERT(throttle_take(t, 1) == MAGMA_EJUKEBOX);
	throttle_free(t);
}

static CU_TestInfo repl_tests[] = {
	{ "apply collects the committed records", test_collect },
	{ "range digests and pulls between two stores", test_digest_pull },
	{ "kv_net alone is the local store", test_net_alone },
	{ "repair pieces tile the ring with constant owners", test_pieces },
	{ "store_range_drop drops only the expected content", test_drop },
	{ "move_rate's token bucket paces and stops", test_throttle },
	CU_TEST_INFO_NULL,
};

int unit_suite_repl(void)
{
	CU_SuiteInfo suites[] = {
		{ "repl", NULL, NULL, NULL, NULL, repl_tests },
		CU_SUITE_INFO_NULL,
	};
	return CU_register_suites(suites);
}
