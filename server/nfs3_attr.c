/* nfs3_attr.c - NFSv3 procedures about attributes and the file system
 * (NULL, GETATTR, SETATTR, ACCESS, FSSTAT, FSINFO, PATHCONF), and the
 * dispatch table of the NFS program. */
#include "nfs3.h"

#include <string.h>

#include "merr.h"

int nfs3_null(rpc_req *req, void *args, void *res)
{
	(void)req;
	(void)args;
	(void)res;
	return 0;
}

int nfs3_getattr(rpc_req *req, void *argp, void *resp)
{
	GETATTR3args *args = argp;
	GETATTR3res *res = resp;
	fs_ref ref;
	fs_attr a;
	int err;

	memset(res, 0, sizeof(*res));
	err = nfs3_fh_get(req, &args->object, &ref);
	if (err == 0)
		err = fs_getattr(req->fs, &ref, &a);
	res->status = nfs3_stat(err);
	if (err == 0)
		nfs3_fattr(&a, &res->GETATTR3res_u.resok.obj_attributes);
	return 0;
}

int nfs3_setattr(rpc_req *req, void *argp, void *resp)
{
	SETATTR3args *args = argp;
	SETATTR3res *res = resp;
	fs_ref ref;
	fs_sattr sa;
	fs_time guard;
	fs_wcc wcc;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&wcc, 0, sizeof(wcc));
	err = nfs3_fh_get(req, &args->object, &ref);
	if (err < 0)
		goto out;
	err = nfs3_sattr(&args->new_attributes, &sa);
	if (err < 0) {
		res->status = nfs3_stat(err);
		nfs3_wcc_post_get(req, &ref,
		                  &res->SETATTR3res_u.resfail.obj_wcc);
		return 0;
	}
	if (args->guard.check) {
		const nfstime3 *g = &args->guard.sattrguard3_u.obj_ctime;

		guard.sec = g->seconds;
		guard.nsec = g->nseconds;
	}
	err = fs_setattr(req->fs, &req->cred, &ref, &sa,
	                 args->guard.check ? &guard : NULL, &wcc);
out:
	res->status = nfs3_stat(err);
	nfs3_wcc(&wcc, err == 0 ? &res->SETATTR3res_u.resok.obj_wcc
	                        : &res->SETATTR3res_u.resfail.obj_wcc);
	return 0;
}

int nfs3_access(rpc_req *req, void *argp, void *resp)
{
	ACCESS3args *args = argp;
	ACCESS3res *res = resp;
	fs_ref ref;
	fs_attr a;
	uint32_t granted = 0;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&a, 0, sizeof(a));
	err = nfs3_fh_get(req, &args->object, &ref);
	if (err < 0)
		goto out;
	err = fs_access(req->fs, &req->cred, &ref, args->access, &granted, &a);
out:
	res->status = nfs3_stat(err);
	if (err == 0) {
		nfs3_post_op_attr(&a, &res->ACCESS3res_u.resok.obj_attributes);
		res->ACCESS3res_u.resok.access = granted & args->access;
	} else {
		/* attr is filled as far as known: type 0 means not at all. */
		nfs3_post_op_attr(a.type != 0 ? &a : NULL,
		                  &res->ACCESS3res_u.resfail.obj_attributes);
	}
	return 0;
}

/* FSSTAT, FSINFO and PATHCONF: check the handle and fetch the post-op
 * attributes they all return. */
static int nfs3_fs_obj(rpc_req *req, const nfs_fh3 *fh, fs_attr *a)
{
	fs_ref ref;
	int err = nfs3_fh_get(req, fh, &ref);

	if (err == 0)
		err = fs_getattr(req->fs, &ref, a);
	return err;
}

int nfs3_fsstat(rpc_req *req, void *argp, void *resp)
{
	FSSTAT3args *args = argp;
	FSSTAT3res *res = resp;
	FSSTAT3resok *ok = &res->FSSTAT3res_u.resok;
	fs_attr a;
	fs_stat st;
	int err;

	memset(res, 0, sizeof(*res));
	err = nfs3_fs_obj(req, &args->fsroot, &a);
	if (err == 0)
		err = fs_statfs(req->fs, &st);
	res->status = nfs3_stat(err);
	if (err < 0)
		return 0;
	nfs3_post_op_attr(&a, &ok->obj_attributes);
	ok->tbytes = st.tbytes;
	ok->fbytes = st.fbytes;
	ok->abytes = st.abytes;
	ok->tfiles = st.tfiles;
	ok->ffiles = st.ffiles;
	ok->afiles = st.afiles;
	ok->invarsec = 0; /* figures change at any time */
	return 0;
}

int nfs3_fsinfo(rpc_req *req, void *argp, void *resp)
{
	FSINFO3args *args = argp;
	FSINFO3res *res = resp;
	FSINFO3resok *ok = &res->FSINFO3res_u.resok;
	fs_attr a;
	int err;

	memset(res, 0, sizeof(*res));
	err = nfs3_fs_obj(req, &args->fsroot, &a);
	res->status = nfs3_stat(err);
	if (err < 0)
		return 0;
	nfs3_post_op_attr(&a, &ok->obj_attributes);
	ok->rtmax = NFS3_RTMAX;
	ok->rtpref = NFS3_RTMAX;
	ok->rtmult = NFS3_MULT;
	ok->wtmax = NFS3_WTMAX;
	ok->wtpref = NFS3_WTMAX;
	ok->wtmult = NFS3_MULT;
	ok->dtpref = NFS3_DTPREF;
	ok->maxfilesize = FS_MAX_FILE_SIZE;
	ok->time_delta.seconds = 0;
	ok->time_delta.nseconds = 1;
	ok->properties =
	        FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME;
	return 0;
}

int nfs3_pathconf(rpc_req *req, void *argp, void *resp)
{
	PATHCONF3args *args = argp;
	PATHCONF3res *res = resp;
	PATHCONF3resok *ok = &res->PATHCONF3res_u.resok;
	fs_attr a;
	int err;

	memset(res, 0, sizeof(*res));
	err = nfs3_fs_obj(req, &args->object, &a);
	res->status = nfs3_stat(err);
	if (err < 0)
		return 0;
	nfs3_post_op_attr(&a, &ok->obj_attributes);
	ok->linkmax = 65535;
	ok->name_max = FS_NAME_MAX;
	ok->no_trunc = TRUE;
	ok->chown_restricted = TRUE;
	ok->case_insensitive = FALSE;
	ok->case_preserving = TRUE;
	return 0;
}

/* ---- the NFS program ---- */

/* xdrproc_t is variadic in libtirpc; rpcgen's functions are not. */
#define XP(f) ((xdrproc_t)(void (*)(void))(f))
#define ROW(nm, a, r, fn)                                                      \
	{                                                                      \
		nm, XP(xdr_##a), sizeof(a), XP(xdr_##r), sizeof(r), fn         \
	}

static const rpc_proc nfs3_procs[] = {
	[NFSPROC3_NULL] = { "NULL", XP(xdr_void), 0, XP(xdr_void), 0,
	                    nfs3_null },
	[NFSPROC3_GETATTR] =
	        ROW("GETATTR", GETATTR3args, GETATTR3res, nfs3_getattr),
	[NFSPROC3_SETATTR] =
	        ROW("SETATTR", SETATTR3args, SETATTR3res, nfs3_setattr),
	[NFSPROC3_LOOKUP] = ROW("LOOKUP", LOOKUP3args, LOOKUP3res, nfs3_lookup),
	[NFSPROC3_ACCESS] = ROW("ACCESS", ACCESS3args, ACCESS3res, nfs3_access),
	[NFSPROC3_READLINK] =
	        ROW("READLINK", READLINK3args, READLINK3res, nfs3_readlink),
	[NFSPROC3_READ] = { "READ", XP(xdr_READ3args), sizeof(READ3args),
	                    XP(nfs3_xdr_read_res), sizeof(nfs3_read_res),
	                    nfs3_read },
	[NFSPROC3_WRITE] = { "WRITE", XP(nfs3_xdr_write_args),
	                     sizeof(WRITE3args), XP(xdr_WRITE3res),
	                     sizeof(WRITE3res), nfs3_write },
	[NFSPROC3_CREATE] = ROW("CREATE", CREATE3args, CREATE3res, nfs3_create),
	[NFSPROC3_MKDIR] = ROW("MKDIR", MKDIR3args, MKDIR3res, nfs3_mkdir),
	[NFSPROC3_SYMLINK] =
	        ROW("SYMLINK", SYMLINK3args, SYMLINK3res, nfs3_symlink),
	[NFSPROC3_MKNOD] = ROW("MKNOD", MKNOD3args, MKNOD3res, nfs3_mknod),
	[NFSPROC3_REMOVE] = ROW("REMOVE", REMOVE3args, REMOVE3res, nfs3_remove),
	[NFSPROC3_RMDIR] = ROW("RMDIR", RMDIR3args, RMDIR3res, nfs3_rmdir),
	[NFSPROC3_RENAME] = ROW("RENAME", RENAME3args, RENAME3res, nfs3_rename),
	[NFSPROC3_LINK] = ROW("LINK", LINK3args, LINK3res, nfs3_link),
	[NFSPROC3_READDIR] =
	        ROW("READDIR", READDIR3args, READDIR3res, nfs3_readdir),
	[NFSPROC3_READDIRPLUS] = ROW("READDIRPLUS", READDIRPLUS3args,
	                             READDIRPLUS3res, nfs3_readdirplus),
	[NFSPROC3_FSSTAT] = ROW("FSSTAT", FSSTAT3args, FSSTAT3res, nfs3_fsstat),
	[NFSPROC3_FSINFO] = ROW("FSINFO", FSINFO3args, FSINFO3res, nfs3_fsinfo),
	[NFSPROC3_PATHCONF] =
	        ROW("PATHCONF", PATHCONF3args, PATHCONF3res, nfs3_pathconf),
	[NFSPROC3_COMMIT] = ROW("COMMIT", COMMIT3args, COMMIT3res, nfs3_commit),
};

_Static_assert(sizeof(nfs3_procs) / sizeof(nfs3_procs[0]) == 22,
               "NFSv3 has 22 procedures");

const rpc_program nfs3_program = {
	.prog = NFS_PROGRAM,
	.vers = NFS_V3,
	.procs = nfs3_procs,
	.nprocs = sizeof(nfs3_procs) / sizeof(nfs3_procs[0]),
	.name = "NFS",
};
