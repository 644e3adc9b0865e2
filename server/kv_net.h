/* kv_net.h - the kv backend (store/kv.h) of a node in a network: every
 * key is served by its owners on the ring (server/ring.h), this node's
 * store when it is one of them, the others over the peer protocol.
 *
 * Front end (the kv handed to fs):
 *   reads  (get, read, scan) go to the primary, then to each backup in
 *          order; an owner that does not answer is skipped (and marked
 *          suspect: tried last for KV_NET_SUSPECT_MS).  A record's
 *          absence (MAGMA_ENOENT) is an answer, not a failure.
 *          read_many with a witness (kv.h; a file's data) is served
 *          by this node's copy when it is a backup whose witness
 *          record has the witness version: the caller read that
 *          version from the primary, so the copy is current.
 *   writes (apply) are split into runs of consecutive batch entries with
 *          the same owners (kv.h: entries are applied in order, without
 *          atomicity across ring keys) and each run goes to its primary
 *          as KV_APPLY, or is applied here when this node is the
 *          primary; when the primary does not answer the next owner
 *          coordinates the write instead.
 *   After the op's time bound (timeout_ms, default KV_NET_TIMEOUT_MS)
 *   without an answer from any owner, the op fails with MAGMA_EUNAVAIL,
 *   logged as "resource unavailable" (NFS3ERR_IO).  Each attempt is
 *   bounded by the peer_client timeouts, chosen so that two attempts fit
 *   in timeout_ms; a further attempt starts only if it fits.
 *
 * Primary (kv_net_primary_apply, for KV_APPLY and the local path):
 *   applies the batch to the local store (the conditions are checked
 *   here only), collects the records exactly as committed
 *   (store_apply_collect) and forwards them, as KV_APPLY replica=TRUE,
 *   to every other node in owners U placement of their keys (a joining
 *   node misses nothing) through kv_fwd's queues: one per peer, sent in
 *   commit order, all peers in parallel and beside the local commit.  A
 *   durable apply returns once each has them on stable storage or has
 *   failed; a KV_UNSTABLE one once the local commit is done, leaving
 *   its forwards to the backups queued (those to placement members are
 *   still waited for).  Members down in membership's view (heartbeats)
 *   are not forwarded to: they catch up by repair when they return.  A
 *   backup that fails is marked suspect (and reported to the peer_down
 *   hook, if any); the write still succeeds when some owner of every
 *   record has it.
 *
 * Durability: every store commit here and on the backups is synced,
 * whatever the asked stability.  Alone, kv.always_durable is 1 and
 * writes are reported FILE_SYNC.  In a network it is 0: an UNSTABLE
 * write is on its primary's disk when answered and reaches the backups
 * from the primary's queue.  kv_sync (COMMIT) asks every owner that took
 * UNSTABLE writes from this front end since the last kv_sync to send its
 * queues (KV_SYNC), and answers KV_SYNC_LOST when one of them restarted
 * since (its incarnation, in every reply header, changed) or does not
 * answer: what it queued may have reached no backup, so the caller
 * changes its write verifier and clients send those writes again.
 *
 * Catching up: while kv_net_set_serving(kn, 0) (repair.h at start-up),
 * this node serves nothing as primary and no reads: the front end skips
 * it, and peer_srv answers other nodes' reads and non-replica writes
 * with MAGMA_EUNAVAIL so they go to the next owner.  Replica writes are
 * taken (they are newer than anything repair pulls).
 *
 * With a table of this node alone (or none), every op is a direct call
 * of the local store's kv: no copy, no thread, no TLS.
 *
 * Thread-safe. */
#ifndef MAGMA_KV_NET_H
#define MAGMA_KV_NET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"
#include "store/kv.h"
#include "store/store.h"

#define KV_NET_TIMEOUT_MS 10000 /* default bound of one op */
#define KV_NET_TIMEOUT_MIN 1000
#define KV_NET_TIMEOUT_MAX 600000
#define KV_NET_SUSPECT_MS 5000 /* a failed owner is tried last this long */

typedef struct kv_net kv_net;

/* Membership's hook: peer id failed a call with rc (MAGMA_EUNAVAIL...).
 * Called without any kv_net lock held; must not block for long. */
typedef void (*kv_net_down_fn)(void *arg, const uint8_t id[RING_ID_LEN],
                               int rc);

/* Membership's hook: a reply carried epoch, newer than the view's. */
typedef void (*kv_net_epoch_fn)(void *arg, uint64_t epoch,
                                const uint8_t from[RING_ID_LEN]);

/* Node's hook: a forward said this node missed an earlier one (its
 * copies may lack writes): stop serving until caught up.  Called
 * before the forward's records are applied. */
typedef void (*kv_net_missed_fn)(void *arg);

typedef struct kv_net_config {
	store *local;              /* this node's store, STORE_TOMBSTONES */
	const uint8_t *self_id;    /* RING_ID_LEN bytes, copied */
	const uint8_t *psk;        /* the join token, 32 bytes, copied */
	unsigned timeout_ms;       /* 0: KV_NET_TIMEOUT_MS */
	kv_net_down_fn peer_down;  /* may be NULL */
	kv_net_epoch_fn saw_epoch; /* may be NULL */
	kv_net_missed_fn missed;   /* may be NULL */
	void *hook_arg;            /* for the hooks */
} kv_net_config;

/* A new backend with no table (every op local until kv_net_set_routes); it
 * starts serving (kv_net_set_serving 1).  cfg->local must outlive it.
 * *out is freed with kv_net_free. */
int kv_net_new(const kv_net_config *cfg, kv_net **out);

/* Route by copies of these from now on: the owners of a key are its
 * owners in table (where its data lives), less the members that view
 * (membership's: the table with unreachable members RING_DOWN) has down.
 * So a down owner's keys are served by the other owners, and when every
 * owner of a key is down its ops fail at once (MAGMA_EUNAVAIL) rather
 * than go to a stand-in that never held the data.  view may be NULL
 * (nobody down); table NULL: this node alone.  MAGMA_ENOMEM leaves the
 * old routes. */
int kv_net_set_routes(kv_net *kn, const ring *table, const ring *view);

/* Non-zero when member id is down in the current routes. */
int kv_net_is_down(kv_net *kn, const uint8_t id[RING_ID_LEN]);

/* A copy of the current table (NULL when none), for repair; freed with
 * ring_free. */
int kv_net_view(kv_net *kn, ring **out);

/* Close every peer connection and free.  No op may be in flight. */
void kv_net_free(kv_net *kn);

/* The kv of this backend, valid until kv_net_free; kv_close on it is a
 * no-op. */
kv *kv_net_kv(kv_net *kn);

/* The primary's apply (see above): on success *failed is n, or, with a
 * condition failure of entry i (MAGMA_ECONFLICT, MAGMA_EEXIST,
 * MAGMA_ENOENT returned), i: the entries before i were applied and
 * forwarded.  MAGMA_EUNAVAIL when some record reached no owner (it is
 * then applied here only), or when this node was interrupted
 * (kv_net_interrupted) during the apply: then its forwards are dropped
 * and another owner must take it.  versions (may be NULL; n entries):
 * for each applied entry whose last op is a put, the version it wrote,
 * else 0.  *run (may be NULL): the incarnation the apply's forwards
 * belong to, for the front end's COMMIT (KV_APPLY's reply header). */
int kv_net_primary_apply(kv_net *kn, const kv_batch *b, size_t n,
                         int durability, size_t *failed, uint64_t *versions,
                         uint64_t *run);

/* Serving state (see "Catching up").  kv_net_serving is also 0, in a
 * network (not alone), while the last kv_net_tick is older than the
 * limit set by kv_net_set_tick_limit (0, the default: no limit): the
 * heartbeat thread ticks often, so an old tick means this process was
 * paused and may have missed writes; the reads that run before that
 * thread notices (member.h) must not be served from this store. */
void kv_net_set_serving(kv_net *kn, int on);
int kv_net_serving(kv_net *kn);
void kv_net_tick(kv_net *kn);
void kv_net_set_tick_limit(kv_net *kn, unsigned limit_ms);
/* Keys marked behind (no witness reads of them, see kv_net.c) are
 * cleared by a repair pass: take kv_net_behind_gen before the pass and
 * give it to kv_net_behind_clear after a pass without failures. */
uint64_t kv_net_behind_gen(kv_net *kn);
void kv_net_behind_clear(kv_net *kn, uint64_t gen);
/* How many reads of a file's data (kv_read_many) this node's copy
 * served, and how many came from other owners, since start. */
void kv_net_read_counts(kv_net *kn, uint64_t *here, uint64_t *away);

/* Mark a peer suspect (tried last for KV_NET_SUSPECT_MS) and tell the
 * peer_down hook. */
void kv_net_suspect(kv_net *kn, const uint8_t id[RING_ID_LEN], int rc);

/* KV_SYNC (peer_srv.c): wait until every write taken here as primary
 * before the call is with its backups (or has failed to reach one, which
 * then catches up by repair), at most the op bound: 0 or
 * MAGMA_EUNAVAIL.  kv_net_incarnation: this run's random number, sent
 * in every peer reply header, so that a front end sees a restart. */
int kv_net_drain(kv_net *kn);
uint64_t kv_net_incarnation(kv_net *kn);

/* This node was paused, or cut off from most other owners, for longer
 * than down_after (member_hb.c; or a forward or a KV_SYNC found the
 * clock's tick stale first): the others have served its keys without it
 * meanwhile, and may have written them.  Its incarnation changes: every forward
 * queued before is dropped rather than sent (a late one could undo what the
 * others wrote, or win a tie against a write they acknowledged), an
 * apply running across it fails with MAGMA_EUNAVAIL for the next owner,
 * and a COMMIT of UNSTABLE writes taken before answers KV_SYNC_LOST:
 * the clients send them again, now through the other owners. */
void kv_net_interrupted(kv_net *kn);

/* The bound of one op in ms, the store, this node's id. */
unsigned kv_net_timeout_ms(kv_net *kn);
store *kv_net_store(kv_net *kn);
void kv_net_self(kv_net *kn, uint8_t id[RING_ID_LEN]);

/* A pooled client of the peer at addr for a call (kind: 0 front-end
 * timeouts, 1 short forward timeouts, 2 repair: long calls), with the current
 * epoch set; give it back with kv_net_put_client (ok 0 after a failed call: it
 * is then closed).  For repair.c. */
struct peer_client;
int kv_net_get_client(kv_net *kn, const char *addr, int kind,
                      struct peer_client **out);
void kv_net_put_client(kv_net *kn, struct peer_client *pc, int kind, int ok);

/* The KV_APPLY handler's work (peer_srv.c): a and r are the
 * peer_apply_args / peer_apply_res of rpc/magma_peer.h.  Sets r's
 * status and body; the header's epoch is the caller's. */
struct peer_apply_args;
struct peer_apply_res;
int kv_net_serve_apply(kv_net *kn, const struct peer_apply_args *a,
                       struct peer_apply_res *r);

#endif
