/* member_ctl.c - the membership part of magmad's control requests
 * (status, locate, leave; member.h). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "magmad.h"
#include "member_int.h"
#include "member_table.h"
#include "merr.h"
#include "mlog.h"

/* The coordinator's id (hex) and address, "-" when not in the table. */
static void coordinator_of(struct magmad *d, const ring *view, char *hex,
                           char *addr, size_t len)
{
	ring_member x;

	if (d->member && d->member->is_coord) {
		member_hex(d->node_id, hex);
		conf_format_addr(&d->peer_bound, addr, len);
		return;
	}
	snprintf(addr, len, "%s", d->cfg.coordinator);
	if (member_table_find_peer(view, d->cfg.coordinator, &x) == 0)
		member_hex(x.id, hex);
	else
		strcpy(hex, "-");
}

int member_ctl_status(struct magmad *d, ctl_reply *r)
{
	char chex[2 * RING_ID_LEN + 1], caddr[RING_ADDR_MAX + 16];
	member_movement mv;
	ring *view = NULL, *table = NULL;
	uint64_t epoch = 0;
	unsigned red = 0;
	size_t n = 0;
	int rc;

	rc = member_view(d, &view);
	if (rc < 0)
		return rc;
	/* The table apart from the view: a member down in the table (its
	 * ranges moved on) and one only unreachable (still an owner) look
	 * the same in the view. */
	if (member_table_copy(d, &table) < 0)
		table = NULL;
	(void)ring_epoch(view, &epoch);
	(void)ring_redundancy(view, &red);
	(void)ring_count(view, &n);
	coordinator_of(d, view, chex, caddr, sizeof(caddr));
	member_get_movement(d, &mv);
	ctl_reply_line(r, "epoch=%" PRIu64, epoch);
	ctl_reply_line(r, "redundancy=%u", red);
	ctl_reply_line(r, "coordinator=%s %s", chex, caddr);
	if (mv.active)
		ctl_reply_line(r, "movement=%" PRIu64 " %" PRIu64 " %s",
		               mv.done, mv.total, mv.what);
	else
		ctl_reply_line(r, "movement=none");
	for (size_t i = 0; i < n; i++) {
		char hex[2 * RING_ID_LEN + 1], flags[32] = "";
		ring_member x, t;
		double share = 0;

		if (ring_member_at(view, i, &x) < 0)
			continue;
		/* A table swapped in since the view was taken may lack it:
		 * the view's state then. */
		if (table == NULL || ring_member_find(table, x.id, &t) < 0)
			t = x;
		(void)ring_share(view, x.id, RING_VIEW_OWNERS, &share);
		member_hex(x.id, hex);
		if (memcmp(x.id, d->node_id, RING_ID_LEN) == 0)
			strcat(flags, "self");
		if (strcmp(hex, chex) == 0)
			strcat(strcat(flags, flags[0] ? "," : ""),
			       "coordinator");
		/* Fields 7 and 8 (the table's state, reachability) came
		 * later: a magmactl that reads 6 ignores them. */
		rc = ctl_reply_line(r, "member=%s %s %s %s %.1f %s %s %s", hex,
		                    x.peer, x.nfs[0] ? x.nfs : "-",
		                    ring_state_name(x.state), share * 100,
		                    flags[0] ? flags : "-",
		                    ring_state_name(t.state),
		                    member_reachable(d, x.id) ? "reachable"
		                                              : "unreachable");
		if (rc < 0)
			break;
	}
	ring_free(table);
	ring_free(view);
	return rc;
}

int member_ctl_owners(struct magmad *d, const uint8_t key[RING_KEY_LEN],
                      ctl_reply *r)
{
	uint8_t ids[RING_R_MAX][RING_ID_LEN];
	ring *view = NULL;
	size_t n = 0;
	int rc;

	rc = member_view(d, &view);
	if (rc < 0)
		return rc;
	rc = ring_owners(view, key, ids, RING_R_MAX, &n);
	if (rc == MAGMA_EUNAVAIL) {
		rc = ctl_reply_line(r, "primary none (no member is up)");
		goto out;
	}
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char hex[2 * RING_ID_LEN + 1];
		ring_member x;

		if (ring_member_find(view, ids[i], &x) < 0)
			continue;
		member_hex(x.id, hex);
		rc = ctl_reply_line(r, "%s %s %s %s", i ? "backup" : "primary",
		                    hex, x.peer, ring_state_name(x.state));
	}
	if (n == 1)
		rc = ctl_reply_line(r, "backups none (one member serves "
		                       "this key)");
out:
	ring_free(view);
	return rc;
}

int member_ctl_leave(struct magmad *d, const char *arg, ctl_reply *r, char *err,
                     size_t errlen)
{
	int force = strcmp(arg, "--force") == 0;
	int rc;

	if (arg[0] && !force) {
		snprintf(err, errlen, "leave: unknown argument \"%.32s\"", arg);
		return MAGMA_EINVAL;
	}
	if (d->member && d->member->is_coord) {
		/* --force too: the table would lose its only writer */
		snprintf(err, errlen,
		         "this node is the network's coordinator: it cannot "
		         "leave%s (not supported yet; see magmactl(8))",
		         force ? ", even with --force" : "");
		return MAGMA_ENOTSUPP;
	}
	rc = force ? member_remove(d, d->node_id)
	           : member_set_state(d, d->node_id, RING_LEAVING);
	if (rc == MAGMA_EUNAVAIL) {
		snprintf(err, errlen,
		         "the coordinator %s is unreachable: membership "
		         "cannot change until it is back",
		         d->cfg.coordinator);
		/* not MAGMA_EUNAVAIL: magmactl reads that as "magmad is
		 * not running" */
		return MAGMA_EJUKEBOX;
	}
	if (rc < 0) {
		snprintf(err, errlen, "leave failed: %s", magma_strerror(rc));
		return rc;
	}
	LOG_I("leave%s: epoch %" PRIu64, force ? " --force" : "",
	      member_epoch(d));
	if (force)
		return ctl_reply_line(r,
		                      "removed from the table (epoch %" PRIu64
		                      "); its keys are served by the "
		                      "other members",
		                      member_epoch(d));
	if (member_handoff(d))
		return ctl_reply_line(r,
		                      "leaving (epoch %" PRIu64 "): handing "
		                      "its data off; it is removed when "
		                      "that completes",
		                      member_epoch(d));
	return ctl_reply_line(r,
	                      "leaving (epoch %" PRIu64 "): marked "
	                      "leaving, but data hand-off is not "
	                      "implemented yet, so the node stays in the "
	                      "table and keeps serving; `leave --force` "
	                      "removes it without hand-off",
	                      member_epoch(d));
}
