/* peer_client.c - the calling side of the peer program: one TLS
 * connection per peer_client, record-marked ONC RPC calls with AUTH_NONE
 * (the TLS session authenticates), replies matched by xid, every wait
 * bounded by a deadline. */
#include "peer_client.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keys.h"
#include "magma_peer.h"
#include "merr.h"
#include "mlog.h"
#include "rpc/rpcmsg.h"
#include "rpc/transport.h"

#define CALL_HDR_LEN 40 /* xid .. verifier of an AUTH_NONE call */

struct peer_client {
	pthread_mutex_t mu; /* one call at a time: everything below */
	char addr[TRANSPORT_PEER_MAX];
	uint8_t psk[TRANSPORT_PSK_LEN];
	uint8_t id[PEER_NODE_ID_LEN];
	peer_client_opts o;
	transport *t; /* NULL when not connected */
	uint32_t xid;
	uint8_t *out; /* record mark, then the call */
	size_t outcap;
	rpcmsg_buf in;
	uint64_t epoch; /* atomics: read without mu */
	uint64_t seen;
};

_Static_assert(TRANSPORT_PSK_LEN == 32, "join token size");

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int opt_ms(int v, int def, int *out)
{
	if (v < 0 || v > PEER_CALL_MS_MAX)
		return MAGMA_EINVAL;
	*out = v ? v : def;
	return 0;
}

int peer_client_new(const char *addr, const uint8_t psk[32],
                    const uint8_t self_id[PEER_NODE_ID_LEN],
                    const peer_client_opts *opts, peer_client **out)
{
	peer_client_opts o = { 0, 0, 0 };
	peer_client *pc;
	int rc;

	if (addr == NULL || psk == NULL || self_id == NULL ||
	    strlen(addr) >= TRANSPORT_PEER_MAX)
		return MAGMA_EINVAL;
	if (opts != NULL)
		o = *opts;
	if ((rc = opt_ms(o.connect_ms, PEER_CONNECT_MS, &o.connect_ms)) < 0 ||
	    (rc = opt_ms(o.handshake_ms, PEER_HANDSHAKE_MS, &o.handshake_ms)) <
	            0 ||
	    (rc = opt_ms(o.call_ms, PEER_CALL_MS, &o.call_ms)) < 0)
		return rc;
	pc = calloc(1, sizeof(*pc));
	if (pc == NULL)
		return MAGMA_ENOMEM;
	if (pthread_mutex_init(&pc->mu, NULL) != 0) {
		free(pc);
		return MAGMA_ESYS;
	}
	snprintf(pc->addr, sizeof(pc->addr), "%s", addr);
	memcpy(pc->psk, psk, sizeof(pc->psk));
	memcpy(pc->id, self_id, sizeof(pc->id));
	pc->o = o;
	/* A random first xid: replies meant for an earlier client of the
	 * same peer can never match. */
	if (keys_random(&pc->xid, sizeof(pc->xid)) < 0)
		pc->xid = (uint32_t)now_ms();
	*out = pc;
	return 0;
}

static void conn_drop(peer_client *pc, int orderly)
{
	if (pc->t == NULL)
		return;
	if (orderly)
		(void)transport_shutdown(pc->t);
	transport_close(pc->t);
	pc->t = NULL;
}

void peer_client_free(peer_client *pc)
{
	if (pc == NULL)
		return;
	conn_drop(pc, 1);
	free(pc->out);
	rpcmsg_buf_free(&pc->in);
	explicit_bzero(pc->psk, sizeof(pc->psk));
	pthread_mutex_destroy(&pc->mu);
	free(pc);
}

void peer_client_set_epoch(peer_client *pc, uint64_t epoch)
{
	__atomic_store_n(&pc->epoch, epoch, __ATOMIC_RELAXED);
}

uint64_t peer_client_seen_epoch(peer_client *pc)
{
	return __atomic_load_n(&pc->seen, __ATOMIC_RELAXED);
}

const char *peer_client_addr(const peer_client *pc)
{
	return pc->addr;
}

static void note_epoch(peer_client *pc, uint64_t e)
{
	uint64_t cur = __atomic_load_n(&pc->seen, __ATOMIC_RELAXED);

	while (e > cur &&
	       !__atomic_compare_exchange_n(&pc->seen, &cur, e, 0,
	                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void peer_client_hdr(peer_client *pc, struct peer_hdr *h)
{
	h->epoch = __atomic_load_n(&pc->epoch, __ATOMIC_RELAXED);
	memcpy(h->sender_id, pc->id, PEER_ID_LEN);
}

/* ---- the connection ---- */

static int conn_open(peer_client *pc)
{
	int fd, rc;

	rc = transport_tcp_connect(pc->addr, pc->o.connect_ms, &fd);
	if (rc < 0)
		return rc;
	/* Takes fd in every case; logs a failed handshake itself. */
	rc = transport_tls_client(fd, pc->psk, NULL, pc->o.handshake_ms,
	                          &pc->t);
	if (rc < 0)
		pc->t = NULL;
	return rc;
}

/* An idle connection that has something to read was closed by the
 * peer (or carries junk): either way it is no good for a call. */
static int conn_stale(peer_client *pc)
{
	struct pollfd p = { .fd = pc->t->fd, .events = POLLIN };

	return poll(&p, 1, 0) != 0;
}

int peer_client_connect(peer_client *pc)
{
	int rc = 0;

	pthread_mutex_lock(&pc->mu);
	if (pc->t != NULL && conn_stale(pc))
		conn_drop(pc, 0);
	if (pc->t == NULL)
		rc = conn_open(pc);
	pthread_mutex_unlock(&pc->mu);
	return rc;
}

/* ---- messages ---- */

static int encode_call(peer_client *pc, uint32_t xid, uint32_t proc,
                       xdrproc_t xargs, void *args, size_t *len)
{
	u_int w[10] = { xid,  CALL,      2, MAGMA_PEER_PROGRAM, MAGMA_PEER_V1,
		        proc, AUTH_NONE, 0, AUTH_NONE,          0 };
	unsigned long need = CALL_HDR_LEN;
	XDR x;
	int ok = 1;

	if (xargs != NULL) {
		unsigned long n = xdr_sizeof(xargs, args);

		if (n == 0)
			return MAGMA_EINVAL; /* over an XDR bound */
		need += n;
	}
	if (need > RPC_MAX_RECORD)
		return MAGMA_EINVAL;
	if (pc->outcap < need) {
		uint8_t *p = realloc(pc->out, RPC_RECMARK_LEN + need);

		if (p == NULL)
			return MAGMA_ENOMEM;
		pc->out = p;
		pc->outcap = need;
	}
	xdrmem_create(&x, (char *)pc->out + RPC_RECMARK_LEN, (u_int)need,
	              XDR_ENCODE);
	for (size_t i = 0; i < 10 && ok; i++)
		ok = xdr_u_int(&x, &w[i]);
	if (ok && xargs != NULL)
		ok = xargs(&x, args);
	*len = xdr_getpos(&x);
	xdr_destroy(&x);
	if (!ok)
		return MAGMA_EINVAL;
	rpcmsg_put_mark(pc->out, *len);
	return 0;
}

int peer_reply_decode(const void *rec, size_t len, uint32_t xid, xdrproc_t xres,
                      void *res)
{
	char verf[RPC_MAX_AUTH];
	u_int rxid, mtype, rstat, flavor, vlen, astat;
	XDR x;
	int rc;

	if (len > RPC_MAX_RECORD)
		return MAGMA_EPROTO;
	xdrmem_create(&x, (char *)rec, (u_int)len, XDR_DECODE);
	if (!xdr_u_int(&x, &rxid) || !xdr_u_int(&x, &mtype) || mtype != REPLY) {
		rc = MAGMA_EPROTO;
		goto out;
	}
	if (rxid != xid) {
		rc = 1;
		goto out;
	}
	if (!xdr_u_int(&x, &rstat)) {
		rc = MAGMA_EPROTO;
		goto out;
	}
	if (rstat == MSG_DENIED) {
		rc = MAGMA_EACCES;
		goto out;
	}
	if (rstat != MSG_ACCEPTED || !xdr_u_int(&x, &flavor) ||
	    !xdr_u_int(&x, &vlen) || vlen > RPC_MAX_AUTH ||
	    !xdr_opaque(&x, verf, vlen) || !xdr_u_int(&x, &astat)) {
		rc = MAGMA_EPROTO;
		goto out;
	}
	switch (astat) {
	case SUCCESS: rc = 0; break;
	case PROG_UNAVAIL:
	case PROG_MISMATCH:
	case PROC_UNAVAIL: rc = MAGMA_ENOTSUPP; break;
	case GARBAGE_ARGS: rc = MAGMA_EGARBAGE; break;
	case SYSTEM_ERR: rc = MAGMA_ESYS; break;
	default: rc = MAGMA_EPROTO;
	}
	if (rc == 0 && xres != NULL && !xres(&x, res)) {
		xdr_free(xres, res);
		rc = MAGMA_EPROTO;
	}
out:
	xdr_destroy(&x);
	return rc;
}

/* ---- one call ---- */

typedef struct rd_ctx {
	transport *t;
	long deadline;
} rd_ctx;

/* rpcmsg_read_fn that never waits past the deadline in total. */
static int rd_exact(void *ctx, void *buf, size_t len)
{
	rd_ctx *c = ctx;
	size_t done = 0, got;
	int rc;

	while (done < len) {
		long left = c->deadline - now_ms();

		if (left <= 0)
			return MAGMA_EUNAVAIL;
		if ((rc = transport_set_read_timeout(c->t, (int)left)) < 0 ||
		    (rc = transport_read(c->t, (char *)buf + done, len - done,
		                         &got)) < 0)
			return rc;
		if (got == 0)
			return done == 0 ? 1 : MAGMA_EPROTO;
		done += got;
	}
	return 0;
}

/* Send the encoded call and wait for its reply.  Any failure leaves the
 * connection unusable (the caller drops it). */
static int exchange(peer_client *pc, size_t len, uint32_t xid, long deadline,
                    xdrproc_t xres, void *res)
{
	rd_ctx c = { pc->t, deadline };
	long left = deadline - now_ms();
	int rc;

	if (left <= 0)
		return MAGMA_EUNAVAIL;
	if ((rc = transport_set_timeout(pc->t, (int)left)) < 0)
		return rc;
	transport_cork(pc->t); /* a large call goes out in one send */
	rc = transport_write_all(pc->t, pc->out, RPC_RECMARK_LEN + len);
	if (transport_uncork(pc->t) < 0 && rc == 0)
		rc = MAGMA_EUNAVAIL;
	if (rc < 0)
		return rc;
	for (;;) {
		rc = rpcmsg_read_record(rd_exact, &c, &pc->in, RPC_MAX_RECORD);
		if (rc == 1)
			return MAGMA_EUNAVAIL; /* closed before replying */
		if (rc < 0)
			return rc;
		rc = peer_reply_decode(pc->in.data, pc->in.len, xid, xres, res);
		if (rc != 1)
			return rc;
		LOG_D("peer %s: reply to another xid dropped", pc->addr);
	}
}

static int retry_safe(uint32_t proc)
{
	return proc != PEERPROC_TABLE_PUT && proc != PEERPROC_KV_APPLY;
}

/* Errors that say the connection broke, not the call. */
static int conn_error(int rc)
{
	return rc == MAGMA_EUNAVAIL || rc == MAGMA_EPROTO ||
	       rc == MAGMA_ECRYPTO;
}

int peer_client_call(peer_client *pc, uint32_t proc, xdrproc_t xargs,
                     void *args, xdrproc_t xres, void *res)
{
	uint32_t xid;
	size_t len;
	long deadline;
	int rc, reused;

	pthread_mutex_lock(&pc->mu);
	xid = ++pc->xid;
	rc = encode_call(pc, xid, proc, xargs, args, &len);
	if (rc < 0)
		goto out;
	deadline = 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		reused = 0;
		if (pc->t != NULL && conn_stale(pc))
			conn_drop(pc, 0);
		if (pc->t != NULL)
			reused = 1;
		else if ((rc = conn_open(pc)) < 0)
			goto out;
		if (deadline == 0)
			deadline = now_ms() + pc->o.call_ms;
		rc = exchange(pc, len, xid, deadline, xres, res);
		if (rc == 0 || !conn_error(rc))
			break;
		/* Broken mid-call: a late reply must never meet the next
		 * call, so this connection is done. */
		LOG_D("peer %s: call %u failed on the connection: %s", pc->addr,
		      proc, magma_strerror(rc));
		conn_drop(pc, 0);
		if (rc == MAGMA_EPROTO)
			rc = MAGMA_EUNAVAIL; /* ended inside a record */
		if (!reused || !retry_safe(proc) || deadline - now_ms() <= 0)
			break;
	}
out:
	pthread_mutex_unlock(&pc->mu);
	return rc;
}

/* ---- the procedures ---- */

int peer_call_null(peer_client *pc)
{
	return peer_client_call(pc, PEERPROC_NULL, NULL, NULL, NULL, NULL);
}

void peer_node_to_wire(peer_node *n, peer_node_info *w)
{
	w->network = n->network;
	memcpy(w->node_id, n->id, PEER_ID_LEN);
	w->peer_addr = n->peer;
	w->nfs_addr = n->nfs;
	w->proto_version = n->proto_version;
}

static void node_from(peer_node *n, const peer_node_info *i)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->network, sizeof(n->network), "%s",
	         i->network ? i->network : "");
	memcpy(n->id, i->node_id, PEER_NODE_ID_LEN);
	snprintf(n->peer, sizeof(n->peer), "%s",
	         i->peer_addr ? i->peer_addr : "");
	snprintf(n->nfs, sizeof(n->nfs), "%s", i->nfs_addr ? i->nfs_addr : "");
	n->proto_version = i->proto_version;
}

int peer_call_hello(peer_client *pc, const peer_node *me, peer_node *them)
{
	peer_hello_args a;
	peer_hello_res r;
	peer_node mine = *me;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	peer_client_hdr(pc, &a.hdr);
	peer_node_to_wire(&mine, &a.me);
	rc = peer_client_call(pc, PEERPROC_HELLO,
	                      (xdrproc_t)xdr_peer_hello_args, &a,
	                      (xdrproc_t)xdr_peer_hello_res, &r);
	if (rc < 0)
		return rc;
	note_epoch(pc, r.rh.epoch);
	node_from(them, &r.self);
	rc = r.rh.status;
	xdr_free((xdrproc_t)xdr_peer_hello_res, &r);
	return rc;
}

int peer_call_table_get(peer_client *pc, uint8_t **buf, size_t *len)
{
	peer_hdr h;
	peer_table_res r;
	int rc;

	peer_client_hdr(pc, &h);
	memset(&r, 0, sizeof(r));
	rc = peer_client_call(pc, PEERPROC_TABLE_GET, (xdrproc_t)xdr_peer_hdr,
	                      &h, (xdrproc_t)xdr_peer_table_res, &r);
	if (rc < 0)
		return rc;
	note_epoch(pc, r.rh.epoch);
	rc = r.rh.status;
	if (rc == 0) {
		*len = r.table.table_len;
		*buf = (uint8_t *)r.table.table_val;
		if (*buf == NULL && (*buf = malloc(1)) == NULL)
			rc = MAGMA_ENOMEM;
		r.table.table_val = NULL;
	}
	xdr_free((xdrproc_t)xdr_peer_table_res, &r);
	return rc;
}

static int sub_ok(const void *sub, size_t sublen)
{
	return sublen <= PEER_SUB_MAX && (sublen == 0 || sub != NULL);
}

int peer_call_kv_get(peer_client *pc, const uint8_t key[KV_KEY_LEN],
                     const void *sub, size_t sublen, void **val, size_t *vallen,
                     uint64_t *ver)
{
	peer_get_args a;
	peer_get_res r;
	int rc;

	if (!sub_ok(sub, sublen))
		return MAGMA_EINVAL;
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	peer_client_hdr(pc, &a.hdr);
	memcpy(a.key, key, PEER_KEY_LEN);
	a.sub.sub_val = (char *)sub;
	a.sub.sub_len = (u_int)sublen;
	a.want_value = val != NULL;
	rc = peer_client_call(pc, PEERPROC_KV_GET, (xdrproc_t)xdr_peer_get_args,
	                      &a, (xdrproc_t)xdr_peer_get_res, &r);
	if (rc < 0)
		return rc;
	note_epoch(pc, r.rh.epoch);
	rc = r.rh.status;
	if (rc == 0 && val != NULL) {
		void *v = r.value.value_val;

		/* kv_get hands out a buffer even for an empty value. */
		if (v == NULL && (v = malloc(1)) == NULL) {
			rc = MAGMA_ENOMEM;
			goto out;
		}
		r.value.value_val = NULL;
		*val = v;
	}
	if (rc == 0) {
		if (vallen != NULL)
			*vallen = val != NULL ? r.value.value_len : 0;
		if (ver != NULL)
			*ver = r.ver;
	}
out:
	xdr_free((xdrproc_t)xdr_peer_get_res, &r);
	return rc;
}

/* KV_GET_MANY of keys[0..n) (filled by the caller, freed here), the
 * reply decoded by xres into res. */
static int getm_call(peer_client *pc, peer_getm_key *keys, size_t n,
                     xdrproc_t xres, void *res)
{
	peer_getm_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	peer_client_hdr(pc, &a.hdr);
	a.keys.keys_val = keys;
	a.keys.keys_len = (u_int)n;
	rc = peer_client_call(pc, PEERPROC_KV_GET_MANY,
	                      (xdrproc_t)xdr_peer_getm_args, &a, xres, res);
	free(keys);
	return rc;
}

int peer_call_kv_get_many(peer_client *pc, kv_get_req *reqs, size_t n,
                          size_t *done)
{
	peer_getm_res r;
	peer_getm_key *keys;
	size_t i, got;
	int rc;

	*done = 0;
	if (n == 0 || n > PEER_GETM_MAX)
		return MAGMA_EINVAL;
	for (i = 0; i < n; i++)
		if (!sub_ok(reqs[i].sub, reqs[i].sublen))
			return MAGMA_EINVAL;
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return MAGMA_ENOMEM;
	memset(&r, 0, sizeof(r));
	for (i = 0; i < n; i++) {
		memcpy(keys[i].key, reqs[i].key, PEER_KEY_LEN);
		keys[i].sub.sub_val = (char *)reqs[i].sub;
		keys[i].sub.sub_len = (u_int)reqs[i].sublen;
	}
	rc = getm_call(pc, keys, n, (xdrproc_t)xdr_peer_getm_res, &r);
	if (rc < 0)
		return rc;
	note_epoch(pc, r.rh.epoch);
	rc = r.rh.status;
	got = r.recs.recs_len;
	if (rc == 0 && (got == 0 || got > n))
		rc = MAGMA_EPROTO; /* a prefix of at least one was promised */
	for (i = 0; rc == 0 && i < got; i++) {
		peer_getm_rec *o = &r.recs.recs_val[i];

		reqs[i].val = NULL;
		reqs[i].rc = o->status > 0 ? MAGMA_EPROTO : o->status;
		if (reqs[i].rc != 0)
			continue;
		/* kv_get hands out a buffer even for an empty value. */
		reqs[i].val =
		        o->value.value_val ? o->value.value_val : malloc(1);
		if (reqs[i].val == NULL) {
			reqs[i].rc = MAGMA_ENOMEM;
			continue;
		}
		o->value.value_val = NULL;
		reqs[i].vallen = o->value.value_len;
		reqs[i].ver = o->ver;
	}
	if (rc == 0)
		*done = got;
	xdr_free((xdrproc_t)xdr_peer_getm_res, &r);
	return rc;
}

/* The KV_GET_MANY reply decoded straight into kv_read_reqs: each value
 * is read in place in the received record (xdr_inline) and only the
 * asked range copied out, into the caller's buffer. */
typedef struct getm_into {
	peer_rhdr rh;
	kv_read_req *reqs;
	size_t n, got;
} getm_into;

static bool_t xdr_getm_into(XDR *x, getm_into *g)
{
	u_int cnt, len;

	if (x->x_op == XDR_FREE)
		return TRUE; /* nothing allocated */
	if (x->x_op != XDR_DECODE || !xdr_peer_rhdr(x, &g->rh) ||
	    !xdr_u_int(x, &cnt) || cnt > g->n)
		return FALSE;
	for (g->got = 0; g->got < cnt; g->got++) {
		kv_read_req *q = &g->reqs[g->got];
		char *p = NULL;
		uint64_t ver;
		int status;

		if (!xdr_int(x, &status) || !xdr_uint64_t(x, &ver) ||
		    !rpcmsg_xdr_opaque_inplace(x, &p, &len, PEER_VAL_MAX))
			return FALSE;
		q->rc = status > 0 ? MAGMA_EPROTO : status;
		q->got = 0;
		if (q->rc == 0 && q->off < len) {
			q->got = len - q->off < q->len ? len - q->off : q->len;
			memcpy(q->buf, p + q->off, q->got);
		}
	}
	return TRUE;
}

int peer_call_kv_read_many(peer_client *pc, const uint8_t key[KV_KEY_LEN],
                           kv_read_req *reqs, size_t n, size_t *done)
{
	peer_getm_key *keys;
	getm_into g = { .reqs = reqs, .n = n };
	size_t i;
	int rc;

	*done = 0;
	if (n == 0 || n > PEER_GETM_MAX)
		return MAGMA_EINVAL;
	for (i = 0; i < n; i++)
		if (!sub_ok(reqs[i].sub, reqs[i].sublen) ||
		    (reqs[i].len && !reqs[i].buf))
			return MAGMA_EINVAL;
	if (!(keys = calloc(n, sizeof(*keys))))
		return MAGMA_ENOMEM;
	for (i = 0; i < n; i++) {
		memcpy(keys[i].key, key, PEER_KEY_LEN);
		keys[i].sub.sub_val = (char *)reqs[i].sub;
		keys[i].sub.sub_len = (u_int)reqs[i].sublen;
	}
	rc = getm_call(pc, keys, n, (xdrproc_t)xdr_getm_into, &g);
	if (rc < 0)
		return rc;
	note_epoch(pc, g.rh.epoch);
	rc = g.rh.status;
	if (rc == 0 && g.got == 0)
		rc = MAGMA_EPROTO; /* a prefix of at least one was promised */
	if (rc == 0)
		*done = g.got;
	return rc;
}

int peer_call_kv_read(peer_client *pc, const uint8_t key[KV_KEY_LEN],
                      const void *sub, size_t sublen, uint64_t off, size_t len,
                      void *buf, size_t *got)
{
	peer_read_args a;
	size_t done = 0;
	int rc = 0;

	if (!sub_ok(sub, sublen) || (len > 0 && buf == NULL))
		return MAGMA_EINVAL;
	memset(&a, 0, sizeof(a));
	memcpy(a.key, key, PEER_KEY_LEN);
	a.sub.sub_val = (char *)sub;
	a.sub.sub_len = (u_int)sublen;
	/* len 0 still asks, so that an absent record is MAGMA_ENOENT. */
	do {
		peer_read_res r;
		size_t want = len - done;

		if (want > PEER_VAL_MAX)
			want = PEER_VAL_MAX;
		peer_client_hdr(pc, &a.hdr);
		a.off = off + done;
		a.len = (u_int)(want ? want : 1);
		memset(&r, 0, sizeof(r));
		rc = peer_client_call(pc, PEERPROC_KV_READ,
		                      (xdrproc_t)xdr_peer_read_args, &a,
		                      (xdrproc_t)xdr_peer_read_res, &r);
		if (rc < 0)
			break;
		note_epoch(pc, r.rh.epoch);
		rc = r.rh.status;
		if (rc == 0 && r.data.data_len > a.len)
			rc = MAGMA_EPROTO;
		if (rc == 0 && want > 0) {
			memcpy((char *)buf + done, r.data.data_val,
			       r.data.data_len);
			done += r.data.data_len;
		}
		/* A short answer is the end of the value. */
		want = rc == 0 && want > 0 && r.data.data_len == a.len;
		xdr_free((xdrproc_t)xdr_peer_read_res, &r);
		if (rc < 0 || !want)
			break;
	} while (done < len);
	if (rc == 0)
		*got = done;
	return rc;
}

int peer_call_kv_scan(peer_client *pc, const uint8_t key[KV_KEY_LEN],
                      const void *prefix, size_t prefixlen, const void *from,
                      size_t fromlen, size_t max, kv_scan_fn fn, void *arg)
{
	peer_scan_args a;
	char next[PEER_SUB_MAX];
	size_t seen = 0;
	int rc, more;

	if (!sub_ok(prefix, prefixlen) || !sub_ok(from, fromlen) || !fn)
		return MAGMA_EINVAL;
	memset(&a, 0, sizeof(a));
	memcpy(a.key, key, PEER_KEY_LEN);
	a.prefix.prefix_val = (char *)prefix;
	a.prefix.prefix_len = (u_int)prefixlen;
	if (fromlen)
		memcpy(next, from, fromlen);
	a.from.from_val = next;
	a.from.from_len = (u_int)fromlen;
	a.max_bytes = PEER_BYTES_MAX;
	a.want_values = TRUE;
	do {
		peer_scan_res r;

		peer_client_hdr(pc, &a.hdr);
		a.max_records = PEER_SCAN_PAGE;
		if (max && max - seen < PEER_SCAN_PAGE)
			a.max_records = (u_int)(max - seen);
		memset(&r, 0, sizeof(r));
		rc = peer_client_call(pc, PEERPROC_KV_SCAN,
		                      (xdrproc_t)xdr_peer_scan_args, &a,
		                      (xdrproc_t)xdr_peer_scan_res, &r);
		if (rc < 0)
			return rc;
		note_epoch(pc, r.rh.epoch);
		rc = r.rh.status;
		more = rc == 0 && r.more;
		if (rc == 0 && r.recs.recs_len > a.max_records)
			rc = MAGMA_EPROTO;
		for (u_int i = 0; rc == 0 && i < r.recs.recs_len; i++) {
			const peer_rec *p = &r.recs.recs_val[i];

			static const char empty[1];

			/* Never NULL, as a local scan's pointers. */
			rc = fn(arg, p->sub.sub_val ? p->sub.sub_val : empty,
			        p->sub.sub_len,
			        p->value.value_val ? p->value.value_val : empty,
			        p->value.value_len, p->ver);
			seen++;
		}
		if (rc == 1) {
			rc = 0;
			more = 0;
		}
		if (more &&
		    (r.next.next_len > PEER_SUB_MAX || r.recs.recs_len == 0)) {
			rc = MAGMA_EPROTO; /* no progress: refuse to loop */
			more = 0;
		}
		if (more) {
			memcpy(next, r.next.next_val, r.next.next_len);
			a.from.from_len = r.next.next_len;
		}
		xdr_free((xdrproc_t)xdr_peer_scan_res, &r);
	} while (rc == 0 && more && (max == 0 || seen < max));
	return rc;
}

int peer_call_kv_sync(peer_client *pc, uint64_t *incarnation)
{
	peer_hdr h;
	peer_status_res r;
	int rc;

	peer_client_hdr(pc, &h);
	memset(&r, 0, sizeof(r));
	rc = peer_client_call(pc, PEERPROC_KV_SYNC, (xdrproc_t)xdr_peer_hdr, &h,
	                      (xdrproc_t)xdr_peer_status_res, &r);
	if (rc < 0)
		return rc;
	note_epoch(pc, r.rh.epoch);
	if (incarnation)
		*incarnation = r.rh.incarnation;
	return r.rh.status;
}

int peer_call_kv_stat(peer_client *pc, kv_stat *st)
{
	peer_hdr h;
	peer_stat_res r;
	int rc;

	peer_client_hdr(pc, &h);
	memset(&r, 0, sizeof(r));
	rc = peer_client_call(pc, PEERPROC_KV_STAT, (xdrproc_t)xdr_peer_hdr, &h,
	                      (xdrproc_t)xdr_peer_stat_res, &r);
	if (rc < 0)
		return rc;
	note_epoch(pc, r.rh.epoch);
	rc = r.rh.status;
	if (rc == 0) {
		st->bytes_total = r.bytes_total;
		st->bytes_free = r.bytes_free;
		st->bytes_avail = r.bytes_avail;
		st->records = r.records;
	}
	return rc;
}
