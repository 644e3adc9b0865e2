/* nfs3_file.c - NFSv3 file data procedures: READ, WRITE and COMMIT.
 *
 * Transfers are capped at the sizes FSINFO advertises (NFS3_RTMAX,
 * NFS3_WTMAX).  UNSTABLE writes are answered with fs's write verifier,
 * which changes whenever acknowledged unstable data may have been lost,
 * so that clients resend it (DESIGN.md section 4). */
#include "nfs3.h"

#include <stdlib.h>
#include <string.h>

#include "merr.h"
#include "mlog.h"
#include "rpc/rpcmsg.h"

int nfs3_read(rpc_req *req, void *argp, void *resp)
{
	READ3args *args = argp;
	nfs3_read_res *w = resp;
	READ3res *res = &w->r;
	uint32_t count = args->count < NFS3_RTMAX ? args->count : NFS3_RTMAX;
	uint32_t got = 0;
	int eof = 0, err;
	fs_ref ref;
	fs_attr a;

	memset(w, 0, sizeof(*w));
	memset(&a, 0, sizeof(a));
	err = nfs3_fh_get(req, &args->file, &ref);
	if (err == 0)
		err = fs_read_data(req->fs, &req->cred, &ref, args->offset,
		                   count, &w->d, &got, &eof, &a);
	if (err == 0 && got > count)
		err = MAGMA_EIO; /* fs broke its contract: never overrun */
	if (err < 0 && a.type == FS_DIR)
		err = MAGMA_EISDIR;
	res->status = nfs3_stat(err);
	if (err == 0) {
		READ3resok *ok = &res->READ3res_u.resok;

		nfs3_post_op_attr(&a, &ok->file_attributes);
		ok->count = got;
		ok->eof = eof ? TRUE : FALSE;
		ok->data.data_len = got; /* the bytes: w->d's segments */
	} else {
		fs_rdata_free(&w->d);
		nfs3_post_op_attr(a.type != 0 ? &a : NULL,
		                  &res->READ3res_u.resfail.file_attributes);
	}
	return 0;
}

/* As rpcgen's xdr_READ3res, except that an encoded READ's data comes
 * from the segments of w->d, each put on its own (rpc_server splices
 * the long ones into the reply unread), and freeing frees them too.  A
 * decoded result (a test's round trip) has no segments and owns its
 * data_val as rpcgen's does. */
bool_t nfs3_xdr_read_res(XDR *x, nfs3_read_res *w)
{
	static char pad[BYTES_PER_XDR_UNIT];
	READ3resok *ok = &w->r.READ3res_u.resok;
	u_int len = ok->data.data_len, sum = 0;

	if (x->x_op == XDR_FREE)
		fs_rdata_free(&w->d);
	if (x->x_op != XDR_ENCODE || w->r.status != NFS3_OK ||
	    ok->data.data_val != NULL)
		return xdr_READ3res(x, &w->r);
	for (size_t i = 0; i < w->d.nseg; i++)
		sum += w->d.seg[i].len;
	if (sum != len || !xdr_nfsstat3(x, &w->r.status) ||
	    !xdr_post_op_attr(x, &ok->file_attributes) ||
	    !xdr_count3(x, &ok->count) || !xdr_bool(x, &ok->eof) ||
	    !xdr_u_int(x, &len))
		return FALSE;
	for (size_t i = 0; i < w->d.nseg; i++)
		if (!XDR_PUTBYTES(x, (const char *)w->d.seg[i].p,
		                  w->d.seg[i].len))
			return FALSE;
	return len % BYTES_PER_XDR_UNIT == 0 ||
	       XDR_PUTBYTES(x, pad,
	                    BYTES_PER_XDR_UNIT - len % BYTES_PER_XDR_UNIT);
}

/* WRITE3args as rpcgen's xdr_WRITE3args, except that the data is
 * decoded in place: data_val points into the call's record, which
 * outlives the call, instead of into a zeroed copy (two passes over up
 * to 1 MiB per WRITE).  Freeing leaves the data alone. */
bool_t nfs3_xdr_write_args(XDR *x, WRITE3args *a)
{
	if (x->x_op == XDR_FREE) {
		a->data.data_val = NULL;
		a->data.data_len = 0;
		return xdr_WRITE3args(x, a);
	}
	if (x->x_op != XDR_DECODE)
		return xdr_WRITE3args(x, a);
	return xdr_nfs_fh3(x, &a->file) && xdr_offset3(x, &a->offset) &&
	       xdr_count3(x, &a->count) && xdr_stable_how(x, &a->stable) &&
	       rpcmsg_xdr_opaque_inplace(x, &a->data.data_val,
	                                 &a->data.data_len, NFS3_MAXDATA);
}

int nfs3_write(rpc_req *req, void *argp, void *resp)
{
	WRITE3args *args = argp;
	WRITE3res *res = resp;
	uint32_t count = args->count;
	int committed = FS_UNSTABLE, err;
	uint8_t verf[NFS3_WRITEVERFSIZE];
	fs_ref ref;
	fs_wcc wcc;

	memset(res, 0, sizeof(*res));
	memset(&wcc, 0, sizeof(wcc));
	/* The verifier from before the write: a COMMIT that changes it
	 * while this write runs may not have covered it. */
	fs_write_verifier(req->fs, verf);
	err = nfs3_fh_get(req, &args->file, &ref);
	if (err < 0)
		goto out;
	/* RFC 1813: count bytes of data follow; fewer is a broken request.
	 * More than we advertised is written short, which clients handle. */
	if ((uint32_t)args->stable > FILE_SYNC || args->data.data_len < count) {
		err = MAGMA_EINVAL;
		nfs3_wcc_post_get(req, &ref,
		                  &res->WRITE3res_u.resfail.file_wcc);
		res->status = nfs3_stat(err);
		return 0;
	}
	if (count > NFS3_WTMAX)
		count = NFS3_WTMAX;
	LOG_D("WRITE off %llu count %u stable %d",
	      (unsigned long long)args->offset, count, (int)args->stable);
	err = fs_write(req->fs, &req->cred, &ref, args->offset,
	               args->data.data_val, count, (int)args->stable,
	               &committed, &wcc);
out:
	res->status = nfs3_stat(err);
	if (err == 0) {
		WRITE3resok *ok = &res->WRITE3res_u.resok;

		nfs3_wcc(&wcc, &ok->file_wcc);
		ok->count = count;
		/* The truth, even below what was asked: the client then
		 * treats the data as unstable and COMMITs it. */
		ok->committed = (stable_how)committed;
		memcpy(ok->verf, verf, sizeof(ok->verf));
	} else {
		nfs3_wcc(&wcc, &res->WRITE3res_u.resfail.file_wcc);
	}
	return 0;
}

int nfs3_commit(rpc_req *req, void *argp, void *resp)
{
	COMMIT3args *args = argp;
	COMMIT3res *res = resp;
	fs_ref ref;
	fs_wcc wcc;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&wcc, 0, sizeof(wcc));
	err = nfs3_fh_get(req, &args->file, &ref);
	/* offset/count are advisory: fs commits the whole file. */
	if (err == 0)
		err = fs_commit(req->fs, &ref, &wcc);
	res->status = nfs3_stat(err);
	if (err == 0) {
		COMMIT3resok *ok = &res->COMMIT3res_u.resok;
		uint8_t verf[NFS3_WRITEVERFSIZE];

		nfs3_wcc(&wcc, &ok->file_wcc);
		fs_write_verifier(req->fs, verf);
		memcpy(ok->verf, verf, sizeof(ok->verf));
	} else {
		nfs3_wcc(&wcc, &res->COMMIT3res_u.resfail.file_wcc);
	}
	return 0;
}
