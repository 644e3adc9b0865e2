/* fs.h - the namespace layer: NFS-shaped operations on flares.
 *
 * fs turns file-system operations into kv operations (store/kv.h); it
 * checks permissions, keeps attributes and (later) encrypts.  It never
 * knows whether a ring key is local or remote.
 *
 * Records (all values opaque to the owners; formats in fs_rec.h):
 *   at a flare's HOME key H (the ring key of the path it was created at):
 *     "F" || id            the flare record: attributes, parent (dirs),
 *                          symlink target, exclusive-create verifier
 *     "C" || id || idx(8)  data chunk idx (FS_CHUNK bytes, shorter at
 *                          the end or where written short; missing = hole)
 *   at a NAME key N = ring key of (parent id, name):
 *     "N"                  binding: { id, home key, type } of the flare
 *                          that the name names (home == N for a flare
 *                          created there and never renamed)
 *   at a directory's ENTRIES key E = keys_ring_derived("dirents", dir id):
 *     "D" || N             one entry: { name, id, home key, type }
 * A rename or hard link writes a new binding and entry; the flare record
 * and its data never move, so handles (home, id) survive renames.
 * Ordering: create writes the flare, then the binding and entry; remove
 * drops the entry and binding before the flare (orphans are garbage for
 * the scrubber, never visible). */
#ifndef MAGMA_FS_H
#define MAGMA_FS_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "store/kv.h"

#define FS_NAME_MAX 255
#define FS_PATH_MAX 4096
#define FS_CHUNK (64u * 1024u)
#define FS_MAX_FILE_SIZE INT64_MAX

typedef struct fs fs;

/* A flare's identity: its home ring key and immutable id. */
typedef struct fs_ref {
	uint8_t home[KEYS_RING_LEN];
	uint8_t id[KEYS_ID_LEN];
} fs_ref;

/* Types use NFSv3 ftype3 values. */
enum fs_type {
	FS_REG = 1,
	FS_DIR = 2,
	FS_BLK = 3,
	FS_CHR = 4,
	FS_LNK = 5,
	FS_SOCK = 6,
	FS_FIFO = 7
};

typedef struct fs_time {
	int64_t sec;
	uint32_t nsec;
} fs_time;

typedef struct fs_attr {
	uint32_t type;
	uint32_t mode; /* permission bits incl. setuid/setgid/sticky */
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t used; /* bytes of chunks actually stored */
	uint32_t rdev_major, rdev_minor;
	uint64_t fileid; /* stable for the flare's life: from its id */
	fs_time atime, mtime, ctime;
} fs_attr;

enum fs_set_time { FS_TIME_DONT = 0, FS_TIME_SERVER = 1, FS_TIME_CLIENT = 2 };

typedef struct fs_sattr {
	int set_mode;
	uint32_t mode;
	int set_uid;
	uint32_t uid;
	int set_gid;
	uint32_t gid;
	int set_size;
	uint64_t size;
	int set_atime;
	fs_time atime; /* enum fs_set_time */
	int set_mtime;
	fs_time mtime;
} fs_sattr;

/* Weak cache consistency data of one object around an operation. */
typedef struct fs_wcc {
	int pre_valid;
	uint64_t pre_size;
	fs_time pre_mtime, pre_ctime;
	int post_valid;
	fs_attr post;
} fs_wcc;

#define FS_NGROUPS 16
typedef struct fs_cred {
	uint32_t uid, gid;
	uint32_t ngids;
	uint32_t gids[FS_NGROUPS];
} fs_cred;

/* ACCESS bits: NFSv3 ACCESS3_* values. */
#define FS_ACCESS_READ 0x01
#define FS_ACCESS_LOOKUP 0x02
#define FS_ACCESS_MODIFY 0x04
#define FS_ACCESS_EXTEND 0x08
#define FS_ACCESS_DELETE 0x10
#define FS_ACCESS_EXECUTE 0x20

enum fs_stable { FS_UNSTABLE = 0, FS_DATA_SYNC = 1, FS_FILE_SYNC = 2 };
enum fs_createhow {
	FS_CREATE_UNCHECKED = 0,
	FS_CREATE_GUARDED = 1,
	FS_CREATE_EXCLUSIVE = 2
};

typedef struct fs_stat {
	uint64_t tbytes, fbytes, abytes;
	uint64_t tfiles, ffiles, afiles;
} fs_stat;

/* Open the namespace over kv with keys (both must outlive fs).  Creates
 * the root directory (mode 0755, owner 0:0) when it does not exist.
 * *out is released with fs_close(). */
int fs_open(fs **out, kv *store, const magma_keys *keys);

/* The same, making the root only when make_root is non-zero.  A node of
 * a network that already exists must not make one: before it routes by
 * the table its kv sees only its own store, where the root may well be
 * absent, and a second root would conflict with the network's. */
int fs_open_root(fs **out, kv *store, const magma_keys *keys, int make_root);
void fs_close(fs *f);

/* The root directory's reference. */
void fs_root(fs *f, fs_ref *out);

/* The write verifier of this instance (changes on every start). */
void fs_write_verifier(fs *f, uint8_t out[8]);

/* Every call below returns 0 or a negative MAGMA_E* code.  A ref that
 * names no existing flare gives MAGMA_ESTALE.  Names are NUL-free byte
 * strings of namelen bytes (not NUL-terminated necessarily): names
 * containing '/' or NUL, or empty, are MAGMA_EINVAL (".", ".." are
 * MAGMA_EINVAL where they cannot be created, MAGMA_EEXIST/ENOTEMPTY as
 * NFS requires, found by LOOKUP); over FS_NAME_MAX, MAGMA_ENAMETOOLONG.
 * wcc/attr out-parameters may be NULL; they are filled as far as known
 * even on failure (post_valid/pre_valid say which). */

int fs_getattr(fs *f, const fs_ref *ref, fs_attr *attr);
/* guard: NULL, or the ctime the object must have (else MAGMA_ENOTSYNC). */
int fs_setattr(fs *f, const fs_cred *c, const fs_ref *ref, const fs_sattr *sa,
               const fs_time *guard, fs_wcc *wcc);
/* LOOKUP, including "." and ".." (".." of the root is the root). */
int fs_lookup(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
              size_t namelen, fs_ref *out, fs_attr *attr, fs_attr *dir_attr,
              int *dir_attr_valid);
int fs_access(fs *f, const fs_cred *c, const fs_ref *ref, uint32_t want,
              uint32_t *granted, fs_attr *attr);
/* *target is malloc'd (NUL-terminated); caller frees. */
int fs_readlink(fs *f, const fs_cred *c, const fs_ref *ref, char **target,
                size_t *len, fs_attr *attr);
/* Read up to count bytes at off into buf (count bytes long); holes read
 * as zeros. */
int fs_read(fs *f, const fs_cred *c, const fs_ref *ref, uint64_t off,
            uint32_t count, void *buf, uint32_t *got, int *eof, fs_attr *attr);
/* The bytes of a READ, as fs_read_data leaves them: seg[0..nseg) in
 * order, *got bytes in all, valid until fs_rdata_free.  They are read in
 * place from this node's store when its copy is the one to read (the
 * file's primary, or a backup whose copy is current): nothing copied,
 * and the store keeps those pages (view) until then, so free it as
 * soon as the bytes are sent.  Otherwise they are in buf (malloc'd). */
#define FS_RSEG_MAX 40
typedef struct fs_seg {
	const void *p;
	uint32_t len;
} fs_seg;
typedef struct fs_rdata {
	fs_seg seg[FS_RSEG_MAX];
	size_t nseg;
	void *buf;
	struct store_view *view;
	int *views; /* the count of views held that this one is in */
} fs_rdata;
/* READs holding store views at once, at most: each holds one of the
 * store's read transactions until its reply is sent (or fails after
 * RPC_SEND_MS), so clients that do not read their replies cannot take
 * the ones that peers, repair and other reads need.  Past it, READs
 * copy. */
#define FS_VIEWS_MAX 128 /* STORE_MAXREADERS / 4 */
/* fs_read, the bytes left in *d (zeroed first; fs_rdata_free it
 * whatever is returned). */
int fs_read_data(fs *f, const fs_cred *c, const fs_ref *ref, uint64_t off,
                 uint32_t count, fs_rdata *d, uint32_t *got, int *eof,
                 fs_attr *attr);
void fs_rdata_free(fs_rdata *d);
/* *committed: the stability actually reached (enum fs_stable). */
int fs_write(fs *f, const fs_cred *c, const fs_ref *ref, uint64_t off,
             const void *data, uint32_t len, int stable, int *committed,
             fs_wcc *wcc);
/* COMMIT: make the file's data durable. */
int fs_commit(fs *f, const fs_ref *ref, fs_wcc *wcc);
int fs_create(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
              size_t namelen, int how, const fs_sattr *sa,
              const uint8_t verf[8], fs_ref *out, fs_attr *attr,
              fs_wcc *dir_wcc);
int fs_mkdir(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
             size_t namelen, const fs_sattr *sa, fs_ref *out, fs_attr *attr,
             fs_wcc *dir_wcc);
int fs_symlink(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
               size_t namelen, const char *target, size_t targetlen,
               const fs_sattr *sa, fs_ref *out, fs_attr *attr, fs_wcc *dir_wcc);
/* type: FS_BLK, FS_CHR, FS_SOCK or FS_FIFO (else MAGMA_EBADTYPE). */
int fs_mknod(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
             size_t namelen, uint32_t type, uint32_t major, uint32_t minor,
             const fs_sattr *sa, fs_ref *out, fs_attr *attr, fs_wcc *dir_wcc);
int fs_remove(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
              size_t namelen, fs_wcc *dir_wcc);
int fs_rmdir(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
             size_t namelen, fs_wcc *dir_wcc);
int fs_rename(fs *f, const fs_cred *c, const fs_ref *fromdir,
              const char *fromname, size_t fromlen, const fs_ref *todir,
              const char *toname, size_t tolen, fs_wcc *from_wcc,
              fs_wcc *to_wcc);
int fs_link(fs *f, const fs_cred *c, const fs_ref *file, const fs_ref *dir,
            const char *name, size_t namelen, fs_attr *file_attr,
            int *file_attr_valid, fs_wcc *dir_wcc);

/* READDIR/READDIRPLUS.  Entries are visited in cookie order starting
 * after cookie (0 = from the start; "." is cookie 1, ".." cookie 2, other
 * cookies derive from the entry's name key and stay valid while the entry
 * exists).  verf is the cookie verifier the client sent (0 with cookie
 * 0); a wrong one is MAGMA_EBADCOOKIE.  fn returns 0 to go on, 1 when the
 * reply is full (that entry is not consumed), or a negative error.  attr
 * and ref are given when plus is set (else NULL).  *eof is set when every
 * entry was visited. */
typedef int (*fs_readdir_fn)(void *arg, const char *name, size_t namelen,
                             uint64_t fileid, uint64_t cookie,
                             const fs_ref *ref, const fs_attr *attr);
int fs_readdir(fs *f, const fs_cred *c, const fs_ref *dir, uint64_t cookie,
               uint64_t verf, int plus, fs_readdir_fn fn, void *arg,
               uint64_t *verf_out, int *eof, fs_attr *dir_attr);

int fs_statfs(fs *f, fs_stat *st);

/* Walk an absolute path from the root (for magmactl locate): calls fn
 * for each component ("/" first) with its name key and home key. */
typedef int (*fs_walk_fn)(void *arg, const char *component,
                          const uint8_t name_key[KEYS_RING_LEN],
                          const fs_ref *ref, const fs_attr *attr);
int fs_walk(fs *f, const char *path, fs_walk_fn fn, void *arg);

#endif
