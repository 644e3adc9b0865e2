/* fs_lookup.c - the read side of the namespace: LOOKUP, READDIR(PLUS)
 * and the path walk used by `magmactl locate`.
 *
 * READDIR cookies: "." is 1, ".." is 2, an entry's cookie is
 * 3 + (first 8 bytes of its name key, big-endian, >> 2).  Entries are
 * stored under "D" || name key, so cookie order is sub-key order and a
 * READDIR resumes with one range scan from the cookie's position, even
 * when the entry that gave the cookie was removed meanwhile. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fs_internal.h"
#include "merr.h"
#include "mlog.h"

#define RD_PAGE 64 /* entries fetched per scan */

/* The parent of a directory (the root is its own parent). */
static int parent_get(fs *f, const fs_node *dir, fs_node *out)
{
	if (fs_is_root(f, dir->ref.id)) {
		*out = *dir;
		return 0;
	}
	return fs_node_get(f, &dir->rec.parent, out);
}

int fs_lookup(fs *f, const fs_cred *c, const fs_ref *dir, const char *name,
              size_t namelen, fs_ref *out, fs_attr *attr, fs_attr *dir_attr,
              int *dir_attr_valid)
{
	fs_node d, n;
	int kind, rc;

	if (dir_attr_valid)
		*dir_attr_valid = 0;
	rc = fs_node_get(f, dir, &d);
	if (rc)
		return rc;
	fs_attr_of(&d, dir_attr);
	if (dir_attr_valid)
		*dir_attr_valid = 1;
	if (d.rec.type != FS_DIR)
		return MAGMA_ENOTDIR;
	if ((rc = fs_perm(c, &d.rec, FS_MAY_EXEC)))
		return rc;
	kind = fs_name_check(name, namelen);
	if (kind < 0)
		return kind;
	if (kind == 1)
		n = d;
	else if (kind == 2)
		rc = parent_get(f, &d, &n);
	else
		rc = fs_lookup_node(f, &d, name, namelen, &n);
	if (rc)
		return rc;
	*out = n.ref;
	fs_attr_of(&n, attr);
	return 0;
}

/* ---- READDIR ---- */

static uint64_t dir_verf(const fs_node *d)
{
	uint64_t v = fs_be64_get(d->ref.id + 8) ^ 0x6d61676d61766572ull;
	return v ? v : 1;
}

static uint64_t ent_cookie(const uint8_t nkey[KEYS_RING_LEN])
{
	return 3 + (fs_be64_get(nkey) >> 2);
}

typedef struct rd_page {
	fs_ent ents[RD_PAGE];
	size_t n, seen;
	/* READDIRPLUS: the entries' flares, read together (fs_nodes_get) */
	fs_ref refs[RD_PAGE];
	fs_node nodes[RD_PAGE];
	int rcs[RD_PAGE];
	uint8_t last[KV_SUB_MAX + 1];
	size_t lastlen;
} rd_page;

static int rd_collect(void *arg, const void *sub, size_t sublen,
                      const void *val, size_t vallen, uint64_t ver)
{
	rd_page *p = arg;
	(void)ver;
	p->seen++;
	if (sublen <= KV_SUB_MAX) {
		memcpy(p->last, sub, sublen);
		p->lastlen = sublen;
	}
	/* A corrupt entry is logged (by the decoder) and skipped, so the
	 * rest of the directory stays readable. */
	if (fs_ent_decode(sub, sublen, val, vallen, &p->ents[p->n]) == 0)
		p->n++;
	return 0;
}

/* Hand one entry to fn: 0 go on, 1 full, <0 error. */
static int rd_emit(fs *f, int plus, const char *name, size_t len,
                   uint64_t cookie, const fs_node *n, const fs_ref *ref,
                   uint64_t fileid, fs_readdir_fn fn, void *arg)
{
	fs_attr a;
	if (!plus)
		return fn(arg, name, len, fileid, cookie, NULL, NULL);
	fs_attr_of(n, &a);
	return fn(arg, name, len, fileid, cookie, ref, &a);
}

static int rd_dots(fs *f, const fs_node *d, uint64_t cookie, int plus,
                   fs_readdir_fn fn, void *arg)
{
	fs_node p;
	int rc = 0;

	if (cookie == 0) {
		rc = rd_emit(f, plus, ".", 1, 1, d, &d->ref,
		             fs_fileid(d->ref.id), fn, arg);
		if (rc)
			return rc;
	}
	if (cookie <= 1) {
		if ((rc = parent_get(f, d, &p)))
			return rc;
		rc = rd_emit(f, plus, "..", 2, 2, &p, &p.ref,
		             fs_fileid(p.ref.id), fn, arg);
	}
	return cookie <= 1 ? rc : 0;
}

/* Emit the entries of one page with cookie > after; for READDIRPLUS
 * their flares are read first, all at once (one call per owner). */
static int rd_page_emit(fs *f, rd_page *p, uint64_t after, int plus,
                        fs_readdir_fn fn, void *arg)
{
	size_t nref = 0, k = 0;
	int rc;

	for (size_t i = 0; plus && i < p->n; i++)
		if (ent_cookie(p->ents[i].name_key) > after)
			p->refs[nref++] = p->ents[i].ref;
	if (nref && (rc = fs_nodes_get(f, p->refs, nref, p->nodes, p->rcs)))
		return rc;
	for (size_t i = 0; i < p->n; i++) {
		const fs_ent *e = &p->ents[i];
		uint64_t ck = ent_cookie(e->name_key);
		const fs_node *n = NULL;
		if (ck <= after)
			continue;
		if (plus) {
			n = &p->nodes[k];
			rc = p->rcs[k++];
			if (rc == MAGMA_ESTALE)
				continue; /* removed while we read */
			if (rc)
				return rc;
		}
		rc = rd_emit(f, plus, e->name, e->namelen, ck, n, &e->ref,
		             fs_fileid(e->ref.id), fn, arg);
		if (rc)
			return rc;
	}
	return 0;
}

static int rd_entries(fs *f, const fs_node *d, uint64_t cookie, int plus,
                      fs_readdir_fn fn, void *arg, int *eof)
{
	uint8_t ekey[KEYS_RING_LEN], from[KV_SUB_MAX + 1];
	size_t fromlen = 1;
	uint64_t after = cookie < 3 ? 0 : cookie;
	rd_page *p = malloc(sizeof(*p));
	int rc = 0;

	if (!p)
		return MAGMA_ENOMEM;
	fs_ents_key(f, d->ref.id, ekey);
	from[0] = 'D';
	if (after) {
		if ((after - 3) >> 62) { /* past every possible entry */
			*eof = 1;
			goto out;
		}
		fs_be64_put(from + 1, (after - 3) << 2);
		fromlen = 9;
	}
	for (;;) {
		p->n = p->seen = 0;
		rc = kv_scan(f->kv, ekey, "D", 1, from, fromlen, RD_PAGE,
		             rd_collect, p);
		if (rc)
			break;
		rc = rd_page_emit(f, p, after, plus, fn, arg);
		if (rc)
			break;
		if (p->seen < RD_PAGE) {
			*eof = 1;
			break;
		}
		/* next page: just after the last sub seen */
		memcpy(from, p->last, p->lastlen);
		from[p->lastlen] = 0;
		fromlen = p->lastlen + 1;
	}
out:
	free(p);
	return rc;
}

int fs_readdir(fs *f, const fs_cred *c, const fs_ref *dir, uint64_t cookie,
               uint64_t verf, int plus, fs_readdir_fn fn, void *arg,
               uint64_t *verf_out, int *eof, fs_attr *dir_attr)
{
	fs_node d;
	int rc = fs_node_get(f, dir, &d);

	*eof = 0;
	if (rc)
		return rc;
	fs_attr_of(&d, dir_attr);
	if (d.rec.type != FS_DIR)
		return MAGMA_ENOTDIR;
	if ((rc = fs_perm(c, &d.rec, FS_MAY_READ)))
		return rc;
	if (verf != 0 && verf != dir_verf(&d))
		return MAGMA_EBADCOOKIE;
	if (verf_out)
		*verf_out = dir_verf(&d);
	rc = rd_dots(f, &d, cookie, plus, fn, arg);
	if (rc == 0)
		rc = rd_entries(f, &d, cookie, plus, fn, arg, eof);
	return rc == 1 ? 0 : rc; /* 1: the reply is full */
}

/* ---- path walk ---- */

int fs_walk(fs *f, const char *path, fs_walk_fn fn, void *arg)
{
	fs_node cur, next;
	fs_attr a;
	const char *p = path;
	char comp[FS_NAME_MAX + 1];
	int rc;

	if (!path || path[0] != '/')
		return MAGMA_EINVAL;
	if ((rc = fs_node_get(f, &f->root, &cur)))
		return rc;
	fs_attr_of(&cur, &a);
	if ((rc = fn(arg, "/", cur.ref.home, &cur.ref, &a)))
		return rc < 0 ? rc : 0;
	while (*p) {
		uint8_t nkey[KEYS_RING_LEN];
		size_t len;
		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len == 0)
			break;
		if (len > FS_NAME_MAX)
			return MAGMA_ENAMETOOLONG;
		memcpy(comp, p, len);
		comp[len] = 0;
		p += len;
		if (cur.rec.type != FS_DIR)
			return MAGMA_ENOTDIR;
		if (fs_name_check(comp, len) == 1)
			continue;
		if (fs_name_check(comp, len) == 2) {
			if ((rc = parent_get(f, &cur, &next)))
				return rc;
			memcpy(nkey, next.ref.home, KEYS_RING_LEN);
		} else {
			keys_ring_child(f->keys, cur.ref.id, comp, len, nkey);
			if ((rc = fs_lookup_node(f, &cur, comp, len, &next)))
				return rc;
		}
		cur = next;
		fs_attr_of(&cur, &a);
		if ((rc = fn(arg, comp, nkey, &cur.ref, &a)))
			return rc < 0 ? rc : 0;
	}
	return 0;
}
