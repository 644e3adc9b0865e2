/* rebal.c - data movement on join and leave (rebal.h). */
#include "config.h"

#include "rebal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kv_net.h"
#include "magmad.h"
#include "member.h"
#include "merr.h"
#include "mlog.h"
#include "repair.h"

#define WHAT_JOIN "joining: pulling ranges"
#define WHAT_LEAVE "leaving: handing ranges off"
#define RETRY_MS 1000
#define BARRIER_MS 300
/* After the barrier: a member installs a table a moment before its data
 * path routes by it (the view listener); let that moment pass. */
#define SETTLE_US 500000

static void show(struct magmad *d, const char *what)
{
	member_movement mv;

	member_get_movement(d, &mv);
	if (what == NULL) {
		if (mv.active && (strcmp(mv.what, WHAT_JOIN) == 0 ||
		                  strcmp(mv.what, WHAT_LEAVE) == 0)) {
			memset(&mv, 0, sizeof(mv));
			member_set_movement(d, &mv);
		}
		return;
	}
	if (mv.active && strcmp(mv.what, what) == 0)
		return;
	memset(&mv, 0, sizeof(mv));
	mv.active = 1;
	snprintf(mv.what, sizeof(mv.what), "%s", what);
	member_set_movement(d, &mv);
}

void rebal_progress(void *arg, uint64_t done, uint64_t total)
{
	struct magmad *d = arg;
	member_movement mv;

	member_get_movement(d, &mv);
	if (!mv.active || (strcmp(mv.what, WHAT_JOIN) != 0 &&
	                   strcmp(mv.what, WHAT_LEAVE) != 0))
		return;
	mv.done = done;
	mv.total = total;
	member_set_movement(d, &mv);
}

void rebal_table(struct magmad *d, const ring *table)
{
	ring_member me;

	if (table == NULL || ring_member_find(table, d->node_id, &me) < 0)
		show(d, NULL);
	else if (me.state == RING_JOINING)
		show(d, WHAT_JOIN);
	else if (me.state == RING_LEAVING)
		show(d, WHAT_LEAVE);
	else
		show(d, NULL);
}

static unsigned join_step(struct magmad *d, int pass_rc, uint64_t epoch)
{
	int rc;

	show(d, WHAT_JOIN);
	if (pass_rc < 0)
		return RETRY_MS; /* some owner did not answer: again */
	rc = repair_epoch_barrier(d->net, epoch);
	if (rc < 0) {
		LOG_D("join: waiting for every member to route by epoch "
		      "%" PRIu64 ": %s",
		      epoch, magma_strerror(rc));
		return rc == MAGMA_EJUKEBOX ? BARRIER_MS : RETRY_MS;
	}
	usleep(SETTLE_US);
	/* Every primary forwards to us now: what this pass pulls is all
	 * that was written before. */
	rc = repair_pass_progress(d->net, NULL, rebal_progress, d);
	if (rc < 0)
		return RETRY_MS;
	if (member_epoch(d) != epoch)
		return BARRIER_MS; /* the table moved on: start over */
	rc = member_set_state(d, d->node_id, RING_UP);
	if (rc < 0) {
		LOG_W("join: ranges pulled, but cannot become up: %s",
		      magma_strerror(rc));
		return RETRY_MS;
	}
	LOG_I("join: ranges pulled; up and serving them (epoch %" PRIu64 ")",
	      member_epoch(d));
	show(d, NULL);
	return 0;
}

static unsigned leave_step(struct magmad *d, uint64_t epoch)
{
	uint64_t eq = 0, total = 0;
	int rc;

	show(d, WHAT_LEAVE);
	rc = repair_epoch_barrier(d->net, epoch);
	if (rc < 0)
		return rc == MAGMA_EJUKEBOX ? BARRIER_MS : RETRY_MS;
	usleep(SETTLE_US);
	rc = repair_handoff_check(d->net, rebal_progress, d, &eq, &total);
	if (rc < 0) {
		LOG_I("leave: %" PRIu64 " of %" PRIu64 " ranges handed off "
		      "(%s); checking again",
		      eq, total, magma_strerror(rc));
		return RETRY_MS;
	}
	if (member_epoch(d) != epoch)
		return BARRIER_MS;
	rc = member_remove(d, d->node_id);
	if (rc < 0) {
		LOG_W("leave: ranges handed off, but cannot leave the table: "
		      "%s",
		      magma_strerror(rc));
		return RETRY_MS;
	}
	/* A node with the old table may still ask us: let it fail over
	 * to the new owners, which have everything, rather than read our
	 * copies, which get no more writes. */
	kv_net_set_serving(d->net, 0);
	LOG_I("leave: %" PRIu64 " ranges handed off; removed from the table "
	      "(epoch %" PRIu64 "); this node serves no keys now",
	      total, member_epoch(d));
	show(d, NULL);
	return 0;
}

/* Up, or no longer a member: drop the copies of ranges that now live
 * elsewhere, once every member routes by this table. */
static void drop_step(struct magmad *d, int pass_rc, uint64_t epoch)
{
	uint64_t n = 0;

	if (pass_rc < 0 || repair_epoch_barrier(d->net, epoch) < 0)
		return;
	if (repair_drop(d->net, &n) == 0 && n)
		LOG_I("dropped %" PRIu64 " records of ranges that moved to "
		      "other members",
		      n);
}

unsigned rebal_after_pass(void *arg, int pass_rc)
{
	struct magmad *d = arg;
	ring *t = NULL;
	ring_member me;
	uint64_t epoch = 0;

	if (d->member == NULL || kv_net_view(d->net, &t) < 0 || t == NULL)
		return 0;
	(void)ring_epoch(t, &epoch);
	if (ring_member_find(t, d->node_id, &me) < 0)
		me.state = 0;
	ring_free(t);
	switch (me.state) {
	case RING_JOINING: return join_step(d, pass_rc, epoch);
	case RING_LEAVING: return leave_step(d, epoch);
	default: show(d, NULL); break;
	}
	drop_step(d, pass_rc, epoch);
	return 0;
}
