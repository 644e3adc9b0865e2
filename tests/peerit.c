/* peerit.c - integration test client of the peer protocol
 * (rpc/magma_peer.x) against real magmad processes (tests/it_peer.sh).
 *
 *   peerit hello ADDR KEYFILE NETWORK   NULL, HELLO, TABLE_GET, KV_* and
 *                                       every argument check
 *   peerit files ADDR KEYFILE NETWORK NFSHOST NFSPORT
 *                                       write files through libnfs, read
 *                                       them back over the peer protocol
 *   peerit badkey ADDR KEYFILE NETWORK  the handshake must fail
 *                                       (MAGMA_ECRYPTO), nothing served
 *   peerit plain ADDR                   an RPC in clear gets no reply
 *   peerit garbage ADDR KEYFILE NETWORK junk before and after the TLS
 *                                       handshake; the node keeps serving
 *   peerit session ADDR KEYFILE NETWORK one client driven by stdin lines:
 *                                       "ok" (a call must work), "timeout"
 *                                       (a call must fail within the 1 s
 *                                       call timeout), "quit"; prints
 *                                       "step done" after each
 *
 * ADDR is the node's peer "ip:port".  Output: "ok N - what" or "not ok N
 * - what: why" per check, then "P passed, F failed"; exit 1 on failure. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "keys.h"
#include "magma_peer.h"
#include "merr.h"
#include "mlog.h"
#include "peer_client.h"
#include "ring.h"
#include "rpc/rpcmsg.h"
#include "rpc/transport.h"
#include "tests/peerit_nfs.h"

static int npass, nfail;

static int check(int ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok %d - %s\n", npass + nfail + 1, what);
		npass++;
	} else {
		printf("not ok %d - %s: ", npass + nfail + 1, what);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
		nfail++;
	}
	fflush(stdout);
	return ok;
}

static int summary(void)
{
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}

static const char *E(int rc)
{
	return magma_strerror(rc);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- set-up ---- */

static magma_keys keys;
static uint8_t my_id[16];

static int load_keys(const char *keyfile, const char *network)
{
	char *phrase = NULL;
	size_t len = 0;
	int rc = keys_read_phrase_file(keyfile, &phrase, &len);

	if (rc == 0)
		rc = keys_derive(phrase, len, network, &keys);
	free(phrase);
	if (rc == 0)
		rc = keys_random(my_id, sizeof(my_id));
	if (rc < 0)
		fprintf(stderr, "peerit: keys from %s: %s\n", keyfile, E(rc));
	return rc;
}

static peer_client *client(const char *addr, int call_ms)
{
	peer_client_opts o = { 2000, 3000, call_ms };
	peer_client *pc = NULL;
	int rc = peer_client_new(addr, keys.join_token, my_id, &o, &pc);

	if (rc < 0)
		fprintf(stderr, "peerit: peer_client_new %s: %s\n", addr,
		        E(rc));
	return pc;
}

static void me_node(peer_node *me, const char *network)
{
	memset(me, 0, sizeof(*me));
	snprintf(me->network, sizeof(me->network), "%s", network);
	memcpy(me->id, my_id, 16);
	snprintf(me->peer, sizeof(me->peer), "127.0.0.1:1");
	me->proto_version = PEER_PROTO_VERSION;
}

/* ---- hello: every implemented procedure and argument check ---- */

static int raw_status(peer_client *pc, uint32_t proc, xdrproc_t xa, void *a,
                      xdrproc_t xr, void *r, size_t rsize)
{
	int rc;

	memset(r, 0, rsize);
	rc = peer_client_call(pc, proc, xa, a, xr, r);
	if (rc < 0)
		return rc;
	rc = ((peer_rhdr *)r)->status; /* every result starts with it */
	xdr_free(xr, r);
	return rc;
}

static int count_cb(void *arg, const void *sub, size_t sublen, const void *val,
                    size_t vallen, uint64_t ver)
{
	(void)sub;
	(void)sublen;
	(void)val;
	(void)vallen;
	(void)ver;
	(*(size_t *)arg)++;
	return 0;
}

typedef struct stat_thread {
	peer_client *pc;
	int bad;
} stat_thread;

static void *stat_loop(void *arg)
{
	stat_thread *st = arg;
	kv_stat s;

	for (int i = 0; i < 50; i++)
		if (peer_call_kv_stat(st->pc, &s) != 0)
			st->bad++;
	return NULL;
}

static int cmd_hello(const char *addr, const char *network)
{
	peer_client *pc = client(addr, 5000);
	peer_node me, them;
	uint8_t *tb = NULL, key[KV_KEY_LEN], absent[KV_KEY_LEN];
	size_t tlen = 0, n = 0, got = 0;
	ring *rg = NULL;
	ring_member m;
	uint64_t epoch = 0, ver;
	unsigned r = 0;
	kv_stat st;
	void *val = NULL;
	char buf[16];
	int rc;

	if (!check(pc != NULL, "client", "no client"))
		return summary();
	rc = peer_client_connect(pc);
	check(rc == 0, "TLS handshake with the same keyphrase", "%s", E(rc));
	rc = peer_call_null(pc);
	check(rc == 0, "NULL", "%s", E(rc));

	me_node(&me, network);
	rc = peer_call_hello(pc, &me, &them);
	check(rc == 0, "HELLO", "%s", E(rc));
	check(strcmp(them.network, network) == 0, "HELLO: network name", "'%s'",
	      them.network);
	check(strcmp(them.peer, addr) == 0, "HELLO: peer address",
	      "'%s' (want %s)", them.peer, addr);
	check(them.nfs[0] != '\0', "HELLO: NFS address", "empty");
	check(them.proto_version == PEER_PROTO_VERSION, "HELLO: version", "%u",
	      them.proto_version);
	check(peer_client_seen_epoch(pc) == 1, "HELLO: epoch 1 in the reply",
	      "%llu", (unsigned long long)peer_client_seen_epoch(pc));
	printf("# node %02x%02x%02x%02x... peer %s nfs %s\n", them.id[0],
	       them.id[1], them.id[2], them.id[3], them.peer, them.nfs);

	rc = peer_call_table_get(pc, &tb, &tlen);
	check(rc == 0, "TABLE_GET", "%s", E(rc));
	if (rc == 0)
		rc = ring_decode(tb, tlen, &rg);
	if (check(rc == 0, "TABLE_GET: the table decodes", "%s", E(rc))) {
		ring_epoch(rg, &epoch);
		ring_redundancy(rg, &r);
		ring_count(rg, &n);
		check(epoch == 1, "table epoch 1", "%llu",
		      (unsigned long long)epoch);
		check(r == 2, "table redundancy 2 (default)", "%u", r);
		check(n == 1, "table has this node only", "%zu members", n);
		rc = ring_member_find(rg, them.id, &m);
		check(rc == 0, "table member is the HELLO node", "%s", E(rc));
		if (rc == 0) {
			check(strcmp(m.peer, addr) == 0 &&
			              strcmp(m.nfs, them.nfs) == 0 &&
			              m.state == RING_UP,
			      "table member addresses and state", "%s %s %s",
			      m.peer, m.nfs, ring_state_name(m.state));
		}
		ring_free(rg);
	}
	free(tb);

	rc = peer_call_kv_stat(pc, &st);
	check(rc == 0 && st.bytes_total > 0 && st.records > 0, "KV_STAT",
	      "%s total %llu records %llu", E(rc),
	      (unsigned long long)st.bytes_total,
	      (unsigned long long)st.records);
	rc = peer_call_kv_sync(pc, NULL);
	check(rc == 0, "KV_SYNC", "%s", E(rc));

	memset(absent, 0xab, sizeof(absent));
	rc = peer_call_kv_get(pc, absent, "x", 1, &val, &n, &ver);
	check(rc == MAGMA_ENOENT, "KV_GET of an absent record: ENOENT", "%s",
	      E(rc));
	rc = peer_call_kv_get(pc, absent, "x", 1, NULL, NULL, &ver);
	check(rc == MAGMA_ENOENT, "KV_GET (version only) absent: ENOENT", "%s",
	      E(rc));
	rc = peer_call_kv_read(pc, absent, "x", 1, 0, sizeof(buf), buf, &got);
	check(rc == MAGMA_ENOENT, "KV_READ of an absent record: ENOENT", "%s",
	      E(rc));
	n = 0;
	rc = peer_call_kv_scan(pc, absent, NULL, 0, NULL, 0, 0, count_cb, &n);
	check(rc == 0 && n == 0, "KV_SCAN of an empty ring key: no records",
	      "%s, %zu records", E(rc), n);
	/* The root directory's flare exists on every node. */
	keys_ring_root(&keys, key);
	n = 0;
	rc = peer_call_kv_scan(pc, key, NULL, 0, NULL, 0, 0, count_cb, &n);
	check(rc == 0 && n > 0, "KV_SCAN of the root's ring key",
	      "%s, %zu "
	      "records",
	      E(rc), n);

	/* TABLE_PUT, KV_APPLY, RANGE_*, and one past the end. */
	{
		peer_table_put_args tp;
		peer_apply_args ap;
		peer_digest_args dg;
		peer_getm_args gm;
		peer_getm_res gr;
		peer_pull_args pl;
		peer_status_res sr;
		peer_apply_res ar;
		peer_digest_res dr;
		peer_pull_res pr;

		memset(&tp, 0, sizeof(tp));
		peer_client_hdr(pc, &tp.hdr);
		rc = raw_status(pc, PEERPROC_TABLE_PUT,
		                (xdrproc_t)xdr_peer_table_put_args, &tp,
		                (xdrproc_t)xdr_peer_status_res, &sr,
		                sizeof(sr));
		/* served (server/member_srv.c): empty bytes do not decode */
		check(rc == MAGMA_EGARBAGE,
		      "TABLE_PUT of no table: "
		      "MAGMA_EGARBAGE",
		      "%s", E(rc));
		memset(&ap, 0, sizeof(ap));
		peer_client_hdr(pc, &ap.hdr);
		ap.hdr.epoch = 0;
		rc = raw_status(pc, PEERPROC_KV_APPLY,
		                (xdrproc_t)xdr_peer_apply_args, &ap,
		                (xdrproc_t)xdr_peer_apply_res, &ar, sizeof(ar));
		/* a sender with an older table must route again first */
		check(rc == MAGMA_EJUKEBOX,
		      "KV_APPLY by an older table: MAGMA_EJUKEBOX", "%s",
		      E(rc));
		ap.hdr.epoch = peer_client_seen_epoch(pc);
		rc = raw_status(pc, PEERPROC_KV_APPLY,
		                (xdrproc_t)xdr_peer_apply_args, &ap,
		                (xdrproc_t)xdr_peer_apply_res, &ar, sizeof(ar));
		/* served (server/kv_net.c): an empty batch applies */
		check(rc == 0, "KV_APPLY of nothing: ok", "%s", E(rc));
		memset(&gm, 0, sizeof(gm));
		peer_client_hdr(pc, &gm.hdr);
		rc = raw_status(pc, PEERPROC_KV_GET_MANY,
		                (xdrproc_t)xdr_peer_getm_args, &gm,
		                (xdrproc_t)xdr_peer_getm_res, &gr, sizeof(gr));
		check(rc == MAGMA_EINVAL, "KV_GET_MANY of no key: EINVAL", "%s",
		      E(rc));
		memset(&dg, 0, sizeof(dg));
		peer_client_hdr(pc, &dg.hdr);
		dg.parts = 1;
		rc = raw_status(pc, PEERPROC_RANGE_DIGEST,
		                (xdrproc_t)xdr_peer_digest_args, &dg,
		                (xdrproc_t)xdr_peer_digest_res, &dr,
		                sizeof(dr));
		/* served (server/repair.c): the whole ring, one part */
		check(rc == 0, "RANGE_DIGEST of the ring: ok", "%s", E(rc));
		memset(&pl, 0, sizeof(pl));
		peer_client_hdr(pc, &pl.hdr);
		rc = raw_status(pc, PEERPROC_RANGE_PULL,
		                (xdrproc_t)xdr_peer_pull_args, &pl,
		                (xdrproc_t)xdr_peer_pull_res, &pr, sizeof(pr));
		/* served (server/repair.c): max_records 0 is refused */
		check(rc == MAGMA_EINVAL, "RANGE_PULL of 0 records: EINVAL",
		      "%s", E(rc));
		rc = peer_client_call(pc, PEERPROC_KV_GET_MANY + 1, NULL, NULL,
		                      NULL, NULL);
		check(rc == MAGMA_ENOTSUPP,
		      "a procedure past the last: "
		      "PROC_UNAVAIL",
		      "%s", E(rc));
	}

	/* Sizes the decoder lets through but the handler refuses. */
	{
		peer_read_args ra;
		peer_read_res rr;
		peer_scan_args sa;
		peer_scan_res sr;
		static const struct {
			unsigned recs, bytes;
			const char *what;
		} bad[] = {
			{ 0, 1000, "KV_SCAN max_records 0: EINVAL" },
			{ PEER_RECS_MAX + 1, 1000,
			  "KV_SCAN max_records over the bound: EINVAL" },
			{ 10, 0, "KV_SCAN max_bytes 0: EINVAL" },
			{ 10, PEER_BYTES_MAX + 1,
			  "KV_SCAN max_bytes over the bound: EINVAL" },
		};

		memset(&ra, 0, sizeof(ra));
		peer_client_hdr(pc, &ra.hdr);
		memcpy(ra.key, key, KV_KEY_LEN);
		ra.len = 0;
		rc = raw_status(pc, PEERPROC_KV_READ,
		                (xdrproc_t)xdr_peer_read_args, &ra,
		                (xdrproc_t)xdr_peer_read_res, &rr, sizeof(rr));
		check(rc == MAGMA_EINVAL, "KV_READ len 0: EINVAL", "%s", E(rc));
		ra.len = PEER_VAL_MAX + 1;
		rc = raw_status(pc, PEERPROC_KV_READ,
		                (xdrproc_t)xdr_peer_read_args, &ra,
		                (xdrproc_t)xdr_peer_read_res, &rr, sizeof(rr));
		check(rc == MAGMA_EINVAL, "KV_READ len over the bound: EINVAL",
		      "%s", E(rc));
		ra.len = 10;
		ra.off = UINT64_MAX - 3;
		rc = raw_status(pc, PEERPROC_KV_READ,
		                (xdrproc_t)xdr_peer_read_args, &ra,
		                (xdrproc_t)xdr_peer_read_res, &rr, sizeof(rr));
		check(rc == 0 || rc == MAGMA_ENOENT,
		      "KV_READ at offset 2^64-4: no crash", "%s", E(rc));
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memset(&sa, 0, sizeof(sa));
			peer_client_hdr(pc, &sa.hdr);
			memcpy(sa.key, key, KV_KEY_LEN);
			sa.max_records = bad[i].recs;
			sa.max_bytes = bad[i].bytes;
			rc = raw_status(pc, PEERPROC_KV_SCAN,
			                (xdrproc_t)xdr_peer_scan_args, &sa,
			                (xdrproc_t)xdr_peer_scan_res, &sr,
			                sizeof(sr));
			check(rc == MAGMA_EINVAL, bad[i].what, "%s", E(rc));
		}
	}

	/* HELLO that the node must refuse, still describing itself. */
	me.proto_version = PEER_PROTO_VERSION + 1;
	memset(&them, 0, sizeof(them));
	rc = peer_call_hello(pc, &me, &them);
	check(rc == MAGMA_EPROTO && strcmp(them.network, network) == 0,
	      "HELLO of the next protocol version: EPROTO, node described",
	      "%s '%s'", E(rc), them.network);
	me.proto_version = PEER_PROTO_VERSION;
	me.id[0] ^= 1;
	rc = peer_call_hello(pc, &me, &them);
	check(rc == MAGMA_EINVAL,
	      "HELLO with another id than the header's: "
	      "EINVAL",
	      "%s", E(rc));
	me.id[0] ^= 1;
	snprintf(me.network, sizeof(me.network), "other-net");
	rc = peer_call_hello(pc, &me, &them);
	check(rc == MAGMA_ECONFIG,
	      "HELLO with another network name: "
	      "ECONFIG",
	      "%s", E(rc));

	/* A newer epoch in the header changes nothing yet. */
	peer_client_set_epoch(pc, 99);
	rc = peer_call_null(pc);
	check(rc == 0 && peer_call_kv_sync(pc, NULL) == 0 &&
	              peer_client_seen_epoch(pc) == 1,
	      "a newer sender epoch: served, replier epoch still 1", "%s",
	      E(rc));

	/* One client from several threads: calls are serialized. */
	{
		stat_thread t[4];
		pthread_t th[4];
		int bad = 0;

		for (int i = 0; i < 4; i++) {
			t[i].pc = pc;
			t[i].bad = 0;
			pthread_create(&th[i], NULL, stat_loop, &t[i]);
		}
		for (int i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			bad += t[i].bad;
		}
		check(bad == 0, "200 KV_STAT from 4 threads on one client",
		      "%d failed", bad);
	}
	free(val);
	peer_client_free(pc);
	return summary();
}

/* ---- files: NFS writes, peer reads ---- */

/* A read-only kv over the peer protocol, recording the ring keys the
 * namespace layer scans, so that they can be checked raw as well. */
#define MAXKEYS 64
typedef struct peer_kv {
	kv base;
	peer_client *pc;
	uint8_t scanned[MAXKEYS][KV_KEY_LEN];
	int nscanned;
	int ngetmany;  /* KV_GET_MANY calls */
	int nreadmany; /* KV_GET_MANY calls for file data */
} peer_kv;

static peer_client *pkv_pc(kv *k)
{
	return ((peer_kv *)k)->pc;
}

static int pkv_get(kv *k, const uint8_t key[KV_KEY_LEN], const void *sub,
                   size_t sublen, void **val, size_t *vallen, uint64_t *ver)
{
	return peer_call_kv_get(pkv_pc(k), key, sub, sublen, val, vallen, ver);
}

static int pkv_read(kv *k, const uint8_t key[KV_KEY_LEN], const void *sub,
                    size_t sublen, size_t off, size_t len, void *buf,
                    size_t *got)
{
	return peer_call_kv_read(pkv_pc(k), key, sub, sublen, off, len, buf,
	                         got);
}

static int pkv_apply(kv *k, const kv_batch *b, size_t n, int dur)
{
	(void)k;
	(void)b;
	(void)n;
	(void)dur;
	return MAGMA_EROFS;
}

static int pkv_scan(kv *k, const uint8_t key[KV_KEY_LEN], const void *prefix,
                    size_t prefixlen, const void *from, size_t fromlen,
                    size_t max, kv_scan_fn fn, void *arg)
{
	peer_kv *p = (peer_kv *)k;
	int i;

	for (i = 0; i < p->nscanned; i++)
		if (memcmp(p->scanned[i], key, KV_KEY_LEN) == 0)
			break;
	if (i == p->nscanned && i < MAXKEYS)
		memcpy(p->scanned[p->nscanned++], key, KV_KEY_LEN);
	return peer_call_kv_scan(p->pc, key, prefix, prefixlen, from, fromlen,
	                         max, fn, arg);
}

static int pkv_sync(kv *k)
{
	return peer_call_kv_sync(pkv_pc(k), NULL);
}

static int pkv_stat(kv *k, kv_stat *st)
{
	return peer_call_kv_stat(pkv_pc(k), st);
}

static void pkv_close(kv *k)
{
	(void)k;
}

/* KV_GET_MANY until every req is answered (a reply may hold a prefix). */
static int pkv_get_many(kv *k, kv_get_req *reqs, size_t n)
{
	size_t at = 0, done = 0;
	int rc = 0;

	while (rc == 0 && at < n) {
		rc = peer_call_kv_get_many(pkv_pc(k), reqs + at, n - at, &done);
		((peer_kv *)k)->ngetmany++;
		at += done;
	}
	return rc;
}

/* A file's data: KV_GET_MANY decoded into the READ's buffer; no
 * witness here (no copy of this node's own to check it against). */
static int pkv_read_many(kv *k, const uint8_t key[KV_KEY_LEN], kv_witness *w,
                         kv_read_req *reqs, size_t n)
{
	size_t at = 0, done = 0;
	int rc = 0;

	(void)w;
	while (rc == 0 && at < n) {
		rc = peer_call_kv_read_many(pkv_pc(k), key, reqs + at, n - at,
		                            &done);
		((peer_kv *)k)->nreadmany++;
		at += done;
	}
	return rc;
}

static const struct kv_ops pkv_ops = { .get = pkv_get,
	                               .read = pkv_read,
	                               .apply = pkv_apply,
	                               .scan = pkv_scan,
	                               .sync = pkv_sync,
	                               .stat = pkv_stat,
	                               .close = pkv_close,
	                               .get_many = pkv_get_many,
	                               .read_many = pkv_read_many };

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (uint8_t)((x * 2685821657736338717ull) >> 56);
	}
}

#define NMANY 300

typedef struct names {
	unsigned char seen[NMANY];
	int other;
	int attrs, badattr; /* READDIRPLUS */
} names;

static int name_cb(void *arg, const char *name, size_t namelen, uint64_t fileid,
                   uint64_t cookie, const fs_ref *ref, const fs_attr *attr)
{
	names *nm = arg;
	unsigned i;
	char tail;

	(void)fileid;
	(void)cookie;
	(void)ref;
	if (namelen == 4 && sscanf(name, "f%3u%c", &i, &tail) == 1 &&
	    i < NMANY) {
		nm->seen[i]++;
		/* READDIRPLUS: each file's size is its number mod 7 */
		if (attr != NULL && attr->size != i % 7)
			nm->badattr++;
		nm->attrs += attr != NULL;
	} else if (!(namelen == 1 && name[0] == '.') &&
	           !(namelen == 2 && name[0] == '.' && name[1] == '.'))
		nm->other++;
	return 0;
}

/* One record seen by a scan. */
typedef struct rec {
	uint8_t sub[KV_SUB_MAX];
	size_t sublen;
	uint8_t *val;
	size_t vallen;
	uint64_t ver;
} rec;

typedef struct recs {
	rec r[4096];
	size_t n;
} recs;

static int keep_cb(void *arg, const void *sub, size_t sublen, const void *val,
                   size_t vallen, uint64_t ver)
{
	recs *rs = arg;
	rec *r;

	if (rs->n >= sizeof(rs->r) / sizeof(rs->r[0]))
		return 1;
	r = &rs->r[rs->n++];
	memcpy(r->sub, sub, sublen);
	r->sublen = sublen;
	r->val = malloc(vallen ? vallen : 1);
	if (r->val == NULL)
		return MAGMA_ENOMEM;
	memcpy(r->val, val, vallen);
	r->vallen = vallen;
	r->ver = ver;
	return 0;
}

static void recs_free(recs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->r[i].val);
	rs->n = 0;
}

/* The records under key, one raw KV_SCAN page of one record (max_bytes
 * 1) at a time, must equal a whole scan. */
static void check_key_raw(peer_client *pc, const uint8_t key[KV_KEY_LEN])
{
	static recs all, paged;
	peer_scan_args a;
	uint8_t from[KV_SUB_MAX];
	size_t pages = 0, mism = 0;
	int rc, more = 1;

	recs_free(&all);
	recs_free(&paged);
	rc = peer_call_kv_scan(pc, key, NULL, 0, NULL, 0, 0, keep_cb, &all);
	if (!check(rc == 0 && all.n > 0, "KV_SCAN of a scanned key",
	           "%s, %zu records", E(rc), all.n))
		return;
	memset(&a, 0, sizeof(a));
	memcpy(a.key, key, KV_KEY_LEN);
	a.from.from_val = (char *)from;
	a.max_records = PEER_RECS_MAX;
	a.max_bytes = 1;
	a.want_values = TRUE;
	while (more && rc == 0 && pages <= all.n) {
		peer_scan_res r;

		memset(&r, 0, sizeof(r));
		peer_client_hdr(pc, &a.hdr);
		rc = peer_client_call(pc, PEERPROC_KV_SCAN,
		                      (xdrproc_t)xdr_peer_scan_args, &a,
		                      (xdrproc_t)xdr_peer_scan_res, &r);
		if (rc < 0)
			break;
		rc = r.rh.status;
		pages++;
		if (rc == 0 && r.recs.recs_len != 1)
			rc = MAGMA_EPROTO;
		for (u_int i = 0; rc == 0 && i < r.recs.recs_len; i++)
			rc = keep_cb(&paged, r.recs.recs_val[i].sub.sub_val,
			             r.recs.recs_val[i].sub.sub_len,
			             r.recs.recs_val[i].value.value_val,
			             r.recs.recs_val[i].value.value_len,
			             r.recs.recs_val[i].ver);
		more = r.more;
		if (more) {
			memcpy(from, r.next.next_val, r.next.next_len);
			a.from.from_len = r.next.next_len;
		}
		xdr_free((xdrproc_t)xdr_peer_scan_res, &r);
	}
	for (size_t i = 0; i < all.n && i < paged.n; i++)
		if (all.r[i].sublen != paged.r[i].sublen ||
		    memcmp(all.r[i].sub, paged.r[i].sub, all.r[i].sublen) ||
		    all.r[i].ver != paged.r[i].ver ||
		    all.r[i].vallen != paged.r[i].vallen ||
		    memcmp(all.r[i].val, paged.r[i].val, all.r[i].vallen))
			mism++;
	check(rc == 0 && paged.n == all.n && mism == 0,
	      "KV_SCAN one record a page (continuation) equals a whole scan",
	      "%s, %zu vs %zu records, %zu differ", E(rc), paged.n, all.n,
	      mism);
	/* Each record by KV_GET and a slice by KV_READ. */
	mism = 0;
	for (size_t i = 0; i < all.n; i++) {
		void *v = NULL;
		size_t vl = 0, got = 0;
		uint64_t ver = 0;
		uint8_t slice[16];
		size_t off = all.r[i].vallen / 2;

		rc = peer_call_kv_get(pc, key, all.r[i].sub, all.r[i].sublen,
		                      &v, &vl, &ver);
		if (rc != 0 || vl != all.r[i].vallen || ver != all.r[i].ver ||
		    memcmp(v, all.r[i].val, vl))
			mism++;
		free(v);
		rc = peer_call_kv_read(pc, key, all.r[i].sub, all.r[i].sublen,
		                       off, sizeof(slice), slice, &got);
		if (rc != 0 ||
		    got != (all.r[i].vallen - off < sizeof(slice)
		                    ? all.r[i].vallen - off
		                    : sizeof(slice)) ||
		    memcmp(slice, all.r[i].val + off, got))
			mism++;
	}
	check(mism == 0, "KV_GET and KV_READ agree with KV_SCAN",
	      "%zu mismatches over %zu records", mism, all.n);
}

static int cmd_files(const char *addr, const char *nfshost, int nfsport)
{
	const fs_cred root = { 0, 0, 0, { 0 } };
	const size_t bigsz = 3u * 1024 * 1024 + 123;
	uint8_t *small = malloc(1000), *big = malloc(bigsz),
	        *back = malloc(bigsz);
	peer_kv pk;
	pnfs *nfs;
	fs *f = NULL;
	fs_ref r0, dir, many, fref;
	fs_attr at;
	names nm;
	uint32_t got = 0;
	size_t done;
	int rc, eof = 0, bad;
	char path[64];

	if (small == NULL || big == NULL || back == NULL)
		return 1;
	fill(small, 1000, 1);
	fill(big, bigsz, 2);
	nfs = pnfs_mount(nfshost, nfsport);
	if (!check(nfs != NULL, "libnfs mount of node A", "failed"))
		return summary();
	bad = pnfs_mkdir(nfs, "/peerdir") || pnfs_mkdir(nfs, "/peerdir/many") ||
	      pnfs_put(nfs, "/peerdir/small", small, 1000) ||
	      pnfs_put(nfs, "/peerdir/big", big, bigsz);
	for (int i = 0; i < NMANY && !bad; i++) {
		snprintf(path, sizeof(path), "/peerdir/many/f%03d", i);
		bad = pnfs_put(nfs, path, path, (size_t)i % 7);
	}
	pnfs_umount(nfs);
	if (!check(!bad, "write files through libnfs", "failed"))
		return summary();

	memset(&pk, 0, sizeof(pk));
	pk.base.ops = &pkv_ops;
	pk.pc = client(addr, 10000);
	if (!check(pk.pc != NULL, "client", "none"))
		return summary();
	rc = fs_open(&f, &pk.base, &keys);
	if (!check(rc == 0, "namespace over the peer protocol", "%s", E(rc)))
		return summary();
	fs_root(f, &r0);
	rc = fs_lookup(f, &root, &r0, "peerdir", 7, &dir, &at, NULL, NULL);
	check(rc == 0, "LOOKUP /peerdir over peer KV", "%s", E(rc));
	if (rc == 0)
		rc = fs_lookup(f, &root, &dir, "small", 5, &fref, &at, NULL,
		               NULL);
	if (check(rc == 0 && at.size == 1000, "LOOKUP /peerdir/small", "%s",
	          E(rc))) {
		rc = fs_read(f, &root, &fref, 0, 4096, back, &got, &eof, &at);
		check(rc == 0 && got == 1000 && memcmp(back, small, 1000) == 0,
		      "small file read over the peer protocol equals what "
		      "NFS wrote",
		      "%s, %u bytes", E(rc), got);
	}
	rc = fs_lookup(f, &root, &dir, "big", 3, &fref, &at, NULL, NULL);
	if (check(rc == 0 && at.size == bigsz, "LOOKUP /peerdir/big",
	          "%s size %llu", E(rc), (unsigned long long)at.size)) {
		for (done = 0, rc = 0; done < bigsz && rc == 0; done += got) {
			rc = fs_read(f, &root, &fref, done, 1u << 20,
			             back + done, &got, &eof, &at);
			if (got == 0)
				break;
		}
		check(rc == 0 && done == bigsz &&
		              memcmp(back, big, bigsz) == 0 &&
		              pk.nreadmany >= 3,
		      "3 MiB file read over the peer protocol (KV_GET_MANY "
		      "into the READ buffers) equals what NFS wrote",
		      "%s, %zu bytes, %d calls", E(rc), done, pk.nreadmany);
	}
	rc = fs_lookup(f, &root, &dir, "many", 4, &many, &at, NULL, NULL);
	if (check(rc == 0, "LOOKUP /peerdir/many", "%s", E(rc))) {
		uint64_t verf = 0;
		int missing = 0, dup = 0;

		memset(&nm, 0, sizeof(nm));
		rc = fs_readdir(f, &root, &many, 0, 0, 0, name_cb, &nm, &verf,
		                &eof, &at);
		for (int i = 0; i < NMANY; i++) {
			missing += nm.seen[i] == 0;
			dup += nm.seen[i] > 1;
		}
		check(rc == 0 && eof && !missing && !dup && !nm.other,
		      "READDIR over the peer protocol: 300 names once each",
		      "%s eof %d missing %d dup %d other %d", E(rc), eof,
		      missing, dup, nm.other);

		memset(&nm, 0, sizeof(nm));
		pk.ngetmany = 0;
		rc = fs_readdir(f, &root, &many, 0, 0, 1, name_cb, &nm, &verf,
		                &eof, &at);
		check(rc == 0 && eof && nm.attrs == NMANY && !nm.badattr,
		      "READDIRPLUS over the peer protocol: 300 sizes right",
		      "%s eof %d attrs %d wrong %d", E(rc), eof, nm.attrs,
		      nm.badattr);
		check(pk.ngetmany > 0 && pk.ngetmany <= NMANY / 32,
		      "READDIRPLUS read the attributes with KV_GET_MANY, "
		      "not one call per entry",
		      "%d calls for %d entries", pk.ngetmany, NMANY);
	}
	printf("# the namespace scanned %d ring keys\n", pk.nscanned);
	check(pk.nscanned > 0, "the namespace layer used KV_SCAN", "none");
	for (int i = 0; i < pk.nscanned; i++)
		check_key_raw(pk.pc, pk.scanned[i]);
	fs_close(f);
	peer_client_free(pk.pc);
	free(small);
	free(big);
	free(back);
	return summary();
}

/* ---- badkey: another keyphrase ---- */

static int cmd_badkey(const char *addr, const char *network)
{
	peer_client *pc = client(addr, 3000);
	peer_node me, them;
	int rc;

	if (!check(pc != NULL, "client", "none"))
		return summary();
	rc = peer_client_connect(pc);
	check(rc == MAGMA_ECRYPTO,
	      "handshake with another keyphrase fails "
	      "with ECRYPTO",
	      "%s", E(rc));
	me_node(&me, network);
	rc = peer_call_hello(pc, &me, &them);
	check(rc == MAGMA_ECRYPTO, "HELLO with another keyphrase: ECRYPTO",
	      "%s", E(rc));
	rc = peer_call_null(pc);
	check(rc == MAGMA_ECRYPTO, "NULL with another keyphrase: ECRYPTO", "%s",
	      E(rc));
	peer_client_free(pc);
	return summary();
}

/* ---- plain and garbage: raw sockets ---- */

/* Read whatever comes until the peer closes (or wait_ms passes):
 * returns the bytes read, -1 if the connection stayed open. */
static long drain(int fd, uint8_t *buf, size_t cap, int wait_ms)
{
	long deadline = now_ms() + wait_ms;
	size_t n = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t r;

		if (left <= 0)
			return -1;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		r = recv(fd, n < cap ? buf + n : buf, n < cap ? cap - n : cap,
		         0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return (long)n;
		if (r < 0 && errno != EINTR)
			return (long)n;
		if (r > 0 && n < cap)
			n += (size_t)r;
	}
}

/* A marked NULL call of the peer program, in clear. */
static size_t null_call(uint8_t *p, uint32_t xid, uint32_t prog, uint32_t vers,
                        uint32_t proc)
{
	uint32_t w[10] = { xid, CALL, 2, prog, vers, proc, 0, 0, 0, 0 };

	for (int i = 0; i < 10; i++) {
		uint32_t v = w[i];

		p[4 + 4 * i] = (uint8_t)(v >> 24);
		p[5 + 4 * i] = (uint8_t)(v >> 16);
		p[6 + 4 * i] = (uint8_t)(v >> 8);
		p[7 + 4 * i] = (uint8_t)v;
	}
	rpcmsg_put_mark(p, 40);
	return 44;
}

static int cmd_plain(const char *addr)
{
	uint8_t call[64], back[4096];
	int fd, rc;
	long n;

	rc = transport_tcp_connect(addr, 2000, &fd);
	if (!check(rc == 0, "TCP connect to the peer port", "%s", E(rc)))
		return summary();
	(void)!send(fd, call, null_call(call, 0x5eed, MAGMA_PEER_PROGRAM, 1, 0),
	            MSG_NOSIGNAL);
	n = drain(fd, back, sizeof(back), 8000);
	close(fd);
	check(n >= 0, "an RPC in clear: the node closes the connection",
	      "still open after 8 s");
	/* At most a TLS alert record (content type 21), never RPC. */
	check(n <= 0 || (back[0] == 21 && n <= 7),
	      "an RPC in clear gets no reply (at most a TLS alert)",
	      "%ld bytes, first %02x", n, n > 0 ? back[0] : 0);
	if (n > 0)
		printf("# got %ld bytes: a TLS alert\n", n);
	return summary();
}

/* A TLS session to addr for hand-made records. */
static transport *raw_tls(const char *addr)
{
	transport *t = NULL;
	int fd;

	if (transport_tcp_connect(addr, 2000, &fd) < 0 ||
	    transport_tls_client(fd, keys.join_token, NULL, 3000, &t) < 0)
		return NULL;
	return t;
}

/* Send len bytes on a fresh session; decode the reply to xid.  Returns
 * what peer_reply_decode says, or MAGMA_EUNAVAIL when the node closed.
 * With end set, our side is closed (close_notify) after the bytes, so
 * that a record cut short ends at once rather than at a timeout. */
static int raw_exchange(const char *addr, const uint8_t *msg, size_t len,
                        uint32_t xid, int end)
{
	transport *t = raw_tls(addr);
	rpcmsg_buf in = { 0 };
	int rc;

	if (t == NULL)
		return MAGMA_ECRYPTO;
	rc = transport_write_all(t, msg, len);
	if (rc == 0 && end)
		rc = transport_shutdown(t);
	if (rc == 0)
		rc = rpcmsg_read_record(transport_read_exact, t, &in,
		                        RPC_MAX_RECORD);
	if (rc == 1 || rc < 0)
		rc = MAGMA_EUNAVAIL;
	else
		rc = peer_reply_decode(in.data, in.len, xid, NULL, NULL);
	rpcmsg_buf_free(&in);
	transport_close(t);
	return rc;
}

static int cmd_garbage(const char *addr, const char *network)
{
	uint8_t m[8192], back[64];
	peer_client *pc;
	peer_node me, them;
	size_t n;
	int fd, rc, closed = 0, k;

	/* Before the handshake: junk, a half ClientHello, many quick
	 * connections, a silent one left open. */
	if (transport_tcp_connect(addr, 2000, &fd) == 0) {
		fill(m, 1024, 7);
		(void)!send(fd, m, 1024, MSG_NOSIGNAL);
		shutdown(fd, SHUT_WR); /* else it waits for the rest */
		closed += drain(fd, back, sizeof(back), 12000) >= 0;
		close(fd);
	}
	if (transport_tcp_connect(addr, 2000, &fd) == 0) {
		static const uint8_t hello[] = { 22, 3,    1,    0x40, 0, 1,
			                         0,  0x3f, 0xfc, 3,    3 };
		(void)!send(fd, hello, sizeof(hello), MSG_NOSIGNAL);
		shutdown(fd, SHUT_WR);
		closed += drain(fd, back, sizeof(back), 12000) >= 0;
		close(fd);
	}
	check(closed == 2, "junk and a half ClientHello: connection closed",
	      "%d of 2", closed);
	for (k = 0; k < 64; k++)
		if (transport_tcp_connect(addr, 2000, &fd) == 0)
			close(fd);
	int silent = -1;
	(void)transport_tcp_connect(addr, 2000, &silent);

	/* After the handshake: bad records. */
	n = null_call(m, 1, MAGMA_PEER_PROGRAM, 1, 0);
	m[8 + 4 + 3] = 3; /* rpcvers 3 */
	rc = raw_exchange(addr, m, n, 1, 0);
	check(rc == MAGMA_EACCES, "rpcvers 3: MSG_DENIED", "%s", E(rc));
	n = null_call(m, 2, 100003, 3, 0);
	rc = raw_exchange(addr, m, n, 2, 0);
	check(rc == MAGMA_ENOTSUPP,
	      "NFS program on the peer port: "
	      "PROG_UNAVAIL",
	      "%s", E(rc));
	n = null_call(m, 3, MAGMA_PEER_PROGRAM, 2, 0);
	rc = raw_exchange(addr, m, n, 3, 0);
	check(rc == MAGMA_ENOTSUPP, "peer program version 2: PROG_MISMATCH",
	      "%s", E(rc));
	n = null_call(m, 4, MAGMA_PEER_PROGRAM, 1, PEERPROC_KV_GET);
	memset(m + n, 0, 8); /* a header cut short */
	rpcmsg_put_mark(m, n - 4 + 8);
	rc = raw_exchange(addr, m, n + 8, 4, 0);
	check(rc == MAGMA_EGARBAGE,
	      "KV_GET with truncated arguments: "
	      "GARBAGE_ARGS",
	      "%s", E(rc));
	/* KV_GET whose sub claims 65 bytes (over PEER_SUB_MAX). */
	n = null_call(m, 5, MAGMA_PEER_PROGRAM, 1, PEERPROC_KV_GET);
	memset(m + n, 0, 24 + 20 + 4 + 68 + 4);
	m[n + 24 + 20 + 3] = 65;
	rpcmsg_put_mark(m, 40 + 24 + 20 + 4 + 68 + 4);
	rc = raw_exchange(addr, m, n + 24 + 20 + 4 + 68 + 4, 5, 0);
	check(rc == MAGMA_EGARBAGE, "KV_GET with a 65-byte sub: GARBAGE_ARGS",
	      "%s", E(rc));
	/* HELLO whose network name claims 1 GiB. */
	n = null_call(m, 6, MAGMA_PEER_PROGRAM, 1, PEERPROC_HELLO);
	memset(m + n, 0, 24 + 4);
	m[n + 24] = 0x40;
	rpcmsg_put_mark(m, 40 + 24 + 4);
	rc = raw_exchange(addr, m, n + 28, 6, 0);
	check(rc == MAGMA_EGARBAGE, "HELLO with a 1 GiB name: GARBAGE_ARGS",
	      "%s", E(rc));
	/* A 2 GiB fragment header: the node must close. */
	m[0] = 0xff;
	m[1] = 0xff;
	m[2] = 0xff;
	m[3] = 0xf0;
	rc = raw_exchange(addr, m, 4, 7, 0);
	check(rc == MAGMA_EUNAVAIL, "2 GiB fragment: connection closed", "%s",
	      E(rc));
	/* Random records inside TLS. */
	for (k = 0; k < 50; k++) {
		size_t len = 4 + (size_t)(k * 37) % 400;

		fill(m, len, 100 + (uint32_t)k);
		rpcmsg_put_mark(m, len - 4);
		if (k % 3 == 0) /* a real header, junk arguments */
			null_call(m, 9, MAGMA_PEER_PROGRAM, 1,
			          (uint32_t)k % 12);
		rpcmsg_put_mark(m, len - 4);
		(void)raw_exchange(addr, m, len, 9, 1);
	}
	if (silent >= 0)
		close(silent);

	pc = client(addr, 5000);
	me_node(&me, network);
	rc = pc ? peer_call_hello(pc, &me, &them) : MAGMA_ENOMEM;
	check(rc == 0, "after all that, HELLO works", "%s", E(rc));
	peer_client_free(pc);
	return summary();
}

/* ---- session: reconnect and timeout, driven by the test script ---- */

static int cmd_session(const char *addr, const char *network)
{
	peer_client *pc = client(addr, 1000);
	peer_node me, them;
	char line[64];
	kv_stat st;
	long t0;
	int rc;

	if (!check(pc != NULL, "client", "none"))
		return summary();
	me_node(&me, network);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (strncmp(line, "ok", 2) == 0) {
			rc = peer_call_hello(pc, &me, &them);
			check(rc == 0, "HELLO on the session's client", "%s",
			      E(rc));
		} else if (strncmp(line, "timeout", 7) == 0) {
			t0 = now_ms();
			rc = peer_call_kv_stat(pc, &st);
			t0 = now_ms() - t0;
			check(rc == MAGMA_EUNAVAIL && t0 < 3500,
			      "a stopped node: EUNAVAIL within the call "
			      "timeout",
			      "%s after %ld ms", E(rc), t0);
			printf("# failed after %ld ms\n", t0);
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		}
		printf("step done\n");
		fflush(stdout);
	}
	peer_client_free(pc);
	return summary();
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: peerit hello|badkey|garbage|session ADDR KEYFILE "
	        "NETWORK\n"
	        "       peerit files ADDR KEYFILE NETWORK NFSHOST NFSPORT\n"
	        "       peerit plain ADDR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *lvl = getenv("PEERIT_LOG");

	setvbuf(stdout, NULL, _IOLBF, 0);
	mlog_init("peerit", 0, lvl ? mlog_parse_level(lvl) : MLOG_WARN);
	if (argc == 3 && strcmp(argv[1], "plain") == 0)
		return cmd_plain(argv[2]);
	if (argc < 5)
		usage();
	if (load_keys(argv[3], argv[4]) < 0)
		return 1;
	if (argc == 5 && strcmp(argv[1], "hello") == 0)
		return cmd_hello(argv[2], argv[4]);
	if (argc == 5 && strcmp(argv[1], "badkey") == 0)
		return cmd_badkey(argv[2], argv[4]);
	if (argc == 5 && strcmp(argv[1], "garbage") == 0)
		return cmd_garbage(argv[2], argv[4]);
	if (argc == 5 && strcmp(argv[1], "session") == 0)
		return cmd_session(argv[2], argv[4]);
	if (argc == 7 && strcmp(argv[1], "files") == 0)
		return cmd_files(argv[2], argv[5], atoi(argv[6]));
	usage();
	return 2;
}
