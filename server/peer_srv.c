/* peer_srv.c - the handlers of the peer program (rpc/magma_peer.x) that
 * exist so far: NULL, HELLO, TABLE_GET and the read side of the local
 * store (KV_GET, KV_READ, KV_SCAN, KV_SYNC, KV_STAT).  TABLE_PUT, JOIN
 * and MEMBER_SET are member_srv.c's; KV_APPLY is kv_net.c's
 * (replication), RANGE_DIGEST and RANGE_PULL repair.c's.
 *
 * Every handler answers with status 0 or a MAGMA_E* code inside its
 * result (never a SYSTEM_ERR), and leaves the body of a failed result
 * empty.  Sizes the decoder lets through but the handler does not accept
 * are MAGMA_EINVAL. */
#include "peer_srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "kv_net.h"
#include "magma_peer.h"
#include "magmad.h"
#include "member.h"
#include "merr.h"
#include "mlog.h"
#include "repair.h"
#include "rpc/rpcmsg.h"
#include "store/kv.h"

_Static_assert(PEER_ID_LEN == RING_ID_LEN, "node id sizes differ");
_Static_assert(PEER_KEY_LEN == KV_KEY_LEN, "ring key sizes differ");
_Static_assert(PEER_SUB_MAX == KV_SUB_MAX, "sub key sizes differ");
_Static_assert(PEER_VAL_MAX == KV_VAL_MAX, "value sizes differ");
_Static_assert(PEER_NETWORK_MAX == CONF_NETWORK_MAX, "name sizes differ");
_Static_assert(PEER_ADDR_MAX + 1 == RING_ADDR_MAX, "address sizes differ");

/* ---- the table ---- */

int peer_id_parse(const char *hex, uint8_t id[RING_ID_LEN])
{
	uint8_t out[RING_ID_LEN];

	if (hex == NULL || !conf_valid_node_id(hex))
		return MAGMA_EINVAL;
	for (size_t i = 0; i < RING_ID_LEN; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return MAGMA_EINVAL;
		out[i] = (uint8_t)v;
	}
	memcpy(id, out, RING_ID_LEN);
	return 0;
}

int peer_table_single(const uint8_t id[RING_ID_LEN], unsigned r,
                      const char *peer, const char *nfs, ring **out)
{
	ring_member m;
	ring *rg = NULL;
	int rc;

	memset(&m, 0, sizeof(m));
	memcpy(m.id, id, RING_ID_LEN);
	if (strlen(peer) >= sizeof(m.peer) || strlen(nfs) >= sizeof(m.nfs))
		return MAGMA_EINVAL;
	strcpy(m.peer, peer);
	strcpy(m.nfs, nfs);
	m.weight = RING_WEIGHT_DEFAULT;
	m.state = RING_UP;
	if ((rc = ring_new(r, &rg)) < 0 || (rc = ring_add(rg, &m)) < 0 ||
	    (rc = ring_set_epoch(rg, 1)) < 0)
		goto out;
	*out = rg;
	rg = NULL;
out:
	ring_free(rg);
	return rc;
}

/* ---- helpers ---- */

static struct magmad *node(rpc_req *req)
{
	return req->daemon;
}

static kv *local_kv(rpc_req *req)
{
	return store_kv(node(req)->store);
}

/* While this node catches up (repair.h) it answers reads with
 * MAGMA_EUNAVAIL, so that the caller asks the next owner. */
static int catching_up(rpc_req *req)
{
	struct magmad *d = node(req);

	return d->net != NULL && !kv_net_serving(d->net);
}

static uint64_t our_epoch(struct magmad *d)
{
	uint64_t e = 0;

	pthread_rwlock_rdlock(&d->table_lock);
	if (d->table != NULL)
		(void)ring_epoch(d->table, &e);
	pthread_rwlock_unlock(&d->table_lock);
	return e;
}

/* Fill a reply header.  A newer epoch in the call means our table is
 * behind: the membership thread fetches it from the sender (member.h).
 * The incarnation is this node's, unless the handler set one: KV_APPLY
 * as primary gives the one its forwards were queued in, not whatever it
 * is by now (kv_net_interrupted). */
static void reply(rpc_req *req, const peer_hdr *h, peer_rhdr *rh, int status)
{
	uint64_t e = our_epoch(node(req));

	if (h != NULL && h->epoch > e) {
		LOG_D("peer xid %08x: sender epoch %llu is newer than ours "
		      "(%llu)",
		      req->xid, (unsigned long long)h->epoch,
		      (unsigned long long)e);
		member_saw_epoch(node(req), h->epoch,
		                 (const uint8_t *)h->sender_id);
	}
	rh->status = status;
	rh->epoch = e;
	if (rh->incarnation == 0)
		rh->incarnation =
		        node(req)->net ? kv_net_incarnation(node(req)->net) : 0;
}

/* Empty a result before failing, so that nothing of it is sent: the
 * dispatcher's xdr_free then finds only NULL pointers. */
static void clear(xdrproc_t x, void *res, size_t size)
{
	xdr_free(x, res);
	memset(res, 0, size);
}

/* ---- NULL, HELLO, TABLE_GET ---- */

static int peer_null(rpc_req *req, void *args, void *res)
{
	(void)req;
	(void)args;
	(void)res;
	return 0;
}

/* Describe this node into info; strings are malloc'd (xdr_free). */
static int self_info(struct magmad *d, peer_node_info *info)
{
	char peer[CONF_ADDR_MAX + 16], nfs[CONF_ADDR_MAX + 16];

	conf_format_addr(&d->peer_bound, peer, sizeof(peer));
	conf_format_addr(&d->nfs_bound, nfs, sizeof(nfs));
	if (strlen(peer) > PEER_ADDR_MAX || strlen(nfs) > PEER_ADDR_MAX)
		return MAGMA_ERANGE;
	info->network = strdup(d->cfg.network);
	info->peer_addr = strdup(peer);
	info->nfs_addr = strdup(nfs);
	if (!info->network || !info->peer_addr || !info->nfs_addr)
		return MAGMA_ENOMEM;
	memcpy(info->node_id, d->node_id, PEER_ID_LEN);
	info->proto_version = PEER_PROTO_VERSION;
	return 0;
}

static int peer_hello(rpc_req *req, void *args, void *res)
{
	peer_hello_args *a = args;
	peer_hello_res *r = res;
	struct magmad *d = node(req);
	char id[2 * PEER_ID_LEN + 1];
	int rc;

	rc = self_info(d, &r->self);
	if (rc < 0) {
		clear((xdrproc_t)xdr_peer_hello_res, r, sizeof(*r));
		reply(req, &a->hdr, &r->rh, rc);
		return 0;
	}
	keys_hex((const uint8_t *)a->me.node_id, PEER_ID_LEN, id);
	if (a->me.proto_version != PEER_PROTO_VERSION)
		rc = MAGMA_EPROTO;
	else if (memcmp(a->me.node_id, a->hdr.sender_id, PEER_ID_LEN) != 0)
		rc = MAGMA_EINVAL;
	else if (a->me.network == NULL ||
	         strcmp(a->me.network, d->cfg.network) != 0)
		rc = MAGMA_ECONFIG;
	if (rc == MAGMA_ECONFIG && a->me.network != NULL &&
	    a->me.network[0] == '\0')
		/* `magmactl join` asking for the network's name */
		LOG_I("HELLO from node %s without a network name (a joiner "
		      "asking for it)",
		      id);
	else if (rc < 0)
		LOG_W("HELLO from node %s: %s", id, magma_strerror(rc));
	else
		/* debug: heartbeats are HELLOs, one a second a member */
		LOG_D("HELLO from node %s (peer %.63s, nfs %.63s)", id,
		      a->me.peer_addr ? a->me.peer_addr : "",
		      a->me.nfs_addr ? a->me.nfs_addr : "");
	reply(req, &a->hdr, &r->rh, rc);
	return 0;
}

static int peer_table_get(rpc_req *req, void *args, void *res)
{
	peer_hdr *h = args;
	peer_table_res *r = res;
	struct magmad *d = node(req);
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = MAGMA_EUNAVAIL;

	pthread_rwlock_rdlock(&d->table_lock);
	if (d->table != NULL)
		rc = ring_encode(d->table, &buf, &len);
	pthread_rwlock_unlock(&d->table_lock);
	if (rc == 0 && len > PEER_TABLE_MAX) {
		free(buf);
		rc = MAGMA_ERANGE;
	}
	if (rc == 0) {
		r->table.table_val = (char *)buf;
		r->table.table_len = (u_int)len;
	}
	reply(req, h, &r->rh, rc);
	return 0;
}

/* ---- the local store ---- */

static int peer_kv_get(rpc_req *req, void *args, void *res)
{
	peer_get_args *a = args;
	peer_get_res *r = res;
	void *val = NULL;
	size_t len = 0;
	uint64_t ver = 0;
	int rc = MAGMA_EINVAL;

	if (catching_up(req))
		rc = MAGMA_EUNAVAIL;
	else if (a->sub.sub_len <= PEER_SUB_MAX)
		rc = kv_get(local_kv(req), (const uint8_t *)a->key,
		            a->sub.sub_val, a->sub.sub_len,
		            a->want_value ? &val : NULL, &len, &ver);
	if (rc == 0 && a->want_value && len > PEER_VAL_MAX)
		rc = MAGMA_EIO; /* the store holds no such value */
	if (rc == 0) {
		r->ver = ver;
		if (a->want_value) {
			r->value.value_val = val;
			r->value.value_len = (u_int)len;
			val = NULL;
		}
	}
	free(val);
	reply(req, &a->hdr, &r->rh, rc);
	return 0;
}

static int peer_kv_read(rpc_req *req, void *args, void *res)
{
	peer_read_args *a = args;
	peer_read_res *r = res;
	void *buf = NULL;
	size_t got = 0;
	int rc;

	if (a->sub.sub_len > PEER_SUB_MAX || a->len == 0 ||
	    a->len > PEER_VAL_MAX) {
		rc = MAGMA_EINVAL;
		goto out;
	}
	if (catching_up(req)) {
		rc = MAGMA_EUNAVAIL;
		goto out;
	}
	buf = malloc(a->len);
	if (buf == NULL) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	/* An offset past what size_t holds is past every value. */
	if (a->off > (uint64_t)SIZE_MAX - a->len)
		rc = kv_read(local_kv(req), (const uint8_t *)a->key,
		             a->sub.sub_val, a->sub.sub_len, SIZE_MAX - a->len,
		             0, NULL, &got);
	else
		rc = kv_read(local_kv(req), (const uint8_t *)a->key,
		             a->sub.sub_val, a->sub.sub_len, (size_t)a->off,
		             a->len, buf, &got);
	if (rc == 0 && got <= a->len) {
		r->data.data_val = buf;
		r->data.data_len = (u_int)got;
		buf = NULL;
	} else if (rc == 0) {
		rc = MAGMA_EIO;
	}
out:
	free(buf);
	reply(req, &a->hdr, &r->rh, rc);
	return 0;
}

typedef struct scan_acc {
	peer_scan_res *r;
	u_int cap;
	size_t bytes;
	const peer_scan_args *a;
} scan_acc;

/* Keep a record, or stop at the first one over the limits and name it
 * as the continuation. */
static int scan_keep(void *arg, const void *sub, size_t sublen, const void *val,
                     size_t vallen, uint64_t ver)
{
	scan_acc *acc = arg;
	peer_scan_res *r = acc->r;
	size_t size = sublen + (acc->a->want_values ? vallen : 0);
	peer_rec *rec;

	if (sublen > PEER_SUB_MAX || vallen > PEER_VAL_MAX)
		return MAGMA_EIO;
	if (r->recs.recs_len >= acc->a->max_records ||
	    (r->recs.recs_len > 0 && acc->bytes + size > acc->a->max_bytes)) {
		r->more = TRUE;
		r->next.next_val = malloc(sublen ? sublen : 1);
		if (r->next.next_val == NULL)
			return MAGMA_ENOMEM;
		memcpy(r->next.next_val, sub, sublen);
		r->next.next_len = (u_int)sublen;
		return 1;
	}
	if (r->recs.recs_len == acc->cap) {
		u_int ncap = acc->cap ? acc->cap * 2 : 16;
		peer_rec *p;

		if (ncap > acc->a->max_records)
			ncap = acc->a->max_records;
		p = realloc(r->recs.recs_val, ncap * sizeof(*p));
		if (p == NULL)
			return MAGMA_ENOMEM;
		memset(p + acc->cap, 0, (ncap - acc->cap) * sizeof(*p));
		r->recs.recs_val = p;
		acc->cap = ncap;
	}
	rec = &r->recs.recs_val[r->recs.recs_len];
	rec->sub.sub_val = malloc(sublen ? sublen : 1);
	if (rec->sub.sub_val == NULL)
		return MAGMA_ENOMEM;
	/* Counted now, so that xdr_free releases it whatever happens next. */
	r->recs.recs_len++;
	memcpy(rec->sub.sub_val, sub, sublen);
	rec->sub.sub_len = (u_int)sublen;
	rec->ver = ver;
	if (acc->a->want_values) {
		rec->value.value_val = malloc(vallen ? vallen : 1);
		if (rec->value.value_val == NULL)
			return MAGMA_ENOMEM;
		memcpy(rec->value.value_val, val, vallen);
		rec->value.value_len = (u_int)vallen;
	}
	acc->bytes += size;
	return 0;
}

static int peer_kv_scan(rpc_req *req, void *args, void *res)
{
	peer_scan_args *a = args;
	peer_scan_res *r = res;
	scan_acc acc = { r, 0, 0, a };
	int rc;

	if (a->prefix.prefix_len > PEER_SUB_MAX ||
	    a->from.from_len > PEER_SUB_MAX || a->max_records == 0 ||
	    a->max_records > PEER_RECS_MAX || a->max_bytes == 0 ||
	    a->max_bytes > PEER_BYTES_MAX) {
		rc = MAGMA_EINVAL;
		goto out;
	}
	if (catching_up(req)) {
		rc = MAGMA_EUNAVAIL;
		goto out;
	}
	/* One record more than asked: it is the continuation. */
	rc = kv_scan(local_kv(req), (const uint8_t *)a->key,
	             a->prefix.prefix_len ? a->prefix.prefix_val : NULL,
	             a->prefix.prefix_len,
	             a->from.from_len ? a->from.from_val : NULL,
	             a->from.from_len, (size_t)a->max_records + 1, scan_keep,
	             &acc);
out:
	if (rc < 0)
		clear((xdrproc_t)xdr_peer_scan_res, r, sizeof(*r));
	reply(req, &a->hdr, &r->rh, rc < 0 ? rc : 0);
	return 0;
}

static int peer_kv_sync(rpc_req *req, void *args, void *res)
{
	peer_hdr *h = args;
	peer_status_res *r = res;
	struct magmad *d = node(req);
	int rc = d->net ? kv_net_drain(d->net) : 0;

	reply(req, h, &r->rh, rc < 0 ? rc : kv_sync(local_kv(req)));
	return 0;
}

static int peer_kv_stat(rpc_req *req, void *args, void *res)
{
	peer_hdr *h = args;
	peer_stat_res *r = res;
	kv_stat st;
	int rc = kv_stat_get(local_kv(req), &st);

	if (rc == 0) {
		r->bytes_total = st.bytes_total;
		r->bytes_free = st.bytes_free;
		r->bytes_avail = st.bytes_avail;
		r->records = st.records;
	}
	reply(req, h, &r->rh, rc);
	return 0;
}

/* ---- replication and repair (kv_net.c, repair.c) ---- */

static int peer_kv_apply(rpc_req *req, void *args, void *res)
{
	peer_apply_args *a = args;
	peer_apply_res *r = res;
	struct magmad *d = node(req);
	int rc = MAGMA_EUNAVAIL;

	if (d->net != NULL)
		rc = kv_net_serve_apply(d->net, a, r);
	if (rc < 0 && rc != MAGMA_ECONFLICT && rc != MAGMA_EEXIST &&
	    rc != MAGMA_ENOENT)
		clear((xdrproc_t)xdr_peer_apply_res, r, sizeof(*r));
	reply(req, &a->hdr, &r->rh, rc);
	return 0;
}

static int peer_range_digest(rpc_req *req, void *args, void *res)
{
	peer_digest_args *a = args;
	peer_digest_res *r = res;

	reply(req, &a->hdr, &r->rh,
	      repair_serve_digest(node(req)->store, a, r));
	return 0;
}

static int peer_range_pull(rpc_req *req, void *args, void *res)
{
	peer_pull_args *a = args;
	peer_pull_res *r = res;

	reply(req, &a->hdr, &r->rh, repair_serve_pull(node(req)->store, a, r));
	return 0;
}

/* KV_GET_MANY's result: the values point into the store's map (a
 * view), so they go out without being copied first; the view ends when
 * the result is freed, after the reply was sent, which takes at most
 * RPC_SEND_MS (a peer that stops reading does not keep the store
 * from reusing pages for longer).  A decoded result (the asker's side,
 * and the fuzzer's round trip) has no view and owns its values as
 * rpcgen's does. */
typedef struct getm_view_res {
	peer_getm_res r;
	store_view *view;
} getm_view_res;

static bool_t xdr_getm_view_res(XDR *x, getm_view_res *w)
{
	if (x->x_op == XDR_FREE && w->view) {
		for (u_int i = 0; i < w->r.recs.recs_len; i++) {
			w->r.recs.recs_val[i].value.value_val = NULL;
			w->r.recs.recs_val[i].value.value_len = 0;
		}
		store_view_end(w->view);
		w->view = NULL;
	}
	return xdr_peer_getm_res(x, &w->r);
}

/* KV_GET_MANY: a prefix of the keys, values up to about PEER_BYTES_MAX
 * in all (the asker gets the rest another way). */
static int peer_kv_get_many(rpc_req *req, void *args, void *res)
{
	peer_getm_args *a = args;
	getm_view_res *w = res;
	peer_getm_res *r = &w->r;
	size_t n = a->keys.keys_len, bytes = 0, i;
	int rc = 0;

	if (catching_up(req))
		rc = MAGMA_EUNAVAIL;
	else if (n == 0 || n > PEER_GETM_MAX)
		rc = MAGMA_EINVAL;
	for (i = 0; rc == 0 && i < n; i++)
		if (a->keys.keys_val[i].sub.sub_len > PEER_SUB_MAX)
			rc = MAGMA_EINVAL;
	if (rc == 0 &&
	    !(r->recs.recs_val = calloc(n, sizeof(*r->recs.recs_val))))
		rc = MAGMA_ENOMEM;
	if (rc == 0)
		rc = store_view_begin(node(req)->store, &w->view);
	for (i = 0; rc == 0 && i < n && bytes < PEER_BYTES_MAX; i++) {
		peer_getm_key *k = &a->keys.keys_val[i];
		peer_getm_rec *o = &r->recs.recs_val[i];
		const void *val = NULL;
		size_t len = 0;

		o->status = store_view_get(w->view, (const uint8_t *)k->key,
		                           k->sub.sub_val, k->sub.sub_len, &val,
		                           &len, &o->ver);
		/* The store holds no value over PEER_VAL_MAX. */
		if (o->status == 0 && len > PEER_VAL_MAX)
			o->status = MAGMA_EIO;
		if (o->status == 0) {
			o->value.value_val = (char *)val;
			o->value.value_len = (u_int)len;
			bytes += len;
		}
		r->recs.recs_len = (u_int)(i + 1);
	}
	reply(req, &a->hdr, &r->rh, rc);
	return 0;
}

/* ---- KV_APPLY's argument codec ---- */

/* As rpcgen's xdr_peer_apply_args, except that sub keys and values are
 * decoded in place: they point into the call's record, which outlives
 * the call, so a forwarded write is not copied once more into zeroed
 * buffers before it is applied.  Freeing frees the arrays only. */
static bool_t xdr_op_inplace(XDR *x, peer_op *o)
{
	if (x->x_op == XDR_FREE)
		return TRUE;
	return xdr_int(x, &o->kind) &&
	       rpcmsg_xdr_opaque_inplace(x, &o->sub.sub_val, &o->sub.sub_len,
	                                 PEER_SUB_MAX) &&
	       rpcmsg_xdr_opaque_inplace(x, &o->val.val_val, &o->val.val_len,
	                                 PEER_VAL_MAX) &&
	       xdr_u_quad_t(x, &o->expect) && xdr_u_quad_t(x, &o->assigned);
}

static bool_t xdr_batch_inplace(XDR *x, peer_batch *b)
{
	return xdr_opaque(x, (char *)b->key, PEER_KEY_LEN) &&
	       xdr_array(x, (char **)&b->ops.ops_val, &b->ops.ops_len,
	                 PEER_OPS_MAX, sizeof(peer_op),
	                 (xdrproc_t)xdr_op_inplace);
}

static bool_t xdr_apply_args_inplace(XDR *x, peer_apply_args *a)
{
	if (x->x_op == XDR_ENCODE)
		return xdr_peer_apply_args(x, a);
	return xdr_peer_hdr(x, &a->hdr) &&
	       xdr_array(x, (char **)&a->batches.batches_val,
	                 &a->batches.batches_len, PEER_BATCHES_MAX,
	                 sizeof(peer_batch), (xdrproc_t)xdr_batch_inplace) &&
	       xdr_int(x, &a->durability) && xdr_bool(x, &a->replica) &&
	       xdr_bool(x, &a->missed);
}

/* ---- the table of rows ---- */

#define ROW(name, at, rt, fn)                                                  \
	{                                                                      \
		name, (xdrproc_t)xdr_##at, sizeof(at), (xdrproc_t)xdr_##rt,    \
		        sizeof(rt), fn                                         \
	}

/* A NULL fn answers PROC_UNAVAIL; the argument and result codecs are
 * filled anyway so that the rows document the wire format. */
static const rpc_proc peer_procs[] = {
	[PEERPROC_NULL] = { "NULL", NULL, 0, NULL, 0, peer_null },
	[PEERPROC_HELLO] =
	        ROW("HELLO", peer_hello_args, peer_hello_res, peer_hello),
	[PEERPROC_TABLE_GET] =
	        ROW("TABLE_GET", peer_hdr, peer_table_res, peer_table_get),
	[PEERPROC_TABLE_PUT] = ROW("TABLE_PUT", peer_table_put_args,
	                           peer_status_res, member_srv_table_put),
	[PEERPROC_KV_GET] =
	        ROW("KV_GET", peer_get_args, peer_get_res, peer_kv_get),
	[PEERPROC_KV_READ] =
	        ROW("KV_READ", peer_read_args, peer_read_res, peer_kv_read),
	[PEERPROC_KV_SCAN] =
	        ROW("KV_SCAN", peer_scan_args, peer_scan_res, peer_kv_scan),
	[PEERPROC_KV_APPLY] = { "KV_APPLY", (xdrproc_t)xdr_apply_args_inplace,
	                        sizeof(peer_apply_args),
	                        (xdrproc_t)xdr_peer_apply_res,
	                        sizeof(peer_apply_res), peer_kv_apply },
	[PEERPROC_KV_SYNC] =
	        ROW("KV_SYNC", peer_hdr, peer_status_res, peer_kv_sync),
	[PEERPROC_KV_STAT] =
	        ROW("KV_STAT", peer_hdr, peer_stat_res, peer_kv_stat),
	[PEERPROC_RANGE_DIGEST] = ROW("RANGE_DIGEST", peer_digest_args,
	                              peer_digest_res, peer_range_digest),
	[PEERPROC_RANGE_PULL] = ROW("RANGE_PULL", peer_pull_args, peer_pull_res,
	                            peer_range_pull),
	[PEERPROC_JOIN] =
	        ROW("JOIN", peer_join_args, peer_join_res, member_srv_join),
	[PEERPROC_MEMBER_SET] = ROW("MEMBER_SET", peer_member_set_args,
	                            peer_join_res, member_srv_member_set),
	[PEERPROC_KV_GET_MANY] = { "KV_GET_MANY", (xdrproc_t)xdr_peer_getm_args,
	                           sizeof(peer_getm_args),
	                           (xdrproc_t)xdr_getm_view_res,
	                           sizeof(getm_view_res), peer_kv_get_many },
};

const rpc_program peer_program = { MAGMA_PEER_PROGRAM, MAGMA_PEER_V1,
	                           peer_procs,
	                           sizeof(peer_procs) / sizeof(peer_procs[0]),
	                           "PEER" };
