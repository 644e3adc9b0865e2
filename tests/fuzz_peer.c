/* fuzz_peer.c - fuzz target for the peer protocol (rpc/magma_peer.x):
 * the argument decoder and handler of every procedure through the
 * dispatch rows of server/peer_srv.c, against a real LMDB store, and the
 * client's reply decoder (peer_reply_decode, server/peer_client.h).
 *
 * Input: byte 0 picks what to run (mod 2 * PEERPROCS): below PEERPROCS
 * the procedure of that number gets the rest as its XDR arguments (a
 * decoded call runs its handler, whose result must encode); from
 * PEERPROCS on, the rest is a reply record to xid FZ_XID decoded for the
 * result type of procedure (byte 0 - PEERPROCS).
 *
 * A libFuzzer target, or run by tests/fuzz_main.c (see fuzz.h). */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpc/rpc.h>

#include "dispatch.h"
#include "magma_peer.h"
#include "magmad.h"
#include "merr.h"
#include "mlog.h"
#include "peer_client.h"
#include "peer_srv.h"
#include "rpc/rpcmsg.h"
#include "store.h"
#include "tests/fuzz.h"

#define PEERPROCS 14 /* NULL .. MEMBER_SET */
#define FZ_XID 0x12345678u
#define FZ_OUT (RPC_MAX_RECORD + 64)

/* The records every run can find (sub "s0".."s9" under key FZ_KEY). */
static const uint8_t fz_key[KV_KEY_LEN] = { 0xfe, 'F', 'Z' };

static struct {
	char dir[256];
	struct magmad d;
	uint8_t *out;
	unsigned long tried[2 * PEERPROCS], decoded[2 * PEERPROCS];
} fz;

static void die(const char *what, int rc)
{
	fprintf(stderr, "fuzz_peer: %s: %s\n", what, magma_strerror(rc));
	abort();
}

static void fuzz_exit(void)
{
	DIR *dir;
	struct dirent *e;
	char p[512];

	if (getenv("MAGMA_FUZZ_STATS") != NULL)
		for (int i = 0; i < 2 * PEERPROCS; i++)
			fprintf(stderr, "%s %-12s %8lu tried %8lu decoded\n",
			        i < PEERPROCS ? "call " : "reply",
			        peer_program.procs[i % PEERPROCS].name,
			        fz.tried[i], fz.decoded[i]);
	ring_free(fz.d.table);
	store_close(fz.d.store);
	free(fz.out);
	if ((dir = opendir(fz.dir)) != NULL) {
		while ((e = readdir(dir)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", fz.dir, e->d_name);
			unlink(p);
		}
		closedir(dir);
	}
	rmdir(fz.dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	const char *lvl = getenv("MAGMA_FUZZ_LOG");
	struct magmad *d = &fz.d;
	store_config sc;
	kv_op ops[10];
	kv_batch b;
	char subs[10][3];
	static char big[70000];
	int rc;

	(void)argc;
	(void)argv;
	mlog_init("fuzz_peer", 0, lvl ? mlog_parse_level(lvl) : MLOG_ERR);
	if (tmp == NULL || *tmp == '\0')
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz.dir, sizeof(fz.dir), "%s/fuzz_peer.XXXXXX", tmp);
	if (mkdtemp(fz.dir) == NULL)
		die("mkdtemp", MAGMA_ESYS);
	sc.dir = fz.dir;
	sc.map_size = 64ull << 20;
	if ((rc = store_open(&d->store, &sc)) < 0)
		die("store_open", rc);
	memset(big, 'v', sizeof(big));
	for (int i = 0; i < 10; i++) {
		snprintf(subs[i], sizeof(subs[i]), "s%d", i);
		ops[i] = (kv_op){ KV_PUT,
			          subs[i],
			          2,
			          big,
			          i == 9 ? sizeof(big) : (size_t)i,
			          KV_VER_ANY };
	}
	memcpy(b.key, fz_key, KV_KEY_LEN);
	b.ops = ops;
	b.nops = 10;
	if ((rc = kv_apply(store_kv(d->store), &b, 1, KV_DURABLE)) < 0)
		die("kv_apply", rc);

	snprintf(d->cfg.network, sizeof(d->cfg.network), "fuzz");
	snprintf(d->cfg.node_id, sizeof(d->cfg.node_id), "%s",
	         "00112233445566778899aabbccddeeff");
	conf_parse_addr("127.0.0.1:7390", &d->peer_bound);
	conf_parse_addr("127.0.0.1:2049", &d->nfs_bound);
	if ((rc = peer_id_parse(d->cfg.node_id, d->node_id)) < 0)
		die("peer_id_parse", rc);
	pthread_rwlock_init(&d->table_lock, NULL);
	if ((rc = peer_table_single(d->node_id, 2, "127.0.0.1:7390",
	                            "127.0.0.1:2049", &d->table)) < 0)
		die("peer_table_single", rc);
	fz.out = malloc(FZ_OUT);
	if (fz.out == NULL)
		die("malloc", MAGMA_ENOMEM);
	atexit(fuzz_exit);
	return 0;
}

static bool_t xdr_nothing(XDR *x, void *p)
{
	(void)x;
	(void)p;
	return TRUE;
}

/* Decode args for row p and run its handler; the result must encode. */
static void run_call(const rpc_proc *p, int k, const uint8_t *in, size_t n)
{
	xdrproc_t xa = p->xdr_args ? p->xdr_args : (xdrproc_t)xdr_nothing;
	xdrproc_t xr = p->xdr_res ? p->xdr_res : (xdrproc_t)xdr_nothing;
	void *args = calloc(1, p->args_size ? p->args_size : 1);
	void *res = calloc(1, p->res_size ? p->res_size : 1);
	rpc_req req;
	size_t len;
	XDR x;
	int rc;

	if (args == NULL || res == NULL)
		die("calloc", MAGMA_ENOMEM);
	xdrmem_create(&x, (char *)in, (u_int)n, XDR_DECODE);
	if (!xa(&x, args)) {
		xdr_destroy(&x);
		xdr_free(xa, args);
		goto out;
	}
	xdr_destroy(&x);
	fz.decoded[k]++;
	if (p->fn != NULL) {
		memset(&req, 0, sizeof(req));
		req.daemon = &fz.d;
		req.xid = FZ_XID;
		rc = p->fn(&req, args, res);
		if (rc < 0) {
			fprintf(stderr, "fuzz_peer: %s returned %s\n", p->name,
			        magma_strerror(rc));
			abort();
		}
		rc = rpcmsg_encode_success(fz.out, FZ_OUT, FZ_XID, xr, res,
		                           &len);
		if (rc < 0) {
			fprintf(stderr,
			        "fuzz_peer: %s result does not "
			        "encode: %s\n",
			        p->name, magma_strerror(rc));
			abort();
		}
		/* The client takes back what the server sent. */
		xdr_free(xr, res);
		memset(res, 0, p->res_size ? p->res_size : 1);
		rc = peer_reply_decode(fz.out, len, FZ_XID,
		                       p->xdr_res ? p->xdr_res : NULL, res);
		if (rc != 0) {
			fprintf(stderr,
			        "fuzz_peer: %s reply does not "
			        "decode: %s\n",
			        p->name, magma_strerror(rc));
			abort();
		}
		xdr_free(xr, res);
	}
	xdr_free(xa, args);
out:
	free(args);
	free(res);
}

static void run_reply(const rpc_proc *p, int k, const uint8_t *in, size_t n)
{
	void *res = calloc(1, p->res_size ? p->res_size : 1);
	int rc;

	if (res == NULL)
		die("calloc", MAGMA_ENOMEM);
	rc = peer_reply_decode(in, n, FZ_XID, p->xdr_res, res);
	if (rc == 0) {
		fz.decoded[k]++;
		if (p->xdr_res != NULL)
			xdr_free(p->xdr_res, res);
	}
	free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int k;

	if (size < 1)
		return 0;
	k = data[0] % (2 * PEERPROCS);
	fz.tried[k]++;
	if (k < PEERPROCS)
		run_call(&peer_program.procs[k], k, data + 1, size - 1);
	else
		run_reply(&peer_program.procs[k - PEERPROCS], k, data + 1,
		          size - 1);
	return 0;
}

#ifndef MAGMA_LIBFUZZER
const unsigned long fuzz_count = 200000;

/* Well-formed arguments of procedure k into buf. */
static size_t seed_args(int k, uint8_t *buf, size_t cap)
{
	char net[] = "fuzz", peer[] = "127.0.0.2:7390", nfs[] = "";
	char sub[] = "s5", pre[] = "s", table[64];
	peer_hello_args h;
	peer_get_args g;
	peer_read_args r;
	peer_scan_args s;
	peer_table_put_args t;
	peer_op op;
	peer_batch bt;
	peer_apply_args ap;
	peer_digest_args dg;
	peer_pull_args pl;
	peer_hdr hd;
	void *args = &hd;
	xdrproc_t xa = (xdrproc_t)xdr_peer_hdr;
	XDR x;
	size_t n;

	memset(&hd, 0, sizeof(hd));
	hd.epoch = fuzz_rnd() % 3;
	memcpy(hd.sender_id,
	       "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa"
	       "\xbb\xcc\xdd\xee\xff",
	       16);
	switch (k) {
	case PEERPROC_NULL: xa = NULL; break;
	case PEERPROC_HELLO:
		memset(&h, 0, sizeof(h));
		h.hdr = hd;
		h.me.network = net;
		memcpy(h.me.node_id, hd.sender_id, 16);
		h.me.peer_addr = peer;
		h.me.nfs_addr = nfs;
		h.me.proto_version = fuzz_rnd() % 4 ? 1 : 2;
		args = &h;
		xa = (xdrproc_t)xdr_peer_hello_args;
		break;
	case PEERPROC_TABLE_PUT:
		memset(&t, 0, sizeof(t));
		memset(table, 0, sizeof(table));
		t.hdr = hd;
		t.table.table_val = table;
		t.table.table_len = fuzz_rnd() % sizeof(table);
		args = &t;
		xa = (xdrproc_t)xdr_peer_table_put_args;
		break;
	case PEERPROC_KV_GET:
		memset(&g, 0, sizeof(g));
		g.hdr = hd;
		memcpy(g.key, fz_key, KV_KEY_LEN);
		sub[1] = (char)('0' + fuzz_rnd() % 11);
		g.sub.sub_val = sub;
		g.sub.sub_len = 2;
		g.want_value = fuzz_rnd() % 2;
		args = &g;
		xa = (xdrproc_t)xdr_peer_get_args;
		break;
	case PEERPROC_KV_READ:
		memset(&r, 0, sizeof(r));
		r.hdr = hd;
		memcpy(r.key, fz_key, KV_KEY_LEN);
		r.sub.sub_val = sub;
		r.sub.sub_len = 2;
		r.off = fuzz_rnd() % 100;
		r.len = fuzz_rnd() % 200;
		args = &r;
		xa = (xdrproc_t)xdr_peer_read_args;
		break;
	case PEERPROC_KV_SCAN:
		memset(&s, 0, sizeof(s));
		s.hdr = hd;
		memcpy(s.key, fz_key, KV_KEY_LEN);
		s.prefix.prefix_val = pre;
		s.prefix.prefix_len = fuzz_rnd() % 2;
		s.from.from_val = sub;
		s.from.from_len = fuzz_rnd() % 3;
		s.max_records = fuzz_rnd() % 12;
		s.max_bytes = fuzz_rnd() % 4 ? 1 + fuzz_rnd() % 100000 : 0;
		s.want_values = fuzz_rnd() % 2;
		args = &s;
		xa = (xdrproc_t)xdr_peer_scan_args;
		break;
	case PEERPROC_KV_APPLY:
		memset(&op, 0, sizeof(op));
		op.kind = KV_PUT;
		op.sub.sub_val = sub;
		op.sub.sub_len = 2;
		memcpy(bt.key, fz_key, KV_KEY_LEN);
		bt.ops.ops_val = &op;
		bt.ops.ops_len = 1;
		memset(&ap, 0, sizeof(ap));
		ap.hdr = hd;
		ap.batches.batches_val = &bt;
		ap.batches.batches_len = 1;
		args = &ap;
		xa = (xdrproc_t)xdr_peer_apply_args;
		break;
	case PEERPROC_RANGE_DIGEST:
		memset(&dg, 0, sizeof(dg));
		dg.hdr = hd;
		dg.parts = 4;
		args = &dg;
		xa = (xdrproc_t)xdr_peer_digest_args;
		break;
	case PEERPROC_RANGE_PULL:
		memset(&pl, 0, sizeof(pl));
		pl.hdr = hd;
		pl.max_records = 10;
		pl.max_bytes = 1000;
		args = &pl;
		xa = (xdrproc_t)xdr_peer_pull_args;
		break;
	default: break; /* TABLE_GET, KV_SYNC, KV_STAT: the header */
	}
	if (xa == NULL)
		return 0;
	xdrmem_create(&x, (char *)buf, (u_int)cap, XDR_ENCODE);
	n = xa(&x, args) ? xdr_getpos(&x) : 0;
	xdr_destroy(&x);
	return n;
}

size_t fuzz_seed(uint8_t *buf, size_t cap)
{
	int k = (int)(fuzz_rnd() % (2 * PEERPROCS));
	size_t n;

	buf[0] = (uint8_t)k;
	if (k < PEERPROCS)
		return 1 + seed_args(k, buf + 1, cap - 1);
	/* A reply: run the handler on seed arguments and keep its reply. */
	{
		const rpc_proc *p = &peer_program.procs[k - PEERPROCS];
		static uint8_t a[8192];
		void *args, *res;
		rpc_req req;
		size_t alen = seed_args(k - PEERPROCS, a, sizeof(a)), len = 0;
		XDR x;

		if (p->xdr_res == NULL) /* NULL: a void result */
			return 1 +
			       (rpcmsg_encode_success(buf + 1, cap - 1, FZ_XID,
			                              (xdrproc_t)xdr_nothing,
			                              NULL, &len) < 0
			                ? 0
			                : len);
		if (p->fn == NULL) { /* an empty result of the right type */
			res = calloc(1, p->res_size);
			if (res == NULL ||
			    rpcmsg_encode_success(buf + 1, cap - 1, FZ_XID,
			                          p->xdr_res, res, &len) < 0)
				len = 0;
			free(res);
			return 1 + len;
		}
		args = calloc(1, p->args_size ? p->args_size : 1);
		res = calloc(1, p->res_size);
		if (args == NULL || res == NULL)
			die("calloc", MAGMA_ENOMEM);
		xdrmem_create(&x, (char *)a, (u_int)alen, XDR_DECODE);
		if (p->xdr_args == NULL || p->xdr_args(&x, args)) {
			memset(&req, 0, sizeof(req));
			req.daemon = &fz.d;
			if (p->fn(&req, args, res) == 0 &&
			    rpcmsg_encode_success(buf + 1, cap - 1, FZ_XID,
			                          p->xdr_res, res, &len) < 0)
				len = 0;
			xdr_free(p->xdr_res, res);
		}
		xdr_destroy(&x);
		if (p->xdr_args != NULL)
			xdr_free(p->xdr_args, args);
		free(args);
		free(res);
		n = 1 + len;
	}
	return n;
}
#endif
