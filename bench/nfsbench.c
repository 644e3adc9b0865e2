/* nfsbench.c - NFSv3 workload run the same way against Magma and against
 * nfs-ganesha (bench/run.sh), so the two can be compared figure by figure.
 *
 * Uses libnfs's synchronous API with explicit NFS/MOUNT ports (no
 * portmapper).  Each phase prints one line "name value unit"; run.sh
 * parses those.  Everything is created under a fresh directory of the
 * export and removed at the end.  With --seq-write PATH or --seq-read
 * PATH only that phase runs, on PATH, which is kept (run.sh writes and
 * reads one file through each node of a network), and --name names its
 * figure (seq_write, seq_read by default).  Exit status 0 only if every
 * phase succeeded (and read back what was written). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>

#define BLOCK (1024 * 1024)

struct bench {
	struct nfs_context *nfs;
	char top[64];
	unsigned file_mb;
	unsigned nfiles;
	unsigned tree;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *name, double value, const char *unit)
{
	printf("%-14s %12.1f %s\n", name, value, unit);
	fflush(stdout);
}

static int fail(struct bench *b, const char *what, const char *path, int rc)
{
	fprintf(stderr, "nfsbench: %s %s: %s (%s)\n", what, path, strerror(-rc),
	        nfs_get_error(b->nfs));
	return -1;
}

/* Block i carries its index in every 8-byte word, so a read that comes
 * back from the wrong offset is caught. */
static void fill_block(uint8_t *buf, uint64_t i)
{
	for (size_t o = 0; o < BLOCK; o += 8)
		memcpy(buf + o, &i, 8);
}

/* Write file_mb blocks to path (created or truncated), then fsync:
 * name ("seq_write"). */
static int seq_write(struct bench *b, const char *path, const char *name)
{
	struct nfsfh *fh = NULL;
	uint8_t *buf = malloc(BLOCK);
	uint64_t total = (uint64_t)b->file_mb * BLOCK;
	int rc = -1, r;
	double t0;

	if (buf == NULL)
		goto out;
	r = nfs_open2(b->nfs, path, O_CREAT | O_WRONLY | O_TRUNC, 0644, &fh);
	if (r < 0) {
		fail(b, "create", path, r);
		goto out;
	}
	t0 = now();
	for (uint64_t i = 0; i < b->file_mb; i++) {
		size_t put = 0;
		fill_block(buf, i);
		while (put < BLOCK) {
			r = nfs_pwrite(b->nfs, fh, i * BLOCK + put, BLOCK - put,
			               buf + put);
			if (r <= 0) {
				fail(b, "write", path, r < 0 ? r : -EIO);
				goto out;
			}
			put += (size_t)r;
		}
	}
	r = nfs_fsync(b->nfs, fh);
	if (r < 0) {
		fail(b, "fsync", path, r);
		goto out;
	}
	report(name, (double)total / 1e6 / (now() - t0), "MB/s");
	rc = 0;
out:
	if (fh != NULL)
		nfs_close(b->nfs, fh);
	free(buf);
	return rc;
}

/* Read path's file_mb blocks in order, each checked: name ("seq_read"). */
static int seq_read(struct bench *b, const char *path, const char *name)
{
	struct nfsfh *fh = NULL;
	uint8_t *buf = malloc(BLOCK), *want = malloc(BLOCK);
	uint64_t total = (uint64_t)b->file_mb * BLOCK;
	int rc = -1, r;
	double t0;

	if (buf == NULL || want == NULL)
		goto out;
	r = nfs_open(b->nfs, path, O_RDONLY, &fh);
	if (r < 0) {
		fail(b, "open", path, r);
		goto out;
	}
	t0 = now();
	for (uint64_t i = 0; i < b->file_mb; i++) {
		size_t got = 0;
		while (got < BLOCK) {
			r = nfs_pread(b->nfs, fh, i * BLOCK + got, BLOCK - got,
			              buf + got);
			if (r <= 0) {
				fail(b, "read", path, r < 0 ? r : -EIO);
				goto out;
			}
			got += (size_t)r;
		}
		fill_block(want, i);
		if (memcmp(buf, want, BLOCK) != 0) {
			fprintf(stderr,
			        "nfsbench: %s: block %" PRIu64
			        " reads back wrong\n",
			        path, i);
			goto out;
		}
	}
	report(name, (double)total / 1e6 / (now() - t0), "MB/s");
	rc = 0;
out:
	if (fh != NULL)
		nfs_close(b->nfs, fh);
	free(buf);
	free(want);
	return rc;
}

static int phase_seq(struct bench *b)
{
	char path[128];
	int r;

	snprintf(path, sizeof(path), "%s/seq.dat", b->top);
	if (seq_write(b, path, "seq_write") < 0 ||
	    seq_read(b, path, "seq_read") < 0)
		return -1;
	r = nfs_unlink(b->nfs, path);
	return r < 0 ? fail(b, "unlink", path, r) : 0;
}

static int phase_small(struct bench *b)
{
	char dir[128], path[160];
	uint8_t data[4096];
	struct nfsfh *fh;
	struct nfsdir *d;
	struct nfsdirent *e;
	struct nfs_stat_64 st;
	unsigned n = 0;
	double t0;
	int r;

	memset(data, 'm', sizeof(data));
	snprintf(dir, sizeof(dir), "%s/small", b->top);
	if ((r = nfs_mkdir(b->nfs, dir)) < 0)
		return fail(b, "mkdir", dir, r);

	t0 = now();
	for (unsigned i = 0; i < b->nfiles; i++) {
		snprintf(path, sizeof(path), "%s/f%05u", dir, i);
		r = nfs_open2(b->nfs, path, O_CREAT | O_WRONLY | O_EXCL, 0644,
		              &fh);
		if (r < 0)
			return fail(b, "create", path, r);
		r = nfs_write(b->nfs, fh, sizeof(data), data);
		nfs_close(b->nfs, fh);
		if (r != (int)sizeof(data))
			return fail(b, "write", path, r < 0 ? r : -EIO);
	}
	report("create_4k", b->nfiles / (now() - t0), "files/s");

	t0 = now();
	for (unsigned i = 0; i < b->nfiles; i++) {
		snprintf(path, sizeof(path), "%s/f%05u", dir, i);
		if ((r = nfs_stat64(b->nfs, path, &st)) < 0)
			return fail(b, "stat", path, r);
		if (st.nfs_size != sizeof(data)) {
			fprintf(stderr, "nfsbench: %s: size %" PRIu64 "\n",
			        path, (uint64_t)st.nfs_size);
			return -1;
		}
	}
	report("stat", b->nfiles / (now() - t0), "ops/s");

	t0 = now();
	if ((r = nfs_opendir(b->nfs, dir, &d)) < 0)
		return fail(b, "opendir", dir, r);
	while ((e = nfs_readdir(b->nfs, d)) != NULL)
		if (strcmp(e->name, ".") != 0 && strcmp(e->name, "..") != 0)
			n++;
	nfs_closedir(b->nfs, d);
	report("readdirplus", n / (now() - t0), "entries/s");
	if (n != b->nfiles) {
		fprintf(stderr, "nfsbench: %s: listed %u of %u entries\n", dir,
		        n, b->nfiles);
		return -1;
	}

	t0 = now();
	for (unsigned i = 0; i < b->nfiles; i++) {
		snprintf(path, sizeof(path), "%s/f%05u", dir, i);
		if ((r = nfs_unlink(b->nfs, path)) < 0)
			return fail(b, "unlink", path, r);
	}
	report("remove", b->nfiles / (now() - t0), "ops/s");
	if ((r = nfs_rmdir(b->nfs, dir)) < 0)
		return fail(b, "rmdir", dir, r);
	return 0;
}

/* Visit the tree^1 + tree^2 + tree^3 directories below top/tree,
 * parents before children (mk) or children before parents (!mk). */
static int tree_walk(struct bench *b, int mk, unsigned *count)
{
	char path[192];
	unsigned t = b->tree;
	int r;

	for (unsigned i = 0; i < t; i++) {
		snprintf(path, sizeof(path), "%s/tree/d%u", b->top, i);
		if (mk && (r = nfs_mkdir(b->nfs, path)) < 0)
			return fail(b, "mkdir", path, r);
		for (unsigned j = 0; j < t; j++) {
			snprintf(path, sizeof(path), "%s/tree/d%u/d%u", b->top,
			         i, j);
			if (mk && (r = nfs_mkdir(b->nfs, path)) < 0)
				return fail(b, "mkdir", path, r);
			for (unsigned k = 0; k < t; k++) {
				snprintf(path, sizeof(path),
				         "%s/tree/d%u/d%u/d%u", b->top, i, j,
				         k);
				r = mk ? nfs_mkdir(b->nfs, path)
				       : nfs_rmdir(b->nfs, path);
				if (r < 0)
					return fail(b, mk ? "mkdir" : "rmdir",
					            path, r);
				(*count)++;
			}
			if (!mk) {
				snprintf(path, sizeof(path), "%s/tree/d%u/d%u",
				         b->top, i, j);
				if ((r = nfs_rmdir(b->nfs, path)) < 0)
					return fail(b, "rmdir", path, r);
			}
			(*count)++;
		}
		if (!mk) {
			snprintf(path, sizeof(path), "%s/tree/d%u", b->top, i);
			if ((r = nfs_rmdir(b->nfs, path)) < 0)
				return fail(b, "rmdir", path, r);
		}
		(*count)++;
	}
	return 0;
}

static int phase_tree(struct bench *b)
{
	char path[128];
	unsigned n = 0;
	double t0;
	int r;

	snprintf(path, sizeof(path), "%s/tree", b->top);
	if ((r = nfs_mkdir(b->nfs, path)) < 0)
		return fail(b, "mkdir", path, r);
	t0 = now();
	if (tree_walk(b, 1, &n) < 0)
		return -1;
	report("mkdir_tree", n / (now() - t0), "ops/s");
	n = 0;
	t0 = now();
	if (tree_walk(b, 0, &n) < 0)
		return -1;
	report("rmdir_tree", n / (now() - t0), "ops/s");
	if ((r = nfs_rmdir(b->nfs, path)) < 0)
		return fail(b, "rmdir", path, r);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: nfsbench --server ADDR --nfs-port P --mount-port P "
	        "--export PATH\n"
	        "                [--file-mb N] [--files N] [--tree N]\n"
	        "                [--seq-write PATH | --seq-read PATH] "
	        "[--name NAME]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "nfs-port", required_argument, NULL, 'n' },
		{ "mount-port", required_argument, NULL, 'm' },
		{ "export", required_argument, NULL, 'e' },
		{ "file-mb", required_argument, NULL, 'f' },
		{ "files", required_argument, NULL, 'c' },
		{ "tree", required_argument, NULL, 't' },
		{ "seq-write", required_argument, NULL, 'W' },
		{ "seq-read", required_argument, NULL, 'R' },
		{ "name", required_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	const char *server = "127.0.0.1", *export = "/";
	const char *wpath = NULL, *rpath = NULL, *name = NULL;
	unsigned nfsport = 2049, mountport = 0;
	struct bench b = { .file_mb = 512, .nfiles = 5000, .tree = 10 };
	struct nfs_url *url = NULL;
	char urlbuf[512];
	int c, r, rc = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'n': nfsport = (unsigned)atoi(optarg); break;
		case 'm': mountport = (unsigned)atoi(optarg); break;
		case 'e': export = optarg; break;
		case 'f': b.file_mb = (unsigned)atoi(optarg); break;
		case 'c': b.nfiles = (unsigned)atoi(optarg); break;
		case 't': b.tree = (unsigned)atoi(optarg); break;
		case 'W': wpath = optarg; break;
		case 'R': rpath = optarg; break;
		case 'N': name = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || b.nfiles > 99999 || nfsport == 0 ||
	    (wpath && rpath))
		usage();
	if (mountport == 0)
		mountport = nfsport;

	b.nfs = nfs_init_context();
	if (b.nfs == NULL) {
		fprintf(stderr, "nfsbench: cannot make an NFS context\n");
		return 1;
	}
	/* Explicit ports through URL options: libnfs 4 has no setter for
	 * them.  No directory cache, so every server does every lookup. */
	snprintf(urlbuf, sizeof(urlbuf),
	         "nfs://%s%s?nfsport=%u&mountport=%u&dircache=0&version=3",
	         server, export, nfsport, mountport);
	url = nfs_parse_url_dir(b.nfs, urlbuf);
	if (url == NULL) {
		fprintf(stderr, "nfsbench: bad URL %s: %s\n", urlbuf,
		        nfs_get_error(b.nfs));
		goto out;
	}
	r = nfs_mount(b.nfs, url->server, url->path);
	if (r < 0) {
		fprintf(stderr, "nfsbench: mount %s:%s (ports %u/%u): %s\n",
		        url->server, url->path, nfsport, mountport,
		        nfs_get_error(b.nfs));
		goto out;
	}
	/* One phase on a file kept for other runs (bench/run.sh reads one
	 * file through each front end of a network). */
	if (wpath || rpath) {
		rc = (wpath ? seq_write(&b, wpath, name ? name : "seq_write")
		            : seq_read(&b, rpath, name ? name : "seq_read")) <
		     0;
		goto out;
	}
	snprintf(b.top, sizeof(b.top), "/nfsbench.%ld", (long)getpid());
	if ((r = nfs_mkdir(b.nfs, b.top)) < 0) {
		fail(&b, "mkdir", b.top, r);
		goto out;
	}
	if (phase_seq(&b) < 0 || phase_small(&b) < 0 || phase_tree(&b) < 0)
		goto out;
	if ((r = nfs_rmdir(b.nfs, b.top)) < 0) {
		fail(&b, "rmdir", b.top, r);
		goto out;
	}
	rc = 0;
out:
	if (url != NULL)
		nfs_destroy_url(url);
	nfs_destroy_context(b.nfs);
	return rc;
}
