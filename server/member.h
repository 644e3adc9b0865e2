/* member.h - membership of a Magma network (DESIGN.md section 5): the
 * serialized changes of the routing table, JOIN and LEAVE, heartbeats,
 * and the node-local routing VIEW the data path routes by.
 *
 * The table and the view.  The TABLE (struct magmad.table, under
 * table_lock) is the network's: every member holds the same table for a
 * given epoch.  The VIEW is this node's: a copy of the table in which
 * every member that this node's heartbeats (or the data path, through
 * member_suspect) found unreachable is RING_DOWN.  The view keeps the
 * table's epoch: reachability is local knowledge, never a table change.
 *
 * Serialized changes (a coordinator).  The network's founding node (the
 * one `magmactl init` made; its magma.conf has no `coordinator` key, the
 * others name its peer address there) makes every table change, one at a
 * time under one mutex: it computes the new table from its current one
 * with epoch + 1, writes it durably (DIR/table, fsync'd) and installs it,
 * and only then pushes it with TABLE_PUT to every other member.  A node
 * accepts a TABLE_PUT (or a TABLE_GET answer) only with a newer epoch
 * than its own, writes it durably, then installs it.  Since only one
 * process ever assigns epochs, and it assigns each one once (persisted
 * before anyone sees it, so a restart continues from it), two tables
 * with one epoch cannot exist.  While the coordinator is down, joins,
 * leaves and state changes fail with MAGMA_EUNAVAIL ("the coordinator
 * ... is unreachable"); serving data goes on.  Members that missed a
 * push converge: every peer call and reply carries the epoch, and a node
 * that sees a newer one fetches the table (TABLE_GET) from that node.
 *
 * Thread safety: every function may be called from any thread once
 * member_start returned 0, until member_stop. */
#ifndef MAGMA_MEMBER_H
#define MAGMA_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

struct magmad;

#define MEMBER_TABLE_FILE "table" /* DIR/table: ring_encode() bytes */
#define MEMBER_HEARTBEAT_MS 1000  /* default heartbeat_interval */
#define MEMBER_DOWN_AFTER_MS 3000 /* default down_after */
#define MEMBER_CHANGE_MS 10000    /* bound of one change request */

typedef struct member member;

/* ---- life cycle (magmad.c) ---- */

/* After the peer port is served (d->peer_bound set, d->table holding the
 * lone-node table): load DIR/table if present, else make the first table
 * (coordinator) or JOIN through the coordinator (a joined node's first
 * start); a member catches up with TABLE_GET from the coordinator.
 * Then start the heartbeat thread.  On failure a clear line is on
 * stderr. */
int member_start(struct magmad *d);

/* Stop the heartbeat thread and free; safe when member_start failed or
 * never ran. */
void member_stop(struct magmad *d);

/* ---- the view (the data path, kv_net.c) ---- */

/* A copy of the current table with unreachable members RING_DOWN (see
 * above), epoch unchanged.  *out is freed by the caller with ring_free.
 * MAGMA_EUNAVAIL when there is no table yet, MAGMA_ENOMEM. */
int member_view(struct magmad *d, ring **out);

/* The current table's epoch (0 when none). */
uint64_t member_epoch(struct magmad *d);

/* Non-zero when member id is reachable as far as this node knows (this
 * node itself always is). */
int member_reachable(struct magmad *d, const uint8_t id[RING_ID_LEN]);

/* The data path reports that a call to member id failed on the
 * connection (MAGMA_EUNAVAIL): it is down in the view at once; the
 * heartbeats bring it back up as soon as it answers.  Unknown ids and
 * this node's own id are ignored. */
void member_suspect(struct magmad *d, const uint8_t id[RING_ID_LEN]);

/* The data path saw epoch in a reply (peer_client_seen_epoch) from
 * member from_id, or in a call header sent by it (NULL: unknown sender;
 * the coordinator is asked).  When it is newer than ours, the member
 * thread fetches the table (TABLE_GET) from that node soon; this call
 * never blocks. */
void member_saw_epoch(struct magmad *d, uint64_t epoch,
                      const uint8_t from_id[RING_ID_LEN]);

/* Called after every change of the view (a new table installed, or a
 * member found down or up again), from a member thread, with no lock
 * held; view is valid only during the call (ring_dup it to keep it).
 * One listener (a second call replaces it; fn NULL removes it). */
typedef void (*member_view_fn)(void *arg, const ring *view);
void member_on_view(struct magmad *d, member_view_fn fn, void *arg);

/* ---- table changes through the coordinator (data movement) ---- */

/* When the data path moves data (rebalance), it calls this once with 1
 * at start-up: a joining member then stays RING_JOINING, and a leaving
 * one RING_LEAVING, until it calls member_set_state(id, RING_UP) or
 * member_remove(id) when the data has arrived / been handed off.
 * Without it (0, the default) a JOIN makes the new member RING_UP at
 * once (nothing moves data yet) and a LEAVE only marks RING_LEAVING. */
void member_set_handoff(struct magmad *d, int data_path_moves_data);

/* Change one member's state, or remove it, through the coordinator
 * (directly when this node is it).  Blocks up to MEMBER_CHANGE_MS.
 * MAGMA_EUNAVAIL when the coordinator is unreachable, MAGMA_ENOENT for
 * an unknown id, MAGMA_EINVAL for a bad state. */
int member_set_state(struct magmad *d, const uint8_t id[RING_ID_LEN],
                     int state);
int member_remove(struct magmad *d, const uint8_t id[RING_ID_LEN]);

/* Data movement in progress, as `magmactl status` shows it; the data
 * path sets it (active 0: "none"). */
typedef struct member_movement {
	int active;
	char what[96];  /* e.g. "rebalance after join of <id>" */
	uint64_t done;  /* records (or bytes) moved so far */
	uint64_t total; /* 0 if unknown */
} member_movement;
void member_set_movement(struct magmad *d, const member_movement *mv);
void member_get_movement(struct magmad *d, member_movement *mv);

/* ---- control requests (magmad.c, ctl.h) ---- */

/* The membership lines of `status`: epoch=, redundancy=, coordinator=,
 * movement=, then one member= line per member: "ID PEER NFS|- STATE
 * SHARE FLAGS" (STATE merged from the table and the view; SHARE the
 * percentage of the ring it is primary of in the view; FLAGS a comma
 * list of self and coordinator, or -). */
struct ctl_reply;
int member_ctl_status(struct magmad *d, struct ctl_reply *r);

/* The owners of key in the view: "primary ID PEER STATE" then
 * "backup ID PEER STATE" lines, or "backups none (...)". */
int member_ctl_owners(struct magmad *d, const uint8_t key[RING_KEY_LEN],
                      struct ctl_reply *r);

/* `leave [--force]` for this node: mark it leaving through the
 * coordinator; with --force (or when the data path has handed its data
 * off) remove it.  Message in err on failure. */
int member_ctl_leave(struct magmad *d, const char *arg, struct ctl_reply *r,
                     char *err, size_t errlen);

/* ---- peer procedures (the rows of peer_srv.c) ---- */

/* TABLE_PUT, JOIN and MEMBER_SET (rpc/magma_peer.x), as rpc_handler. */
struct rpc_req;
int member_srv_table_put(struct rpc_req *req, void *args, void *res);
int member_srv_join(struct rpc_req *req, void *args, void *res);
int member_srv_member_set(struct rpc_req *req, void *args, void *res);

#endif
