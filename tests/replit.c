/* replit.c - the NFS client of tests/it_repl.sh (libnfs, synchronous):
 * write a set of files with known contents through one front end, check
 * them through another, and time operations that must fail with EIO.
 *
 *   replit put   HOST PORT DIR N SIZE SEED   mkdir DIR, write DIR/f0..
 *   replit check HOST PORT DIR N SIZE SEED   every file's size and bytes,
 *                                            and DIR lists exactly N
 *   replit eio   HOST PORT DIR N MAXMS [GO]  stat+read each file: every
 *                                            failure must be EIO within
 *                                            MAXMS; prints "eio K ok M"
 *                                            (with GO: mount, print
 *                                            "mounted", wait for file GO)
 * Exit 0 when everything matched, 1 otherwise (reasons on stdout). */
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

static void fill(uint8_t *buf, size_t len, unsigned seed, unsigned i)
{
	uint64_t x = 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 32 | i);

	for (size_t k = 0; k < len; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[k] = (uint8_t)x;
	}
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int put(struct nfs_context *nfs, const char *dir, unsigned n,
               size_t size, unsigned seed)
{
	uint8_t *buf = malloc(size ? size : 1);
	char path[512];
	int bad = 0;

	if (nfs_mkdir(nfs, dir) != 0 && !strstr(nfs_get_error(nfs), "EXIST"))
		printf("mkdir %s: %s (going on)\n", dir, nfs_get_error(nfs));
	for (unsigned i = 0; i < n && buf; i++) {
		struct nfsfh *fh = NULL;
		size_t done = 0;

		fill(buf, size, seed, i);
		snprintf(path, sizeof(path), "%s/f%u", dir, i);
		if (nfs_create(nfs, path, O_RDWR | O_TRUNC, 0644, &fh) != 0) {
			printf("create %s: %s\n", path, nfs_get_error(nfs));
			bad++;
			continue;
		}
		while (done < size) {
			size_t c = size - done > 65536 ? 65536 : size - done;
			int w = nfs_pwrite(nfs, fh, done, c,
			                   (char *)buf + done);
			if (w <= 0) {
				printf("write %s: %s\n", path,
				       nfs_get_error(nfs));
				bad++;
				break;
			}
			done += (size_t)w;
		}
		if (nfs_fsync(nfs, fh) != 0) {
			printf("fsync %s: %s\n", path, nfs_get_error(nfs));
			bad++;
		}
		nfs_close(nfs, fh);
	}
	free(buf);
	return bad ? 1 : 0;
}

static int check(struct nfs_context *nfs, const char *dir, unsigned n,
                 size_t size, unsigned seed)
{
	uint8_t *want = malloc(size + 1), *got = malloc(size + 1);
	struct nfsdir *d = NULL;
	struct nfsdirent *e;
	char path[512];
	unsigned listed = 0;
	int bad = 0;

	for (unsigned i = 0; i < n && want && got; i++) {
		struct nfs_stat_64 st;
		struct nfsfh *fh = NULL;
		size_t done = 0;

		fill(want, size, seed, i);
		snprintf(path, sizeof(path), "%s/f%u", dir, i);
		if (nfs_stat64(nfs, path, &st) != 0) {
			printf("stat %s: %s\n", path, nfs_get_error(nfs));
			bad++;
			continue;
		}
		if (st.nfs_size != size) {
			printf("%s: size %llu, want %zu\n", path,
			       (unsigned long long)st.nfs_size, size);
			bad++;
			continue;
		}
		if (nfs_open(nfs, path, O_RDONLY, &fh) != 0) {
			printf("open %s: %s\n", path, nfs_get_error(nfs));
			bad++;
			continue;
		}
		while (done < size) {
			size_t c = size - done > 65536 ? 65536 : size - done;
			int r = nfs_pread(nfs, fh, done, c, (char *)got + done);
			if (r <= 0) {
				printf("read %s: %s\n", path,
				       nfs_get_error(nfs));
				break;
			}
			done += (size_t)r;
		}
		nfs_close(nfs, fh);
		if (done != size || memcmp(want, got, size) != 0) {
			printf("%s: contents differ\n", path);
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
		if (listed != n) {
			printf("%s lists %u entries, want %u\n", dir, listed,
			       n);
			bad++;
		}
	}
	free(want);
	free(got);
	return bad ? 1 : 0;
}

static int eio(struct nfs_context *nfs, const char *dir, unsigned n, long maxms)
{
	unsigned neio = 0, nok = 0;
	char path[512], buf[16];
	int bad = 0;

	for (unsigned i = 0; i < n; i++) {
		struct nfs_stat_64 st;
		struct nfsfh *fh = NULL;
		long t0 = now_ms(), dt;
		int rc;

		snprintf(path, sizeof(path), "%s/f%u", dir, i);
		rc = nfs_stat64(nfs, path, &st);
		if (rc == 0 && (rc = nfs_open(nfs, path, O_RDONLY, &fh)) == 0) {
			rc = nfs_pread(nfs, fh, 0, sizeof(buf), buf);
			rc = rc < 0 ? rc : 0;
			nfs_close(nfs, fh);
		}
		dt = now_ms() - t0;
		if (dt > maxms) {
			printf("%s: took %ld ms (bound %ld)\n", path, dt,
			       maxms);
			bad++;
		}
		if (rc == 0)
			nok++;
		else if (rc == -EIO)
			neio++;
		else {
			printf("%s: %s (want EIO)\n", path, nfs_get_error(nfs));
			bad++;
		}
	}
	printf("eio %u ok %u\n", neio, nok);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct nfs_context *nfs;
	int rc = 2;

	if (argc < 7) {
		fprintf(stderr, "usage: replit put|check|eio HOST PORT DIR N "
		                "SIZE|MAXMS [SEED]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!(nfs = nfsclient_mount(argv[2], argv[3])))
		return 1;
	if (strcmp(argv[1], "put") == 0 && argc == 8)
		rc = put(nfs, argv[4], (unsigned)atoi(argv[5]),
		         (size_t)atol(argv[6]), (unsigned)atoi(argv[7]));
	else if (strcmp(argv[1], "check") == 0 && argc == 8)
		rc = check(nfs, argv[4], (unsigned)atoi(argv[5]),
		           (size_t)atol(argv[6]), (unsigned)atoi(argv[7]));
	else if (strcmp(argv[1], "eio") == 0) {
		/* Mounted: print so, then wait for GOFILE (the test kills
		 * the owners meanwhile). */
		if (argc == 8) {
			printf("mounted\n");
			for (int i = 0; i < 600 && access(argv[7], F_OK); i++)
				usleep(100000);
		}
		rc = eio(nfs, argv[4], (unsigned)atoi(argv[5]), atol(argv[6]));
	}
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
