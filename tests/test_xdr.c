/* test_xdr.c - CUnit suite for rpc/rpcmsg.c (record marking, call
 * header, replies checked with libtirpc's xdr_replymsg) and for
 * server/rpc_server.c + server/mount3.c over loopback TCP, driven by
 * libtirpc's client. */
#include <CUnit/CUnit.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <rpc/rpc.h>

#include "dispatch.h"
#include "fh.h"
#include "fs.h"
#include "keys.h"
#include "merr.h"
#include "nfs3_prot.h"
#include "rpc/rpcmsg.h"
#include "rpc_server.h"
#include "store.h"
#include "unit.h"

/* ---- building calls by hand ---- */

typedef struct wbuf {
	uint8_t b[16384];
	size_t n;
} wbuf;

static void put32(wbuf *w, uint32_t v)
{
	w->b[w->n++] = (uint8_t)(v >> 24);
	w->b[w->n++] = (uint8_t)(v >> 16);
	w->b[w->n++] = (uint8_t)(v >> 8);
	w->b[w->n++] = (uint8_t)v;
}

static void putopaque(wbuf *w, const void *p, size_t n)
{
	put32(w, (uint32_t)n);
	if (n > 0)
		memcpy(w->b + w->n, p, n);
	w->n += n;
	while (w->n % 4)
		w->b[w->n++] = 0;
}

static void authsys_body(wbuf *w, const char *machine, uint32_t uid,
                         uint32_t gid, uint32_t ngids)
{
	w->n = 0;
	put32(w, 12345);
	putopaque(w, machine, strlen(machine));
	put32(w, uid);
	put32(w, gid);
	put32(w, ngids);
	for (uint32_t i = 0; i < ngids; i++)
		put32(w, 100 + i);
}

/* A call header (no arguments) with the given credential. */
static void build_call(wbuf *w, uint32_t rpcvers, uint32_t flavor,
                       const wbuf *cred)
{
	w->n = 0;
	put32(w, 0xdeadbeef);
	put32(w, CALL);
	put32(w, rpcvers);
	put32(w, 100005);
	put32(w, 3);
	put32(w, 1);
	put32(w, flavor);
	putopaque(w, cred ? cred->b : NULL, cred ? cred->n : 0);
	put32(w, AUTH_NONE);
	put32(w, 0);
}

/* ---- record marking ---- */

static void mark(wbuf *w, uint32_t len, int last)
{
	put32(w, len | (last ? RPC_LAST_FRAG : 0));
}

static void test_record_single(void)
{
	wbuf w = { .n = 0 };
	rpcmsg_buf b = { 0 };
	size_t used;

	mark(&w, 8, 1);
	put32(&w, 1);
	put32(&w, 2);
	CU_ASSERT_EQUAL(
	        rpcmsg_read_record_mem(w.b, w.n, &b, RPC_MAX_RECORD, &used), 0);
	CU_ASSERT_EQUAL(b.len, 8);
	CU_ASSERT_EQUAL(used, 12);
	CU_ASSERT_EQUAL(memcmp(b.data, w.b + 4, 8), 0);
	/* Nothing left: a clean end of stream. */
	CU_ASSERT_EQUAL(
	        rpcmsg_read_record_mem(w.b, 0, &b, RPC_MAX_RECORD, &used), 1);
	rpcmsg_buf_free(&b);
}

static void test_record_multi(void)
{
	wbuf w = { .n = 0 };
	rpcmsg_buf b = { 0 };
	size_t used, total = 0;

	mark(&w, 4, 0);
	put32(&w, 0x11111111);
	mark(&w, 0, 0); /* empty fragments are legal */
	mark(&w, 8, 0);
	put32(&w, 0x22222222);
	put32(&w, 0x33333333);
	mark(&w, 4, 1);
	put32(&w, 0x44444444);
	total = w.n;
	/* A second record right behind the first. */
	mark(&w, 4, 1);
	put32(&w, 0x55555555);
	CU_ASSERT_EQUAL(
	        rpcmsg_read_record_mem(w.b, w.n, &b, RPC_MAX_RECORD, &used), 0);
	CU_ASSERT_EQUAL(b.len, 16);
	CU_ASSERT_EQUAL(used, total);
	CU_ASSERT_EQUAL(b.data[0], 0x11);
	CU_ASSERT_EQUAL(b.data[4], 0x22);
	CU_ASSERT_EQUAL(b.data[8], 0x33);
	CU_ASSERT_EQUAL(b.data[12], 0x44);
	CU_ASSERT_EQUAL(rpcmsg_read_record_mem(w.b + used, w.n - used, &b,
	                                       RPC_MAX_RECORD, &used),
	                0);
	CU_ASSERT_EQUAL(b.len, 4);
	CU_ASSERT_EQUAL(b.data[0], 0x55);
	rpcmsg_buf_free(&b);
}

static void test_record_oversized(void)
{
	wbuf w = { .n = 0 };
	rpcmsg_buf b = { 0 };
	size_t used;

	/* One huge fragment: refused before any allocation. */
	mark(&w, 0x7fffffff, 1);
	CU_ASSERT_EQUAL(
	        rpcmsg_read_record_mem(w.b, w.n, &b, RPC_MAX_RECORD, &used),
	        MAGMA_EPROTO);
	CU_ASSERT(b.cap == 0);
	/* Fragments that add up to more than the bound. */
	w.n = 0;
	mark(&w, 8, 0);
	put32(&w, 1);
	put32(&w, 2);
	mark(&w, 8, 1);
	put32(&w, 3);
	put32(&w, 4);
	CU_ASSERT_EQUAL(rpcmsg_read_record_mem(w.b, w.n, &b, 12, &used),
	                MAGMA_EPROTO);
	CU_ASSERT_EQUAL(rpcmsg_read_record_mem(w.b, w.n, &b, 16, &used), 0);
	CU_ASSERT_EQUAL(b.len, 16);
	rpcmsg_buf_free(&b);
}

static void test_record_truncated(void)
{
	wbuf w = { .n = 0 };
	rpcmsg_buf b = { 0 };
	size_t used, cut;

	mark(&w, 4, 0);
	put32(&w, 1);
	mark(&w, 8, 1);
	put32(&w, 2);
	put32(&w, 3);
	for (cut = 1; cut < w.n; cut++)
		CU_ASSERT_EQUAL(rpcmsg_read_record_mem(w.b, cut, &b,
		                                       RPC_MAX_RECORD, &used),
		                MAGMA_EPROTO);
	rpcmsg_buf_free(&b);
}

static void test_record_mark(void)
{
	uint8_t m[4];

	rpcmsg_put_mark(m, 0x123456);
	CU_ASSERT_EQUAL(m[0], 0x80);
	CU_ASSERT_EQUAL(m[1], 0x12);
	CU_ASSERT_EQUAL(m[2], 0x34);
	CU_ASSERT_EQUAL(m[3], 0x56);
}

/* ---- call header ---- */

static void test_call_authsys(void)
{
	wbuf cred, w;
	rpcmsg_call c;

	authsys_body(&cred, "client.example", 1000, 100, 3);
	build_call(&w, 2, AUTH_SYS, &cred);
	put32(&w, 0xabcdef01); /* an argument */
	CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n, &c), 0);
	CU_ASSERT_EQUAL(c.deny, RPCMSG_SERVE);
	CU_ASSERT_EQUAL(c.xid, 0xdeadbeef);
	CU_ASSERT_EQUAL(c.prog, 100005);
	CU_ASSERT_EQUAL(c.vers, 3);
	CU_ASSERT_EQUAL(c.proc, 1);
	CU_ASSERT_EQUAL(c.flavor, AUTH_SYS);
	CU_ASSERT_EQUAL(c.cred.uid, 1000);
	CU_ASSERT_EQUAL(c.cred.gid, 100);
	CU_ASSERT_EQUAL(c.cred.ngids, 3);
	CU_ASSERT_EQUAL(c.cred.gids[2], 102);
	CU_ASSERT_STRING_EQUAL(c.machine, "client.example");
	CU_ASSERT_EQUAL(c.args_off, w.n - 4);
}

static void test_call_authnone(void)
{
	wbuf w;
	rpcmsg_call c;

	build_call(&w, 2, AUTH_NONE, NULL);
	CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n, &c), 0);
	CU_ASSERT_EQUAL(c.deny, RPCMSG_SERVE);
	CU_ASSERT_EQUAL(c.cred.uid, RPC_NOBODY);
	CU_ASSERT_EQUAL(c.cred.gid, RPC_NOBODY);
	CU_ASSERT_EQUAL(c.cred.ngids, 0);
	CU_ASSERT_EQUAL(c.machine[0], '\0');
	CU_ASSERT_EQUAL(c.args_off, w.n);
}

static void test_call_truncated(void)
{
	wbuf cred, w;
	rpcmsg_call c;

	authsys_body(&cred, "host", 1, 2, 16);
	build_call(&w, 2, AUTH_SYS, &cred);
	for (size_t n = 0; n < w.n; n++)
		CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, n, &c), MAGMA_EGARBAGE);
	CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n, &c), 0);
}

static void test_call_not_a_call(void)
{
	wbuf w;
	rpcmsg_call c;

	build_call(&w, 2, AUTH_NONE, NULL);
	w.b[7] = REPLY;
	CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n, &c), MAGMA_EGARBAGE);
}

static void test_call_huge_auth(void)
{
	static const uint32_t lens[] = { 401, 0x10000, 0x7fffffff, 0xfffffffc,
		                         0xffffffff };
	wbuf w;
	rpcmsg_call c;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		/* credential length */
		build_call(&w, 2, AUTH_SYS, NULL);
		w.b[28] = (uint8_t)(lens[i] >> 24);
		w.b[29] = (uint8_t)(lens[i] >> 16);
		w.b[30] = (uint8_t)(lens[i] >> 8);
		w.b[31] = (uint8_t)lens[i];
		memset(w.b + w.n, 0, 600);
		CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n + 600, &c), 0);
		CU_ASSERT_EQUAL(c.deny, RPCMSG_DENY_AUTH);
		CU_ASSERT_EQUAL(c.auth_stat, AUTH_BADCRED);
		/* verifier length */
		build_call(&w, 2, AUTH_NONE, NULL);
		w.b[36] = (uint8_t)(lens[i] >> 24);
		w.b[37] = (uint8_t)(lens[i] >> 16);
		w.b[38] = (uint8_t)(lens[i] >> 8);
		w.b[39] = (uint8_t)lens[i];
		memset(w.b + w.n, 0, 600);
		CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n + 600, &c), 0);
		CU_ASSERT_EQUAL(c.deny, RPCMSG_DENY_AUTH);
		CU_ASSERT_EQUAL(c.auth_stat, AUTH_BADVERF);
	}
	/* Exactly 400 bytes is allowed. */
	{
		wbuf cred = { .n = 400 };

		memset(cred.b, 0, 400);
		build_call(&w, 2, AUTH_NONE, &cred);
		CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n, &c), 0);
		CU_ASSERT_EQUAL(c.deny, RPCMSG_SERVE);
	}
}

static void test_call_gids(void)
{
	wbuf cred, w;
	rpcmsg_call c;

	authsys_body(&cred, "h", 1, 2, 16);
	build_call(&w, 2, AUTH_SYS, &cred);
	CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n, &c), 0);
	CU_ASSERT_EQUAL(c.deny, RPCMSG_SERVE);
	CU_ASSERT_EQUAL(c.cred.ngids, 16);
	CU_ASSERT_EQUAL(c.cred.gids[15], 115);

	authsys_body(&cred, "h", 1, 2, 17);
	build_call(&w, 2, AUTH_SYS, &cred);
	CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n, &c), 0);
	CU_ASSERT_EQUAL(c.deny, RPCMSG_DENY_AUTH);
	CU_ASSERT_EQUAL(c.auth_stat, AUTH_BADCRED);
}

static void test_call_machine(void)
{
	char name[300];
	wbuf cred, w;
	rpcmsg_call c;

	memset(name, 'm', sizeof(name));
	name[255] = '\0';
	authsys_body(&cred, name, 1, 2, 0);
	build_call(&w, 2, AUTH_SYS, &cred);
	CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n, &c), 0);
	CU_ASSERT_EQUAL(c.deny, RPCMSG_SERVE);
	CU_ASSERT_EQUAL(strlen(c.machine), 255);

	name[255] = 'm';
	name[256] = '\0';
	authsys_body(&cred, name, 1, 2, 0);
	build_call(&w, 2, AUTH_SYS, &cred);
	CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n, &c), 0);
	CU_ASSERT_EQUAL(c.deny, RPCMSG_DENY_AUTH);
	CU_ASSERT_EQUAL(c.auth_stat, AUTH_BADCRED);

	/* A body shorter than what it claims to hold. */
	authsys_body(&cred, "host", 1, 2, 4);
	cred.n -= 8;
	build_call(&w, 2, AUTH_SYS, &cred);
	CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n, &c), 0);
	CU_ASSERT_EQUAL(c.deny, RPCMSG_DENY_AUTH);
	CU_ASSERT_EQUAL(c.auth_stat, AUTH_BADCRED);
}

static void test_call_flavors(void)
{
	wbuf w;
	rpcmsg_call c;

	build_call(&w, 2, RPCSEC_GSS, NULL);
	CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n, &c), 0);
	CU_ASSERT_EQUAL(c.deny, RPCMSG_DENY_AUTH);
	CU_ASSERT_EQUAL(c.auth_stat, AUTH_BADCRED);
	build_call(&w, 2, AUTH_SHORT, NULL);
	CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, w.n, &c), 0);
	CU_ASSERT_EQUAL(c.deny, RPCMSG_DENY_AUTH);
	CU_ASSERT_EQUAL(c.auth_stat, AUTH_REJECTEDCRED);
}

/* ---- replies, read back with xdr_replymsg ---- */

static int decode_reply(const uint8_t *buf, size_t len, struct rpc_msg *m,
                        xdrproc_t xres, void *res)
{
	XDR x;
	int ok;

	memset(m, 0, sizeof(*m));
	m->acpted_rply.ar_results.proc = xres;
	m->acpted_rply.ar_results.where = res;
	xdrmem_create(&x, (char *)buf, (u_int)len, XDR_DECODE);
	ok = xdr_replymsg(&x, m);
	CU_ASSERT_EQUAL(xdr_getpos(&x), len);
	xdr_destroy(&x);
	return ok;
}

static void test_call_rpcvers(void)
{
	wbuf w;
	rpcmsg_call c;
	uint8_t out[256];
	struct rpc_msg m;
	size_t len;

	build_call(&w, 3, AUTH_NONE, NULL);
	CU_ASSERT_EQUAL(rpcmsg_decode_call(w.b, 12, &c), 0);
	CU_ASSERT_EQUAL(c.deny, RPCMSG_DENY_RPCVERS);
	CU_ASSERT_EQUAL(rpcmsg_encode_denied(out, sizeof(out), &c, &len), 0);
	CU_ASSERT_FATAL(decode_reply(out, len, &m, NULL, NULL));
	CU_ASSERT_EQUAL(m.rm_xid, 0xdeadbeef);
	CU_ASSERT_EQUAL(m.rm_reply.rp_stat, MSG_DENIED);
	CU_ASSERT_EQUAL(m.rjcted_rply.rj_stat, RPC_MISMATCH);
	CU_ASSERT_EQUAL(m.rjcted_rply.rj_vers.low, 2);
	CU_ASSERT_EQUAL(m.rjcted_rply.rj_vers.high, 2);
}

static void test_reply_auth_error(void)
{
	rpcmsg_call c = { .xid = 7,
		          .deny = RPCMSG_DENY_AUTH,
		          .auth_stat = AUTH_TOOWEAK };
	uint8_t out[256];
	struct rpc_msg m;
	size_t len;

	CU_ASSERT_EQUAL(rpcmsg_encode_denied(out, sizeof(out), &c, &len), 0);
	CU_ASSERT_FATAL(decode_reply(out, len, &m, NULL, NULL));
	CU_ASSERT_EQUAL(m.rm_xid, 7);
	CU_ASSERT_EQUAL(m.rm_reply.rp_stat, MSG_DENIED);
	CU_ASSERT_EQUAL(m.rjcted_rply.rj_stat, AUTH_ERROR);
	CU_ASSERT_EQUAL(m.rjcted_rply.rj_why, AUTH_TOOWEAK);
	c.deny = RPCMSG_SERVE;
	CU_ASSERT_EQUAL(rpcmsg_encode_denied(out, sizeof(out), &c, &len),
	                MAGMA_EINVAL);
}

static void test_reply_success(void)
{
	uint8_t out[256];
	struct rpc_msg m;
	uint32_t v = 0x01020304, back = 0;
	size_t len;

	CU_ASSERT_EQUAL(rpcmsg_encode_success(out, sizeof(out), 9,
	                                      (xdrproc_t)xdr_u_int32_t, &v,
	                                      &len),
	                0);
	CU_ASSERT_EQUAL(len, 28);
	CU_ASSERT_FATAL(
	        decode_reply(out, len, &m, (xdrproc_t)xdr_u_int32_t, &back));
	CU_ASSERT_EQUAL(m.rm_xid, 9);
	CU_ASSERT_EQUAL(m.rm_reply.rp_stat, MSG_ACCEPTED);
	CU_ASSERT_EQUAL(m.acpted_rply.ar_verf.oa_flavor, AUTH_NONE);
	CU_ASSERT_EQUAL(m.acpted_rply.ar_stat, SUCCESS);
	CU_ASSERT_EQUAL(back, v);
	/* Too small a buffer is MAGMA_ERANGE, never an overrun. */
	for (size_t cap = 0; cap < 28; cap += 4)
		CU_ASSERT_EQUAL(rpcmsg_encode_success(out, cap, 9,
		                                      (xdrproc_t)xdr_u_int32_t,
		                                      &v, &len),
		                MAGMA_ERANGE);
}

static void test_reply_errors(void)
{
	static const uint32_t stats[] = { PROG_UNAVAIL, PROC_UNAVAIL,
		                          GARBAGE_ARGS, SYSTEM_ERR };
	uint8_t out[256];
	struct rpc_msg m;
	size_t len;

	for (size_t i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(rpcmsg_encode_error(out, sizeof(out), 11,
		                                    stats[i], &len),
		                0);
		CU_ASSERT_EQUAL(len, 24);
		CU_ASSERT_FATAL(decode_reply(out, len, &m, NULL, NULL));
		CU_ASSERT_EQUAL(m.rm_reply.rp_stat, MSG_ACCEPTED);
		CU_ASSERT_EQUAL(m.acpted_rply.ar_stat, stats[i]);
	}
	CU_ASSERT_EQUAL(
	        rpcmsg_encode_error(out, sizeof(out), 11, SUCCESS, &len),
	        MAGMA_EINVAL);
	CU_ASSERT_EQUAL(
	        rpcmsg_encode_prog_mismatch(out, sizeof(out), 12, 3, 4, &len),
	        0);
	CU_ASSERT_FATAL(decode_reply(out, len, &m, NULL, NULL));
	CU_ASSERT_EQUAL(m.acpted_rply.ar_stat, PROG_MISMATCH);
	CU_ASSERT_EQUAL(m.acpted_rply.ar_vers.low, 3);
	CU_ASSERT_EQUAL(m.acpted_rply.ar_vers.high, 4);
}

/* ---- the server, over loopback ---- */

/* xdr_void's type does not cast cleanly to xdrproc_t. */
static bool_t t_void(XDR *x, ...)
{
	return TRUE;
}

#define TEST_PROG 0x20004d41u
#define TEST_BIG (1024u * 1024u)

struct big_res {
	u_int len;
	char *data;
};

static bool_t xdr_big_res(XDR *x, struct big_res *r)
{
	return xdr_bytes(x, &r->data, &r->len, TEST_BIG);
}

/* ECHO: the argument plus the caller's uid and group count. */
static int t_echo(rpc_req *req, void *args, void *res)
{
	*(uint32_t *)res = *(uint32_t *)args + req->cred.uid + req->cred.ngids;
	return 0;
}

static int t_fail(rpc_req *req, void *args, void *res)
{
	return MAGMA_EIO;
}

static int t_big(rpc_req *req, void *args, void *resp)
{
	struct big_res *r = resp;

	r->data = malloc(TEST_BIG);
	if (r->data == NULL)
		return MAGMA_ENOMEM;
	memset(r->data, 0x5a, TEST_BIG);
	r->len = TEST_BIG;
	return 0;
}

static int t_null(rpc_req *req, void *args, void *res)
{
	return 0;
}

static const rpc_proc t_procs[] = {
	{ "NULL", NULL, 0, NULL, 0, t_null },
	{ "ECHO", (xdrproc_t)xdr_u_int32_t, sizeof(uint32_t),
	  (xdrproc_t)xdr_u_int32_t, sizeof(uint32_t), t_echo },
	{ "FAIL", NULL, 0, NULL, 0, t_fail },
	{ "BIG", NULL, 0, (xdrproc_t)xdr_big_res, sizeof(struct big_res),
	  t_big },
	{ "HOLE", NULL, 0, NULL, 0, NULL },
};
static const rpc_program t_prog2 = { TEST_PROG, 2, t_procs, 5, "T2" };
static const rpc_program t_prog4 = { TEST_PROG, 4, t_procs, 5, "T4" };
static const rpc_program *const t_progs[] = { &t_prog2, &t_prog4,
	                                      &mount3_program };

static rpc_server *t_srv;
static struct sockaddr_in t_sin;
static store *t_store;
static fs *t_fs;
static magma_keys t_keys;

static int srv_init(void)
{
	rpc_server_config cfg = {
		.addr = "127.0.0.1",
		.port = 0,
		.progs = t_progs,
		.nprogs = 3,
		.fs = NULL,
		.keys = &t_keys,
	};
	store_config sc = { .dir = unit_tmpdir(), .map_size = 64u << 20 };

	if (sc.dir == NULL || keys_derive("xdr test", 8, "xdrnet", &t_keys) ||
	    store_open(&t_store, &sc) != 0 ||
	    fs_open(&t_fs, store_kv(t_store), &t_keys) != 0)
		return -1;
	cfg.fs = t_fs;
	if (rpc_server_start(&t_srv, &cfg) != 0)
		return -1;
	memset(&t_sin, 0, sizeof(t_sin));
	t_sin.sin_family = AF_INET;
	t_sin.sin_port = htons(rpc_server_port(t_srv));
	t_sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return 0;
}

static int srv_clean(void)
{
	rpc_server_stop(t_srv);
	t_srv = NULL;
	fs_close(t_fs);
	store_close(t_store);
	return 0;
}

static CLIENT *clnt(uint32_t prog, uint32_t vers)
{
	struct sockaddr_in sin = t_sin;
	int sock = RPC_ANYSOCK;
	CLIENT *cl;

	cl = clnttcp_create(&sin, prog, vers, &sock, 0, 0);
	CU_ASSERT_PTR_NOT_NULL(cl);
	return cl;
}

static const struct timeval t_tmo = { 10, 0 };

static void test_srv_calls(void)
{
	CLIENT *cl = clnt(TEST_PROG, 2);
	uint32_t in = 5, out = 0;
	gid_t gids[2] = { 7, 8 };
	struct big_res big = { 0 };
	struct rpc_err err;

	if (cl == NULL)
		return;
	CU_ASSERT_EQUAL(clnt_call(cl, 0, t_void, NULL, t_void, NULL, t_tmo),
	                RPC_SUCCESS);
	/* AUTH_NONE: nobody, no groups. */
	CU_ASSERT_EQUAL(clnt_call(cl, 1, (xdrproc_t)xdr_u_int32_t, (char *)&in,
	                          (xdrproc_t)xdr_u_int32_t, (char *)&out,
	                          t_tmo),
	                RPC_SUCCESS);
	CU_ASSERT_EQUAL(out, 5 + RPC_NOBODY);
	auth_destroy(cl->cl_auth);
	cl->cl_auth = authunix_create("tester", 1000, 100, 2, gids);
	CU_ASSERT_EQUAL(clnt_call(cl, 1, (xdrproc_t)xdr_u_int32_t, (char *)&in,
	                          (xdrproc_t)xdr_u_int32_t, (char *)&out,
	                          t_tmo),
	                RPC_SUCCESS);
	CU_ASSERT_EQUAL(out, 5 + 1000 + 2);
	CU_ASSERT_EQUAL(clnt_call(cl, 2, t_void, NULL, t_void, NULL, t_tmo),
	                RPC_SYSTEMERROR);
	CU_ASSERT_EQUAL(clnt_call(cl, 4, t_void, NULL, t_void, NULL, t_tmo),
	                RPC_PROCUNAVAIL);
	CU_ASSERT_EQUAL(clnt_call(cl, 99, t_void, NULL, t_void, NULL, t_tmo),
	                RPC_PROCUNAVAIL);
	/* A reply bigger than the first reply buffer. */
	CU_ASSERT_EQUAL(clnt_call(cl, 3, t_void, NULL, (xdrproc_t)xdr_big_res,
	                          (char *)&big, t_tmo),
	                RPC_SUCCESS);
	CU_ASSERT_EQUAL(big.len, TEST_BIG);
	CU_ASSERT(big.data && big.data[TEST_BIG - 1] == 0x5a);
	xdr_free((xdrproc_t)xdr_big_res, (char *)&big);
	/* ECHO without its argument. */
	CU_ASSERT_EQUAL(clnt_call(cl, 1, t_void, NULL, (xdrproc_t)xdr_u_int32_t,
	                          (char *)&out, t_tmo),
	                RPC_CANTDECODEARGS);
	/* Still serving on the same connection. */
	CU_ASSERT_EQUAL(clnt_call(cl, 0, t_void, NULL, t_void, NULL, t_tmo),
	                RPC_SUCCESS);
	auth_destroy(cl->cl_auth);
	clnt_destroy(cl);

	cl = clnt(TEST_PROG, 3);
	if (cl == NULL)
		return;
	CU_ASSERT_EQUAL(clnt_call(cl, 0, t_void, NULL, t_void, NULL, t_tmo),
	                RPC_PROGVERSMISMATCH);
	clnt_geterr(cl, &err);
	CU_ASSERT_EQUAL(err.re_vers.low, 2);
	CU_ASSERT_EQUAL(err.re_vers.high, 4);
	clnt_destroy(cl);

	cl = clnt(TEST_PROG + 1, 1);
	if (cl == NULL)
		return;
	CU_ASSERT_EQUAL(clnt_call(cl, 0, t_void, NULL, t_void, NULL, t_tmo),
	                RPC_PROGUNAVAIL);
	clnt_destroy(cl);
}

static int raw_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { 10, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&t_sin, sizeof(t_sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A framing error closes that connection only. */
static void test_srv_bad_framing(void)
{
	uint8_t m[4] = { 0xff, 0xff, 0xff, 0xff }, c;
	wbuf w = { .n = 0 }, call;
	uint8_t rep[256];
	struct rpc_msg msg;
	ssize_t n;
	int fd = raw_connect();

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(send(fd, m, 4, 0), 4);
	CU_ASSERT_EQUAL(recv(fd, &c, 1, 0), 0);
	close(fd);

	/* A garbage record is dropped; the next call on it is answered. */
	fd = raw_connect();
	CU_ASSERT_FATAL(fd >= 0);
	mark(&w, 8, 1);
	put32(&w, 1);
	put32(&w, 0x99);
	build_call(&call, 3, AUTH_NONE, NULL);
	mark(&w, (uint32_t)call.n, 1);
	memcpy(w.b + w.n, call.b, call.n);
	w.n += call.n;
	CU_ASSERT_EQUAL(send(fd, w.b, w.n, 0), (ssize_t)w.n);
	n = recv(fd, rep, sizeof(rep), MSG_WAITALL);
	CU_ASSERT_FATAL(n == 4 + 24);
	CU_ASSERT_FATAL(decode_reply(rep + 4, (size_t)n - 4, &msg, NULL, NULL));
	CU_ASSERT_EQUAL(msg.rm_reply.rp_stat, MSG_DENIED);
	CU_ASSERT_EQUAL(msg.rjcted_rply.rj_stat, RPC_MISMATCH);
	close(fd);

	/* The server still accepts. */
	CLIENT *cl = clnt(TEST_PROG, 4);

	if (cl != NULL) {
		CU_ASSERT_EQUAL(
		        clnt_call(cl, 0, t_void, NULL, t_void, NULL, t_tmo),
		        RPC_SUCCESS);
		clnt_destroy(cl);
	}
}

static void test_mount_proto(void)
{
	CLIENT *cl = clnt(MOUNT_PROGRAM, MOUNT_V3);
	exports ex = NULL;
	mountlist ml = NULL;
	mountres3 res;
	char *path, longpath[1100];

	if (cl == NULL)
		return;
	CU_ASSERT_EQUAL(clnt_call(cl, MOUNTPROC3_NULL, t_void, NULL, t_void,
	                          NULL, t_tmo),
	                RPC_SUCCESS);
	CU_ASSERT_EQUAL(clnt_call(cl, MOUNTPROC3_EXPORT, t_void, NULL,
	                          (xdrproc_t)xdr_exports, (char *)&ex, t_tmo),
	                RPC_SUCCESS);
	CU_ASSERT_FATAL(ex != NULL);
	CU_ASSERT_STRING_EQUAL(ex->ex_dir, "/");
	CU_ASSERT_FATAL(ex->ex_groups != NULL);
	CU_ASSERT_STRING_EQUAL(ex->ex_groups->gr_name, "*");
	CU_ASSERT_PTR_NULL(ex->ex_next);
	xdr_free((xdrproc_t)xdr_exports, (char *)&ex);

	memset(&res, 0, sizeof(res));
	path = "/no/such/export";
	CU_ASSERT_EQUAL(clnt_call(cl, MOUNTPROC3_MNT, (xdrproc_t)xdr_dirpath,
	                          (char *)&path, (xdrproc_t)xdr_mountres3,
	                          (char *)&res, t_tmo),
	                RPC_SUCCESS);
	CU_ASSERT_EQUAL(res.fhs_status, MNT3ERR_NOENT);
	xdr_free((xdrproc_t)xdr_mountres3, (char *)&res);

	/* Over MNTPATHLEN: the client's own xdr_dirpath would refuse it. */
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	path = longpath;
	memset(&res, 0, sizeof(res));
	CU_ASSERT_EQUAL(clnt_call(cl, MOUNTPROC3_MNT, (xdrproc_t)xdr_wrapstring,
	                          (char *)&path, (xdrproc_t)xdr_mountres3,
	                          (char *)&res, t_tmo),
	                RPC_SUCCESS);
	CU_ASSERT_EQUAL(res.fhs_status, MNT3ERR_NAMETOOLONG);
	xdr_free((xdrproc_t)xdr_mountres3, (char *)&res);

	CU_ASSERT_EQUAL(clnt_call(cl, MOUNTPROC3_DUMP, t_void, NULL,
	                          (xdrproc_t)xdr_mountlist, (char *)&ml, t_tmo),
	                RPC_SUCCESS);
	CU_ASSERT_PTR_NULL(ml);
	xdr_free((xdrproc_t)xdr_mountlist, (char *)&ml);
	path = "/";
	CU_ASSERT_EQUAL(clnt_call(cl, MOUNTPROC3_UMNT, (xdrproc_t)xdr_dirpath,
	                          (char *)&path, t_void, NULL, t_tmo),
	                RPC_SUCCESS);
	CU_ASSERT_EQUAL(clnt_call(cl, MOUNTPROC3_UMNTALL, t_void, NULL, t_void,
	                          NULL, t_tmo),
	                RPC_SUCCESS);
	CU_ASSERT_EQUAL(clnt_call(cl, 6, t_void, NULL, t_void, NULL, t_tmo),
	                RPC_PROCUNAVAIL);
	clnt_destroy(cl);
}

static mountstat3 mnt(CLIENT *cl, const char *p, fs_ref *ref)
{
	mountres3 res;
	mountstat3 st;
	char *path = (char *)p;
	uint16_t exid = 0;

	memset(&res, 0, sizeof(res));
	CU_ASSERT_EQUAL(clnt_call(cl, MOUNTPROC3_MNT, (xdrproc_t)xdr_dirpath,
	                          (char *)&path, (xdrproc_t)xdr_mountres3,
	                          (char *)&res, t_tmo),
	                RPC_SUCCESS);
	st = res.fhs_status;
	if (st == MNT3_OK) {
		mountres3_ok *ok = &res.mountres3_u.mountinfo;

		CU_ASSERT_EQUAL(ok->auth_flavors.auth_flavors_len, 2);
		CU_ASSERT_EQUAL(ok->auth_flavors.auth_flavors_val[0], AUTH_SYS);
		CU_ASSERT_EQUAL(ok->auth_flavors.auth_flavors_val[1],
		                AUTH_NONE);
		CU_ASSERT_EQUAL(fh_decode(&t_keys, ok->fhandle.fhandle3_val,
		                          ok->fhandle.fhandle3_len, &exid, ref),
		                0);
		CU_ASSERT_EQUAL(exid, 1);
	}
	xdr_free((xdrproc_t)xdr_mountres3, (char *)&res);
	return st;
}

static int dump_has(CLIENT *cl, const char *dir)
{
	mountlist ml = NULL, e;
	int found = 0;

	CU_ASSERT_EQUAL(clnt_call(cl, MOUNTPROC3_DUMP, t_void, NULL,
	                          (xdrproc_t)xdr_mountlist, (char *)&ml, t_tmo),
	                RPC_SUCCESS);
	for (e = ml; e != NULL; e = e->ml_next)
		if (strcmp(e->ml_hostname, "127.0.0.1") == 0 &&
		    strcmp(e->ml_directory, dir) == 0)
			found++;
	xdr_free((xdrproc_t)xdr_mountlist, (char *)&ml);
	return found;
}

static void test_mount_mnt(void)
{
	CLIENT *cl = clnt(MOUNT_PROGRAM, MOUNT_V3);
	fs_cred root = { 0 };
	fs_sattr sa = { .set_mode = 1, .mode = 0755 };
	fs_ref rref, sub, file, got;
	uint8_t verf[8] = { 0 };
	char *path;

	if (cl == NULL)
		return;
	fs_root(t_fs, &rref);
	CU_ASSERT_EQUAL_FATAL(
	        fs_mkdir(t_fs, &root, &rref, "sub", 3, &sa, &sub, NULL, NULL),
	        0);
	CU_ASSERT_EQUAL_FATAL(fs_create(t_fs, &root, &rref, "file", 4,
	                                FS_CREATE_GUARDED, &sa, verf, &file,
	                                NULL, NULL),
	                      0);

	CU_ASSERT_EQUAL(mnt(cl, "/", &got), MNT3_OK);
	CU_ASSERT_EQUAL(memcmp(&got, &rref, sizeof(got)), 0);
	CU_ASSERT_EQUAL(mnt(cl, "//", &got), MNT3_OK);
	CU_ASSERT_EQUAL(mnt(cl, "/sub/", &got), MNT3_OK);
	CU_ASSERT_EQUAL(memcmp(&got, &sub, sizeof(got)), 0);
	CU_ASSERT_EQUAL(mnt(cl, "/./sub", &got), MNT3_OK);
	CU_ASSERT_EQUAL(mnt(cl, "/file", &got), MNT3ERR_NOTDIR);
	CU_ASSERT_EQUAL(mnt(cl, "/nope", &got), MNT3ERR_NOENT);
	CU_ASSERT_EQUAL(mnt(cl, "/sub/nope", &got), MNT3ERR_NOENT);
	CU_ASSERT_EQUAL(mnt(cl, "/sub/..", &got), MNT3ERR_INVAL);
	CU_ASSERT_EQUAL(mnt(cl, "relative", &got), MNT3ERR_NOENT);
	CU_ASSERT_EQUAL(mnt(cl, "", &got), MNT3ERR_NOENT);

	CU_ASSERT_EQUAL(dump_has(cl, "/"), 1);
	CU_ASSERT_EQUAL(dump_has(cl, "/sub"), 1);
	CU_ASSERT_EQUAL(dump_has(cl, "/nope"), 0);
	path = "/";
	CU_ASSERT_EQUAL(clnt_call(cl, MOUNTPROC3_UMNT, (xdrproc_t)xdr_dirpath,
	                          (char *)&path, t_void, NULL, t_tmo),
	                RPC_SUCCESS);
	CU_ASSERT_EQUAL(dump_has(cl, "/"), 0);
	CU_ASSERT_EQUAL(dump_has(cl, "/sub"), 1);
	CU_ASSERT_EQUAL(clnt_call(cl, MOUNTPROC3_UMNTALL, t_void, NULL, t_void,
	                          NULL, t_tmo),
	                RPC_SUCCESS);
	CU_ASSERT_EQUAL(dump_has(cl, "/sub"), 0);
	clnt_destroy(cl);
}

/* A port in use is MAGMA_EADDRINUSE. */
static void test_srv_addrinuse(void)
{
	rpc_server_config cfg = {
		.addr = "127.0.0.1",
		.port = rpc_server_port(t_srv),
		.progs = t_progs,
		.nprogs = 3,
	};
	rpc_server *s = NULL;

	CU_ASSERT_EQUAL(rpc_server_start(&s, &cfg), MAGMA_EADDRINUSE);
	cfg.addr = "not-an-address";
	CU_ASSERT_EQUAL(rpc_server_start(&s, &cfg), MAGMA_ECONFIG);
	cfg.addr = "::1";
	cfg.port = 0;
	if (rpc_server_start(&s, &cfg) == 0)
		rpc_server_stop(s);
}

int unit_suite_xdr(void)
{
	CU_pSuite s = CU_add_suite("xdr", NULL, NULL);
	CU_pSuite t;

	if (s == NULL)
		return CU_get_error();
	CU_add_test(s, "record single", test_record_single);
	CU_add_test(s, "record multi-fragment", test_record_multi);
	CU_add_test(s, "record oversized", test_record_oversized);
	CU_add_test(s, "record truncated", test_record_truncated);
	CU_add_test(s, "record mark", test_record_mark);
	CU_add_test(s, "call AUTH_SYS", test_call_authsys);
	CU_add_test(s, "call AUTH_NONE", test_call_authnone);
	CU_add_test(s, "call truncated at every length", test_call_truncated);
	CU_add_test(s, "call that is a reply", test_call_not_a_call);
	CU_add_test(s, "call huge opaque_auth", test_call_huge_auth);
	CU_add_test(s, "call 16/17 gids", test_call_gids);
	CU_add_test(s, "call machine name", test_call_machine);
	CU_add_test(s, "call other flavors", test_call_flavors);
	CU_add_test(s, "call rpcvers 3", test_call_rpcvers);
	CU_add_test(s, "reply AUTH_ERROR", test_reply_auth_error);
	CU_add_test(s, "reply SUCCESS", test_reply_success);
	CU_add_test(s, "reply errors", test_reply_errors);

	t = CU_add_suite("rpc_server", srv_init, srv_clean);
	if (t == NULL)
		return CU_get_error();
	CU_add_test(t, "calls", test_srv_calls);
	CU_add_test(t, "bad framing", test_srv_bad_framing);
	CU_add_test(t, "MOUNT protocol", test_mount_proto);
	CU_add_test(t, "MOUNT MNT/DUMP/UMNT", test_mount_mnt);
	CU_add_test(t, "address in use", test_srv_addrinuse);
	return CU_get_error();
}
