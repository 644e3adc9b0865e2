/* member_rpc.c - client calls of JOIN, MEMBER_SET, TABLE_PUT and
 * TABLE_GET (member_rpc.h). */
#include "config.h"

#include "member_rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magma_peer.h"
#include "merr.h"

/* Fill ans from a decoded peer_join_res with status 0. */
static int answer_from(const peer_join_res *r, member_answer *ans)
{
	int rc;

	memset(ans, 0, sizeof(*ans));
	memcpy(ans->coord_id, r->coord_id, RING_ID_LEN);
	snprintf(ans->coord_addr, sizeof(ans->coord_addr), "%s",
	         r->coord_addr ? r->coord_addr : "");
	rc = ring_decode(r->table.table_val, r->table.table_len, &ans->table);
	return rc == MAGMA_EGARBAGE ? MAGMA_EPROTO : rc;
}

int member_call_join(peer_client *pc, const peer_node *me, uint32_t weight,
                     int probe, int forwarded, member_answer *ans)
{
	peer_join_args a;
	peer_join_res r;
	peer_node mine = *me;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	peer_client_hdr(pc, &a.hdr);
	peer_node_to_wire(&mine, &a.me);
	a.me.proto_version = PEER_PROTO_VERSION;
	a.weight = weight;
	a.probe = probe ? TRUE : FALSE;
	a.forwarded = forwarded ? TRUE : FALSE;
	rc = peer_client_call(pc, PEERPROC_JOIN, (xdrproc_t)xdr_peer_join_args,
	                      &a, (xdrproc_t)xdr_peer_join_res, &r);
	if (rc < 0)
		return rc;
	rc = r.rh.status;
	if (rc == 0)
		rc = answer_from(&r, ans);
	xdr_free((xdrproc_t)xdr_peer_join_res, &r);
	return rc;
}

int member_call_set(peer_client *pc, const uint8_t id[RING_ID_LEN], int state,
                    int forwarded, member_answer *ans)
{
	peer_member_set_args a;
	peer_join_res r;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	peer_client_hdr(pc, &a.hdr);
	memcpy(a.node_id, id, PEER_ID_LEN);
	a.state = state;
	a.forwarded = forwarded ? TRUE : FALSE;
	rc = peer_client_call(pc, PEERPROC_MEMBER_SET,
	                      (xdrproc_t)xdr_peer_member_set_args, &a,
	                      (xdrproc_t)xdr_peer_join_res, &r);
	if (rc < 0)
		return rc;
	rc = r.rh.status;
	if (rc == 0)
		rc = answer_from(&r, ans);
	xdr_free((xdrproc_t)xdr_peer_join_res, &r);
	return rc;
}

int member_call_table_put(peer_client *pc, const ring *table)
{
	peer_table_put_args a;
	peer_status_res r;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = ring_encode(table, &buf, &len);
	if (rc < 0)
		return rc;
	if (len > PEER_TABLE_MAX) {
		free(buf);
		return MAGMA_ERANGE;
	}
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	peer_client_hdr(pc, &a.hdr);
	a.table.table_val = (char *)buf;
	a.table.table_len = (u_int)len;
	rc = peer_client_call(pc, PEERPROC_TABLE_PUT,
	                      (xdrproc_t)xdr_peer_table_put_args, &a,
	                      (xdrproc_t)xdr_peer_status_res, &r);
	free(buf);
	if (rc < 0)
		return rc;
	rc = r.rh.status;
	xdr_free((xdrproc_t)xdr_peer_status_res, &r);
	return rc;
}

int member_call_table_get(peer_client *pc, ring **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = peer_call_table_get(pc, &buf, &len);
	if (rc < 0)
		return rc;
	rc = ring_decode(buf, len, out);
	free(buf);
	return rc == MAGMA_EGARBAGE ? MAGMA_EPROTO : rc;
}
