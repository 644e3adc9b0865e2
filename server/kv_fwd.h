/* kv_fwd.h - a primary's forward queues: one ordered queue and one
 * sender thread per peer (kv_net's forward to the backups).
 *
 * The records of one apply (store_apply_collect's, as committed) are
 * held by a kv_fwd_recs that every job of that apply shares; one job
 * carries the records one peer gets.  A peer's jobs are sent one after
 * another in the order they were queued, by the sender function given
 * to kv_fwd_new, so a backup sees a primary's writes in its commit
 * order whether or not anyone waits for them.
 *
 * A durable apply waits for its jobs (kv_fwd_wait) before it answers;
 * an UNSTABLE one lets them go (kv_fwd_release) and its front end's
 * COMMIT later asks for kv_fwd_drain: every job queued before the call
 * has then been sent, or has failed (the sender marks that peer as
 * having missed writes, so it catches up by repair).  The bytes of jobs
 * not yet sent are bounded (KV_FWD_MAX_BYTES): kv_fwd_room waits for
 * room before an apply, so a slow backup slows its writers instead of
 * filling memory.
 *
 * Thread-safe. */
#ifndef MAGMA_KV_FWD_H
#define MAGMA_KV_FWD_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"
#include "store.h"

/* Unsent forward bytes per primary: a few NFS writes' worth. */
#define KV_FWD_MAX_BYTES (16u * 1024u * 1024u)

typedef struct kv_fwd kv_fwd;
typedef struct kv_fwd_recs kv_fwd_recs;
typedef struct kv_fwd_job kv_fwd_job;

/* Send recs[idx[0..n)] to the peer (id, addr): 0 or a MAGMA_E* code;
 * tag is the job's (kv_fwd_queue). */
typedef int (*kv_fwd_send_fn)(void *arg, const uint8_t id[RING_ID_LEN],
                              const char *addr, const store_rec *recs,
                              const size_t *idx, size_t n, uint64_t tag);

int kv_fwd_new(kv_fwd_send_fn send, void *arg, kv_fwd **out);
/* Sends what is queued, then stops every sender thread. */
void kv_fwd_free(kv_fwd *kf);

/* The records of one apply, shared by its jobs; the caller holds one
 * reference and ends it with kv_fwd_recs_put.  own 1: h frees the
 * records (a store_applied's) with its last reference; own 0: they stay
 * the caller's, who must then have seen every job done (kv_fwd_wait). */
kv_fwd_recs *kv_fwd_recs_new(const store_rec *recs, size_t n);
void kv_fwd_recs_put(kv_fwd *kf, kv_fwd_recs *h, int own);

/* Queue the records idx[0..n) (copied) of h for peer (id, addr), with
 * the caller's tag for the sender; NULL when out of memory.  The caller
 * holds the job until kv_fwd_wait or kv_fwd_release. */
kv_fwd_job *kv_fwd_queue(kv_fwd *kf, kv_fwd_recs *h,
                         const uint8_t id[RING_ID_LEN], const char *addr,
                         const size_t *idx, size_t n, size_t bytes,
                         uint64_t tag);
/* Wait until the job is sent or failed: its result.  Ends the hold. */
int kv_fwd_wait(kv_fwd *kf, kv_fwd_job *j);
/* End the hold without waiting. */
void kv_fwd_release(kv_fwd *kf, kv_fwd_job *j);

/* Wait while more than KV_FWD_MAX_BYTES are queued and unsent. */
void kv_fwd_room(kv_fwd *kf);
/* Wait until every job queued before this call is done, at most
 * timeout_ms: 0, or MAGMA_EUNAVAIL when some are still queued. */
int kv_fwd_drain(kv_fwd *kf, unsigned timeout_ms);

#endif
