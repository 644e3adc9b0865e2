/* rpcmsg.c - ONC RPC record marking, call-header decoding and reply
 * encoding on memory buffers (RFC 5531).  No sockets here: rpc_server.c
 * supplies the reader, and the tests and fuzzers feed buffers. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "merr.h"
#include "rpc/rpcmsg.h"

#define RPCMSG_MIN_CAP (64u * 1024u)

void rpcmsg_buf_free(rpcmsg_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Make room for need bytes, growing geometrically but never past max. */
static int buf_reserve(rpcmsg_buf *b, size_t need, size_t max)
{
	size_t ncap;
	uint8_t *p;

	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : RPCMSG_MIN_CAP;
	while (ncap < need)
		ncap *= 2;
	if (ncap > max)
		ncap = need > max ? need : max;
	p = realloc(b->data, ncap);
	if (p == NULL)
		return MAGMA_ENOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int rpcmsg_read_record(rpcmsg_read_fn rd, void *ctx, rpcmsg_buf *b, size_t max)
{
	int first = 1;
	int rc;

	b->len = 0;
	for (;;) {
		uint8_t m[4];
		uint32_t w, flen;

		rc = rd(ctx, m, sizeof(m));
		if (rc == 1)
			return first ? 1 : MAGMA_EPROTO;
		if (rc < 0)
			return rc;
		first = 0;
		w = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 |
		    (uint32_t)m[2] << 8 | m[3];
		flen = w & ~RPC_LAST_FRAG;
		/* Checked before any allocation: the length is hostile. */
		if (flen > max - b->len)
			return MAGMA_EPROTO;
		if (flen > 0) {
			rc = buf_reserve(b, b->len + flen, max);
			if (rc < 0)
				return rc;
			rc = rd(ctx, b->data + b->len, flen);
			if (rc == 1)
				return MAGMA_EPROTO;
			if (rc < 0)
				return rc;
			b->len += flen;
		}
		if (w & RPC_LAST_FRAG)
			return 0;
	}
}

struct memrd {
	const uint8_t *p;
	size_t len, off;
};

static int mem_read(void *ctx, void *buf, size_t len)
{
	struct memrd *m = ctx;

	if (m->off == m->len)
		return 1;
	if (m->len - m->off < len)
		return MAGMA_EPROTO;
	memcpy(buf, m->p + m->off, len);
	m->off += len;
	return 0;
}

int rpcmsg_read_record_mem(const void *in, size_t inlen, rpcmsg_buf *b,
                           size_t max, size_t *used)
{
	struct memrd m = { in, inlen, 0 };
	int rc;

	rc = rpcmsg_read_record(mem_read, &m, b, max);
	*used = m.off;
	return rc;
}

void rpcmsg_put_mark(uint8_t mark[RPC_RECMARK_LEN], size_t len)
{
	uint32_t w = RPC_LAST_FRAG | (uint32_t)len;

	mark[0] = (uint8_t)(w >> 24);
	mark[1] = (uint8_t)(w >> 16);
	mark[2] = (uint8_t)(w >> 8);
	mark[3] = (uint8_t)w;
}

/* One opaque_auth: flavor, then a body of at most RPC_MAX_AUTH bytes. */
static int get_auth(XDR *x, uint32_t *flavor, uint8_t body[RPC_MAX_AUTH],
                    uint32_t *blen)
{
	if (!xdr_u_int32_t(x, flavor) || !xdr_u_int32_t(x, blen))
		return MAGMA_EGARBAGE;
	if (*blen > RPC_MAX_AUTH)
		return MAGMA_ERANGE; /* decodable header, refused credential */
	if (!xdr_opaque(x, (char *)body, *blen))
		return MAGMA_EGARBAGE;
	return 0;
}

/* authsys_parms: stamp, machinename<255>, uid, gid, gids<16>. */
static int get_authsys(const uint8_t *body, uint32_t blen, rpcmsg_call *c)
{
	XDR x;
	uint32_t n, i;
	int rc = MAGMA_EGARBAGE;

	xdrmem_create(&x, (char *)body, blen, XDR_DECODE);
	if (!xdr_u_int32_t(&x, &c->stamp) || !xdr_u_int32_t(&x, &n))
		goto out;
	if (n > RPC_MAX_MACHINE || !xdr_opaque(&x, c->machine, n))
		goto out;
	c->machine[n] = '\0';
	if (!xdr_u_int32_t(&x, &c->cred.uid) ||
	    !xdr_u_int32_t(&x, &c->cred.gid) || !xdr_u_int32_t(&x, &n))
		goto out;
	if (n > FS_NGROUPS)
		goto out;
	for (i = 0; i < n; i++)
		if (!xdr_u_int32_t(&x, &c->cred.gids[i]))
			goto out;
	c->cred.ngids = n;
	rc = 0;
out:
	xdr_destroy(&x);
	return rc;
}

int rpcmsg_decode_call(const void *rec, size_t len, rpcmsg_call *call)
{
	uint8_t cred[RPC_MAX_AUTH], verf[RPC_MAX_AUTH];
	uint32_t mtype, credlen, verflav, verflen;
	rpcmsg_call c;
	XDR x;
	int rc = MAGMA_EGARBAGE;

	if (len > RPC_MAX_RECORD)
		return MAGMA_EGARBAGE;
	memset(&c, 0, sizeof(c));
	xdrmem_create(&x, (char *)rec, (u_int)len, XDR_DECODE);
	if (!xdr_u_int32_t(&x, &c.xid) || !xdr_u_int32_t(&x, &mtype) ||
	    mtype != CALL || !xdr_u_int32_t(&x, &c.rpcvers))
		goto out;
	if (c.rpcvers != 2) {
		/* The rest may be of another layout: answer at once. */
		c.deny = RPCMSG_DENY_RPCVERS;
		goto done;
	}
	if (!xdr_u_int32_t(&x, &c.prog) || !xdr_u_int32_t(&x, &c.vers) ||
	    !xdr_u_int32_t(&x, &c.proc))
		goto out;
	/* An oversized body still leaves xid and call intact: refuse it with
	 * AUTH_ERROR so the client is not left waiting for a reply. */
	rc = get_auth(&x, &c.flavor, cred, &credlen);
	if (rc == MAGMA_ERANGE) {
		c.deny = RPCMSG_DENY_AUTH;
		c.auth_stat = AUTH_BADCRED;
		goto done;
	}
	if (rc == 0)
		rc = get_auth(&x, &verflav, verf, &verflen);
	if (rc == MAGMA_ERANGE) {
		c.deny = RPCMSG_DENY_AUTH;
		c.auth_stat = AUTH_BADVERF;
		goto done;
	}
	if (rc < 0) {
		rc = MAGMA_EGARBAGE;
		goto out;
	}
	c.args_off = xdr_getpos(&x);

	switch (c.flavor) {
	case AUTH_NONE: c.cred.uid = c.cred.gid = RPC_NOBODY; break;
	case AUTH_SYS:
		if (get_authsys(cred, credlen, &c) < 0) {
			c.deny = RPCMSG_DENY_AUTH;
			c.auth_stat = AUTH_BADCRED;
		}
		break;
	case AUTH_SHORT:
		/* We never hand out short credentials: ask for full ones. */
		c.deny = RPCMSG_DENY_AUTH;
		c.auth_stat = AUTH_REJECTEDCRED;
		break;
	default:
		/* Flavors we do not implement (AUTH_DH, RPCSEC_GSS, ...). */
		c.deny = RPCMSG_DENY_AUTH;
		c.auth_stat = AUTH_BADCRED;
		break;
	}
	if (c.deny != RPCMSG_SERVE) {
		memset(&c.cred, 0, sizeof(c.cred));
		c.machine[0] = '\0';
	}
done:
	*call = c;
	rc = 0;
out:
	xdr_destroy(&x);
	return rc;
}

static int encode_reply(void *buf, size_t cap, struct rpc_msg *m, size_t *len)
{
	XDR x;
	int rc = 0;

	if (cap > UINT_MAX)
		cap = UINT_MAX;
	xdrmem_create(&x, buf, (u_int)cap, XDR_ENCODE);
	if (!xdr_replymsg(&x, m))
		rc = MAGMA_ERANGE;
	else
		*len = xdr_getpos(&x);
	xdr_destroy(&x);
	return rc;
}

static void accepted(struct rpc_msg *m, uint32_t xid, uint32_t stat)
{
	memset(m, 0, sizeof(*m));
	m->rm_xid = xid;
	m->rm_direction = REPLY;
	m->rm_reply.rp_stat = MSG_ACCEPTED;
	m->acpted_rply.ar_verf.oa_flavor = AUTH_NONE;
	m->acpted_rply.ar_stat = (enum accept_stat)stat;
}

int rpcmsg_encode_success(void *buf, size_t cap, uint32_t xid, xdrproc_t xres,
                          void *res, size_t *len)
{
	struct rpc_msg m;

	accepted(&m, xid, SUCCESS);
	m.acpted_rply.ar_results.where = res;
	m.acpted_rply.ar_results.proc = xres;
	return encode_reply(buf, cap, &m, len);
}

int rpcmsg_encode_error(void *buf, size_t cap, uint32_t xid, uint32_t stat,
                        size_t *len)
{
	struct rpc_msg m;

	if (stat == SUCCESS || stat == PROG_MISMATCH || stat > SYSTEM_ERR)
		return MAGMA_EINVAL;
	accepted(&m, xid, stat);
	return encode_reply(buf, cap, &m, len);
}

int rpcmsg_encode_prog_mismatch(void *buf, size_t cap, uint32_t xid,
                                uint32_t low, uint32_t high, size_t *len)
{
	struct rpc_msg m;

	accepted(&m, xid, PROG_MISMATCH);
	m.acpted_rply.ar_vers.low = low;
	m.acpted_rply.ar_vers.high = high;
	return encode_reply(buf, cap, &m, len);
}

int rpcmsg_encode_denied(void *buf, size_t cap, const rpcmsg_call *call,
                         size_t *len)
{
	struct rpc_msg m;

	memset(&m, 0, sizeof(m));
	m.rm_xid = call->xid;
	m.rm_direction = REPLY;
	m.rm_reply.rp_stat = MSG_DENIED;
	switch (call->deny) {
	case RPCMSG_DENY_RPCVERS:
		m.rjcted_rply.rj_stat = RPC_MISMATCH;
		m.rjcted_rply.rj_vers.low = 2;
		m.rjcted_rply.rj_vers.high = 2;
		break;
	case RPCMSG_DENY_AUTH:
		m.rjcted_rply.rj_stat = AUTH_ERROR;
		m.rjcted_rply.rj_why = (enum auth_stat)call->auth_stat;
		break;
	default: return MAGMA_EINVAL;
	}
	return encode_reply(buf, cap, &m, len);
}

bool_t rpcmsg_xdr_opaque_inplace(XDR *x, char **val, u_int *len, u_int max)
{
	char *p = NULL;

	if (x->x_op != XDR_DECODE || !xdr_u_int(x, len) || *len > max ||
	    *len > UINT_MAX - 3u)
		return FALSE;
	if (*len && !(p = (char *)xdr_inline(x, (u_int)((*len + 3u) & ~3u))))
		return FALSE;
	*val = p;
	return TRUE;
}
