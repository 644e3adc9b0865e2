/* nfs3.h - helpers shared by the NFSv3 procedures (server/nfs3_*.c):
 * the one MAGMA_E* -> nfsstat3 table, conversions between fs types and
 * their XDR forms, handle decoding/encoding and file name rules.
 *
 * Every pointer these helpers store in an XDR structure is malloc'd, so
 * that the dispatcher's xdr_free() releases it (dispatch.h). */
#ifndef MAGMA_NFS3_H
#define MAGMA_NFS3_H

#include <stddef.h>
#include <stdint.h>

#include "dispatch.h"
#include "fs.h"
#include "nfs3_prot.h"

/* The single export "/" and the file system id reported in fattr3. */
#define NFS3_EXPORT_ID 1
#define NFS3_FSID 1

/* FSINFO figures (RFC 1813 section 3.3.19). */
#define NFS3_RTMAX (1024u * 1024u)
#define NFS3_WTMAX (1024u * 1024u)
#define NFS3_MULT 4096u
#define NFS3_DTPREF (64u * 1024u)
/* Largest READDIR/READDIRPLUS reply we build, whatever the client asks
 * (Linux asks for dtpref).  rpcgen's entry list codec recurses once per
 * entry, so this also bounds the stack depth of encoding. */
#define NFS3_DIRMAX (128u * 1024u)

_Static_assert(NFS3_RTMAX <= NFS3_MAXDATA && NFS3_WTMAX <= NFS3_MAXDATA,
               "XDR data bound below the advertised transfer size");

/* ---- errors: the one table (nfs3_err.c) ---- */

/* nfsstat3 for 0 or a MAGMA_E* code; unknown codes are
 * NFS3ERR_SERVERFAULT. */
nfsstat3 nfs3_stat(int err);

/* mountstat3 for 0 or a MAGMA_E* code: nfs3_stat() restricted to the
 * values MOUNT v3 defines (others become MNT3ERR_IO, or
 * MNT3ERR_SERVERFAULT). */
mountstat3 nfs3_mountstat(int err);

/* "NFS3ERR_NOENT" etc. for logging; static storage, never NULL. */
const char *nfs3_stat_name(nfsstat3 st);

/* ---- attributes ---- */

void nfs3_time_out(const fs_time *t, nfstime3 *out);
void nfs3_fattr(const fs_attr *a, fattr3 *out);
/* a NULL: no attributes follow. */
void nfs3_post_op_attr(const fs_attr *a, post_op_attr *out);
/* Only the pre/post parts marked valid in w follow. */
void nfs3_wcc(const fs_wcc *w, wcc_data *out);
/* sattr3 -> fs_sattr.  MAGMA_EINVAL for an unknown time_how or
 * nanoseconds >= 10^9. */
int nfs3_sattr(const sattr3 *in, fs_sattr *out);

/* Post-op attributes of ref fetched with fs_getattr (none on failure),
 * for replies whose procedure failed before fs produced any. */
void nfs3_post_op_attr_get(rpc_req *req, const fs_ref *ref, post_op_attr *out);
/* wcc_data with no pre-op part and post-op attributes as above. */
void nfs3_wcc_post_get(rpc_req *req, const fs_ref *ref, wcc_data *out);

/* ---- handles ---- */

/* Decode a client's handle: 0, MAGMA_EBADHANDLE (forged, corrupt,
 * wrong length) or MAGMA_ESTALE (authentic but of an unknown export). */
int nfs3_fh_get(const rpc_req *req, const nfs_fh3 *fh, fs_ref *ref);
/* Encode ref into out->data (malloc'd): 0 or a MAGMA_E* code, out
 * untouched on failure. */
int nfs3_fh_set(const rpc_req *req, const fs_ref *ref, nfs_fh3 *out);
/* Same as a post_op_fh3; on failure no handle follows (allowed). */
void nfs3_post_op_fh(const rpc_req *req, const fs_ref *ref, post_op_fh3 *out);

/* ---- names ---- */

enum nfs3_dots { NFS3_NAME_PLAIN = 0, NFS3_NAME_DOT = 1, NFS3_NAME_DOTDOT = 2 };

/* Check a file name component: MAGMA_ENAMETOOLONG over FS_NAME_MAX
 * bytes, MAGMA_EINVAL when empty or containing '/' or NUL, else 0 with
 * *dots set to enum nfs3_dots. */
int nfs3_name_check(const char *name, size_t len, int *dots);

/* XDR size in bytes of a string/opaque of len bytes (length + padded
 * bytes). */
static inline size_t nfs3_xdr_opaque_size(size_t len)
{
	return 4 + ((len + 3) & ~(size_t)3);
}

/* ---- procedures (dispatch rows in nfs3_attr.c) ---- */

int nfs3_null(rpc_req *req, void *args, void *res);
int nfs3_getattr(rpc_req *req, void *args, void *res);
int nfs3_setattr(rpc_req *req, void *args, void *res);
int nfs3_lookup(rpc_req *req, void *args, void *res);
int nfs3_access(rpc_req *req, void *args, void *res);
int nfs3_readlink(rpc_req *req, void *args, void *res);
int nfs3_read(rpc_req *req, void *args, void *res);
/* READ's result: READ3res, with the bytes where fs_read_data left them
 * (data_val stays NULL); its codec sends them from there and frees
 * them after the send (nfs3_file.c). */
typedef struct nfs3_read_res {
	READ3res r;
	fs_rdata d;
} nfs3_read_res;
bool_t nfs3_xdr_read_res(XDR *x, nfs3_read_res *w);
int nfs3_write(rpc_req *req, void *args, void *res);
/* WRITE's argument codec: the data decoded in place (nfs3_file.c). */
bool_t nfs3_xdr_write_args(XDR *x, WRITE3args *a);
int nfs3_create(rpc_req *req, void *args, void *res);
int nfs3_mkdir(rpc_req *req, void *args, void *res);
int nfs3_symlink(rpc_req *req, void *args, void *res);
int nfs3_mknod(rpc_req *req, void *args, void *res);
int nfs3_remove(rpc_req *req, void *args, void *res);
int nfs3_rmdir(rpc_req *req, void *args, void *res);
int nfs3_rename(rpc_req *req, void *args, void *res);
int nfs3_link(rpc_req *req, void *args, void *res);
int nfs3_readdir(rpc_req *req, void *args, void *res);
int nfs3_readdirplus(rpc_req *req, void *args, void *res);
int nfs3_fsstat(rpc_req *req, void *args, void *res);
int nfs3_fsinfo(rpc_req *req, void *args, void *res);
int nfs3_pathconf(rpc_req *req, void *args, void *res);
int nfs3_commit(rpc_req *req, void *args, void *res);

#endif
