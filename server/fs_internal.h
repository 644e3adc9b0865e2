/* fs_internal.h - what the fs*.c files share: the fs object, a flare read
 * with its version ("node"), a batch builder and the permission rules.
 * Not for use outside server/fs*.c. */
#ifndef MAGMA_FS_INTERNAL_H
#define MAGMA_FS_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "fs.h"
#include "fs_rec.h"

/* How often an operation is redone after losing a compare-and-swap. */
#define FS_RETRIES 64

struct fs {
	kv *kv;
	const magma_keys *keys;
	/* Serialises namespace mutations of this front end; data ops and
	 * reads run concurrently and rely on versions (CAS). */
	pthread_mutex_t ns_lock;
	/* The write verifier (atomic: WRITE replies read it unlocked); a
	 * COMMIT that learns of lost unstable writes changes it, under
	 * commit_lock, before any other COMMIT can answer. */
	uint64_t wverf;
	pthread_mutex_t commit_lock;
	fs_ref root;
	struct fs_ra *ra; /* read-ahead (fs_ra.c) */
	int views;        /* atomic: READs holding a store view (fs_file.c) */
};

/* A flare as read: its reference, record and record version. */
typedef struct fs_node {
	fs_ref ref;
	fs_rec rec;
	uint64_t ver;
} fs_node;

/* ---- fs_ra.c: read-ahead of sequential READs (see there) ---- */
typedef struct fs_ra fs_ra;
int fs_ra_new(fs_ra **out);
void fs_ra_free(fs_ra *ra);
/* [off, off+len) of file n from a prefetch made at n's version, into
 * *bufp: 1 if done, 0 if not there (the caller reads it).  When the
 * range is a whole prefetch and cap (the room of *bufp, a malloc'd
 * buffer; 0: not to be swapped) is large enough, *bufp is swapped for
 * the prefetch's buffer instead of copied into. */
int fs_ra_take(fs *f, const fs_node *n, uint64_t off, uint32_t len,
               uint8_t **bufp, uint32_t cap);
/* A READ of [off, off+len) of n was answered: prefetch what a
 * sequential reader asks next. */
void fs_ra_after(fs *f, const fs_node *n, uint64_t off, uint32_t len);
/* fs_file.c: [off, off+len) of the file ref from its chunks, one
 * kv_read_many witnessed by ver (its flare record's version); zeros
 * where nothing is stored; *ahead when read-ahead pays (see there). */
int fs_chunks_read(fs *f, const fs_ref *ref, uint64_t ver, uint64_t off,
                   uint32_t len, uint8_t *buf, int *ahead);

/* ---- fs.c: shared helpers ---- */
void fs_now(fs_time *t);
/* Read the flare named by ref: MAGMA_ESTALE when absent. */
int fs_node_get(fs *f, const fs_ref *ref, fs_node *n);
/* fs_node_get of refs[0..n) at once (one kv_get_many): rcs[i] is what
 * fs_node_get would return for refs[i].  Returns an error only when
 * none could be read. */
int fs_nodes_get(fs *f, const fs_ref *refs, size_t n, fs_node *out, int *rcs);
/* Like fs_node_get, but also MAGMA_ENOTDIR unless a directory. */
int fs_dir_get(fs *f, const fs_ref *ref, fs_node *n);
int fs_is_root(const fs *f, const uint8_t id[KEYS_ID_LEN]);
uint64_t fs_fileid(const uint8_t id[KEYS_ID_LEN]);
void fs_attr_of(const fs_node *n, fs_attr *a);
void fs_wcc_pre(fs_wcc *w, const fs_node *n);
void fs_wcc_post(fs_wcc *w, const fs_node *n);
/* 0 for an ordinary name, 1 for ".", 2 for "..", or MAGMA_EINVAL /
 * MAGMA_ENAMETOOLONG. */
int fs_name_check(const char *name, size_t len);
/* The binding of name in directory dir: its name key always, and the
 * binding and its version when found (MAGMA_ENOENT when not). */
int fs_bind_get(fs *f, const fs_ref *dir, const char *name, size_t len,
                uint8_t nkey[KEYS_RING_LEN], fs_bind *b, uint64_t *ver);
/* The ring key holding a directory's entries. */
void fs_ents_key(fs *f, const uint8_t dir_id[KEYS_ID_LEN],
                 uint8_t out[KEYS_RING_LEN]);
/* Look up name (already checked, not "." / "..") without permission
 * checks; fills *out and *n. */
int fs_lookup_node(fs *f, const fs_node *dir, const char *name, size_t len,
                   fs_node *n);

/* ---- a batch under construction (fs_tx.c) ---- */
#define FS_TX_KEYS 16
#define FS_TX_OPS 40
#define FS_TX_DELTAS 4

/* Deltas: how an operation changes a flare other than the child it
 * creates, moves or names - a directory's times and link count, a
 * victim's or linked file's link count.  Unlike the full record, a delta
 * commutes with another front end's change of the same flare.
 *
 * The batch always holds the full new record too, conditional on the
 * version read.  When the kv applies batches atomically across ring keys
 * (kv_atomic_batches: the local store, a node alone), fs_tx_apply applies
 * the batch as it is: one transaction, one synced commit, and a lost CAS
 * anywhere redoes the whole operation (nothing of it was applied).
 *
 * Otherwise the kv applies the entries in order with no atomicity across
 * keys, and a CAS lost on the directory after the child and its name were
 * applied would make the redo see its own name (a false EEXIST, ENOENT)
 * and lose the directory update.  So fs_tx_apply leaves the deltas'
 * entries out of the batch and applies: the FIRST deltas, the rest of the
 * batch (the child part: its own conditions decide, a conflict there is
 * a real one and redoes the operation; FIRST deltas are then undone),
 * then each other delta by a CAS loop on a fresh read of its flare.
 * After the child part landed, no error is MAGMA_ECONFLICT (a redo would
 * see the operation's own result). */
#define FS_DELTA_TOUCH 1  /* mtime = ctime = now (a directory) */
#define FS_DELTA_CTIME 2  /* ctime = now */
#define FS_DELTA_PARENT 4 /* parent = delta's parent (a moved directory) */
#define FS_DELTA_UNLINK                                                        \
	8                 /* one name less: drop the flare (a directory, or    \
	                     nlink 1), else nlink - 1 and ctime = now */
#define FS_DELTA_FIRST 16 /* before the child part, undone when it fails */

typedef struct fs_delta {
	fs_node *node; /* the caller's node: as read (version: the CAS of
	                  the atomic batch); on success as written */
	int flags;
	int nlink; /* added to nlink */
	fs_ref parent;
	fs_time now;
	fs_wcc *wcc; /* when set: its pre from the read the delta applied to */
	size_t b0, b1; /* the delta's entries in the batch */
} fs_delta;

typedef struct fs_tx {
	kv_batch b[FS_TX_KEYS];
	kv_op ops[FS_TX_OPS];
	uint8_t subs[FS_TX_OPS][KV_SUB_MAX];
	uint8_t ends[FS_TX_OPS][KV_SUB_MAX];
	uint8_t *vals[FS_TX_OPS]; /* owned values, freed by fs_tx_free */
	fs_delta d[FS_TX_DELTAS];
	size_t nb, nops, nd;
	int err; /* first builder error, reported by apply */
} fs_tx;

void fs_tx_init(fs_tx *t);
/* Start the ops of ring key key (following ops belong to it). */
void fs_tx_key(fs_tx *t, const uint8_t key[KV_KEY_LEN]);
/* Put a value; val is malloc'd and owned by the tx from now on. */
void fs_tx_put(fs_tx *t, const void *sub, size_t sublen, uint8_t *val,
               size_t len, uint64_t expect);
/* Put a value the caller owns; it must outlive the tx's apply. */
void fs_tx_put_ref(fs_tx *t, const void *sub, size_t sublen, const uint8_t *val,
                   size_t len, uint64_t expect);
void fs_tx_del(fs_tx *t, const void *sub, size_t sublen, uint64_t expect);
void fs_tx_del_range(fs_tx *t, const void *from, size_t fromlen,
                     const void *end, size_t endlen);
/* Start n's home key and put n's record conditional on n->ver (or
 * KV_VER_ABSENT when create is set). */
void fs_tx_put_node(fs_tx *t, const fs_node *n, int create);
/* Change n (read at n->ver; it must outlive the tx) by a delta: flags
 * FS_DELTA_*, nlink added, parent for FS_DELTA_PARENT (else NULL), the
 * time now; n->rec is changed at once and its put (or drop) added. */
void fs_tx_delta(fs_tx *t, fs_node *n, int flags, int nlink,
                 const fs_ref *parent, const fs_time *now, fs_wcc *wcc);
/* Put the binding and entry of a name (expect: see kv.h). */
void fs_tx_put_name(fs *f, fs_tx *t, const fs_ref *dir_ref,
                    const uint8_t nkey[KEYS_RING_LEN], const char *name,
                    size_t len, const fs_node *n, uint64_t bind_expect,
                    uint64_t ent_expect);
void fs_tx_del_name(fs *f, fs_tx *t, const fs_ref *dir_ref,
                    const uint8_t nkey[KEYS_RING_LEN], uint64_t bind_ver,
                    uint64_t ent_ver);
/* Apply t (see the deltas above). */
int fs_tx_apply(fs *f, fs_tx *t, int durability);
void fs_tx_free(fs_tx *t);

/* ---- fs_perm.c ---- */
#define FS_MAY_EXEC 1
#define FS_MAY_WRITE 2
#define FS_MAY_READ 4

int fs_in_group(const fs_cred *c, uint32_t gid);
/* 0 or MAGMA_EACCES: may c do all of may on r. */
int fs_perm(const fs_cred *c, const fs_rec *r, int may);
/* Data ops (READ/WRITE, size change): the owner may always (knfsd's
 * owner override); READ is also allowed with execute permission. */
int fs_perm_data(const fs_cred *c, const fs_rec *r, int may);
/* 0 or MAGMA_EPERM: removal of victim from a sticky dir. */
int fs_perm_sticky(const fs_cred *c, const fs_rec *dir, const fs_rec *victim);
uint32_t fs_perm_access(const fs_cred *c, const fs_rec *r, uint32_t want);
/* Check and apply mode, owner, group and times of sa to r (not size). */
int fs_perm_setattr(const fs_cred *c, fs_rec *r, const fs_sattr *sa,
                    const fs_time *now);
/* Clear setuid (and setgid if group-executable) as a write by c does. */
void fs_perm_kill_suid(const fs_cred *c, fs_rec *r);

/* ---- fs_file.c ---- */
/* Add to t (whose current key is n's home) the ops that cut or extend n
 * to size, and update n->rec.size/used (the record is put by the caller). */
int fs_file_resize(fs *f, fs_tx *t, fs_node *n, uint64_t size);
/* Add to t the deletion of n's record and data (current key: home). */
void fs_file_drop(fs_tx *t, const fs_node *n);

#endif
