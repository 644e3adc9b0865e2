/* nfsit.c - integration test client for magmad: the check framework, raw
 * RPC plumbing over libnfs, handle/attribute helpers and main().  The
 * subcommands live in nfsit_procs.c, nfsit_bulk.c and nfsit_garbage.c. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nfsit.h"

int nit_npass, nit_nfail;
static int nit_num;

#if defined(__SANITIZE_ADDRESS__)
/* nfsit is a short-lived test client that keeps replies until exit on
 * purpose; leak reports would only hide the server's results. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

int nit_check(int cond, const char *name, const char *fmt, ...)
{
	va_list ap;

	nit_num++;
	if (cond) {
		nit_npass++;
		printf("ok %d - %s\n", nit_num, name);
	} else {
		nit_nfail++;
		printf("not ok %d - %s: ", nit_num, name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
	return cond;
}

const char *nit_stname(int st)
{
	static char buf[32];

	if (st == -1)
		return "RPC-FAILURE";
	switch (st) {
	case NFS3_OK: return "NFS3_OK";
	case NFS3ERR_PERM: return "PERM";
	case NFS3ERR_NOENT: return "NOENT";
	case NFS3ERR_IO: return "IO";
	case NFS3ERR_NXIO: return "NXIO";
	case NFS3ERR_ACCES: return "ACCES";
	case NFS3ERR_EXIST: return "EXIST";
	case NFS3ERR_XDEV: return "XDEV";
	case NFS3ERR_NODEV: return "NODEV";
	case NFS3ERR_NOTDIR: return "NOTDIR";
	case NFS3ERR_ISDIR: return "ISDIR";
	case NFS3ERR_INVAL: return "INVAL";
	case NFS3ERR_FBIG: return "FBIG";
	case NFS3ERR_NOSPC: return "NOSPC";
	case NFS3ERR_ROFS: return "ROFS";
	case NFS3ERR_MLINK: return "MLINK";
	case NFS3ERR_NAMETOOLONG: return "NAMETOOLONG";
	case NFS3ERR_NOTEMPTY: return "NOTEMPTY";
	case NFS3ERR_DQUOT: return "DQUOT";
	case NFS3ERR_STALE: return "STALE";
	case NFS3ERR_REMOTE: return "REMOTE";
	case NFS3ERR_BADHANDLE: return "BADHANDLE";
	case NFS3ERR_NOT_SYNC: return "NOT_SYNC";
	case NFS3ERR_BAD_COOKIE: return "BAD_COOKIE";
	case NFS3ERR_NOTSUPP: return "NOTSUPP";
	case NFS3ERR_TOOSMALL: return "TOOSMALL";
	case NFS3ERR_SERVERFAULT: return "SERVERFAULT";
	case NFS3ERR_BADTYPE: return "BADTYPE";
	case NFS3ERR_JUKEBOX: return "JUKEBOX";
	}
	snprintf(buf, sizeof buf, "status %d", st);
	return buf;
}

int nit_check_st(int got, int want, const char *name)
{
	char w[32];

	snprintf(w, sizeof w, "%s", nit_stname(want));
	return nit_check(got == want, name, "got %s, want %s", nit_stname(got),
	                 w);
}

int nit_check_st_any(int got, const int *want, int n, const char *name)
{
	char w[256] = "";
	int i, ok = 0;

	for (i = 0; i < n; i++) {
		if (got == want[i])
			ok = 1;
		snprintf(w + strlen(w), sizeof w - strlen(w), "%s%s",
		         i ? "|" : "", nit_stname(want[i]));
	}
	return nit_check(ok, name, "got %s, want one of %s", nit_stname(got),
	                 w);
}

void nit_note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int nit_summary(void)
{
	printf("%d passed, %d failed\n", nit_npass, nit_nfail);
	fflush(stdout);
	return nit_nfail ? 1 : 0;
}

/* ---- result pool: decoded replies live here until nit_pool_free ---- */
struct pool_ent {
	struct pool_ent *next;
	ZDR zdr;   /* owns the decoder's allocations */
	char *buf; /* the re-encoded reply */
};
static struct pool_ent *pool;

void nit_pool_free(void)
{
	while (pool) {
		struct pool_ent *n = pool->next;
		zdr_destroy(&pool->zdr);
		free(pool->buf);
		free(pool);
		pool = n;
	}
}

struct waiter {
	int done;
	int status;
	char err[256];
	zdrproc_t xdr;
	void *res;
	size_t res_size;
	int decode_failed;
};

/* libnfs frees the reply when the callback returns: re-encode it, then
 * decode the bytes into pool-owned memory. */
static void nit_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	struct waiter *w = priv;
	struct pool_ent *pe;
	size_t cap = 64 * 1024;
	char *buf = NULL;
	uint32_t len = 0;

	w->done = 1;
	w->status = status;
	if (status != RPC_STATUS_SUCCESS) {
		snprintf(w->err, sizeof w->err, "%s",
		         data ? (const char *)data : rpc_get_error(rpc));
		return;
	}
	if (!w->xdr || !data)
		return;
	for (;;) {
		ZDR z;
		buf = malloc(cap);
		if (!buf)
			break;
		zdrmem_create(&z, buf, cap, ZDR_ENCODE);
		if (w->xdr(&z, data)) {
			len = zdr_getpos(&z);
			zdr_destroy(&z);
			break;
		}
		zdr_destroy(&z);
		free(buf);
		buf = NULL;
		cap *= 4;
		if (cap > (size_t)256 << 20)
			break;
	}
	if (!buf) {
		w->decode_failed = 1;
		return;
	}
	pe = calloc(1, sizeof *pe);
	pe->buf = buf;
	zdrmem_create(&pe->zdr, buf, len, ZDR_DECODE);
	memset(w->res, 0, w->res_size);
	if (!w->xdr(&pe->zdr, w->res))
		w->decode_failed = 1;
	pe->next = pool;
	pool = pe;
}

static int nit_wait(nit_conn *c, int *done, int max_inflight)
{
	time_t deadline = time(NULL) + 120;

	for (;;) {
		struct pollfd p;
		int n;

		if (done && *done)
			return 0;
		if (!done && rpc_queue_length(c->rpc) <= max_inflight)
			return 0;
		p.fd = rpc_get_fd(c->rpc);
		p.events = rpc_which_events(c->rpc);
		p.revents = 0;
		n = poll(&p, 1, 500);
		if (n < 0 && errno != EINTR) {
			snprintf(c->err, sizeof c->err, "poll: %s",
			         strerror(errno));
			return -1;
		}
		if (rpc_service(c->rpc, n > 0 ? p.revents : 0) < 0) {
			snprintf(c->err, sizeof c->err, "rpc_service: %s",
			         rpc_get_error(c->rpc));
			return -1;
		}
		if (time(NULL) > deadline) {
			snprintf(c->err, sizeof c->err,
			         "timeout waiting for reply");
			return -1;
		}
	}
}

int nit_drain(nit_conn *c, int max_inflight)
{
	return nit_wait(c, NULL, max_inflight);
}

static int nit_finish(nit_conn *c, struct waiter *w)
{
	if (nit_wait(c, &w->done, 0) < 0)
		return -1;
	if (w->status != RPC_STATUS_SUCCESS) {
		snprintf(c->err, sizeof c->err, "%s", w->err);
		return -1;
	}
	if (w->decode_failed) {
		snprintf(c->err, sizeof c->err, "cannot copy reply");
		return -1;
	}
	return 0;
}

int nit_call(nit_conn *c, nit_issue_fn fn, void *args, zdrproc_t xdr, void *res,
             size_t res_size)
{
	struct waiter w = { .xdr = xdr, .res = res, .res_size = res_size };

	if (fn(c->rpc, nit_cb, args, &w) != 0) {
		snprintf(c->err, sizeof c->err, "queue: %s",
		         rpc_get_error(c->rpc));
		return -1;
	}
	return nit_finish(c, &w);
}

int nit_call0(nit_conn *c, nit_issue0_fn fn, zdrproc_t xdr, void *res,
              size_t res_size)
{
	struct waiter w = { .xdr = xdr, .res = res, .res_size = res_size };

	if (fn(c->rpc, nit_cb, &w) != 0) {
		snprintf(c->err, sizeof c->err, "queue: %s",
		         rpc_get_error(c->rpc));
		return -1;
	}
	return nit_finish(c, &w);
}

static void connect_cb(struct rpc_context *rpc, int status, void *data,
                       void *priv)
{
	struct waiter *w = priv;

	w->done = 1;
	w->status = status;
	if (status != RPC_STATUS_SUCCESS)
		snprintf(w->err, sizeof w->err, "%s",
		         data ? (const char *)data : rpc_get_error(rpc));
}

nit_conn *nit_connect(const char *host, int port, uint32_t uid, uint32_t gid)
{
	nit_conn *c = calloc(1, sizeof *c);
	struct waiter w = { 0 };

	snprintf(c->host, sizeof c->host, "%s", host);
	c->port = port;
	c->rpc = rpc_init_context();
	if (!c->rpc) {
		fprintf(stderr, "nfsit: rpc_init_context failed\n");
		free(c);
		return NULL;
	}
	nit_set_cred(c, uid, gid, 0, NULL);
	if (rpc_connect_async(c->rpc, host, port, connect_cb, &w) != 0 ||
	    nit_wait(c, &w.done, 0) < 0 || w.status != RPC_STATUS_SUCCESS) {
		fprintf(stderr, "nfsit: connect %s:%d: %s\n", host, port,
		        w.err[0] ? w.err : rpc_get_error(c->rpc));
		rpc_destroy_context(c->rpc);
		free(c);
		return NULL;
	}
	return c;
}

void nit_close(nit_conn *c)
{
	if (!c)
		return;
	rpc_destroy_context(c->rpc);
	free(c);
}

void nit_set_cred(nit_conn *c, uint32_t uid, uint32_t gid, uint32_t ngids,
                  const uint32_t *gids)
{
	uint32_t g[16];

	if (ngids > 16)
		ngids = 16;
	if (ngids)
		memcpy(g, gids, ngids * sizeof *g);
	rpc_set_auth(c->rpc, libnfs_authunix_create("nfsit", uid, gid, ngids,
	                                            ngids ? g : NULL));
}

int nit_mnt(nit_conn *c, const char *path, nit_fh *fh)
{
	struct waiter w = { .xdr = (zdrproc_t)zdr_mountres3 };
	mountres3 res;

	w.res = &res;
	w.res_size = sizeof res;
	if (rpc_mount3_mnt_async(c->rpc, nit_cb, (char *)path, &w) != 0)
		return -1;
	if (nit_finish(c, &w) < 0)
		return -1;
	if (res.fhs_status == MNT3_OK && fh) {
		fhandle3 *h = &res.mountres3_u.mountinfo.fhandle;
		fh->len = h->fhandle3_len > NIT_FHMAX ? NIT_FHMAX
		                                      : h->fhandle3_len;
		memcpy(fh->data, h->fhandle3_val, fh->len);
	}
	return res.fhs_status;
}

int nit_umnt(nit_conn *c, const char *path)
{
	struct waiter w = { 0 };

	if (rpc_mount3_umnt_async(c->rpc, nit_cb, (char *)path, &w) != 0)
		return -1;
	return nit_finish(c, &w);
}

int nit_readdir_all(nit_conn *c, const nit_fh *dir, int plus, uint32_t count,
                    nit_dirent_fn fn, void *arg, int *pages)
{
	uint64_t cookie = 0;
	char verf[NFS3_COOKIEVERFSIZE] = { 0 };

	*pages = 0;
	for (;;) {
		int eof, n = 0;
		if (!plus) {
			READDIR3args a;
			READDIR3res r;
			entry3 *e;
			a.dir = nit_fh3(dir);
			a.cookie = cookie;
			memcpy(a.cookieverf, verf, sizeof verf);
			a.count = count;
			if (NIT3(c, readdir, READDIR, &a, &r) < 0)
				return -1;
			(*pages)++;
			if (r.status != NFS3_OK) {
				nit_pool_free();
				return r.status;
			}
			for (e = r.READDIR3res_u.resok.reply.entries; e;
			     e = e->nextentry, n++) {
				fn(arg, e->name, e->fileid, e->cookie, NULL,
				   NULL);
				cookie = e->cookie;
			}
			memcpy(verf, r.READDIR3res_u.resok.cookieverf,
			       sizeof verf);
			eof = r.READDIR3res_u.resok.reply.eof;
		} else {
			READDIRPLUS3args a;
			READDIRPLUS3res r;
			entryplus3 *e;
			a.dir = nit_fh3(dir);
			a.cookie = cookie;
			memcpy(a.cookieverf, verf, sizeof verf);
			a.dircount = count / 4;
			a.maxcount = count;
			if (NIT3(c, readdirplus, READDIRPLUS, &a, &r) < 0)
				return -1;
			(*pages)++;
			if (r.status != NFS3_OK) {
				nit_pool_free();
				return r.status;
			}
			for (e = r.READDIRPLUS3res_u.resok.reply.entries; e;
			     e = e->nextentry, n++) {
				nit_fh fh;
				const nit_fh *fp = NULL;
				const fattr3 *ap = NULL;
				if (e->name_handle.handle_follows) {
					nit_fh_from(
					        &fh,
					        &e->name_handle.post_op_fh3_u
					                 .handle);
					fp = &fh;
				}
				if (e->name_attributes.attributes_follow)
					ap = &e->name_attributes.post_op_attr_u
					              .attributes;
				fn(arg, e->name, e->fileid, e->cookie, fp, ap);
				cookie = e->cookie;
			}
			memcpy(verf, r.READDIRPLUS3res_u.resok.cookieverf,
			       sizeof verf);
			eof = r.READDIRPLUS3res_u.resok.reply.eof;
		}
		nit_pool_free();
		if (eof)
			return NFS3_OK;
		if (n == 0)
			return -2;
	}
}

/* ---- handles ---- */
void nit_fh_from(nit_fh *out, const nfs_fh3 *in)
{
	out->len =
	        in->data.data_len > NIT_FHMAX ? NIT_FHMAX : in->data.data_len;
	memcpy(out->data, in->data.data_val, out->len);
}

int nit_fh_eq(const nit_fh *a, const nit_fh *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

void nit_fh_hex(const nit_fh *fh, char *buf)
{
	uint32_t i;

	for (i = 0; i < fh->len; i++)
		sprintf(buf + 2 * i, "%02x", (unsigned char)fh->data[i]);
	buf[2 * fh->len] = 0;
}

int nit_fh_unhex(nit_fh *fh, const char *hex)
{
	size_t n = strlen(hex), i;

	if (n % 2 || n / 2 > NIT_FHMAX)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		fh->data[i] = (char)v;
	}
	fh->len = (uint32_t)(n / 2);
	return 0;
}

/* ---- common operations ---- */
void nit_sattr_none(sattr3 *sa)
{
	memset(sa, 0, sizeof *sa);
}

int nit_getattr(nit_conn *c, const nit_fh *fh, fattr3 *attr)
{
	GETATTR3args a = { .object = nit_fh3(fh) };
	GETATTR3res r;

	if (NIT3(c, getattr, GETATTR, &a, &r) < 0)
		return -1;
	if (r.status == NFS3_OK && attr)
		*attr = r.GETATTR3res_u.resok.obj_attributes;
	return r.status;
}

int nit_lookup(nit_conn *c, const nit_fh *dir, const char *name, nit_fh *out,
               fattr3 *attr)
{
	LOOKUP3args a;
	LOOKUP3res r;

	a.what.dir = nit_fh3(dir);
	a.what.name = (char *)name;
	if (NIT3(c, lookup, LOOKUP, &a, &r) < 0)
		return -1;
	if (r.status == NFS3_OK) {
		if (out)
			nit_fh_from(out, &r.LOOKUP3res_u.resok.object);
		if (attr) {
			post_op_attr *p = &r.LOOKUP3res_u.resok.obj_attributes;
			if (p->attributes_follow)
				*attr = p->post_op_attr_u.attributes;
			else if (out)
				nit_getattr(c, out, attr);
		}
	}
	return r.status;
}

int nit_create(nit_conn *c, const nit_fh *dir, const char *name, int how,
               uint32_t mode, const char *verf, nit_fh *out, fattr3 *attr)
{
	CREATE3args a;
	CREATE3res r;

	memset(&a, 0, sizeof a);
	a.where.dir = nit_fh3(dir);
	a.where.name = (char *)name;
	a.how.mode = how;
	if (how == EXCLUSIVE) {
		memcpy(a.how.createhow3_u.verf, verf, 8);
	} else {
		a.how.createhow3_u.obj_attributes.mode.set_it = 1;
		a.how.createhow3_u.obj_attributes.mode.set_mode3_u.mode = mode;
	}
	if (NIT3(c, create, CREATE, &a, &r) < 0)
		return -1;
	if (r.status == NFS3_OK) {
		CREATE3resok *ok = &r.CREATE3res_u.resok;
		nit_fh fh;
		if (ok->obj.handle_follows)
			nit_fh_from(&fh, &ok->obj.post_op_fh3_u.handle);
		else if (nit_lookup(c, dir, name, &fh, NULL) != NFS3_OK)
			return NFS3ERR_SERVERFAULT;
		if (out)
			*out = fh;
		if (attr) {
			if (ok->obj_attributes.attributes_follow)
				*attr = ok->obj_attributes.post_op_attr_u
				                .attributes;
			else
				nit_getattr(c, &fh, attr);
		}
	}
	return r.status;
}

int nit_mkdir(nit_conn *c, const nit_fh *dir, const char *name, uint32_t mode,
              nit_fh *out, fattr3 *attr)
{
	MKDIR3args a;
	MKDIR3res r;

	memset(&a, 0, sizeof a);
	a.where.dir = nit_fh3(dir);
	a.where.name = (char *)name;
	a.attributes.mode.set_it = 1;
	a.attributes.mode.set_mode3_u.mode = mode;
	if (NIT3(c, mkdir, MKDIR, &a, &r) < 0)
		return -1;
	if (r.status == NFS3_OK) {
		MKDIR3resok *ok = &r.MKDIR3res_u.resok;
		nit_fh fh;
		if (ok->obj.handle_follows)
			nit_fh_from(&fh, &ok->obj.post_op_fh3_u.handle);
		else if (nit_lookup(c, dir, name, &fh, NULL) != NFS3_OK)
			return NFS3ERR_SERVERFAULT;
		if (out)
			*out = fh;
		if (attr) {
			if (ok->obj_attributes.attributes_follow)
				*attr = ok->obj_attributes.post_op_attr_u
				                .attributes;
			else
				nit_getattr(c, &fh, attr);
		}
	}
	return r.status;
}

int nit_remove(nit_conn *c, const nit_fh *dir, const char *name)
{
	REMOVE3args a;
	REMOVE3res r;

	a.object.dir = nit_fh3(dir);
	a.object.name = (char *)name;
	if (NIT3(c, remove, REMOVE, &a, &r) < 0)
		return -1;
	return r.status;
}

int nit_rmdir(nit_conn *c, const nit_fh *dir, const char *name)
{
	RMDIR3args a;
	RMDIR3res r;

	a.object.dir = nit_fh3(dir);
	a.object.name = (char *)name;
	if (NIT3(c, rmdir, RMDIR, &a, &r) < 0)
		return -1;
	return r.status;
}

int nit_write(nit_conn *c, const nit_fh *fh, uint64_t off, const void *buf,
              uint32_t len, int stable, char verf[8], int *committed)
{
	WRITE3args a;
	WRITE3res r;

	a.file = nit_fh3(fh);
	a.offset = off;
	a.count = len;
	a.stable = stable;
	a.data.data_len = len;
	a.data.data_val = (char *)buf;
	if (NIT3(c, write, WRITE, &a, &r) < 0)
		return -1;
	if (r.status == NFS3_OK) {
		if (verf)
			memcpy(verf, r.WRITE3res_u.resok.verf, 8);
		if (committed)
			*committed = r.WRITE3res_u.resok.committed;
		if (r.WRITE3res_u.resok.count != len)
			nit_note("short write: %u of %u",
			         r.WRITE3res_u.resok.count, len);
	}
	return r.status;
}

int nit_read(nit_conn *c, const nit_fh *fh, uint64_t off, uint32_t count,
             void *buf, uint32_t *got, int *eof)
{
	READ3args a;
	READ3res r;

	a.file = nit_fh3(fh);
	a.offset = off;
	a.count = count;
	if (NIT3(c, read, READ, &a, &r) < 0)
		return -1;
	if (r.status == NFS3_OK) {
		READ3resok *ok = &r.READ3res_u.resok;
		uint32_t n = ok->data.data_len;
		if (n > count)
			n = count;
		memcpy(buf, ok->data.data_val, n);
		if (got)
			*got = n;
		if (eof)
			*eof = ok->eof;
	}
	return r.status;
}

int nit_commit(nit_conn *c, const nit_fh *fh, char verf[8])
{
	COMMIT3args a;
	COMMIT3res r;

	a.file = nit_fh3(fh);
	a.offset = 0;
	a.count = 0;
	if (NIT3(c, commit, COMMIT, &a, &r) < 0)
		return -1;
	if (r.status == NFS3_OK && verf)
		memcpy(verf, r.COMMIT3res_u.resok.verf, 8);
	return r.status;
}

int nit_rename(nit_conn *c, const nit_fh *fd, const char *fn, const nit_fh *td,
               const char *tn)
{
	RENAME3args a;
	RENAME3res r;

	a.from.dir = nit_fh3(fd);
	a.from.name = (char *)fn;
	a.to.dir = nit_fh3(td);
	a.to.name = (char *)tn;
	if (NIT3(c, rename, RENAME, &a, &r) < 0)
		return -1;
	return r.status;
}

static int nit_setattr_sa(nit_conn *c, const nit_fh *fh, const sattr3 *sa)
{
	SETATTR3args a;
	SETATTR3res r;

	memset(&a, 0, sizeof a);
	a.object = nit_fh3(fh);
	a.new_attributes = *sa;
	if (NIT3(c, setattr, SETATTR, &a, &r) < 0)
		return -1;
	return r.status;
}

int nit_setsize(nit_conn *c, const nit_fh *fh, uint64_t size)
{
	sattr3 sa;

	nit_sattr_none(&sa);
	sa.size.set_it = 1;
	sa.size.set_size3_u.size = size;
	return nit_setattr_sa(c, fh, &sa);
}

int nit_setmode(nit_conn *c, const nit_fh *fh, uint32_t mode)
{
	sattr3 sa;

	nit_sattr_none(&sa);
	sa.mode.set_it = 1;
	sa.mode.set_mode3_u.mode = mode;
	return nit_setattr_sa(c, fh, &sa);
}

/* splitmix64 of the 8-byte word index: any byte range can be regenerated
 * from its offset alone. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void nit_fill(void *buf, size_t len, uint64_t seed, uint64_t off)
{
	unsigned char *p = buf;
	size_t i = 0;

	while (i < len) {
		uint64_t pos = off + i,
		         w = mix(seed * 0x100000001b3ULL + pos / 8);
		unsigned k = (unsigned)(pos % 8);
		if (k == 0 && len - i >= 8) {
			memcpy(p + i, &w, 8);
			i += 8;
			continue;
		}
		p[i++] = (unsigned char)(w >> (8 * k));
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: nfsit procs HOST PORT\n"
	                "       nfsit bigfile HOST PORT MB\n"
	                "       nfsit bigdir HOST PORT N\n"
	                "       nfsit write-commit HOST PORT STATEFILE\n"
	                "       nfsit verify HOST PORT STATEFILE\n"
	                "       nfsit uwrite HOST PORT STATEFILE\n"
	                "       nfsit ucommit HOST PORT STATEFILE "
	                "same|changed\n"
	                "       nfsit garbage HOST PORT\n"
	                "       nfsit nospc HOST PORT\n"
	                "       nfsit ping HOST PORT\n");
}

int main(int argc, char **argv)
{
	const char *cmd, *host;
	int port;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4) {
		usage();
		return 2;
	}
	cmd = argv[1];
	host = argv[2];
	port = atoi(argv[3]);
	if (!strcmp(cmd, "procs"))
		return nit_cmd_procs(host, port);
	if (!strcmp(cmd, "garbage"))
		return nit_cmd_garbage(host, port);
	if (!strcmp(cmd, "nospc"))
		return nit_cmd_nospc(host, port);
	if (!strcmp(cmd, "ping"))
		return nit_cmd_ping(host, port);
	if (argc < 5) {
		usage();
		return 2;
	}
	if (!strcmp(cmd, "bigfile"))
		return nit_cmd_bigfile(host, port, atoi(argv[4]));
	if (!strcmp(cmd, "bigdir"))
		return nit_cmd_bigdir(host, port, atoi(argv[4]));
	if (!strcmp(cmd, "write-commit"))
		return nit_cmd_write_commit(host, port, argv[4]);
	if (!strcmp(cmd, "verify"))
		return nit_cmd_verify(host, port, argv[4]);
	if (!strcmp(cmd, "uwrite"))
		return nit_cmd_uwrite(host, port, argv[4]);
	if (!strcmp(cmd, "ucommit") && argc > 5)
		return nit_cmd_ucommit(host, port, argv[4], argv[5]);
	usage();
	return 2;
}
