/* test_fs.c - the namespace layer (server/fs*.c) over a real LMDB store
 * and real keys: every fs_* call, its errors, permissions, renames, hard
 * links, sparse files, truncation, READDIR cookies and persistence. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fs.h"
#include "fs_rec.h"
#include "keys.h"
#include "merr.h"
#include "store.h"
#include "unit.h"

static magma_keys tk;
static const char *tdir;
static store *ts;
static fs *tf;

static const fs_cred ROOT = { 0, 0, 0, { 0 } };
static const fs_cred U1 = { 1000, 1000, 1, { 100 } };
static const fs_cred U2 = { 1001, 1001, 0, { 0 } };
static const fs_cred U3 = { 1002, 100, 0, { 0 } }; /* in group 100 */

static int fs_open_all(void)
{
	store_config cfg = { .dir = tdir, .map_size = 1ull << 30 };
	if (store_open(&ts, &cfg))
		return -1;
	return fs_open(&tf, store_kv(ts), &tk) ? -1 : 0;
}

static void fs_close_all(void)
{
	fs_close(tf);
	store_close(ts);
	tf = NULL;
	ts = NULL;
}

static int suite_init(void)
{
	static const char phrase[] = "correct horse battery staple fs";
	if (keys_derive(phrase, strlen(phrase), "fsnet", &tk))
		return -1;
	tdir = unit_tmpdir();
	return tdir ? fs_open_all() : -1;
}

static int suite_clean(void)
{
	fs_close_all();
	return 0;
}

/* ---- helpers ---- */

static fs_ref root_ref(void)
{
	fs_ref r;
	fs_root(tf, &r);
	return r;
}

static int mkd(const fs_cred *c, const fs_ref *dir, const char *name,
               uint32_t mode, fs_ref *out)
{
	fs_sattr sa = { .set_mode = 1, .mode = mode };
	return fs_mkdir(tf, c, dir, name, strlen(name), &sa, out, NULL, NULL);
}

static int mkf(const fs_cred *c, const fs_ref *dir, const char *name,
               uint32_t mode, fs_ref *out)
{
	fs_sattr sa = { .set_mode = 1, .mode = mode };
	return fs_create(tf, c, dir, name, strlen(name), FS_CREATE_GUARDED, &sa,
	                 NULL, out, NULL, NULL);
}

/* A fresh directory under the root for one test (mode 0777). */
static fs_ref testdir(const char *name)
{
	fs_ref root = root_ref(), d;
	CU_ASSERT_EQUAL_FATAL(mkd(&ROOT, &root, name, 0777, &d), 0);
	return d;
}

static int wr(const fs_cred *c, const fs_ref *r, uint64_t off, const void *buf,
              uint32_t len)
{
	int committed = -1;
	int rc = fs_write(tf, c, r, off, buf, len, FS_FILE_SYNC, &committed,
	                  NULL);
	if (rc == 0) {
		CU_ASSERT_EQUAL(committed, FS_FILE_SYNC);
	}
	return rc;
}

static int rd(const fs_cred *c, const fs_ref *r, uint64_t off, uint32_t n,
              void *buf, uint32_t *got, int *eof)
{
	return fs_read(tf, c, r, off, n, buf, got, eof, NULL);
}

static int lk(const fs_cred *c, const fs_ref *d, const char *name, fs_ref *out,
              fs_attr *a)
{
	fs_ref o;
	fs_attr x;
	return fs_lookup(tf, c, d, name, strlen(name), out ? out : &o,
	                 a ? a : &x, NULL, NULL);
}

static fs_attr ga(const fs_ref *r)
{
	fs_attr a;
	memset(&a, 0, sizeof(a));
	CU_ASSERT_EQUAL(fs_getattr(tf, r, &a), 0);
	return a;
}

static int same_ref(const fs_ref *a, const fs_ref *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static void pattern(uint8_t *b, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((off + i) * 131 + 7);
}

static int is_pattern(const uint8_t *b, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != (uint8_t)((off + i) * 131 + 7))
			return 0;
	return 1;
}

static int is_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* ---- tests ---- */

static void test_root(void)
{
	fs_ref root = root_ref(), r;
	fs_attr a = ga(&root);
	CU_ASSERT_EQUAL(a.type, FS_DIR);
	CU_ASSERT_EQUAL(a.mode, 0755);
	CU_ASSERT_EQUAL(a.uid, 0);
	CU_ASSERT_EQUAL(a.fileid, 1);
	CU_ASSERT(a.nlink >= 2);
	CU_ASSERT_EQUAL(lk(&U1, &root, ".", &r, NULL), 0);
	CU_ASSERT(same_ref(&r, &root));
	CU_ASSERT_EQUAL(lk(&U1, &root, "..", &r, NULL), 0);
	CU_ASSERT(same_ref(&r, &root));
	CU_ASSERT_EQUAL(lk(&U1, &root, "nothing-here", &r, NULL), MAGMA_ENOENT);
	uint8_t v1[8], v2[8];
	fs_write_verifier(tf, v1);
	fs_write_verifier(tf, v2);
	CU_ASSERT_EQUAL(memcmp(v1, v2, 8), 0);
}

static void test_create_lookup(void)
{
	fs_ref d = testdir("create"), f1, f2;
	fs_attr a, b, da;
	fs_wcc w;
	fs_sattr sa = { .set_mode = 1, .mode = 0640 };
	char name[300];
	int valid = 0;

	fs_attr d0 = ga(&d);
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, "f", 1, FS_CREATE_GUARDED, &sa,
	                          NULL, &f1, &a, &w),
	                0);
	CU_ASSERT_EQUAL(a.type, FS_REG);
	CU_ASSERT_EQUAL(a.mode, 0640);
	CU_ASSERT_EQUAL(a.nlink, 1);
	CU_ASSERT_EQUAL(a.uid, 1000);
	CU_ASSERT_EQUAL(a.gid, 1000);
	CU_ASSERT_EQUAL(a.size, 0);
	CU_ASSERT(w.pre_valid && w.post_valid);
	CU_ASSERT_EQUAL(w.pre_mtime.sec, d0.mtime.sec);
	CU_ASSERT_EQUAL(w.pre_mtime.nsec, d0.mtime.nsec);
	CU_ASSERT(w.post.mtime.sec > d0.mtime.sec ||
	          (w.post.mtime.sec == d0.mtime.sec &&
	           w.post.mtime.nsec > d0.mtime.nsec));
	CU_ASSERT_EQUAL(fs_lookup(tf, &U2, &d, "f", 1, &f2, &b, &da, &valid),
	                0);
	CU_ASSERT(valid);
	CU_ASSERT(same_ref(&f1, &f2));
	CU_ASSERT_EQUAL(b.fileid, a.fileid);
	CU_ASSERT(a.fileid > 1);
	/* GUARDED: exists; UNCHECKED: the same file, truncated if asked */
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, "f", 1, FS_CREATE_GUARDED, &sa,
	                          NULL, &f2, NULL, NULL),
	                MAGMA_EEXIST);
	CU_ASSERT_EQUAL(wr(&U1, &f1, 0, "hello", 5), 0);
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, "f", 1, FS_CREATE_UNCHECKED, &sa,
	                          NULL, &f2, &b, NULL),
	                0);
	CU_ASSERT(same_ref(&f1, &f2));
	CU_ASSERT_EQUAL(b.size, 5);
	fs_sattr trunc = { .set_size = 1, .size = 0 };
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, "f", 1, FS_CREATE_UNCHECKED,
	                          &trunc, NULL, &f2, &b, NULL),
	                0);
	CU_ASSERT_EQUAL(b.size, 0);
	/* names */
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, ".", 1, FS_CREATE_GUARDED, &sa,
	                          NULL, &f2, NULL, NULL),
	                MAGMA_EEXIST);
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, "..", 2, FS_CREATE_GUARDED, &sa,
	                          NULL, &f2, NULL, NULL),
	                MAGMA_EEXIST);
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, "a/b", 3, FS_CREATE_GUARDED, &sa,
	                          NULL, &f2, NULL, NULL),
	                MAGMA_EINVAL);
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, "a\0b", 3, FS_CREATE_GUARDED,
	                          &sa, NULL, &f2, NULL, NULL),
	                MAGMA_EINVAL);
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, "", 0, FS_CREATE_GUARDED, &sa,
	                          NULL, &f2, NULL, NULL),
	                MAGMA_EINVAL);
	memset(name, 'x', sizeof(name));
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, name, 256, FS_CREATE_GUARDED,
	                          &sa, NULL, &f2, NULL, NULL),
	                MAGMA_ENAMETOOLONG);
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, name, 255, FS_CREATE_GUARDED,
	                          &sa, NULL, &f2, NULL, NULL),
	                0);
	CU_ASSERT_EQUAL(fs_lookup(tf, &U1, &d, name, 255, &f2, &b, NULL, NULL),
	                0);
	CU_ASSERT_EQUAL(fs_lookup(tf, &U1, &d, name, 256, &f2, &b, NULL, NULL),
	                MAGMA_ENAMETOOLONG);
	/* lookup errors */
	CU_ASSERT_EQUAL(lk(&U1, &d, "missing", NULL, NULL), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(lk(&U1, &f1, "x", NULL, NULL), MAGMA_ENOTDIR);
	fs_ref bogus = f1;
	bogus.id[5] ^= 0x55;
	CU_ASSERT_EQUAL(fs_getattr(tf, &bogus, &b), MAGMA_ESTALE);
	CU_ASSERT_EQUAL(lk(&U1, &bogus, "x", NULL, NULL), MAGMA_ESTALE);
	/* bad how */
	CU_ASSERT_EQUAL(
	        fs_create(tf, &U1, &d, "g", 1, 7, &sa, NULL, &f2, NULL, NULL),
	        MAGMA_EINVAL);
}

static void test_exclusive(void)
{
	fs_ref d = testdir("excl"), f1, f2;
	uint8_t v1[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, v2[8] = { 9 };
	fs_attr a;

	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, "x", 1, FS_CREATE_EXCLUSIVE,
	                          NULL, v1, &f1, &a, NULL),
	                0);
	CU_ASSERT_EQUAL(a.type, FS_REG);
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, "x", 1, FS_CREATE_EXCLUSIVE,
	                          NULL, v1, &f2, &a, NULL),
	                0);
	CU_ASSERT(same_ref(&f1, &f2));
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, "x", 1, FS_CREATE_EXCLUSIVE,
	                          NULL, v2, &f2, &a, NULL),
	                MAGMA_EEXIST);
	CU_ASSERT_EQUAL(mkf(&U1, &d, "y", 0644, &f1), 0);
	CU_ASSERT_EQUAL(fs_create(tf, &U1, &d, "y", 1, FS_CREATE_EXCLUSIVE,
	                          NULL, v1, &f2, &a, NULL),
	                MAGMA_EEXIST);
	/* the client then sets the attributes */
	fs_sattr sa = { .set_mode = 1, .mode = 0600 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f1, &sa, NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f1).mode, 0600);
}

static void test_mkdir_rmdir(void)
{
	fs_ref d = testdir("mkdir"), s, t, r, f;
	fs_attr a;
	fs_wcc w;

	CU_ASSERT_EQUAL(ga(&d).nlink, 2);
	CU_ASSERT_EQUAL(mkd(&U1, &d, "sub", 0755, &s), 0);
	a = ga(&s);
	CU_ASSERT_EQUAL(a.type, FS_DIR);
	CU_ASSERT_EQUAL(a.nlink, 2);
	CU_ASSERT_EQUAL(a.mode, 0755);
	CU_ASSERT_EQUAL(ga(&d).nlink, 3);
	CU_ASSERT_EQUAL(lk(&U1, &s, "..", &r, NULL), 0);
	CU_ASSERT(same_ref(&r, &d));
	CU_ASSERT_EQUAL(mkd(&U1, &d, "sub", 0755, &t), MAGMA_EEXIST);
	CU_ASSERT_EQUAL(mkd(&U1, &d, ".", 0755, &t), MAGMA_EEXIST);
	CU_ASSERT_EQUAL(mkd(&U1, &s, "inner", 0755, &t), 0);
	CU_ASSERT_EQUAL(fs_rmdir(tf, &U1, &d, "sub", 3, NULL), MAGMA_ENOTEMPTY);
	CU_ASSERT_EQUAL(fs_remove(tf, &U1, &d, "sub", 3, NULL), MAGMA_EISDIR);
	CU_ASSERT_EQUAL(fs_rmdir(tf, &U1, &s, ".", 1, NULL), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(fs_rmdir(tf, &U1, &s, "..", 2, NULL), MAGMA_ENOTEMPTY);
	CU_ASSERT_EQUAL(mkf(&U1, &d, "file", 0644, &f), 0);
	CU_ASSERT_EQUAL(fs_rmdir(tf, &U1, &d, "file", 4, NULL), MAGMA_ENOTDIR);
	CU_ASSERT_EQUAL(fs_rmdir(tf, &U1, &d, "nope", 4, NULL), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(fs_rmdir(tf, &U1, &s, "inner", 5, NULL), 0);
	CU_ASSERT_EQUAL(fs_getattr(tf, &t, &a), MAGMA_ESTALE);
	CU_ASSERT_EQUAL(ga(&s).nlink, 2);
	CU_ASSERT_EQUAL(fs_rmdir(tf, &U1, &d, "sub", 3, &w), 0);
	CU_ASSERT(w.pre_valid && w.post_valid);
	CU_ASSERT_EQUAL(w.post.nlink, 2);
	CU_ASSERT_EQUAL(lk(&U1, &d, "sub", NULL, NULL), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(mkd(&U1, &f, "x", 0755, &t), MAGMA_ENOTDIR);
	/* a removed directory's handle is stale for every call */
	CU_ASSERT_EQUAL(mkd(&U1, &s, "x", 0755, &t), MAGMA_ESTALE);
}

static void test_setgid_dir(void)
{
	fs_ref d = testdir("sgid"), g, f, s;
	fs_sattr sa = {
		.set_mode = 1, .mode = 02777, .set_gid = 1, .gid = 4242
	};
	CU_ASSERT_EQUAL(mkd(&ROOT, &d, "g", 0777, &g), 0);
	CU_ASSERT_EQUAL(fs_setattr(tf, &ROOT, &g, &sa, NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&g).mode, 02777);
	CU_ASSERT_EQUAL(mkf(&U1, &g, "f", 0644, &f), 0);
	CU_ASSERT_EQUAL(ga(&f).gid, 4242);
	CU_ASSERT_EQUAL(mkd(&U1, &g, "s", 0755, &s), 0);
	CU_ASSERT_EQUAL(ga(&s).gid, 4242);
	CU_ASSERT_EQUAL(ga(&s).mode, 02755);
}

static void test_symlink(void)
{
	fs_ref d = testdir("symlink"), l, f;
	char *t = NULL, big[FS_PATH_MAX + 2];
	size_t len = 0;
	fs_attr a;

	CU_ASSERT_EQUAL(fs_symlink(tf, &U1, &d, "l", 1, "../some/where", 13,
	                           NULL, &l, &a, NULL),
	                0);
	CU_ASSERT_EQUAL(a.type, FS_LNK);
	CU_ASSERT_EQUAL(a.size, 13);
	CU_ASSERT_EQUAL(fs_readlink(tf, &U2, &l, &t, &len, &a), 0);
	CU_ASSERT_EQUAL(len, 13);
	CU_ASSERT_STRING_EQUAL(t, "../some/where");
	free(t);
	CU_ASSERT_EQUAL(
	        fs_symlink(tf, &U1, &d, "l", 1, "x", 1, NULL, &l, &a, NULL),
	        MAGMA_EEXIST);
	memset(big, 'a', sizeof(big));
	CU_ASSERT_EQUAL(fs_symlink(tf, &U1, &d, "big", 3, big, FS_PATH_MAX,
	                           NULL, &l, &a, NULL),
	                0);
	CU_ASSERT_EQUAL(fs_readlink(tf, &U2, &l, &t, &len, &a), 0);
	CU_ASSERT_EQUAL(len, FS_PATH_MAX);
	free(t);
	CU_ASSERT_EQUAL(fs_symlink(tf, &U1, &d, "big2", 4, big, FS_PATH_MAX + 1,
	                           NULL, &l, &a, NULL),
	                MAGMA_ENAMETOOLONG);
	CU_ASSERT_EQUAL(mkf(&U1, &d, "f", 0644, &f), 0);
	CU_ASSERT_EQUAL(fs_readlink(tf, &U1, &f, &t, &len, &a), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(fs_readlink(tf, &U1, &d, &t, &len, &a), MAGMA_EINVAL);
}

static void test_mknod(void)
{
	fs_ref d = testdir("mknod"), n;
	fs_attr a;

	CU_ASSERT_EQUAL(fs_mknod(tf, &ROOT, &d, "c", 1, FS_CHR, 4, 64, NULL, &n,
	                         &a, NULL),
	                0);
	CU_ASSERT_EQUAL(a.type, FS_CHR);
	CU_ASSERT_EQUAL(a.rdev_major, 4);
	CU_ASSERT_EQUAL(a.rdev_minor, 64);
	CU_ASSERT_EQUAL(fs_mknod(tf, &ROOT, &d, "b", 1, FS_BLK, 8, 1, NULL, &n,
	                         &a, NULL),
	                0);
	CU_ASSERT_EQUAL(a.type, FS_BLK);
	CU_ASSERT_EQUAL(fs_mknod(tf, &U1, &d, "p", 1, FS_FIFO, 0, 0, NULL, &n,
	                         &a, NULL),
	                0);
	CU_ASSERT_EQUAL(a.type, FS_FIFO);
	CU_ASSERT_EQUAL(fs_mknod(tf, &U1, &d, "s", 1, FS_SOCK, 0, 0, NULL, &n,
	                         &a, NULL),
	                0);
	CU_ASSERT_EQUAL(a.type, FS_SOCK);
	CU_ASSERT_EQUAL(
	        fs_mknod(tf, &U1, &d, "r", 1, FS_REG, 0, 0, NULL, &n, &a, NULL),
	        MAGMA_EBADTYPE);
	CU_ASSERT_EQUAL(
	        fs_mknod(tf, &U1, &d, "l", 1, FS_LNK, 0, 0, NULL, &n, &a, NULL),
	        MAGMA_EBADTYPE);
	uint8_t buf[4];
	uint32_t got;
	int eof;
	CU_ASSERT_EQUAL(rd(&ROOT, &n, 0, 4, buf, &got, &eof), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(fs_remove(tf, &U1, &d, "s", 1, NULL), 0);
}

static void test_perm_matrix(void)
{
	fs_ref d = testdir("perm"), f, x, p, q;
	uint32_t g;
	uint8_t buf[8];
	uint32_t got;
	int eof;
	fs_sattr sa = { .set_gid = 1, .gid = 100 };

	CU_ASSERT_EQUAL(mkf(&U1, &d, "f", 0640, &f), 0);
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &sa, NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f).gid, 100);
	/* owner rw, group r, other none */
	CU_ASSERT_EQUAL(fs_access(tf, &U1, &f, 0x3f, &g, NULL), 0);
	CU_ASSERT_EQUAL(g,
	                FS_ACCESS_READ | FS_ACCESS_MODIFY | FS_ACCESS_EXTEND);
	CU_ASSERT_EQUAL(fs_access(tf, &U3, &f, 0x3f, &g, NULL), 0);
	CU_ASSERT_EQUAL(g, FS_ACCESS_READ);
	CU_ASSERT_EQUAL(fs_access(tf, &U2, &f, 0x3f, &g, NULL), 0);
	CU_ASSERT_EQUAL(g, 0);
	CU_ASSERT_EQUAL(fs_access(tf, &ROOT, &f, 0x3f, &g, NULL), 0);
	CU_ASSERT_EQUAL(g,
	                FS_ACCESS_READ | FS_ACCESS_MODIFY | FS_ACCESS_EXTEND);
	CU_ASSERT_EQUAL(fs_access(tf, &ROOT, &f, FS_ACCESS_READ, &g, NULL), 0);
	CU_ASSERT_EQUAL(g, FS_ACCESS_READ);
	CU_ASSERT_EQUAL(wr(&U1, &f, 0, "data", 4), 0);
	CU_ASSERT_EQUAL(rd(&U3, &f, 0, 8, buf, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, 4);
	CU_ASSERT_EQUAL(wr(&U3, &f, 0, "data", 4), MAGMA_EACCES);
	CU_ASSERT_EQUAL(rd(&U2, &f, 0, 8, buf, &got, &eof), MAGMA_EACCES);
	CU_ASSERT_EQUAL(wr(&U2, &f, 0, "data", 4), MAGMA_EACCES);
	CU_ASSERT_EQUAL(wr(&ROOT, &f, 0, "DATA", 4), 0);
	/* the owner overrides the mode for data ops (knfsd) */
	fs_sattr ro = { .set_mode = 1, .mode = 0444 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &ro, NULL, NULL), 0);
	CU_ASSERT_EQUAL(wr(&U1, &f, 4, "more", 4), 0);
	CU_ASSERT_EQUAL(fs_access(tf, &U1, &f, 0x3f, &g, NULL), 0);
	CU_ASSERT_EQUAL(g, FS_ACCESS_READ);
	/* execute */
	CU_ASSERT_EQUAL(mkf(&U1, &d, "x", 0711, &x), 0);
	CU_ASSERT_EQUAL(fs_access(tf, &U2, &x, 0x3f, &g, NULL), 0);
	CU_ASSERT_EQUAL(g, FS_ACCESS_EXECUTE);
	CU_ASSERT_EQUAL(rd(&U2, &x, 0, 8, buf, &got, &eof), 0); /* exec-read */
	CU_ASSERT_EQUAL(fs_access(tf, &ROOT, &x, FS_ACCESS_EXECUTE, &g, NULL),
	                0);
	CU_ASSERT_EQUAL(g, FS_ACCESS_EXECUTE);
	CU_ASSERT_EQUAL(fs_access(tf, &ROOT, &f, FS_ACCESS_EXECUTE, &g, NULL),
	                0);
	CU_ASSERT_EQUAL(g, 0);
	/* directories: search and write */
	CU_ASSERT_EQUAL(mkd(&U1, &d, "p", 0750, &p), 0);
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &p, &sa, NULL, NULL), 0);
	CU_ASSERT_EQUAL(mkf(&U1, &p, "in", 0644, &q), 0);
	CU_ASSERT_EQUAL(lk(&U3, &p, "in", NULL, NULL), 0);
	CU_ASSERT_EQUAL(lk(&U2, &p, "in", NULL, NULL), MAGMA_EACCES);
	CU_ASSERT_EQUAL(lk(&ROOT, &p, "in", NULL, NULL), 0);
	CU_ASSERT_EQUAL(mkf(&U3, &p, "new", 0644, &q), MAGMA_EACCES);
	CU_ASSERT_EQUAL(fs_remove(tf, &U3, &p, "in", 2, NULL), MAGMA_EACCES);
	CU_ASSERT_EQUAL(mkf(&ROOT, &p, "rootfile", 0644, &q), 0);
	CU_ASSERT_EQUAL(fs_access(tf, &U3, &p, 0x3f, &g, NULL), 0);
	CU_ASSERT_EQUAL(g, FS_ACCESS_READ | FS_ACCESS_LOOKUP);
	CU_ASSERT_EQUAL(fs_access(tf, &U1, &p, 0x3f, &g, NULL), 0);
	CU_ASSERT_EQUAL(g, FS_ACCESS_READ | FS_ACCESS_LOOKUP |
	                           FS_ACCESS_MODIFY | FS_ACCESS_EXTEND |
	                           FS_ACCESS_DELETE);
	/* readdir needs read */
	uint64_t verf;
	int e2;
	fs_sattr xonly = { .set_mode = 1, .mode = 0711 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &p, &xonly, NULL, NULL), 0);
	CU_ASSERT_EQUAL(
	        fs_readdir(tf, &U2, &p, 0, 0, 0, NULL, NULL, &verf, &e2, NULL),
	        MAGMA_EACCES);
}

static void test_sticky(void)
{
	fs_ref d = testdir("sticky"), t, f1, f2;
	fs_sattr sa = { .set_mode = 1, .mode = 01777 };

	CU_ASSERT_EQUAL(mkd(&ROOT, &d, "tmp", 0777, &t), 0);
	CU_ASSERT_EQUAL(fs_setattr(tf, &ROOT, &t, &sa, NULL, NULL), 0);
	CU_ASSERT_EQUAL(mkf(&U1, &t, "a", 0666, &f1), 0);
	CU_ASSERT_EQUAL(mkf(&U1, &t, "b", 0666, &f2), 0);
	CU_ASSERT_EQUAL(fs_remove(tf, &U2, &t, "a", 1, NULL), MAGMA_EPERM);
	CU_ASSERT_EQUAL(fs_rename(tf, &U2, &t, "a", 1, &t, "c", 1, NULL, NULL),
	                MAGMA_EPERM);
	CU_ASSERT_EQUAL(mkf(&U2, &t, "u2", 0666, &f2), 0);
	/* U2 may not replace U1's file either */
	CU_ASSERT_EQUAL(fs_rename(tf, &U2, &t, "u2", 2, &t, "a", 1, NULL, NULL),
	                MAGMA_EPERM);
	CU_ASSERT_EQUAL(fs_rename(tf, &U1, &t, "a", 1, &t, "c", 1, NULL, NULL),
	                0);
	CU_ASSERT_EQUAL(fs_remove(tf, &U1, &t, "c", 1, NULL), 0);
	CU_ASSERT_EQUAL(fs_remove(tf, &ROOT, &t, "b", 1, NULL), 0);
	CU_ASSERT_EQUAL(fs_remove(tf, &U2, &t, "u2", 2, NULL), 0);
}

static void test_setattr(void)
{
	fs_ref d = testdir("setattr"), f;
	fs_attr a0, a;
	fs_wcc w;

	CU_ASSERT_EQUAL(mkf(&U1, &d, "f", 0644, &f), 0);
	a0 = ga(&f);
	fs_sattr m = { .set_mode = 1, .mode = 0600 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U2, &f, &m, NULL, NULL), MAGMA_EPERM);
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &m, NULL, &w), 0);
	CU_ASSERT(w.pre_valid && w.post_valid);
	CU_ASSERT_EQUAL(w.post.mode, 0600);
	a = ga(&f);
	CU_ASSERT(a.ctime.sec > a0.ctime.sec || (a.ctime.sec == a0.ctime.sec &&
	                                         a.ctime.nsec > a0.ctime.nsec));
	/* guard */
	fs_time bad = { 1, 2 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &m, &bad, NULL),
	                MAGMA_ENOTSYNC);
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &m, &a.ctime, NULL), 0);
	/* chown / chgrp */
	fs_sattr cu = { .set_uid = 1, .uid = 1001 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &cu, NULL, NULL), MAGMA_EPERM);
	fs_sattr same = { .set_uid = 1, .uid = 1000 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &same, NULL, NULL), 0);
	fs_sattr cg = { .set_gid = 1, .gid = 100 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &cg, NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f).gid, 100);
	fs_sattr cg2 = { .set_gid = 1, .gid = 555 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &cg2, NULL, NULL), MAGMA_EPERM);
	CU_ASSERT_EQUAL(fs_setattr(tf, &U3, &f, &cg, NULL, NULL), 0); /* same */
	CU_ASSERT_EQUAL(fs_setattr(tf, &ROOT, &f, &cu, NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f).uid, 1001);
	/* setgid dropped by a chmod from outside the group */
	fs_sattr sg = { .set_mode = 1, .mode = 02755 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U2, &f, &sg, NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f).mode, 0755);
	CU_ASSERT_EQUAL(fs_setattr(tf, &ROOT, &f, &sg, NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f).mode, 02755);
	/* a chown drops setuid/setgid */
	fs_sattr su = { .set_mode = 1, .mode = 06755 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &ROOT, &f, &su, NULL, NULL), 0);
	CU_ASSERT_EQUAL(fs_setattr(tf, &ROOT, &f, &cg, NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f).mode, 0755);
	/* a write by another user drops setuid */
	fs_sattr su2 = { .set_mode = 1, .mode = 04777 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &ROOT, &f, &su2, NULL, NULL), 0);
	CU_ASSERT_EQUAL(wr(&U2, &f, 0, "x", 1), 0);
	CU_ASSERT_EQUAL(ga(&f).mode, 0777);
	/* times */
	fs_sattr tc = { .set_mtime = FS_TIME_CLIENT,
		        .mtime = { 1000, 5 },
		        .set_atime = FS_TIME_CLIENT,
		        .atime = { 900, 7 } };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U2, &f, &tc, NULL, NULL),
	                0); /* owner */
	a = ga(&f);
	CU_ASSERT_EQUAL(a.mtime.sec, 1000);
	CU_ASSERT_EQUAL(a.mtime.nsec, 5);
	CU_ASSERT_EQUAL(a.atime.sec, 900);
	CU_ASSERT_EQUAL(a.atime.nsec, 7);
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &tc, NULL, NULL), MAGMA_EPERM);
	fs_sattr ts_ = { .set_mtime = FS_TIME_SERVER,
		         .set_atime = FS_TIME_SERVER };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &ts_, NULL, NULL),
	                0); /* 0777 */
	CU_ASSERT(ga(&f).mtime.sec > 1000);
	fs_sattr m644 = { .set_mode = 1, .mode = 0644 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U2, &f, &m644, NULL, NULL), 0);
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &ts_, NULL, NULL),
	                MAGMA_EACCES);
	/* size */
	fs_sattr sz = { .set_size = 1, .size = 10 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &sz, NULL, NULL), MAGMA_EACCES);
	CU_ASSERT_EQUAL(fs_setattr(tf, &U2, &f, &sz, NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f).size, 10);
	CU_ASSERT_EQUAL(fs_setattr(tf, &ROOT, &d, &sz, NULL, NULL),
	                MAGMA_EISDIR);
	fs_sattr huge = { .set_size = 1, .size = (uint64_t)INT64_MAX + 1 };
	CU_ASSERT_EQUAL(fs_setattr(tf, &ROOT, &f, &huge, NULL, NULL),
	                MAGMA_EFBIG);
	fs_ref bogus = f;
	bogus.home[0] ^= 1;
	CU_ASSERT_EQUAL(fs_setattr(tf, &ROOT, &bogus, &sz, NULL, NULL),
	                MAGMA_ESTALE);
}

static void test_rename_matrix(void)
{
	fs_ref d = testdir("rename"), a, b, f1, f2, s1, s2, e1, r;
	fs_attr at;
	uint8_t buf[16];
	uint32_t got;
	int eof;

	CU_ASSERT_EQUAL(mkd(&U1, &d, "A", 0755, &a), 0);
	CU_ASSERT_EQUAL(mkd(&U1, &d, "B", 0755, &b), 0);
	CU_ASSERT_EQUAL(mkf(&U1, &a, "f1", 0644, &f1), 0);
	CU_ASSERT_EQUAL(wr(&U1, &f1, 0, "one", 3), 0);
	CU_ASSERT_EQUAL(mkf(&U1, &a, "f2", 0644, &f2), 0);
	CU_ASSERT_EQUAL(wr(&U1, &f2, 0, "two", 3), 0);
	/* plain rename, handle survives */
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &a, "f1", 2, &a, "g1", 2, NULL, NULL), 0);
	CU_ASSERT_EQUAL(lk(&U1, &a, "f1", NULL, NULL), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(lk(&U1, &a, "g1", &r, NULL), 0);
	CU_ASSERT(same_ref(&r, &f1));
	CU_ASSERT_EQUAL(rd(&U1, &f1, 0, 16, buf, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, 3);
	CU_ASSERT_EQUAL(memcmp(buf, "one", 3), 0);
	/* file over file: the target goes */
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &a, "g1", 2, &a, "f2", 2, NULL, NULL), 0);
	CU_ASSERT_EQUAL(fs_getattr(tf, &f2, &at), MAGMA_ESTALE);
	CU_ASSERT_EQUAL(lk(&U1, &a, "f2", &r, NULL), 0);
	CU_ASSERT(same_ref(&r, &f1));
	/* across directories */
	fs_wcc wf, wt;
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &a, "f2", 2, &b, "moved", 5, &wf, &wt), 0);
	CU_ASSERT(wf.pre_valid && wf.post_valid && wt.pre_valid &&
	          wt.post_valid);
	CU_ASSERT_EQUAL(lk(&U1, &b, "moved", &r, NULL), 0);
	CU_ASSERT(same_ref(&r, &f1));
	CU_ASSERT_EQUAL(ga(&f1).nlink, 1);
	/* same name: no-op */
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &b, "moved", 5, &b, "moved", 5, NULL, NULL),
	        0);
	CU_ASSERT_EQUAL(lk(&U1, &b, "moved", NULL, NULL), 0);
	/* hard links of one file: no-op, both names stay */
	CU_ASSERT_EQUAL(fs_link(tf, &U1, &f1, &b, "hl", 2, NULL, NULL, NULL),
	                0);
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &b, "moved", 5, &b, "hl", 2, NULL, NULL), 0);
	CU_ASSERT_EQUAL(lk(&U1, &b, "moved", NULL, NULL), 0);
	CU_ASSERT_EQUAL(lk(&U1, &b, "hl", NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f1).nlink, 2);
	/* directories */
	CU_ASSERT_EQUAL(mkd(&U1, &a, "s1", 0755, &s1), 0);
	CU_ASSERT_EQUAL(mkd(&U1, &a, "s2", 0755, &s2), 0);
	CU_ASSERT_EQUAL(mkd(&U1, &a, "e1", 0755, &e1), 0);
	CU_ASSERT_EQUAL(mkf(&U1, &s2, "x", 0644, &r), 0);
	CU_ASSERT_EQUAL(ga(&a).nlink, 5);
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &a, "s1", 2, &a, "s2", 2, NULL, NULL),
	        MAGMA_ENOTEMPTY);
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &a, "s1", 2, &b, "moved", 5, NULL, NULL),
	        MAGMA_ENOTDIR);
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &b, "moved", 5, &a, "s1", 2, NULL, NULL),
	        MAGMA_EISDIR);
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &a, "s1", 2, &a, "e1", 2, NULL, NULL), 0);
	CU_ASSERT_EQUAL(fs_getattr(tf, &e1, &at), MAGMA_ESTALE);
	CU_ASSERT_EQUAL(ga(&a).nlink, 4);
	/* into its own subtree */
	CU_ASSERT_EQUAL(fs_rename(tf, &U1, &d, "A", 1, &s2, "A", 1, NULL, NULL),
	                MAGMA_EINVAL);
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &a, "s2", 2, &s2, "self", 4, NULL, NULL),
	        MAGMA_EINVAL);
	/* dir across parents: nlinks and ".." */
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &a, "s2", 2, &b, "s2", 2, NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&a).nlink, 3);
	CU_ASSERT_EQUAL(ga(&b).nlink, 3);
	CU_ASSERT_EQUAL(lk(&U1, &s2, "..", &r, NULL), 0);
	CU_ASSERT(same_ref(&r, &b));
	CU_ASSERT_EQUAL(lk(&U1, &s2, "x", NULL, NULL), 0);
	/* errors */
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &a, "none", 4, &a, "z", 1, NULL, NULL),
	        MAGMA_ENOENT);
	CU_ASSERT_EQUAL(fs_rename(tf, &U1, &a, ".", 1, &a, "z", 1, NULL, NULL),
	                MAGMA_EINVAL);
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &a, "e1", 2, &a, "..", 2, NULL, NULL),
	        MAGMA_EINVAL);
	CU_ASSERT_EQUAL(fs_rename(tf, &U2, &a, "e1", 2, &a, "z", 1, NULL, NULL),
	                MAGMA_EACCES);
	CU_ASSERT_EQUAL(
	        fs_rename(tf, &U1, &f1, "e1", 2, &a, "z", 1, NULL, NULL),
	        MAGMA_ENOTDIR);
}

static void test_link(void)
{
	fs_ref d = testdir("link"), f, s, r;
	fs_attr a;
	int valid = 0;
	fs_wcc w;
	uint8_t buf[8];
	uint32_t got;
	int eof;

	CU_ASSERT_EQUAL(mkf(&U1, &d, "f", 0644, &f), 0);
	CU_ASSERT_EQUAL(wr(&U1, &f, 0, "linked", 6), 0);
	CU_ASSERT_EQUAL(fs_link(tf, &U1, &f, &d, "g", 1, &a, &valid, &w), 0);
	CU_ASSERT(valid);
	CU_ASSERT_EQUAL(a.nlink, 2);
	CU_ASSERT(w.pre_valid && w.post_valid);
	CU_ASSERT_EQUAL(lk(&U1, &d, "g", &r, NULL), 0);
	CU_ASSERT(same_ref(&r, &f));
	CU_ASSERT_EQUAL(fs_link(tf, &U1, &f, &d, "g", 1, &a, &valid, &w),
	                MAGMA_EEXIST);
	CU_ASSERT_EQUAL(fs_link(tf, &U1, &f, &d, ".", 1, &a, &valid, &w),
	                MAGMA_EEXIST);
	CU_ASSERT_EQUAL(mkd(&U1, &d, "sub", 0755, &s), 0);
	CU_ASSERT_EQUAL(fs_link(tf, &U1, &s, &d, "s2", 2, &a, &valid, &w),
	                MAGMA_EISDIR);
	CU_ASSERT_EQUAL(fs_link(tf, &U1, &f, &f, "s2", 2, &a, &valid, &w),
	                MAGMA_ENOTDIR);
	CU_ASSERT_EQUAL(fs_link(tf, &U2, &f, &s, "s2", 2, &a, &valid, &w),
	                MAGMA_EACCES);
	CU_ASSERT_EQUAL(fs_link(tf, &U1, &f, &s, "other", 5, &a, &valid, &w),
	                0);
	CU_ASSERT_EQUAL(ga(&f).nlink, 3);
	CU_ASSERT_EQUAL(fs_remove(tf, &U1, &d, "f", 1, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f).nlink, 2);
	CU_ASSERT_EQUAL(fs_remove(tf, &U1, &d, "g", 1, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f).nlink, 1);
	CU_ASSERT_EQUAL(rd(&U1, &f, 0, 8, buf, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, 6);
	CU_ASSERT_EQUAL(memcmp(buf, "linked", 6), 0);
	CU_ASSERT_EQUAL(fs_remove(tf, &U1, &s, "other", 5, NULL), 0);
	CU_ASSERT_EQUAL(fs_getattr(tf, &f, &a), MAGMA_ESTALE);
	CU_ASSERT_EQUAL(rd(&U1, &f, 0, 8, buf, &got, &eof), MAGMA_ESTALE);
	CU_ASSERT_EQUAL(wr(&U1, &f, 0, "x", 1), MAGMA_ESTALE);
	CU_ASSERT_EQUAL(fs_remove(tf, &U1, &d, "f", 1, NULL), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(fs_remove(tf, &U1, &d, ".", 1, NULL), MAGMA_EINVAL);
}

static void test_sparse(void)
{
	fs_ref d = testdir("sparse"), f;
	uint8_t *buf = malloc(3 * FS_CHUNK), w[100];
	uint32_t got;
	int eof;
	fs_attr a;

	CU_ASSERT_EQUAL(mkf(&U1, &d, "s", 0644, &f), 0);
	pattern(w, sizeof(w), 0);
	/* a write far past the end: no chunk for the hole */
	CU_ASSERT_EQUAL(wr(&U1, &f, 10 * FS_CHUNK + 5, w, 100), 0);
	a = ga(&f);
	CU_ASSERT_EQUAL(a.size, 10 * FS_CHUNK + 105);
	CU_ASSERT_EQUAL(a.used, 105);
	CU_ASSERT_EQUAL(rd(&U1, &f, 0, 3 * FS_CHUNK, buf, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, 3 * FS_CHUNK);
	CU_ASSERT(!eof);
	CU_ASSERT(is_zero(buf, got));
	CU_ASSERT_EQUAL(
	        rd(&U1, &f, 9 * FS_CHUNK + 10, 2 * FS_CHUNK, buf, &got, &eof),
	        0);
	CU_ASSERT_EQUAL(got, FS_CHUNK - 10 + 105);
	CU_ASSERT(eof);
	CU_ASSERT(is_zero(buf, FS_CHUNK - 10 + 5));
	CU_ASSERT(memcmp(buf + FS_CHUNK - 10 + 5, w, 100) == 0);
	/* past 4 GiB */
	uint64_t big = 5ull << 30;
	CU_ASSERT_EQUAL(wr(&U1, &f, big - 50, w, 100), 0);
	a = ga(&f);
	CU_ASSERT_EQUAL(a.size, big + 50);
	CU_ASSERT_EQUAL(rd(&U1, &f, big - 60, 200, buf, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, 110);
	CU_ASSERT(eof);
	CU_ASSERT(is_zero(buf, 10));
	CU_ASSERT(memcmp(buf + 10, w, 100) == 0);
	CU_ASSERT(a.used < 4 * FS_CHUNK);
	/* reads at and past the end */
	CU_ASSERT_EQUAL(rd(&U1, &f, big + 50, 10, buf, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, 0);
	CU_ASSERT(eof);
	CU_ASSERT_EQUAL(rd(&U1, &f, UINT64_MAX - 5, 10, buf, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, 0);
	/* offset overflow */
	CU_ASSERT_EQUAL(wr(&U1, &f, (uint64_t)INT64_MAX - 10, w, 100),
	                MAGMA_EFBIG);
	CU_ASSERT_EQUAL(wr(&U1, &f, UINT64_MAX - 10, w, 100), MAGMA_EFBIG);
	CU_ASSERT_EQUAL(wr(&U1, &d, 0, w, 1), MAGMA_EISDIR);
	CU_ASSERT_EQUAL(rd(&U1, &d, 0, 1, buf, &got, &eof), MAGMA_EISDIR);
	free(buf);
}

static void test_rmw_and_big_writes(void)
{
	fs_ref d = testdir("rmw"), f;
	uint32_t n = 3 * 1024 * 1024 / 2 + 777; /* over a slice, unaligned */
	uint8_t *buf = malloc(n), *back = malloc(n);
	uint32_t got;
	int eof, committed = -1;

	CU_ASSERT_EQUAL(mkf(&U1, &d, "f", 0644, &f), 0);
	pattern(buf, n, 12345);
	CU_ASSERT_EQUAL(fs_write(tf, &U1, &f, 12345, buf, n, FS_UNSTABLE,
	                         &committed, NULL),
	                0);
	/* the local store syncs every apply: the write is FILE_SYNC */
	CU_ASSERT_EQUAL(committed, FS_FILE_SYNC);
	/* a backend that defers durability leaves it UNSTABLE */
	store_kv(ts)->always_durable = 0;
	committed = -1;
	CU_ASSERT_EQUAL(fs_write(tf, &U1, &f, 12345, buf, n, FS_UNSTABLE,
	                         &committed, NULL),
	                0);
	store_kv(ts)->always_durable = 1;
	CU_ASSERT_EQUAL(committed, FS_UNSTABLE);
	CU_ASSERT_EQUAL(fs_commit(tf, &f, NULL), 0);
	CU_ASSERT_EQUAL(rd(&U1, &f, 12345, n, back, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT(eof);
	CU_ASSERT(is_pattern(back, n, 12345));
	CU_ASSERT_EQUAL(ga(&f).used, 12345 + (uint64_t)n);
	/* a small write inside a chunk keeps its neighbours */
	CU_ASSERT_EQUAL(wr(&U1, &f, FS_CHUNK + 100, "XYZ", 3), 0);
	CU_ASSERT_EQUAL(rd(&U1, &f, FS_CHUNK + 90, 30, back, &got, &eof), 0);
	CU_ASSERT(is_pattern(back, 10, FS_CHUNK + 90));
	CU_ASSERT_EQUAL(memcmp(back + 10, "XYZ", 3), 0);
	CU_ASSERT(is_pattern(back + 13, 17, FS_CHUNK + 103));
	CU_ASSERT_EQUAL(rd(&U1, &f, 0, 12345, back, &got, &eof), 0);
	CU_ASSERT(is_zero(back, 12345));
	/* zero-length write */
	CU_ASSERT_EQUAL(wr(&U1, &f, 5, "", 0), 0);
	fs_wcc w;
	CU_ASSERT_EQUAL(fs_commit(tf, &f, &w), 0);
	CU_ASSERT(w.post_valid);
	fs_ref bogus = f;
	bogus.id[0] ^= 1;
	CU_ASSERT_EQUAL(fs_commit(tf, &bogus, &w), MAGMA_ESTALE);
	free(buf);
	free(back);
}

static void test_truncate(void)
{
	fs_ref d = testdir("trunc"), f;
	uint32_t n = 200 * 1024, got;
	uint8_t *buf = malloc(300000), *back = malloc(300000);
	int eof;
	fs_sattr s = { .set_size = 1 };

	CU_ASSERT_EQUAL(mkf(&U1, &d, "f", 0644, &f), 0);
	pattern(buf, n, 0);
	CU_ASSERT_EQUAL(wr(&U1, &f, 0, buf, n), 0);
	s.size = 100000;
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &s, NULL, NULL), 0);
	fs_attr a = ga(&f);
	CU_ASSERT_EQUAL(a.size, 100000);
	CU_ASSERT_EQUAL(a.used, 100000);
	CU_ASSERT_EQUAL(rd(&U1, &f, 0, 300000, back, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, 100000);
	CU_ASSERT(eof);
	CU_ASSERT(is_pattern(back, got, 0));
	s.size = 300000;
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &s, NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f).used, 100000);
	CU_ASSERT_EQUAL(rd(&U1, &f, 0, 300000, back, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, 300000);
	CU_ASSERT(is_pattern(back, 100000, 0));
	CU_ASSERT(is_zero(back + 100000, 200000));
	/* writing into the extended part leaves the gap zero */
	CU_ASSERT_EQUAL(wr(&U1, &f, 150000, "abc", 3), 0);
	CU_ASSERT_EQUAL(rd(&U1, &f, 99990, 60020, back, &got, &eof), 0);
	CU_ASSERT(is_pattern(back, 10, 99990));
	CU_ASSERT(is_zero(back + 10, 50000));
	CU_ASSERT_EQUAL(memcmp(back + 50010, "abc", 3), 0);
	/* past the end, inside a chunk that the shrink dropped: the gap
	 * before the data reads zero, whatever the chunk held before */
	s.size = 100000;
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &s, NULL, NULL), 0);
	CU_ASSERT_EQUAL(wr(&U1, &f, 200000, "xyz", 3), 0);
	a = ga(&f);
	CU_ASSERT_EQUAL(a.size, 200003);
	CU_ASSERT_EQUAL(a.used, 100000 + (200003 - 3 * FS_CHUNK));
	CU_ASSERT_EQUAL(rd(&U1, &f, 99990, 100013, back, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, 100013);
	CU_ASSERT(is_pattern(back, 10, 99990));
	CU_ASSERT(is_zero(back + 10, 100000));
	CU_ASSERT_EQUAL(memcmp(back + 100010, "xyz", 3), 0);
	/* to zero, on a chunk boundary */
	s.size = FS_CHUNK;
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &s, NULL, NULL), 0);
	CU_ASSERT_EQUAL(ga(&f).used, FS_CHUNK);
	s.size = 0;
	CU_ASSERT_EQUAL(fs_setattr(tf, &U1, &f, &s, NULL, NULL), 0);
	a = ga(&f);
	CU_ASSERT_EQUAL(a.size, 0);
	CU_ASSERT_EQUAL(a.used, 0);
	CU_ASSERT_EQUAL(rd(&U1, &f, 0, 10, back, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, 0);
	CU_ASSERT(eof);
	free(buf);
	free(back);
}

/* ---- READDIR ---- */

#define NENT 3000

typedef struct rd_ctx {
	int limit, n;
	int seen[NENT];
	int dots;
	uint64_t last;
	int plus, bad;
} rd_ctx;

static int rd_cb(void *arg, const char *name, size_t len, uint64_t fileid,
                 uint64_t cookie, const fs_ref *ref, const fs_attr *attr)
{
	rd_ctx *c = arg;
	if (c->n == c->limit)
		return 1;
	c->n++;
	if (cookie <= c->last)
		c->bad++; /* cookies must increase */
	c->last = cookie;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && !memcmp(name, "..", 2))) {
		c->dots++;
		return 0;
	}
	if (c->plus && (!ref || !attr || attr->fileid != fileid))
		c->bad++;
	if (!c->plus && (ref || attr))
		c->bad++;
	if (len == 5 && name[0] == 'e') {
		int i = atoi(name + 1);
		if (i >= 0 && i < NENT)
			c->seen[i]++;
	} else {
		c->bad++;
	}
	return 0;
}

static void test_readdir(void)
{
	fs_ref d = testdir("readdir"), f, r;
	rd_ctx *c = calloc(1, sizeof(*c));
	int deleted[NENT] = { 0 };
	char name[16];
	uint64_t verf = 0, cookie = 0;
	int eof = 0, pages = 0;

	for (int i = 0; i < NENT; i++) {
		snprintf(name, sizeof(name), "e%04d", i);
		CU_ASSERT_EQUAL_FATAL(mkf(&U1, &d, name, 0644, &f), 0);
	}
	/* whole listing in one go */
	c->limit = 1 << 30;
	CU_ASSERT_EQUAL(
	        fs_readdir(tf, &U1, &d, 0, 0, 0, rd_cb, c, &verf, &eof, NULL),
	        0);
	CU_ASSERT(eof);
	CU_ASSERT_EQUAL(c->n, NENT + 2);
	CU_ASSERT_EQUAL(c->dots, 2);
	CU_ASSERT_EQUAL(c->bad, 0);
	for (int i = 0; i < NENT; i++)
		CU_ASSERT_EQUAL(c->seen[i], 1);
	/* pages of 97 with deletes in between, some of the last seen */
	memset(c, 0, sizeof(*c));
	c->plus = 1;
	int next_del = 0;
	do {
		c->n = 0;
		c->limit = 97;
		uint64_t v2 = 0;
		CU_ASSERT_EQUAL_FATAL(fs_readdir(tf, &U1, &d, cookie, verf, 1,
		                                 rd_cb, c, &v2, &eof, NULL),
		                      0);
		CU_ASSERT_EQUAL(v2, verf);
		cookie = c->last;
		pages++;
		for (int k = 0; k < 5 && next_del < NENT; k++, next_del += 7) {
			snprintf(name, sizeof(name), "e%04d", next_del);
			CU_ASSERT_EQUAL(fs_remove(tf, &U1, &d, name, 5, NULL),
			                0);
			deleted[next_del] = 1;
		}
	} while (!eof && pages < 1000);
	CU_ASSERT(eof);
	CU_ASSERT_EQUAL(c->bad, 0);
	CU_ASSERT_EQUAL(c->dots, 2);
	for (int i = 0; i < NENT; i++) {
		if (deleted[i]) {
			CU_ASSERT(c->seen[i] <= 1);
		} else {
			CU_ASSERT_EQUAL(c->seen[i], 1);
		}
	}
	/* resume after the cookie of an entry removed meanwhile */
	memset(c, 0, sizeof(*c));
	c->limit = 10;
	CU_ASSERT_EQUAL(
	        fs_readdir(tf, &U1, &d, 0, 0, 0, rd_cb, c, &verf, &eof, NULL),
	        0);
	CU_ASSERT(!eof);
	uint64_t ck = c->last;
	int victim = -1, left = 0, before = 0;
	for (int i = 0; i < NENT; i++) {
		if (c->seen[i])
			victim =
			        i; /* the last seen gave ck: any seen will do */
		if (!deleted[i])
			left++;
	}
	CU_ASSERT_FATAL(victim >= 0);
	for (int i = 0; i < NENT; i++)
		before += c->seen[i];
	snprintf(name, sizeof(name), "e%04d", victim);
	CU_ASSERT_EQUAL(fs_remove(tf, &U1, &d, name, 5, NULL), 0);
	deleted[victim] = 1;
	left--;
	int seen_first[NENT];
	memcpy(seen_first, c->seen, sizeof(seen_first));
	memset(c, 0, sizeof(*c));
	c->limit = 1 << 30;
	c->last = ck;
	CU_ASSERT_EQUAL(fs_readdir(tf, &U1, &d, ck, verf, 0, rd_cb, c, &verf,
	                           &eof, NULL),
	                0);
	CU_ASSERT(eof);
	CU_ASSERT_EQUAL(c->dots, 0);
	CU_ASSERT_EQUAL(c->bad, 0);
	CU_ASSERT_EQUAL(c->n + before, left + 1); /* victim was in page 1 */
	for (int i = 0; i < NENT; i++)
		if (!deleted[i])
			CU_ASSERT_EQUAL(c->seen[i] + seen_first[i], 1);
	/* verifier */
	CU_ASSERT_EQUAL(fs_readdir(tf, &U1, &d, ck, verf ^ 1, 0, rd_cb, c, NULL,
	                           &eof, NULL),
	                MAGMA_EBADCOOKIE);
	CU_ASSERT_EQUAL(
	        fs_readdir(tf, &U1, &d, ck, 0, 0, rd_cb, c, NULL, &eof, NULL),
	        0);
	/* a cookie past everything */
	memset(c, 0, sizeof(*c));
	c->limit = 1 << 30;
	CU_ASSERT_EQUAL(fs_readdir(tf, &U1, &d, UINT64_MAX, verf, 0, rd_cb, c,
	                           NULL, &eof, NULL),
	                0);
	CU_ASSERT(eof);
	CU_ASSERT_EQUAL(c->n, 0);
	/* a file is not a directory */
	CU_ASSERT_EQUAL(lk(&U1, &d, "e0001", &r, NULL), 0);
	CU_ASSERT_EQUAL(
	        fs_readdir(tf, &U1, &r, 0, 0, 0, rd_cb, c, NULL, &eof, NULL),
	        MAGMA_ENOTDIR);
	/* empty directory: just the dots */
	fs_ref e;
	CU_ASSERT_EQUAL(mkd(&U1, &d, "emptydir", 0755, &e), 0);
	memset(c, 0, sizeof(*c));
	c->limit = 1 << 30;
	c->plus = 1;
	CU_ASSERT_EQUAL(
	        fs_readdir(tf, &U1, &e, 0, 0, 1, rd_cb, c, NULL, &eof, NULL),
	        0);
	CU_ASSERT(eof);
	CU_ASSERT_EQUAL(c->n, 2);
	free(c);
}

/* ---- concurrency ---- */

#define NCONC 1000

typedef struct del_arg {
	fs_ref d;
	int fail;
} del_arg;

static void *del_thread(void *p)
{
	del_arg *a = p;
	char name[16];
	for (int i = 1; i < NCONC; i += 3) {
		snprintf(name, sizeof(name), "e%04d", i);
		if (fs_remove(tf, &U1, &a->d, name, 5, NULL))
			a->fail++;
	}
	return NULL;
}

static void test_readdir_concurrent_deletes(void)
{
	fs_ref d = testdir("rdconc"), f;
	rd_ctx *c = calloc(1, sizeof(*c));
	del_arg da = { d, 0 };
	pthread_t th;
	char name[16];
	uint64_t verf = 0, cookie = 0;
	int eof = 0, pages = 0;

	for (int i = 0; i < NCONC; i++) {
		snprintf(name, sizeof(name), "e%04d", i);
		CU_ASSERT_EQUAL_FATAL(mkf(&U1, &d, name, 0644, &f), 0);
	}
	pthread_create(&th, NULL, del_thread, &da);
	c->plus = 1;
	do {
		c->n = 0;
		c->limit = 13;
		CU_ASSERT_EQUAL_FATAL(fs_readdir(tf, &U1, &d, cookie, verf, 1,
		                                 rd_cb, c, &verf, &eof, NULL),
		                      0);
		cookie = c->last;
	} while (!eof && ++pages < 10000);
	pthread_join(th, NULL);
	CU_ASSERT(eof);
	CU_ASSERT_EQUAL(da.fail, 0);
	CU_ASSERT_EQUAL(c->bad, 0);
	for (int i = 0; i < NCONC; i++) {
		if (i % 3 == 1) {
			CU_ASSERT(c->seen[i] <= 1);
		} else {
			CU_ASSERT_EQUAL(c->seen[i], 1);
		}
	}
	free(c);
}

typedef struct cw_arg {
	fs_ref f;
	int k;
} cw_arg;

static void *cw_thread(void *p)
{
	cw_arg *a = p;
	uint8_t buf[5000];
	for (int i = 0; i < 20; i++) {
		uint64_t off = (uint64_t)(i * 4 + a->k) * 5000;
		pattern(buf, sizeof(buf), off);
		if (wr(&U1, &a->f, off, buf, sizeof(buf)))
			return (void *)1;
	}
	return NULL;
}

static void test_concurrent_writes(void)
{
	fs_ref d = testdir("conc"), f;
	pthread_t th[4];
	cw_arg args[4];
	uint32_t n = 80 * 5000, got;
	uint8_t *back = malloc(n);
	int eof;

	CU_ASSERT_EQUAL(mkf(&U1, &d, "f", 0644, &f), 0);
	for (int k = 0; k < 4; k++) {
		args[k].f = f;
		args[k].k = k;
		pthread_create(&th[k], NULL, cw_thread, &args[k]);
	}
	for (int k = 0; k < 4; k++) {
		void *r;
		pthread_join(th[k], &r);
		CU_ASSERT_PTR_NULL(r);
	}
	fs_attr a = ga(&f);
	CU_ASSERT_EQUAL(a.size, n);
	CU_ASSERT_EQUAL(a.used, n);
	CU_ASSERT_EQUAL(rd(&U1, &f, 0, n, back, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT(is_pattern(back, n, 0));
	free(back);
}

/* ---- two front ends over a kv without atomic batches ---- */

/* Front end A's kv: applies a batch entry by entry, as the networked kv
 * may (no atomicity across ring keys), and once armed lets front end C
 * (tf, straight over the store) change the namespace after the first
 * entry of A's next batch of several. */
typedef struct split_kv {
	kv kv;
	kv *in;
	int armed, fired;
	int (*other)(void);
} split_kv;

static split_kv skv;

static int sk_get(kv *k, const uint8_t key[KV_KEY_LEN], const void *sub,
                  size_t sublen, void **val, size_t *vallen, uint64_t *ver)
{
	(void)k;
	return kv_get(skv.in, key, sub, sublen, val, vallen, ver);
}

static int sk_read(kv *k, const uint8_t key[KV_KEY_LEN], const void *sub,
                   size_t sublen, size_t off, size_t len, void *buf,
                   size_t *got)
{
	(void)k;
	return kv_read(skv.in, key, sub, sublen, off, len, buf, got);
}

static int sk_apply(kv *k, const kv_batch *b, size_t n, int dur)
{
	(void)k;
	for (size_t i = 0; i < n; i++) {
		int rc = kv_apply(skv.in, b + i, 1, dur);
		if (rc)
			return rc;
		if (i == 0 && n > 1 && skv.armed) {
			skv.armed = 0;
			skv.fired++;
			CU_ASSERT_EQUAL(skv.other(), 0);
		}
	}
	return 0;
}

static int sk_scan(kv *k, const uint8_t key[KV_KEY_LEN], const void *prefix,
                   size_t prefixlen, const void *from, size_t fromlen,
                   size_t max, kv_scan_fn fn, void *arg)
{
	(void)k;
	return kv_scan(skv.in, key, prefix, prefixlen, from, fromlen, max, fn,
	               arg);
}

static int sk_sync(kv *k)
{
	(void)k;
	return kv_sync(skv.in);
}

static int sk_stat(kv *k, kv_stat *st)
{
	(void)k;
	return kv_stat_get(skv.in, st);
}

static void sk_close(kv *k)
{
	(void)k;
}

static const struct kv_ops sk_ops = { .get = sk_get,
	                              .read = sk_read,
	                              .apply = sk_apply,
	                              .scan = sk_scan,
	                              .sync = sk_sync,
	                              .stat = sk_stat,
	                              .close = sk_close };

/* What front end C does meanwhile, in directory sd. */
static fs_ref sd;
static char oname[16];
static int o_create(void)
{
	return mkf(&U1, &sd, oname, 0644, NULL);
}
static int o_mkdir(void)
{
	return mkd(&U1, &sd, oname, 0755, NULL);
}
static int o_remove(void)
{
	return fs_remove(tf, &U1, &sd, oname, strlen(oname), NULL);
}
static int o_rmdir(void)
{
	return fs_rmdir(tf, &U1, &sd, oname, strlen(oname), NULL);
}

static void arm(int (*other)(void), const char *name)
{
	snprintf(oname, sizeof(oname), "%s", name);
	skv.other = other;
	skv.armed = 1;
}

typedef struct names_ctx {
	char list[1024];
	int n;
} names_ctx;

static int names_cb(void *arg, const char *name, size_t namelen,
                    uint64_t fileid, uint64_t cookie, const fs_ref *ref,
                    const fs_attr *attr)
{
	names_ctx *c = arg;
	size_t at = strlen(c->list);
	(void)fileid;
	(void)cookie;
	(void)ref;
	(void)attr;
	if ((namelen == 1 && name[0] == '.') ||
	    (namelen == 2 && !memcmp(name, "..", 2)))
		return 0;
	snprintf(c->list + at, sizeof(c->list) - at, " %.*s", (int)namelen,
	         name);
	c->n++;
	return 0;
}

/* Every name of dir through front end f, in cookie order. */
static void names_of(fs *f, const fs_ref *dir, names_ctx *c)
{
	uint64_t verf = 0;
	int eof = 0;
	memset(c, 0, sizeof(*c));
	CU_ASSERT_EQUAL(fs_readdir(f, &U1, dir, 0, 0, 1, names_cb, c, &verf,
	                           &eof, NULL),
	                0);
	CU_ASSERT(eof);
}

static int listed(const names_ctx *c, const char *name)
{
	char pat[40];
	const char *p = c->list;
	size_t n = (size_t)snprintf(pat, sizeof(pat), " %s", name);
	while ((p = strstr(p, pat)) != NULL) {
		if (p[n] == ' ' || p[n] == 0)
			return 1;
		p += n;
	}
	return 0;
}

/* Each mutation of A is cut by one of C in the same directory between
 * its first and second kv entries: no false EEXIST / ENOENT, the
 * directory's link count and every name right through both front ends;
 * a real conflict on one name still is one. */
static void test_split_batches(void)
{
	static const char *const want[] = { "a3",  "a4",  "a5",  "c1",
		                            "c2",  "c3",  "c4",  "c5",
		                            "c6",  "c7",  "c8",  "cx",
		                            "ad0", "cd1", "cd2", "cd3" };
	fs_ref d = testdir("split"), r, a2, b0, ad0, x;
	fs *fa = NULL;
	fs_wcc w;
	fs_attr at;
	names_ctx nc;
	char n[16];
	int fired = 0;

	sd = d;
	memset(&skv, 0, sizeof(skv));
	skv.kv.ops = &sk_ops;
	skv.kv.always_durable = 1;
	skv.in = store_kv(ts);
	CU_ASSERT_EQUAL_FATAL(fs_open(&fa, &skv.kv, &tk), 0);
	for (int i = 0; i < 6; i++) {
		snprintf(n, sizeof(n), "c%d", i);
		arm(o_create, n);
		snprintf(n, sizeof(n), "a%d", i);
		CU_ASSERT_EQUAL(fs_create(fa, &U1, &d, n, 2, FS_CREATE_GUARDED,
		                          NULL, NULL, i == 2 ? &a2 : &r, NULL,
		                          NULL),
		                0);
		CU_ASSERT_EQUAL(skv.fired, ++fired);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(n, sizeof(n), "cd%d", i);
		arm(o_mkdir, n);
		snprintf(n, sizeof(n), "ad%d", i);
		memset(&w, 0, sizeof(w));
		CU_ASSERT_EQUAL(fs_mkdir(fa, &U1, &d, n, 3, NULL,
		                         i == 0 ? &ad0 : &r, NULL, &w),
		                0);
		CU_ASSERT_EQUAL(skv.fired, ++fired);
		/* the wcc reports the directory as written: C's and A's
		 * subdirectories both counted */
		CU_ASSERT(w.pre_valid && w.post_valid);
		CU_ASSERT_EQUAL(w.post.nlink, 2 + 2 * (uint32_t)(i + 1));
		CU_ASSERT_EQUAL(ga(&d).nlink, 2 + 2 * (uint32_t)(i + 1));
	}
	/* rename in one directory, and a directory moved out of it */
	arm(o_create, "c6");
	CU_ASSERT_EQUAL(
	        fs_rename(fa, &U1, &d, "a0", 2, &d, "b0", 2, NULL, NULL), 0);
	arm(o_mkdir, "cd3");
	CU_ASSERT_EQUAL(
	        fs_rename(fa, &U1, &d, "ad1", 3, &ad0, "sub", 3, NULL, NULL),
	        0);
	CU_ASSERT_EQUAL(ga(&ad0).nlink, 3);
	CU_ASSERT_EQUAL(lk(&U1, &ad0, "sub", &r, &at), 0);
	CU_ASSERT_EQUAL(lk(&U1, &r, "..", &x, NULL), 0);
	CU_ASSERT(same_ref(&x, &ad0));
	/* remove, rmdir */
	arm(o_remove, "c0");
	CU_ASSERT_EQUAL(fs_remove(fa, &U1, &d, "a1", 2, NULL), 0);
	arm(o_rmdir, "cd0");
	CU_ASSERT_EQUAL(fs_rmdir(fa, &U1, &d, "ad2", 3, NULL), 0);
	/* link, rename over a file */
	CU_ASSERT_EQUAL(lk(&U1, &d, "b0", &b0, NULL), 0);
	arm(o_create, "c7");
	CU_ASSERT_EQUAL(fs_link(fa, &U1, &b0, &d, "l0", 2, &at, NULL, NULL), 0);
	CU_ASSERT_EQUAL(at.nlink, 2);
	CU_ASSERT_EQUAL(ga(&b0).nlink, 2);
	arm(o_create, "c8");
	CU_ASSERT_EQUAL(
	        fs_rename(fa, &U1, &d, "a2", 2, &d, "a3", 2, NULL, NULL), 0);
	CU_ASSERT_EQUAL(lk(&U1, &d, "a3", &r, NULL), 0);
	CU_ASSERT(same_ref(&r, &a2));
	/* both names of one file removed at once, one by each front end:
	 * the file goes with the last */
	arm(o_remove, "b0");
	CU_ASSERT_EQUAL(fs_remove(fa, &U1, &d, "l0", 2, NULL), 0);
	CU_ASSERT_EQUAL(fs_getattr(tf, &b0, &at), MAGMA_ESTALE);
	/* the same name made by both: a real conflict, C's file stays */
	arm(o_create, "cx");
	CU_ASSERT_EQUAL(fs_create(fa, &U1, &d, "cx", 2, FS_CREATE_GUARDED, NULL,
	                          NULL, &r, NULL, NULL),
	                MAGMA_EEXIST);
	CU_ASSERT_EQUAL(lk(&U1, &d, "cx", &x, NULL), 0);
	CU_ASSERT(!same_ref(&x, &r));
	CU_ASSERT_EQUAL(skv.fired, fired + 8);

	CU_ASSERT_EQUAL(ga(&d).nlink, 2 + 4);
	names_of(fa, &d, &nc);
	CU_ASSERT_EQUAL(nc.n, (int)(sizeof(want) / sizeof(want[0])));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CU_ASSERT(listed(&nc, want[i]));
	names_of(tf, &d, &nc);
	CU_ASSERT_EQUAL(nc.n, (int)(sizeof(want) / sizeof(want[0])));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CU_ASSERT(listed(&nc, want[i]));
	fs_close(fa);
}

/* ---- walk, statfs, corruption, persistence ---- */

typedef struct walk_ctx {
	int n;
	char last[64];
	fs_ref ref;
} walk_ctx;

static int walk_cb(void *arg, const char *comp, const uint8_t nk[KEYS_RING_LEN],
                   const fs_ref *ref, const fs_attr *attr)
{
	walk_ctx *w = arg;
	(void)nk;
	(void)attr;
	w->n++;
	snprintf(w->last, sizeof(w->last), "%s", comp);
	w->ref = *ref;
	return 0;
}

/* A front end over a kv without read_many (skv, disarmed): the chunks
 * come from kv_read_many's loop of reads, which never says "this
 * node's copy", as data from other nodes does not. */
static fs *front_elsewhere(void)
{
	fs *fa = NULL;

	memset(&skv, 0, sizeof(skv));
	skv.kv.ops = &sk_ops;
	skv.kv.always_durable = 1;
	skv.in = store_kv(ts);
	CU_ASSERT_EQUAL(fs_open(&fa, &skv.kv, &tk), 0);
	return fa;
}

/* fs_read_data as U1, its bytes gathered into buf: *inplace when they
 * were read in place (a store view), not copied. */
static int rdata(fs *f, const fs_ref *r, uint64_t off, uint32_t n, uint8_t *buf,
                 uint32_t *got, int *eof, int *inplace)
{
	fs_rdata d;
	uint32_t at = 0;
	int rc = fs_read_data(f, &U1, r, off, n, &d, got, eof, NULL);

	for (size_t i = 0; rc == 0 && i < d.nseg; i++) {
		memcpy(buf + at, d.seg[i].p, d.seg[i].len);
		at += d.seg[i].len;
	}
	if (rc == 0)
		CU_ASSERT_EQUAL(at, *got);
	*inplace = d.view != NULL;
	fs_rdata_free(&d);
	return rc;
}

/* A READ of several chunks through the store's read_many (one
 * transaction), through the per-chunk loop, and in place (the NFS
 * READ's way, fs_read_data) give the same bytes: data, holes, a short
 * last chunk, unaligned offsets. */
static void test_chunks_read(void)
{
	fs_ref d = testdir("chunks"), f;
	const uint32_t size = 3 * FS_CHUNK + 1000;
	uint8_t *data = malloc(size), *a = malloc(size), *b = malloc(size);
	static const uint32_t offs[] = { 0, 1, FS_CHUNK - 7, FS_CHUNK,
		                         2 * FS_CHUNK + 5 };
	fs *fa = front_elsewhere();
	uint32_t ga, gb;
	int ea, eb, inplace;

	CU_ASSERT_FATAL(data && a && b && fa);
	memset(data, 0, size);
	for (uint32_t i = 0; i < FS_CHUNK + 300; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	for (uint32_t i = 3 * FS_CHUNK; i < size; i++)
		data[i] = (uint8_t)(i * 13 + 5); /* chunk 2 is a hole */
	CU_ASSERT_EQUAL_FATAL(mkf(&U1, &d, "f", 0644, &f), 0);
	CU_ASSERT_EQUAL(wr(&U1, &f, 0, data, FS_CHUNK + 300), 0);
	CU_ASSERT_EQUAL(wr(&U1, &f, 3 * FS_CHUNK, data + 3 * FS_CHUNK, 1000),
	                0);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint32_t n = size - offs[i];
		memset(a, 0xee, size);
		CU_ASSERT_EQUAL(rd(&U1, &f, offs[i], n + 100, a, &ga, &ea), 0);
		memset(b, 0xdd, size);
		CU_ASSERT_EQUAL(fs_read(fa, &U1, &f, offs[i], n + 100, b, &gb,
		                        &eb, NULL),
		                0);
		CU_ASSERT(ga == n && gb == n && ea == 1 && eb == 1);
		CU_ASSERT(memcmp(a, data + offs[i], n) == 0);
		CU_ASSERT(memcmp(b, data + offs[i], n) == 0);
		/* in place from this store; copied from "elsewhere" */
		memset(a, 0xcc, size);
		CU_ASSERT_EQUAL(
		        rdata(tf, &f, offs[i], n + 100, a, &ga, &ea, &inplace),
		        0);
		CU_ASSERT(ga == n && ea == 1 && inplace);
		CU_ASSERT(memcmp(a, data + offs[i], n) == 0);
		memset(b, 0xbb, size);
		CU_ASSERT_EQUAL(
		        rdata(fa, &f, offs[i], n + 100, b, &gb, &eb, &inplace),
		        0);
		CU_ASSERT(gb == n && eb == 1 && !inplace);
		CU_ASSERT(memcmp(b, data + offs[i], n) == 0);
	}
	/* bytes read in place stay those of the READ's moment while a
	 * WRITE changes them (the view holds its snapshot) */
	{
		fs_rdata dd;
		uint8_t x[64];

		CU_ASSERT_EQUAL_FATAL(
		        fs_read_data(tf, &U1, &f, 10, 64, &dd, &ga, &ea, NULL),
		        0);
		CU_ASSERT(dd.view != NULL && dd.nseg == 1 && ga == 64);
		memset(x, 0x77, sizeof(x));
		CU_ASSERT_EQUAL(wr(&U1, &f, 0, x, sizeof(x)), 0);
		CU_ASSERT(memcmp(dd.seg[0].p, data + 10, 64) == 0);
		fs_rdata_free(&dd);
		CU_ASSERT_EQUAL(rdata(tf, &f, 10, 64, a, &ga, &ea, &inplace),
		                0);
		CU_ASSERT(ga == 64 && memcmp(a, x, 54) == 0 &&
		          memcmp(a + 54, data + 64, 10) == 0);
		memcpy(data, x, sizeof(x));
	}
	/* at most FS_VIEWS_MAX READs hold views at once; the next copy */
	{
		fs_rdata *held = calloc(FS_VIEWS_MAX + 1, sizeof(*held));
		int n_in = 0;

		CU_ASSERT_FATAL(held != NULL);
		for (int i = 0; i <= FS_VIEWS_MAX; i++) {
			CU_ASSERT_EQUAL(fs_read_data(tf, &U1, &f, 1, 100,
			                             &held[i], &ga, &ea, NULL),
			                0);
			CU_ASSERT(ga == 100 && held[i].nseg == 1 &&
			          memcmp(held[i].seg[0].p, data + 1, 100) == 0);
			n_in += held[i].view != NULL;
		}
		CU_ASSERT_EQUAL(n_in, FS_VIEWS_MAX);
		CU_ASSERT(held[FS_VIEWS_MAX].view == NULL &&
		          held[FS_VIEWS_MAX].buf != NULL);
		fs_rdata_free(&held[0]);
		CU_ASSERT_EQUAL(rdata(tf, &f, 1, 100, a, &ga, &ea, &inplace),
		                0);
		CU_ASSERT(inplace && memcmp(a, data + 1, 100) == 0);
		for (int i = 1; i <= FS_VIEWS_MAX; i++)
			fs_rdata_free(&held[i]);
		free(held);
	}
	/* past the end: nothing, and the end of the file */
	CU_ASSERT_EQUAL(rdata(tf, &f, size + 5, 10, a, &ga, &ea, &inplace), 0);
	CU_ASSERT(ga == 0 && ea == 1 && !inplace);
	/* a zero-count READ: nothing, not the end of the file */
	CU_ASSERT_EQUAL(rd(&U1, &f, 1, 0, a, &ga, &ea), 0);
	CU_ASSERT(ga == 0 && ea == 0);
	CU_ASSERT_EQUAL(fs_read(fa, &U1, &f, 0, 0, b, &gb, &eb, NULL), 0);
	CU_ASSERT(gb == 0 && eb == 0);
	CU_ASSERT_EQUAL(rdata(tf, &f, 1, 0, a, &ga, &ea, &inplace), 0);
	CU_ASSERT(ga == 0 && ea == 0 && !inplace);
	fs_close(fa);
	free(data);
	free(a);
	free(b);
}

/* Read-ahead (fs_ra.c) under sequential READs of a file whose data
 * comes from "other nodes": the bytes are right, and a WRITE between
 * two READs is seen by the next one, prefetch or not. */
static void test_read_ahead(void)
{
	fs_ref d = testdir("readahead"), f;
	const uint32_t step = 2 * FS_CHUNK, size = 8 * FS_CHUNK;
	uint8_t *data = malloc(size), *b = malloc(step);
	fs *fa = front_elsewhere();
	uint32_t got;
	int eof;

	CU_ASSERT_FATAL(data && b && fa);
	for (uint32_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 31 + 7);
	CU_ASSERT_EQUAL_FATAL(mkf(&U1, &d, "f", 0644, &f), 0);
	CU_ASSERT_EQUAL(wr(&U1, &f, 0, data, size), 0);
	for (int round = 0; round < 2; round++) {
		for (uint32_t off = 0; off < size; off += step) {
			/* the second time round, change the range about to
			 * be read after its prefetch was asked for */
			if (round == 1 && off == 2 * step) {
				memset(data + off, 0x5a, 100);
				CU_ASSERT_EQUAL(
				        wr(&U1, &f, off, data + off, 100), 0);
			}
			/* round 0 as NFS READ does it, a prefetched buffer
			 * taken whole where it can be */
			memset(b, 0xee, step);
			if (round == 0) {
				int inplace;
				CU_ASSERT_EQUAL(rdata(fa, &f, off, step, b,
				                      &got, &eof, &inplace),
				                0);
				CU_ASSERT(!inplace);
			} else {
				CU_ASSERT_EQUAL(fs_read(fa, &U1, &f, off, step,
				                        b, &got, &eof, NULL),
				                0);
			}
			CU_ASSERT_EQUAL(got, step);
			CU_ASSERT(memcmp(b, data + off, step) == 0);
		}
	}
	fs_close(fa);
	free(data);
	free(b);
}

static void test_walk_statfs(void)
{
	fs_ref d = testdir("walk"), s, f;
	walk_ctx w = { 0 };
	fs_stat st;

	CU_ASSERT_EQUAL(mkd(&U1, &d, "sub", 0755, &s), 0);
	CU_ASSERT_EQUAL(mkf(&U1, &s, "file", 0644, &f), 0);
	CU_ASSERT_EQUAL(fs_walk(tf, "/walk/sub/file", walk_cb, &w), 0);
	CU_ASSERT_EQUAL(w.n, 4);
	CU_ASSERT_STRING_EQUAL(w.last, "file");
	CU_ASSERT(same_ref(&w.ref, &f));
	memset(&w, 0, sizeof(w));
	CU_ASSERT_EQUAL(fs_walk(tf, "/", walk_cb, &w), 0);
	CU_ASSERT_EQUAL(w.n, 1);
	CU_ASSERT_EQUAL(fs_walk(tf, "/walk/nope", walk_cb, &w), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(fs_walk(tf, "/walk/sub/file/x", walk_cb, &w),
	                MAGMA_ENOTDIR);
	CU_ASSERT_EQUAL(fs_walk(tf, "relative", walk_cb, &w), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(fs_statfs(tf, &st), 0);
	CU_ASSERT(st.tbytes > 0);
	CU_ASSERT(st.fbytes <= st.tbytes);
	CU_ASSERT(st.tfiles > 0);
}

static void test_corrupt(void)
{
	fs_ref d = testdir("corrupt"), f;
	uint8_t sub[FS_SUB_FLARE_LEN], junk[7] = { 1, 2, 3 };
	kv_op op = { KV_PUT, sub, sizeof(sub), junk, sizeof(junk), KV_VER_ANY };
	kv_batch b;
	fs_attr a;

	CU_ASSERT_EQUAL(mkf(&U1, &d, "f", 0644, &f), 0);
	fs_sub_flare(f.id, sub);
	memcpy(b.key, f.home, KV_KEY_LEN);
	b.ops = &op;
	b.nops = 1;
	CU_ASSERT_EQUAL(kv_apply(store_kv(ts), &b, 1, KV_DURABLE), 0);
	CU_ASSERT_EQUAL(fs_getattr(tf, &f, &a), MAGMA_EIO);
	CU_ASSERT_EQUAL(lk(&U1, &d, "f", NULL, NULL), MAGMA_EIO);
	/* decoders refuse short and long values */
	fs_rec r;
	fs_bind bd;
	CU_ASSERT_EQUAL(fs_rec_decode(NULL, 0, &r), MAGMA_EIO);
	CU_ASSERT_EQUAL(fs_bind_decode(junk, 1, &bd), MAGMA_EIO);
	uint8_t *val;
	size_t len;
	memset(&bd, 0, sizeof(bd));
	bd.type = FS_REG;
	CU_ASSERT_EQUAL(fs_bind_encode(&bd, &val, &len), 0);
	CU_ASSERT_EQUAL(fs_bind_decode(val, len, &bd), 0);
	CU_ASSERT_EQUAL(fs_bind_decode(val, len - 1, &bd), MAGMA_EIO);
	free(val);
}

static void test_persistence(void)
{
	fs_ref d = testdir("persist"), f, r;
	uint8_t v1[8], v2[8], buf[16];
	uint32_t got;
	int eof;

	CU_ASSERT_EQUAL(mkf(&U1, &d, "f", 0644, &f), 0);
	CU_ASSERT_EQUAL(wr(&U1, &f, 0, "survives", 8), 0);
	CU_ASSERT_EQUAL(fs_rename(tf, &U1, &d, "f", 1, &d, "g", 1, NULL, NULL),
	                0);
	fs_attr before = ga(&f);
	fs_write_verifier(tf, v1);
	fs_close_all();
	CU_ASSERT_EQUAL_FATAL(fs_open_all(), 0);
	fs_write_verifier(tf, v2);
	CU_ASSERT(memcmp(v1, v2, 8) != 0);
	fs_attr after = ga(&f);
	CU_ASSERT_EQUAL(after.fileid, before.fileid);
	CU_ASSERT_EQUAL(after.mtime.nsec, before.mtime.nsec);
	CU_ASSERT_EQUAL(rd(&U1, &f, 0, 16, buf, &got, &eof), 0);
	CU_ASSERT_EQUAL(got, 8);
	CU_ASSERT_EQUAL(memcmp(buf, "survives", 8), 0);
	fs_ref root = root_ref();
	CU_ASSERT_EQUAL(lk(&U1, &root, "persist", &r, NULL), 0);
	CU_ASSERT(same_ref(&r, &d));
	CU_ASSERT_EQUAL(lk(&U1, &d, "g", &r, NULL), 0);
	CU_ASSERT(same_ref(&r, &f));
}

int unit_suite_fs(void)
{
	CU_pSuite s = CU_add_suite("fs", suite_init, suite_clean);
	if (!s)
		return CU_get_error();
	if (!CU_add_test(s, "root", test_root) ||
	    !CU_add_test(s, "create and lookup", test_create_lookup) ||
	    !CU_add_test(s, "exclusive create", test_exclusive) ||
	    !CU_add_test(s, "mkdir and rmdir", test_mkdir_rmdir) ||
	    !CU_add_test(s, "setgid directory", test_setgid_dir) ||
	    !CU_add_test(s, "symlink", test_symlink) ||
	    !CU_add_test(s, "mknod", test_mknod) ||
	    !CU_add_test(s, "permission matrix", test_perm_matrix) ||
	    !CU_add_test(s, "sticky directory", test_sticky) ||
	    !CU_add_test(s, "setattr", test_setattr) ||
	    !CU_add_test(s, "rename matrix", test_rename_matrix) ||
	    !CU_add_test(s, "hard links", test_link) ||
	    !CU_add_test(s, "sparse files", test_sparse) ||
	    !CU_add_test(s, "read-modify-write, big writes",
	                 test_rmw_and_big_writes) ||
	    !CU_add_test(s, "truncate", test_truncate) ||
	    !CU_add_test(s, "readdir cookies", test_readdir) ||
	    !CU_add_test(s, "readdir with concurrent deletes",
	                 test_readdir_concurrent_deletes) ||
	    !CU_add_test(s, "concurrent writes", test_concurrent_writes) ||
	    !CU_add_test(s, "two front ends, split batches",
	                 test_split_batches) ||
	    !CU_add_test(s, "chunks read: read_many and the loop",
	                 test_chunks_read) ||
	    !CU_add_test(s, "read-ahead", test_read_ahead) ||
	    !CU_add_test(s, "walk and statfs", test_walk_statfs) ||
	    !CU_add_test(s, "corrupt records", test_corrupt) ||
	    !CU_add_test(s, "persistence", test_persistence))
		return CU_get_error();
	return CUE_SUCCESS;
}
