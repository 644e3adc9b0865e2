/* fs.c - the namespace layer's object, its shared helpers (flare reads,
 * attributes) and the attribute operations: GETATTR, SETATTR, ACCESS,
 * READLINK, FSSTAT.  Directory operations are in fs_dir.c and
 * fs_lookup.c, data operations in fs_file.c, the batch builder in
 * fs_tx.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_internal.h"
#include "merr.h"
#include "mlog.h"

/* ---- helpers ---- */

void fs_now(fs_time *t)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	t->sec = ts.tv_sec;
	t->nsec = (uint32_t)ts.tv_nsec;
}

int fs_node_get(fs *f, const fs_ref *refp, fs_node *n)
{
	fs_ref ref_copy = *refp; /* refp may point into *n */
	const fs_ref *ref = &ref_copy;
	uint8_t sub[FS_SUB_FLARE_LEN];
	void *val = NULL;
	size_t len = 0;
	int rc;

	fs_sub_flare(ref->id, sub);
	rc = kv_get(f->kv, ref->home, sub, sizeof(sub), &val, &len, &n->ver);
	if (rc == MAGMA_ENOENT)
		return MAGMA_ESTALE;
	if (rc)
		return rc;
	rc = fs_rec_decode(val, len, &n->rec);
	free(val);
	if (rc == 0)
		n->ref = *ref;
	return rc;
}

int fs_nodes_get(fs *f, const fs_ref *refs, size_t n, fs_node *out, int *rcs)
{
	uint8_t(*subs)[FS_SUB_FLARE_LEN] = calloc(n ? n : 1, sizeof(*subs));
	kv_get_req *q = calloc(n ? n : 1, sizeof(*q));
	int rc = 0;

	if (!subs || !q) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		fs_sub_flare(refs[i].id, subs[i]);
		memcpy(q[i].key, refs[i].home, KV_KEY_LEN);
		q[i].sub = subs[i];
		q[i].sublen = FS_SUB_FLARE_LEN;
	}
	rc = kv_get_many(f->kv, q, n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rcs[i] = q[i].rc == MAGMA_ENOENT ? MAGMA_ESTALE : q[i].rc;
		if (rcs[i] == 0)
			rcs[i] = fs_rec_decode(q[i].val, q[i].vallen,
			                       &out[i].rec);
		if (rcs[i] == 0) {
			out[i].ref = refs[i];
			out[i].ver = q[i].ver;
		}
		free(q[i].val);
	}
out:
	free(subs);
	free(q);
	return rc;
}

int fs_dir_get(fs *f, const fs_ref *ref, fs_node *n)
{
	int rc = fs_node_get(f, ref, n);
	if (rc == 0 && n->rec.type != FS_DIR)
		rc = MAGMA_ENOTDIR;
	return rc;
}

int fs_is_root(const fs *f, const uint8_t id[KEYS_ID_LEN])
{
	return memcmp(id, f->root.id, KEYS_ID_LEN) == 0;
}

uint64_t fs_fileid(const uint8_t id[KEYS_ID_LEN])
{
	uint64_t v = fs_be64_get(id);
	return v ? v : 1; /* the root's id is all zeros */
}

void fs_attr_of(const fs_node *n, fs_attr *a)
{
	const fs_rec *r = &n->rec;
	if (!a)
		return;
	memset(a, 0, sizeof(*a));
	a->type = r->type;
	a->mode = r->mode & 07777;
	a->nlink = r->nlink;
	a->uid = r->uid;
	a->gid = r->gid;
	a->size = r->type == FS_LNK ? r->target_len : r->size;
	a->used = r->used;
	a->rdev_major = r->rdev_major;
	a->rdev_minor = r->rdev_minor;
	a->fileid = fs_fileid(n->ref.id);
	a->atime = r->atime;
	a->mtime = r->mtime;
	a->ctime = r->ctime;
}

void fs_wcc_pre(fs_wcc *w, const fs_node *n)
{
	if (!w)
		return;
	w->pre_valid = 1;
	w->pre_size = n->rec.size;
	w->pre_mtime = n->rec.mtime;
	w->pre_ctime = n->rec.ctime;
}

void fs_wcc_post(fs_wcc *w, const fs_node *n)
{
	if (!w)
		return;
	w->post_valid = 1;
	fs_attr_of(n, &w->post);
}

int fs_name_check(const char *name, size_t len)
{
	if (len == 0 || !name || memchr(name, '/', len) || memchr(name, 0, len))
		return MAGMA_EINVAL;
	if (len > FS_NAME_MAX)
		return MAGMA_ENAMETOOLONG;
	if (len == 1 && name[0] == '.')
		return 1;
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return 2;
	return 0;
}

void fs_ents_key(fs *f, const uint8_t dir_id[KEYS_ID_LEN],
                 uint8_t out[KEYS_RING_LEN])
{
	keys_ring_derived(f->keys, "dirents", dir_id, out);
}

int fs_bind_get(fs *f, const fs_ref *dir, const char *name, size_t len,
                uint8_t nkey[KEYS_RING_LEN], fs_bind *b, uint64_t *ver)
{
	void *val = NULL;
	size_t vlen = 0;
	int rc;

	keys_ring_child(f->keys, dir->id, name, len, nkey);
	rc = kv_get(f->kv, nkey, "N", 1, &val, &vlen, ver);
	if (rc)
		return rc;
	rc = fs_bind_decode(val, vlen, b);
	free(val);
	return rc;
}

int fs_lookup_node(fs *f, const fs_node *dir, const char *name, size_t len,
                   fs_node *n)
{
	uint8_t nkey[KEYS_RING_LEN];
	fs_bind b;
	uint64_t ver;
	int rc = fs_bind_get(f, &dir->ref, name, len, nkey, &b, &ver);
	if (rc)
		return rc;
	rc = fs_node_get(f, &b.ref, n);
	/* A binding whose flare is gone is being removed: not visible. */
	return rc == MAGMA_ESTALE ? MAGMA_ENOENT : rc;
}

/* ---- open / close ---- */

static int fs_root_make(fs *f)
{
	fs_node n;
	fs_tx t;
	int rc = fs_node_get(f, &f->root, &n);
	if (rc != MAGMA_ESTALE)
		return rc;

	memset(&n, 0, sizeof(n));
	n.ref = f->root;
	n.rec.type = FS_DIR;
	n.rec.mode = 0755;
	n.rec.nlink = 2;
	n.rec.parent = f->root;
	fs_now(&n.rec.ctime);
	n.rec.atime = n.rec.mtime = n.rec.ctime;
	fs_tx_init(&t);
	fs_tx_put_node(&t, &n, 1);
	rc = fs_tx_apply(f, &t, KV_DURABLE);
	fs_tx_free(&t);
	if (rc == MAGMA_EEXIST) /* made by someone else meanwhile */
		rc = 0;
	if (rc == 0)
		LOG_I("created the root directory");
	return rc;
}

int fs_open(fs **out, kv *store, const magma_keys *keys)
{
	return fs_open_root(out, store, keys, 1);
}

int fs_open_root(fs **out, kv *store, const magma_keys *keys, int make_root)
{
	fs *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return MAGMA_ENOMEM;
	f->kv = store;
	f->keys = keys;
	keys_ring_root(keys, f->root.home);
	memset(f->root.id, 0, KEYS_ID_LEN);
	rc = keys_random(&f->wverf, sizeof(f->wverf));
	if (rc)
		goto out;
	if ((rc = fs_ra_new(&f->ra)))
		goto out;
	if (pthread_mutex_init(&f->ns_lock, NULL)) {
		fs_ra_free(f->ra);
		rc = MAGMA_ESYS;
		goto out;
	}
	if (pthread_mutex_init(&f->commit_lock, NULL)) {
		pthread_mutex_destroy(&f->ns_lock);
		fs_ra_free(f->ra);
		rc = MAGMA_ESYS;
		goto out;
	}
	rc = make_root ? fs_root_make(f) : 0;
	if (rc) {
		pthread_mutex_destroy(&f->commit_lock);
		pthread_mutex_destroy(&f->ns_lock);
		fs_ra_free(f->ra);
		goto out;
	}
	*out = f;
	f = NULL;
out:
	free(f);
	return rc;
}

void fs_close(fs *f)
{
	if (!f)
		return;
	fs_ra_free(f->ra);
	pthread_mutex_destroy(&f->commit_lock);
	pthread_mutex_destroy(&f->ns_lock);
	free(f);
}

void fs_root(fs *f, fs_ref *out)
{
	*out = f->root;
}

void fs_write_verifier(fs *f, uint8_t out[8])
{
	uint64_t v = __atomic_load_n(&f->wverf, __ATOMIC_ACQUIRE);

	memcpy(out, &v, 8);
}

/* ---- attribute operations ---- */

int fs_getattr(fs *f, const fs_ref *ref, fs_attr *attr)
{
	fs_node n;
	int rc = fs_node_get(f, ref, &n);
	if (rc == 0)
		fs_attr_of(&n, attr);
	return rc;
}

static int fs_time_eq(const fs_time *a, const fs_time *b)
{
	return a->sec == b->sec && a->nsec == b->nsec;
}

/* One attempt of SETATTR: read, check, change, put conditionally. */
static int fs_setattr_once(fs *f, const fs_cred *c, const fs_ref *ref,
                           const fs_sattr *sa, const fs_time *guard,
                           fs_wcc *wcc)
{
	fs_node n;
	fs_time now;
	fs_tx t;
	int rc = fs_node_get(f, ref, &n);

	if (rc)
		return rc;
	fs_wcc_pre(wcc, &n);
	fs_wcc_post(wcc, &n);
	if (guard && !fs_time_eq(guard, &n.rec.ctime))
		return MAGMA_ENOTSYNC;
	fs_now(&now);
	if (sa->set_size) {
		if (n.rec.type == FS_DIR)
			return MAGMA_EISDIR;
		if (n.rec.type != FS_REG)
			return MAGMA_EINVAL;
		if (sa->size > FS_MAX_FILE_SIZE)
			return MAGMA_EFBIG;
		rc = fs_perm_data(c, &n.rec, FS_MAY_WRITE);
		if (rc)
			return rc;
	}
	rc = fs_perm_setattr(c, &n.rec, sa, &now);
	if (rc)
		return rc;

	fs_tx_init(&t);
	fs_tx_key(&t, n.ref.home);
	if (sa->set_size) {
		rc = fs_file_resize(f, &t, &n, sa->size);
		if (rc)
			goto out;
		fs_perm_kill_suid(c, &n.rec);
		if (!sa->set_mtime)
			n.rec.mtime = now;
	}
	n.rec.ctime = now;
	{
		uint8_t sub[FS_SUB_FLARE_LEN];
		uint8_t *val = NULL;
		size_t len = 0;
		fs_sub_flare(n.ref.id, sub);
		rc = fs_rec_encode(&n.rec, &val, &len);
		if (rc)
			goto out;
		fs_tx_put(&t, sub, sizeof(sub), val, len, n.ver);
	}
	rc = fs_tx_apply(f, &t, KV_DURABLE);
	if (rc == 0)
		fs_wcc_post(wcc, &n);
out:
	fs_tx_free(&t);
	return rc;
}

int fs_setattr(fs *f, const fs_cred *c, const fs_ref *ref, const fs_sattr *sa,
               const fs_time *guard, fs_wcc *wcc)
{
	int rc = MAGMA_ECONFLICT;
	if (wcc)
		memset(wcc, 0, sizeof(*wcc));
	for (int i = 0; i < FS_RETRIES && rc == MAGMA_ECONFLICT; i++)
		rc = fs_setattr_once(f, c, ref, sa, guard, wcc);
	/* An exact version that vanished: the flare was removed. */
	return rc == MAGMA_ENOENT ? MAGMA_ESTALE : rc;
}

int fs_access(fs *f, const fs_cred *c, const fs_ref *ref, uint32_t want,
              uint32_t *granted, fs_attr *attr)
{
	fs_node n;
	int rc = fs_node_get(f, ref, &n);
	if (rc)
		return rc;
	fs_attr_of(&n, attr);
	*granted = fs_perm_access(c, &n.rec, want);
	return 0;
}

int fs_readlink(fs *f, const fs_cred *c, const fs_ref *ref, char **target,
                size_t *len, fs_attr *attr)
{
	fs_node n;
	char *s;
	int rc = fs_node_get(f, ref, &n);

	(void)c; /* symlinks are 0777: anyone may read them */
	if (rc)
		return rc;
	fs_attr_of(&n, attr);
	if (n.rec.type != FS_LNK)
		return MAGMA_EINVAL;
	s = malloc(n.rec.target_len + 1);
	if (!s)
		return MAGMA_ENOMEM;
	memcpy(s, n.rec.target, n.rec.target_len + 1);
	*target = s;
	*len = n.rec.target_len;
	return 0;
}

int fs_statfs(fs *f, fs_stat *st)
{
	kv_stat ks;
	int rc = kv_stat_get(f->kv, &ks);
	if (rc)
		return rc;
	/* No inode table: a file costs at least a record of ~512 bytes. */
	st->tbytes = ks.bytes_total;
	st->fbytes = ks.bytes_free;
	st->abytes = ks.bytes_avail;
	st->tfiles = ks.bytes_total / 512;
	st->ffiles = ks.bytes_free / 512;
	st->afiles = ks.bytes_avail / 512;
	return 0;
}
