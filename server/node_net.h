/* node_net.h - magmad's data path set-up: the store with tombstones,
 * kv_net (the kv fs uses) fed with membership's view, and the repair
 * thread (catch-up, anti-entropy, tombstone purge).
 *
 * Order in magmad: node_net_open (before fs_open, which takes
 * kv_net_kv(d->net)), the servers, member_start, node_net_start; on
 * the way down: the servers, member_stop, node_net_stop, fs_close,
 * store_close. */
#ifndef MAGMA_NODE_NET_H
#define MAGMA_NODE_NET_H

struct magmad;

/* Open d->store (STORE_TOMBSTONES) and d->net.  A node that is already
 * a member of a network (DIR/table exists, or its config names a
 * coordinator) starts without serving as primary until its first
 * repair pass.  A clear line on stderr on failure. */
int node_net_open(struct magmad *d);

/* Non-zero on the founding node's first start: no DIR/table yet and no
 * coordinator in its config.  Only then may the root directory be made
 * (fs.h, fs_open_root) and the node serve at once. */
int node_net_network_is_new(const struct magmad *d);

/* After member_start: route by membership's view (and follow it), and
 * start the repair thread. */
int node_net_start(struct magmad *d);

/* The heartbeat thread (member.h) found that this node may have
 * missed writes: it was paused, or cut off from most other owners, for
 * longer than down_after.  held non-zero: serve nothing as primary from
 * now on (and kv_net_interrupted: drop the forwards queued before), and
 * wait; 0: the others answer again: catch up (repair.h, repair_missed),
 * then serve.  Safe before node_net_start (serving off;
 * the first pass catches up). */
void node_net_missed(struct magmad *d, int held);

/* Stop the repair thread and free d->net (the store stays). */
void node_net_stop(struct magmad *d);

#endif
