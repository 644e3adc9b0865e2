/* nfsit_bulk.c - bulk and persistence subcommands of nfsit: bigfile (high
 * level libnfs API), bigdir (pipelined raw CREATE/REMOVE, paged
 * READDIR/READDIRPLUS), write-commit/verify (restart persistence), nospc
 * (behaviour at a full store) and ping. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "nfsit.h"

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static void hexs(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = 0;
}

int nit_cmd_ping(const char *host, int port)
{
	nit_conn *c = nit_connect(host, port, 0, 0);
	nit_fh root;
	int st;

	if (!c)
		return 1;
	st = nit_call0(c, rpc_nfs3_null_async, NULL, NULL, 0);
	if (st == 0)
		st = nit_mnt(c, "/", &root);
	nit_close(c);
	return st == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- bigfile */
static struct nfs_context *hl_mount(const char *host, int port)
{
	struct nfs_context *nfs = nfs_init_context();
	struct nfs_url *u;
	char url[256];

	if (!nfs)
		return NULL;
	snprintf(url, sizeof url, "nfs://%s/?nfsport=%d&mountport=%d", host,
	         port, port);
	u = nfs_parse_url_dir(nfs, url);
	if (!u) {
		fprintf(stderr, "nfsit: url %s: %s\n", url, nfs_get_error(nfs));
		nfs_destroy_context(nfs);
		return NULL;
	}
	if (nfs_mount(nfs, u->server, u->path) != 0) {
		fprintf(stderr, "nfsit: mount %s: %s\n", url,
		        nfs_get_error(nfs));
		nfs_destroy_url(u);
		nfs_destroy_context(nfs);
		return NULL;
	}
	nfs_destroy_url(u);
	return nfs;
}

int nit_cmd_bigfile(const char *host, int port, int mb)
{
	struct nfs_context *nfs = hl_mount(host, port);
	struct nfsfh *fh = NULL;
	struct nfs_stat_64 stt;
	gnutls_hash_hd_t hw, hr;
	unsigned char dw[32], dr[32];
	char path[64], sw[65], sr[65];
	const size_t blk = 1 << 20;
	char *buf = malloc(blk), *rbuf = malloc(blk);
	double t0, t1, t2;
	int i, r, bad = 0;

	if (!nit_check(nfs != NULL, "mount with libnfs high-level API",
	               "nfs_mount failed"))
		return nit_summary();
	nit_note("server rtmax %llu wtmax %llu",
	         (unsigned long long)nfs_get_readmax(nfs),
	         (unsigned long long)nfs_get_writemax(nfs));
	snprintf(path, sizeof path, "/bigfile.%d", (int)getpid());
	r = nfs_create(nfs, path, O_RDWR | O_TRUNC, 0644, &fh);
	if (!nit_check(r == 0, "create big file", "%s", nfs_get_error(nfs)))
		return nit_summary();
	gnutls_hash_init(&hw, GNUTLS_DIG_SHA256);
	t0 = now();
	for (i = 0; i < mb; i++) {
		nit_fill(buf, blk, 42, (uint64_t)i * blk);
		gnutls_hash(hw, buf, blk);
		r = nfs_pwrite(nfs, fh, (uint64_t)i * blk, blk, buf);
		if (r != (int)blk) {
			bad = 1;
			nit_note("pwrite at %d MiB: %d %s", i, r,
			         nfs_get_error(nfs));
			break;
		}
	}
	gnutls_hash_deinit(hw, dw);
	CHECK(!bad, "write all 1 MiB blocks", "failed");
	r = nfs_fsync(nfs, fh);
	CHECK(r == 0, "fsync (COMMIT)", "%s", nfs_get_error(nfs));
	nfs_close(nfs, fh);
	t1 = now();
	r = nfs_stat64(nfs, path, &stt);
	CHECK(r == 0 && stt.nfs_size == (uint64_t)mb * blk, "size after write",
	      "r %d size %llu", r, (unsigned long long)stt.nfs_size);

	r = nfs_open(nfs, path, O_RDONLY, &fh);
	if (!nit_check(r == 0, "reopen", "%s", nfs_get_error(nfs)))
		return nit_summary();
	gnutls_hash_init(&hr, GNUTLS_DIG_SHA256);
	for (i = 0, bad = 0; i < mb; i++) {
		r = nfs_pread(nfs, fh, (uint64_t)i * blk, blk, rbuf);
		if (r != (int)blk) {
			nit_note("pread at %d MiB: %d %s", i, r,
			         nfs_get_error(nfs));
			bad = 1;
			break;
		}
		gnutls_hash(hr, rbuf, blk);
	}
	gnutls_hash_deinit(hr, dr);
	t2 = now();
	nfs_close(nfs, fh);
	hexs(dw, 32, sw);
	hexs(dr, 32, sr);
	CHECK(!bad, "read all blocks", "failed");
	nit_note("written sha256 %s", sw);
	nit_note("read    sha256 %s", sr);
	CHECK(!memcmp(dw, dr, 32), "read-back checksum equals written",
	      "%s != %s", sr, sw);
	nit_note("write %d MiB in %.2fs (%.1f MiB/s), read in %.2fs "
	         "(%.1f MiB/s)",
	         mb, t1 - t0, mb / (t1 - t0), t2 - t1, mb / (t2 - t1));
	r = nfs_unlink(nfs, path);
	CHECK(r == 0, "unlink big file", "%s", nfs_get_error(nfs));
	nfs_destroy_context(nfs);
	free(buf);
	free(rbuf);
	return nit_summary();
}

/* ----------------------------------------------------------------- bigdir */
struct pipe_state {
	int ok, fail, first_err;
};

static void pipe_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	struct pipe_state *p = priv;
	int st;

	(void)rpc;
	if (status != RPC_STATUS_SUCCESS || !data) {
		st = -1;
	} else {
		/* CREATE3res and REMOVE3res both start with the status. */
		st = *(nfsstat3 *)data;
	}
	if (st == NFS3_OK) {
		p->ok++;
	} else {
		if (!p->fail)
			p->first_err = st;
		p->fail++;
	}
}

struct bd_state {
	unsigned char *seen;
	int n, dup, other, bad_fh;
};

static void bd_cb(void *arg, const char *name, uint64_t fileid, uint64_t cookie,
                  const nit_fh *fh, const fattr3 *attr)
{
	struct bd_state *s = arg;
	int i;

	(void)fileid;
	(void)cookie;
	(void)attr;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return;
	if (sscanf(name, "f%d", &i) != 1 || i < 0 || i >= s->n) {
		s->other++;
		return;
	}
	if (s->seen[i]++)
		s->dup++;
	if (s->bad_fh >= 0 && !fh)
		s->bad_fh++;
}

#define PIPE_DEPTH 64
#define PIPE_MAXCONN 16

/* Service every connection without blocking; when one has PIPE_DEPTH
 * calls in flight, wait until it is down to half. */
static int pipe_pump(nit_conn **pc, int npc)
{
	int i;

	for (i = 0; i < npc; i++) {
		struct pollfd p = { .fd = rpc_get_fd(pc[i]->rpc),
			            .events = (short)rpc_which_events(
			                    pc[i]->rpc) };
		if (poll(&p, 1, 0) > 0 &&
		    rpc_service(pc[i]->rpc, p.revents) < 0)
			return -1;
		if (rpc_queue_length(pc[i]->rpc) >= PIPE_DEPTH &&
		    nit_drain(pc[i], PIPE_DEPTH / 2) < 0)
			return -1;
	}
	return 0;
}

static int pipe_drain(nit_conn **pc, int npc)
{
	int i;

	for (i = 0; i < npc; i++)
		if (nit_drain(pc[i], 0) < 0)
			return -1;
	return 0;
}

int nit_cmd_bigdir(const char *host, int port, int n)
{
	nit_conn *c = nit_connect(host, port, 0, 0);
	nit_fh root, dir;
	struct pipe_state ps = { 0 };
	struct bd_state s = { 0 };
	char name[64];
	double t0;
	int i, st, pages, missing;

	nit_conn *pc[PIPE_MAXCONN];
	const char *env = getenv("NFSIT_CONNS");
	int npc = env ? atoi(env) : 2;

	if (npc < 1 || npc > PIPE_MAXCONN)
		npc = 2;
	if (!c) {
		nit_check(0, "connect", "failed");
		return nit_summary();
	}
	for (i = 0; i < npc; i++) {
		pc[i] = nit_connect(host, port, 0, 0);
		if (!pc[i]) {
			nit_check(0, "connect", "failed");
			return nit_summary();
		}
	}
	nit_note("%d connections, %d calls in flight each", npc, PIPE_DEPTH);
	if (!CHECK(nit_mnt(c, "/", &root) == MNT3_OK, "MNT", "failed"))
		return nit_summary();
	snprintf(name, sizeof name, "bigdir.%d", (int)getpid());
	st = nit_mkdir(c, &root, name, 0755, &dir, NULL);
	if (!nit_check_st(st, NFS3_OK, "MKDIR big directory"))
		return nit_summary();

	t0 = now();
	for (i = 0; i < n; i++) {
		CREATE3args a;
		nit_conn *k = pc[i % npc];
		memset(&a, 0, sizeof a);
		snprintf(name, sizeof name, "f%07d", i);
		a.where.dir = nit_fh3(&dir);
		a.where.name = name;
		a.how.mode = GUARDED;
		a.how.createhow3_u.obj_attributes.mode.set_it = 1;
		a.how.createhow3_u.obj_attributes.mode.set_mode3_u.mode = 0644;
		if (rpc_nfs3_create_async(k->rpc, pipe_cb, &a, &ps) != 0) {
			ps.fail++;
			break;
		}
		if (pipe_pump(pc, npc) < 0)
			break;
	}
	st = pipe_drain(pc, npc);
	CHECK(st == 0 && ps.ok == n && ps.fail == 0,
	      "CREATE N entries "
	      "(pipelined)",
	      "ok %d fail %d first error %s", ps.ok, ps.fail,
	      nit_stname(ps.first_err));
	nit_note("created %d entries in %.2fs (%.0f/s)", n, now() - t0,
	         n / (now() - t0));

	s.n = n;
	s.seen = calloc(n, 1);
	s.bad_fh = -1;
	t0 = now();
	st = nit_readdir_all(c, &dir, 0, 4096, bd_cb, &s, &pages);
	for (i = 0, missing = 0; i < n; i++)
		missing += !s.seen[i];
	nit_check_st(st, NFS3_OK, "READDIR count 4096 over the whole dir");
	CHECK(!missing && !s.dup && !s.other,
	      "READDIR: each name exactly "
	      "once",
	      "missing %d duplicated %d unknown %d (pages %d)", missing, s.dup,
	      s.other, pages);
	nit_note("READDIR: %d pages in %.2fs", pages, now() - t0);

	memset(s.seen, 0, n);
	s.dup = s.other = s.bad_fh = 0;
	t0 = now();
	st = nit_readdir_all(c, &dir, 1, 8192, bd_cb, &s, &pages);
	for (i = 0, missing = 0; i < n; i++)
		missing += !s.seen[i];
	nit_check_st(st, NFS3_OK,
	             "READDIRPLUS maxcount 8192 over the whole "
	             "dir");
	CHECK(!missing && !s.dup && !s.other,
	      "READDIRPLUS: each name "
	      "exactly once",
	      "missing %d duplicated %d unknown %d (pages %d)", missing, s.dup,
	      s.other, pages);
	CHECK(s.bad_fh == 0, "READDIRPLUS: every entry has a handle",
	      "%d without", s.bad_fh);
	nit_note("READDIRPLUS: %d pages in %.2fs", pages, now() - t0);

	st = nit_lookup(c, &dir, "f0000000", NULL, NULL);
	nit_check_st(st, NFS3_OK, "LOOKUP first entry");
	snprintf(name, sizeof name, "f%07d", n - 1);
	st = nit_lookup(c, &dir, name, NULL, NULL);
	nit_check_st(st, NFS3_OK, "LOOKUP last entry");

	t0 = now();
	memset(&ps, 0, sizeof ps);
	for (i = 0; i < n; i++) {
		REMOVE3args a;
		nit_conn *k = pc[i % npc];
		snprintf(name, sizeof name, "f%07d", i);
		a.object.dir = nit_fh3(&dir);
		a.object.name = name;
		if (rpc_nfs3_remove_async(k->rpc, pipe_cb, &a, &ps) != 0) {
			ps.fail++;
			break;
		}
		if (pipe_pump(pc, npc) < 0)
			break;
	}
	st = pipe_drain(pc, npc);
	CHECK(st == 0 && ps.ok == n && ps.fail == 0,
	      "REMOVE N entries "
	      "(pipelined)",
	      "ok %d fail %d first error %s", ps.ok, ps.fail,
	      nit_stname(ps.first_err));
	nit_note("removed %d entries in %.2fs", n, now() - t0);

	memset(s.seen, 0, n);
	s.dup = s.other = 0;
	s.bad_fh = -1;
	st = nit_readdir_all(c, &dir, 0, 4096, bd_cb, &s, &pages);
	for (i = 0, missing = 0; i < n; i++)
		missing += s.seen[i];
	CHECK(st == NFS3_OK && !missing && !s.other && pages == 1,
	      "READDIR of the emptied dir: one page, no entries",
	      "st %s left %d unknown %d pages %d", nit_stname(st), missing,
	      s.other, pages);
	snprintf(name, sizeof name, "bigdir.%d", (int)getpid());
	nit_check_st(nit_rmdir(c, &root, name), NFS3_OK,
	             "RMDIR the emptied "
	             "directory");
	free(s.seen);
	for (i = 0; i < npc; i++)
		nit_close(pc[i]);
	nit_close(c);
	return nit_summary();
}

/* -------------------------------------------------- restart persistence */
#define PF_N 4
#define PF_SIZE (256 * 1024 + 1234)

int nit_cmd_write_commit(const char *host, int port, const char *state)
{
	nit_conn *c = nit_connect(host, port, 0, 0);
	nit_fh root, dir, fh[PF_N + 1], sub, ren;
	char name[64], verf[8], v2[8], hex[2 * NIT_FHMAX + 1], vhex[17];
	char *buf = malloc(PF_SIZE);
	FILE *out;
	int i, st, cm, allsame = 1;
	uint64_t off;

	if (!c) {
		nit_check(0, "connect", "failed");
		return nit_summary();
	}
	if (!CHECK(nit_mnt(c, "/", &root) == MNT3_OK, "MNT", "failed"))
		return nit_summary();
	out = fopen(state, "w");
	if (!CHECK(out != NULL, "open state file", "%s", state))
		return nit_summary();
	snprintf(name, sizeof name, "persist.%d", (int)getpid());
	st = nit_mkdir(c, &root, name, 0755, &dir, NULL);
	nit_check_st(st, NFS3_OK, "MKDIR persist dir");
	nit_fh_hex(&root, hex);
	fprintf(out, "root %s\n", hex);
	nit_fh_hex(&dir, hex);
	fprintf(out, "dir %s %s\n", name, hex);

	/* PF_N files written UNSTABLE in 64 KiB pieces, then COMMITted. */
	for (i = 0; i < PF_N; i++) {
		snprintf(name, sizeof name, "u%d", i);
		st = nit_create(c, &dir, name, GUARDED, 0644, NULL, &fh[i],
		                NULL);
		nit_fill(buf, PF_SIZE, 100 + i, 0);
		for (off = 0; st == NFS3_OK && off < PF_SIZE; off += 65536) {
			uint32_t len =
			        PF_SIZE - off < 65536 ? PF_SIZE - off : 65536;
			st = nit_write(c, &fh[i], off, buf + off, len, UNSTABLE,
			               i || off ? v2 : verf, &cm);
			if (st == NFS3_OK && (i || off) && memcmp(v2, verf, 8))
				allsame = 0;
		}
		nit_check_st(st, NFS3_OK, "UNSTABLE writes");
		st = nit_commit(c, &fh[i], v2);
		nit_check_st(st, NFS3_OK, "COMMIT");
		if (st == NFS3_OK && memcmp(v2, verf, 8))
			allsame = 0;
		nit_fh_hex(&fh[i], hex);
		fprintf(out, "file %s %s %d %d\n", name, hex, 100 + i, PF_SIZE);
	}
	CHECK(allsame, "WRITE and COMMIT verifiers all equal", "differ");
	/* one FILE_SYNC file */
	st = nit_create(c, &dir, "sync", GUARDED, 0644, NULL, &fh[PF_N], NULL);
	nit_fill(buf, 100000, 200, 0);
	st = nit_write(c, &fh[PF_N], 0, buf, 100000, FILE_SYNC, NULL, &cm);
	CHECK(st == NFS3_OK && cm == FILE_SYNC, "FILE_SYNC write", "st %s",
	      nit_stname(st));
	nit_fh_hex(&fh[PF_N], hex);
	fprintf(out, "file sync %s 200 100000\n", hex);
	/* a subdirectory, a symlink, a renamed file */
	st = nit_mkdir(c, &dir, "sub", 0700, &sub, NULL);
	nit_fh_hex(&sub, hex);
	fprintf(out, "subdir sub %s\n", hex);
	{
		SYMLINK3args a;
		SYMLINK3res r;
		memset(&a, 0, sizeof a);
		a.where.dir = nit_fh3(&dir);
		a.where.name = "link";
		a.symlink.symlink_data = "u0";
		st = NIT3(c, symlink, SYMLINK, &a, &r) < 0 ? -1 : (int)r.status;
		nit_check_st(st, NFS3_OK, "SYMLINK");
	}
	st = nit_create(c, &dir, "ren_from", GUARDED, 0644, NULL, &ren, NULL);
	nit_fill(buf, 5000, 300, 0);
	nit_write(c, &ren, 0, buf, 5000, FILE_SYNC, NULL, NULL);
	st = nit_rename(c, &dir, "ren_from", &sub, "ren_to");
	nit_check_st(st, NFS3_OK, "RENAME into sub");
	nit_fh_hex(&ren, hex);
	fprintf(out, "renamed sub/ren_to %s 300 5000\n", hex);
	hexs((unsigned char *)verf, 8, vhex);
	fprintf(out, "verf %s\n", vhex);
	fclose(out);
	nit_close(c);
	free(buf);
	return nit_summary();
}

static void verify_file(nit_conn *c, const nit_fh *fh, int seed, int size,
                        const char *what)
{
	char *want = malloc(size), *got = malloc(size);
	char nm[160];
	fattr3 at;
	uint32_t off = 0, n;
	int st, eof = 0;

	st = nit_getattr(c, fh, &at);
	snprintf(nm, sizeof nm, "%s: GETATTR with the pre-restart handle",
	         what);
	nit_check_st(st, NFS3_OK, nm);
	snprintf(nm, sizeof nm, "%s: size", what);
	CHECK(st == NFS3_OK && at.size == (uint64_t)size, nm, "%llu want %d",
	      (unsigned long long)at.size, size);
	nit_fill(want, size, seed, 0);
	while (off < (uint32_t)size && !eof) {
		st = nit_read(c, fh, off, 65536, got + off, &n, &eof);
		if (st != NFS3_OK || n == 0)
			break;
		off += n;
	}
	snprintf(nm, sizeof nm, "%s: data intact after kill -9", what);
	CHECK(off == (uint32_t)size && !memcmp(want, got, size), nm,
	      "st %s read %u of %d, %s", nit_stname(st), off, size,
	      off == (uint32_t)size ? "content differs" : "short");
	free(want);
	free(got);
	nit_pool_free();
}

int nit_cmd_verify(const char *host, int port, const char *state)
{
	nit_conn *c = nit_connect(host, port, 0, 0);
	nit_fh root, oldroot = { 0 }, dir = { 0 }, fh, sub = { 0 }, lk;
	char line[512], a[128], b[2 * NIT_FHMAX + 8], verf[8], nv[8];
	char dirname[64] = "", vhex[17] = "", nvhex[17];
	fattr3 at, at2;
	FILE *in;
	int seed, size, st, cm;

	if (!c) {
		nit_check(0, "connect after restart", "failed");
		return nit_summary();
	}
	if (!CHECK(nit_mnt(c, "/", &root) == MNT3_OK, "MNT after restart",
	           "failed"))
		return nit_summary();
	in = fopen(state, "r");
	if (!CHECK(in != NULL, "read state file", "%s", state))
		return nit_summary();
	while (fgets(line, sizeof line, in)) {
		if (sscanf(line, "root %130s", b) == 1) {
			nit_fh_unhex(&oldroot, b);
			CHECK(nit_fh_eq(&oldroot, &root),
			      "root handle unchanged "
			      "by the restart",
			      "differs");
		} else if (sscanf(line, "dir %63s %130s", dirname, b) == 2) {
			nit_fh_unhex(&dir, b);
			st = nit_lookup(c, &root, dirname, &fh, NULL);
			CHECK(st == NFS3_OK && nit_fh_eq(&fh, &dir),
			      "LOOKUP dir gives the pre-restart handle",
			      "st %s", nit_stname(st));
		} else if (sscanf(line, "file %127s %130s %d %d", a, b, &seed,
		                  &size) == 4) {
			char what[160];
			nit_fh_unhex(&fh, b);
			snprintf(what, sizeof what, "file %s", a);
			verify_file(c, &fh, seed, size, what);
			st = nit_lookup(c, &dir, a, &lk, NULL);
			snprintf(what, sizeof what,
			         "LOOKUP %s gives the same "
			         "handle",
			         a);
			CHECK(st == NFS3_OK && nit_fh_eq(&lk, &fh), what,
			      "st %s", nit_stname(st));
		} else if (sscanf(line, "subdir %127s %130s", a, b) == 2) {
			nit_fh_unhex(&sub, b);
			st = nit_getattr(c, &sub, &at);
			CHECK(st == NFS3_OK && at.type == NF3DIR &&
			              (at.mode & 07777) == 0700,
			      "subdir attributes "
			      "after restart",
			      "st %s mode %o", nit_stname(st), at.mode);
		} else if (sscanf(line, "renamed %127s %130s %d %d", a, b,
		                  &seed, &size) == 4) {
			nit_fh_unhex(&fh, b);
			verify_file(c, &fh, seed, size,
			            "renamed file (old "
			            "handle)");
			st = nit_lookup(c, &sub, "ren_to", NULL, &at);
			nit_getattr(c, &fh, &at2);
			CHECK(st == NFS3_OK && at.fileid == at2.fileid,
			      "renamed file found under its new name", "st %s",
			      nit_stname(st));
			st = nit_lookup(c, &dir, "ren_from", NULL, NULL);
			nit_check_st(st, NFS3ERR_NOENT, "old name stays gone");
		} else if (sscanf(line, "verf %16s", vhex) == 1) {
			unsigned i, v;
			for (i = 0; i < 8; i++) {
				sscanf(vhex + 2 * i, "%2x", &v);
				verf[i] = (char)v;
			}
		}
	}
	fclose(in);
	{
		READLINK3args ra;
		READLINK3res rr;
		st = nit_lookup(c, &dir, "link", &lk, NULL);
		ra.symlink = nit_fh3(&lk);
		if (st == NFS3_OK)
			st = NIT3(c, readlink, READLINK, &ra, &rr) < 0
			             ? -1
			             : (int)rr.status;
		CHECK(st == NFS3_OK &&
		              !strcmp(rr.READLINK3res_u.resok.data, "u0"),
		      "symlink survives the restart", "st %s", nit_stname(st));
	}
	st = nit_create(c, &dir, "after", UNCHECKED, 0644, NULL, &fh, NULL);
	nit_check_st(st, NFS3_OK, "CREATE after restart");
	st = nit_write(c, &fh, 0, "new", 3, UNSTABLE, nv, &cm);
	nit_check_st(st, NFS3_OK, "WRITE UNSTABLE after restart");
	hexs((unsigned char *)nv, 8, nvhex);
	CHECK(vhex[0] && memcmp(nv, verf, 8) != 0,
	      "write verifier changed "
	      "across the restart",
	      "old %s new %s", vhex, nvhex);
	st = nit_commit(c, &fh, verf);
	CHECK(st == NFS3_OK && !memcmp(verf, nv, 8),
	      "COMMIT after restart "
	      "returns the new verifier",
	      "st %s", nit_stname(st));
	nit_close(c);
	return nit_summary();
}

/* ------------------------------------------------------------- NOSPC */
#define NS_FILE (1 << 20)
#define NS_WRITE (128 * 1024)
#define NS_MAXFILES 4096

int nit_cmd_nospc(const char *host, int port)
{
	nit_conn *c = nit_connect(host, port, 0, 0);
	nit_fh root, dir, fh, *fhs = calloc(NS_MAXFILES, sizeof(nit_fh));
	char name[64], *buf = malloc(NS_FILE), *rb = malloc(NS_FILE);
	int nfull = 0, hit = 0, st = 0, i, bad, other = 0;
	uint64_t partial = 0, off;
	nit_fh pfh;

	if (!c) {
		nit_check(0, "connect", "failed");
		return nit_summary();
	}
	if (!CHECK(nit_mnt(c, "/", &root) == MNT3_OK, "MNT", "failed"))
		return nit_summary();
	st = nit_mkdir(c, &root, "nospc", 0755, &dir, NULL);
	nit_check_st(st, NFS3_OK, "MKDIR");
	for (i = 0; i < NS_MAXFILES && !hit && !other; i++) {
		snprintf(name, sizeof name, "k%d", i);
		st = nit_create(c, &dir, name, GUARDED, 0644, NULL, &fh, NULL);
		if (st == NFS3ERR_NOSPC) {
			hit = 1;
			break;
		}
		if (st != NFS3_OK) {
			other = st;
			break;
		}
		nit_fill(buf, NS_FILE, 1000 + i, 0);
		for (off = 0; off < NS_FILE; off += NS_WRITE) {
			st = nit_write(c, &fh, off, buf + off, NS_WRITE,
			               FILE_SYNC, NULL, NULL);
			if (st != NFS3_OK)
				break;
		}
		nit_pool_free();
		if (st == NFS3ERR_NOSPC) {
			hit = 1;
			partial = off;
			pfh = fh;
			break;
		}
		if (st != NFS3_OK) {
			other = st;
			break;
		}
		fhs[nfull++] = fh;
	}
	CHECK(hit, "writing until full gives NFS3ERR_NOSPC",
	      "after %d files: %s", nfull, nit_stname(other));
	nit_note("%d MiB files fit before NOSPC (partial file: %llu bytes)",
	         nfull, (unsigned long long)partial);
	CHECK(nfull >= 1, "at least one whole file fit", "%d", nfull);

	st = nit_call0(c, rpc_nfs3_null_async, NULL, NULL, 0);
	CHECK(st == 0, "server still answers NULL when full", "%s", c->err);
	nit_check_st(nit_getattr(c, &root, NULL), NFS3_OK,
	             "GETATTR root when full");
	for (i = 0, bad = 0; i < nfull; i++) {
		uint32_t got = 0, n;
		int eof = 0;
		nit_fill(buf, NS_FILE, 1000 + i, 0);
		for (off = 0; off < NS_FILE; off += n) {
			st = nit_read(c, &fhs[i], off, NS_WRITE, rb + off, &n,
			              &eof);
			if (st != NFS3_OK || n == 0)
				break;
			got += n;
		}
		nit_pool_free();
		if (got != NS_FILE || memcmp(buf, rb, NS_FILE)) {
			if (!bad)
				nit_note("file k%d: st %s got %u", i,
				         nit_stname(st), got);
			bad++;
		}
	}
	CHECK(!bad, "every file written before NOSPC reads back intact",
	      "%d of %d bad", bad, nfull);
	if (hit && partial) {
		uint32_t n = 0;
		int eof;
		fattr3 at;
		nit_getattr(c, &pfh, &at);
		nit_fill(buf, NS_FILE, 1000 + nfull, 0);
		st = nit_read(c, &pfh, 0, (uint32_t)partial, rb, &n, &eof);
		CHECK(st == NFS3_OK && n >= partial && at.size >= partial &&
		              !memcmp(buf, rb, partial),
		      "acknowledged writes of the "
		      "file that hit NOSPC are intact",
		      "st %s read %u want "
		      ">= %llu",
		      nit_stname(st), n, (unsigned long long)partial);
		nit_pool_free();
	}
	/* free some space; the store must accept writes again */
	for (i = 0; i < 3 && i < nfull; i++) {
		snprintf(name, sizeof name, "k%d", i);
		st = nit_remove(c, &dir, name);
		nit_check_st(st, NFS3_OK, "REMOVE a file when full");
	}
	st = nit_create(c, &dir, "again", GUARDED, 0644, NULL, &fh, NULL);
	if (st == NFS3_OK)
		st = nit_write(c, &fh, 0, buf, 65536, FILE_SYNC, NULL, NULL);
	nit_check_st(st, NFS3_OK,
	             "after REMOVE, a 64 KiB write succeeds "
	             "again");
	{
		FSSTAT3args a = { .fsroot = nit_fh3(&root) };
		FSSTAT3res r;
		st = NIT3(c, fsstat, FSSTAT, &a, &r) < 0 ? -1 : (int)r.status;
		CHECK(st == NFS3_OK &&
		              r.FSSTAT3res_u.resok.tbytes <= (64ULL << 20),
		      "FSSTAT reports the configured small capacity",
		      "st %s tbytes %llu", nit_stname(st),
		      st == NFS3_OK
		              ? (unsigned long long)r.FSSTAT3res_u.resok.tbytes
		              : 0ULL);
	}
	nit_close(c);
	free(fhs);
	free(buf);
	free(rb);
	return nit_summary();
}
