/* nfs3_dir.c - NFSv3 procedures on directory entries: LOOKUP, CREATE,
 * MKDIR, SYMLINK, MKNOD, REMOVE, RMDIR, RENAME, LINK, and READLINK.
 *
 * Each handler checks the handle(s) and the name by the NFS rules
 * (nfs3_name_check, "." and ".."), calls fs, and returns the weak cache
 * consistency data RFC 1813 asks for on success and on failure. */
#include "nfs3.h"

#include <string.h>

#include "merr.h"

/* Post-op attributes of a directory into w when a procedure fails before
 * fs is called (no pre-op attributes then). */
static void nfs3_dir_post(rpc_req *req, const fs_ref *dir, fs_wcc *w)
{
	if (fs_getattr(req->fs, dir, &w->post) == 0)
		w->post_valid = 1;
}

/* Name of a new entry: "." and ".." always exist. */
static int nfs3_new_name(const filename3 *n)
{
	int dots;
	int err = nfs3_name_check(n->filename3_val, n->filename3_len, &dots);

	if (err == 0 && dots != NFS3_NAME_PLAIN)
		err = MAGMA_EEXIST;
	return err;
}

int nfs3_lookup(rpc_req *req, void *argp, void *resp)
{
	LOOKUP3args *args = argp;
	LOOKUP3res *res = resp;
	const diropargs3 *w = &args->what;
	fs_ref dir, obj;
	fs_attr a, da;
	int da_valid = 0, dots, err;

	memset(res, 0, sizeof(*res));
	err = nfs3_fh_get(req, &w->dir, &dir);
	if (err < 0)
		goto out;
	err = nfs3_name_check(w->name.filename3_val, w->name.filename3_len,
	                      &dots);
	if (err < 0) {
		da_valid = fs_getattr(req->fs, &dir, &da) == 0;
		goto out;
	}
	err = fs_lookup(req->fs, &req->cred, &dir, w->name.filename3_val,
	                w->name.filename3_len, &obj, &a, &da, &da_valid);
	if (err == 0)
		err = nfs3_fh_set(req, &obj, &res->LOOKUP3res_u.resok.object);
out:
	res->status = nfs3_stat(err);
	if (err == 0) {
		LOOKUP3resok *ok = &res->LOOKUP3res_u.resok;

		nfs3_post_op_attr(&a, &ok->obj_attributes);
		nfs3_post_op_attr(da_valid ? &da : NULL, &ok->dir_attributes);
	} else {
		nfs3_post_op_attr(da_valid ? &da : NULL,
		                  &res->LOOKUP3res_u.resfail.dir_attributes);
	}
	return 0;
}

int nfs3_readlink(rpc_req *req, void *argp, void *resp)
{
	READLINK3args *args = argp;
	READLINK3res *res = resp;
	fs_ref ref;
	fs_attr a;
	char *target = NULL;
	size_t len = 0;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&a, 0, sizeof(a));
	err = nfs3_fh_get(req, &args->symlink, &ref);
	if (err == 0)
		err = fs_readlink(req->fs, &req->cred, &ref, &target, &len, &a);
	res->status = nfs3_stat(err);
	if (err == 0) {
		READLINK3resok *ok = &res->READLINK3res_u.resok;

		nfs3_post_op_attr(&a, &ok->symlink_attributes);
		/* malloc'd by fs: the result owns it now. */
		ok->data.nfspath3_val = target;
		ok->data.nfspath3_len = (u_int)len;
	} else {
		nfs3_post_op_attr(
		        a.type != 0 ? &a : NULL,
		        &res->READLINK3res_u.resfail.symlink_attributes);
	}
	return 0;
}

/* The result of CREATE, MKDIR, SYMLINK and MKNOD, whose resok and resfail
 * structures have the same members. */
static void nfs3_made(rpc_req *req, int err, const fs_ref *obj,
                      const fs_attr *a, const fs_wcc *dw, post_op_fh3 *ok_obj,
                      post_op_attr *ok_attr, wcc_data *ok_wcc,
                      wcc_data *fail_wcc)
{
	if (err == 0) {
		/* The handle is optional: the client looks it up if absent. */
		nfs3_post_op_fh(req, obj, ok_obj);
		nfs3_post_op_attr(a, ok_attr);
		nfs3_wcc(dw, ok_wcc);
	} else {
		nfs3_wcc(dw, fail_wcc);
	}
}

int nfs3_create(rpc_req *req, void *argp, void *resp)
{
	CREATE3args *args = argp;
	CREATE3res *res = resp;
	const diropargs3 *w = &args->where;
	static const uint8_t no_verf[NFS3_CREATEVERFSIZE];
	const uint8_t *verf = no_verf;
	fs_ref dir, obj;
	fs_attr a;
	fs_sattr sa;
	fs_wcc dw;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&dw, 0, sizeof(dw));
	memset(&sa, 0, sizeof(sa));
	err = nfs3_fh_get(req, &w->dir, &dir);
	if (err < 0)
		goto out;
	err = nfs3_new_name(&w->name);
	if (err == 0) {
		if (args->how.mode == EXCLUSIVE)
			verf = (const uint8_t *)args->how.createhow3_u.verf;
		else
			err = nfs3_sattr(&args->how.createhow3_u.obj_attributes,
			                 &sa);
	}
	if (err < 0) {
		nfs3_dir_post(req, &dir, &dw);
		goto out;
	}
	err = fs_create(req->fs, &req->cred, &dir, w->name.filename3_val,
	                w->name.filename3_len, (int)args->how.mode, &sa, verf,
	                &obj, &a, &dw);
out:
	res->status = nfs3_stat(err);
	nfs3_made(req, err, &obj, &a, &dw, &res->CREATE3res_u.resok.obj,
	          &res->CREATE3res_u.resok.obj_attributes,
	          &res->CREATE3res_u.resok.dir_wcc,
	          &res->CREATE3res_u.resfail.dir_wcc);
	return 0;
}

int nfs3_mkdir(rpc_req *req, void *argp, void *resp)
{
	MKDIR3args *args = argp;
	MKDIR3res *res = resp;
	const diropargs3 *w = &args->where;
	fs_ref dir, obj;
	fs_attr a;
	fs_sattr sa;
	fs_wcc dw;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&dw, 0, sizeof(dw));
	err = nfs3_fh_get(req, &w->dir, &dir);
	if (err < 0)
		goto out;
	err = nfs3_new_name(&w->name);
	if (err == 0)
		err = nfs3_sattr(&args->attributes, &sa);
	if (err < 0) {
		nfs3_dir_post(req, &dir, &dw);
		goto out;
	}
	err = fs_mkdir(req->fs, &req->cred, &dir, w->name.filename3_val,
	               w->name.filename3_len, &sa, &obj, &a, &dw);
out:
	res->status = nfs3_stat(err);
	nfs3_made(req, err, &obj, &a, &dw, &res->MKDIR3res_u.resok.obj,
	          &res->MKDIR3res_u.resok.obj_attributes,
	          &res->MKDIR3res_u.resok.dir_wcc,
	          &res->MKDIR3res_u.resfail.dir_wcc);
	return 0;
}

/* A symlink target: not empty (as knfsd), no NUL, shorter than
 * FS_PATH_MAX so that it fits a PATH_MAX buffer with its NUL. */
static int nfs3_target_check(const nfspath3 *t)
{
	if (t->nfspath3_len == 0 ||
	    memchr(t->nfspath3_val, '\0', t->nfspath3_len) != NULL)
		return MAGMA_EINVAL;
	if (t->nfspath3_len >= FS_PATH_MAX)
		return MAGMA_ENAMETOOLONG;
	return 0;
}

int nfs3_symlink(rpc_req *req, void *argp, void *resp)
{
	SYMLINK3args *args = argp;
	SYMLINK3res *res = resp;
	const diropargs3 *w = &args->where;
	const nfspath3 *t = &args->symlink.symlink_data;
	fs_ref dir, obj;
	fs_attr a;
	fs_sattr sa;
	fs_wcc dw;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&dw, 0, sizeof(dw));
	err = nfs3_fh_get(req, &w->dir, &dir);
	if (err < 0)
		goto out;
	err = nfs3_new_name(&w->name);
	if (err == 0)
		err = nfs3_target_check(t);
	if (err == 0)
		err = nfs3_sattr(&args->symlink.symlink_attributes, &sa);
	if (err < 0) {
		nfs3_dir_post(req, &dir, &dw);
		goto out;
	}
	err = fs_symlink(req->fs, &req->cred, &dir, w->name.filename3_val,
	                 w->name.filename3_len, t->nfspath3_val,
	                 t->nfspath3_len, &sa, &obj, &a, &dw);
out:
	res->status = nfs3_stat(err);
	nfs3_made(req, err, &obj, &a, &dw, &res->SYMLINK3res_u.resok.obj,
	          &res->SYMLINK3res_u.resok.obj_attributes,
	          &res->SYMLINK3res_u.resok.dir_wcc,
	          &res->SYMLINK3res_u.resfail.dir_wcc);
	return 0;
}

int nfs3_mknod(rpc_req *req, void *argp, void *resp)
{
	MKNOD3args *args = argp;
	MKNOD3res *res = resp;
	const diropargs3 *w = &args->where;
	const mknoddata3 *what = &args->what;
	uint32_t major = 0, minor = 0;
	fs_ref dir, obj;
	fs_attr a;
	fs_sattr sa;
	fs_wcc dw;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&dw, 0, sizeof(dw));
	err = nfs3_fh_get(req, &w->dir, &dir);
	if (err < 0)
		goto out;
	err = nfs3_new_name(&w->name);
	if (err == 0) {
		switch (what->type) {
		case NF3CHR:
		case NF3BLK:
			major = what->mknoddata3_u.device.spec.specdata1;
			minor = what->mknoddata3_u.device.spec.specdata2;
			err = nfs3_sattr(
			        &what->mknoddata3_u.device.dev_attributes, &sa);
			break;
		case NF3SOCK:
		case NF3FIFO:
			err = nfs3_sattr(&what->mknoddata3_u.pipe_attributes,
			                 &sa);
			break;
		default:
			/* Regular files, directories and symlinks have
			 * their own procedures. */
			err = MAGMA_EBADTYPE;
			break;
		}
	}
	if (err < 0) {
		nfs3_dir_post(req, &dir, &dw);
		goto out;
	}
	err = fs_mknod(req->fs, &req->cred, &dir, w->name.filename3_val,
	               w->name.filename3_len, (uint32_t)what->type, major,
	               minor, &sa, &obj, &a, &dw);
out:
	res->status = nfs3_stat(err);
	nfs3_made(req, err, &obj, &a, &dw, &res->MKNOD3res_u.resok.obj,
	          &res->MKNOD3res_u.resok.obj_attributes,
	          &res->MKNOD3res_u.resok.dir_wcc,
	          &res->MKNOD3res_u.resfail.dir_wcc);
	return 0;
}

/* REMOVE and RMDIR: dot_err and dotdot_err are what "." and ".." get
 * (as Linux: rmdir(".") is EINVAL, rmdir("..") ENOTEMPTY). */
static int nfs3_unlink(rpc_req *req, const diropargs3 *o, int isdir,
                       int dot_err, int dotdot_err, fs_wcc *dw)
{
	fs_ref dir;
	int dots, err;

	err = nfs3_fh_get(req, &o->dir, &dir);
	if (err < 0)
		return err;
	err = nfs3_name_check(o->name.filename3_val, o->name.filename3_len,
	                      &dots);
	if (err == 0 && dots == NFS3_NAME_DOT)
		err = dot_err;
	else if (err == 0 && dots == NFS3_NAME_DOTDOT)
		err = dotdot_err;
	if (err < 0) {
		nfs3_dir_post(req, &dir, dw);
		return err;
	}
	if (isdir)
		return fs_rmdir(req->fs, &req->cred, &dir,
		                o->name.filename3_val, o->name.filename3_len,
		                dw);
	return fs_remove(req->fs, &req->cred, &dir, o->name.filename3_val,
	                 o->name.filename3_len, dw);
}

int nfs3_remove(rpc_req *req, void *argp, void *resp)
{
	REMOVE3args *args = argp;
	REMOVE3res *res = resp;
	fs_wcc dw;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&dw, 0, sizeof(dw));
	err = nfs3_unlink(req, &args->object, 0, MAGMA_EINVAL, MAGMA_EEXIST,
	                  &dw);
	res->status = nfs3_stat(err);
	nfs3_wcc(&dw, err == 0 ? &res->REMOVE3res_u.resok.dir_wcc
	                       : &res->REMOVE3res_u.resfail.dir_wcc);
	return 0;
}

int nfs3_rmdir(rpc_req *req, void *argp, void *resp)
{
	RMDIR3args *args = argp;
	RMDIR3res *res = resp;
	fs_wcc dw;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&dw, 0, sizeof(dw));
	err = nfs3_unlink(req, &args->object, 1, MAGMA_EINVAL, MAGMA_ENOTEMPTY,
	                  &dw);
	res->status = nfs3_stat(err);
	nfs3_wcc(&dw, err == 0 ? &res->RMDIR3res_u.resok.dir_wcc
	                       : &res->RMDIR3res_u.resfail.dir_wcc);
	return 0;
}

/* A RENAME operand: "." and ".." can be neither source nor target. */
static int nfs3_rename_name(const filename3 *n)
{
	int dots;
	int err = nfs3_name_check(n->filename3_val, n->filename3_len, &dots);

	if (err == 0 && dots != NFS3_NAME_PLAIN)
		err = MAGMA_EINVAL;
	return err;
}

int nfs3_rename(rpc_req *req, void *argp, void *resp)
{
	RENAME3args *args = argp;
	RENAME3res *res = resp;
	const diropargs3 *from = &args->from, *to = &args->to;
	fs_ref fdir, tdir;
	fs_wcc fw, tw;
	int have_f = 0, have_t = 0, err;

	memset(res, 0, sizeof(*res));
	memset(&fw, 0, sizeof(fw));
	memset(&tw, 0, sizeof(tw));
	err = nfs3_fh_get(req, &from->dir, &fdir);
	if (err == 0) {
		have_f = 1;
		err = nfs3_fh_get(req, &to->dir, &tdir);
	}
	if (err == 0) {
		have_t = 1;
		err = nfs3_rename_name(&from->name);
	}
	if (err == 0)
		err = nfs3_rename_name(&to->name);
	if (err == 0) {
		err = fs_rename(
		        req->fs, &req->cred, &fdir, from->name.filename3_val,
		        from->name.filename3_len, &tdir, to->name.filename3_val,
		        to->name.filename3_len, &fw, &tw);
	} else {
		if (have_f)
			nfs3_dir_post(req, &fdir, &fw);
		if (have_t)
			nfs3_dir_post(req, &tdir, &tw);
	}
	res->status = nfs3_stat(err);
	if (err == 0) {
		nfs3_wcc(&fw, &res->RENAME3res_u.resok.fromdir_wcc);
		nfs3_wcc(&tw, &res->RENAME3res_u.resok.todir_wcc);
	} else {
		nfs3_wcc(&fw, &res->RENAME3res_u.resfail.fromdir_wcc);
		nfs3_wcc(&tw, &res->RENAME3res_u.resfail.todir_wcc);
	}
	return 0;
}

int nfs3_link(rpc_req *req, void *argp, void *resp)
{
	LINK3args *args = argp;
	LINK3res *res = resp;
	const diropargs3 *l = &args->link;
	fs_ref file, dir;
	fs_attr fa;
	fs_wcc dw;
	int fa_valid = 0, err;

	memset(res, 0, sizeof(*res));
	memset(&dw, 0, sizeof(dw));
	err = nfs3_fh_get(req, &args->file, &file);
	if (err < 0)
		goto out;
	err = nfs3_fh_get(req, &l->dir, &dir);
	if (err == 0) {
		err = nfs3_new_name(&l->name);
		if (err < 0)
			nfs3_dir_post(req, &dir, &dw);
	}
	if (err < 0) {
		fa_valid = fs_getattr(req->fs, &file, &fa) == 0;
		goto out;
	}
	err = fs_link(req->fs, &req->cred, &file, &dir, l->name.filename3_val,
	              l->name.filename3_len, &fa, &fa_valid, &dw);
out:
	res->status = nfs3_stat(err);
	if (err == 0) {
		nfs3_post_op_attr(fa_valid ? &fa : NULL,
		                  &res->LINK3res_u.resok.file_attributes);
		nfs3_wcc(&dw, &res->LINK3res_u.resok.linkdir_wcc);
	} else {
		nfs3_post_op_attr(fa_valid ? &fa : NULL,
		                  &res->LINK3res_u.resfail.file_attributes);
		nfs3_wcc(&dw, &res->LINK3res_u.resfail.linkdir_wcc);
	}
	return 0;
}
