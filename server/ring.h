/* ring.h - the routing table: members and their virtual tokens on the
 * 160-bit ring, and the owners of a ring key (DESIGN.md section 4).
 *
 * Tokens.  A member of weight w has tokens(w) = ceil(w * RING_TOKENS_PER_100
 * / 100) virtual tokens; token i is SHA1(node id || be32(i)), i = 0.. .
 * A key k belongs to the member of its successor token, the first token
 * >= k clockwise (past the top of the ring it wraps to the lowest token).
 * Why 2048 tokens per 100 weight: a member's share is the sum of its
 * token arcs, whose relative spread is about 1/sqrt(tokens).  With 100
 * equal members the largest share is about 2.5 spreads above the mean,
 * so the DESIGN target max/mean <= 1.10 needs 2.5/sqrt(T) well below
 * 0.10.  Measured over 12 sets of 100 random ids (exact arc shares):
 * T = 512: mean 1.115, worst 1.157 (misses); T = 1024: mean 1.079,
 * worst 1.092, too close once sampling noise (~2% at 10k keys a node)
 * is added; T = 2048: mean 1.055, worst 1.083; T = 4096: 1.039, 1.051.
 * 2048 meets the target with margin at 24 bytes per token (4.8 MiB for
 * 100 members) and an 18-step binary search per lookup; 4096 would
 * double memory and change cost for 1.5 points.
 *
 * Two views of the owners of a key: the first r DISTINCT members
 * clockwise from the key, primary first, counting only the members whose
 * state the view admits:
 *
 *   owners (ring_owners): who serves reads and writes now.
 *     RING_UP and RING_LEAVING.  A leaving member owns its ranges until
 *     it is removed (after its hand-off); a joining member holds no data
 *     yet, and a down member does not answer, so both are skipped and
 *     the next member clockwise stands in.
 *   placement (ring_placement): where the data must end up; what data
 *     movement (join, leave, re-replication) works towards.
 *     RING_UP and RING_JOINING.  A joining member receives its ranges
 *     (and, so that it misses nothing, every write to them during its
 *     catch-up: writers send to owners U placement); a leaving member and
 *     a down member (after the grace time, DESIGN section 5) are left out,
 *     so their keys get new homes.
 *   A member that comes back from RING_DOWN should go through
 *   RING_JOINING (catch up) before RING_UP.
 *
 * Determinism: the owners depend only on the set of members (ids,
 * weights, states) and r, never on the order of the ring_add calls.
 *
 * Thread safety: functions taking a const ring may run concurrently;
 * a change needs exclusive access (replace the table, e.g. ring_dup
 * then change the copy, rather than change a table readers use). */
#ifndef MAGMA_RING_H
#define MAGMA_RING_H

#include <stddef.h>
#include <stdint.h>

#define RING_ID_LEN 16   /* node id */
#define RING_KEY_LEN 20  /* ring key, SHA1-sized (KEYS_RING_LEN) */
#define RING_ADDR_MAX 64 /* "ip:port" / "[ipv6]:port" with its NUL */
#define RING_R_MAX 16    /* largest redundancy */
#define RING_WEIGHT_DEFAULT 100
#define RING_WEIGHT_MAX 6400
#define RING_TOKENS_PER_100 2048
#define RING_MEMBERS_MAX 4096
#define RING_TOKENS_MAX (1u << 22) /* all members' tokens together */

typedef struct ring ring;

enum ring_state {
	RING_UP = 1,      /* serving */
	RING_DOWN = 2,    /* not answering heartbeats */
	RING_JOINING = 3, /* receiving its ranges, not serving them yet */
	RING_LEAVING = 4, /* handing its ranges off, still serving them */
};

/* Which owners: see the comment at the top. */
enum ring_view { RING_VIEW_OWNERS = 0, RING_VIEW_PLACEMENT = 1 };

typedef struct ring_member {
	uint8_t id[RING_ID_LEN];
	char peer[RING_ADDR_MAX]; /* node-to-node address, "ip:port" */
	char nfs[RING_ADDR_MAX];  /* NFS front end "ip:port"; "" if none
	                           * (a storage-only volunteer) */
	uint32_t weight;          /* capacity weight; 0 in ring_add means
	                           * RING_WEIGHT_DEFAULT */
	int state;                /* enum ring_state */
} ring_member;

/* A new empty table with redundancy r (1..RING_R_MAX), epoch 0.
 * *out is freed with ring_free. */
int ring_new(unsigned r, ring **out);

/* A deep copy of src; *out is freed with ring_free. */
int ring_dup(const ring *src, ring **out);

void ring_free(ring *rg);

/* Add a member (copied).  Addresses must be an IPv4 "a.b.c.d:port" or
 * IPv6 "[addr]:port", port 1..65535 (nfs may be "").  MAGMA_EEXIST if
 * the id is present, MAGMA_EINVAL on a bad address, weight or state,
 * MAGMA_ERANGE beyond RING_MEMBERS_MAX or RING_TOKENS_MAX.  Bumps the
 * epoch by one.  O(tokens). */
int ring_add(ring *rg, const ring_member *m);

/* Remove a member; MAGMA_ENOENT if absent.  Bumps the epoch.  O(tokens). */
int ring_remove(ring *rg, const uint8_t id[RING_ID_LEN]);

/* Change a member's state; MAGMA_ENOENT if absent, MAGMA_EINVAL if state
 * is not a ring_state.  Bumps the epoch unless the state is unchanged. */
int ring_set_state(ring *rg, const uint8_t id[RING_ID_LEN], int state);

/* Change a member's weight (0: RING_WEIGHT_DEFAULT); errors as ring_add
 * and ring_remove.  Bumps the epoch unless unchanged.  O(tokens). */
int ring_set_weight(ring *rg, const uint8_t id[RING_ID_LEN], uint32_t weight);

/* The epoch.  Every change above adds one; ring_set_epoch sets it to
 * any value (the one that serializes changes assigns it, DESIGN 4). */
int ring_epoch(const ring *rg, uint64_t *epoch);
int ring_set_epoch(ring *rg, uint64_t epoch);

/* The redundancy r. */
int ring_redundancy(const ring *rg, unsigned *r);

/* Owners of key in the owners view (reads and writes): up to max (and
 * up to r) distinct member ids into out[0..*n-1], primary first, then
 * the backups in the order they are to be tried.  *n is less than r
 * when fewer members are admitted.  MAGMA_EUNAVAIL (and *n untouched)
 * if no member is admitted; MAGMA_EINVAL if max is 0.  O(log tokens)
 * plus the walk to the r-th distinct member. */
int ring_owners(const ring *rg, const uint8_t key[RING_KEY_LEN],
                uint8_t out[][RING_ID_LEN], size_t max, size_t *n);

/* The same in the placement view (data movement). */
int ring_placement(const ring *rg, const uint8_t key[RING_KEY_LEN],
                   uint8_t out[][RING_ID_LEN], size_t max, size_t *n);

/* The ranges of the ring whose owner set (in view) includes member id,
 * for repair and data movement: fn(arg, lo, hi, owners, n) for each
 * maximal run of consecutive token arcs with the same SET of owners, as
 * the arc (lo, hi]: lo exclusive, hi inclusive, wrapping past the top;
 * lo == hi is the whole ring.  owners[0..n-1] is the owner list of the
 * run's first arc (primary first).  fn returns 0 to go on, or non-zero
 * to stop: ring_arcs then returns that value.  Runs come in ring order
 * from an arbitrary start.  0 and no call when id owns nothing (also
 * when absent).  O(tokens * r). */
typedef int (*ring_arc_fn)(void *arg, const uint8_t lo[RING_KEY_LEN],
                           const uint8_t hi[RING_KEY_LEN],
                           const uint8_t owners[][RING_ID_LEN], size_t n);
int ring_arcs(const ring *rg, const uint8_t id[RING_ID_LEN], int view,
              ring_arc_fn fn, void *arg);

/* key + 1 and key - 1 on the ring (modulo 2^160): between the arcs'
 * (lo, hi] and a store's [start, end) ranges. */
void ring_key_inc(uint8_t key[RING_KEY_LEN]);
void ring_key_dec(uint8_t key[RING_KEY_LEN]);

/* The fraction (0..1) of the keyspace of which member id is the primary
 * in the given view, computed exactly from the token arcs.  0 for a
 * member the view does not admit; MAGMA_ENOENT if absent.  O(tokens). */
int ring_share(const ring *rg, const uint8_t id[RING_ID_LEN], int view,
               double *share);

/* Members, in ascending id order: ring_count gives their number, and
 * ring_member_at copies the i-th (0 <= i < count) into *m
 * (MAGMA_ERANGE past the end).  Indexes are valid until the next change. */
int ring_count(const ring *rg, size_t *count);
int ring_member_at(const ring *rg, size_t i, ring_member *m);

/* Copy the member with this id into *m; MAGMA_ENOENT if absent. */
int ring_member_find(const ring *rg, const uint8_t id[RING_ID_LEN],
                     ring_member *m);

/* Encode the table (version 1, see ring.c): *buf is malloc'd, the caller
 * frees it.  Equal tables encode to equal bytes. */
int ring_encode(const ring *rg, uint8_t **buf, size_t *len);

/* Decode an encoding; any malformed, truncated, over-long, out-of-bounds
 * or non-canonical input is MAGMA_EGARBAGE (MAGMA_ENOMEM aside).
 * *out is freed with ring_free. */
int ring_decode(const void *buf, size_t len, ring **out);

/* "up", "down", "joining", "leaving", or "?"; static storage. */
const char *ring_state_name(int state);

#endif
