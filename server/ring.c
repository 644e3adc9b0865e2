/* ring.c - the routing table: members, virtual tokens, owners of a key,
 * and the table's binary encoding (contract and choices in ring.h).
 *
 * The tokens of all members sit in one array sorted by (position,
 * member index), members in one array sorted by id, so a lookup is a
 * binary search and the result cannot depend on insertion order.  A
 * change merges or filters the token array in O(tokens) instead of
 * rehashing everything.
 *
 * Encoding, version 1, integers big-endian:
 *   0   4  magic "MGRT"
 *   4   1  version (1): also fixes the token rule (SHA1, 2048 per 100)
 *   5   1  r, 1..RING_R_MAX
 *   6   2  reserved, 0
 *   8   8  epoch
 *   16  4  member count, 0..RING_MEMBERS_MAX
 *   20     members in strictly ascending id order, each:
 *          id (16), state (1), weight (4), peer length (1) and bytes,
 *          nfs length (1) and bytes (no NUL; lengths < RING_ADDR_MAX)
 * and nothing after the last member.  Only one encoding per table. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "merr.h"
#include "mlog.h"
#include "ring.h"

#define RING_MAGIC "MGRT"
#define RING_VERSION 1
#define RING_HDR_LEN 20
#define RING_MEMBER_MIN (RING_ID_LEN + 1 + 4 + 1 + 1)

struct ring_tok {
	uint8_t pos[RING_KEY_LEN];
	uint32_t member; /* index into ring.mem */
};

struct ring {
	unsigned r;
	uint64_t epoch;
	ring_member *mem; /* sorted by id */
	size_t nmem;
	struct ring_tok *tok; /* sorted by (pos, member) */
	size_t ntok;
};

/* Which states each view admits (bit 1 << state). */
static unsigned view_mask(int view)
{
	if (view == RING_VIEW_PLACEMENT)
		return 1u << RING_UP | 1u << RING_JOINING;
	return 1u << RING_UP | 1u << RING_LEAVING;
}

static int state_valid(int s)
{
	return s >= RING_UP && s <= RING_LEAVING;
}

const char *ring_state_name(int state)
{
	switch (state) {
	case RING_UP: return "up";
	case RING_DOWN: return "down";
	case RING_JOINING: return "joining";
	case RING_LEAVING: return "leaving";
	}
	return "?";
}

static size_t tokens_for(uint32_t weight)
{
	return ((size_t)weight * RING_TOKENS_PER_100 + 99) / 100;
}

/* "a.b.c.d:port" or "[v6]:port", port 1..65535 without leading zeros. */
static int addr_valid(const char *s, int allow_empty)
{
	size_t len = strnlen(s, RING_ADDR_MAX), hlen;
	const char *colon, *p;
	char host[RING_ADDR_MAX];
	unsigned char bin[16];
	unsigned long port = 0;

	if (len == RING_ADDR_MAX)
		return 0;
	if (len == 0)
		return allow_empty;
	colon = strrchr(s, ':');
	if (!colon || colon[1] == '0' || strlen(colon + 1) > 5)
		return 0;
	for (p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port < 1 || port > 65535)
		return 0;
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		memcpy(host, s + 1, hlen - 2);
		host[hlen - 2] = '\0';
		return inet_pton(AF_INET6, host, bin) == 1;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	return inet_pton(AF_INET, host, bin) == 1;
}

static int member_valid(const ring_member *m)
{
	return state_valid(m->state) && m->weight >= 1 &&
	       m->weight <= RING_WEIGHT_MAX && addr_valid(m->peer, 0) &&
	       addr_valid(m->nfs, 1);
}

/* Index of id in rg->mem, or -(insertion point) - 1. */
static long mem_find(const ring *rg, const uint8_t id[RING_ID_LEN])
{
	size_t lo = 0, hi = rg->nmem;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(rg->mem[mid].id, id, RING_ID_LEN);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

static int tok_cmp(const void *a, const void *b)
{
	const struct ring_tok *x = a, *y = b;
	int c = memcmp(x->pos, y->pos, RING_KEY_LEN);

	if (c)
		return c;
	return (x->member > y->member) - (x->member < y->member);
}

/* The tokens of id with weight, tagged member idx, into out (unsorted). */
static int tok_gen(const uint8_t id[RING_ID_LEN], uint32_t weight, uint32_t idx,
                   struct ring_tok *out)
{
	uint8_t in[RING_ID_LEN + 4];
	size_t n = tokens_for(weight);

	memcpy(in, id, RING_ID_LEN);
	for (size_t i = 0; i < n; i++) {
		in[RING_ID_LEN] = (uint8_t)(i >> 24);
		in[RING_ID_LEN + 1] = (uint8_t)(i >> 16);
		in[RING_ID_LEN + 2] = (uint8_t)(i >> 8);
		in[RING_ID_LEN + 3] = (uint8_t)i;
		if (gnutls_hash_fast(GNUTLS_DIG_SHA1, in, sizeof(in),
		                     out[i].pos) < 0) {
			LOG_E("SHA1 failed");
			return MAGMA_ECRYPTO;
		}
		out[i].member = idx;
	}
	return 0;
}

/* Merge the k sorted tokens add into rg->tok. */
static int tok_merge(ring *rg, const struct ring_tok *add, size_t k)
{
	struct ring_tok *t = malloc((rg->ntok + k) * sizeof(*t));
	size_t i = 0, j = 0, o = 0;

	if (!t)
		return MAGMA_ENOMEM;
	while (i < rg->ntok && j < k)
		t[o++] = tok_cmp(&rg->tok[i], &add[j]) <= 0 ? rg->tok[i++]
		                                            : add[j++];
	while (i < rg->ntok)
		t[o++] = rg->tok[i++];
	while (j < k)
		t[o++] = add[j++];
	free(rg->tok);
	rg->tok = t;
	rg->ntok = o;
	return 0;
}

/* Drop member idx's tokens and renumber the members above it, for the
 * removal of member idx. */
static void tok_drop(ring *rg, uint32_t idx)
{
	size_t o = 0;

	for (size_t i = 0; i < rg->ntok; i++) {
		struct ring_tok t = rg->tok[i];
		if (t.member == idx)
			continue;
		if (t.member > idx)
			t.member--;
		rg->tok[o++] = t;
	}
	rg->ntok = o;
}

/* Sorted tokens of one member, malloc'd into *out. */
static int tok_sorted(const ring_member *m, uint32_t idx, struct ring_tok **out,
                      size_t *k)
{
	size_t n = tokens_for(m->weight);
	struct ring_tok *t = malloc(n * sizeof(*t));
	int rc;

	if (!t)
		return MAGMA_ENOMEM;
	rc = tok_gen(m->id, m->weight, idx, t);
	if (rc) {
		free(t);
		return rc;
	}
	qsort(t, n, sizeof(*t), tok_cmp);
	*out = t;
	*k = n;
	return 0;
}

int ring_new(unsigned r, ring **out)
{
	ring *rg;

	if (r < 1 || r > RING_R_MAX)
		return MAGMA_EINVAL;
	rg = calloc(1, sizeof(*rg));
	if (!rg)
		return MAGMA_ENOMEM;
	rg->r = r;
	*out = rg;
	return 0;
}

void ring_free(ring *rg)
{
	if (!rg)
		return;
	free(rg->mem);
	free(rg->tok);
	free(rg);
}

int ring_dup(const ring *src, ring **out)
{
	ring *rg = calloc(1, sizeof(*rg));
	int rc = MAGMA_ENOMEM;

	if (!rg)
		return MAGMA_ENOMEM;
	rg->r = src->r;
	rg->epoch = src->epoch;
	rg->mem = malloc((src->nmem ? src->nmem : 1) * sizeof(*rg->mem));
	rg->tok = malloc((src->ntok ? src->ntok : 1) * sizeof(*rg->tok));
	if (!rg->mem || !rg->tok)
		goto out;
	memcpy(rg->mem, src->mem, src->nmem * sizeof(*rg->mem));
	memcpy(rg->tok, src->tok, src->ntok * sizeof(*rg->tok));
	rg->nmem = src->nmem;
	rg->ntok = src->ntok;
	*out = rg;
	rg = NULL;
	rc = 0;
out:
	ring_free(rg);
	return rc;
}

int ring_add(ring *rg, const ring_member *in)
{
	ring_member m = *in, *mem;
	struct ring_tok *add = NULL;
	size_t k = 0, pos;
	long at;
	int rc;

	if (m.weight == 0)
		m.weight = RING_WEIGHT_DEFAULT;
	if (!member_valid(&m))
		return MAGMA_EINVAL;
	/* Normalize the unused tails so that copies compare and encode
	 * the same however the caller filled them. */
	memset(m.peer, 0, sizeof(m.peer));
	memset(m.nfs, 0, sizeof(m.nfs));
	memcpy(m.peer, in->peer, strlen(in->peer));
	memcpy(m.nfs, in->nfs, strlen(in->nfs));
	at = mem_find(rg, m.id);
	if (at >= 0)
		return MAGMA_EEXIST;
	if (rg->nmem >= RING_MEMBERS_MAX ||
	    rg->ntok + tokens_for(m.weight) > RING_TOKENS_MAX)
		return MAGMA_ERANGE;
	pos = (size_t)(-at - 1);
	rc = tok_sorted(&m, (uint32_t)pos, &add, &k);
	if (rc)
		goto out;
	mem = realloc(rg->mem, (rg->nmem + 1) * sizeof(*mem));
	if (!mem) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	rg->mem = mem;
	/* Make room for the new index pos first (the merge can fail only
	 * before it changes anything; undo the shift then). */
	for (size_t i = 0; i < rg->ntok; i++)
		if (rg->tok[i].member >= pos)
			rg->tok[i].member++;
	rc = tok_merge(rg, add, k);
	if (rc) {
		for (size_t i = 0; i < rg->ntok; i++)
			if (rg->tok[i].member > pos)
				rg->tok[i].member--;
		goto out;
	}
	memmove(&rg->mem[pos + 1], &rg->mem[pos],
	        (rg->nmem - pos) * sizeof(*mem));
	rg->mem[pos] = m;
	rg->nmem++;
	rg->epoch++;
out:
	free(add);
	return rc;
}

int ring_remove(ring *rg, const uint8_t id[RING_ID_LEN])
{
	long at = mem_find(rg, id);

	if (at < 0)
		return MAGMA_ENOENT;
	tok_drop(rg, (uint32_t)at);
	memmove(&rg->mem[at], &rg->mem[at + 1],
	        (rg->nmem - (size_t)at - 1) * sizeof(*rg->mem));
	rg->nmem--;
	rg->epoch++;
	return 0;
}

int ring_set_state(ring *rg, const uint8_t id[RING_ID_LEN], int state)
{
	long at = mem_find(rg, id);

	if (!state_valid(state))
		return MAGMA_EINVAL;
	if (at < 0)
		return MAGMA_ENOENT;
	if (rg->mem[at].state != state) {
		rg->mem[at].state = state;
		rg->epoch++;
	}
	return 0;
}

int ring_set_weight(ring *rg, const uint8_t id[RING_ID_LEN], uint32_t weight)
{
	long at = mem_find(rg, id);
	ring_member m;
	struct ring_tok *add = NULL;
	size_t k = 0, old;
	int rc;

	if (weight == 0)
		weight = RING_WEIGHT_DEFAULT;
	if (weight > RING_WEIGHT_MAX)
		return MAGMA_EINVAL;
	if (at < 0)
		return MAGMA_ENOENT;
	m = rg->mem[at];
	if (m.weight == weight)
		return 0;
	old = tokens_for(m.weight);
	if (rg->ntok - old + tokens_for(weight) > RING_TOKENS_MAX)
		return MAGMA_ERANGE;
	m.weight = weight;
	rc = tok_sorted(&m, (uint32_t)at, &add, &k);
	if (rc)
		goto out;
	/* Merge before dropping so a failed allocation changes nothing:
	 * the old tokens are told apart by being dropped by position. */
	{
		struct ring_tok *keep =
		        malloc((rg->ntok - old + k) * sizeof(*keep));
		size_t o = 0, i = 0, j = 0;
		if (!keep) {
			rc = MAGMA_ENOMEM;
			goto out;
		}
		while (i < rg->ntok || j < k) {
			if (i < rg->ntok && rg->tok[i].member == (uint32_t)at) {
				i++;
				continue;
			}
			if (j == k || (i < rg->ntok &&
			               tok_cmp(&rg->tok[i], &add[j]) <= 0))
				keep[o++] = rg->tok[i++];
			else
				keep[o++] = add[j++];
		}
		free(rg->tok);
		rg->tok = keep;
		rg->ntok = o;
	}
	rg->mem[at].weight = weight;
	rg->epoch++;
out:
	free(add);
	return rc;
}

int ring_epoch(const ring *rg, uint64_t *epoch)
{
	*epoch = rg->epoch;
	return 0;
}

int ring_set_epoch(ring *rg, uint64_t epoch)
{
	rg->epoch = epoch;
	return 0;
}

int ring_redundancy(const ring *rg, unsigned *r)
{
	*r = rg->r;
	return 0;
}

int ring_count(const ring *rg, size_t *count)
{
	*count = rg->nmem;
	return 0;
}

int ring_member_at(const ring *rg, size_t i, ring_member *m)
{
	if (i >= rg->nmem)
		return MAGMA_ERANGE;
	*m = rg->mem[i];
	return 0;
}

int ring_member_find(const ring *rg, const uint8_t id[RING_ID_LEN],
                     ring_member *m)
{
	long at = mem_find(rg, id);

	if (at < 0)
		return MAGMA_ENOENT;
	*m = rg->mem[at];
	return 0;
}

/* Index of the successor token of key: the first token >= key,
 * wrapping to 0 past the top.  rg->ntok > 0. */
static size_t tok_successor(const ring *rg, const uint8_t key[RING_KEY_LEN])
{
	size_t lo = 0, hi = rg->ntok;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(rg->tok[mid].pos, key, RING_KEY_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == rg->ntok ? 0 : lo;
}

static int walk(const ring *rg, const uint8_t key[RING_KEY_LEN], int view,
                uint8_t out[][RING_ID_LEN], size_t max, size_t *n)
{
	unsigned mask = view_mask(view);
	uint32_t got[RING_R_MAX];
	size_t want = 0, ngot = 0, start;

	if (max == 0)
		return MAGMA_EINVAL;
	for (size_t i = 0; i < rg->nmem && want < rg->r; i++)
		if (mask & 1u << rg->mem[i].state)
			want++;
	if (want == 0)
		return MAGMA_EUNAVAIL;
	if (want > max)
		want = max;
	start = tok_successor(rg, key);
	for (size_t s = 0; s < rg->ntok && ngot < want; s++) {
		size_t i =
		        start + s < rg->ntok ? start + s : start + s - rg->ntok;
		uint32_t m = rg->tok[i].member;
		size_t j;
		if (!(mask & 1u << rg->mem[m].state))
			continue;
		for (j = 0; j < ngot && got[j] != m; j++)
			;
		if (j == ngot)
			got[ngot++] = m;
	}
	for (size_t j = 0; j < ngot; j++)
		memcpy(out[j], rg->mem[got[j]].id, RING_ID_LEN);
	*n = ngot;
	return 0;
}

int ring_owners(const ring *rg, const uint8_t key[RING_KEY_LEN],
                uint8_t out[][RING_ID_LEN], size_t max, size_t *n)
{
	return walk(rg, key, RING_VIEW_OWNERS, out, max, n);
}

int ring_placement(const ring *rg, const uint8_t key[RING_KEY_LEN],
                   uint8_t out[][RING_ID_LEN], size_t max, size_t *n)
{
	return walk(rg, key, RING_VIEW_PLACEMENT, out, max, n);
}

void ring_key_inc(uint8_t key[RING_KEY_LEN])
{
	for (int i = RING_KEY_LEN - 1; i >= 0 && ++key[i] == 0; i--)
		;
}

void ring_key_dec(uint8_t key[RING_KEY_LEN])
{
	for (int i = RING_KEY_LEN - 1; i >= 0 && key[i]-- == 0; i--)
		;
}

/* One arc's owners: the list and whether they form the same set as b. */
struct arc_owners {
	uint8_t id[RING_R_MAX][RING_ID_LEN];
	size_t n;
};

static int arc_has(const struct arc_owners *a, const uint8_t id[RING_ID_LEN])
{
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(a->id[i], id, RING_ID_LEN) == 0)
			return 1;
	return 0;
}

static int arc_same_set(const struct arc_owners *a, const struct arc_owners *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (!arc_has(b, a->id[i]))
			return 0;
	return 1;
}

/* Owners of token i's arc; n = 0 when the view admits no member. */
static void arc_at(const ring *rg, size_t i, int view, struct arc_owners *a)
{
	if (walk(rg, rg->tok[i].pos, view, a->id, RING_R_MAX, &a->n) < 0)
		a->n = 0;
}

int ring_arcs(const ring *rg, const uint8_t id[RING_ID_LEN], int view,
              ring_arc_fn fn, void *arg)
{
	struct arc_owners first, cur, run;
	size_t start = 0, i;
	const uint8_t *lo;
	int rc;

	if (!rg || !id || !fn)
		return MAGMA_EINVAL;
	if (rg->ntok == 0 || mem_find(rg, id) < 0)
		return 0;
	/* Start where the owner set changes, so no run is cut at index 0. */
	arc_at(rg, rg->ntok - 1, view, &first);
	for (i = 0; i < rg->ntok; i++) {
		arc_at(rg, i, view, &cur);
		if (!arc_same_set(&cur, &first))
			break;
		first = cur;
	}
	if (i == rg->ntok) { /* one set all round: the whole ring */
		if (!arc_has(&first, id))
			return 0;
		return fn(arg, rg->tok[0].pos, rg->tok[0].pos, first.id,
		          first.n);
	}
	start = i;
	run = cur;
	lo = rg->tok[start ? start - 1 : rg->ntok - 1].pos;
	for (size_t s = 1; s <= rg->ntok; s++) {
		size_t at = (start + s) % rg->ntok;
		size_t prev = (start + s - 1) % rg->ntok;
		if (s < rg->ntok) {
			arc_at(rg, at, view, &cur);
			if (arc_same_set(&cur, &run))
				continue;
		}
		/* The run ends with token prev's arc. */
		if (arc_has(&run, id) &&
		    memcmp(lo, rg->tok[prev].pos, RING_KEY_LEN) != 0 &&
		    (rc = fn(arg, lo, rg->tok[prev].pos, run.id, run.n)) != 0)
			return rc;
		lo = rg->tok[prev].pos;
		run = cur;
	}
	return 0;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* A position as a fraction of the ring, to 128 bits (ample for arcs). */
static double tok_frac(const struct ring_tok *t)
{
	return (double)be64(t->pos) * 0x1p-64 +
	       (double)be64(t->pos + 8) * 0x1p-128;
}

int ring_share(const ring *rg, const uint8_t id[RING_ID_LEN], int view,
               double *share)
{
	long at = mem_find(rg, id);
	unsigned mask = view_mask(view);
	uint32_t me;
	long owner = -1;
	double sum = 0;

	if (at < 0)
		return MAGMA_ENOENT;
	me = (uint32_t)at;
	/* Token i's arc (tok[i-1], tok[i]] belongs to the first admitted
	 * token at or after i.  Walk backwards twice round so that the
	 * arcs before the lowest admitted token see the wrap. */
	for (size_t s = 2 * rg->ntok; s-- > 0;) {
		size_t i = s % rg->ntok;
		uint32_t m = rg->tok[i].member;
		double arc;
		if (mask & 1u << rg->mem[m].state)
			owner = m;
		if (s >= rg->ntok || owner != (long)me)
			continue;
		arc = tok_frac(&rg->tok[i]) -
		      tok_frac(&rg->tok[i ? i - 1 : rg->ntok - 1]);
		if (i == 0)
			arc += 1.0;
		sum += arc;
	}
	*share = sum;
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int ring_encode(const ring *rg, uint8_t **buf, size_t *len)
{
	size_t n = RING_HDR_LEN, o;
	uint8_t *b;

	for (size_t i = 0; i < rg->nmem; i++)
		n += RING_MEMBER_MIN + strlen(rg->mem[i].peer) +
		     strlen(rg->mem[i].nfs);
	b = malloc(n);
	if (!b)
		return MAGMA_ENOMEM;
	memcpy(b, RING_MAGIC, 4);
	b[4] = RING_VERSION;
	b[5] = (uint8_t)rg->r;
	b[6] = b[7] = 0;
	put32(b + 8, (uint32_t)(rg->epoch >> 32));
	put32(b + 12, (uint32_t)rg->epoch);
	put32(b + 16, (uint32_t)rg->nmem);
	o = RING_HDR_LEN;
	for (size_t i = 0; i < rg->nmem; i++) {
		const ring_member *m = &rg->mem[i];
		size_t pl = strlen(m->peer), nl = strlen(m->nfs);
		memcpy(b + o, m->id, RING_ID_LEN);
		o += RING_ID_LEN;
		b[o++] = (uint8_t)m->state;
		put32(b + o, m->weight);
		o += 4;
		b[o++] = (uint8_t)pl;
		memcpy(b + o, m->peer, pl);
		o += pl;
		b[o++] = (uint8_t)nl;
		memcpy(b + o, m->nfs, nl);
		o += nl;
	}
	*buf = b;
	*len = o;
	return 0;
}

/* One length-prefixed address at *o into dst (NUL-terminated). */
static int dec_addr(const uint8_t *b, size_t len, size_t *o, char *dst)
{
	size_t l;

	if (*o >= len)
		return MAGMA_EGARBAGE;
	l = b[(*o)++];
	if (l >= RING_ADDR_MAX || len - *o < l || memchr(b + *o, 0, l))
		return MAGMA_EGARBAGE;
	memset(dst, 0, RING_ADDR_MAX);
	memcpy(dst, b + *o, l);
	*o += l;
	return 0;
}

/* Every member's tokens at once: one hash pass and one sort. */
static int tok_rebuild(ring *rg, size_t total)
{
	size_t o = 0;
	int rc;

	free(rg->tok);
	rg->ntok = 0;
	rg->tok = malloc((total ? total : 1) * sizeof(*rg->tok));
	if (!rg->tok)
		return MAGMA_ENOMEM;
	for (size_t i = 0; i < rg->nmem; i++) {
		rc = tok_gen(rg->mem[i].id, rg->mem[i].weight, (uint32_t)i,
		             rg->tok + o);
		if (rc)
			return rc;
		o += tokens_for(rg->mem[i].weight);
	}
	qsort(rg->tok, total, sizeof(*rg->tok), tok_cmp);
	rg->ntok = total;
	return 0;
}

int ring_decode(const void *buf, size_t len, ring **out)
{
	const uint8_t *b = buf;
	ring *rg = NULL;
	size_t count, o = RING_HDR_LEN, total = 0;
	int rc = MAGMA_EGARBAGE;

	if (len < RING_HDR_LEN || memcmp(b, RING_MAGIC, 4) != 0 ||
	    b[4] != RING_VERSION || b[6] != 0 || b[7] != 0)
		return MAGMA_EGARBAGE;
	if (ring_new(b[5], &rg) != 0)
		return b[5] < 1 || b[5] > RING_R_MAX ? MAGMA_EGARBAGE
		                                     : MAGMA_ENOMEM;
	rg->epoch = (uint64_t)get32(b + 8) << 32 | get32(b + 12);
	count = get32(b + 16);
	/* Bound the allocation by what the input can hold. */
	if (count > RING_MEMBERS_MAX || count > (len - o) / RING_MEMBER_MIN)
		goto out;
	rg->mem = calloc(count ? count : 1, sizeof(*rg->mem));
	if (!rg->mem) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		ring_member *m = &rg->mem[i];
		if (len - o < RING_ID_LEN + 1 + 4)
			goto out;
		memcpy(m->id, b + o, RING_ID_LEN);
		o += RING_ID_LEN;
		m->state = b[o++];
		m->weight = get32(b + o);
		o += 4;
		if (dec_addr(b, len, &o, m->peer) ||
		    dec_addr(b, len, &o, m->nfs) || !member_valid(m))
			goto out;
		if (i > 0 && memcmp(m[-1].id, m->id, RING_ID_LEN) >= 0)
			goto out; /* unsorted or duplicate: not canonical */
		total += tokens_for(m->weight);
		if (total > RING_TOKENS_MAX)
			goto out;
		rg->nmem++;
	}
	if (o != len)
		goto out;
	rc = tok_rebuild(rg, total);
	if (rc)
		goto out;
	*out = rg;
	rg = NULL;
out:
	ring_free(rg);
	return rc;
}
