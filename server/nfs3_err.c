/* nfs3_err.c - the one MAGMA_E* -> nfsstat3 table, and the conversions
 * between the namespace layer's types (fs.h) and their NFSv3 XDR forms
 * that every procedure group needs. */
#include "nfs3.h"

#include <stdlib.h>
#include <string.h>

#include "fh.h"
#include "merr.h"

/* Indexed by -err.  Codes with no NFS meaning of their own become
 * NFS3ERR_IO (the client sees EIO, as for an unreachable owner:
 * DESIGN.md section 1.3) or NFS3ERR_SERVERFAULT (our bug or setup). */
static const nfsstat3 nfs3_err_table[] = {
	[0] = NFS3_OK,
	[-MAGMA_EPERM] = NFS3ERR_PERM,
	[-MAGMA_ENOENT] = NFS3ERR_NOENT,
	[-MAGMA_EIO] = NFS3ERR_IO,
	[-MAGMA_EACCES] = NFS3ERR_ACCES,
	[-MAGMA_EEXIST] = NFS3ERR_EXIST,
	[-MAGMA_EXDEV] = NFS3ERR_XDEV,
	[-MAGMA_ENOTDIR] = NFS3ERR_NOTDIR,
	[-MAGMA_EISDIR] = NFS3ERR_ISDIR,
	[-MAGMA_EINVAL] = NFS3ERR_INVAL,
	[-MAGMA_EFBIG] = NFS3ERR_FBIG,
	[-MAGMA_ENOSPC] = NFS3ERR_NOSPC,
	[-MAGMA_EROFS] = NFS3ERR_ROFS,
	[-MAGMA_EMLINK] = NFS3ERR_MLINK,
	[-MAGMA_ENAMETOOLONG] = NFS3ERR_NAMETOOLONG,
	[-MAGMA_ENOTEMPTY] = NFS3ERR_NOTEMPTY,
	[-MAGMA_EDQUOT] = NFS3ERR_DQUOT,
	[-MAGMA_ESTALE] = NFS3ERR_STALE,
	[-MAGMA_EBADHANDLE] = NFS3ERR_BADHANDLE,
	[-MAGMA_ENOTSYNC] = NFS3ERR_NOT_SYNC,
	[-MAGMA_EBADCOOKIE] = NFS3ERR_BAD_COOKIE,
	[-MAGMA_ENOTSUPP] = NFS3ERR_NOTSUPP,
	[-MAGMA_ETOOSMALL] = NFS3ERR_TOOSMALL,
	[-MAGMA_EBADTYPE] = NFS3ERR_BADTYPE,
	[-MAGMA_ENOMEM] = NFS3ERR_SERVERFAULT,
	/* fs retries lost compare-and-swaps; one that escapes is transient. */
	[-MAGMA_ECONFLICT] = NFS3ERR_JUKEBOX,
	[-MAGMA_EUNAVAIL] = NFS3ERR_IO,
	[-MAGMA_ECONFIG] = NFS3ERR_SERVERFAULT,
	[-MAGMA_EADDRINUSE] = NFS3ERR_SERVERFAULT,
	/* Undecodable or unauthentic stored data or peer replies. */
	[-MAGMA_EGARBAGE] = NFS3ERR_IO,
	[-MAGMA_EPROTO] = NFS3ERR_IO,
	[-MAGMA_ECRYPTO] = NFS3ERR_IO,
	[-MAGMA_ESYS] = NFS3ERR_IO,
	[-MAGMA_ELOOP] = NFS3ERR_IO,
	[-MAGMA_EJUKEBOX] = NFS3ERR_JUKEBOX,
	[-MAGMA_ERANGE] = NFS3ERR_INVAL,
	[-MAGMA_EREMOTE] = NFS3ERR_IO,
};

_Static_assert(sizeof(nfs3_err_table) / sizeof(nfs3_err_table[0]) ==
                       (size_t)-MAGMA_E_LAST,
               "every MAGMA_E* code needs an nfsstat3");

nfsstat3 nfs3_stat(int err)
{
	if (err > 0 || err <= MAGMA_E_LAST)
		return NFS3ERR_SERVERFAULT;
	/* A hole in the table would read as NFS3_OK: never for an error. */
	if (err != 0 && nfs3_err_table[-err] == NFS3_OK)
		return NFS3ERR_SERVERFAULT;
	return nfs3_err_table[-err];
}

mountstat3 nfs3_mountstat(int err)
{
	nfsstat3 st = nfs3_stat(err);

	switch (st) {
	case NFS3_OK:
	case NFS3ERR_PERM:
	case NFS3ERR_NOENT:
	case NFS3ERR_IO:
	case NFS3ERR_ACCES:
	case NFS3ERR_NOTDIR:
	case NFS3ERR_INVAL:
	case NFS3ERR_NAMETOOLONG:
	case NFS3ERR_NOTSUPP:
	case NFS3ERR_SERVERFAULT:
		/* MOUNT v3 reuses the NFS numbers for these. */
		return (mountstat3)st;
	case NFS3ERR_BADHANDLE: return MNT3ERR_SERVERFAULT;
	default: return MNT3ERR_IO;
	}
}

const char *nfs3_stat_name(nfsstat3 st)
{
	switch (st) {
	case NFS3_OK: return "NFS3_OK";
	case NFS3ERR_PERM: return "NFS3ERR_PERM";
	case NFS3ERR_NOENT: return "NFS3ERR_NOENT";
	case NFS3ERR_IO: return "NFS3ERR_IO";
	case NFS3ERR_NXIO: return "NFS3ERR_NXIO";
	case NFS3ERR_ACCES: return "NFS3ERR_ACCES";
	case NFS3ERR_EXIST: return "NFS3ERR_EXIST";
	case NFS3ERR_XDEV: return "NFS3ERR_XDEV";
	case NFS3ERR_NODEV: return "NFS3ERR_NODEV";
	case NFS3ERR_NOTDIR: return "NFS3ERR_NOTDIR";
	case NFS3ERR_ISDIR: return "NFS3ERR_ISDIR";
	case NFS3ERR_INVAL: return "NFS3ERR_INVAL";
	case NFS3ERR_FBIG: return "NFS3ERR_FBIG";
	case NFS3ERR_NOSPC: return "NFS3ERR_NOSPC";
	case NFS3ERR_ROFS: return "NFS3ERR_ROFS";
	case NFS3ERR_MLINK: return "NFS3ERR_MLINK";
	case NFS3ERR_NAMETOOLONG: return "NFS3ERR_NAMETOOLONG";
	case NFS3ERR_NOTEMPTY: return "NFS3ERR_NOTEMPTY";
	case NFS3ERR_DQUOT: return "NFS3ERR_DQUOT";
	case NFS3ERR_STALE: return "NFS3ERR_STALE";
	case NFS3ERR_REMOTE: return "NFS3ERR_REMOTE";
	case NFS3ERR_BADHANDLE: return "NFS3ERR_BADHANDLE";
	case NFS3ERR_NOT_SYNC: return "NFS3ERR_NOT_SYNC";
	case NFS3ERR_BAD_COOKIE: return "NFS3ERR_BAD_COOKIE";
	case NFS3ERR_NOTSUPP: return "NFS3ERR_NOTSUPP";
	case NFS3ERR_TOOSMALL: return "NFS3ERR_TOOSMALL";
	case NFS3ERR_SERVERFAULT: return "NFS3ERR_SERVERFAULT";
	case NFS3ERR_BADTYPE: return "NFS3ERR_BADTYPE";
	case NFS3ERR_JUKEBOX: return "NFS3ERR_JUKEBOX";
	}
	return "NFS3ERR_?";
}

/* ---- attributes ---- */

void nfs3_time_out(const fs_time *t, nfstime3 *out)
{
	/* nfstime3 is unsigned 32-bit: clamp what it cannot carry. */
	if (t->sec < 0)
		out->seconds = 0;
	else if (t->sec > (int64_t)UINT32_MAX)
		out->seconds = UINT32_MAX;
	else
		out->seconds = (uint32)t->sec;
	out->nseconds = t->nsec < 1000000000u ? t->nsec : 999999999u;
}

void nfs3_fattr(const fs_attr *a, fattr3 *out)
{
	memset(out, 0, sizeof(*out));
	out->type = (ftype3)a->type;
	out->mode = a->mode & 07777;
	out->nlink = a->nlink;
	out->uid = a->uid;
	out->gid = a->gid;
	out->size = a->size;
	out->used = a->used;
	out->rdev.specdata1 = a->rdev_major;
	out->rdev.specdata2 = a->rdev_minor;
	out->fsid = NFS3_FSID;
	out->fileid = a->fileid;
	nfs3_time_out(&a->atime, &out->atime);
	nfs3_time_out(&a->mtime, &out->mtime);
	nfs3_time_out(&a->ctime, &out->ctime);
}

void nfs3_post_op_attr(const fs_attr *a, post_op_attr *out)
{
	memset(out, 0, sizeof(*out));
	if (a == NULL)
		return;
	out->attributes_follow = TRUE;
	nfs3_fattr(a, &out->post_op_attr_u.attributes);
}

void nfs3_wcc(const fs_wcc *w, wcc_data *out)
{
	memset(out, 0, sizeof(*out));
	if (w->pre_valid) {
		wcc_attr *b = &out->before.pre_op_attr_u.attributes;

		out->before.attributes_follow = TRUE;
		b->size = w->pre_size;
		nfs3_time_out(&w->pre_mtime, &b->mtime);
		nfs3_time_out(&w->pre_ctime, &b->ctime);
	}
	nfs3_post_op_attr(w->post_valid ? &w->post : NULL, &out->after);
}

static int nfs3_time_in(const nfstime3 *t, fs_time *out)
{
	if (t->nseconds >= 1000000000u)
		return MAGMA_EINVAL;
	out->sec = (int64_t)t->seconds;
	out->nsec = t->nseconds;
	return 0;
}

/* One of set_atime/set_mtime: how, and the client's time. */
static int nfs3_set_time(time_how how, const nfstime3 *t, int *set,
                         fs_time *out)
{
	switch (how) {
	case DONT_CHANGE: *set = FS_TIME_DONT; return 0;
	case SET_TO_SERVER_TIME: *set = FS_TIME_SERVER; return 0;
	case SET_TO_CLIENT_TIME:
		*set = FS_TIME_CLIENT;
		return nfs3_time_in(t, out);
	}
	return MAGMA_EINVAL;
}

int nfs3_sattr(const sattr3 *in, fs_sattr *out)
{
	fs_sattr s;
	int err;

	memset(&s, 0, sizeof(s));
	if (in->mode.set_it) {
		s.set_mode = 1;
		s.mode = in->mode.set_mode3_u.mode & 07777;
	}
	if (in->uid.set_it) {
		s.set_uid = 1;
		s.uid = in->uid.set_uid3_u.uid;
	}
	if (in->gid.set_it) {
		s.set_gid = 1;
		s.gid = in->gid.set_gid3_u.gid;
	}
	if (in->size.set_it) {
		s.set_size = 1;
		s.size = in->size.set_size3_u.size;
	}
	err = nfs3_set_time(in->atime.set_it, &in->atime.set_atime_u.atime,
	                    &s.set_atime, &s.atime);
	if (err == 0)
		err = nfs3_set_time(in->mtime.set_it,
		                    &in->mtime.set_mtime_u.mtime, &s.set_mtime,
		                    &s.mtime);
	if (err < 0)
		return err;
	*out = s;
	return 0;
}

void nfs3_post_op_attr_get(rpc_req *req, const fs_ref *ref, post_op_attr *out)
{
	fs_attr a;

	if (fs_getattr(req->fs, ref, &a) == 0)
		nfs3_post_op_attr(&a, out);
	else
		nfs3_post_op_attr(NULL, out);
}

void nfs3_wcc_post_get(rpc_req *req, const fs_ref *ref, wcc_data *out)
{
	memset(out, 0, sizeof(*out));
	nfs3_post_op_attr_get(req, ref, &out->after);
}

/* ---- handles ---- */

int nfs3_fh_get(const rpc_req *req, const nfs_fh3 *fh, fs_ref *ref)
{
	uint16_t export_id;
	fs_ref r;

	if (fh_decode(req->keys, fh->data.data_val, fh->data.data_len,
	              &export_id, &r) != 0)
		return MAGMA_EBADHANDLE;
	if (export_id != NFS3_EXPORT_ID)
		return MAGMA_ESTALE;
	*ref = r;
	return 0;
}

int nfs3_fh_set(const rpc_req *req, const fs_ref *ref, nfs_fh3 *out)
{
	uint8_t *buf = malloc(FH_LEN);
	int err;

	if (buf == NULL)
		return MAGMA_ENOMEM;
	err = fh_encode(req->keys, NFS3_EXPORT_ID, ref, buf);
	if (err < 0) {
		free(buf);
		return err;
	}
	out->data.data_len = FH_LEN;
	out->data.data_val = (char *)buf;
	return 0;
}

void nfs3_post_op_fh(const rpc_req *req, const fs_ref *ref, post_op_fh3 *out)
{
	memset(out, 0, sizeof(*out));
	if (nfs3_fh_set(req, ref, &out->post_op_fh3_u.handle) == 0)
		out->handle_follows = TRUE;
}

/* ---- names ---- */

int nfs3_name_check(const char *name, size_t len, int *dots)
{
	if (len > FS_NAME_MAX)
		return MAGMA_ENAMETOOLONG;
	if (len == 0 || name == NULL || memchr(name, '/', len) != NULL ||
	    memchr(name, '\0', len) != NULL)
		return MAGMA_EINVAL;
	if (len == 1 && name[0] == '.')
		*dots = NFS3_NAME_DOT;
	else if (len == 2 && name[0] == '.' && name[1] == '.')
		*dots = NFS3_NAME_DOTDOT;
	else
		*dots = NFS3_NAME_PLAIN;
	return 0;
}
