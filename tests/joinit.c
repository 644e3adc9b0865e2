/* joinit.c - the NFS clients of tests/it_join.sh (libnfs, synchronous):
 * a write load and a read load that run while nodes join and leave,
 * and the final check.
 *
 *   joinit write HOST PORT DIR STOP LOG   until file STOP exists: create
 *       DIR/f<i> or rewrite one (generation g + 1, same size, one
 *       write), fsync; after each acknowledged write append "i g" to
 *       LOG.  Prints "writes N errors E".  At most WRITE_RATE writes a
 *       second: the bytes a join or leave moves (at a throttled
 *       move_rate in it_join.sh) then do not grow with the server's
 *       speed, nor does the test's length.
 *   joinit read HOST PORT DIR STOP LOG    until STOP exists: read a file
 *       LOG names; its contents must be generation g or newer, g being
 *       the last one LOG acknowledged before the read started (no stale
 *       data, no missing file).  Prints "reads N errors E stale S".
 *   joinit check HOST PORT DIR LOG        every file LOG names holds
 *       its last acknowledged generation (or a newer one), and DIR
 *       lists them all.  Prints "files N bad B".
 * Contents of (i, g): a header "F%08u G%08u\n" and bytes from a
 * generator seeded with (i, g); the size depends on i only, and fits in
 * one WRITE and one chunk, so a read sees one generation whole.
 * Exit 0 when every operation succeeded and matched, 1 otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>

#include "nfsclient.h"

#define HDR 19
#define FILES_MAX 100000
#define WRITE_RATE 120 /* writes per second, at most */

static size_t size_of(unsigned i)
{
	return 1000 + (size_t)((i * 2654435761u) % 23000u);
}

static void fill(uint8_t *buf, unsigned i, unsigned g)
{
	size_t len = size_of(i);
	uint64_t x = 0x9e3779b97f4a7c15ull ^ ((uint64_t)g << 32 | i);
	char h[HDR + 8];

	snprintf(h, sizeof(h), "F%08u G%08u\n", i % 100000000u, g % 100000000u);
	memcpy(buf, h, HDR);
	for (size_t k = HDR; k < len; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[k] = (uint8_t)x;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int stopped(const char *stop)
{
	return access(stop, F_OK) == 0;
}

/* The acknowledged generations, read from LOG as it grows. */
typedef struct acks {
	FILE *f;
	int g[FILES_MAX]; /* -1: none yet */
	unsigned n;       /* files 0..n-1 known */
} acks;

static void acks_read(acks *a)
{
	unsigned i, g;
	char line[64];

	clearerr(a->f);
	while (fgets(line, sizeof(line), a->f)) {
		if (sscanf(line, "%u %u", &i, &g) != 2 || i >= FILES_MAX)
			continue;
		while (a->n <= i)
			a->g[a->n++] = -1;
		if ((int)g > a->g[i])
			a->g[i] = (int)g;
	}
}

static int write_one(struct nfs_context *nfs, const char *dir, unsigned i,
                     unsigned g, uint8_t *buf)
{
	struct nfsfh *fh = NULL;
	size_t size = size_of(i);
	char path[512];
	int w;

	fill(buf, i, g);
	snprintf(path, sizeof(path), "%s/f%u", dir, i);
	if (g == 0 ? nfs_create(nfs, path, O_RDWR, 0644, &fh)
	           : nfs_open(nfs, path, O_RDWR, &fh)) {
		printf("%s %s: %s\n", g ? "open" : "create", path,
		       nfs_get_error(nfs));
		return -1;
	}
	w = nfs_pwrite(nfs, fh, 0, size, (char *)buf);
	if (w != (int)size) {
		printf("write %s: %s\n", path,
		       w < 0 ? nfs_get_error(nfs) : "short");
		nfs_close(nfs, fh);
		return -1;
	}
	if (nfs_fsync(nfs, fh) != 0) {
		printf("fsync %s: %s\n", path, nfs_get_error(nfs));
		nfs_close(nfs, fh);
		return -1;
	}
	nfs_close(nfs, fh);
	return 0;
}

static int do_write(struct nfs_context *nfs, const char *dir, const char *stop,
                    const char *log)
{
	static unsigned gen[FILES_MAX];
	uint8_t *buf = malloc(64 * 1024);
	FILE *f = fopen(log, "a");
	unsigned n = 0, writes = 0, errors = 0;
	double t0;

	if (!buf || !f)
		return 1;
	if (nfs_mkdir(nfs, dir) != 0 && !strstr(nfs_get_error(nfs), "EXIST"))
		printf("mkdir %s: %s (going on)\n", dir, nfs_get_error(nfs));
	srandom(42);
	t0 = now_s();
	while (!stopped(stop) && n < FILES_MAX) {
		unsigned i, g;
		double ahead =
		        (double)(writes + errors) / WRITE_RATE - (now_s() - t0);

		if (ahead > 0)
			usleep((useconds_t)(ahead * 1e6));
		if (n < 10 || random() % 10 < 6) {
			i = n++;
			g = 0;
		} else {
			i = (unsigned)random() % n;
			g = gen[i] + 1;
		}
		if (write_one(nfs, dir, i, g, buf) < 0) {
			errors++;
			if (g == 0)
				n--; /* try it again: a create may be
				      * half-done, so ask for EEXIST-free */
			continue;
		}
		gen[i] = g;
		writes++;
		fprintf(f, "%u %u\n", i, g);
		fflush(f);
	}
	fclose(f);
	free(buf);
	printf("writes %u errors %u\n", writes, errors);
	return errors ? 1 : 0;
}

/* Read f<i>; 0 and its generation, or -1 (printed). */
static int read_one(struct nfs_context *nfs, const char *dir, unsigned i,
                    uint8_t *got, uint8_t *want, unsigned *gen)
{
	struct nfsfh *fh = NULL;
	size_t size = size_of(i);
	char path[512];
	unsigned fi, fg;
	int r;

	snprintf(path, sizeof(path), "%s/f%u", dir, i);
	if (nfs_open(nfs, path, O_RDONLY, &fh) != 0) {
		printf("open %s: %s\n", path, nfs_get_error(nfs));
		return -1;
	}
	r = nfs_pread(nfs, fh, 0, size + 1, (char *)got);
	nfs_close(nfs, fh);
	if (r < 0) {
		printf("read %s: %s\n", path, nfs_get_error(nfs));
		return -1;
	}
	if ((size_t)r != size) {
		printf("%s: %d bytes, want %zu\n", path, r, size);
		return -1;
	}
	if (sscanf((char *)got, "F%08u G%08u", &fi, &fg) != 2 || fi != i) {
		printf("%s: bad header\n", path);
		return -1;
	}
	fill(want, i, fg);
	if (memcmp(want, got, size) != 0) {
		printf("%s: contents of generation %u differ\n", path, fg);
		return -1;
	}
	*gen = fg;
	return 0;
}

static int do_read(struct nfs_context *nfs, const char *dir, const char *stop,
                   const char *log)
{
	static acks a;
	uint8_t *got = malloc(64 * 1024), *want = malloc(64 * 1024);
	unsigned reads = 0, errors = 0, stale = 0;

	if (!got || !want)
		return 1;
	for (int k = 0; k < 300 && !(a.f = fopen(log, "r")); k++)
		usleep(100000);
	if (!a.f)
		return 1;
	srandom(7);
	while (!stopped(stop)) {
		unsigned i, g = 0;
		int min;

		acks_read(&a);
		if (a.n == 0) {
			usleep(50000);
			continue;
		}
		/* Mostly recent files: the ones a move is most likely to
		 * lose. */
		i = random() % 2
		            ? a.n - 1 -
		                      (unsigned)random() % (a.n < 20 ? a.n : 20)
		            : (unsigned)random() % a.n;
		if ((min = a.g[i]) < 0)
			continue;
		reads++;
		if (read_one(nfs, dir, i, got, want, &g) < 0) {
			errors++;
			continue;
		}
		if ((int)g < min) {
			printf("f%u: generation %u read, %d was acknowledged: "
			       "stale\n",
			       i, g, min);
			stale++;
		}
	}
	printf("reads %u errors %u stale %u\n", reads, errors, stale);
	free(got);
	free(want);
	return errors || stale ? 1 : 0;
}

static int do_check(struct nfs_context *nfs, const char *dir, const char *log)
{
	static acks a;
	uint8_t *got = malloc(64 * 1024), *want = malloc(64 * 1024);
	unsigned files = 0, bad = 0, listed = 0;
	struct nfsdir *d = NULL;
	struct nfsdirent *e;

	if (!got || !want || !(a.f = fopen(log, "r")))
		return 1;
	acks_read(&a);
	for (unsigned i = 0; i < a.n; i++) {
		unsigned g = 0;
		if (a.g[i] < 0)
			continue;
		files++;
		if (read_one(nfs, dir, i, got, want, &g) < 0)
			bad++;
		else if ((int)g < a.g[i]) {
			printf("f%u: generation %u, want %d: stale\n", i, g,
			       a.g[i]);
			bad++;
		}
	}
	if (nfs_opendir(nfs, dir, &d) != 0) {
		printf("opendir %s: %s\n", dir, nfs_get_error(nfs));
		bad++;
	} else {
		while ((e = nfs_readdir(nfs, d)) != NULL)
			if (strcmp(e->name, ".") && strcmp(e->name, ".."))
				listed++;
		nfs_closedir(nfs, d);
		if (listed < files) {
			printf("%s lists %u entries, want %u or more\n", dir,
			       listed, files);
			bad++;
		}
	}
	printf("files %u bad %u\n", files, bad);
	fclose(a.f);
	free(got);
	free(want);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct nfs_context *nfs;
	int rc = 2;

	if (argc < 6) {
		fprintf(stderr, "usage: joinit write|read HOST PORT DIR STOP "
		                "LOG | check HOST PORT DIR LOG\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!(nfs = nfsclient_mount(argv[2], argv[3])))
		return 1;
	if (strcmp(argv[1], "write") == 0 && argc == 7)
		rc = do_write(nfs, argv[4], argv[5], argv[6]);
	else if (strcmp(argv[1], "read") == 0 && argc == 7)
		rc = do_read(nfs, argv[4], argv[5], argv[6]);
	else if (strcmp(argv[1], "check") == 0 && argc == 6)
		rc = do_check(nfs, argv[4], argv[5]);
	nfs_destroy_context(nfs);
	return rc;
}

#if defined(__SANITIZE_ADDRESS__)
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libnfs.so\n";
}
#endif
