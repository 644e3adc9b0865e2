/* member_srv.c - table changes: the coordinator's serialized change and
 * push, the peer procedures TABLE_PUT, JOIN and MEMBER_SET, and their
 * forwarding from other members to the coordinator (member.h). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "magma_peer.h"
#include "magmad.h"
#include "member.h"
#include "member_int.h"
#include "member_table.h"
#include "merr.h"
#include "mlog.h"

#define MEMBER_CONNECT_MS 1000 /* loopback and LAN: a live node answers */
#define MEMBER_HANDSHAKE_MS 3000
#define MEMBER_PUSH_MS 3000

int member_client(struct magmad *d, const char *addr, int call_ms,
                  peer_client **out)
{
	peer_client_opts o = { MEMBER_CONNECT_MS, MEMBER_HANDSHAKE_MS,
		               call_ms };
	int rc;

	rc = peer_client_new(addr, d->keys.join_token, d->node_id, &o, out);
	if (rc == 0)
		peer_client_set_epoch(*out, member_epoch(d));
	return rc;
}

/* After a call: a newer epoch in the reply is fetched from that node. */
static void note_reply(struct magmad *d, peer_client *pc,
                       const uint8_t *from_id)
{
	uint64_t e = peer_client_seen_epoch(pc);

	if (e > member_epoch(d))
		member_saw_epoch(d, e, from_id);
}

/* Send the current table to every other member.  Best effort: a member
 * that misses it catches up from the epoch in the next heartbeat. */
static void push_all(struct magmad *d)
{
	ring *rg = NULL;
	size_t n = 0;
	uint64_t e = 0;

	if (member_table_copy(d, &rg) < 0)
		return;
	(void)ring_epoch(rg, &e);
	(void)ring_count(rg, &n);
	for (size_t i = 0; i < n; i++) {
		ring_member x;
		peer_client *pc = NULL;
		char hex[2 * RING_ID_LEN + 1];
		int rc;

		if (ring_member_at(rg, i, &x) < 0 ||
		    memcmp(x.id, d->node_id, RING_ID_LEN) == 0)
			continue;
		rc = member_client(d, x.peer, MEMBER_PUSH_MS, &pc);
		if (rc == 0)
			rc = member_call_table_put(pc, rg);
		peer_client_free(pc);
		member_hex(x.id, hex);
		if (rc < 0 && rc != MAGMA_ECONFLICT)
			LOG_I("table epoch %" PRIu64 " not pushed to %s (%s): "
			      "%s; it catches up later",
			      e, hex, x.peer, magma_strerror(rc));
	}
	ring_free(rg);
}

/* ---- marking a member down in the table (the grace rule) ----
 *
 * The heartbeat thread of the coordinator asks for it (member_hb.c) once
 * a member has not answered for down_grace; placement (ring.h) then
 * leaves it out, so the next member clockwise becomes an owner of its
 * ranges and repair copies them there: r copies again.  The change is
 * refused (MAGMA_EJUKEBOX, asked again next round) unless both hold:
 *
 *   Quorum: a strict majority of the table's members, the coordinator
 *   included and members already down counted as silent, answer the
 *   coordinator's heartbeats.  A coordinator cut off from the others
 *   would otherwise mark all of them down; and with two of three nodes
 *   gone there is nowhere to restore r = 2 copies anyway.
 *
 *   A holder stays: every range the member serves (owners view, UP and
 *   LEAVING) has another owner that is UP or LEAVING in the table and
 *   answers.  So no range loses its last reachable copy from the owners
 *   and placement views, and repair has a source to copy from: the data
 *   of a range whose every holder is silent stays where it is, with its
 *   holders' table states unchanged, until one of them is back.
 *
 * Only the coordinator runs this (under change_lock), never for itself.
 * RING_DOWN is set only here: member_table_next refuses it. */

typedef struct hold_ctx {
	struct magmad *d;
	const ring *rg;
	const uint8_t *id;
} hold_ctx;

/* ring_arcs callback: non-zero for a run no other live owner holds. */
static int orphan_run(void *arg, const uint8_t lo[RING_KEY_LEN],
                      const uint8_t hi[RING_KEY_LEN],
                      const uint8_t owners[][RING_ID_LEN], size_t n)
{
	hold_ctx *c = arg;

	(void)lo;
	(void)hi;
	for (size_t i = 0; i < n; i++) {
		ring_member x;

		if (memcmp(owners[i], c->id, RING_ID_LEN) == 0 ||
		    ring_member_find(c->rg, owners[i], &x) < 0)
			continue;
		if ((x.state == RING_UP || x.state == RING_LEAVING) &&
		    member_reachable(c->d, x.id))
			return 0;
	}
	return 1;
}

/* The table with id RING_DOWN and epoch + 1, or *out NULL when it is
 * down already; the rules above. */
static int grace_next(struct magmad *d, const ring *cur,
                      const uint8_t id[RING_ID_LEN], ring **out)
{
	hold_ctx hc = { d, cur, id };
	ring *rg = NULL;
	ring_member x;
	uint64_t epoch = 0;
	size_t n = 0, live = 0;
	int rc;

	*out = NULL;
	if (memcmp(id, d->node_id, RING_ID_LEN) == 0)
		return MAGMA_EINVAL;
	if ((rc = ring_member_find(cur, id, &x)) < 0)
		return rc;
	if (x.state == RING_DOWN)
		return 0;
	(void)ring_count(cur, &n);
	for (size_t i = 0; i < n; i++)
		if (ring_member_at(cur, i, &x) == 0 && x.state != RING_DOWN &&
		    member_reachable(d, x.id))
			live++;
	if (2 * live <= n)
		return MAGMA_EJUKEBOX;
	rc = ring_arcs(cur, id, RING_VIEW_OWNERS, orphan_run, &hc);
	if (rc != 0)
		return rc < 0 ? rc : MAGMA_EJUKEBOX;
	if ((rc = ring_epoch(cur, &epoch)) < 0 || (rc = ring_dup(cur, &rg)) < 0)
		return rc;
	rc = ring_set_state(rg, id, RING_DOWN);
	if (rc == 0)
		rc = ring_set_epoch(rg, epoch + 1);
	if (rc < 0) {
		ring_free(rg);
		return rc;
	}
	*out = rg;
	return 0;
}

int member_coord_change(struct magmad *d, int op, const ring_member *rm,
                        ring **after)
{
	member *m = d->member;
	ring *cur = NULL, *next = NULL;
	int rc, changed = 0;

	pthread_mutex_lock(&m->change_lock);
	rc = member_table_copy(d, &cur);
	if (rc == 0 && op == MEMBER_OP_SET_STATE && rm->state == RING_DOWN)
		rc = grace_next(d, cur, rm->id, &next);
	else if (rc == 0)
		rc = member_table_next(cur, op, rm, m->handoff, &next);
	if (rc == 0 && next) {
		rc = member_install(d, next, 0);
		changed = rc == 0;
	}
	if (rc == 0 && after)
		rc = member_table_copy(d, after);
	pthread_mutex_unlock(&m->change_lock);
	ring_free(cur);
	if (changed)
		push_all(d);
	return rc < 0 ? rc : changed;
}

int member_join_coordinator(struct magmad *d, member_answer *ans)
{
	peer_client *pc = NULL;
	peer_node me;
	int rc;

	member_self_node(d, &me);
	rc = member_client(d, d->cfg.coordinator, MEMBER_CHANGE_MS, &pc);
	if (rc == 0)
		rc = member_call_join(pc, &me, 0, 0, 0, ans);
	if (pc)
		note_reply(d, pc, NULL);
	peer_client_free(pc);
	return rc;
}

/* Change through the coordinator (state 0: remove). */
static int change_state(struct magmad *d, const uint8_t id[RING_ID_LEN],
                        int state)
{
	ring_member rm;
	member_answer ans;
	peer_client *pc = NULL;
	int rc;

	if (d->member == NULL)
		return MAGMA_EUNAVAIL;
	memset(&rm, 0, sizeof(rm));
	memcpy(rm.id, id, RING_ID_LEN);
	rm.state = state;
	if (d->member->is_coord) {
		rc = member_coord_change(
		        d, state ? MEMBER_OP_SET_STATE : MEMBER_OP_REMOVE, &rm,
		        NULL);
		return rc < 0 ? rc : 0;
	}
	rc = member_client(d, d->cfg.coordinator, MEMBER_CHANGE_MS, &pc);
	if (rc == 0)
		rc = member_call_set(pc, id, state, 0, &ans);
	peer_client_free(pc);
	if (rc == MAGMA_ECRYPTO)
		rc = MAGMA_EUNAVAIL;
	if (rc < 0)
		return rc;
	rc = member_install(d, ans.table, 0);
	return rc == MAGMA_ECONFLICT ? 0 : rc;
}

int member_set_state(struct magmad *d, const uint8_t id[RING_ID_LEN], int state)
{
	if (state != RING_UP && state != RING_JOINING && state != RING_LEAVING)
		return MAGMA_EINVAL;
	return change_state(d, id, state);
}

int member_remove(struct magmad *d, const uint8_t id[RING_ID_LEN])
{
	return change_state(d, id, 0);
}

/* ---- the procedures ---- */

static void rhdr(struct magmad *d, peer_rhdr *rh, int status)
{
	rh->status = status;
	rh->epoch = member_epoch(d);
}

int member_srv_table_put(rpc_req *req, void *args, void *res)
{
	peer_table_put_args *a = args;
	peer_status_res *r = res;
	struct magmad *d = req->daemon;
	ring *rg = NULL;
	int rc;

	if (d->member == NULL) {
		rc = MAGMA_EUNAVAIL;
		goto out;
	}
	rc = ring_decode(a->table.table_val, a->table.table_len, &rg);
	if (rc < 0)
		goto out;
	rc = member_install(d, rg, 0);
out:
	rhdr(d, &r->rh, rc);
	return 0;
}

/* Fill a JOIN / MEMBER_SET result from a table (status 0) or only its
 * header; strings are always allocated (XDR cannot encode NULL). */
static int fill_answer(struct magmad *d, peer_join_res *r, int status,
                       const uint8_t coord_id[RING_ID_LEN],
                       const char *coord_addr, const ring *rg)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (status == 0 && rg) {
		status = ring_encode(rg, &buf, &len);
		if (status == 0 && len > PEER_TABLE_MAX) {
			free(buf);
			buf = NULL;
			status = MAGMA_ERANGE;
		}
	}
	r->coord_addr = strdup(status == 0 ? coord_addr : "");
	if (r->coord_addr == NULL) {
		free(buf);
		return MAGMA_ENOMEM;
	}
	if (status == 0) {
		memcpy(r->coord_id, coord_id, RING_ID_LEN);
		r->table.table_val = (char *)buf;
		r->table.table_len = (u_int)len;
	}
	rhdr(d, &r->rh, status);
	return 0;
}

/* The coordinator's side of an answer: its id and peer address. */
static void coord_self(struct magmad *d, uint8_t id[RING_ID_LEN],
                       char addr[RING_ADDR_MAX])
{
	memcpy(id, d->node_id, RING_ID_LEN);
	conf_format_addr(&d->peer_bound, addr, RING_ADDR_MAX);
}

static int valid_addr(const char *s, int may_be_empty)
{
	conf_addr a;

	if (s == NULL)
		return 0;
	if (*s == '\0')
		return may_be_empty;
	return strlen(s) < RING_ADDR_MAX && conf_parse_addr(s, &a) == 0;
}

/* A member that the table has down calls JOIN (its magmad restarted):
 * it is alive, so it catches up as RING_JOINING (ring.h), never straight
 * to RING_UP; the data path makes it UP after its catch-up pass.  *rg
 * (the table after the JOIN) is replaced by the table after this
 * change.  Returns changed (1 or 0, as member_coord_change) or an
 * error. */
static int back_from_down(struct magmad *d, ring_member *rm, ring **rg,
                          int changed)
{
	ring_member x;
	ring *after = NULL;
	char hex[2 * RING_ID_LEN + 1];
	int rc;

	if (*rg == NULL || ring_member_find(*rg, rm->id, &x) < 0 ||
	    x.state != RING_DOWN)
		return changed;
	member_mark(d->member, rm->id, 0, "");
	rm->state = RING_JOINING;
	rc = member_coord_change(d, MEMBER_OP_SET_STATE, rm, &after);
	if (rc < 0)
		return rc;
	member_hex(rm->id, hex);
	LOG_I("member %s is back (JOIN): joining, to catch up (table epoch "
	      "%" PRIu64 ")",
	      hex, member_epoch(d));
	ring_free(*rg);
	*rg = after;
	return 1;
}

int member_srv_join(rpc_req *req, void *args, void *res)
{
	peer_join_args *a = args;
	peer_join_res *r = res;
	struct magmad *d = req->daemon;
	char hex[2 * RING_ID_LEN + 1], caddr[RING_ADDR_MAX];
	uint8_t cid[RING_ID_LEN];
	member_answer ans = { .table = NULL };
	ring *rg = NULL;
	int rc = 0, have_ans = 0;

	member_hex((const uint8_t *)a->me.node_id, hex);
	if (a->me.proto_version != PEER_PROTO_VERSION)
		rc = MAGMA_EPROTO;
	else if (!a->forwarded &&
	         memcmp(a->me.node_id, a->hdr.sender_id, PEER_ID_LEN) != 0)
		rc = MAGMA_EINVAL;
	else if (a->me.network == NULL ||
	         strcmp(a->me.network, d->cfg.network) != 0)
		rc = MAGMA_ECONFIG;
	else if (!valid_addr(a->me.peer_addr, 0) ||
	         !valid_addr(a->me.nfs_addr, 1) || a->weight > RING_WEIGHT_MAX)
		rc = MAGMA_EINVAL;
	else if (d->member == NULL)
		rc = MAGMA_EUNAVAIL;
	if (rc < 0)
		goto out;
	if (!d->member->is_coord) {
		peer_client *pc = NULL;
		peer_node pn;

		if (a->forwarded) { /* two coordinators: misconfigured */
			LOG_E("JOIN of %s forwarded here, but this node is not "
			      "the coordinator (coordinator = %s)",
			      hex, d->cfg.coordinator);
			rc = MAGMA_ECONFIG;
			goto out;
		}
		memset(&pn, 0, sizeof(pn));
		snprintf(pn.network, sizeof(pn.network), "%s", a->me.network);
		memcpy(pn.id, a->me.node_id, RING_ID_LEN);
		snprintf(pn.peer, sizeof(pn.peer), "%s", a->me.peer_addr);
		snprintf(pn.nfs, sizeof(pn.nfs), "%s", a->me.nfs_addr);
		pn.proto_version = a->me.proto_version;
		rc = member_client(d, d->cfg.coordinator, MEMBER_CHANGE_MS,
		                   &pc);
		if (rc == 0)
			rc = member_call_join(pc, &pn, a->weight, a->probe, 1,
			                      &ans);
		peer_client_free(pc);
		if (rc == MAGMA_ECRYPTO || rc == MAGMA_EPROTO)
			rc = MAGMA_EUNAVAIL;
		if (rc < 0) {
			LOG_W("JOIN of %s: coordinator %s: %s", hex,
			      d->cfg.coordinator, magma_strerror(rc));
			goto out;
		}
		have_ans = 1;
		memcpy(cid, ans.coord_id, RING_ID_LEN);
		snprintf(caddr, sizeof(caddr), "%s", ans.coord_addr);
		rg = ans.table;
		ans.table = NULL;
		goto out;
	}
	coord_self(d, cid, caddr);
	if (a->probe) {
		rc = member_table_copy(d, &rg);
	} else {
		ring_member rm;

		memset(&rm, 0, sizeof(rm));
		memcpy(rm.id, a->me.node_id, RING_ID_LEN);
		snprintf(rm.peer, sizeof(rm.peer), "%s", a->me.peer_addr);
		snprintf(rm.nfs, sizeof(rm.nfs), "%s", a->me.nfs_addr);
		rm.weight = a->weight;
		rc = member_coord_change(d, MEMBER_OP_JOIN, &rm, &rg);
		if (rc >= 0)
			rc = back_from_down(d, &rm, &rg, rc);
		if (rc > 0) {
			uint64_t e = 0;
			(void)ring_epoch(rg, &e); /* the copy made under
			                           * change_lock */
			LOG_I("JOIN of %s (peer %s): table epoch %" PRIu64, hex,
			      rm.peer, e);
		} else if (rc == 0)
			LOG_I("JOIN of %s (peer %s): already a member, table "
			      "unchanged",
			      hex, rm.peer);
		else
			LOG_W("JOIN of %s (peer %s) refused: %s", hex, rm.peer,
			      magma_strerror(rc));
		rc = rc < 0 ? rc : 0;
	}
out:
	(void)have_ans;
	rc = fill_answer(d, r, rc, cid, caddr, rg);
	ring_free(rg);
	return rc;
}

int member_srv_member_set(rpc_req *req, void *args, void *res)
{
	peer_member_set_args *a = args;
	peer_join_res *r = res;
	struct magmad *d = req->daemon;
	char hex[2 * RING_ID_LEN + 1], caddr[RING_ADDR_MAX];
	uint8_t cid[RING_ID_LEN];
	member_answer ans = { .table = NULL };
	ring *rg = NULL;
	int rc = 0;

	member_hex((const uint8_t *)a->node_id, hex);
	if (a->state != 0 && a->state != RING_UP && a->state != RING_JOINING &&
	    a->state != RING_LEAVING)
		rc = MAGMA_EINVAL;
	else if (d->member == NULL)
		rc = MAGMA_EUNAVAIL;
	if (rc < 0)
		goto out;
	if (!d->member->is_coord) {
		peer_client *pc = NULL;

		if (a->forwarded) {
			rc = MAGMA_ECONFIG;
			goto out;
		}
		rc = member_client(d, d->cfg.coordinator, MEMBER_CHANGE_MS,
		                   &pc);
		if (rc == 0)
			rc = member_call_set(pc, (const uint8_t *)a->node_id,
			                     a->state, 1, &ans);
		peer_client_free(pc);
		if (rc == MAGMA_ECRYPTO || rc == MAGMA_EPROTO)
			rc = MAGMA_EUNAVAIL;
		if (rc < 0)
			goto out;
		memcpy(cid, ans.coord_id, RING_ID_LEN);
		snprintf(caddr, sizeof(caddr), "%s", ans.coord_addr);
		rg = ans.table;
		goto out;
	}
	coord_self(d, cid, caddr);
	if (a->state == 0 && memcmp(a->node_id, d->node_id, RING_ID_LEN) == 0) {
		LOG_W("refused to remove the coordinator %s", hex);
		rc = MAGMA_ENOTSUPP;
		goto out;
	}
	{
		ring_member rm;

		memset(&rm, 0, sizeof(rm));
		memcpy(rm.id, a->node_id, RING_ID_LEN);
		rm.state = a->state;
		rc = member_coord_change(
		        d, a->state ? MEMBER_OP_SET_STATE : MEMBER_OP_REMOVE,
		        &rm, &rg);
		rc = rc < 0 ? rc : 0;
		if (rc == 0)
			LOG_I("member %s %s%s: table epoch %" PRIu64, hex,
			      a->state ? "set " : "removed",
			      a->state ? ring_state_name(a->state) : "",
			      member_epoch(d));
	}
out:
	rc = fill_answer(d, r, rc, cid, caddr, rg);
	ring_free(rg);
	return rc;
}
