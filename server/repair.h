/* repair.h - anti-entropy between the owners of a range (DESIGN.md 4):
 * a node compares the digests of the ranges it owns with each other
 * owner and pulls what differs; and the periodic tombstone purge.
 *
 * A pass: for each run of arcs (ring_arcs, placement view: where the
 * data must be) that this node owns, and each other owner of it that
 * the view admits: RANGE_DIGEST of the run (one part) against the local
 * store_range_digest; when they differ, split into REPAIR_PARTS parts
 * and recurse (at most REPAIR_DEPTH levels) into the differing parts,
 * and pull a differing part (RANGE_PULL, resumable by cursor, bounded by
 * PEER_BYTES_MAX a call) into store_apply_replica, which keeps the newer
 * version of each record (the conflict rule of store.h).  Only pulls:
 * every owner runs passes, so each side gets what the other has.  A peer
 * that does not answer is skipped (logged) and left to the next pass.
 *
 * Catching up.  A node that starts with other members in its view does
 * not serve as primary (kv_net_set_serving 0) until its first pass is
 * over: DESIGN "a node that returns after a failure catches up before it
 * serves its ranges as primary".  The same happens when the view gains
 * members after start-up (a join, or a table loaded late).
 *
 * Pacing (DESIGN 5 "throttled").  The passes the repair thread runs,
 * itself or through the hook (a joining node's pulls, a leaving node's
 * hand-off checks, the drops), charge the bytes of the records each
 * RANGE_PULL brought to a token bucket of move_rate bytes per second
 * (throttle.h) and sleep between pulls while ahead of it, holding no
 * lock and no client.  Exempt: the catch-up pass of a node that owns
 * ranges (up or leaving), which serves nothing as primary until that
 * pass ends; a joining node's first pass is paced (nobody reads from
 * it).  Digests are not counted: their replies are small, and computing
 * one reads the records' headers with their stored value hashes, not
 * the values (store.h).  repair_stop wakes the bucket and the pass ends at its
 * next pull or piece.  Called from another thread, nothing is paced.
 *
 * Tombstones.  Deletes leave tombstones (STORE_TOMBSTONES) so that a
 * replica that missed a delete cannot resurrect the record through
 * repair.  They are purged after tomb_age_s (default one day): the
 * simple rule until repair records, per range, that every owner has seen
 * them.  A replica down for longer than that may resurrect records
 * deleted meanwhile (orphans for the scrubber, never lost data).  With
 * this node alone in the view, tombstones protect nothing and are purged
 * at once.
 *
 * Thread-safe; one repair thread per node. */
#ifndef MAGMA_REPAIR_H
#define MAGMA_REPAIR_H

#include <stdint.h>

#include "kv_net.h"
#include "store/store.h"

#define REPAIR_INTERVAL_S 60    /* default time between passes */
#define REPAIR_TOMB_AGE_S 86400 /* default tombstone age before purge */
#define REPAIR_PARTS 16         /* split of a differing range */
#define REPAIR_DEPTH 3          /* levels of splitting */

typedef struct repair repair;

typedef struct repair_stats {
	uint64_t ranges;    /* (range, peer) pairs compared */
	uint64_t differing; /* ... whose digests differed */
	uint64_t pulled;    /* records pulled */
	uint64_t applied;   /* ... that changed the local store */
	uint64_t failed;    /* (range, peer) pairs that failed */
	uint64_t purged;    /* tombstones purged */
	uint64_t failed_up; /* failed pairs whose peer the view had up */
} repair_stats;

/* Progress of a pass or a hand-off check: done of total pieces. */
typedef void (*repair_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* Data movement's hook (rebal.h), run by the repair thread after each
 * pass (pass_rc: that pass's result) and the purge; it may call the
 * functions below.  Returns 0, or the ms after which the next pass
 * should start (sooner than interval_s). */
typedef unsigned (*repair_hook_fn)(void *arg, int pass_rc);

typedef struct repair_config {
	kv_net *net;         /* routes, peers and the store; outlives it */
	unsigned interval_s; /* 0: REPAIR_INTERVAL_S */
	uint64_t tomb_age_s; /* 0: REPAIR_TOMB_AGE_S */
	repair_hook_fn hook; /* may be NULL */
	repair_progress_fn progress; /* of the thread's passes; may be NULL */
	void *hook_arg;              /* for both */
	uint64_t move_rate; /* bytes/s pulled (see above); 0 no limit */
} repair_config;

/* One pass over the current view of kn (see above), now; st (may be
 * NULL) is added to.  0 when every range was compared with every peer
 * that answered; MAGMA_EUNAVAIL when some peer failed (the rest was
 * still done).  The unit of a pass is a piece (repair_pieces) that this
 * node is placed on, and the peers of a piece are its other owners AND
 * placement members: a joining node pulls from the owners, and the new
 * placement owner of a leaving node's range pulls from it. */
int repair_pass(kv_net *kn, repair_stats *st);

/* The same, with fn (may be NULL) told the progress now and then. */
int repair_pass_progress(kv_net *kn, repair_stats *st, repair_progress_fn fn,
                         void *arg);

/* Pieces of the ring: the arcs (lo, hi] (lo == hi: the whole ring) on
 * which both the owners set and the placement set of rg are constant
 * (they are those of key hi), neighbours with equal sets merged.
 * *out (malloc'd, caller frees; mark zeroed, for the caller's use) and
 * *n; none when nobody owns anything. */
typedef struct repair_piece {
	uint8_t lo[RING_KEY_LEN], hi[RING_KEY_LEN];
	int mark;
} repair_piece;
int repair_pieces(const ring *rg, repair_piece **out, size_t *n);

/* A leaving node's check (DESIGN 5 "hands its ranges off first"): for
 * every piece this node is an owner of but not placed on, compare its
 * digest with each placement member's; where they differ, pull what
 * that member has (so the two meet once its own pass pulled ours).
 * *equal of *total pieces matched everywhere (fn told as it goes).  0
 * when all did; MAGMA_EJUKEBOX when some differ; a peer's error. */
int repair_handoff_check(kv_net *kn, repair_progress_fn fn, void *arg,
                         uint64_t *equal, uint64_t *total);

/* Drop the copies this node holds of pieces it is neither an owner nor
 * placed on (left over after a join moved them elsewhere, or after it
 * left), where every placement member is up, reachable and shows the
 * same digest as ours (checked again by store_range_drop as it drops).
 * No tombstones are left.  Call only when every member routes by the
 * current table (repair_epoch_barrier): a member with an older one
 * might read from this node.  *dropped counts records. */
int repair_drop(kv_net *kn, uint64_t *dropped);

/* 0 when every other member of the table that is not down has shown
 * (in a reply) an epoch >= epoch: it routes by that table or a newer
 * one.  MAGMA_EJUKEBOX when one has not yet, a peer's error. */
int repair_epoch_barrier(kv_net *kn, uint64_t epoch);

/* Start the repair thread: a pass at once (with serving off until it
 * ends, when the view has other members), then every interval_s and on
 * repair_kick, and the purge.  *out is freed with repair_stop. */
int repair_start(repair **out, const repair_config *cfg);

/* Stop the thread (waits for a pass in progress to end) and free;
 * NULL allowed. */
void repair_stop(repair *rp);

/* Ask for a pass soon (the view changed).  catch_up: serve nothing as
 * primary until it ends. */
void repair_kick(repair *rp, int catch_up);

/* This node may have missed writes (paused, or cut off from the other
 * owners: member_hb.c): serve nothing as primary (kv_net_set_serving 0,
 * at once) until a catch-up pass has compared every piece with every
 * peer the view admits, without a failure (of a peer not down in the
 * view: a dead one cannot hold it back).  held non-zero: still cut
 * off: no such pass yet; 0: run it after delay_ms (the others must see
 * this node again first), and again every second while it fails.  A
 * later call starts over.  Unlike the start-up catch-up, a failed pass
 * does not end it, unless the peers that failed are down in the view
 * (silent for down_after).  rp NULL: nothing (node_net.c). */
void repair_missed(repair *rp, int held, unsigned delay_ms);

/* The totals so far, the last pass's figures, the number of passes and
 * whether the first pass is done; any pointer may be NULL. */
void repair_get_stats(repair *rp, repair_stats *st, repair_stats *last,
                      uint64_t *passes, int *caught_up);

/* Pacing so far: the move_rate limit (0 none), the bytes of records
 * pulled by paced passes, and the ms they waited; any pointer may be
 * NULL. */
void repair_get_pace(repair *rp, uint64_t *rate, uint64_t *bytes,
                     uint64_t *waited_ms);

/* The RANGE_DIGEST and RANGE_PULL handlers' work on the local store:
 * a and r are the peer_digest_args/_res, peer_pull_args/_res of
 * rpc/magma_peer.h; r's status and body are set (not its epoch). */
struct peer_digest_args;
struct peer_digest_res;
struct peer_pull_args;
struct peer_pull_res;
int repair_serve_digest(store *s, const struct peer_digest_args *a,
                        struct peer_digest_res *r);
int repair_serve_pull(store *s, const struct peer_pull_args *a,
                      struct peer_pull_res *r);

#endif
