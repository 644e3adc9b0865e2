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
} repair_stats;

typedef struct repair_config {
	kv_net *net;         /* routes, peers and the store; outlives it */
	unsigned interval_s; /* 0: REPAIR_INTERVAL_S */
	uint64_t tomb_age_s; /* 0: REPAIR_TOMB_AGE_S */
} repair_config;

/* One pass over the current view of kn (see above), now; st (may be
 * NULL) is added to.  0 when every range was compared with every peer
 * that answered; MAGMA_EUNAVAIL when some peer failed (the rest was
 * still done). */
int repair_pass(kv_net *kn, repair_stats *st);

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

/* The totals so far, the last pass's figures, the number of passes and
 * whether the first pass is done; any pointer may be NULL. */
void repair_get_stats(repair *rp, repair_stats *st, repair_stats *last,
                      uint64_t *passes, int *caught_up);

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
