/* nfsit.h - the libnfs-based integration test client (tests/nfsit*.c).
 *
 * Raw calls: every NFSv3 and MOUNTv3 procedure is issued with libnfs's
 * raw rpc_*_async API and waited for synchronously; the reply is deep
 * copied out of libnfs's callback-scoped buffers (re-encoded, then decoded
 * into memory owned by a result pool) so checks can look at it after the
 * call returns.  Results stay valid until nit_pool_free().
 *
 * Checks print TAP-like lines "ok N - name" / "not ok N - name: why" and
 * nit_summary() prints "P passed, F failed". */
#ifndef NFSIT_H
#define NFSIT_H

#include <stddef.h>
#include <stdint.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-mount.h>
#include <nfsc/libnfs-raw-nfs.h>

#define NIT_FHMAX 64

typedef struct nit_fh {
	uint32_t len;
	char data[NIT_FHMAX];
} nit_fh;

typedef struct nit_conn {
	struct rpc_context *rpc;
	char host[64];
	int port;
	char err[256]; /* last RPC-level error */
} nit_conn;

/* ---- checks ---- */
extern int nit_npass, nit_nfail;
/* Records one check; fmt explains a failure (ignored on success). */
int nit_check(int cond, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
#define CHECK(cond, name, ...) nit_check(!!(cond), name, __VA_ARGS__)
/* Status check with readable names: ok iff got == want. */
int nit_check_st(int got, int want, const char *name);
/* ok iff got is one of the n statuses in want. */
int nit_check_st_any(int got, const int *want, int n, const char *name);
#define CHECK_ST_ANY(got, name, ...)                                           \
	do {                                                                   \
		const int w_[] = { __VA_ARGS__ };                              \
		nit_check_st_any((got), w_, (int)(sizeof w_ / sizeof w_[0]),   \
		                 (name));                                      \
	} while (0)
void nit_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the summary line; returns the process exit code (0 or 1). */
int nit_summary(void);
const char *nit_stname(int st);

/* ---- connections and raw calls ---- */
/* Connects a raw RPC context to host:port (NFS and MOUNT share the port)
 * with AUTH_SYS uid/gid.  NULL on failure (message on stderr). */
nit_conn *nit_connect(const char *host, int port, uint32_t uid, uint32_t gid);
void nit_close(nit_conn *c);
/* Switch the AUTH_SYS credential (aux groups: ngids of gids). */
void nit_set_cred(nit_conn *c, uint32_t uid, uint32_t gid, uint32_t ngids,
                  const uint32_t *gids);

typedef int (*nit_issue_fn)(struct rpc_context *rpc, rpc_cb cb, void *args,
                            void *priv);
/* Issues fn(args) and waits; on RPC success decodes the reply into res
 * (res_size bytes, zeroed first; memory owned by the pool) and returns 0.
 * Returns -1 on an RPC-level failure (c->err says why). */
int nit_call(nit_conn *c, nit_issue_fn fn, void *args, zdrproc_t xdr, void *res,
             size_t res_size);
/* NULL-type procedures (no args): fn(rpc, cb, priv). */
typedef int (*nit_issue0_fn)(struct rpc_context *rpc, rpc_cb cb, void *priv);
int nit_call0(nit_conn *c, nit_issue0_fn fn, zdrproc_t xdr, void *res,
              size_t res_size);
/* Frees every decoded result so far. */
void nit_pool_free(void);
/* Waits until c has no request in flight (for pipelined async use). */
int nit_drain(nit_conn *c, int max_inflight);

#define NIT3(c, proc, PROC, args, res)                                         \
	nit_call((c), (nit_issue_fn)rpc_nfs3_##proc##_async, (args),           \
	         (zdrproc_t)zdr_##PROC##3res, (res), sizeof *(res))

/* ---- MOUNT ---- */
/* MNT path: returns the mountstat3 (or -1 on RPC failure); *fh on OK. */
int nit_mnt(nit_conn *c, const char *path, nit_fh *fh);
/* UMNT path: 0, or -1 on RPC failure. */
int nit_umnt(nit_conn *c, const char *path);

/* READDIR (plus = 0) or READDIRPLUS over a whole directory with the given
 * count (maxcount for PLUS; dircount = count / 4), calling fn per entry.
 * fh and attr are NULL when absent.  Frees the result pool after each
 * page.  Returns the nfsstat3 of the first failing call, -1 on RPC
 * failure, -2 when the server sent an empty page without eof; *pages
 * counts the calls. */
typedef void (*nit_dirent_fn)(void *arg, const char *name, uint64_t fileid,
                              uint64_t cookie, const nit_fh *fh,
                              const fattr3 *attr);
int nit_readdir_all(nit_conn *c, const nit_fh *dir, int plus, uint32_t count,
                    nit_dirent_fn fn, void *arg, int *pages);

/* ---- small helpers on handles and attributes ---- */
static inline nfs_fh3 nit_fh3(const nit_fh *fh)
{
	nfs_fh3 r;
	r.data.data_len = fh->len;
	r.data.data_val = (char *)fh->data;
	return r;
}
void nit_fh_from(nit_fh *out, const nfs_fh3 *in);
int nit_fh_eq(const nit_fh *a, const nit_fh *b);
/* Hex text of a handle into buf (2*NIT_FHMAX+1). */
void nit_fh_hex(const nit_fh *fh, char *buf);
int nit_fh_unhex(nit_fh *fh, const char *hex);

/* Common operations: return the nfsstat3, or -1 on RPC failure. */
int nit_getattr(nit_conn *c, const nit_fh *fh, fattr3 *attr);
int nit_lookup(nit_conn *c, const nit_fh *dir, const char *name, nit_fh *out,
               fattr3 *attr);
int nit_create(nit_conn *c, const nit_fh *dir, const char *name, int how,
               uint32_t mode, const char *verf, nit_fh *out, fattr3 *attr);
int nit_mkdir(nit_conn *c, const nit_fh *dir, const char *name, uint32_t mode,
              nit_fh *out, fattr3 *attr);
int nit_remove(nit_conn *c, const nit_fh *dir, const char *name);
int nit_rmdir(nit_conn *c, const nit_fh *dir, const char *name);
int nit_write(nit_conn *c, const nit_fh *fh, uint64_t off, const void *buf,
              uint32_t len, int stable, char verf[8], int *committed);
int nit_read(nit_conn *c, const nit_fh *fh, uint64_t off, uint32_t count,
             void *buf, uint32_t *got, int *eof);
int nit_commit(nit_conn *c, const nit_fh *fh, char verf[8]);
int nit_rename(nit_conn *c, const nit_fh *fd, const char *fn, const nit_fh *td,
               const char *tn);
int nit_setsize(nit_conn *c, const nit_fh *fh, uint64_t size);
int nit_setmode(nit_conn *c, const nit_fh *fh, uint32_t mode);
void nit_sattr_none(sattr3 *sa);

/* Deterministic pseudo-random bytes: the content of (seed, off..off+len). */
void nit_fill(void *buf, size_t len, uint64_t seed, uint64_t off);

/* ---- subcommands ---- */
int nit_cmd_procs(const char *host, int port);
int nit_cmd_bigfile(const char *host, int port, int mb);
int nit_cmd_bigdir(const char *host, int port, int n);
int nit_cmd_write_commit(const char *host, int port, const char *state);
int nit_cmd_verify(const char *host, int port, const char *state);
int nit_cmd_garbage(const char *host, int port);
int nit_cmd_nospc(const char *host, int port);
int nit_cmd_ping(const char *host, int port);
int nit_cmd_uwrite(const char *host, int port, const char *state);
int nit_cmd_ucommit(const char *host, int port, const char *state,
                    const char *want);

#endif
