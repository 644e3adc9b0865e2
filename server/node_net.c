/* node_net.c - wiring of the data path into magmad (node_net.h). */
#include "node_net.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kv_net.h"
#include "magmad.h"
#include "member.h"
#include "merr.h"
#include "mlog.h"
#include "peer_srv.h"
#include "rebal.h"
#include "repair.h"

static void on_epoch(void *arg, uint64_t epoch, const uint8_t from[RING_ID_LEN])
{
	member_saw_epoch(arg, epoch, from);
}

/* A primary's forward showed that this node lacks an earlier one. */
static void on_missed(void *arg)
{
	struct magmad *d = arg;

	LOG_W("this node missed some forwarded writes: catching up before "
	      "serving again");
	node_net_missed(d, 0);
}

/* Route by the table, less the members the view has down (kv_net.h). */
static int set_routes(struct magmad *d, const ring *view)
{
	int rc = 0;

	pthread_rwlock_rdlock(&d->table_lock);
	if (d->table)
		rc = kv_net_set_routes(d->net, d->table, view);
	pthread_rwlock_unlock(&d->table_lock);
	return rc;
}

/* Membership's view changed: route by it.  A new table (members in or
 * out, or a state changed: joining, up, leaving) changes where data
 * must be: repair soon, and show the movement this node is part of. */
static void on_view(void *arg, const ring *view)
{
	struct magmad *d = arg;
	ring *old = NULL, *cur = NULL;
	uint64_t e_old = 0, e_new = 0;

	(void)kv_net_view(d->net, &old);
	if (old)
		(void)ring_epoch(old, &e_old);
	ring_free(old);
	if (set_routes(d, view) < 0)
		LOG_E("cannot install the new routing view: out of memory");
	(void)kv_net_view(d->net, &cur);
	if (cur)
		(void)ring_epoch(cur, &e_new);
	rebal_table(d, cur);
	ring_free(cur);
	if (e_new != e_old)
		repair_kick(d->repair, 0);
}

int node_net_open(struct magmad *d)
{
	kv_net_config nc;
	store_config sc;
	int rc, is_new;

	/* start_peer parses it too, later: the data path needs it now. */
	rc = peer_id_parse(d->cfg.node_id, d->node_id);
	if (rc < 0) {
		fprintf(stderr, "magmad: node_id %s is not 32 hex digits\n",
		        d->cfg.node_id);
		return rc;
	}
	sc.dir = d->data_dir;
	sc.map_size = d->cfg.store_size;
	rc = store_open_flags(&d->store, &sc, STORE_TOMBSTONES);
	if (rc < 0) {
		fprintf(stderr, "magmad: cannot open the store in %s: %s\n",
		        d->data_dir, magma_strerror(rc));
		return rc;
	}
	memset(&nc, 0, sizeof(nc));
	nc.local = d->store;
	nc.self_id = d->node_id;
	nc.psk = d->keys.join_token;
	nc.timeout_ms = d->cfg.op_timeout_ms;
	/* No peer_down hook: one slow call must not make the member down
	 * in our view, since a primary skips down backups when it forwards
	 * (they would miss writes, then serve them stale as primary).
	 * Down is the heartbeats' verdict (member.h); a failed call only
	 * orders the owners (kv_net's suspects). */
	nc.saw_epoch = on_epoch;
	nc.missed = on_missed;
	nc.hook_arg = d;
	rc = kv_net_new(&nc, &d->net);
	if (rc < 0) {
		fprintf(stderr, "magmad: cannot set up the data path: %s\n",
		        magma_strerror(rc));
		return rc;
	}
	is_new = node_net_network_is_new(d);
	kv_net_set_serving(d->net, is_new);
	/* Until the start-up catch-up is over (repair.c end_catch_up). */
	store_set_restart_ties(d->store, !is_new);
	return 0;
}

int node_net_network_is_new(const struct magmad *d)
{
	char path[CONF_PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", d->data_dir, MEMBER_TABLE_FILE);
	return access(path, F_OK) != 0 && d->cfg.coordinator[0] == 0;
}

int node_net_start(struct magmad *d)
{
	repair_config rc_cfg;
	repair *rp = NULL;
	ring *view = NULL;
	int rc;

	/* Joins and leaves move data (rebal.h): a new member stays
	 * joining, a leaving one in the table, until that is done. */
	member_set_handoff(d, 1);
	rc = member_view(d, &view);
	if (rc == 0) {
		rc = set_routes(d, view);
		ring_free(view);
	}
	if (rc < 0 && rc != MAGMA_EUNAVAIL) {
		fprintf(stderr, "magmad: cannot route by the table: %s\n",
		        magma_strerror(rc));
		return rc;
	}
	memset(&rc_cfg, 0, sizeof(rc_cfg));
	rc_cfg.net = d->net;
	rc_cfg.interval_s = (d->cfg.repair_interval_ms + 999) / 1000;
	rc_cfg.tomb_age_s = d->cfg.tombstone_age_s;
	rc_cfg.move_rate = d->cfg.move_rate;
	rc_cfg.hook = rebal_after_pass;
	rc_cfg.progress = rebal_progress;
	rc_cfg.hook_arg = d;
	rc = repair_start(&rp, &rc_cfg);
	if (rc < 0) {
		fprintf(stderr, "magmad: cannot start repair: %s\n",
		        magma_strerror(rc));
		return rc;
	}
	/* The heartbeat thread runs already (node_net_missed). */
	__atomic_store_n(&d->repair, rp, __ATOMIC_RELEASE);
	member_on_view(d, on_view, d);
	if (kv_net_view(d->net, &view) == 0) {
		rebal_table(d, view);
		ring_free(view);
	}
	return 0;
}

void node_net_missed(struct magmad *d, int held)
{
	repair *rp = __atomic_load_n(&d->repair, __ATOMIC_ACQUIRE);

	if (d->net == NULL)
		return;
	kv_net_set_serving(d->net, 0);
	if (held) /* paused or cut off: the others wrote without us */
		kv_net_interrupted(d->net);
	/* Catch up once the others that routed around this node see it
	 * again (their next heartbeat), so that the pass sees all they
	 * wrote without it: two rounds. */
	repair_missed(rp, held, 2 * d->cfg.heartbeat_ms);
}

void node_net_stop(struct magmad *d)
{
	repair_stop(d->repair);
	d->repair = NULL;
	kv_net_free(d->net);
	d->net = NULL;
}
