/* fs_dir.c - namespace mutations: CREATE, MKDIR, SYMLINK, MKNOD, REMOVE,
 * RMDIR, RENAME, LINK.
 *
 * Each operation reads what it needs, checks, then writes one batch in a
 * safe order (new flare, then binding and entry, then the directory; on
 * removal the entry and binding before the flare), with every flare
 * record put conditional on the version read.  The changes of the flares
 * around the child (the directories' times and link counts, a victim's
 * or a linked file's link count) are deltas (fs_tx_delta): when the kv
 * applies a batch atomically, one transaction and a lost compare-and-swap
 * anywhere (a concurrent WRITE, SETATTR or another front end's mutation)
 * redoes the operation from the start; otherwise the child part decides
 * and each delta is applied by its own compare-and-swap loop, so two
 * front ends changing one directory do not undo each other (fs_tx.c).
 * The ns_lock serialises mutations of this front end only.
 *
 * Crash safety with a non-atomic kv (DESIGN.md 4): CREATE makes the flare
 * before its binding and entry; REMOVE drops the entry and binding before
 * the flare (an orphan flare is garbage, never a visible entry without
 * one); LINK counts the new name before writing it (a crash leaves a
 * count too high: a leak, never a name whose flare a later REMOVE
 * dropped); RENAME writes the new name before dropping the old one.  A
 * crash between the child part and a directory delta leaves only the
 * directory's times or link count behind. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fs_internal.h"
#include "merr.h"
#include "mlog.h"

#define M_ISGID 02000
#define FS_LINK_MAX 65000u
#define FS_DEPTH_MAX 4096

typedef int (*ns_fn)(fs *f, void *args);

/* Run one mutation under the namespace lock, redone on lost CAS. */
static int ns_run(fs *f, ns_fn fn, void *args)
{
	int rc = MAGMA_ECONFLICT;
	pthread_mutex_lock(&f->ns_lock);
	for (int i = 0; i < FS_RETRIES && rc == MAGMA_ECONFLICT; i++)
		rc = fn(f, args);
	pthread_mutex_unlock(&f->ns_lock);
	if (rc == MAGMA_ECONFLICT)
		LOG_W("gave up after %d conflicts", FS_RETRIES);
	return rc;
}

/* A directory about to change: it exists, is a directory and c may
 * write and search it. */
static int dir_for_change(fs *f, const fs_cred *c, const fs_ref *ref,
                          fs_node *d, fs_wcc *wcc)
{
	int rc = fs_node_get(f, ref, d);
	if (rc)
		return rc;
	fs_wcc_pre(wcc, d);
	fs_wcc_post(wcc, d);
	if (d->rec.type != FS_DIR)
		return MAGMA_ENOTDIR;
	return fs_perm(c, &d->rec, FS_MAY_WRITE | FS_MAY_EXEC);
}

static int same_id(const fs_ref *a, const fs_ref *b)
{
	return memcmp(a->id, b->id, KEYS_ID_LEN) == 0;
}

/* Is directory d empty? */
static int scan_any(void *arg, const void *sub, size_t sublen, const void *val,
                    size_t vallen, uint64_t ver)
{
	(void)sub;
	(void)sublen;
	(void)val;
	(void)vallen;
	(void)ver;
	*(int *)arg = 1;
	return 1;
}

static int dir_empty(fs *f, const fs_node *d)
{
	uint8_t ekey[KEYS_RING_LEN];
	int any = 0;
	int rc;
	fs_ents_key(f, d->ref.id, ekey);
	rc = kv_scan(f->kv, ekey, "D", 1, NULL, 0, 1, scan_any, &any);
	if (rc)
		return rc;
	return any ? MAGMA_ENOTEMPTY : 0;
}

/* A name's binding and flare.  *found: 0 none, 1 binding and flare,
 * 2 a binding without flare (a half-removed name: may be overwritten). */
typedef struct name_at {
	uint8_t nkey[KEYS_RING_LEN];
	fs_bind bind;
	uint64_t bver;
	int found;
	fs_node node;
} name_at;

static int name_find(fs *f, const fs_node *d, const char *name, size_t len,
                     name_at *na)
{
	int rc = fs_bind_get(f, &d->ref, name, len, na->nkey, &na->bind,
	                     &na->bver);
	na->found = 0;
	if (rc == MAGMA_ENOENT)
		return 0;
	if (rc)
		return rc;
	rc = fs_node_get(f, &na->bind.ref, &na->node);
	na->found = rc == MAGMA_ESTALE ? 2 : 1;
	return rc == MAGMA_ESTALE ? 0 : rc;
}

/* Binding expectation for writing a name over what name_find saw. */
static uint64_t name_expect(const name_at *na)
{
	return na->found ? na->bver : KV_VER_ABSENT;
}

/* ---- CREATE, MKDIR, SYMLINK, MKNOD ---- */

typedef struct mk_args {
	const fs_cred *c;
	const fs_ref *dir;
	const char *name;
	size_t len;
	fs_rec proto; /* type, default mode, rdev, target */
	const fs_sattr *sa;
	int how; /* CREATE only */
	const uint8_t *verf;
	fs_ref *out;
	fs_attr *attr;
	fs_wcc *wcc;
} mk_args;

static int new_id(uint8_t id[KEYS_ID_LEN])
{
	int rc;
	do { /* fileids 0 and 1 are the root's */
		rc = keys_random(id, KEYS_ID_LEN);
	} while (rc == 0 && fs_be64_get(id) <= 1);
	return rc;
}

/* Fill the new flare n: owner, group, mode, times, sattr. */
static int mk_fill(const mk_args *a, const fs_node *d, fs_node *n,
                   const fs_time *now)
{
	fs_sattr sa = { 0 };
	uint32_t mode;
	int rc;

	n->rec = a->proto;
	n->rec.nlink = a->proto.type == FS_DIR ? 2 : 1;
	n->rec.uid = a->c->uid;
	n->rec.gid = (d->rec.mode & M_ISGID) ? d->rec.gid : a->c->gid;
	n->rec.atime = n->rec.mtime = n->rec.ctime = *now;
	if (a->proto.type == FS_DIR)
		n->rec.parent = d->ref;
	if (a->sa) { /* owner/group/times by the SETATTR rules */
		sa = *a->sa;
		sa.set_mode = sa.set_size = 0;
		if ((rc = fs_perm_setattr(a->c, &n->rec, &sa, now)))
			return rc;
	}
	mode = (a->sa && a->sa->set_mode ? a->sa->mode : a->proto.mode) & 07777;
	if (a->proto.type == FS_DIR && (d->rec.mode & M_ISGID))
		mode |= M_ISGID;
	else if ((mode & M_ISGID) && a->c->uid != 0 &&
	         !fs_in_group(a->c, n->rec.gid))
		mode &= ~(uint32_t)M_ISGID;
	n->rec.mode = mode;
	if (a->sa && a->sa->set_size && a->proto.type == FS_REG) {
		if (a->sa->size > FS_MAX_FILE_SIZE)
			return MAGMA_EFBIG;
		n->rec.size = a->sa->size;
	}
	if (a->how == FS_CREATE_EXCLUSIVE && a->verf) {
		n->rec.has_verf = 1;
		memcpy(n->rec.verf, a->verf, 8);
	}
	return 0;
}

/* CREATE over an existing name (UNCHECKED / EXCLUSIVE retry). */
static int mk_existing(fs *f, const mk_args *a, const name_at *na)
{
	const fs_rec *r = &na->node.rec;
	fs_node n;
	int rc;

	if (a->proto.type != FS_REG || a->how == FS_CREATE_GUARDED ||
	    r->type != FS_REG)
		return MAGMA_EEXIST;
	if (a->how == FS_CREATE_EXCLUSIVE &&
	    (!a->verf || !r->has_verf || memcmp(r->verf, a->verf, 8)))
		return MAGMA_EEXIST;
	if (a->how == FS_CREATE_UNCHECKED && a->sa && a->sa->set_size) {
		fs_sattr s = { .set_size = 1, .size = a->sa->size };
		if ((rc = fs_setattr(f, a->c, &na->node.ref, &s, NULL, NULL)))
			return rc;
	}
	if ((rc = fs_node_get(f, &na->node.ref, &n)))
		return rc;
	*a->out = n.ref;
	fs_attr_of(&n, a->attr);
	return 0;
}

static int mk_once(fs *f, void *arg)
{
	mk_args *a = arg;
	fs_node d, n;
	name_at na;
	fs_time now;
	fs_tx t;
	int rc, kind;

	if ((rc = dir_for_change(f, a->c, a->dir, &d, a->wcc)))
		return rc;
	kind = fs_name_check(a->name, a->len);
	if (kind)
		return kind < 0 ? kind : MAGMA_EEXIST;
	if ((rc = name_find(f, &d, a->name, a->len, &na)))
		return rc;
	if (na.found == 1)
		return mk_existing(f, a, &na);

	memset(&n, 0, sizeof(n));
	memcpy(n.ref.home, na.nkey, KEYS_RING_LEN);
	fs_now(&now);
	if ((rc = new_id(n.ref.id)) || (rc = mk_fill(a, &d, &n, &now)))
		return rc;

	fs_tx_init(&t);
	fs_tx_put_node(&t, &n, 1);
	fs_tx_put_name(f, &t, &d.ref, na.nkey, a->name, a->len, &n,
	               name_expect(&na), na.found ? KV_VER_ANY : KV_VER_ABSENT);
	fs_tx_delta(&t, &d, FS_DELTA_TOUCH, a->proto.type == FS_DIR, NULL, &now,
	            a->wcc);
	rc = fs_tx_apply(f, &t, KV_DURABLE);
	fs_tx_free(&t);
	if (rc)
		return rc;
	fs_wcc_post(a->wcc, &d);
	*a->out = n.ref;
	fs_attr_of(&n, a->attr);
	return 0;
}

static int mk_run(fs *f, mk_args *a)
{
	fs_ref dummy;
	if (!a->out)
		a->out = &dummy;
	if (a->wcc)
		memset(a->wcc, 0, sizeof(*a->wcc));
	return ns_run(f, mk_once, a);
}

int fs_create(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
              size_t namelen, int how, const fs_sattr *sa,
              const uint8_t verf[8], fs_ref *out, fs_attr *attr,
              fs_wcc *dir_wcc)
{
	mk_args a = { .c = c,
		      .dir = dir,
		      .name = name,
		      .len = namelen,
		      .sa = how == FS_CREATE_EXCLUSIVE ? NULL : sa,
		      .how = how,
		      .verf = verf,
		      .out = out,
		      .attr = attr,
		      .wcc = dir_wcc };
	if (how < FS_CREATE_UNCHECKED || how > FS_CREATE_EXCLUSIVE)
		return MAGMA_EINVAL;
	a.proto.type = FS_REG;
	a.proto.mode = 0666;
	return mk_run(f, &a);
}

int fs_mkdir(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
             size_t namelen, const fs_sattr *sa, fs_ref *out, fs_attr *attr,
             fs_wcc *dir_wcc)
{
	mk_args a = { .c = c,
		      .dir = dir,
		      .name = name,
		      .len = namelen,
		      .sa = sa,
		      .how = FS_CREATE_GUARDED,
		      .out = out,
		      .attr = attr,
		      .wcc = dir_wcc };
	a.proto.type = FS_DIR;
	a.proto.mode = 0777;
	return mk_run(f, &a);
}

int fs_symlink(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
               size_t namelen, const char *target, size_t targetlen,
               const fs_sattr *sa, fs_ref *out, fs_attr *attr, fs_wcc *dir_wcc)
{
	mk_args a = { .c = c,
		      .dir = dir,
		      .name = name,
		      .len = namelen,
		      .sa = sa,
		      .how = FS_CREATE_GUARDED,
		      .out = out,
		      .attr = attr,
		      .wcc = dir_wcc };
	if (targetlen > FS_PATH_MAX)
		return MAGMA_ENAMETOOLONG;
	if (targetlen == 0 || !target || memchr(target, 0, targetlen))
		return MAGMA_EINVAL;
	a.proto.type = FS_LNK;
	a.proto.mode = 0777;
	memcpy(a.proto.target, target, targetlen);
	a.proto.target[targetlen] = 0;
	a.proto.target_len = (uint32_t)targetlen;
	a.proto.size = targetlen;
	return mk_run(f, &a);
}

int fs_mknod(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
             size_t namelen, uint32_t type, uint32_t major, uint32_t minor,
             const fs_sattr *sa, fs_ref *out, fs_attr *attr, fs_wcc *dir_wcc)
{
	mk_args a = { .c = c,
		      .dir = dir,
		      .name = name,
		      .len = namelen,
		      .sa = sa,
		      .how = FS_CREATE_GUARDED,
		      .out = out,
		      .attr = attr,
		      .wcc = dir_wcc };
	if (type != FS_BLK && type != FS_CHR && type != FS_SOCK &&
	    type != FS_FIFO)
		return MAGMA_EBADTYPE;
	a.proto.type = type;
	a.proto.mode = 0666;
	if (type == FS_BLK || type == FS_CHR) {
		a.proto.rdev_major = major;
		a.proto.rdev_minor = minor;
	}
	return mk_run(f, &a);
}

/* ---- REMOVE, RMDIR ---- */

typedef struct rm_args {
	const fs_cred *c;
	const fs_ref *dir;
	const char *name;
	size_t len;
	int rmdir;
	fs_wcc *wcc;
} rm_args;

static int rm_check(fs *f, const rm_args *a, const fs_node *d, const fs_node *v)
{
	int rc;
	if (!a->rmdir && v->rec.type == FS_DIR)
		return MAGMA_EISDIR;
	if (a->rmdir && v->rec.type != FS_DIR)
		return MAGMA_ENOTDIR;
	if ((rc = fs_perm_sticky(a->c, &d->rec, &v->rec)))
		return rc;
	if (a->rmdir && fs_is_root(f, v->ref.id))
		return MAGMA_EINVAL;
	return a->rmdir ? dir_empty(f, v) : 0;
}

static int rm_once(fs *f, void *arg)
{
	rm_args *a = arg;
	fs_node d;
	name_at na;
	fs_time now;
	fs_tx t;
	int rc, kind;

	if ((rc = dir_for_change(f, a->c, a->dir, &d, a->wcc)))
		return rc;
	kind = fs_name_check(a->name, a->len);
	if (kind < 0)
		return kind;
	if (kind) /* rmdir ".." is ENOTEMPTY, everything else EINVAL */
		return a->rmdir && kind == 2 ? MAGMA_ENOTEMPTY : MAGMA_EINVAL;
	if ((rc = name_find(f, &d, a->name, a->len, &na)))
		return rc;
	if (na.found != 1)
		return MAGMA_ENOENT;
	if ((rc = rm_check(f, a, &d, &na.node)))
		return rc;

	fs_now(&now);
	fs_tx_init(&t);
	fs_tx_del_name(f, &t, &d.ref, na.nkey, na.bver, KV_VER_ANY);
	/* one name less: nlink - 1, or the flare when it was the last name
	 * (always for a directory) */
	fs_tx_delta(&t, &na.node, FS_DELTA_UNLINK, 0, NULL, &now, NULL);
	fs_tx_delta(&t, &d, FS_DELTA_TOUCH, a->rmdir ? -1 : 0, NULL, &now,
	            a->wcc);
	rc = fs_tx_apply(f, &t, KV_DURABLE);
	fs_tx_free(&t);
	if (rc == 0)
		fs_wcc_post(a->wcc, &d);
	return rc;
}

int fs_remove(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
              size_t namelen, fs_wcc *dir_wcc)
{
	rm_args a = { c, dir, name, namelen, 0, dir_wcc };
	if (dir_wcc)
		memset(dir_wcc, 0, sizeof(*dir_wcc));
	return ns_run(f, rm_once, &a);
}

int fs_rmdir(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
             size_t namelen, fs_wcc *dir_wcc)
{
	rm_args a = { c, dir, name, namelen, 1, dir_wcc };
	if (dir_wcc)
		memset(dir_wcc, 0, sizeof(*dir_wcc));
	return ns_run(f, rm_once, &a);
}

/* ---- RENAME ---- */

typedef struct rn_args {
	const fs_cred *c;
	const fs_ref *fdir, *tdir;
	const char *fname, *tname;
	size_t flen, tlen;
	fs_wcc *fwcc, *twcc;
} rn_args;

/* Is dir (or one of its ancestors) the directory anc? */
static int in_subtree(fs *f, const fs_node *dir, const fs_ref *anc)
{
	fs_node cur = *dir;
	for (int i = 0; i < FS_DEPTH_MAX; i++) {
		if (same_id(&cur.ref, anc))
			return 1;
		if (fs_is_root(f, cur.ref.id))
			return 0;
		fs_ref up = cur.rec.parent; /* fs_node_get overwrites cur */
		int rc = fs_node_get(f, &up, &cur);
		if (rc)
			return rc;
	}
	LOG_E("directory parent chain over %d levels", FS_DEPTH_MAX);
	return MAGMA_EIO;
}

/* Checks on the moved flare s and the replaced target (na). */
static int rn_check(fs *f, const rn_args *a, const fs_node *fd,
                    const fs_node *td, const fs_node *s, const name_at *na)
{
	int sdir = s->rec.type == FS_DIR;
	int rc;

	if ((rc = fs_perm_sticky(a->c, &fd->rec, &s->rec)))
		return rc;
	if (na->found == 1) {
		const fs_node *v = &na->node;
		if (sdir && v->rec.type != FS_DIR)
			return MAGMA_ENOTDIR;
		if (!sdir && v->rec.type == FS_DIR)
			return MAGMA_EISDIR;
		if ((rc = fs_perm_sticky(a->c, &td->rec, &v->rec)))
			return rc;
		if (sdir && (rc = dir_empty(f, v)))
			return rc;
	}
	if (sdir && !same_id(&fd->ref, &td->ref)) {
		rc = in_subtree(f, td, &s->ref);
		if (rc)
			return rc < 0 ? rc : MAGMA_EINVAL;
		/* its ".." changes: needs write permission on it */
		if ((rc = fs_perm(a->c, &s->rec, FS_MAY_WRITE)))
			return rc;
	}
	return 0;
}

static int rn_write(fs *f, const rn_args *a, fs_node *fd, fs_node *td, int same,
                    name_at *src, name_at *na)
{
	fs_node *s = &src->node;
	int moved = s->rec.type == FS_DIR && !same;
	/* a replaced directory's ".." no longer links the target dir */
	int rdir = na->found == 1 && na->node.rec.type == FS_DIR ? -1 : 0;
	fs_time now;
	fs_tx t;
	int rc;

	fs_now(&now);
	fs_tx_init(&t);
	/* new name first, then drop the old: a crash leaves two names */
	fs_tx_put_name(f, &t, &td->ref, na->nkey, a->tname, a->tlen, s,
	               name_expect(na), na->found ? KV_VER_ANY : KV_VER_ABSENT);
	fs_tx_del_name(f, &t, &fd->ref, src->nkey, src->bver, KV_VER_ANY);
	if (na->found == 1)
		fs_tx_delta(&t, &na->node, FS_DELTA_UNLINK, 0, NULL, &now,
		            NULL);
	fs_tx_delta(&t, s, FS_DELTA_CTIME | (moved ? FS_DELTA_PARENT : 0), 0,
	            &td->ref, &now, NULL);
	if (same) {
		fs_tx_delta(&t, fd, FS_DELTA_TOUCH, rdir, NULL, &now,
		            a->fwcc ? a->fwcc : a->twcc);
	} else {
		fs_tx_delta(&t, fd, FS_DELTA_TOUCH, -moved, NULL, &now,
		            a->fwcc);
		fs_tx_delta(&t, td, FS_DELTA_TOUCH, moved + rdir, NULL, &now,
		            a->twcc);
	}
	rc = fs_tx_apply(f, &t, KV_DURABLE);
	fs_tx_free(&t);
	return rc;
}

static int rn_once(fs *f, void *arg)
{
	rn_args *a = arg;
	fs_node fdn, tdn, *td = &tdn;
	name_at src, na;
	int same, kf, kt, rc;

	if ((rc = dir_for_change(f, a->c, a->fdir, &fdn, a->fwcc)))
		return rc;
	same = same_id(a->fdir, a->tdir);
	if (same) {
		td = &fdn;
		fs_wcc_pre(a->twcc, td);
		fs_wcc_post(a->twcc, td);
	} else if ((rc = dir_for_change(f, a->c, a->tdir, &tdn, a->twcc))) {
		return rc;
	}
	kf = fs_name_check(a->fname, a->flen);
	kt = fs_name_check(a->tname, a->tlen);
	if (kf < 0 || kt < 0)
		return kf < 0 ? kf : kt;
	if (kf || kt)
		return MAGMA_EINVAL;
	if ((rc = name_find(f, &fdn, a->fname, a->flen, &src)))
		return rc;
	if (src.found != 1)
		return MAGMA_ENOENT;
	if ((rc = name_find(f, td, a->tname, a->tlen, &na)))
		return rc;
	if (na.found == 1 && same_id(&na.node.ref, &src.node.ref))
		return fs_perm_sticky(a->c, &fdn.rec, &src.node.rec);
	if ((rc = rn_check(f, a, &fdn, td, &src.node, &na)))
		return rc;
	rc = rn_write(f, a, &fdn, td, same, &src, &na);
	if (rc == 0) {
		fs_wcc_post(a->fwcc, &fdn);
		fs_wcc_post(a->twcc, td);
		if (same && a->fwcc && a->twcc)
			*a->twcc = *a->fwcc;
	}
	return rc;
}

int fs_rename(fs *f, const fs_cred *c, const fs_ref *fromdir,
              const char *fromname, size_t fromlen, const fs_ref *todir,
              const char *toname, size_t tolen, fs_wcc *from_wcc,
              fs_wcc *to_wcc)
{
	rn_args a = { .c = c,
		      .fdir = fromdir,
		      .tdir = todir,
		      .fname = fromname,
		      .tname = toname,
		      .flen = fromlen,
		      .tlen = tolen,
		      .fwcc = from_wcc,
		      .twcc = to_wcc };
	if (from_wcc)
		memset(from_wcc, 0, sizeof(*from_wcc));
	if (to_wcc)
		memset(to_wcc, 0, sizeof(*to_wcc));
	return ns_run(f, rn_once, &a);
}

/* ---- LINK ---- */

typedef struct ln_args {
	const fs_cred *c;
	const fs_ref *file, *dir;
	const char *name;
	size_t len;
	fs_attr *attr;
	int *attr_valid;
	fs_wcc *wcc;
} ln_args;

static int ln_once(fs *f, void *arg)
{
	ln_args *a = arg;
	fs_node n, d;
	name_at na;
	fs_time now;
	fs_tx t;
	int rc, kind;

	if ((rc = fs_node_get(f, a->file, &n)))
		return rc;
	fs_attr_of(&n, a->attr);
	*a->attr_valid = 1;
	if ((rc = dir_for_change(f, a->c, a->dir, &d, a->wcc)))
		return rc;
	if (n.rec.type == FS_DIR)
		return MAGMA_EISDIR;
	kind = fs_name_check(a->name, a->len);
	if (kind)
		return kind < 0 ? kind : MAGMA_EEXIST;
	if ((rc = name_find(f, &d, a->name, a->len, &na)))
		return rc;
	if (na.found == 1)
		return MAGMA_EEXIST;
	if (n.rec.nlink >= FS_LINK_MAX)
		return MAGMA_EMLINK;

	fs_now(&now);
	fs_tx_init(&t);
	fs_tx_put_name(f, &t, &d.ref, na.nkey, a->name, a->len, &n,
	               name_expect(&na), na.found ? KV_VER_ANY : KV_VER_ABSENT);
	/* counted before the name is written (FIRST): see the top */
	fs_tx_delta(&t, &n, FS_DELTA_CTIME | FS_DELTA_FIRST, 1, NULL, &now,
	            NULL);
	fs_tx_delta(&t, &d, FS_DELTA_TOUCH, 0, NULL, &now, a->wcc);
	rc = fs_tx_apply(f, &t, KV_DURABLE);
	fs_tx_free(&t);
	if (rc)
		return rc;
	fs_attr_of(&n, a->attr);
	fs_wcc_post(a->wcc, &d);
	return 0;
}

int fs_link(fs *f, const fs_cred *c, const fs_ref *file, const fs_ref *dir,
            const char *name, size_t namelen, fs_attr *file_attr,
            int *file_attr_valid, fs_wcc *dir_wcc)
{
	int valid = 0;
	ln_args a = { c,
		      file,
		      dir,
		      name,
		      namelen,
		      file_attr,
		      file_attr_valid ? file_attr_valid : &valid,
		      dir_wcc };
	*a.attr_valid = 0;
	if (dir_wcc)
		memset(dir_wcc, 0, sizeof(*dir_wcc));
	return ns_run(f, ln_once, &a);
}
