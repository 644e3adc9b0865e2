/* fuzz_nfs3.c - fuzz target for every NFSv3 and MOUNT v3 procedure: the
 * argument decoder and the handler, through the dispatch rows of
 * server/dispatch.h, against a real fs over a real LMDB store.
 *
 * Input: byte 0 picks the procedure (mod 28: 0..21 NFSv3, 22..27 MOUNT
 * 0..5), byte 1 the caller's credential, the rest are the XDR arguments.
 * Before decoding, placeholders in the arguments are replaced so that
 * handlers get past their handle and cookie checks:
 *   00 00 00 38 FE 'M' 'H' i ...(49 more)  -> handle of fixture i % NFIX
 *   FE 'C' 'V' i 00 00 00 00               -> the last cookie verifier
 *   FE 'C' 'K' i 00 00 00 00               -> cookie i % 8 last seen
 * (the verifier and cookies come from earlier READDIR(PLUS) replies).
 * The fixture tree is rebuilt from scratch every FUZZ_RESET inputs, so a
 * run stays bounded whatever the inputs remove or write.
 *
 * A libFuzzer target, or run by tests/fuzz_main.c (see fuzz.h). */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpc/rpc.h>

#include "dispatch.h"
#include "fh.h"
#include "fs.h"
#include "keys.h"
#include "merr.h"
#include "mlog.h"
#include "nfs3.h"
#include "nfs3_prot.h"
#include "rpc/rpcmsg.h"
#include "store.h"
#include "tests/fuzz.h"

#define FUZZ_RESET 4096
#define NFIX 10
#define NCOOKIES 8

static struct {
	char dir[256];
	magma_keys keys;
	store *st;
	fs *fs;
	uint8_t fh[NFIX][FH_LEN];
	uint8_t verf[8];
	uint64_t cookies[NCOOKIES];
	unsigned long runs;
	/* MAGMA_FUZZ_STATS: calls, decoded and NFS3_OK results per proc */
	unsigned long calls[28], decoded[28], ok[28];
} fz;

static const fs_cred fuzz_root = { 0, 0, 0, { 0 } };

static void die(const char *what, int rc)
{
	fprintf(stderr, "fuzz_nfs3: %s: %s\n", what, magma_strerror(rc));
	abort();
}

static void rm_store_dir(void)
{
	DIR *d = opendir(fz.dir);
	struct dirent *e;
	char p[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", fz.dir, e->d_name);
		unlink(p);
	}
	closedir(d);
}

static void fix_handle(int i, const fs_ref *ref)
{
	int rc = fh_encode(&fz.keys, NFS3_EXPORT_ID, ref, fz.fh[i]);

	if (rc < 0)
		die("fh_encode", rc);
}

static void fix_write(const fs_ref *ref, uint64_t off, size_t len)
{
	static uint8_t data[70000];
	int committed, rc;

	memset(data, 'x', sizeof(data));
	rc = fs_write(fz.fs, &fuzz_root, ref, off, data, (uint32_t)len,
	              FS_FILE_SYNC, &committed, NULL);
	if (rc < 0)
		die("fs_write", rc);
}

/* The tree every run starts from; handles 0..9:
 *   0 /  1 /d (0777)  2 /d/f (1000:1000, 0644, 70000+ bytes, sparse)
 *   3 /d/l -> f  4 /d/sub (holds x)  5 /ro (0444)  6 /d/p (fifo)
 *   7 a removed file (stale)  8 /t (01777, holds y of 1000)  9 /d/sub/x */
static void fixture(void)
{
	fs_sattr sa;
	fs_ref r[NFIX], gone;
	store_config cfg = { fz.dir, 256ull << 20 };
	int rc;

#define FX(call)                                                               \
	do {                                                                   \
		if ((rc = (call)) < 0)                                         \
			die(#call, rc);                                        \
	} while (0)
	FX(store_open(&fz.st, &cfg));
	FX(fs_open(&fz.fs, store_kv(fz.st), &fz.keys));
	fs_root(fz.fs, &r[0]);
	memset(&sa, 0, sizeof(sa));
	sa.set_mode = 1;
	sa.mode = 0777;
	FX(fs_mkdir(fz.fs, &fuzz_root, &r[0], "d", 1, &sa, &r[1], NULL, NULL));
	sa.mode = 0644;
	sa.set_uid = sa.set_gid = 1;
	sa.uid = sa.gid = 1000;
	FX(fs_create(fz.fs, &fuzz_root, &r[1], "f", 1, FS_CREATE_GUARDED, &sa,
	             NULL, &r[2], NULL, NULL));
	fix_write(&r[2], 0, 70000);
	fix_write(&r[2], 1u << 20, 100);
	sa.set_uid = sa.set_gid = 0;
	FX(fs_symlink(fz.fs, &fuzz_root, &r[1], "l", 1, "f", 1, &sa, &r[3],
	              NULL, NULL));
	sa.mode = 0755;
	FX(fs_mkdir(fz.fs, &fuzz_root, &r[1], "sub", 3, &sa, &r[4], NULL,
	            NULL));
	FX(fs_create(fz.fs, &fuzz_root, &r[4], "x", 1, FS_CREATE_GUARDED, &sa,
	             NULL, &r[9], NULL, NULL));
	sa.mode = 0444;
	FX(fs_create(fz.fs, &fuzz_root, &r[0], "ro", 2, FS_CREATE_GUARDED, &sa,
	             NULL, &r[5], NULL, NULL));
	fix_write(&r[5], 0, 10);
	sa.mode = 0644;
	FX(fs_mknod(fz.fs, &fuzz_root, &r[1], "p", 1, FS_FIFO, 0, 0, &sa, &r[6],
	            NULL, NULL));
	FX(fs_create(fz.fs, &fuzz_root, &r[0], "gone", 4, FS_CREATE_GUARDED,
	             &sa, NULL, &gone, NULL, NULL));
	FX(fs_remove(fz.fs, &fuzz_root, &r[0], "gone", 4, NULL));
	r[7] = gone;
	sa.mode = 01777;
	FX(fs_mkdir(fz.fs, &fuzz_root, &r[0], "t", 1, &sa, &r[8], NULL, NULL));
	sa.mode = 0600;
	sa.set_uid = sa.set_gid = 1;
	sa.uid = sa.gid = 1000;
	{
		fs_ref y;
		FX(fs_create(fz.fs, &fuzz_root, &r[8], "y", 1,
		             FS_CREATE_GUARDED, &sa, NULL, &y, NULL, NULL));
	}
#undef FX
	for (int i = 0; i < NFIX; i++)
		fix_handle(i, &r[i]);
	memset(fz.verf, 0, sizeof(fz.verf));
	memset(fz.cookies, 0, sizeof(fz.cookies));
}

static void teardown(void)
{
	if (fz.fs != NULL)
		fs_close(fz.fs);
	if (fz.st != NULL)
		store_close(fz.st);
	fz.fs = NULL;
	fz.st = NULL;
	rm_store_dir();
}

static void fuzz_exit(void)
{
	if (getenv("MAGMA_FUZZ_STATS") != NULL)
		for (int i = 0; i < 28; i++)
			fprintf(stderr,
			        "%s %-12s %8lu calls %8lu decoded "
			        "%8lu ok\n",
			        i < 22 ? "NFS3" : "MNT3",
			        i < 22 ? nfs3_program.procs[i].name
			               : mount3_program.procs[i - 22].name,
			        fz.calls[i], fz.decoded[i], fz.ok[i]);
	teardown();
	rmdir(fz.dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	const char *lvl = getenv("MAGMA_FUZZ_LOG");
	int rc;

	/* tmpfs when there is one: every LMDB commit is synced. */
	if (tmp == NULL || *tmp == '\0')
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz.dir, sizeof(fz.dir), "%s/fuzz_nfs3.XXXXXX", tmp);
	if (mkdtemp(fz.dir) == NULL) {
		perror(fz.dir);
		exit(1);
	}
	mlog_init("fuzz_nfs3", 0, lvl ? mlog_parse_level(lvl) : MLOG_ERR);
	rc = keys_derive("fuzz keyphrase", 14, "fuzz", &fz.keys);
	if (rc < 0)
		die("keys_derive", rc);
	fixture();
	atexit(fuzz_exit);
	return 0;
}

/* Replace the placeholders (see the file comment) in p[0..n). */
static void splice(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 8 <= n; i++) {
		if (p[i] != 0xfe)
			continue;
		if (p[i + 1] == 'M' && p[i + 2] == 'H' && i >= 4 &&
		    i + FH_LEN <= n && p[i - 4] == 0 && p[i - 3] == 0 &&
		    p[i - 2] == 0 && p[i - 1] == FH_LEN) {
			memcpy(p + i, fz.fh[p[i + 3] % NFIX], FH_LEN);
			i += FH_LEN - 1;
		} else if (p[i + 1] == 'C' && p[i + 2] == 'V') {
			memcpy(p + i, fz.verf, 8);
			i += 7;
		} else if (p[i + 1] == 'C' && p[i + 2] == 'K') {
			uint64_t c = fz.cookies[p[i + 3] % NCOOKIES];

			for (int j = 0; j < 8; j++)
				p[i + j] = (uint8_t)(c >> (56 - 8 * j));
			i += 7;
		}
	}
}

/* Keep what a READDIR(PLUS) reply offers for later inputs. */
static void remember(int plus, const void *res)
{
	int k = 0;

	if (!plus) {
		const READDIR3res *r = res;
		const entry3 *e;

		if (r->status != NFS3_OK)
			return;
		memcpy(fz.verf, r->READDIR3res_u.resok.cookieverf, 8);
		for (e = r->READDIR3res_u.resok.reply.entries;
		     e != NULL && k < NCOOKIES; e = e->nextentry)
			fz.cookies[k++] = e->cookie;
	} else {
		const READDIRPLUS3res *r = res;
		const entryplus3 *e;

		if (r->status != NFS3_OK)
			return;
		memcpy(fz.verf, r->READDIRPLUS3res_u.resok.cookieverf, 8);
		for (e = r->READDIRPLUS3res_u.resok.reply.entries;
		     e != NULL && k < NCOOKIES; e = e->nextentry)
			fz.cookies[k++] = e->cookie;
	}
}

static bool_t fuzz_void(XDR *x, void *p)
{
	return TRUE;
}

static void set_cred(rpc_req *req, uint8_t sel)
{
	req->flavor = AUTH_SYS;
	switch (sel % 4) {
	case 0: break; /* root */
	case 1:
		req->cred.uid = req->cred.gid = 1000;
		req->cred.ngids = 2;
		req->cred.gids[0] = 100;
		req->cred.gids[1] = 1000;
		break;
	case 2:
		req->flavor = AUTH_NONE;
		req->cred.uid = req->cred.gid = RPC_NOBODY;
		break;
	default:
		req->cred.uid = 1001;
		req->cred.gid = 100;
		break;
	}
	snprintf(req->machine, sizeof(req->machine), "fuzzhost");
}

/* Decode, run, encode and free one call, as rpc_server.c's run_call. */
static void run_proc(const rpc_program *prog, uint32_t proc, uint8_t credsel,
                     uint8_t *args_xdr, size_t len, uint32_t sel)
{
	static uint8_t out[RPC_MAX_RECORD];
	const rpc_proc *p = &prog->procs[proc];
	xdrproc_t xargs = p->xdr_args ? p->xdr_args : (xdrproc_t)fuzz_void;
	xdrproc_t xres = p->xdr_res ? p->xdr_res : (xdrproc_t)fuzz_void;
	void *args = calloc(1, p->args_size ? p->args_size : 1);
	void *res = calloc(1, p->res_size ? p->res_size : 1);
	rpc_req req;
	XDR x;
	int rc;

	if (args == NULL || res == NULL)
		abort();
	xdrmem_create(&x, (char *)args_xdr, (u_int)len, XDR_DECODE);
	fz.calls[sel]++;
	if (!xargs(&x, args)) {
		xdr_destroy(&x);
		xdr_free(xargs, args);
		goto out;
	}
	xdr_destroy(&x);
	fz.decoded[sel]++;

	memset(&req, 0, sizeof(req));
	req.fs = fz.fs;
	req.keys = &fz.keys;
	req.xid = fz.runs;
	set_cred(&req, credsel);
	rc = p->fn(&req, args, res);
	if (rc == 0) {
		xdrmem_create(&x, (char *)out, sizeof(out), XDR_ENCODE);
		if (!xres(&x, res)) {
			fprintf(stderr,
			        "fuzz_nfs3: %s %s: result does not "
			        "encode\n",
			        prog->name, p->name);
			abort();
		}
		xdr_destroy(&x);
		/* every result with a status starts with it */
		if (p->res_size < 4 || *(const uint32_t *)res == 0)
			fz.ok[sel]++;
		if (prog == &nfs3_program &&
		    (proc == NFSPROC3_READDIR || proc == NFSPROC3_READDIRPLUS))
			remember(proc == NFSPROC3_READDIRPLUS, res);
		xdr_free(xres, res);
	}
	xdr_free(xargs, args);
out:
	free(args);
	free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	uint32_t sel;

	if (size < 2)
		return 0;
	if (fz.runs > 0 && fz.runs % FUZZ_RESET == 0) {
		teardown();
		fixture();
	}
	fz.runs++;
	buf = malloc(size - 2 + 1);
	if (buf == NULL)
		abort();
	memcpy(buf, data + 2, size - 2);
	splice(buf, size - 2);
	sel = data[0] % 28u;
	if (sel < nfs3_program.nprocs)
		run_proc(&nfs3_program, sel, data[1], buf, size - 2, sel);
	else if (sel - 22 < mount3_program.nprocs)
		run_proc(&mount3_program, sel - 22, data[1], buf, size - 2,
		         sel);
	free(buf);
	return 0;
}

#ifndef MAGMA_LIBFUZZER

const unsigned long fuzz_count = 200000;

/* ---- seeds: well-formed arguments with placeholders ---- */

typedef struct wr {
	uint8_t *p;
	size_t n, cap;
} wr;

static void u32(wr *w, uint32_t v)
{
	if (w->n + 4 <= w->cap)
		w->n = fuzz_put32(w->p, w->n, v);
}

static void u64(wr *w, uint64_t v)
{
	u32(w, (uint32_t)(v >> 32));
	u32(w, (uint32_t)v);
}

static void opaque(wr *w, const void *b, size_t len, int fixed)
{
	size_t pad = (4 - len % 4) % 4;

	if (w->n + 4 + len + pad > w->cap)
		return;
	if (!fixed)
		u32(w, (uint32_t)len);
	memcpy(w->p + w->n, b, len);
	memset(w->p + w->n + len, 0, pad);
	w->n += len + pad;
}

/* Handle kinds the seeds prefer, as fixture indexes (see fixture()). */
enum { ANY, DIR_FH, FILE_FH };

static void fh_of(wr *w, int kind)
{
	static const uint8_t dirs[] = { 0, 1, 4, 8 }, files[] = { 2, 5, 9, 3 };
	uint8_t h[FH_LEN] = { 0xfe, 'M', 'H' };
	uint32_t k = fuzz_rnd() % 16;

	if (k == 0) { /* garbage of any length */
		size_t len = fuzz_rnd() % 70;

		for (size_t i = 0; i < len; i++)
			h[i % FH_LEN] = (uint8_t)fuzz_rnd();
		opaque(w, h, len > FH_LEN ? FH_LEN : len, 0);
		return;
	}
	h[3] = (uint8_t)fuzz_rnd();
	if (kind == DIR_FH && fuzz_rnd() % 4 != 0)
		h[3] = dirs[fuzz_rnd() % sizeof(dirs)];
	if (kind == FILE_FH && fuzz_rnd() % 4 != 0)
		h[3] = files[fuzz_rnd() % sizeof(files)];
	opaque(w, h, FH_LEN, 0);
}

static void fh(wr *w)
{
	fh_of(w, ANY);
}

static void name(wr *w)
{
	static const char *const names[] = { "f",    "d",   "l",  "sub", "x",
		                             "y",    "p",   "ro", "t",   "new",
		                             "n2",   ".",   "..", "",    "a/b",
		                             "a\0b", "gone" };
	static char longname[300];
	uint32_t k = fuzz_rnd() % 20;

	if (k < sizeof(names) / sizeof(names[0])) {
		const char *s = names[k];

		opaque(w, s, k == 15 ? 3 : strlen(s), 0);
	} else {
		size_t len = 250 + fuzz_rnd() % 10;

		memset(longname, 'n', sizeof(longname));
		opaque(w, longname, len, 0);
	}
}

static uint64_t any64(void)
{
	static const uint64_t v[] = { 0,
		                      1,
		                      4095,
		                      4096,
		                      65535,
		                      65536,
		                      65537,
		                      70000,
		                      1u << 20,
		                      (1ull << 32) - 1,
		                      1ull << 40,
		                      INT64_MAX - 1,
		                      INT64_MAX,
		                      (uint64_t)INT64_MAX + 1,
		                      UINT64_MAX - 4096,
		                      UINT64_MAX };

	if (fuzz_rnd() % 4 == 0)
		return ((uint64_t)fuzz_rnd() << 32) | fuzz_rnd();
	return v[fuzz_rnd() % (sizeof(v) / sizeof(v[0]))];
}

static void nfstime(wr *w)
{
	u32(w, fuzz_rnd() % 3 ? fuzz_rnd() : 0xffffffff);
	u32(w, fuzz_rnd() % 3 ? fuzz_rnd() % 1000000000u : fuzz_rnd());
}

static void sattr(wr *w)
{
	static const uint32_t ids[] = { 0, 100, 1000, 1001, 65534, 0xffffffff };
	uint32_t how;

	if (fuzz_rnd() % 2) {
		u32(w, 1);
		u32(w, fuzz_rnd() % 2 ? fuzz_rnd() % 010000 : fuzz_rnd());
	} else {
		u32(w, 0);
	}
	for (int i = 0; i < 2; i++) {
		if (fuzz_rnd() % 3 == 0) {
			u32(w, 1);
			u32(w, ids[fuzz_rnd() % 6]);
		} else {
			u32(w, 0);
		}
	}
	if (fuzz_rnd() % 3 == 0) {
		u32(w, 1);
		u64(w, any64() % (fuzz_rnd() % 2 ? 200000 : UINT64_MAX));
	} else {
		u32(w, 0);
	}
	for (int i = 0; i < 2; i++) {
		how = fuzz_rnd() % 7 == 0 ? 3 : fuzz_rnd() % 3;
		u32(w, how);
		if (how == SET_TO_CLIENT_TIME)
			nfstime(w);
	}
}

static void dirop(wr *w)
{
	fh_of(w, DIR_FH);
	name(w);
}

static void cookie_verf(wr *w)
{
	uint8_t v[8] = { 0xfe, 'C', 'V' };

	if (fuzz_rnd() % 3 == 0)
		memset(v, 0, sizeof(v));
	opaque(w, v, 8, 1);
}

static void cookie(wr *w)
{
	uint8_t c[8] = { 0xfe, 'C', 'K', (uint8_t)fuzz_rnd() };

	switch (fuzz_rnd() % 4) {
	case 0: u64(w, fuzz_rnd() % 4); break;
	case 1: u64(w, any64()); break;
	default: opaque(w, c, 8, 1); break;
	}
}

static void nfs_args(wr *w, uint32_t proc)
{
	uint8_t data[600], verf[8];
	uint32_t len, type;

	switch (proc) {
	case NFSPROC3_NULL: break;
	case NFSPROC3_SETATTR:
		fh(w);
		sattr(w);
		if (fuzz_rnd() % 4 == 0) {
			u32(w, 1);
			nfstime(w);
		} else {
			u32(w, 0);
		}
		break;
	case NFSPROC3_LOOKUP:
	case NFSPROC3_REMOVE:
	case NFSPROC3_RMDIR: dirop(w); break;
	case NFSPROC3_ACCESS:
		fh(w);
		u32(w, fuzz_rnd() % 2 ? 0x3f : fuzz_rnd());
		break;
	case NFSPROC3_READ:
	case NFSPROC3_COMMIT:
		fh_of(w, FILE_FH);
		u64(w, fuzz_rnd() % 2 ? fuzz_rnd() % 200000 : any64());
		u32(w,
		    fuzz_rnd() % 2 ? fuzz_rnd() % 200000 : (uint32_t)any64());
		break;
	case NFSPROC3_WRITE:
		fh_of(w, FILE_FH);
		u64(w, fuzz_rnd() % 2 ? fuzz_rnd() % 200000 : any64());
		len = fuzz_rnd() % sizeof(data);
		memset(data, (int)fuzz_rnd(), len);
		u32(w, fuzz_rnd() % 4 ? len : fuzz_rnd() % 1000);
		u32(w, fuzz_rnd() % 4);
		opaque(w, data, len, 0);
		break;
	case NFSPROC3_CREATE:
		dirop(w);
		len = fuzz_rnd() % 4;
		u32(w, len);
		if (len == EXCLUSIVE) {
			for (int i = 0; i < 8; i++)
				verf[i] = (uint8_t)(fuzz_rnd() % 2);
			opaque(w, verf, 8, 1);
		} else {
			sattr(w);
		}
		break;
	case NFSPROC3_MKDIR:
		dirop(w);
		sattr(w);
		break;
	case NFSPROC3_SYMLINK:
		dirop(w);
		sattr(w);
		len = fuzz_rnd() % 3 ? fuzz_rnd() % 40 : fuzz_rnd() % 5000;
		memset(data, 'a', sizeof(data));
		if (len <= sizeof(data)) {
			opaque(w, data, len, 0);
		} else { /* a long target, longer than FS_PATH_MAX at times */
			u32(w, len);
			for (uint32_t i = 0; i < (len + 3) / 4; i++)
				u32(w, 0x2f2f2f2f);
		}
		break;
	case NFSPROC3_MKNOD:
		dirop(w);
		type = 1 + fuzz_rnd() % 8;
		u32(w, type);
		if (type == NF3CHR || type == NF3BLK) {
			sattr(w);
			u32(w, fuzz_rnd());
			u32(w, fuzz_rnd());
		} else if (type == NF3SOCK || type == NF3FIFO) {
			sattr(w);
		}
		break;
	case NFSPROC3_RENAME:
		dirop(w);
		dirop(w);
		break;
	case NFSPROC3_LINK:
		fh_of(w, FILE_FH);
		dirop(w);
		break;
	case NFSPROC3_READDIR:
		fh_of(w, DIR_FH);
		cookie(w);
		cookie_verf(w);
		u32(w, fuzz_rnd() % 2 ? fuzz_rnd() % 9000 : (uint32_t)any64());
		break;
	case NFSPROC3_READDIRPLUS:
		fh_of(w, DIR_FH);
		cookie(w);
		cookie_verf(w);
		u32(w, fuzz_rnd() % 2 ? fuzz_rnd() % 9000 : (uint32_t)any64());
		u32(w, fuzz_rnd() % 2 ? fuzz_rnd() % 40000 : (uint32_t)any64());
		break;
	default: /* GETATTR READLINK FSSTAT FSINFO PATHCONF */ fh(w); break;
	}
}

static void mount_args(wr *w, uint32_t proc)
{
	static const char *const paths[] = { "/",         "/d",    "/d/sub",
		                             "/d/f",      "/nope", "",
		                             "//d//sub/", "/d/..", "/d/./sub",
		                             "d",         "/t/y" };

	if (proc == MOUNTPROC3_MNT || proc == MOUNTPROC3_UMNT) {
		const char *s = paths[fuzz_rnd() % 11];

		opaque(w, s, strlen(s), 0);
	}
}

size_t fuzz_seed(uint8_t *buf, size_t cap)
{
	wr w = { buf, 2, cap };
	uint32_t sel = fuzz_rnd() % 28;

	buf[0] = (uint8_t)(sel + 28 * (fuzz_rnd() % 9));
	buf[1] = (uint8_t)fuzz_rnd();
	if (sel < 22)
		nfs_args(&w, sel);
	else
		mount_args(&w, sel - 22);
	return w.n;
}

#endif
