/* nfsit_procs.c - `nfsit procs`: every MOUNTv3 and NFSv3 procedure called
 * directly, with its status, post-op attributes and wcc data checked, and
 * the error cases of RFC 1813 that a client relies on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfsit.h"

static nit_conn *C;
static nit_fh root, work;
static fattr3 root_attr;
static uint32_t rtmax;

#define U1 1000
#define U2 1001

static void as(uint32_t uid, uint32_t gid)
{
	nit_set_cred(C, uid, gid, 0, NULL);
}

static int wcc_full(const wcc_data *w)
{
	return w->before.attributes_follow && w->after.attributes_follow;
}

static void check_wcc(const wcc_data *w, const char *name)
{
	CHECK(wcc_full(w), name, "pre_op_attr %s, post_op_attr %s",
	      w->before.attributes_follow ? "present" : "MISSING",
	      w->after.attributes_follow ? "present" : "MISSING");
}

static const fattr3 *post(const wcc_data *w)
{
	return w->after.attributes_follow ? &w->after.post_op_attr_u.attributes
	                                  : NULL;
}

static int tcmp(const nfstime3 *a, const nfstime3 *b)
{
	if (a->seconds != b->seconds)
		return a->seconds < b->seconds ? -1 : 1;
	if (a->nseconds != b->nseconds)
		return a->nseconds < b->nseconds ? -1 : 1;
	return 0;
}

static char *name_of(size_t len, char ch)
{
	char *s = malloc(len + 1);
	memset(s, ch, len);
	s[len] = 0;
	return s;
}

/* ---------------------------------------------------------------- MOUNT */
static int t_mount(void)
{
	nit_fh fh, fh2;
	mountlist ml = NULL;
	exports ex = NULL;
	int st, found = 0;
	exportnode *e;

	st = nit_call0(C, rpc_mount3_null_async, NULL, NULL, 0);
	CHECK(st == 0, "MOUNT NULL", "%s", C->err);

	st = nit_mnt(C, "/", &root);
	if (!CHECK(st == MNT3_OK, "MOUNT MNT / -> MNT3_OK", "got %d (%s)", st,
	           st < 0 ? C->err : "mountstat3"))
		return -1;
	CHECK(root.len > 0 && root.len <= 64, "MNT handle length 1..64",
	      "length %u", root.len);
	st = nit_mnt(C, "/", &fh);
	CHECK(st == MNT3_OK && nit_fh_eq(&fh, &root),
	      "MNT twice gives the same root handle", "st %d", st);
	st = nit_mnt(C, "/no/such/export", &fh2);
	CHECK(st > 0, "MNT of a non-exported path fails",
	      "got %d (want NOENT/ACCES)", st);

	st = nit_call0(C, rpc_mount3_dump_async, (zdrproc_t)zdr_mountlist, &ml,
	               sizeof ml);
	CHECK(st == 0, "MOUNT DUMP", "%s", C->err);
	{
		mountbody *m;
		int listed = 0;
		for (m = st == 0 ? ml : NULL; m; m = m->ml_next)
			if (m->ml_directory && !strcmp(m->ml_directory, "/"))
				listed = 1;
		CHECK(listed, "DUMP lists our mount of \"/\"", "not listed");
	}
	st = nit_call0(C, rpc_mount3_export_async, (zdrproc_t)zdr_exports, &ex,
	               sizeof ex);
	CHECK(st == 0, "MOUNT EXPORT", "%s", C->err);
	for (e = ex; st == 0 && e; e = e->ex_next)
		if (e->ex_dir && !strcmp(e->ex_dir, "/"))
			found = 1;
	CHECK(found, "EXPORT lists \"/\"", "not listed");

	st = nit_umnt(C, "/");
	CHECK(st == 0, "MOUNT UMNT /", "%s", C->err);
	st = nit_call0(C, rpc_mount3_umntall_async, NULL, NULL, 0);
	CHECK(st == 0, "MOUNT UMNTALL", "%s", C->err);
	/* Handles do not depend on the mount list. */
	st = nit_getattr(C, &root, &root_attr);
	nit_check_st(st, NFS3_OK, "GETATTR root after UMNTALL");
	return 0;
}

/* ----------------------------------------------------- basic info procs */
static void t_info(void)
{
	FSINFO3args fi = { .fsroot = nit_fh3(&root) };
	FSINFO3res fr;
	FSSTAT3args si = { .fsroot = nit_fh3(&root) };
	FSSTAT3res sr;
	PATHCONF3args pi = { .object = nit_fh3(&root) };
	PATHCONF3res pr;
	int st;

	st = nit_call0(C, rpc_nfs3_null_async, NULL, NULL, 0);
	CHECK(st == 0, "NFS NULL", "%s", C->err);

	CHECK(root_attr.type == NF3DIR, "root is a directory", "type %d",
	      root_attr.type);
	CHECK(root_attr.nlink >= 2, "root nlink >= 2", "nlink %u",
	      root_attr.nlink);

	st = NIT3(C, fsinfo, FSINFO, &fi, &fr) < 0 ? -1 : (int)fr.status;
	if (nit_check_st(st, NFS3_OK, "FSINFO")) {
		FSINFO3resok *o = &fr.FSINFO3res_u.resok;
		rtmax = o->rtmax;
		CHECK(o->rtmax >= (1u << 20), "FSINFO rtmax >= 1 MiB",
		      "rtmax %u", o->rtmax);
		CHECK(o->wtmax >= (1u << 20), "FSINFO wtmax >= 1 MiB",
		      "wtmax %u", o->wtmax);
		CHECK(o->rtpref > 0 && o->rtpref <= o->rtmax && o->wtpref > 0 &&
		              o->wtpref <= o->wtmax && o->dtpref > 0,
		      "FSINFO preferred sizes sane",
		      "rtpref %u wtpref %u "
		      "dtpref %u",
		      o->rtpref, o->wtpref, o->dtpref);
		CHECK(o->maxfilesize >= (8ULL << 30),
		      "FSINFO maxfilesize "
		      ">= 8 GiB",
		      "%llu", (unsigned long long)o->maxfilesize);
		CHECK((o->properties &
		       (FSF3_LINK | FSF3_SYMLINK | FSF3_CANSETTIME)) ==
		              (FSF3_LINK | FSF3_SYMLINK | FSF3_CANSETTIME),
		      "FSINFO properties LINK|SYMLINK|CANSETTIME",
		      "properties 0x%x", o->properties);
		CHECK(o->time_delta.seconds == 0 &&
		              o->time_delta.nseconds <= 1000,
		      "FSINFO time_delta <= 1 us", "%u.%09u",
		      o->time_delta.seconds, o->time_delta.nseconds);
		CHECK(o->obj_attributes.attributes_follow,
		      "FSINFO post-op attributes", "missing");
	}
	st = NIT3(C, fsstat, FSSTAT, &si, &sr) < 0 ? -1 : (int)sr.status;
	if (nit_check_st(st, NFS3_OK, "FSSTAT")) {
		FSSTAT3resok *o = &sr.FSSTAT3res_u.resok;
		CHECK(o->tbytes > 0 && o->tfiles > 0, "FSSTAT totals non-zero",
		      "tbytes %llu tfiles %llu", (unsigned long long)o->tbytes,
		      (unsigned long long)o->tfiles);
		CHECK(o->fbytes <= o->tbytes && o->abytes <= o->fbytes &&
		              o->ffiles <= o->tfiles && o->afiles <= o->ffiles,
		      "FSSTAT free <= total, avail <= free",
		      "t %llu f %llu a %llu / t %llu f %llu a %llu",
		      (unsigned long long)o->tbytes,
		      (unsigned long long)o->fbytes,
		      (unsigned long long)o->abytes,
		      (unsigned long long)o->tfiles,
		      (unsigned long long)o->ffiles,
		      (unsigned long long)o->afiles);
	}
	st = NIT3(C, pathconf, PATHCONF, &pi, &pr) < 0 ? -1 : (int)pr.status;
	if (nit_check_st(st, NFS3_OK, "PATHCONF")) {
		PATHCONF3resok *o = &pr.PATHCONF3res_u.resok;
		CHECK(o->name_max == 255, "PATHCONF name_max 255", "%u",
		      o->name_max);
		CHECK(o->no_trunc, "PATHCONF no_trunc", "false");
		CHECK(o->case_preserving && !o->case_insensitive,
		      "PATHCONF case preserving and sensitive", "cp %u ci %u",
		      o->case_preserving, o->case_insensitive);
		CHECK(o->linkmax >= 2, "PATHCONF linkmax >= 2", "%u",
		      o->linkmax);
	}
}

/* ---------------------------------------------------------- bad handles */
static void t_badhandle(void)
{
	nit_fh fh = root, empty = { 0 }, rnd;
	unsigned i;
	int st;

	fh.data[fh.len - 1] ^= 0x01;
	nit_check_st(nit_getattr(C, &fh, NULL), NFS3ERR_BADHANDLE,
	             "GETATTR with last byte flipped -> BADHANDLE");
	fh = root;
	fh.data[fh.len / 2] ^= 0x80;
	nit_check_st(nit_getattr(C, &fh, NULL), NFS3ERR_BADHANDLE,
	             "GETATTR with middle byte flipped -> BADHANDLE");
	fh = root;
	fh.len -= 1;
	nit_check_st(nit_getattr(C, &fh, NULL), NFS3ERR_BADHANDLE,
	             "GETATTR with truncated handle -> BADHANDLE");
	nit_check_st(nit_getattr(C, &empty, NULL), NFS3ERR_BADHANDLE,
	             "GETATTR with empty handle -> BADHANDLE");
	rnd.len = 64;
	for (i = 0; i < 64; i++)
		rnd.data[i] = (char)(i * 37 + 11);
	nit_check_st(nit_getattr(C, &rnd, NULL), NFS3ERR_BADHANDLE,
	             "GETATTR with 64 junk bytes -> BADHANDLE");
	fh = root;
	fh.data[0] ^= 0x7f; /* version byte */
	st = nit_lookup(C, &fh, "x", NULL, NULL);
	nit_check_st(st, NFS3ERR_BADHANDLE,
	             "LOOKUP in a handle of wrong version -> BADHANDLE");
}

/* ------------------------------------------------ names, lookup, create */
static void t_names(void)
{
	nit_fh fh, fh2, dot, dotdot, sub;
	fattr3 a, b, wa;
	char *n255 = name_of(255, 'n'), *n256 = name_of(256, 'm');
	int st;

	st = nit_getattr(C, &work, &wa);
	nit_check_st(nit_lookup(C, &work, ".", &dot, &a), NFS3_OK,
	             "LOOKUP \".\"");
	CHECK(a.fileid == wa.fileid, "LOOKUP \".\" is the directory itself",
	      "fileid %llu vs %llu", (unsigned long long)a.fileid,
	      (unsigned long long)wa.fileid);
	nit_check_st(nit_lookup(C, &work, "..", &dotdot, &a), NFS3_OK,
	             "LOOKUP \"..\"");
	CHECK(a.fileid == root_attr.fileid,
	      "LOOKUP \"..\" of a top dir is "
	      "the root",
	      "fileid %llu vs root %llu", (unsigned long long)a.fileid,
	      (unsigned long long)root_attr.fileid);
	nit_check_st(nit_lookup(C, &root, "..", &fh, &a), NFS3_OK,
	             "LOOKUP \"..\" of the root");
	CHECK(a.fileid == root_attr.fileid, "\"..\" of the root is the root",
	      "fileid %llu", (unsigned long long)a.fileid);

	st = nit_mkdir(C, &work, "sub", 0755, &sub, NULL);
	nit_check_st(st, NFS3_OK, "MKDIR sub");
	st = nit_lookup(C, &sub, "..", &fh, &a);
	CHECK(st == NFS3_OK && a.fileid == wa.fileid,
	      "LOOKUP \"..\" of a subdirectory is its parent",
	      "st %s fileid %llu want %llu", nit_stname(st),
	      (unsigned long long)a.fileid, (unsigned long long)wa.fileid);

	st = nit_lookup(C, &work, "nope", NULL, NULL);
	nit_check_st(st, NFS3ERR_NOENT, "LOOKUP missing name -> NOENT");
	st = nit_lookup(C, &work, "a/b", NULL, NULL);
	CHECK_ST_ANY(st, "LOOKUP name with '/' is refused", NFS3ERR_INVAL,
	             NFS3ERR_ACCES, NFS3ERR_NOENT);
	st = nit_lookup(C, &work, "sub/..", NULL, NULL);
	CHECK_ST_ANY(st, "LOOKUP \"sub/..\" is refused", NFS3ERR_INVAL,
	             NFS3ERR_ACCES, NFS3ERR_NOENT);
	st = nit_create(C, &work, "a/b", UNCHECKED, 0644, NULL, NULL, NULL);
	CHECK_ST_ANY(st, "CREATE name with '/' is refused", NFS3ERR_INVAL,
	             NFS3ERR_ACCES);
	st = nit_mkdir(C, &work, "x/y", 0755, NULL, NULL);
	CHECK_ST_ANY(st, "MKDIR name with '/' is refused", NFS3ERR_INVAL,
	             NFS3ERR_ACCES);
	st = nit_create(C, &work, "", UNCHECKED, 0644, NULL, NULL, NULL);
	CHECK_ST_ANY(st, "CREATE empty name is refused", NFS3ERR_INVAL,
	             NFS3ERR_ACCES, NFS3ERR_NOENT, NFS3ERR_EXIST);
	st = nit_lookup(C, &work, "", NULL, NULL);
	CHECK_ST_ANY(st, "LOOKUP empty name is refused or the dir",
	             NFS3ERR_INVAL, NFS3ERR_ACCES, NFS3ERR_NOENT, NFS3_OK);
	st = nit_lookup(C, &work, n256, NULL, NULL);
	nit_check_st(st, NFS3ERR_NAMETOOLONG,
	             "LOOKUP 256-byte name -> "
	             "NAMETOOLONG");
	st = nit_create(C, &work, n256, UNCHECKED, 0644, NULL, NULL, NULL);
	nit_check_st(st, NFS3ERR_NAMETOOLONG,
	             "CREATE 256-byte name -> "
	             "NAMETOOLONG");
	st = nit_mkdir(C, &work, n256, 0755, NULL, NULL);
	nit_check_st(st, NFS3ERR_NAMETOOLONG,
	             "MKDIR 256-byte name -> "
	             "NAMETOOLONG");
	st = nit_create(C, &work, n255, UNCHECKED, 0644, NULL, &fh, &a);
	nit_check_st(st, NFS3_OK, "CREATE 255-byte name");
	st = nit_lookup(C, &work, n255, &fh2, &b);
	CHECK(st == NFS3_OK && a.fileid == b.fileid,
	      "LOOKUP 255-byte name finds it", "st %s", nit_stname(st));
	nit_check_st(nit_remove(C, &work, n255), NFS3_OK,
	             "REMOVE 255-byte name");

	st = nit_create(C, &work, ".", UNCHECKED, 0644, NULL, NULL, NULL);
	CHECK_ST_ANY(st, "CREATE \".\" is refused", NFS3ERR_EXIST,
	             NFS3ERR_INVAL, NFS3ERR_ACCES, NFS3ERR_ISDIR);
	st = nit_mkdir(C, &work, "..", 0755, NULL, NULL);
	CHECK_ST_ANY(st, "MKDIR \"..\" is refused", NFS3ERR_EXIST,
	             NFS3ERR_INVAL, NFS3ERR_ACCES);
	st = nit_rmdir(C, &work, ".");
	CHECK_ST_ANY(st, "RMDIR \".\" is refused", NFS3ERR_INVAL, NFS3ERR_ACCES,
	             NFS3ERR_NOTEMPTY, NFS3ERR_EXIST, NFS3ERR_PERM);
	st = nit_rmdir(C, &sub, "..");
	CHECK_ST_ANY(st, "RMDIR \"..\" is refused", NFS3ERR_INVAL,
	             NFS3ERR_ACCES, NFS3ERR_NOTEMPTY, NFS3ERR_EXIST,
	             NFS3ERR_PERM);
	st = nit_remove(C, &work, ".");
	CHECK(st != NFS3_OK && st != -1, "REMOVE \".\" is refused", "got %s",
	      nit_stname(st));
	st = nit_getattr(C, &work, NULL);
	nit_check_st(st, NFS3_OK, "directory survives \".\"/\"..\" abuse");
	st = nit_rename(C, &work, ".", &work, "dotmoved");
	CHECK_ST_ANY(st, "RENAME \".\" is refused", NFS3ERR_INVAL,
	             NFS3ERR_ACCES, NFS3ERR_NOENT, NFS3ERR_ISDIR, NFS3ERR_EXIST,
	             NFS3ERR_NOTEMPTY, NFS3ERR_PERM);
	nit_check_st(nit_rmdir(C, &work, "sub"), NFS3_OK, "RMDIR sub");
	(void)dot;
	(void)dotdot;
	free(n255);
	free(n256);
}

static void t_create(void)
{
	CREATE3args a;
	CREATE3res r;
	nit_fh f1, f1b, ex, ex2;
	fattr3 at, at2;
	int st;

	memset(&a, 0, sizeof a);
	a.where.dir = nit_fh3(&work);
	a.where.name = "f1";
	a.how.mode = UNCHECKED;
	a.how.createhow3_u.obj_attributes.mode.set_it = 1;
	a.how.createhow3_u.obj_attributes.mode.set_mode3_u.mode = 0640;
	st = NIT3(C, create, CREATE, &a, &r) < 0 ? -1 : (int)r.status;
	if (nit_check_st(st, NFS3_OK, "CREATE UNCHECKED f1")) {
		CREATE3resok *o = &r.CREATE3res_u.resok;
		check_wcc(&o->dir_wcc, "CREATE dir wcc");
		CHECK(o->obj.handle_follows, "CREATE returns the handle",
		      "no handle");
		CHECK(o->obj_attributes.attributes_follow,
		      "CREATE returns attributes", "none");
		if (o->obj_attributes.attributes_follow) {
			fattr3 *x =
			        &o->obj_attributes.post_op_attr_u.attributes;
			CHECK(x->type == NF3REG && x->size == 0 &&
			              (x->mode & 07777) == 0640 &&
			              x->nlink == 1,
			      "CREATE attributes: REG, size 0, mode 0640, "
			      "nlink 1",
			      "type %d size %llu mode %o nlink %u", x->type,
			      (unsigned long long)x->size, x->mode, x->nlink);
			CHECK(x->fsid == root_attr.fsid,
			      "fsid equals the "
			      "root's",
			      "%llu vs %llu", (unsigned long long)x->fsid,
			      (unsigned long long)root_attr.fsid);
		}
		if (post(&o->dir_wcc)) {
			const wcc_attr *pre =
			        &o->dir_wcc.before.pre_op_attr_u.attributes;
			CHECK(tcmp(&post(&o->dir_wcc)->mtime, &pre->mtime) > 0,
			      "CREATE changes the directory mtime",
			      "pre %u.%09u post %u.%09u", pre->mtime.seconds,
			      pre->mtime.nseconds,
			      post(&o->dir_wcc)->mtime.seconds,
			      post(&o->dir_wcc)->mtime.nseconds);
		}
	}
	st = nit_lookup(C, &work, "f1", &f1, &at);
	nit_check_st(st, NFS3_OK, "LOOKUP f1");
	st = nit_create(C, &work, "f1", GUARDED, 0644, NULL, NULL, NULL);
	nit_check_st(st, NFS3ERR_EXIST, "CREATE GUARDED existing -> EXIST");
	st = nit_create(C, &work, "f1", UNCHECKED, 0644, NULL, &f1b, &at2);
	nit_check_st(st, NFS3_OK, "CREATE UNCHECKED existing -> OK");
	CHECK(at2.fileid == at.fileid,
	      "UNCHECKED create of an existing "
	      "name returns the same file",
	      "fileid %llu vs %llu", (unsigned long long)at2.fileid,
	      (unsigned long long)at.fileid);
	st = nit_lookup(C, &work, "f1", &f1b, NULL);
	CHECK(st == NFS3_OK && nit_fh_eq(&f1, &f1b),
	      "LOOKUP gives a stable "
	      "handle",
	      "handles differ");
	nit_write(C, &f1, 0, "data", 4, FILE_SYNC, NULL, NULL);
	a.how.createhow3_u.obj_attributes.size.set_it = 1;
	a.how.createhow3_u.obj_attributes.size.set_size3_u.size = 0;
	st = NIT3(C, create, CREATE, &a, &r) < 0 ? -1 : (int)r.status;
	nit_getattr(C, &f1, &at2);
	CHECK(st == NFS3_OK && at2.size == 0,
	      "CREATE UNCHECKED with size 0 "
	      "truncates an existing file",
	      "st %s size %llu", nit_stname(st), (unsigned long long)at2.size);
	st = nit_setsize(C, &work, 0);
	CHECK_ST_ANY(st, "SETATTR size on a directory -> ISDIR/INVAL",
	             NFS3ERR_ISDIR, NFS3ERR_INVAL);

	st = nit_create(C, &work, "ex", EXCLUSIVE, 0, "verfAAAA", &ex, &at);
	nit_check_st(st, NFS3_OK, "CREATE EXCLUSIVE");
	st = nit_create(C, &work, "ex", EXCLUSIVE, 0, "verfAAAA", &ex2, &at2);
	nit_check_st(st, NFS3_OK,
	             "CREATE EXCLUSIVE retry, same verifier "
	             "-> OK");
	CHECK(st == NFS3_OK && nit_fh_eq(&ex, &ex2) && at.fileid == at2.fileid,
	      "EXCLUSIVE retry returns the same handle", "handles differ");
	st = nit_create(C, &work, "ex", EXCLUSIVE, 0, "verfBBBB", NULL, NULL);
	nit_check_st(st, NFS3ERR_EXIST,
	             "CREATE EXCLUSIVE, other verifier "
	             "-> EXIST");
	st = nit_setmode(C, &ex, 0604);
	nit_check_st(st, NFS3_OK, "SETATTR mode after EXCLUSIVE create");
	st = nit_getattr(C, &ex, &at);
	CHECK(st == NFS3_OK && (at.mode & 07777) == 0604,
	      "mode after EXCLUSIVE create + SETATTR", "mode %o", at.mode);
	st = nit_create(C, &work, "ex", GUARDED, 0644, NULL, NULL, NULL);
	nit_check_st(st, NFS3ERR_EXIST,
	             "GUARDED over EXCLUSIVE-made file "
	             "-> EXIST");

	st = nit_create(C, &f1, "inside", UNCHECKED, 0644, NULL, NULL, NULL);
	nit_check_st(st, NFS3ERR_NOTDIR, "CREATE in a regular file -> NOTDIR");
	st = nit_lookup(C, &f1, "x", NULL, NULL);
	nit_check_st(st, NFS3ERR_NOTDIR, "LOOKUP in a regular file -> NOTDIR");
}

/* --------------------------------------------------------- read/write */
static void t_rw(void)
{
	WRITE3args wa;
	WRITE3res wr;
	READ3args ra;
	READ3res rr;
	COMMIT3args ca;
	COMMIT3res cr;
	nit_fh f, big;
	fattr3 at;
	char buf[8192], v1[8], v2[8], v3[8];
	char *blk;
	uint32_t got;
	int eof, st, cm, i, zero;

	st = nit_create(C, &work, "rw", GUARDED, 0644, NULL, &f, NULL);
	nit_check_st(st, NFS3_OK, "CREATE rw");

	memset(&wa, 0, sizeof wa);
	wa.file = nit_fh3(&f);
	wa.offset = 0;
	wa.count = 5;
	wa.stable = FILE_SYNC;
	wa.data.data_len = 5;
	wa.data.data_val = "hello";
	st = NIT3(C, write, WRITE, &wa, &wr) < 0 ? -1 : (int)wr.status;
	if (nit_check_st(st, NFS3_OK, "WRITE FILE_SYNC")) {
		WRITE3resok *o = &wr.WRITE3res_u.resok;
		CHECK(o->count == 5, "WRITE count", "%u", o->count);
		CHECK(o->committed == FILE_SYNC,
		      "WRITE FILE_SYNC committed "
		      "FILE_SYNC",
		      "committed %d", o->committed);
		check_wcc(&o->file_wcc, "WRITE wcc");
		if (wcc_full(&o->file_wcc))
			CHECK(o->file_wcc.before.pre_op_attr_u.attributes
			                              .size == 0 &&
			              post(&o->file_wcc)->size == 5,
			      "WRITE wcc sizes 0 -> 5", "%llu -> %llu",
			      (unsigned long long)o->file_wcc.before
			              .pre_op_attr_u.attributes.size,
			      (unsigned long long)post(&o->file_wcc)->size);
		memcpy(v1, o->verf, 8);
	}
	memset(&ra, 0, sizeof ra);
	ra.file = nit_fh3(&f);
	ra.offset = 0;
	ra.count = 100;
	st = NIT3(C, read, READ, &ra, &rr) < 0 ? -1 : (int)rr.status;
	if (nit_check_st(st, NFS3_OK, "READ")) {
		READ3resok *o = &rr.READ3res_u.resok;
		CHECK(o->count == 5 && o->data.data_len == 5 &&
		              !memcmp(o->data.data_val, "hello", 5),
		      "READ returns the data", "count %u len %u", o->count,
		      o->data.data_len);
		CHECK(o->eof, "READ to the end sets eof", "eof false");
		CHECK(o->file_attributes.attributes_follow &&
		              o->file_attributes.post_op_attr_u.attributes
		                              .size == 5,
		      "READ post-op attributes", "missing or wrong size");
	}
	st = nit_read(C, &f, 1000, 10, buf, &got, &eof);
	CHECK(st == NFS3_OK && got == 0 && eof, "READ past EOF: 0 bytes, eof",
	      "st %s got %u eof %d", nit_stname(st), got, eof);
	st = nit_read(C, &f, 1, 2, buf, &got, &eof);
	CHECK(st == NFS3_OK && got == 2 && !memcmp(buf, "el", 2) && !eof,
	      "READ middle: 2 bytes, no eof", "st %s got %u eof %d",
	      nit_stname(st), got, eof);
	st = nit_read(C, &work, 0, 10, buf, &got, &eof);
	nit_check_st(st, NFS3ERR_ISDIR, "READ on a directory -> ISDIR");
	st = nit_write(C, &work, 0, "x", 1, FILE_SYNC, NULL, NULL);
	CHECK_ST_ANY(st, "WRITE on a directory -> ISDIR/INVAL", NFS3ERR_ISDIR,
	             NFS3ERR_INVAL);

	/* UNSTABLE + COMMIT */
	st = nit_write(C, &f, 5, " world", 6, UNSTABLE, v2, &cm);
	nit_check_st(st, NFS3_OK, "WRITE UNSTABLE");
	st = nit_write(C, &f, 11, "!", 1, UNSTABLE, v3, &cm);
	CHECK(st == NFS3_OK && !memcmp(v2, v3, 8) && !memcmp(v1, v2, 8),
	      "write verifier constant within one server instance", "st %s",
	      nit_stname(st));
	memset(&ca, 0, sizeof ca);
	ca.file = nit_fh3(&f);
	st = NIT3(C, commit, COMMIT, &ca, &cr) < 0 ? -1 : (int)cr.status;
	if (nit_check_st(st, NFS3_OK, "COMMIT")) {
		CHECK(!memcmp(cr.COMMIT3res_u.resok.verf, v2, 8),
		      "COMMIT verifier equals the WRITE verifier", "differs");
		CHECK(cr.COMMIT3res_u.resok.file_wcc.after.attributes_follow,
		      "COMMIT post-op attributes", "missing");
	}
	st = nit_read(C, &f, 0, 100, buf, &got, &eof);
	CHECK(st == NFS3_OK && got == 12 && !memcmp(buf, "hello world!", 12),
	      "READ after UNSTABLE writes", "st %s got %u", nit_stname(st),
	      got);
	/* RFC 1813 lists no error for COMMIT on a directory (knfsd says
	 * ISDIR): only note what the server does. */
	st = nit_commit(C, &work, NULL);
	nit_note("COMMIT on a directory: %s", nit_stname(st));

	/* A larger write across chunk boundaries, and overwrite in place. */
	blk = malloc(1 << 20);
	st = nit_create(C, &work, "big", GUARDED, 0644, NULL, &big, NULL);
	nit_fill(blk, 1 << 20, 7, 0);
	st = nit_write(C, &big, 0, blk, 1 << 20, FILE_SYNC, NULL, NULL);
	nit_check_st(st, NFS3_OK, "WRITE 1 MiB in one call");
	nit_fill(buf, 20, 9, 0);
	st = nit_write(C, &big, 65530, buf, 20, FILE_SYNC, NULL, NULL);
	memcpy(blk + 65530, buf, 20);
	st = nit_read(C, &big, 65000, 2000, buf, &got, &eof);
	CHECK(st == NFS3_OK && got == 2000 && !memcmp(buf, blk + 65000, 2000),
	      "overwrite across a 64 KiB boundary reads back", "st %s got %u",
	      nit_stname(st), got);
	{
		READ3args r2 = { .file = nit_fh3(&big),
			         .offset = 0,
			         .count = 1 << 20 };
		READ3res rr2;
		st = NIT3(C, read, READ, &r2, &rr2) < 0 ? -1 : (int)rr2.status;
		CHECK(st == NFS3_OK &&
		              rr2.READ3res_u.resok.data.data_len ==
		                      (1u << 20) &&
		              !memcmp(rr2.READ3res_u.resok.data.data_val, blk,
		                      1 << 20),
		      "READ 1 MiB in one call", "st %s len %u", nit_stname(st),
		      st == NFS3_OK ? rr2.READ3res_u.resok.data.data_len : 0);
	}
	nit_pool_free();

	/* truncate: shrink then extend */
	st = nit_setsize(C, &big, 1000);
	nit_check_st(st, NFS3_OK, "SETATTR size shrink to 1000");
	nit_getattr(C, &big, &at);
	CHECK(at.size == 1000, "size after shrink", "%llu",
	      (unsigned long long)at.size);
	st = nit_setsize(C, &big, 300000);
	nit_check_st(st, NFS3_OK, "SETATTR size extend to 300000");
	nit_getattr(C, &big, &at);
	CHECK(at.size == 300000, "size after extend", "%llu",
	      (unsigned long long)at.size);
	zero = 1;
	for (i = 0; i < 300000; i += 8192) {
		uint32_t n = 300000 - i < 8192 ? 300000 - i : 8192, k;
		st = nit_read(C, &big, i, n, buf, &got, &eof);
		if (st != NFS3_OK || got != n) {
			zero = 0;
			break;
		}
		for (k = 0; k < n; k++) {
			if (i + k < 1000 ? buf[k] != blk[i + k] : buf[k] != 0) {
				zero = 0;
				break;
			}
		}
	}
	CHECK(zero, "after shrink+extend: old data kept, the rest is zeros",
	      "mismatch near offset %d", i);
	st = nit_setsize(C, &big, 0);
	nit_getattr(C, &big, &at);
	CHECK(st == NFS3_OK && at.size == 0, "truncate to 0", "size %llu",
	      (unsigned long long)at.size);
	free(blk);

	/* sparse file beyond 4 GiB */
	{
		uint64_t off = 5ULL << 30;
		st = nit_write(C, &big, off, "XYZ", 3, FILE_SYNC, NULL, NULL);
		nit_check_st(st, NFS3_OK, "WRITE at 5 GiB");
		nit_getattr(C, &big, &at);
		CHECK(at.size == off + 3, "sparse size 5 GiB + 3 (> 4 GiB)",
		      "size %llu", (unsigned long long)at.size);
		CHECK(at.used < (64ULL << 20),
		      "sparse file does not use its "
		      "size",
		      "used %llu", (unsigned long long)at.used);
		st = nit_read(C, &big, 4ULL << 30, 4096, buf, &got, &eof);
		zero = st == NFS3_OK && got == 4096;
		for (i = 0; zero && i < 4096; i++)
			zero = buf[i] == 0;
		CHECK(zero, "hole at 4 GiB reads as zeros", "st %s got %u",
		      nit_stname(st), got);
		{
			READ3args r3 = { .file = nit_fh3(&big),
				         .offset = 0,
				         .count = 0xffffffffu };
			READ3res rr3;
			st = NIT3(C, read, READ, &r3, &rr3) < 0
			             ? -1
			             : (int)rr3.status;
			CHECK(st == NFS3_OK &&
			              rr3.READ3res_u.resok.count <= rtmax &&
			              rr3.READ3res_u.resok.count ==
			                      rr3.READ3res_u.resok.data
			                              .data_len &&
			              rr3.READ3res_u.resok.count > 0,
			      "READ count 2^32-1 is capped at rtmax",
			      "st %s count %u rtmax %u", nit_stname(st),
			      st == NFS3_OK ? rr3.READ3res_u.resok.count : 0,
			      rtmax);
			nit_pool_free();
		}
		st = nit_read(C, &big, off - 2, 100, buf, &got, &eof);
		CHECK(st == NFS3_OK && got == 5 && !memcmp(buf, "\0\0XYZ", 5) &&
		              eof,
		      "data at 5 GiB reads back", "st %s got %u",
		      nit_stname(st), got);
	}
}

/* ------------------------------------------------------------- SETATTR */
static void t_setattr(void)
{
	SETATTR3args a;
	SETATTR3res r;
	nit_fh f;
	fattr3 at, at2;
	int st;

	st = nit_create(C, &work, "sa", GUARDED, 0644, NULL, &f, &at);
	nit_check_st(st, NFS3_OK, "CREATE sa");

	memset(&a, 0, sizeof a);
	a.object = nit_fh3(&f);
	a.new_attributes.mode.set_it = 1;
	a.new_attributes.mode.set_mode3_u.mode = 0600;
	st = NIT3(C, setattr, SETATTR, &a, &r) < 0 ? -1 : (int)r.status;
	if (nit_check_st(st, NFS3_OK, "SETATTR mode 0600")) {
		check_wcc(&r.SETATTR3res_u.resok.obj_wcc, "SETATTR wcc");
		CHECK(post(&r.SETATTR3res_u.resok.obj_wcc) &&
		              (post(&r.SETATTR3res_u.resok.obj_wcc)->mode &
		               07777) == 0600,
		      "SETATTR post-op mode", "wrong");
	}
	nit_getattr(C, &f, &at);
	CHECK((at.mode & 07777) == 0600, "GETATTR shows mode 0600", "%o",
	      at.mode);

	/* guard */
	a.guard.check = 1;
	a.guard.sattrguard3_u.obj_ctime = at.ctime;
	a.new_attributes.mode.set_mode3_u.mode = 0640;
	st = NIT3(C, setattr, SETATTR, &a, &r) < 0 ? -1 : (int)r.status;
	nit_check_st(st, NFS3_OK, "SETATTR with matching guard");
	a.guard.sattrguard3_u.obj_ctime.seconds = 12345;
	a.new_attributes.mode.set_mode3_u.mode = 0666;
	st = NIT3(C, setattr, SETATTR, &a, &r) < 0 ? -1 : (int)r.status;
	nit_check_st(st, NFS3ERR_NOT_SYNC,
	             "SETATTR guard mismatch -> NOT_SYNC");
	nit_getattr(C, &f, &at);
	CHECK((at.mode & 07777) == 0640,
	      "failed guarded SETATTR changed "
	      "nothing",
	      "mode %o", at.mode);

	/* nanosecond times */
	memset(&a, 0, sizeof a);
	a.object = nit_fh3(&f);
	a.new_attributes.atime.set_it = SET_TO_CLIENT_TIME;
	a.new_attributes.atime.set_atime_u.atime.seconds = 1000000000;
	a.new_attributes.atime.set_atime_u.atime.nseconds = 987654321;
	a.new_attributes.mtime.set_it = SET_TO_CLIENT_TIME;
	a.new_attributes.mtime.set_mtime_u.mtime.seconds = 1234567890;
	a.new_attributes.mtime.set_mtime_u.mtime.nseconds = 123456789;
	st = NIT3(C, setattr, SETATTR, &a, &r) < 0 ? -1 : (int)r.status;
	nit_check_st(st, NFS3_OK, "SETATTR atime/mtime to client time");
	nit_getattr(C, &f, &at);
	CHECK(at.mtime.seconds == 1234567890 && at.mtime.nseconds == 123456789,
	      "mtime keeps nanoseconds", "%u.%09u", at.mtime.seconds,
	      at.mtime.nseconds);
	CHECK(at.atime.seconds == 1000000000 && at.atime.nseconds == 987654321,
	      "atime keeps nanoseconds", "%u.%09u", at.atime.seconds,
	      at.atime.nseconds);
	CHECK(at.ctime.seconds > 1600000000, "ctime is the server's clock",
	      "ctime %u", at.ctime.seconds);
	memset(&a.new_attributes, 0, sizeof a.new_attributes);
	a.new_attributes.mtime.set_it = SET_TO_SERVER_TIME;
	st = NIT3(C, setattr, SETATTR, &a, &r) < 0 ? -1 : (int)r.status;
	nit_getattr(C, &f, &at2);
	CHECK(st == NFS3_OK && at2.mtime.seconds > 1600000000,
	      "SETATTR mtime SET_TO_SERVER_TIME", "st %s mtime %u",
	      nit_stname(st), at2.mtime.seconds);
	CHECK(tcmp(&at2.ctime, &at.ctime) >= 0, "ctime does not go back",
	      "%u.%09u < %u.%09u", at2.ctime.seconds, at2.ctime.nseconds,
	      at.ctime.seconds, at.ctime.nseconds);

	/* chown as root */
	memset(&a.new_attributes, 0, sizeof a.new_attributes);
	a.new_attributes.uid.set_it = 1;
	a.new_attributes.uid.set_uid3_u.uid = U1;
	a.new_attributes.gid.set_it = 1;
	a.new_attributes.gid.set_gid3_u.gid = U1;
	st = NIT3(C, setattr, SETATTR, &a, &r) < 0 ? -1 : (int)r.status;
	nit_getattr(C, &f, &at);
	CHECK(st == NFS3_OK && at.uid == U1 && at.gid == U1,
	      "root chowns a file", "st %s uid %u gid %u", nit_stname(st),
	      at.uid, at.gid);
}

/* --------------------------------------------------------- permissions */
static void t_perm(void)
{
	ACCESS3args aa;
	ACCESS3res ar;
	nit_fh pd, mine, shared, sticky, sa_fh, rofile;
	fattr3 at;
	char buf[64];
	uint32_t got, all = ACCESS3_READ | ACCESS3_LOOKUP | ACCESS3_MODIFY |
	                    ACCESS3_EXTEND | ACCESS3_DELETE | ACCESS3_EXECUTE;
	int st, eof;
	uint32_t g = U1;

	st = nit_mkdir(C, &work, "perm", 0777, &pd, &at);
	nit_check_st(st, NFS3_OK, "MKDIR perm 0777");
	CHECK((at.mode & 07777) == 0777,
	      "MKDIR applies the requested mode "
	      "(no server umask)",
	      "mode %o", at.mode);
	st = nit_create(C, &pd, "rootfile", GUARDED, 0644, NULL, &rofile, NULL);

	as(U1, U1);
	st = nit_create(C, &pd, "mine", GUARDED, 0600, NULL, &mine, &at);
	nit_check_st(st, NFS3_OK, "uid 1000 creates a file");
	CHECK(at.uid == U1 && at.gid == U1, "new file owned by the caller",
	      "uid %u gid %u", at.uid, at.gid);
	nit_write(C, &mine, 0, "secret", 6, FILE_SYNC, NULL, NULL);
	st = nit_create(C, &pd, "shared", GUARDED, 0640, NULL, &shared, NULL);

	memset(&aa, 0, sizeof aa);
	aa.object = nit_fh3(&mine);
	aa.access = all;
	st = NIT3(C, access, ACCESS, &aa, &ar) < 0 ? -1 : (int)ar.status;
	if (nit_check_st(st, NFS3_OK, "ACCESS as owner")) {
		uint32_t a = ar.ACCESS3res_u.resok.access;
		uint32_t want = ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND;
		CHECK((a & want) == want && !(a & ACCESS3_EXECUTE),
		      "ACCESS owner of 0600: read/modify/extend, no execute",
		      "granted 0x%x", a);
		CHECK(ar.ACCESS3res_u.resok.obj_attributes.attributes_follow,
		      "ACCESS post-op attributes", "missing");
	}
	aa.object = nit_fh3(&rofile);
	st = NIT3(C, access, ACCESS, &aa, &ar) < 0 ? -1 : (int)ar.status;
	CHECK(st == NFS3_OK && (ar.ACCESS3res_u.resok.access & ACCESS3_READ) &&
	              !(ar.ACCESS3res_u.resok.access &
	                (ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_EXECUTE)),
	      "ACCESS other on 0644: read only", "st %s granted 0x%x",
	      nit_stname(st), st == NFS3_OK ? ar.ACCESS3res_u.resok.access : 0);
	aa.object = nit_fh3(&root);
	st = NIT3(C, access, ACCESS, &aa, &ar) < 0 ? -1 : (int)ar.status;
	CHECK(st == NFS3_OK &&
	              (ar.ACCESS3res_u.resok.access &
	               (ACCESS3_READ | ACCESS3_LOOKUP)) ==
	                      (ACCESS3_READ | ACCESS3_LOOKUP) &&
	              !(ar.ACCESS3res_u.resok.access &
	                (ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE)),
	      "ACCESS other on root 0755 dir: read/lookup only",
	      "st %s granted 0x%x", nit_stname(st),
	      st == NFS3_OK ? ar.ACCESS3res_u.resok.access : 0);
	st = nit_write(C, &rofile, 0, "x", 1, FILE_SYNC, NULL, NULL);
	nit_check_st(st, NFS3ERR_ACCES,
	             "uid 1000 WRITE to root's 0644 file "
	             "-> ACCES");
	st = nit_setmode(C, &rofile, 0666);
	nit_check_st(st, NFS3ERR_PERM, "uid 1000 chmod of root's file -> PERM");

	as(U2, U2);
	st = nit_read(C, &mine, 0, 10, buf, &got, &eof);
	nit_check_st(st, NFS3ERR_ACCES,
	             "uid 1001 READ of 1000's 0600 file "
	             "-> ACCES");
	st = nit_write(C, &mine, 0, "x", 1, FILE_SYNC, NULL, NULL);
	nit_check_st(st, NFS3ERR_ACCES, "uid 1001 WRITE -> ACCES");
	st = nit_setsize(C, &mine, 0);
	nit_check_st(st, NFS3ERR_ACCES, "uid 1001 truncate -> ACCES");
	st = nit_setmode(C, &mine, 0666);
	nit_check_st(st, NFS3ERR_PERM, "uid 1001 chmod -> PERM");
	aa.object = nit_fh3(&mine);
	st = NIT3(C, access, ACCESS, &aa, &ar) < 0 ? -1 : (int)ar.status;
	CHECK(st == NFS3_OK &&
	              !(ar.ACCESS3res_u.resok.access &
	                (ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND)),
	      "ACCESS other on 0600: nothing", "st %s granted 0x%x",
	      nit_stname(st), st == NFS3_OK ? ar.ACCESS3res_u.resok.access : 0);
	st = nit_read(C, &shared, 0, 10, buf, &got, &eof);
	nit_check_st(st, NFS3ERR_ACCES,
	             "uid 1001 READ of 0640 file without "
	             "the group -> ACCES");
	nit_set_cred(C, U2, U2, 1, &g);
	st = nit_read(C, &shared, 0, 10, buf, &got, &eof);
	nit_check_st(st, NFS3_OK,
	             "uid 1001 READ of 0640 file via "
	             "supplementary gid 1000");
	as(U2, U1);
	st = nit_read(C, &shared, 0, 10, buf, &got, &eof);
	nit_check_st(st, NFS3_OK, "READ of 0640 file via primary gid");

	/* chown by a non-owner / to another user */
	as(U1, U1);
	{
		SETATTR3args a;
		SETATTR3res r;
		memset(&a, 0, sizeof a);
		a.object = nit_fh3(&mine);
		a.new_attributes.uid.set_it = 1;
		a.new_attributes.uid.set_uid3_u.uid = U2;
		st = NIT3(C, setattr, SETATTR, &a, &r) < 0 ? -1 : (int)r.status;
		nit_check_st(st, NFS3ERR_PERM,
		             "owner chown to another uid "
		             "-> PERM");
		memset(&a.new_attributes, 0, sizeof a.new_attributes);
		a.new_attributes.mtime.set_it = SET_TO_CLIENT_TIME;
		a.new_attributes.mtime.set_mtime_u.mtime.seconds = 5;
		as(U2, U2);
		st = NIT3(C, setattr, SETATTR, &a, &r) < 0 ? -1 : (int)r.status;
		CHECK_ST_ANY(st, "non-owner sets mtime -> PERM/ACCES",
		             NFS3ERR_PERM, NFS3ERR_ACCES);
	}

	/* directory write and search permission */
	as(U1, U1);
	st = nit_mkdir(C, &pd, "d1000", 0755, &sa_fh, NULL);
	nit_check_st(st, NFS3_OK, "uid 1000 MKDIR d1000 0755");
	as(U2, U2);
	st = nit_create(C, &sa_fh, "intruder", GUARDED, 0644, NULL, NULL, NULL);
	nit_check_st(st, NFS3ERR_ACCES,
	             "uid 1001 CREATE in 1000's 0755 dir "
	             "-> ACCES");
	st = nit_mkdir(C, &sa_fh, "intruder", 0755, NULL, NULL);
	nit_check_st(st, NFS3ERR_ACCES,
	             "uid 1001 MKDIR in 1000's 0755 dir "
	             "-> ACCES");
	as(U1, U1);
	nit_create(C, &sa_fh, "f", GUARDED, 0644, NULL, NULL, NULL);
	nit_setmode(C, &sa_fh, 0700);
	as(U2, U2);
	st = nit_lookup(C, &sa_fh, "f", NULL, NULL);
	nit_check_st(st, NFS3ERR_ACCES,
	             "uid 1001 LOOKUP in 1000's 0700 dir "
	             "-> ACCES");
	st = nit_remove(C, &sa_fh, "f");
	nit_check_st(st, NFS3ERR_ACCES,
	             "uid 1001 REMOVE in 1000's 0700 dir "
	             "-> ACCES");

	/* sticky directory */
	as(0, 0);
	st = nit_mkdir(C, &work, "sticky", 01777, &sticky, NULL);
	nit_setmode(C, &sticky, 01777);
	nit_getattr(C, &sticky, &at);
	CHECK(st == NFS3_OK && (at.mode & 07777) == 01777,
	      "sticky dir mode "
	      "01777",
	      "st %s mode %o", nit_stname(st), at.mode);
	as(U1, U1);
	st = nit_create(C, &sticky, "a", GUARDED, 0666, NULL, NULL, NULL);
	nit_check_st(st, NFS3_OK, "uid 1000 creates in the sticky dir");
	as(U2, U2);
	st = nit_remove(C, &sticky, "a");
	CHECK_ST_ANY(st, "sticky: uid 1001 cannot remove 1000's file",
	             NFS3ERR_ACCES, NFS3ERR_PERM);
	st = nit_rename(C, &sticky, "a", &sticky, "b");
	CHECK_ST_ANY(st, "sticky: uid 1001 cannot rename 1000's file",
	             NFS3ERR_ACCES, NFS3ERR_PERM);
	st = nit_create(C, &sticky, "c", GUARDED, 0666, NULL, NULL, NULL);
	st = nit_rename(C, &sticky, "c", &sticky, "a");
	CHECK_ST_ANY(st, "sticky: uid 1001 cannot rename over 1000's file",
	             NFS3ERR_ACCES, NFS3ERR_PERM);
	as(U1, U1);
	nit_check_st(nit_remove(C, &sticky, "a"), NFS3_OK,
	             "sticky: the owner removes its file");
	as(0, 0);
	nit_check_st(nit_remove(C, &sticky, "c"), NFS3_OK,
	             "sticky: root removes anyone's file");
}

/* ------------------------------------------------- links and specials */
static void t_links(void)
{
	LINK3args la;
	LINK3res lr;
	SYMLINK3args sa;
	SYMLINK3res sr;
	READLINK3args rla;
	READLINK3res rlr;
	MKNOD3args ma;
	MKNOD3res mr;
	nit_fh f, d, sl, n;
	fattr3 at;
	char buf[16];
	uint32_t got;
	int st, eof;
	static const char target[] = "some/where/../target with spaces";

	st = nit_create(C, &work, "orig", GUARDED, 0644, NULL, &f, NULL);
	nit_write(C, &f, 0, "linked", 6, FILE_SYNC, NULL, NULL);
	memset(&la, 0, sizeof la);
	la.file = nit_fh3(&f);
	la.link.dir = nit_fh3(&work);
	la.link.name = "hard";
	st = NIT3(C, link, LINK, &la, &lr) < 0 ? -1 : (int)lr.status;
	if (nit_check_st(st, NFS3_OK, "LINK")) {
		LINK3resok *o = &lr.LINK3res_u.resok;
		check_wcc(&o->linkdir_wcc, "LINK dir wcc");
		CHECK(o->file_attributes.attributes_follow &&
		              o->file_attributes.post_op_attr_u.attributes
		                              .nlink == 2,
		      "LINK post-op attributes nlink 2", "missing or wrong");
	}
	nit_getattr(C, &f, &at);
	CHECK(at.nlink == 2, "nlink 2 after LINK", "nlink %u", at.nlink);
	st = nit_lookup(C, &work, "hard", &n, &at);
	CHECK(st == NFS3_OK && at.nlink == 2 && at.fileid != 0,
	      "LOOKUP the link", "st %s", nit_stname(st));
	st = NIT3(C, link, LINK, &la, &lr) < 0 ? -1 : (int)lr.status;
	nit_check_st(st, NFS3ERR_EXIST, "LINK onto an existing name -> EXIST");
	st = nit_rename(C, &work, "orig", &work, "hard");
	nit_check_st(st, NFS3_OK, "RENAME between two links of one file");
	st = nit_getattr(C, &f, &at);
	CHECK(st == NFS3_OK && at.nlink == 2,
	      "RENAME of a link onto its "
	      "twin changes nothing (POSIX)",
	      "nlink %u", at.nlink);
	st = nit_remove(C, &work, "orig");
	nit_check_st(st, NFS3_OK, "REMOVE the original name");
	st = nit_getattr(C, &f, &at);
	CHECK(st == NFS3_OK && at.nlink == 1,
	      "nlink 1, handle valid after "
	      "removing one name",
	      "st %s nlink %u", nit_stname(st), at.nlink);
	st = nit_read(C, &f, 0, 16, buf, &got, &eof);
	CHECK(st == NFS3_OK && got == 6 && !memcmp(buf, "linked", 6),
	      "data readable through the remaining link", "st %s",
	      nit_stname(st));
	nit_mkdir(C, &work, "ldir", 0755, &d, NULL);
	la.file = nit_fh3(&d);
	la.link.name = "dirlink";
	st = NIT3(C, link, LINK, &la, &lr) < 0 ? -1 : (int)lr.status;
	CHECK_ST_ANY(st, "LINK to a directory is refused", NFS3ERR_ISDIR,
	             NFS3ERR_PERM, NFS3ERR_INVAL, NFS3ERR_ACCES);
	la.file = nit_fh3(&f);
	la.link.dir = nit_fh3(&f);
	la.link.name = "x";
	st = NIT3(C, link, LINK, &la, &lr) < 0 ? -1 : (int)lr.status;
	nit_check_st(st, NFS3ERR_NOTDIR, "LINK into a file -> NOTDIR");

	/* symlink */
	memset(&sa, 0, sizeof sa);
	sa.where.dir = nit_fh3(&work);
	sa.where.name = "sl";
	sa.symlink.symlink_attributes.mode.set_it = 1;
	sa.symlink.symlink_attributes.mode.set_mode3_u.mode = 0777;
	sa.symlink.symlink_data = (char *)target;
	st = NIT3(C, symlink, SYMLINK, &sa, &sr) < 0 ? -1 : (int)sr.status;
	if (nit_check_st(st, NFS3_OK, "SYMLINK")) {
		SYMLINK3resok *o = &sr.SYMLINK3res_u.resok;
		check_wcc(&o->dir_wcc, "SYMLINK dir wcc");
		CHECK(o->obj.handle_follows, "SYMLINK returns the handle",
		      "no handle");
	}
	st = nit_lookup(C, &work, "sl", &sl, &at);
	CHECK(st == NFS3_OK && at.type == NF3LNK && at.size == strlen(target),
	      "symlink type LNK, size = length", "st %s type %d size %llu",
	      nit_stname(st), at.type, (unsigned long long)at.size);
	rla.symlink = nit_fh3(&sl);
	st = NIT3(C, readlink, READLINK, &rla, &rlr) < 0 ? -1 : (int)rlr.status;
	CHECK(st == NFS3_OK && !strcmp(rlr.READLINK3res_u.resok.data, target),
	      "READLINK returns the target verbatim", "st %s got '%s'",
	      nit_stname(st),
	      st == NFS3_OK ? rlr.READLINK3res_u.resok.data : "");
	rla.symlink = nit_fh3(&f);
	st = NIT3(C, readlink, READLINK, &rla, &rlr) < 0 ? -1 : (int)rlr.status;
	nit_check_st(st, NFS3ERR_INVAL, "READLINK on a file -> INVAL");
	st = NIT3(C, symlink, SYMLINK, &sa, &sr) < 0 ? -1 : (int)sr.status;
	nit_check_st(st, NFS3ERR_EXIST,
	             "SYMLINK onto an existing name -> "
	             "EXIST");

	/* MKNOD */
	{
		static const struct {
			int type;
			const char *name;
			uint32_t maj, min;
		} k[] = {
			{ NF3FIFO, "fifo", 0, 0 },
			{ NF3SOCK, "sock", 0, 0 },
			{ NF3CHR, "chr", 4, 5 },
			{ NF3BLK, "blk", 8, 1 },
		};
		unsigned i;
		for (i = 0; i < 4; i++) {
			char nm[64];
			sattr3 *s;
			memset(&ma, 0, sizeof ma);
			ma.where.dir = nit_fh3(&work);
			ma.where.name = (char *)k[i].name;
			ma.what.type = k[i].type;
			if (k[i].type == NF3CHR || k[i].type == NF3BLK) {
				devicedata3 *dd =
				        k[i].type == NF3CHR
				                ? &ma.what.mknoddata3_u
				                           .chr_device
				                : &ma.what.mknoddata3_u
				                           .blk_device;
				dd->spec.specdata1 = k[i].maj;
				dd->spec.specdata2 = k[i].min;
				s = &dd->dev_attributes;
			} else {
				s = k[i].type == NF3FIFO
				            ? &ma.what.mknoddata3_u
				                       .pipe_attributes
				            : &ma.what.mknoddata3_u
				                       .sock_attributes;
			}
			s->mode.set_it = 1;
			s->mode.set_mode3_u.mode = 0640;
			st = NIT3(C, mknod, MKNOD, &ma, &mr) < 0
			             ? -1
			             : (int)mr.status;
			snprintf(nm, sizeof nm, "MKNOD %s", k[i].name);
			if (!nit_check_st(st, NFS3_OK, nm))
				continue;
			snprintf(nm, sizeof nm, "MKNOD %s dir wcc", k[i].name);
			check_wcc(&mr.MKNOD3res_u.resok.dir_wcc, nm);
			st = nit_lookup(C, &work, k[i].name, &n, &at);
			snprintf(nm, sizeof nm, "%s: type, mode and rdev",
			         k[i].name);
			CHECK(st == NFS3_OK && (int)at.type == k[i].type &&
			              (at.mode & 07777) == 0640 &&
			              at.rdev.specdata1 == k[i].maj &&
			              at.rdev.specdata2 == k[i].min,
			      nm, "st %s type %d mode %o rdev %u,%u",
			      nit_stname(st), at.type, at.mode,
			      at.rdev.specdata1, at.rdev.specdata2);
		}
		ma.where.name = "regnod";
		ma.what.type = NF3REG;
		st = NIT3(C, mknod, MKNOD, &ma, &mr) < 0 ? -1 : (int)mr.status;
		nit_check_st(st, NFS3ERR_BADTYPE,
		             "MKNOD of a regular file -> "
		             "BADTYPE");
		ma.where.name = "fifo";
		ma.what.type = NF3FIFO;
		memset(&ma.what.mknoddata3_u, 0, sizeof ma.what.mknoddata3_u);
		st = NIT3(C, mknod, MKNOD, &ma, &mr) < 0 ? -1 : (int)mr.status;
		nit_check_st(st, NFS3ERR_EXIST,
		             "MKNOD onto an existing name -> "
		             "EXIST");
		st = nit_read(C, &n, 0, 10, buf, &got, &eof);
		CHECK(st != NFS3_OK, "READ of a device node is refused",
		      "got OK");
	}
}

/* ------------------------------------------------------- remove/rmdir */
static void t_remove(void)
{
	REMOVE3args ra;
	REMOVE3res rr;
	RMDIR3args da;
	RMDIR3res dr;
	nit_fh d, f, g;
	fattr3 at;
	int st;

	nit_mkdir(C, &work, "rmd", 0755, &d, NULL);
	nit_create(C, &d, "inner", GUARDED, 0644, NULL, &f, NULL);
	nit_create(C, &work, "rmf", GUARDED, 0644, NULL, &g, NULL);

	st = nit_remove(C, &work, "rmd");
	CHECK_ST_ANY(st, "REMOVE on a directory is refused", NFS3ERR_ISDIR,
	             NFS3ERR_PERM, NFS3ERR_INVAL, NFS3ERR_ACCES);
	nit_check_st(nit_getattr(C, &d, NULL), NFS3_OK,
	             "directory survives "
	             "REMOVE");
	st = nit_rmdir(C, &work, "rmf");
	nit_check_st(st, NFS3ERR_NOTDIR, "RMDIR on a file -> NOTDIR");
	st = nit_rmdir(C, &work, "rmd");
	nit_check_st(st, NFS3ERR_NOTEMPTY, "RMDIR non-empty -> NOTEMPTY");
	st = nit_remove(C, &work, "nope");
	nit_check_st(st, NFS3ERR_NOENT, "REMOVE missing -> NOENT");
	st = nit_rmdir(C, &work, "nope");
	nit_check_st(st, NFS3ERR_NOENT, "RMDIR missing -> NOENT");

	memset(&ra, 0, sizeof ra);
	ra.object.dir = nit_fh3(&d);
	ra.object.name = "inner";
	st = NIT3(C, remove, REMOVE, &ra, &rr) < 0 ? -1 : (int)rr.status;
	if (nit_check_st(st, NFS3_OK, "REMOVE file"))
		check_wcc(&rr.REMOVE3res_u.resok.dir_wcc, "REMOVE dir wcc");
	memset(&da, 0, sizeof da);
	da.object.dir = nit_fh3(&work);
	da.object.name = "rmd";
	st = NIT3(C, rmdir, RMDIR, &da, &dr) < 0 ? -1 : (int)dr.status;
	if (nit_check_st(st, NFS3_OK, "RMDIR empty directory"))
		check_wcc(&dr.RMDIR3res_u.resok.dir_wcc, "RMDIR dir wcc");
	st = nit_lookup(C, &work, "rmd", NULL, NULL);
	nit_check_st(st, NFS3ERR_NOENT, "LOOKUP removed dir -> NOENT");

	/* STALE */
	nit_check_st(nit_getattr(C, &f, NULL), NFS3ERR_STALE,
	             "GETATTR of a removed file -> STALE");
	st = nit_write(C, &f, 0, "x", 1, FILE_SYNC, NULL, NULL);
	nit_check_st(st, NFS3ERR_STALE, "WRITE to a removed file -> STALE");
	st = nit_read(C, &f, 0, 1, &at, NULL, NULL);
	nit_check_st(st, NFS3ERR_STALE, "READ of a removed file -> STALE");
	nit_check_st(nit_setmode(C, &f, 0600), NFS3ERR_STALE,
	             "SETATTR of a removed file -> STALE");
	nit_check_st(nit_getattr(C, &d, NULL), NFS3ERR_STALE,
	             "GETATTR of a removed directory -> STALE");
	st = nit_lookup(C, &d, "x", NULL, NULL);
	nit_check_st(st, NFS3ERR_STALE,
	             "LOOKUP in a removed directory -> "
	             "STALE");
	st = nit_create(C, &d, "x", UNCHECKED, 0644, NULL, NULL, NULL);
	nit_check_st(st, NFS3ERR_STALE,
	             "CREATE in a removed directory -> "
	             "STALE");
	nit_remove(C, &work, "rmf");
}

/* ---------------------------------------------------------------- RENAME */
static void t_rename(void)
{
	RENAME3args a;
	RENAME3res r;
	nit_fh r1, r2, da, db, sub, dx, dy, open1, tmp;
	fattr3 at, at1, at2;
	char buf[32];
	uint32_t got;
	int st, eof;

	nit_create(C, &work, "r1", GUARDED, 0644, NULL, &r1, &at1);
	nit_write(C, &r1, 0, "AAAA", 4, FILE_SYNC, NULL, NULL);
	nit_create(C, &work, "r2", GUARDED, 0644, NULL, &r2, &at2);
	nit_write(C, &r2, 0, "BBBB", 4, FILE_SYNC, NULL, NULL);
	memset(&a, 0, sizeof a);
	a.from.dir = nit_fh3(&work);
	a.from.name = "r1";
	a.to.dir = nit_fh3(&work);
	a.to.name = "r2";
	st = NIT3(C, rename, RENAME, &a, &r) < 0 ? -1 : (int)r.status;
	if (nit_check_st(st, NFS3_OK, "RENAME file over an existing file")) {
		check_wcc(&r.RENAME3res_u.resok.fromdir_wcc,
		          "RENAME fromdir wcc");
		check_wcc(&r.RENAME3res_u.resok.todir_wcc, "RENAME todir wcc");
	}
	nit_check_st(nit_lookup(C, &work, "r1", NULL, NULL), NFS3ERR_NOENT,
	             "old name gone after RENAME");
	st = nit_lookup(C, &work, "r2", &tmp, &at);
	CHECK(st == NFS3_OK && at.fileid == at1.fileid,
	      "new name is the "
	      "renamed file (fileid stable)",
	      "st %s fileid %llu want %llu", nit_stname(st),
	      (unsigned long long)at.fileid, (unsigned long long)at1.fileid);
	st = nit_read(C, &tmp, 0, 32, buf, &got, &eof);
	CHECK(st == NFS3_OK && got == 4 && !memcmp(buf, "AAAA", 4),
	      "renamed file keeps its data", "st %s got %u", nit_stname(st),
	      got);
	nit_check_st(nit_getattr(C, &r2, NULL), NFS3ERR_STALE,
	             "overwritten file's handle -> STALE");
	st = nit_read(C, &r1, 0, 32, buf, &got, &eof);
	CHECK(st == NFS3_OK && got == 4 && !memcmp(buf, "AAAA", 4),
	      "old handle of the renamed file still reads", "st %s",
	      nit_stname(st));

	/* directories */
	nit_mkdir(C, &work, "da", 0755, &da, NULL);
	nit_mkdir(C, &work, "db", 0755, &db, NULL);
	nit_create(C, &da, "content", GUARDED, 0644, NULL, NULL, NULL);
	st = nit_rename(C, &work, "da", &work, "db");
	nit_check_st(st, NFS3_OK, "RENAME dir over an empty dir");
	st = nit_lookup(C, &work, "db", &tmp, NULL);
	st = nit_lookup(C, &tmp, "content", NULL, NULL);
	nit_check_st(st, NFS3_OK, "renamed dir keeps its entries");
	nit_check_st(nit_getattr(C, &db, NULL), NFS3ERR_STALE,
	             "replaced empty dir's handle -> STALE");
	nit_mkdir(C, &work, "dc", 0755, &tmp, NULL);
	st = nit_rename(C, &work, "dc", &work, "db");
	CHECK_ST_ANY(st, "RENAME dir over a non-empty dir -> NOTEMPTY/EXIST",
	             NFS3ERR_NOTEMPTY, NFS3ERR_EXIST);
	st = nit_rename(C, &work, "r2", &work, "dc");
	CHECK_ST_ANY(st, "RENAME file over a dir -> ISDIR/EXIST", NFS3ERR_ISDIR,
	             NFS3ERR_EXIST);
	st = nit_rename(C, &work, "dc", &work, "r2");
	CHECK_ST_ANY(st, "RENAME dir over a file -> NOTDIR/EXIST",
	             NFS3ERR_NOTDIR, NFS3ERR_EXIST);
	st = nit_lookup(C, &work, "db", &db, NULL);
	nit_mkdir(C, &db, "sub", 0755, &sub, NULL);
	st = nit_rename(C, &work, "db", &sub, "x");
	nit_check_st(st, NFS3ERR_INVAL,
	             "RENAME dir into its own subdir -> "
	             "INVAL");
	st = nit_rename(C, &work, "db", &db, "x");
	nit_check_st(st, NFS3ERR_INVAL, "RENAME dir into itself -> INVAL");
	st = nit_rename(C, &work, "nope", &work, "x");
	nit_check_st(st, NFS3ERR_NOENT, "RENAME missing source -> NOENT");
	st = nit_rename(C, &work, "r2", &r1, "x");
	nit_check_st(st, NFS3ERR_NOTDIR, "RENAME into a file -> NOTDIR");
	st = nit_rename(C, &work, "r2", &work, "r2");
	CHECK(st == NFS3_OK &&
	              nit_lookup(C, &work, "r2", NULL, NULL) == NFS3_OK,
	      "RENAME onto itself is a no-op", "st %s", nit_stname(st));

	/* across directories, a directory with its ".." */
	nit_mkdir(C, &work, "dx", 0755, &dx, NULL);
	nit_mkdir(C, &work, "dy", 0755, &dy, NULL);
	nit_mkdir(C, &dx, "moving", 0755, &tmp, &at1);
	st = nit_rename(C, &dx, "moving", &dy, "moved");
	nit_check_st(st, NFS3_OK, "RENAME dir across directories");
	st = nit_lookup(C, &dy, "moved", &tmp, &at);
	CHECK(st == NFS3_OK && at.fileid == at1.fileid,
	      "moved dir found in "
	      "the new parent with the same fileid",
	      "st %s", nit_stname(st));
	nit_getattr(C, &dy, &at2);
	st = nit_lookup(C, &tmp, "..", NULL, &at);
	CHECK(st == NFS3_OK && at.fileid == at2.fileid,
	      "\"..\" of a moved "
	      "dir is its new parent",
	      "st %s fileid %llu want %llu", nit_stname(st),
	      (unsigned long long)at.fileid, (unsigned long long)at2.fileid);
	nit_getattr(C, &dx, &at);
	nit_getattr(C, &dy, &at2);
	CHECK(at.nlink == 2 && at2.nlink == 3,
	      "parent nlink follows a moved "
	      "subdir",
	      "old parent %u (want 2), new parent %u (want 3)", at.nlink,
	      at2.nlink);

	/* an "open" file keeps working after mv */
	nit_create(C, &dx, "open1", GUARDED, 0644, NULL, &open1, &at1);
	nit_write(C, &open1, 0, "before", 6, UNSTABLE, NULL, NULL);
	st = nit_rename(C, &dx, "open1", &dy, "open2");
	nit_check_st(st, NFS3_OK, "RENAME a file with an open handle");
	st = nit_write(C, &open1, 6, "+after", 6, FILE_SYNC, NULL, NULL);
	nit_check_st(st, NFS3_OK, "WRITE via the pre-rename handle");
	st = nit_getattr(C, &open1, &at);
	CHECK(st == NFS3_OK && at.fileid == at1.fileid && at.size == 12,
	      "GETATTR via the pre-rename handle", "st %s size %llu",
	      nit_stname(st), (unsigned long long)at.size);
	st = nit_lookup(C, &dy, "open2", &tmp, NULL);
	st = nit_read(C, &tmp, 0, 32, buf, &got, &eof);
	CHECK(st == NFS3_OK && got == 12 && !memcmp(buf, "before+after", 12),
	      "new name sees writes through the old handle", "st %s got %u",
	      nit_stname(st), got);
	st = nit_rename(C, &dy, "open2", &dx, "open3");
	st = nit_getattr(C, &open1, &at);
	CHECK(st == NFS3_OK && at.fileid == at1.fileid,
	      "handle survives two "
	      "renames",
	      "st %s", nit_stname(st));
	st = nit_remove(C, &dx, "open3");
	nit_check_st(nit_getattr(C, &open1, NULL), NFS3ERR_STALE,
	             "handle STALE after the renamed file is removed");
}

/* ------------------------------------------------------------ READDIR */
#define RD_N 300
struct rd_state {
	int seen[RD_N];
	int dot, dotdot, other, dup, withfh, withattr, badattr;
	uint64_t fileids[RD_N];
};

static void rd_cb(void *arg, const char *name, uint64_t fileid, uint64_t cookie,
                  const nit_fh *fh, const fattr3 *attr)
{
	struct rd_state *s = arg;
	int i;

	(void)cookie;
	if (!strcmp(name, ".")) {
		s->dot++;
		return;
	}
	if (!strcmp(name, "..")) {
		s->dotdot++;
		return;
	}
	if (sscanf(name, "entry-%d", &i) != 1 || i < 0 || i >= RD_N) {
		s->other++;
		return;
	}
	if (s->seen[i]++)
		s->dup++;
	s->fileids[i] = fileid;
	if (fh)
		s->withfh++;
	if (attr) {
		s->withattr++;
		if (attr->fileid != fileid || attr->type != NF3REG)
			s->badattr++;
	}
}

static void t_readdir(void)
{
	READDIR3args a;
	READDIR3res r;
	nit_fh d, f;
	struct rd_state s;
	fattr3 at;
	char nm[32];
	int i, st, pages, missing;

	nit_mkdir(C, &work, "rd", 0755, &d, NULL);
	for (i = 0; i < RD_N; i++) {
		snprintf(nm, sizeof nm, "entry-%d", i);
		nit_create(C, &d, nm, GUARDED, 0644, NULL, NULL, NULL);
	}
	nit_pool_free();
	memset(&s, 0, sizeof s);
	st = nit_readdir_all(C, &d, 0, 1024, rd_cb, &s, &pages);
	nit_check_st(st, NFS3_OK, "READDIR whole dir, count 1024");
	for (i = 0, missing = 0; i < RD_N; i++)
		missing += !s.seen[i];
	CHECK(!missing && !s.dup && !s.other && pages > 3,
	      "READDIR: every name once over several pages",
	      "missing %d dup %d other %d pages %d", missing, s.dup, s.other,
	      pages);
	CHECK(s.dot == 1 && s.dotdot == 1,
	      "READDIR lists \".\" and \"..\" "
	      "once",
	      "dot %d dotdot %d", s.dot, s.dotdot);
	snprintf(nm, sizeof nm, "entry-%d", 17);
	nit_lookup(C, &d, nm, NULL, &at);
	CHECK(s.fileids[17] == at.fileid, "READDIR fileid equals LOOKUP's",
	      "%llu vs %llu", (unsigned long long)s.fileids[17],
	      (unsigned long long)at.fileid);

	memset(&s, 0, sizeof s);
	st = nit_readdir_all(C, &d, 1, 4096, rd_cb, &s, &pages);
	nit_check_st(st, NFS3_OK, "READDIRPLUS whole dir, maxcount 4096");
	for (i = 0, missing = 0; i < RD_N; i++)
		missing += !s.seen[i];
	CHECK(!missing && !s.dup && !s.other && pages > 3,
	      "READDIRPLUS: every name once over several pages",
	      "missing %d dup %d other %d pages %d", missing, s.dup, s.other,
	      pages);
	CHECK(s.withfh == RD_N && s.withattr == RD_N && !s.badattr,
	      "READDIRPLUS gives handles and matching attributes",
	      "handles %d attrs %d bad %d of %d", s.withfh, s.withattr,
	      s.badattr, RD_N);

	memset(&a, 0, sizeof a);
	a.dir = nit_fh3(&d);
	a.count = 8192;
	st = NIT3(C, readdir, READDIR, &a, &r) < 0 ? -1 : (int)r.status;
	if (nit_check_st(st, NFS3_OK, "READDIR first page")) {
		entry3 *e = r.READDIR3res_u.resok.reply.entries;
		CHECK(r.READDIR3res_u.resok.dir_attributes.attributes_follow,
		      "READDIR dir attributes", "missing");
		while (e && e->nextentry)
			e = e->nextentry;
		if (e && !r.READDIR3res_u.resok.reply.eof) {
			a.cookie = e->cookie;
			memset(a.cookieverf, 0x5a, 8);
			if (!memcmp(a.cookieverf,
			            r.READDIR3res_u.resok.cookieverf, 8))
				a.cookieverf[0] ^= 1;
			st = NIT3(C, readdir, READDIR, &a, &r) < 0
			             ? -1
			             : (int)r.status;
			nit_check_st(st, NFS3ERR_BAD_COOKIE,
			             "READDIR with a wrong cookie verifier -> "
			             "BAD_COOKIE");
		}
	}
	a.cookie = 0;
	memset(a.cookieverf, 0, 8);
	a.count = 16;
	st = NIT3(C, readdir, READDIR, &a, &r) < 0 ? -1 : (int)r.status;
	nit_check_st(st, NFS3ERR_TOOSMALL, "READDIR count 16 -> TOOSMALL");
	nit_create(C, &work, "notadir", GUARDED, 0644, NULL, &f, NULL);
	a.dir = nit_fh3(&f);
	a.count = 4096;
	st = NIT3(C, readdir, READDIR, &a, &r) < 0 ? -1 : (int)r.status;
	nit_check_st(st, NFS3ERR_NOTDIR, "READDIR on a file -> NOTDIR");
	nit_pool_free();

	/* remove half, list again */
	for (i = 0; i < RD_N; i += 2) {
		snprintf(nm, sizeof nm, "entry-%d", i);
		nit_remove(C, &d, nm);
	}
	memset(&s, 0, sizeof s);
	st = nit_readdir_all(C, &d, 0, 1024, rd_cb, &s, &pages);
	for (i = 0, missing = 0; i < RD_N; i++)
		missing += (i % 2) ? !s.seen[i] : s.seen[i];
	CHECK(st == NFS3_OK && !missing && !s.dup,
	      "READDIR after removing "
	      "half shows exactly the rest",
	      "st %s wrong %d dup %d", nit_stname(st), missing, s.dup);
}

int nit_cmd_procs(const char *host, int port)
{
	char name[64];
	int st;

	C = nit_connect(host, port, 0, 0);
	if (!C) {
		nit_check(0, "connect", "cannot connect to %s:%d", host, port);
		return nit_summary();
	}
	if (t_mount() < 0)
		return nit_summary();
	t_info();
	t_badhandle();
	snprintf(name, sizeof name, "nfsit.%d", (int)getpid());
	st = nit_mkdir(C, &root, name, 0777, &work, NULL);
	if (!nit_check_st(st, NFS3_OK, "MKDIR work directory as root"))
		return nit_summary();
	{
		MKDIR3args a;
		MKDIR3res r;
		memset(&a, 0, sizeof a);
		a.where.dir = nit_fh3(&work);
		a.where.name = "wccdir";
		st = NIT3(C, mkdir, MKDIR, &a, &r) < 0 ? -1 : (int)r.status;
		if (nit_check_st(st, NFS3_OK, "MKDIR")) {
			MKDIR3resok *o = &r.MKDIR3res_u.resok;
			check_wcc(&o->dir_wcc, "MKDIR dir wcc");
			CHECK(o->obj.handle_follows &&
			              o->obj_attributes.attributes_follow &&
			              o->obj_attributes.post_op_attr_u
			                              .attributes.type ==
			                      NF3DIR &&
			              o->obj_attributes.post_op_attr_u
			                              .attributes.nlink == 2,
			      "MKDIR returns handle and attributes (DIR, "
			      "nlink 2)",
			      "missing or wrong");
			CHECK(post(&o->dir_wcc) &&
			              post(&o->dir_wcc)->nlink == 3,
			      "parent nlink counts the new subdir", "nlink %u",
			      post(&o->dir_wcc) ? post(&o->dir_wcc)->nlink : 0);
		}
		st = NIT3(C, mkdir, MKDIR, &a, &r) < 0 ? -1 : (int)r.status;
		nit_check_st(st, NFS3ERR_EXIST, "MKDIR existing -> EXIST");
	}
	t_names();
	t_create();
	t_rw();
	t_setattr();
	t_perm();
	t_links();
	t_remove();
	t_rename();
	t_readdir();
	nit_pool_free();
	st = nit_call0(C, rpc_nfs3_null_async, NULL, NULL, 0);
	CHECK(st == 0, "server still answers at the end", "%s", C->err);
	nit_close(C);
	return nit_summary();
}
