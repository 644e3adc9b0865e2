/* store.h - the LMDB object store of one node: versioned opaque records
 * under (ring key, sub key).  No network, no knowledge of flares.
 *
 * On disk: DIR/store.mdb (LMDB, MDB_NOSUBDIR) with three databases:
 *   "rec"  key = ring key (20 bytes) || sub (0..KV_SUB_MAX bytes)
 *          val = header { u64 version (BE); u8 flags; u8 hash[16] }
 *                || value bytes
 *          hash is XXH3-128 of the value (canonical, big-endian), made
 *          as the record is written, so that range digests need not read
 *          the values; flags has 0x80 set when the hash is there (every
 *          record written since format 2; format 1's have no hash and are
 *          read as they are, the hash computed when a digest needs it).
 *   "meta" small named values (format version, node-local counters).
 *   "tomb" index of tombstones by deletion time, for the purge.
 * Every write transaction is committed with a sync, also for KV_UNSTABLE:
 * an unsynced LMDB commit can corrupt the store on power loss, and no
 * speed is worth that.  Thread-safe: one store may be used from many
 * threads.
 *
 * Versions and conflicts (replication, DESIGN.md section 4)
 * ----------------------------------------------------------
 * A version is a per-record counter: every put or delete of a record on
 * its primary writes version = old version + 1, where "old" counts a
 * tombstone too, so the versions of one record never go backwards across
 * delete and re-create (also after a purge: a record put where nothing is
 * stored starts above the highest version ever purged here).  Writes to a
 * key are serialised through its primary, so the primary's versions of a
 * record are totally ordered, and a backup compares two copies by their
 * version alone.  The rule (store_apply_replica, anti-entropy, rebalance):
 *
 *   1. The higher version wins; the lower one is dropped.
 *   2. Equal version and identical bytes (flags and value): the same
 *      write, nothing to do.
 *   3. Equal version with different bytes is a CONFLICT: two owners each
 *      accepted a write on the same base version (a partition, or a
 *      primary that failed between its commit and its forward: for
 *      UNSTABLE writes, with them still in its forward queue, kv_fwd.h;
 *      their clients' COMMIT then answers a new verifier).  The
 *      winner depends on the two copies only, so every replica picks the
 *      same one whatever order it sees them in:
 *        a live record beats a tombstone (goal 1: no data loss; a
 *        resurrected orphan is garbage for the scrubber, a lost write is
 *        gone), then the bytewise greater value wins (a value that is a
 *        prefix of the other is the smaller; for two tombstones, the later
 *        deletion time).
 *      Every conflict is logged with LOG_W("conflict: ...") naming the
 *      key and version, counted in store_replica_stats.conflicts and in
 *      the persistent counter store_conflicts().  Never silent.
 * CAS (kv.h's exact expected version) is unchanged: an exact match of
 * this counter.  A tombstone is "absent" for every kv.h condition.
 *
 * Tombstones.  A store opened with STORE_TOMBSTONES turns KV_DEL and
 * KV_DEL_RANGE into tombstone records (flags STORE_REC_TOMBSTONE, value =
 * deletion time in ns since the epoch, u64 big-endian).  kv get, read and
 * scan never show them.  They stay until store_purge_tombstones() removes
 * them; the replication layer calls it only for times every owner has
 * seen (a tombstone purged too early lets a stale replica resurrect the
 * record).  Without the flag (the single-node daemon) deletes really
 * delete, as before; replica records are written as given either way. */
#ifndef MAGMA_STORE_H
#define MAGMA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kv.h"

typedef struct store store;

typedef struct store_config {
	const char *dir;   /* directory holding store.mdb */
	uint64_t map_size; /* LMDB map size: the store's capacity limit */
} store_config;

/* Flags of store_open_flags().  Kept out of store_config on purpose:
 * callers fill that struct field by field, and a new field would be
 * read uninitialised. */
#define STORE_TOMBSTONES 0x1u /* deletes leave tombstones (replication) */
/* Grow the file ahead whatever the file system (tests): see store.c. */
#define STORE_GROW_AHEAD 0x2u

/* Open (creating when absent) the store in cfg->dir.  *out is owned by
 * the caller and released with store_close().  store_open() is
 * store_open_flags(out, cfg, 0). */
int store_open(store **out, const store_config *cfg);
int store_open_flags(store **out, const store_config *cfg, unsigned flags);
void store_close(store *s);

/* A kv handle backed by this store (kv_local).  It lives as long as the
 * store; kv_close() on it is a no-op (store_close releases everything). */
kv *store_kv(store *s);

/* A view: live records read in place, without copies, for as long as
 * the view lasts (one LMDB read transaction; end it soon, it keeps the
 * pages it sees from reuse).  store_view_get sets *val to the value
 * inside the map (valid until store_view_end) and returns MAGMA_ENOENT
 * for an absent record or a tombstone, as kv_get does.  A view may be
 * ended by another thread than the one that began it. */
typedef struct store_view store_view;
/* Read transactions (calls and views) open at once before the next
 * fails with MAGMA_EJUKEBOX. */
#define STORE_MAXREADERS 512
int store_view_begin(store *s, store_view **out);
int store_view_get(store_view *v, const uint8_t key[KV_KEY_LEN],
                   const void *sub, size_t sublen, const void **val,
                   size_t *vallen, uint64_t *ver);
void store_view_end(store_view *v);

/* Byte-range reads of records under one ring key in one read
 * transaction, each into its req (kv_read_many in kv.h).  With a
 * witness, first checks that the live record (key, w->sub) has version
 * w->ver: MAGMA_ECONFLICT, and nothing read, when not (older, newer or
 * absent). */
int store_read_many(store *s, const uint8_t key[KV_KEY_LEN],
                    const kv_witness *w, kv_read_req *reqs, size_t n);
/* store_read_many without copying: each req with bytes gets at, where
 * they are inside the map (buf is not used), valid until
 * store_view_end(*view).  *view is set only when 0 is returned. */
int store_read_many_view(store *s, const uint8_t key[KV_KEY_LEN],
                         const kv_witness *w, kv_read_req *reqs, size_t n,
                         store_view **view);

/* Named metadata, e.g. "boot_count".  Values up to 256 bytes. */
int store_meta_get(store *s, const char *name, void *buf, size_t buflen,
                   size_t *len);
int store_meta_put(store *s, const char *name, const void *val, size_t len);

/* ---- replication: implemented in store_repl.c ---- */

#define STORE_REC_TOMBSTONE 0x01u /* flags: a deleted record */
#define STORE_TOMB_LEN 8          /* tombstone value: u64 BE time in ns */
#define STORE_DIGEST_LEN 32       /* SHA-256 */
#define STORE_SPLIT_MAX 65536u    /* most parts of one digest split */

/* One record exactly as its primary committed it.  In callbacks, the
 * pointers are valid only during the call. */
typedef struct store_rec {
	uint8_t key[KV_KEY_LEN]; /* ring key */
	const void *sub;
	size_t sublen;    /* 0..KV_SUB_MAX */
	uint64_t version; /* >= 1 */
	uint8_t flags;    /* 0 or STORE_REC_TOMBSTONE */
	const void *val;  /* tombstone: STORE_TOMB_LEN bytes */
	size_t vallen;    /* <= KV_VAL_MAX */
	uint64_t prev;    /* the version it replaced where it was written,
	                     0 when none or unknown (store_apply_collect
	                     fills it; a replica checks it, see
	                     store_replica_behind) */
} store_rec;

typedef struct store_replica_stats {
	uint64_t applied;   /* written: newer than the local copy, or won */
	uint64_t stale;     /* dropped: older than the local copy */
	uint64_t same;      /* dropped: the same version and bytes */
	uint64_t conflicts; /* equal version, different bytes (rule 3) */
} store_replica_stats;

/* Apply records from another owner (the primary's forward, a repair, a
 * rebalance stream) by the rule above, in one synced transaction: all or
 * nothing.  st may be NULL; on success its counters are increased (not
 * reset).  MAGMA_EINVAL for a malformed record (version 0 or
 * KV_VER_ANY, unknown flags, a tombstone value not STORE_TOMB_LEN long,
 * sizes over the limits). */
int store_apply_replica(store *s, const store_rec *recs, size_t n,
                        store_replica_stats *st);

/* Whether this copy lacks a write that came before some of recs (a
 * primary's forward): a record whose prev is set and whose local
 * version (tombstones counted; absent: 0) is older than prev.  Such a
 * copy may hold, after recs, a newer record beside older data of the
 * same key.  0, 1, or an error. */
int store_replica_behind(store *s, const store_rec *recs, size_t n);

/* The primary's side of a write: apply batches as kv_apply does (the
 * kv.h conditions checked here), and hand back every record the write
 * produced exactly as committed (version, flags, value; deletes as
 * tombstones), in the order written, for forwarding to the backups with
 * store_apply_replica.  Needs STORE_TOMBSTONES (MAGMA_EINVAL otherwise:
 * a real delete could not be forwarded).
 *
 * One synced write transaction; each batch entry (one ring key) runs in
 * a nested transaction, so when an entry's condition fails
 * (MAGMA_ECONFLICT, MAGMA_EEXIST, MAGMA_ENOENT) the entries before it
 * are still committed: the call then returns 0 with out->failed = its
 * index and out->failed_rc = the code (out->failed == n and failed_rc
 * 0 when all applied).  Any other failure returns its code and nothing
 * is applied.  out->recs (malloc'd, may be NULL when nrecs is 0) is
 * freed with store_applied_free; out is set on a 0 return only. */
typedef struct store_applied {
	store_rec *recs; /* each rec's sub and val are owned by it */
	size_t nrecs;
	size_t failed;
	int failed_rc;
} store_applied;

int store_apply_collect(store *s, const kv_batch *b, size_t n,
                        store_applied *out);
void store_applied_free(store_applied *a);

/* The same, with hooks around the commit so that a primary can send the
 * records to its backups while its own commit syncs: prepared(arg,
 * recs, nrecs) runs once every entry is applied, before the commit (the
 * write lock is held: hand the work to another thread and return);
 * settled(arg, rc) runs after the commit with its result, while recs
 * are still valid (wait for that thread there).  Neither runs when the
 * call fails before the commit.  Either hook may be NULL. */
typedef struct store_commit_hooks {
	void (*prepared)(void *arg, const store_rec *recs, size_t nrecs);
	void (*settled)(void *arg, int commit_rc);
	void *arg;
} store_commit_hooks;

int store_apply_collect_hooked(store *s, const kv_batch *b, size_t n,
                               store_applied *out,
                               const store_commit_hooks *hooks);

/* While on, rule 3 keeps the incoming copy of an equal-version conflict
 * whatever its bytes (still logged and counted).  A node sets it from
 * its start until its start-up catch-up is over: a tie found then is a
 * write this node took as primary and had not forwarded when it
 * stopped (UNSTABLE, in its forward queue: no client has it committed,
 * and its front end's COMMIT changes the verifier) against one another
 * owner accepted meanwhile, which may be committed. */
void store_set_restart_ties(store *s, int on);

/* Conflicts resolved here since the store was created (persistent). */
int store_conflicts(store *s, uint64_t *n);

/* Remove at most max (>= 1) tombstones deleted before older_than_ns (ns
 * since the epoch), oldest first, in one synced transaction; *purged says
 * how many went.  Call again while *purged == max. */
int store_purge_tombstones(store *s, uint64_t older_than_ns, size_t max,
                           size_t *purged);

/* Ring ranges.  [start, end) over the 160-bit ring, big-endian; when
 * start > end the range wraps past the top of the ring to 0; start == end
 * is the whole ring, starting at start.  Records come in ring order from
 * start, then sub order. */

/* SHA-256 over every record of the range, tombstones included: for each,
 * key, sub length and sub, version, flags, value length and the value's
 * stored 128-bit hash.  Equal digests mean equal content (but for an
 * XXH3-128 collision), so equal-version conflicts are found too; and a
 * digest reads the records' headers, not their values: its cost is in
 * records, not bytes.  *records (may be NULL) counts them.  One read
 * transaction, constant memory. */
int store_range_digest(store *s, const uint8_t start[KV_KEY_LEN],
                       const uint8_t end[KV_KEY_LEN],
                       uint8_t out[STORE_DIGEST_LEN], uint64_t *records);

/* The same over parts (1..STORE_SPLIT_MAX) equal sub-ranges, part i being
 * [store_range_point(i), store_range_point(i + 1)): digests[i] and
 * counts[i] (counts may be NULL).  Two replicas compare the parts and
 * recurse into the ones that differ.  One pass, one read transaction. */
int store_range_digest_split(store *s, const uint8_t start[KV_KEY_LEN],
                             const uint8_t end[KV_KEY_LEN], unsigned parts,
                             uint8_t (*digests)[STORE_DIGEST_LEN],
                             uint64_t *counts);

/* Boundary i (0..parts) of that split: start + floor(len * i / parts) on
 * the ring, where len is the range's length (2^160 for the whole ring).
 * Point 0 is start, point parts is end.  Pure arithmetic. */
int store_range_point(const uint8_t start[KV_KEY_LEN],
                      const uint8_t end[KV_KEY_LEN], unsigned parts, unsigned i,
                      uint8_t out[KV_KEY_LEN]);

/* Drop every record of the range, tombstones included, leaving no
 * tombstone, in one synced transaction, if and only if the range's
 * digest (store_range_digest) is expect there: for a range this node no
 * longer holds, once its holders showed that digest.  *dropped (may be
 * NULL) counts them.  MAGMA_ECONFLICT (nothing dropped) when the digest
 * differs.  Versions put later where nothing is stored start above the
 * dropped ones, as after a purge. */
int store_range_drop(store *s, const uint8_t start[KV_KEY_LEN],
                     const uint8_t end[KV_KEY_LEN],
                     const uint8_t expect[STORE_DIGEST_LEN], uint64_t *dropped);

/* Where a pull resumes: the LMDB key (ring key || sub) of the last record
 * handed out; len 0 is the start of the range.  Plain bytes, so it can
 * cross the wire and outlive the records it names. */
#define STORE_CURSOR_MAX (KV_KEY_LEN + KV_SUB_MAX)
typedef struct store_cursor {
	uint8_t key[STORE_CURSOR_MAX];
	size_t len;
} store_cursor;

/* Pull callback: 0 continues, 1 stops after this record, a negative
 * MAGMA_E* aborts the pull with that code.  It runs inside a read
 * transaction (it may call this or another store, and must not keep
 * the pointers). */
typedef int (*store_rec_fn)(void *arg, const store_rec *r);

/* Hand fn the records of the range after *from (NULL or len 0: from the
 * start), tombstones included, in ring order, until their sizes (key,
 * sub, value and a 9-byte header each) reach max_bytes; at least one
 * record per call, so a record larger than max_bytes still moves.
 * *next is the cursor to resume from; *done is 1 when the range holds
 * nothing after *next.  *next and *done are set on success only. */
int store_range_pull(store *s, const uint8_t start[KV_KEY_LEN],
                     const uint8_t end[KV_KEY_LEN], const store_cursor *from,
                     size_t max_bytes, store_rec_fn fn, void *arg,
                     store_cursor *next, int *done);

#endif
