/* test_nfs3.c - unit tests of the NFSv3 helpers (server/nfs3.h): the
 * error table, attribute conversions, name rules, handles, and the
 * bounds of the XDR spec (rpc/nfs3_prot.x). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rpc/rpc.h>

#include "fh.h"
#include "merr.h"
#include "nfs3.h"
#include "unit.h"

static void test_err_table(void)
{
	CU_ASSERT_EQUAL(nfs3_stat(0), NFS3_OK);
	/* Every code has a mapping, and no error reads as success. */
	for (int e = -1; e > MAGMA_E_LAST; e--)
		CU_ASSERT_NOT_EQUAL(nfs3_stat(e), NFS3_OK);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_ENOENT), NFS3ERR_NOENT);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_EPERM), NFS3ERR_PERM);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_EACCES), NFS3ERR_ACCES);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_EEXIST), NFS3ERR_EXIST);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_ENOTDIR), NFS3ERR_NOTDIR);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_EISDIR), NFS3ERR_ISDIR);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_EINVAL), NFS3ERR_INVAL);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_ENAMETOOLONG), NFS3ERR_NAMETOOLONG);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_ENOTEMPTY), NFS3ERR_NOTEMPTY);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_ESTALE), NFS3ERR_STALE);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_EBADHANDLE), NFS3ERR_BADHANDLE);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_ENOTSYNC), NFS3ERR_NOT_SYNC);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_EBADCOOKIE), NFS3ERR_BAD_COOKIE);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_ETOOSMALL), NFS3ERR_TOOSMALL);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_EBADTYPE), NFS3ERR_BADTYPE);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_EUNAVAIL), NFS3ERR_IO);
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_EJUKEBOX), NFS3ERR_JUKEBOX);
	/* Out of range either way. */
	CU_ASSERT_EQUAL(nfs3_stat(MAGMA_E_LAST), NFS3ERR_SERVERFAULT);
	CU_ASSERT_EQUAL(nfs3_stat(-1000), NFS3ERR_SERVERFAULT);
	CU_ASSERT_EQUAL(nfs3_stat(5), NFS3ERR_SERVERFAULT);
}

static void test_mountstat(void)
{
	CU_ASSERT_EQUAL(nfs3_mountstat(0), MNT3_OK);
	CU_ASSERT_EQUAL(nfs3_mountstat(MAGMA_ENOENT), MNT3ERR_NOENT);
	CU_ASSERT_EQUAL(nfs3_mountstat(MAGMA_EACCES), MNT3ERR_ACCES);
	CU_ASSERT_EQUAL(nfs3_mountstat(MAGMA_ENOTDIR), MNT3ERR_NOTDIR);
	for (int e = -1; e >= MAGMA_E_LAST - 1; e--) {
		mountstat3 m = nfs3_mountstat(e);

		CU_ASSERT(m == MNT3ERR_PERM || m == MNT3ERR_NOENT ||
		          m == MNT3ERR_IO || m == MNT3ERR_ACCES ||
		          m == MNT3ERR_NOTDIR || m == MNT3ERR_INVAL ||
		          m == MNT3ERR_NAMETOOLONG || m == MNT3ERR_NOTSUPP ||
		          m == MNT3ERR_SERVERFAULT);
	}
}

static void test_stat_name(void)
{
	CU_ASSERT_STRING_EQUAL(nfs3_stat_name(NFS3ERR_NOENT), "NFS3ERR_NOENT");
	CU_ASSERT_STRING_EQUAL(nfs3_stat_name(NFS3_OK), "NFS3_OK");
	CU_ASSERT_PTR_NOT_NULL(nfs3_stat_name((nfsstat3)12345));
}

static void sample_attr(fs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->type = FS_REG;
	a->mode = 0100644 | 04000;
	a->nlink = 2;
	a->uid = 1000;
	a->gid = 100;
	a->size = 5000000000ull;
	a->used = 65536;
	a->rdev_major = 8;
	a->rdev_minor = 1;
	a->fileid = 0x123456789abcdefull;
	a->atime.sec = 1700000000;
	a->atime.nsec = 5;
	a->mtime.sec = -5; /* before 1970: clamped */
	a->mtime.nsec = 7;
	a->ctime.sec = (int64_t)UINT32_MAX + 10; /* after 2106: clamped */
	a->ctime.nsec = 999999999;
}

static void test_fattr(void)
{
	fs_attr a;
	fattr3 f;

	sample_attr(&a);
	nfs3_fattr(&a, &f);
	CU_ASSERT_EQUAL(f.type, NF3REG);
	CU_ASSERT_EQUAL(f.mode, 04644);
	CU_ASSERT_EQUAL(f.nlink, 2);
	CU_ASSERT_EQUAL(f.uid, 1000);
	CU_ASSERT_EQUAL(f.gid, 100);
	CU_ASSERT_EQUAL(f.size, 5000000000ull);
	CU_ASSERT_EQUAL(f.used, 65536);
	CU_ASSERT_EQUAL(f.rdev.specdata1, 8);
	CU_ASSERT_EQUAL(f.rdev.specdata2, 1);
	CU_ASSERT_EQUAL(f.fsid, NFS3_FSID);
	CU_ASSERT_EQUAL(f.fileid, 0x123456789abcdefull);
	CU_ASSERT_EQUAL(f.atime.seconds, 1700000000u);
	CU_ASSERT_EQUAL(f.atime.nseconds, 5);
	CU_ASSERT_EQUAL(f.mtime.seconds, 0);
	CU_ASSERT_EQUAL(f.ctime.seconds, UINT32_MAX);
	CU_ASSERT_EQUAL(f.ctime.nseconds, 999999999u);
}

static void test_post_op_and_wcc(void)
{
	fs_attr a;
	fs_wcc w;
	post_op_attr p;
	wcc_data d;

	sample_attr(&a);
	nfs3_post_op_attr(NULL, &p);
	CU_ASSERT_EQUAL(p.attributes_follow, FALSE);
	nfs3_post_op_attr(&a, &p);
	CU_ASSERT_EQUAL(p.attributes_follow, TRUE);
	CU_ASSERT_EQUAL(p.post_op_attr_u.attributes.nlink, 2);

	memset(&w, 0, sizeof(w));
	nfs3_wcc(&w, &d);
	CU_ASSERT_EQUAL(d.before.attributes_follow, FALSE);
	CU_ASSERT_EQUAL(d.after.attributes_follow, FALSE);
	w.pre_valid = 1;
	w.pre_size = 42;
	w.pre_mtime.sec = 10;
	w.pre_ctime.sec = 11;
	w.pre_ctime.nsec = 12;
	w.post_valid = 1;
	w.post = a;
	nfs3_wcc(&w, &d);
	CU_ASSERT_EQUAL(d.before.attributes_follow, TRUE);
	CU_ASSERT_EQUAL(d.before.pre_op_attr_u.attributes.size, 42);
	CU_ASSERT_EQUAL(d.before.pre_op_attr_u.attributes.mtime.seconds, 10);
	CU_ASSERT_EQUAL(d.before.pre_op_attr_u.attributes.ctime.seconds, 11);
	CU_ASSERT_EQUAL(d.before.pre_op_attr_u.attributes.ctime.nseconds, 12);
	CU_ASSERT_EQUAL(d.after.attributes_follow, TRUE);
	CU_ASSERT_EQUAL(d.after.post_op_attr_u.attributes.size, 5000000000ull);
}

static void test_sattr(void)
{
	sattr3 in;
	fs_sattr out;

	memset(&in, 0, sizeof(in));
	memset(&out, 0x55, sizeof(out));
	CU_ASSERT_EQUAL(nfs3_sattr(&in, &out), 0);
	CU_ASSERT_FALSE(out.set_mode || out.set_uid || out.set_gid ||
	                out.set_size);
	CU_ASSERT_EQUAL(out.set_atime, FS_TIME_DONT);
	CU_ASSERT_EQUAL(out.set_mtime, FS_TIME_DONT);

	in.mode.set_it = TRUE;
	in.mode.set_mode3_u.mode = 0170755; /* type bits are dropped */
	in.uid.set_it = TRUE;
	in.uid.set_uid3_u.uid = 7;
	in.gid.set_it = TRUE;
	in.gid.set_gid3_u.gid = 8;
	in.size.set_it = TRUE;
	in.size.set_size3_u.size = 1ull << 40;
	in.atime.set_it = SET_TO_SERVER_TIME;
	in.mtime.set_it = SET_TO_CLIENT_TIME;
	in.mtime.set_mtime_u.mtime.seconds = 4000000000u;
	in.mtime.set_mtime_u.mtime.nseconds = 9;
	CU_ASSERT_EQUAL(nfs3_sattr(&in, &out), 0);
	CU_ASSERT(out.set_mode && out.mode == 0755);
	CU_ASSERT(out.set_uid && out.uid == 7);
	CU_ASSERT(out.set_gid && out.gid == 8);
	CU_ASSERT(out.set_size && out.size == 1ull << 40);
	CU_ASSERT_EQUAL(out.set_atime, FS_TIME_SERVER);
	CU_ASSERT_EQUAL(out.set_mtime, FS_TIME_CLIENT);
	CU_ASSERT_EQUAL(out.mtime.sec, 4000000000ll); /* unsigned on wire */
	CU_ASSERT_EQUAL(out.mtime.nsec, 9);

	in.mtime.set_mtime_u.mtime.nseconds = 1000000000u;
	CU_ASSERT_EQUAL(nfs3_sattr(&in, &out), MAGMA_EINVAL);
	in.mtime.set_mtime_u.mtime.nseconds = 0;
	in.atime.set_it = (time_how)3;
	CU_ASSERT_EQUAL(nfs3_sattr(&in, &out), MAGMA_EINVAL);
}

static void test_names(void)
{
	char big[FS_NAME_MAX + 2];
	int dots = -1;

	CU_ASSERT_EQUAL(nfs3_name_check("a", 1, &dots), 0);
	CU_ASSERT_EQUAL(dots, NFS3_NAME_PLAIN);
	CU_ASSERT_EQUAL(nfs3_name_check(".", 1, &dots), 0);
	CU_ASSERT_EQUAL(dots, NFS3_NAME_DOT);
	CU_ASSERT_EQUAL(nfs3_name_check("..", 2, &dots), 0);
	CU_ASSERT_EQUAL(dots, NFS3_NAME_DOTDOT);
	CU_ASSERT_EQUAL(nfs3_name_check("...", 3, &dots), 0);
	CU_ASSERT_EQUAL(dots, NFS3_NAME_PLAIN);
	/* ".x" is not "..": length matters, not the NUL. */
	CU_ASSERT_EQUAL(nfs3_name_check(".x", 2, &dots), 0);
	CU_ASSERT_EQUAL(dots, NFS3_NAME_PLAIN);
	CU_ASSERT_EQUAL(nfs3_name_check("", 0, &dots), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(nfs3_name_check("/", 1, &dots), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(nfs3_name_check("a/b", 3, &dots), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(nfs3_name_check("a\0b", 3, &dots), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(nfs3_name_check(".\0", 2, &dots), MAGMA_EINVAL);
	memset(big, 'x', sizeof(big));
	CU_ASSERT_EQUAL(nfs3_name_check(big, FS_NAME_MAX, &dots), 0);
	CU_ASSERT_EQUAL(nfs3_name_check(big, FS_NAME_MAX + 1, &dots),
	                MAGMA_ENAMETOOLONG);
	/* Too long wins over '/': the client learns the real limit. */
	big[3] = '/';
	CU_ASSERT_EQUAL(nfs3_name_check(big, FS_NAME_MAX + 1, &dots),
	                MAGMA_ENAMETOOLONG);
}

static void test_handles(void)
{
	magma_keys k;
	rpc_req req;
	fs_ref ref, back;
	nfs_fh3 fh;
	uint8_t other[FH_LEN];

	memset(&k, 0, sizeof(k));
	memset(k.handle, 0x42, sizeof(k.handle));
	k.have_content = 1;
	memset(&req, 0, sizeof(req));
	req.keys = &k;
	memset(ref.home, 0xa5, sizeof(ref.home));
	memset(ref.id, 0x3c, sizeof(ref.id));

	memset(&fh, 0, sizeof(fh));
	CU_ASSERT_EQUAL_FATAL(nfs3_fh_set(&req, &ref, &fh), 0);
	CU_ASSERT_EQUAL(fh.data.data_len, FH_LEN);
	CU_ASSERT(fh.data.data_len <= NFS3_FHSIZE);
	CU_ASSERT_EQUAL(nfs3_fh_get(&req, &fh, &back), 0);
	CU_ASSERT_EQUAL(memcmp(&ref, &back, sizeof(ref)), 0);

	fh.data.data_val[30] ^= 1; /* corrupt */
	CU_ASSERT_EQUAL(nfs3_fh_get(&req, &fh, &back), MAGMA_EBADHANDLE);
	fh.data.data_val[30] ^= 1;
	fh.data.data_len = FH_LEN - 1; /* truncated */
	CU_ASSERT_EQUAL(nfs3_fh_get(&req, &fh, &back), MAGMA_EBADHANDLE);
	fh.data.data_len = 0;
	CU_ASSERT_EQUAL(nfs3_fh_get(&req, &fh, &back), MAGMA_EBADHANDLE);
	fh.data.data_len = FH_LEN;

	/* Authentic, but of an export we do not have. */
	CU_ASSERT_EQUAL_FATAL(fh_encode(&k, 2, &ref, other), 0);
	{
		nfs_fh3 o = { .data = { FH_LEN, (char *)other } };

		CU_ASSERT_EQUAL(nfs3_fh_get(&req, &o, &back), MAGMA_ESTALE);
	}
	/* Another network's key. */
	k.handle[0] ^= 1;
	CU_ASSERT_EQUAL(nfs3_fh_get(&req, &fh, &back), MAGMA_EBADHANDLE);
	xdr_free((xdrproc_t)(void (*)(void))xdr_nfs_fh3, (char *)&fh);

	{
		post_op_fh3 p;

		nfs3_post_op_fh(&req, &ref, &p);
		CU_ASSERT_EQUAL(p.handle_follows, TRUE);
		xdr_free((xdrproc_t)(void (*)(void))xdr_post_op_fh3,
		         (char *)&p);
		k.have_content = 0; /* cannot seal: no handle follows */
		nfs3_post_op_fh(&req, &ref, &p);
		CU_ASSERT_EQUAL(p.handle_follows, FALSE);
	}
}

/* Encode a diropargs3 by hand: handle, then a name of len bytes. */
static size_t put_dirop(char *buf, const char *name, uint32_t len)
{
	XDR x;
	uint32_t zero = 0;
	size_t pos;

	xdrmem_create(&x, buf, 16384, XDR_ENCODE);
	CU_ASSERT(xdr_u_int(&x, &zero)); /* empty handle */
	CU_ASSERT(xdr_u_int(&x, &len));
	CU_ASSERT(xdr_opaque(&x, (char *)name, len));
	pos = xdr_getpos(&x);
	xdr_destroy(&x);
	return pos;
}

static void test_xdr_bounds(void)
{
	static char buf[16384], name[8192];
	diropargs3 d;
	XDR x;
	size_t n;

	/* A name with a NUL inside and over 255 bytes still decodes, with
	 * its length, so that handlers can answer INVAL/NAMETOOLONG. */
	memset(name, 'n', sizeof(name));
	name[3] = '\0';
	n = put_dirop(buf, name, 300);
	memset(&d, 0, sizeof(d));
	xdrmem_create(&x, buf, (u_int)n, XDR_DECODE);
	CU_ASSERT_FATAL(xdr_diropargs3(&x, &d));
	CU_ASSERT_EQUAL(d.name.filename3_len, 300);
	CU_ASSERT_EQUAL(memcmp(d.name.filename3_val, name, 300), 0);
	xdr_destroy(&x);
	xdr_free((xdrproc_t)(void (*)(void))xdr_diropargs3, (char *)&d);

	/* Beyond the decoding bound: refused (GARBAGE_ARGS). */
	n = put_dirop(buf, name, NFS3_MAXNAMEDECODE + 1);
	memset(&d, 0, sizeof(d));
	xdrmem_create(&x, buf, (u_int)n, XDR_DECODE);
	CU_ASSERT_FALSE(xdr_diropargs3(&x, &d));
	xdr_destroy(&x);
	xdr_free((xdrproc_t)(void (*)(void))xdr_diropargs3, (char *)&d);

	/* A handle over 64 bytes is refused. */
	{
		uint32_t len = NFS3_FHSIZE + 4;
		nfs_fh3 fh;

		memset(&fh, 0, sizeof(fh));
		xdrmem_create(&x, buf, sizeof(buf), XDR_ENCODE);
		CU_ASSERT(xdr_u_int(&x, &len));
		xdr_destroy(&x);
		xdrmem_create(&x, buf, 4 + len, XDR_DECODE);
		CU_ASSERT_FALSE(xdr_nfs_fh3(&x, &fh));
		xdr_destroy(&x);
		xdr_free((xdrproc_t)(void (*)(void))xdr_nfs_fh3, (char *)&fh);
	}
}

int unit_suite_nfs3(void)
{
	CU_pSuite s = CU_add_suite("nfs3", NULL, NULL);

	if (s == NULL || !CU_add_test(s, "error table", test_err_table) ||
	    !CU_add_test(s, "mountstat", test_mountstat) ||
	    !CU_add_test(s, "status names", test_stat_name) ||
	    !CU_add_test(s, "fattr3", test_fattr) ||
	    !CU_add_test(s, "post_op_attr and wcc", test_post_op_and_wcc) ||
	    !CU_add_test(s, "sattr3", test_sattr) ||
	    !CU_add_test(s, "names", test_names) ||
	    !CU_add_test(s, "handles", test_handles) ||
	    !CU_add_test(s, "xdr bounds", test_xdr_bounds))
		return CU_get_error();
	return CUE_SUCCESS;
}
