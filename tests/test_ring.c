/* test_ring.c - CUnit suite for server/ring.c: owners against a
 * brute-force model of the documented token rule, the two views, the
 * encoding (round trip, every truncation, garbage), and the DESIGN
 * section 4 targets measured: max/mean load <= 1.10 over 100 equal
 * members, and ~r/(N+1) of the keys moving on a join or a leave.
 * Keys and node ids come from a fixed-seed PRNG, so runs repeat;
 * MAGMA_UNIT_LOG=info prints the measured figures. */
#include <CUnit/CUnit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "merr.h"
#include "mlog.h"
#include "ring.h"
#include "unit.h"

/* ---- helpers ---- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rand_bytes(uint64_t *s, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = splitmix(s);
		for (size_t j = 0; j < 8 && i + j < len; j++)
			out[i + j] = (uint8_t)(v >> (8 * j));
	}
}

/* Member number i: id from the PRNG seeded with i, 127.0.x.y:7000+. */
static ring_member mk(unsigned i, uint32_t weight, int state)
{
	ring_member m;
	uint64_t s = 0x5eed0000ull + i;

	memset(&m, 0, sizeof(m));
	rand_bytes(&s, m.id, RING_ID_LEN);
	snprintf(m.peer, sizeof(m.peer), "127.0.%u.%u:%u", (i >> 8) & 255,
	         i & 255, 7000 + i % 1000);
	snprintf(m.nfs, sizeof(m.nfs), "127.0.%u.%u:2049", (i >> 8) & 255,
	         i & 255);
	m.weight = weight;
	m.state = state;
	return m;
}

/* A ring of members first..first+n-1, all up, weight 100. */
static ring *mk_ring(unsigned r, unsigned first, unsigned n)
{
	ring *rg = NULL;

	if (ring_new(r, &rg) != 0)
		return NULL;
	for (unsigned i = first; i < first + n; i++) {
		ring_member m = mk(i, 100, RING_UP);
		if (ring_add(rg, &m) != 0) {
			ring_free(rg);
			return NULL;
		}
	}
	return rg;
}

static int same_ids(uint8_t a[][RING_ID_LEN], size_t na,
                    uint8_t b[][RING_ID_LEN], size_t nb)
{
	return na == nb && memcmp(a, b, na * RING_ID_LEN) == 0;
}

static int has_id(uint8_t a[][RING_ID_LEN], size_t n, const uint8_t *id)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(a[i], id, RING_ID_LEN) == 0)
			return 1;
	return 0;
}

static int set_equal(uint8_t a[][RING_ID_LEN], size_t na,
                     uint8_t b[][RING_ID_LEN], size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (!has_id(b, nb, a[i]))
			return 0;
	return 1;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, RING_ID_LEN);
}

/* ---- argument checking and bookkeeping ---- */

static void test_args(void)
{
	ring *rg = NULL;
	ring_member m = mk(1, 100, RING_UP), got;
	uint64_t ep = 99;
	size_t n = 9;
	unsigned r = 0;

	CU_ASSERT_EQUAL(ring_new(0, &rg), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(ring_new(RING_R_MAX + 1, &rg), MAGMA_EINVAL);
	CU_ASSERT_EQUAL_FATAL(ring_new(2, &rg), 0);
	CU_ASSERT_EQUAL(ring_redundancy(rg, &r), 0);
	CU_ASSERT_EQUAL(r, 2);
	CU_ASSERT_EQUAL(ring_epoch(rg, &ep), 0);
	CU_ASSERT_EQUAL(ep, 0);

	static const char *bad[] = {
		"",
		"1.2.3.4",
		"1.2.3.4:",
		"1.2.3.4:0",
		"1.2.3.4:65536",
		"1.2.3.4:080",
		"1.2.3.4:80x",
		"1.2.3.4:123456",
		"::1:80",
		"[::1]",
		"[::1:80",
		"host:80",
		"1.2.3:80",
		"1.2.3.4 :80",
		"[1.2.3.4]:80",
		":80",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ring_member b = m;
		snprintf(b.peer, sizeof(b.peer), "%s", bad[i]);
		CU_ASSERT_EQUAL(ring_add(rg, &b), MAGMA_EINVAL);
		if (bad[i][0]) { /* nfs may be empty, nothing else bad */
			b = m;
			snprintf(b.nfs, sizeof(b.nfs), "%s", bad[i]);
			CU_ASSERT_EQUAL(ring_add(rg, &b), MAGMA_EINVAL);
		}
	}
	ring_member b = m;
	memset(b.peer, '1', sizeof(b.peer)); /* no NUL */
	CU_ASSERT_EQUAL(ring_add(rg, &b), MAGMA_EINVAL);
	b = m;
	b.weight = RING_WEIGHT_MAX + 1;
	CU_ASSERT_EQUAL(ring_add(rg, &b), MAGMA_EINVAL);
	b.weight = 100;
	b.state = 0;
	CU_ASSERT_EQUAL(ring_add(rg, &b), MAGMA_EINVAL);
	b.state = RING_LEAVING + 1;
	CU_ASSERT_EQUAL(ring_add(rg, &b), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(ring_epoch(rg, &ep), 0);
	CU_ASSERT_EQUAL(ep, 0); /* failures change nothing */

	/* Good: IPv6, empty nfs, weight 0 = default. */
	b = mk(2, 0, RING_UP);
	snprintf(b.peer, sizeof(b.peer), "[fe80::1:2]:65535");
	b.nfs[0] = '\0';
	CU_ASSERT_EQUAL(ring_add(rg, &b), 0);
	CU_ASSERT_EQUAL(ring_add(rg, &m), 0);
	CU_ASSERT_EQUAL(ring_add(rg, &m), MAGMA_EEXIST);
	CU_ASSERT_EQUAL(ring_member_find(rg, b.id, &got), 0);
	CU_ASSERT_EQUAL(got.weight, RING_WEIGHT_DEFAULT);
	CU_ASSERT_STRING_EQUAL(got.peer, "[fe80::1:2]:65535");
	CU_ASSERT_STRING_EQUAL(got.nfs, "");
	CU_ASSERT_EQUAL(ring_epoch(rg, &ep), 0);
	CU_ASSERT_EQUAL(ep, 2);

	/* Iteration in ascending id order. */
	CU_ASSERT_EQUAL(ring_count(rg, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	ring_member a0, a1;
	CU_ASSERT_EQUAL(ring_member_at(rg, 0, &a0), 0);
	CU_ASSERT_EQUAL(ring_member_at(rg, 1, &a1), 0);
	CU_ASSERT(memcmp(a0.id, a1.id, RING_ID_LEN) < 0);
	CU_ASSERT_EQUAL(ring_member_at(rg, 2, &a1), MAGMA_ERANGE);

	/* State changes; unchanged state does not bump the epoch. */
	CU_ASSERT_EQUAL(ring_set_state(rg, m.id, RING_DOWN), 0);
	CU_ASSERT_EQUAL(ring_set_state(rg, m.id, RING_DOWN), 0);
	CU_ASSERT_EQUAL(ring_epoch(rg, &ep), 0);
	CU_ASSERT_EQUAL(ep, 3);
	CU_ASSERT_EQUAL(ring_member_find(rg, m.id, &got), 0);
	CU_ASSERT_EQUAL(got.state, RING_DOWN);
	CU_ASSERT_EQUAL(ring_set_state(rg, m.id, 0), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(ring_set_state(rg, m.id, 7), MAGMA_EINVAL);
	ring_member x = mk(3, 100, RING_UP);
	CU_ASSERT_EQUAL(ring_set_state(rg, x.id, RING_UP), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(ring_set_weight(rg, x.id, 5), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(ring_set_weight(rg, m.id, RING_WEIGHT_MAX + 1),
	                MAGMA_EINVAL);
	CU_ASSERT_EQUAL(ring_remove(rg, x.id), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(ring_member_find(rg, x.id, &got), MAGMA_ENOENT);
	double sh;
	CU_ASSERT_EQUAL(ring_share(rg, x.id, RING_VIEW_OWNERS, &sh),
	                MAGMA_ENOENT);
	CU_ASSERT_EQUAL(ring_set_epoch(rg, 1ull << 50), 0);
	CU_ASSERT_EQUAL(ring_remove(rg, m.id), 0);
	CU_ASSERT_EQUAL(ring_epoch(rg, &ep), 0);
	CU_ASSERT_EQUAL(ep, (1ull << 50) + 1);
	CU_ASSERT_EQUAL(ring_count(rg, &n), 0);
	CU_ASSERT_EQUAL(n, 1);

	uint8_t key[RING_KEY_LEN] = { 0 }, out[4][RING_ID_LEN];
	CU_ASSERT_EQUAL(ring_owners(rg, key, out, 0, &n), MAGMA_EINVAL);
	CU_ASSERT_STRING_EQUAL(ring_state_name(RING_JOINING), "joining");
	CU_ASSERT_STRING_EQUAL(ring_state_name(0), "?");
	ring_free(rg);
	ring_free(NULL);
}

/* ---- owners against a brute-force model of the token rule ---- */

struct mtok {
	uint8_t pos[RING_KEY_LEN];
	unsigned m;
};

static int mtok_cmp(const void *a, const void *b)
{
	return memcmp(((const struct mtok *)a)->pos,
	              ((const struct mtok *)b)->pos, RING_KEY_LEN);
}

/* The model: every token SHA1(id || be32(i)), sorted; owners found by a
 * linear scan for the first token >= key, then clockwise. */
struct model {
	ring_member mem[8];
	unsigned nmem;
	struct mtok *tok;
	size_t ntok;
};

static void model_build(struct model *md)
{
	size_t cap = 0;
	for (unsigned i = 0; i < md->nmem; i++)
		cap += (md->mem[i].weight * RING_TOKENS_PER_100 + 99) / 100;
	md->tok = calloc(cap, sizeof(*md->tok));
	CU_ASSERT_PTR_NOT_NULL_FATAL(md->tok);
	md->ntok = 0;
	for (unsigned i = 0; i < md->nmem; i++) {
		size_t t = (md->mem[i].weight * RING_TOKENS_PER_100 + 99) / 100;
		for (uint32_t j = 0; j < t; j++) {
			uint8_t in[RING_ID_LEN + 4];
			memcpy(in, md->mem[i].id, RING_ID_LEN);
			in[16] = (uint8_t)(j >> 24);
			in[17] = (uint8_t)(j >> 16);
			in[18] = (uint8_t)(j >> 8);
			in[19] = (uint8_t)j;
			CU_ASSERT_FATAL(gnutls_hash_fast(
			                        GNUTLS_DIG_SHA1, in, sizeof(in),
			                        md->tok[md->ntok].pos) == 0);
			md->tok[md->ntok++].m = i;
		}
	}
	qsort(md->tok, md->ntok, sizeof(*md->tok), mtok_cmp);
}

static size_t model_owners(const struct model *md, const uint8_t *key, int view,
                           unsigned r, uint8_t out[][RING_ID_LEN])
{
	size_t start = 0, n = 0;
	unsigned got[RING_R_MAX];

	while (start < md->ntok &&
	       memcmp(md->tok[start].pos, key, RING_KEY_LEN) < 0)
		start++;
	if (start == md->ntok)
		start = 0;
	for (size_t s = 0; s < md->ntok && n < r; s++) {
		unsigned m = md->tok[(start + s) % md->ntok].m, j;
		int st = md->mem[m].state;
		int ok = view == RING_VIEW_OWNERS
		                 ? st == RING_UP || st == RING_LEAVING
		                 : st == RING_UP || st == RING_JOINING;
		for (j = 0; j < n && got[j] != m; j++)
			;
		if (ok && j == n)
			got[n++] = m;
	}
	for (size_t j = 0; j < n; j++)
		memcpy(out[j], md->mem[got[j]].id, RING_ID_LEN);
	return n;
}

static void check_key(const ring *rg, const struct model *md,
                      const uint8_t *key, unsigned r, int *bad)
{
	uint8_t want[RING_R_MAX][RING_ID_LEN], got[RING_R_MAX][RING_ID_LEN];
	for (int view = 0; view < 2; view++) {
		size_t nw = model_owners(md, key, view, r, want), ng = 0;
		int rc =
		        view == RING_VIEW_OWNERS
		                ? ring_owners(rg, key, got, RING_R_MAX, &ng)
		                : ring_placement(rg, key, got, RING_R_MAX, &ng);
		if (nw == 0 ? rc != MAGMA_EUNAVAIL
		            : rc != 0 || !same_ids(want, nw, got, ng))
			(*bad)++;
	}
}

static void test_model(void)
{
	static const int states[] = { RING_UP, RING_UP,      RING_JOINING,
		                      RING_UP, RING_LEAVING, RING_DOWN,
		                      RING_UP };
	static const uint32_t weights[] = { 1, 3, 2, 5, 1, 4, 2 };
	struct model md = { .nmem = 7 };
	ring *rg = NULL;
	uint64_t s = 42;
	int bad = 0;
	const unsigned r = 3;

	CU_ASSERT_EQUAL_FATAL(ring_new(r, &rg), 0);
	for (unsigned i = 0; i < md.nmem; i++) {
		md.mem[i] = mk(100 + i, weights[i], states[i]);
		CU_ASSERT_EQUAL_FATAL(ring_add(rg, &md.mem[i]), 0);
	}
	model_build(&md);
	CU_ASSERT_EQUAL(md.ntok, (size_t)(21 + 62 + 41 + 103 + 21 + 82 + 41));
	/* Each token exactly, one below and one above (the boundaries of
	 * the successor rule), the ends of the ring, random keys. */
	for (size_t t = 0; t < md.ntok; t++) {
		uint8_t k[RING_KEY_LEN];
		memcpy(k, md.tok[t].pos, RING_KEY_LEN);
		check_key(rg, &md, k, r, &bad);
		for (int i = RING_KEY_LEN - 1; i >= 0 && k[i]++ == 0xff; i--)
			;
		check_key(rg, &md, k, r, &bad);
		memcpy(k, md.tok[t].pos, RING_KEY_LEN);
		for (int i = RING_KEY_LEN - 1; i >= 0 && k[i]-- == 0; i--)
			;
		check_key(rg, &md, k, r, &bad);
	}
	uint8_t k0[RING_KEY_LEN], k1[RING_KEY_LEN];
	memset(k0, 0, sizeof(k0));
	memset(k1, 0xff, sizeof(k1));
	check_key(rg, &md, k0, r, &bad);
	check_key(rg, &md, k1, r, &bad);
	for (int i = 0; i < 20000; i++) {
		uint8_t k[RING_KEY_LEN];
		rand_bytes(&s, k, sizeof(k));
		check_key(rg, &md, k, r, &bad);
	}
	CU_ASSERT_EQUAL(bad, 0);

	/* Wrap-around: past the highest token the lowest one's member is
	 * the primary, and 00..00 and ff..ff have the same owners. */
	uint8_t a[RING_R_MAX][RING_ID_LEN], b[RING_R_MAX][RING_ID_LEN];
	size_t na = 0, nb = 0;
	CU_ASSERT_EQUAL(ring_placement(rg, k0, a, RING_R_MAX, &na), 0);
	CU_ASSERT_EQUAL(ring_placement(rg, k1, b, RING_R_MAX, &nb), 0);
	CU_ASSERT(same_ids(a, na, b, nb));
	unsigned lowest = md.tok[0].m;
	if (md.mem[lowest].state == RING_UP) /* admitted in both views */
		CU_ASSERT(memcmp(b[0], md.mem[lowest].id, RING_ID_LEN) == 0);
	free(md.tok);
	ring_free(rg);
}

/* ---- views, distinct owners, r capped ---- */

static void test_distinct(void)
{
	ring *rg = mk_ring(3, 0, 20);
	uint8_t out[RING_R_MAX][RING_ID_LEN], one[1][RING_ID_LEN];
	uint64_t s = 7;
	size_t n = 0, n1 = 0;
	int bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rg);
	for (int i = 0; i < 20000; i++) {
		uint8_t k[RING_KEY_LEN];
		rand_bytes(&s, k, sizeof(k));
		if (ring_owners(rg, k, out, RING_R_MAX, &n) != 0 || n != 3 ||
		    !memcmp(out[0], out[1], RING_ID_LEN) ||
		    !memcmp(out[0], out[2], RING_ID_LEN) ||
		    !memcmp(out[1], out[2], RING_ID_LEN))
			bad++;
		/* max below r: the first max of them. */
		if (ring_owners(rg, k, one, 1, &n1) != 0 || n1 != 1 ||
		    memcmp(one[0], out[0], RING_ID_LEN) != 0)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	ring_free(rg);
}

static void test_capped_and_views(void)
{
	ring *rg = NULL;
	ring_member m[3];
	uint8_t out[RING_R_MAX][RING_ID_LEN], k[RING_KEY_LEN];
	uint64_t s = 9;
	size_t n = 0;
	double sh;

	CU_ASSERT_EQUAL_FATAL(ring_new(5, &rg), 0);
	memset(k, 0x42, sizeof(k));
	CU_ASSERT_EQUAL(ring_owners(rg, k, out, RING_R_MAX, &n),
	                MAGMA_EUNAVAIL);
	for (unsigned i = 0; i < 3; i++) {
		m[i] = mk(200 + i, 100, RING_UP);
		CU_ASSERT_EQUAL_FATAL(ring_add(rg, &m[i]), 0);
	}
	for (int i = 0; i < 100; i++) {
		rand_bytes(&s, k, sizeof(k));
		CU_ASSERT_EQUAL(ring_owners(rg, k, out, RING_R_MAX, &n), 0);
		CU_ASSERT_EQUAL(n, 3); /* r = 5 capped at 3 members */
	}
	/* Two down: only the third serves, whatever the key. */
	CU_ASSERT_EQUAL(ring_set_state(rg, m[0].id, RING_DOWN), 0);
	CU_ASSERT_EQUAL(ring_set_state(rg, m[1].id, RING_DOWN), 0);
	for (int i = 0; i < 100; i++) {
		rand_bytes(&s, k, sizeof(k));
		CU_ASSERT_EQUAL(ring_owners(rg, k, out, RING_R_MAX, &n), 0);
		CU_ASSERT_EQUAL(n, 1);
		CU_ASSERT(memcmp(out[0], m[2].id, RING_ID_LEN) == 0);
		CU_ASSERT_EQUAL(ring_placement(rg, k, out, RING_R_MAX, &n), 0);
		CU_ASSERT_EQUAL(n, 1);
	}
	CU_ASSERT_EQUAL(ring_share(rg, m[2].id, RING_VIEW_OWNERS, &sh), 0);
	CU_ASSERT_DOUBLE_EQUAL(sh, 1.0, 1e-9);
	CU_ASSERT_EQUAL(ring_share(rg, m[0].id, RING_VIEW_OWNERS, &sh), 0);
	CU_ASSERT_DOUBLE_EQUAL(sh, 0.0, 1e-12);

	/* m0 joining: placement counts it, owners do not; m2 leaving:
	 * owners count it, placement does not. */
	CU_ASSERT_EQUAL(ring_set_state(rg, m[0].id, RING_JOINING), 0);
	CU_ASSERT_EQUAL(ring_set_state(rg, m[2].id, RING_LEAVING), 0);
	for (int i = 0; i < 100; i++) {
		rand_bytes(&s, k, sizeof(k));
		CU_ASSERT_EQUAL(ring_owners(rg, k, out, RING_R_MAX, &n), 0);
		CU_ASSERT(n == 1 && !memcmp(out[0], m[2].id, RING_ID_LEN));
		CU_ASSERT_EQUAL(ring_placement(rg, k, out, RING_R_MAX, &n), 0);
		CU_ASSERT(n == 1 && !memcmp(out[0], m[0].id, RING_ID_LEN));
	}
	CU_ASSERT_EQUAL(ring_share(rg, m[0].id, RING_VIEW_PLACEMENT, &sh), 0);
	CU_ASSERT_DOUBLE_EQUAL(sh, 1.0, 1e-9);
	CU_ASSERT_EQUAL(ring_share(rg, m[0].id, RING_VIEW_OWNERS, &sh), 0);
	CU_ASSERT_DOUBLE_EQUAL(sh, 0.0, 1e-12);

	/* All down: a clean "unavailable". */
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(ring_set_state(rg, m[i].id, RING_DOWN), 0);
	CU_ASSERT_EQUAL(ring_owners(rg, k, out, RING_R_MAX, &n),
	                MAGMA_EUNAVAIL);
	CU_ASSERT_EQUAL(ring_placement(rg, k, out, RING_R_MAX, &n),
	                MAGMA_EUNAVAIL);
	ring_free(rg);
}

/* ---- determinism and the encoding ---- */

static void test_determinism(void)
{
	enum { N = 30 };
	ring *a = NULL, *b = NULL, *c = NULL;
	unsigned order[N];
	uint8_t *ea = NULL, *eb = NULL, *ec = NULL;
	size_t la = 0, lb = 0, lc = 0;
	uint64_t s = 11;
	int bad = 0;

	for (unsigned i = 0; i < N; i++)
		order[i] = i;
	for (unsigned i = N - 1; i > 0; i--) { /* Fisher-Yates */
		unsigned j = (unsigned)(splitmix(&s) % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	CU_ASSERT_EQUAL_FATAL(ring_new(3, &a), 0);
	CU_ASSERT_EQUAL_FATAL(ring_new(3, &b), 0);
	CU_ASSERT_EQUAL_FATAL(ring_new(3, &c), 0);
	for (unsigned i = 0; i < N; i++) {
		ring_member ma = mk(i, 50 + 10 * (i % 7), RING_UP);
		ring_member mb =
		        mk(order[i], 50 + 10 * (order[i] % 7), RING_UP);
		ring_member mc =
		        mk(N - 1 - i, 50 + 10 * ((N - 1 - i) % 7), RING_UP);
		CU_ASSERT_EQUAL_FATAL(ring_add(a, &ma), 0);
		CU_ASSERT_EQUAL_FATAL(ring_add(b, &mb), 0);
		CU_ASSERT_EQUAL_FATAL(ring_add(c, &mc), 0);
	}
	/* c also went through a removal, a re-add and a weight change
	 * and back. */
	ring_member x = mk(3, 50 + 10 * (3 % 7), RING_UP);
	CU_ASSERT_EQUAL(ring_remove(c, x.id), 0);
	CU_ASSERT_EQUAL(ring_add(c, &x), 0);
	CU_ASSERT_EQUAL(ring_set_weight(c, x.id, 200), 0);
	CU_ASSERT_EQUAL(ring_set_weight(c, x.id, x.weight), 0);
	CU_ASSERT_EQUAL(ring_set_epoch(c, N), 0);
	CU_ASSERT_EQUAL(ring_encode(a, &ea, &la), 0);
	CU_ASSERT_EQUAL(ring_encode(b, &eb, &lb), 0);
	CU_ASSERT_EQUAL(ring_encode(c, &ec, &lc), 0);
	CU_ASSERT(la == lb && memcmp(ea, eb, la) == 0);
	CU_ASSERT(la == lc && memcmp(ea, ec, la) == 0);
	for (int i = 0; i < 20000; i++) {
		uint8_t k[RING_KEY_LEN], oa[3][RING_ID_LEN], ob[3][RING_ID_LEN],
		        oc[3][RING_ID_LEN];
		size_t na = 0, nb = 0, nc = 0;
		rand_bytes(&s, k, sizeof(k));
		ring_owners(a, k, oa, 3, &na);
		ring_owners(b, k, ob, 3, &nb);
		ring_owners(c, k, oc, 3, &nc);
		if (na != 3 || !same_ids(oa, na, ob, nb) ||
		    !same_ids(oa, na, oc, nc))
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(ea);
	free(eb);
	free(ec);
	ring_free(a);
	ring_free(b);
	ring_free(c);
}

static ring *mk_mixed(void)
{
	ring *rg = NULL;
	static const int st[] = { RING_UP, RING_DOWN, RING_JOINING,
		                  RING_LEAVING };
	if (ring_new(2, &rg) != 0)
		return NULL;
	for (unsigned i = 0; i < 6; i++) {
		/* small weights: the mutation test decodes it often */
		ring_member m = mk(300 + i, 1 + 2 * i, st[i % 4]);
		if (i == 1)
			snprintf(m.peer, sizeof(m.peer),
			         "[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:1");
		if (i == 2)
			m.nfs[0] = '\0';
		if (ring_add(rg, &m) != 0) {
			ring_free(rg);
			return NULL;
		}
	}
	ring_set_epoch(rg, 0x0123456789abcdefull);
	return rg;
}

static void test_encode_roundtrip(void)
{
	ring *rg = mk_mixed(), *back = NULL, *empty = NULL;
	uint8_t *e = NULL, *e2 = NULL;
	size_t len = 0, len2 = 0, n = 0, n2 = 0;
	uint64_t ep = 0, s = 5;
	unsigned r = 0;
	int bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rg);
	CU_ASSERT_EQUAL_FATAL(ring_encode(rg, &e, &len), 0);
	CU_ASSERT_EQUAL_FATAL(ring_decode(e, len, &back), 0);
	CU_ASSERT_EQUAL(ring_encode(back, &e2, &len2), 0);
	CU_ASSERT(len == len2 && memcmp(e, e2, len) == 0);
	CU_ASSERT_EQUAL(ring_epoch(back, &ep), 0);
	CU_ASSERT_EQUAL(ep, 0x0123456789abcdefull);
	CU_ASSERT_EQUAL(ring_redundancy(back, &r), 0);
	CU_ASSERT_EQUAL(r, 2);
	CU_ASSERT_EQUAL(ring_count(rg, &n), 0);
	CU_ASSERT_EQUAL(ring_count(back, &n2), 0);
	CU_ASSERT_EQUAL(n, n2);
	for (size_t i = 0; i < n && i < n2; i++) {
		ring_member a, b;
		ring_member_at(rg, i, &a);
		ring_member_at(back, i, &b);
		CU_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
	}
	for (int i = 0; i < 5000; i++) {
		uint8_t k[RING_KEY_LEN], oa[2][RING_ID_LEN], ob[2][RING_ID_LEN];
		size_t na = 0, nb = 0;
		rand_bytes(&s, k, sizeof(k));
		for (int v = 0; v < 2; v++) {
			if (v == 0) {
				ring_owners(rg, k, oa, 2, &na);
				ring_owners(back, k, ob, 2, &nb);
			} else {
				ring_placement(rg, k, oa, 2, &na);
				ring_placement(back, k, ob, 2, &nb);
			}
			if (na != 2 || !same_ids(oa, na, ob, nb))
				bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* ring_dup is the same table. */
	ring *d = NULL;
	CU_ASSERT_EQUAL_FATAL(ring_dup(rg, &d), 0);
	free(e2);
	e2 = NULL;
	CU_ASSERT_EQUAL(ring_encode(d, &e2, &len2), 0);
	CU_ASSERT(len == len2 && memcmp(e, e2, len) == 0);
	ring_free(d);

	/* The empty table. */
	free(e);
	e = NULL;
	CU_ASSERT_EQUAL_FATAL(ring_new(1, &empty), 0);
	CU_ASSERT_EQUAL(ring_encode(empty, &e, &len), 0);
	CU_ASSERT_EQUAL(len, 20);
	ring_free(back);
	back = NULL;
	CU_ASSERT_EQUAL(ring_decode(e, len, &back), 0);
	CU_ASSERT_EQUAL(ring_count(back, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	free(e);
	free(e2);
	ring_free(back);
	ring_free(empty);
	ring_free(rg);
}

static int decode_rc(const uint8_t *b, size_t len)
{
	ring *rg = NULL;
	int rc = ring_decode(b, len, &rg);
	ring_free(rg);
	return rc;
}

static void test_decode_hostile(void)
{
	ring *rg = mk_mixed();
	uint8_t *e = NULL, *b;
	size_t len = 0;
	uint64_t s = 13;
	int bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rg);
	CU_ASSERT_EQUAL_FATAL(ring_encode(rg, &e, &len), 0);
	b = malloc(len + 600);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);

	/* Every truncation, and every extension by one byte. */
	for (size_t l = 0; l < len; l++) {
		/* An exact-size copy, so ASan sees any read past the end. */
		uint8_t *t = malloc(l ? l : 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		memcpy(t, e, l);
		if (decode_rc(t, l) != MAGMA_EGARBAGE)
			bad++;
		free(t);
	}
	memcpy(b, e, len);
	for (int v = 0; v < 256; v += 51) {
		b[len] = (uint8_t)v;
		if (decode_rc(b, len + 1) != MAGMA_EGARBAGE)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);

	/* Random garbage at every length up to 600: refused; and after a
	 * valid header too (the member parser sees garbage). */
	for (size_t l = 0; l < 600; l++) {
		rand_bytes(&s, b, l);
		if (decode_rc(b, l) != MAGMA_EGARBAGE)
			bad++;
		if (l >= 20) {
			memcpy(b, e, 16);
			b[16] = b[17] = 0;
			int rc = decode_rc(b, l);
			if (rc != MAGMA_EGARBAGE && rc != 0)
				bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);

	/* Every byte with each bit flipped, zeroed, or set to 0xff: never a
	 * crash, and never anything but success or MAGMA_EGARBAGE. */
	for (size_t i = 0; i < len; i++)
		for (int v = 0; v < 10; v++) {
			memcpy(b, e, len);
			b[i] = v < 8    ? (uint8_t)(e[i] ^ (1u << v))
			       : v == 8 ? 0
			                : 0xff;
			int rc = decode_rc(b, len);
			if (rc != 0 && rc != MAGMA_EGARBAGE)
				bad++;
		}
	CU_ASSERT_EQUAL(bad, 0);

	/* Specific faults, each in the otherwise valid encoding. */
	size_t m0 = 20, m1 = m0 + 16 + 1 + 4; /* first member: state, weight */
	struct {
		size_t at;
		uint8_t v;
	} faults[] = {
		{ 0, 'X' }, /* magic */
		{ 4, 2 },   /* version */
		{ 5, 0 },   /* r */
		{ 5, RING_R_MAX + 1 },
		{ 6, 1 }, /* reserved */
		{ 7, 1 },
		{ 16, 0x80 },   /* count: huge */
		{ 19, 7 },      /* count: one more than there is */
		{ 19, 5 },      /* count: one less (trailing bytes) */
		{ m0 + 16, 0 }, /* state */
		{ m0 + 16, 5 },
		{ m1 - 4, 0xff }, /* weight over the maximum */
		{ m1, 64 },       /* peer length >= RING_ADDR_MAX */
		{ m1, 0 },        /* empty peer */
		{ m1 + 1, 0 },    /* NUL inside the peer address */
		{ m1 + 1, 'a' },  /* not an address */
	};
	for (size_t f = 0; f < sizeof(faults) / sizeof(faults[0]); f++) {
		memcpy(b, e, len);
		b[faults[f].at] = faults[f].v;
		int rc = decode_rc(b, len);
		CU_ASSERT_EQUAL(rc, MAGMA_EGARBAGE);
		if (rc != MAGMA_EGARBAGE)
			fprintf(stderr, "\n  fault %zu accepted (%d)\n", f, rc);
	}
	/* Weight 0 (four bytes). */
	memcpy(b, e, len);
	memset(b + m1 - 4, 0, 4);
	CU_ASSERT_EQUAL(decode_rc(b, len), MAGMA_EGARBAGE);
	/* Members out of order or repeated: swap the first two ids, copy
	 * the first id into the second. */
	size_t m2 = m1 + 1 + e[m1] + 1 + e[m1 + 1 + e[m1]];
	memcpy(b, e, len);
	memcpy(b + m0, e + m2, 16);
	memcpy(b + m2, e + m0, 16);
	CU_ASSERT_EQUAL(decode_rc(b, len), MAGMA_EGARBAGE);
	memcpy(b, e, len);
	memcpy(b + m2, e + m0, 16);
	CU_ASSERT_EQUAL(decode_rc(b, len), MAGMA_EGARBAGE);
	free(b);

	/* More tokens than RING_TOKENS_MAX: members of weight max. */
	{
		size_t n = RING_TOKENS_MAX / 131072 + 1, o = 20;
		size_t blen = 20 + n * (16 + 1 + 4 + 1 + 12 + 1);
		uint8_t *big = calloc(1, blen);
		CU_ASSERT_PTR_NOT_NULL_FATAL(big);
		memcpy(big, e, 16);
		big[16] = (uint8_t)(n >> 24);
		big[17] = (uint8_t)(n >> 16);
		big[18] = (uint8_t)(n >> 8);
		big[19] = (uint8_t)n;
		for (size_t i = 0; i < n; i++) {
			big[o + 14] = (uint8_t)(i >> 8); /* ascending ids */
			big[o + 15] = (uint8_t)i;
			o += 16;
			big[o++] = RING_UP;
			big[o++] = 0;
			big[o++] = 0;
			big[o++] = RING_WEIGHT_MAX >> 8;
			big[o++] = RING_WEIGHT_MAX & 255;
			big[o++] = 12;
			memcpy(big + o, "10.0.0.1:700", 12);
			o += 12;
			big[o++] = 0;
		}
		CU_ASSERT_EQUAL(o, blen);
		CU_ASSERT_EQUAL(decode_rc(big, blen), MAGMA_EGARBAGE);
		/* (n - 1 of them would fit: not decoded here, it would hash
		 * 4M tokens.)  The same members at weight 1 decode. */
		for (size_t i = 0, p = 20 + 16 + 1; i < n; i++) {
			big[p + 2] = 0;
			big[p + 3] = 1;
			p += 16 + 1 + 4 + 1 + 12 + 1;
		}
		CU_ASSERT_EQUAL(decode_rc(big, blen), 0);
		free(big);
	}
	free(e);
	ring_free(rg);
}

/* ---- the DESIGN targets ---- */

static void test_balance(void)
{
	enum { N = 100, KEYS = 1000000 };
	ring *rg = mk_ring(2, 1000, N);
	uint8_t ids[N][RING_ID_LEN];
	unsigned *cnt = calloc(N, sizeof(*cnt));
	double sum = 0, max = 0, smax = 0;
	uint64_t s = 17;
	int bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cnt);
	for (unsigned i = 0; i < N; i++) {
		ring_member m;
		CU_ASSERT_EQUAL_FATAL(ring_member_at(rg, i, &m), 0);
		memcpy(ids[i], m.id, RING_ID_LEN);
		double sh = 0;
		CU_ASSERT_EQUAL(ring_share(rg, m.id, RING_VIEW_OWNERS, &sh), 0);
		sum += sh;
		if (sh > max)
			max = sh;
	}
	CU_ASSERT_DOUBLE_EQUAL(sum, 1.0, 1e-9);
	double exact = max / (sum / N);
	CU_ASSERT(exact <= 1.10);

	for (unsigned i = 0; i < KEYS; i++) {
		uint8_t k[RING_KEY_LEN], o[1][RING_ID_LEN];
		size_t n = 0;
		rand_bytes(&s, k, sizeof(k));
		if (ring_owners(rg, k, o, 1, &n) != 0 || n != 1) {
			bad++;
			continue;
		}
		uint8_t(*p)[RING_ID_LEN] =
		        bsearch(o[0], ids, N, RING_ID_LEN, cmp_id);
		if (!p) {
			bad++;
			continue;
		}
		cnt[p - ids]++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	for (unsigned i = 0; i < N; i++)
		if (cnt[i] > smax)
			smax = cnt[i];
	double sampled = smax / ((double)KEYS / N);
	CU_ASSERT(sampled <= 1.10);
	LOG_I("100 members x %d tokens: max/mean exact %.4f, 1M keys %.4f",
	      RING_TOKENS_PER_100, exact, sampled);
	if (exact > 1.10 || sampled > 1.10)
		fprintf(stderr, "\n  max/mean exact %.4f sampled %.4f\n", exact,
		        sampled);
	free(cnt);
	ring_free(rg);
}

static void test_weight(void)
{
	enum { N = 20 };
	ring *rg = mk_ring(2, 2000, N), *fresh = NULL;
	ring_member big = mk(2000 + N, 200, RING_UP);
	double sbig = 0, sum = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rg);
	CU_ASSERT_EQUAL_FATAL(ring_add(rg, &big), 0);
	for (unsigned i = 0; i <= N; i++) {
		ring_member m;
		double sh = 0;
		ring_member_at(rg, i, &m);
		CU_ASSERT_EQUAL(ring_share(rg, m.id, RING_VIEW_OWNERS, &sh), 0);
		if (memcmp(m.id, big.id, RING_ID_LEN) == 0)
			sbig = sh;
		else
			sum += sh;
	}
	double ratio = sbig / (sum / N);
	LOG_I("weight 200 vs 100: share ratio %.3f", ratio);
	CU_ASSERT(ratio > 1.8 && ratio < 2.2);

	/* ring_set_weight equals building with that weight. */
	CU_ASSERT_EQUAL(ring_set_weight(rg, big.id, 100), 0);
	fresh = mk_ring(2, 2000, N + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fresh);
	uint8_t *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;
	uint64_t s = 3;
	int bad = 0;
	ring_set_epoch(rg, 0);
	ring_set_epoch(fresh, 0);
	CU_ASSERT_EQUAL(ring_encode(rg, &a, &la), 0);
	CU_ASSERT_EQUAL(ring_encode(fresh, &b, &lb), 0);
	CU_ASSERT(la == lb && memcmp(a, b, la) == 0);
	for (int i = 0; i < 20000; i++) {
		uint8_t k[RING_KEY_LEN], oa[2][RING_ID_LEN], ob[2][RING_ID_LEN];
		size_t na = 0, nb = 0;
		rand_bytes(&s, k, sizeof(k));
		ring_owners(rg, k, oa, 2, &na);
		ring_owners(fresh, k, ob, 2, &nb);
		if (!same_ids(oa, na, ob, nb))
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(a);
	free(b);
	ring_free(fresh);
	ring_free(rg);
}

#define MOVE_KEYS 200000
#define MOVE_TOL 0.15 /* relative; ~4 standard deviations at N = 100 */

static int near(double got, double want)
{
	return got > want * (1 - MOVE_TOL) && got < want * (1 + MOVE_TOL);
}

/* Join member N of a ring of N, then have member 0 leave it. */
static void movement(unsigned N)
{
	const unsigned r = 2;
	ring *a = mk_ring(r, 5000, N), *b = NULL, *j = NULL, *l = NULL;
	ring_member nm = mk(5000 + N, 100, RING_JOINING), lm = mk(5000, 100, 0);
	size_t jset = 0, jprim = 0, lset = 0, lprim = 0;
	int bad = 0;
	uint64_t s = 1000 + N;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	/* j: the newcomer joining; b: it is up; l: member 0 leaving b. */
	CU_ASSERT_EQUAL_FATAL(ring_dup(a, &j), 0);
	CU_ASSERT_EQUAL_FATAL(ring_add(j, &nm), 0);
	CU_ASSERT_EQUAL_FATAL(ring_dup(j, &b), 0);
	CU_ASSERT_EQUAL_FATAL(ring_set_state(b, nm.id, RING_UP), 0);
	CU_ASSERT_EQUAL_FATAL(ring_dup(b, &l), 0);
	CU_ASSERT_EQUAL_FATAL(ring_set_state(l, lm.id, RING_LEAVING), 0);
	for (unsigned i = 0; i < MOVE_KEYS; i++) {
		uint8_t k[RING_KEY_LEN], oa[2][RING_ID_LEN], oj[2][RING_ID_LEN],
		        pj[2][RING_ID_LEN], ob[2][RING_ID_LEN],
		        ol[2][RING_ID_LEN], pl[2][RING_ID_LEN];
		size_t na = 0, noj = 0, npj = 0, nb = 0, nol = 0, npl = 0;
		rand_bytes(&s, k, sizeof(k));
		ring_owners(a, k, oa, r, &na);
		ring_owners(j, k, oj, r, &noj);
		ring_placement(j, k, pj, r, &npj);
		ring_owners(b, k, ob, r, &nb);
		ring_owners(l, k, ol, r, &nol);
		ring_placement(l, k, pl, r, &npl);
		/* A joining member serves nothing yet; its placement is
		 * what serving becomes once it is up. */
		if (!same_ids(oa, na, oj, noj) || !same_ids(pj, npj, ob, nb))
			bad++;
		/* Consistent hashing: what changes, changes to the
		 * newcomer (and from the leaver). */
		if (!set_equal(oa, na, ob, nb)) {
			jset++;
			if (!has_id(ob, nb, nm.id))
				bad++;
		}
		if (memcmp(oa[0], ob[0], RING_ID_LEN) != 0) {
			jprim++;
			if (memcmp(ob[0], nm.id, RING_ID_LEN) != 0)
				bad++;
		}
		/* A leaving member still serves; placement moves off it. */
		if (!same_ids(ob, nb, ol, nol) || has_id(pl, npl, lm.id))
			bad++;
		if (!set_equal(ob, nb, pl, npl)) {
			lset++;
			if (!has_id(ob, nb, lm.id))
				bad++;
		}
		if (memcmp(ob[0], pl[0], RING_ID_LEN) != 0) {
			lprim++;
			if (memcmp(ob[0], lm.id, RING_ID_LEN) != 0)
				bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	double want_set = (double)r / (N + 1), want_prim = 1.0 / (N + 1);
	double fj = (double)jset / MOVE_KEYS, fjp = (double)jprim / MOVE_KEYS;
	double fl = (double)lset / MOVE_KEYS, flp = (double)lprim / MOVE_KEYS;
	LOG_I("N=%u join: owner sets %.4f (r/(N+1) %.4f), primaries %.4f "
	      "(1/(N+1) %.4f); leave: %.4f, %.4f",
	      N, fj, want_set, fjp, want_prim, fl, flp);
	CU_ASSERT(near(fj, want_set));
	CU_ASSERT(near(fjp, want_prim));
	CU_ASSERT(near(fl, want_set));
	CU_ASSERT(near(flp, want_prim));
	if (!near(fj, want_set) || !near(fjp, want_prim) ||
	    !near(fl, want_set) || !near(flp, want_prim))
		fprintf(stderr,
		        "\n  N=%u moved: join %.4f %.4f leave %.4f %.4f\n", N,
		        fj, fjp, fl, flp);

	/* After the hand-off the leaver is removed: serving is what the
	 * placement said. */
	ring *gone = NULL;
	CU_ASSERT_EQUAL_FATAL(ring_dup(l, &gone), 0);
	CU_ASSERT_EQUAL(ring_remove(gone, lm.id), 0);
	for (int i = 0; i < 5000; i++) {
		uint8_t k[RING_KEY_LEN], o1[2][RING_ID_LEN], o2[2][RING_ID_LEN];
		size_t n1 = 0, n2 = 0;
		rand_bytes(&s, k, sizeof(k));
		ring_placement(l, k, o1, r, &n1);
		ring_owners(gone, k, o2, r, &n2);
		if (n2 != r || !same_ids(o1, n1, o2, n2))
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	ring_free(gone);
	ring_free(a);
	ring_free(b);
	ring_free(j);
	ring_free(l);
}

static void test_movement(void)
{
	movement(10);
	movement(50);
	movement(100);
}

/* ---- arcs (repair) ---- */

typedef struct arcs_acc {
	uint8_t lo[4096][RING_KEY_LEN], hi[4096][RING_KEY_LEN];
	uint8_t own[4096][RING_R_MAX][RING_ID_LEN];
	size_t nown[4096];
	size_t n;
} arcs_acc;

static int arcs_keep(void *arg, const uint8_t lo[RING_KEY_LEN],
                     const uint8_t hi[RING_KEY_LEN],
                     const uint8_t owners[][RING_ID_LEN], size_t n)
{
	arcs_acc *a = arg;

	if (a->n == 4096)
		return 7;
	memcpy(a->lo[a->n], lo, RING_KEY_LEN);
	memcpy(a->hi[a->n], hi, RING_KEY_LEN);
	memcpy(a->own[a->n], owners, n * RING_ID_LEN);
	a->nown[a->n] = n;
	a->n++;
	return 0;
}

/* k in (lo, hi] on the ring; lo == hi is the whole ring. */
static int in_arc(const uint8_t *k, const uint8_t *lo, const uint8_t *hi)
{
	int c = memcmp(lo, hi, RING_KEY_LEN);

	if (c == 0)
		return 1;
	if (c < 0)
		return memcmp(k, lo, RING_KEY_LEN) > 0 &&
		       memcmp(k, hi, RING_KEY_LEN) <= 0;
	return memcmp(k, lo, RING_KEY_LEN) > 0 ||
	       memcmp(k, hi, RING_KEY_LEN) <= 0;
}

/* A key lies in one of a member's arcs exactly when the member is among
 * its owners (placement view), and the arc's owner set is the key's. */
static void test_arcs(void)
{
	static arcs_acc acc;
	uint8_t key[RING_KEY_LEN], own[RING_R_MAX][RING_ID_LEN];
	uint8_t one[RING_KEY_LEN] = { 0 }, max[RING_KEY_LEN];
	ring_member m = mk(3, 100, RING_JOINING), d = mk(4, 100, RING_DOWN);
	ring *rg = mk_ring(2, 0, 3);
	uint64_t s = 99;
	size_t n, total = 0;

	CU_ASSERT_FATAL(rg != NULL);
	CU_ASSERT_EQUAL(ring_add(rg, &m), 0);
	CU_ASSERT_EQUAL(ring_add(rg, &d), 0);
	for (unsigned who = 0; who < 5; who++) {
		ring_member w = mk(who, 100, RING_UP);
		acc.n = 0;
		CU_ASSERT_EQUAL(ring_arcs(rg, w.id, RING_VIEW_PLACEMENT,
		                          arcs_keep, &acc),
		                0);
		if (who == 4) { /* down: owns nothing in placement */
			CU_ASSERT_EQUAL(acc.n, 0);
			continue;
		}
		CU_ASSERT(acc.n > 10);
		total += acc.n;
		for (int t = 0; t < 3000; t++) {
			size_t hit = SIZE_MAX;
			rand_bytes(&s, key, RING_KEY_LEN);
			CU_ASSERT_EQUAL(
			        ring_placement(rg, key, own, RING_R_MAX, &n),
			        0);
			for (size_t i = 0; i < acc.n; i++)
				if (in_arc(key, acc.lo[i], acc.hi[i])) {
					CU_ASSERT(hit ==
					          SIZE_MAX); /* disjoint */
					hit = i;
				}
			CU_ASSERT_EQUAL(hit != SIZE_MAX, has_id(own, n, w.id));
			if (hit != SIZE_MAX)
				CU_ASSERT(set_equal(acc.own[hit], acc.nown[hit],
				                    own, n));
		}
	}
	CU_ASSERT(total > 0);
	/* Stopping early returns the callback's value. */
	acc.n = 4096;
	CU_ASSERT_EQUAL(
	        ring_arcs(rg, m.id, RING_VIEW_PLACEMENT, arcs_keep, &acc), 7);
	/* One member: the whole ring, lo == hi. */
	ring_free(rg);
	rg = mk_ring(2, 0, 1);
	m = mk(0, 100, RING_UP);
	acc.n = 0;
	CU_ASSERT_EQUAL(ring_arcs(rg, m.id, RING_VIEW_OWNERS, arcs_keep, &acc),
	                0);
	CU_ASSERT_EQUAL(acc.n, 1);
	CU_ASSERT(memcmp(acc.lo[0], acc.hi[0], RING_KEY_LEN) == 0);
	/* Absent member, bad arguments. */
	d = mk(77, 100, RING_UP);
	acc.n = 0;
	CU_ASSERT_EQUAL(ring_arcs(rg, d.id, RING_VIEW_OWNERS, arcs_keep, &acc),
	                0);
	CU_ASSERT_EQUAL(acc.n, 0);
	CU_ASSERT_EQUAL(ring_arcs(rg, NULL, 0, arcs_keep, &acc), MAGMA_EINVAL);
	ring_free(rg);
	/* Key arithmetic wraps. */
	memset(max, 0xff, sizeof(max));
	ring_key_inc(max);
	CU_ASSERT(memcmp(max, one, RING_KEY_LEN) == 0);
	ring_key_dec(max);
	memset(one, 0xff, sizeof(one));
	CU_ASSERT(memcmp(max, one, RING_KEY_LEN) == 0);
	one[19] = 0xfe;
	ring_key_dec(max);
	CU_ASSERT(memcmp(max, one, RING_KEY_LEN) == 0);
}

static CU_TestInfo ring_tests[] = {
	{ "arguments, errors, epoch, iteration", test_args },
	{ "owners match a brute-force model, wrap-around", test_model },
	{ "owners distinct; max below r", test_distinct },
	{ "r capped at admitted members; the two views",
	  test_capped_and_views },
	{ "same members in any order, same owners", test_determinism },
	{ "encode/decode round trip", test_encode_roundtrip },
	{ "hostile encodings refused", test_decode_hostile },
	{ "max/mean load <= 1.10 over 100 members", test_balance },
	{ "weight 200 gets twice the share", test_weight },
	{ "join/leave moves ~r/(N+1) of the keys", test_movement },
	{ "arcs of a member match its keys (repair)", test_arcs },
	CU_TEST_INFO_NULL,
};

int unit_suite_ring(void)
{
	CU_SuiteInfo suites[] = {
		{ "ring", NULL, NULL, NULL, NULL, ring_tests },
		CU_SUITE_INFO_NULL,
	};
	return CU_register_suites(suites);
}
