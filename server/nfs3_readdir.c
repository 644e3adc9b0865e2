/* nfs3_readdir.c - READDIR and READDIRPLUS.
 *
 * Entries are added while the reply, as XDR-encoded, stays within the
 * client's count (READDIR) or maxcount and dircount (READDIRPLUS): each
 * entry's encoded size is computed as it is added.  A reply that cannot
 * hold even one entry is NFS3ERR_TOOSMALL. */
#include "nfs3.h"

#include <stdlib.h>
#include <string.h>

#include "fh.h"
#include "merr.h"

/* Encoded sizes (RFC 1813 XDR). */
#define FATTR3_SIZE 84
#define POST_OP_ATTR_SIZE (4 + FATTR3_SIZE)
/* status, dir_attributes, cookieverf, end of list, eof */
#define RD_FIXED (4 + POST_OP_ATTR_SIZE + NFS3_COOKIEVERFSIZE + 4 + 4)

typedef struct nfs3_rd {
	rpc_req *req;
	int plus;
	size_t used, max;       /* whole reply vs. count or maxcount */
	size_t dirused, dirmax; /* READDIRPLUS dircount; dirmax 0: none */
	size_t n;
	entry3 *head, **tail;
	entryplus3 *phead, **ptail;
} nfs3_rd;

static void nfs3_rd_free(nfs3_rd *rd)
{
	while (rd->head != NULL) {
		entry3 *e = rd->head;

		rd->head = e->nextentry;
		free(e->name.filename3_val);
		free(e);
	}
	while (rd->phead != NULL) {
		entryplus3 *e = rd->phead;

		rd->phead = e->nextentry;
		free(e->name.filename3_val);
		free(e->name_handle.post_op_fh3_u.handle.data.data_val);
		free(e);
	}
}

static int nfs3_rd_entry(void *arg, const char *name, size_t namelen,
                         uint64_t fileid, uint64_t cookie, const fs_ref *ref,
                         const fs_attr *attr)
{
	nfs3_rd *rd = arg;
	/* value_follows, fileid, name, cookie */
	size_t dsz = 4 + 8 + nfs3_xdr_opaque_size(namelen) + 8;
	size_t sz = dsz;
	char *nm;

	if (rd->plus) {
		sz += attr != NULL ? POST_OP_ATTR_SIZE : 4;
		sz += ref != NULL ? 4 + nfs3_xdr_opaque_size(FH_LEN) : 4;
	}
	if (rd->used + sz > rd->max)
		return 1;
	/* dircount may not stop the first entry: maxcount alone decides
	 * whether the reply is too small. */
	if (rd->plus && rd->n > 0 && rd->dirmax != 0 &&
	    rd->dirused + dsz > rd->dirmax)
		return 1;
	nm = malloc(namelen ? namelen : 1);
	if (nm == NULL)
		return MAGMA_ENOMEM;
	memcpy(nm, name, namelen);
	if (rd->plus) {
		entryplus3 *e = calloc(1, sizeof(*e));

		if (e == NULL) {
			free(nm);
			return MAGMA_ENOMEM;
		}
		e->fileid = fileid;
		e->name.filename3_val = nm;
		e->name.filename3_len = (u_int)namelen;
		e->cookie = cookie;
		nfs3_post_op_attr(attr, &e->name_attributes);
		if (ref != NULL)
			nfs3_post_op_fh(rd->req, ref, &e->name_handle);
		*rd->ptail = e;
		rd->ptail = &e->nextentry;
	} else {
		entry3 *e = calloc(1, sizeof(*e));

		if (e == NULL) {
			free(nm);
			return MAGMA_ENOMEM;
		}
		e->fileid = fileid;
		e->name.filename3_val = nm;
		e->name.filename3_len = (u_int)namelen;
		e->cookie = cookie;
		*rd->tail = e;
		rd->tail = &e->nextentry;
	}
	rd->used += sz;
	rd->dirused += dsz;
	rd->n++;
	return 0;
}

/* The common part: fills rd's list, *verf_out, *eof and *da. */
static int nfs3_rd_run(rpc_req *req, nfs3_rd *rd, const nfs_fh3 *fh,
                       cookie3 cookie, const char *cookieverf, char *verf_out,
                       int *eof, fs_attr *da)
{
	uint64_t verf, vout = 0;
	fs_ref dir;
	int err;

	rd->req = req;
	rd->used = RD_FIXED;
	rd->tail = &rd->head;
	rd->ptail = &rd->phead;
	if (rd->max > NFS3_DIRMAX)
		rd->max = NFS3_DIRMAX;
	err = nfs3_fh_get(req, fh, &dir);
	if (err < 0)
		return err;
	/* The verifier is opaque to the client: any fixed byte order will
	 * do, as long as it is the same both ways. */
	memcpy(&verf, cookieverf, sizeof(verf));
	err = fs_readdir(req->fs, &req->cred, &dir, cookie, verf, rd->plus,
	                 nfs3_rd_entry, rd, &vout, eof, da);
	if (err == 0 && rd->n == 0 && !*eof)
		err = MAGMA_ETOOSMALL;
	if (err == 0)
		memcpy(verf_out, &vout, sizeof(vout));
	return err;
}

int nfs3_readdir(rpc_req *req, void *argp, void *resp)
{
	READDIR3args *args = argp;
	READDIR3res *res = resp;
	nfs3_rd rd;
	fs_attr da;
	int eof = 0, err;

	memset(res, 0, sizeof(*res));
	memset(&rd, 0, sizeof(rd));
	memset(&da, 0, sizeof(da));
	rd.max = args->count;
	err = nfs3_rd_run(req, &rd, &args->dir, args->cookie, args->cookieverf,
	                  res->READDIR3res_u.resok.cookieverf, &eof, &da);
	res->status = nfs3_stat(err);
	if (err == 0) {
		READDIR3resok *ok = &res->READDIR3res_u.resok;

		nfs3_post_op_attr(&da, &ok->dir_attributes);
		ok->reply.entries = rd.head; /* freed with the result */
		ok->reply.eof = eof ? TRUE : FALSE;
	} else {
		nfs3_rd_free(&rd);
		nfs3_post_op_attr(da.type != 0 ? &da : NULL,
		                  &res->READDIR3res_u.resfail.dir_attributes);
	}
	return 0;
}

int nfs3_readdirplus(rpc_req *req, void *argp, void *resp)
{
	READDIRPLUS3args *args = argp;
	READDIRPLUS3res *res = resp;
	nfs3_rd rd;
	fs_attr da;
	int eof = 0, err;

	memset(res, 0, sizeof(*res));
	memset(&rd, 0, sizeof(rd));
	memset(&da, 0, sizeof(da));
	rd.plus = 1;
	rd.max = args->maxcount;
	rd.dirmax = args->dircount;
	err = nfs3_rd_run(req, &rd, &args->dir, args->cookie, args->cookieverf,
	                  res->READDIRPLUS3res_u.resok.cookieverf, &eof, &da);
	res->status = nfs3_stat(err);
	if (err == 0) {
		READDIRPLUS3resok *ok = &res->READDIRPLUS3res_u.resok;

		nfs3_post_op_attr(&da, &ok->dir_attributes);
		ok->reply.entries = rd.phead; /* freed with the result */
		ok->reply.eof = eof ? TRUE : FALSE;
	} else {
		nfs3_rd_free(&rd);
		nfs3_post_op_attr(
		        da.type != 0 ? &da : NULL,
		        &res->READDIRPLUS3res_u.resfail.dir_attributes);
	}
	return 0;
}
