/* concurit.c - the NFS client of tests/it_concur.sh (libnfs, synchronous):
 * mutations of unique names in one directory through one front end while
 * another front end does the same, and the check of the result.
 *
 *   concurit mkdir HOST PORT DIR         make DIR
 *   concurit load  HOST PORT DIR TAG N   for i < N: create TAG-f<i>
 *                                        (guarded) with its content,
 *                                        mkdir TAG-d<i>; rename the file
 *                                        to TAG-r<i> (i % 3 == 0) or
 *                                        remove it (i % 3 == 1); rmdir
 *                                        the dir (i % 4 == 0) or rename
 *                                        it to TAG-e<i> (i % 4 == 1)
 *   concurit check HOST PORT DIR N TAG...  DIR lists exactly the names the
 *                                        loads of TAG... leave, each file
 *                                        reads back its content, each
 *                                        directory is one, and DIR's nlink
 *                                        is 2 + its subdirectories
 * Exit 0 when every call succeeded / everything matched, 1 otherwise
 * (reasons on stdout). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nfsc/libnfs.h>

#include "nfsclient.h"

#define NAMES_MAX 4096

/* The content of file TAG-f<i> (whatever its last name). */
static int content(char *buf, size_t len, const char *tag, unsigned i)
{
	return snprintf(buf, len, "file %s-f%u of the concurrency test\n", tag,
	                i);
}

static int bad_call(struct nfs_context *nfs, const char *what, const char *path)
{
	printf("%s %s: %s\n", what, path, nfs_get_error(nfs));
	return 1;
}

static int load(struct nfs_context *nfs, const char *dir, const char *tag,
                unsigned n)
{
	char p[512], q[512], buf[128];
	int bad = 0;

	for (unsigned i = 0; i < n; i++) {
		struct nfsfh *fh = NULL;
		int len = content(buf, sizeof(buf), tag, i);

		snprintf(p, sizeof(p), "%s/%s-f%u", dir, tag, i);
		if (nfs_create(nfs, p, O_WRONLY | O_CREAT | O_EXCL, 0644,
		               &fh) != 0) {
			bad += bad_call(nfs, "create", p);
		} else {
			if (nfs_pwrite(nfs, fh, 0, (uint64_t)len, buf) != len)
				bad += bad_call(nfs, "write", p);
			nfs_close(nfs, fh);
		}
		if (i % 3 == 0) {
			snprintf(q, sizeof(q), "%s/%s-r%u", dir, tag, i);
			if (nfs_rename(nfs, p, q) != 0)
				bad += bad_call(nfs, "rename", p);
		} else if (i % 3 == 1 && nfs_unlink(nfs, p) != 0) {
			bad += bad_call(nfs, "remove", p);
		}
		snprintf(p, sizeof(p), "%s/%s-d%u", dir, tag, i);
		if (nfs_mkdir(nfs, p) != 0) {
			bad += bad_call(nfs, "mkdir", p);
		} else if (i % 4 == 0) {
			if (nfs_rmdir(nfs, p) != 0)
				bad += bad_call(nfs, "rmdir", p);
		} else if (i % 4 == 1) {
			snprintf(q, sizeof(q), "%s/%s-e%u", dir, tag, i);
			if (nfs_rename(nfs, p, q) != 0)
				bad += bad_call(nfs, "rename", p);
		}
	}
	printf("%s: %d errors in %u rounds\n", tag, bad, n);
	return bad ? 1 : 0;
}

typedef struct want {
	char name[64];
	int dir; /* 0 file (of index i), 1 directory */
	unsigned i;
	const char *tag;
	int seen;
} want;

static size_t wants_of(const char *tag, unsigned n, want *w, size_t at)
{
	for (unsigned i = 0; i < n && at + 2 <= NAMES_MAX; i++) {
		if (i % 3 != 1) {
			snprintf(w[at].name, sizeof(w[at].name), "%s-%c%u", tag,
			         i % 3 == 0 ? 'r' : 'f', i);
			w[at].dir = 0;
			w[at].i = i;
			w[at++].tag = tag;
		}
		if (i % 4 != 0) {
			snprintf(w[at].name, sizeof(w[at].name), "%s-%c%u", tag,
			         i % 4 == 1 ? 'e' : 'd', i);
			w[at].dir = 1;
			w[at].i = i;
			w[at++].tag = tag;
		}
	}
	return at;
}

static int check_one(struct nfs_context *nfs, const char *dir, const want *w)
{
	struct nfs_stat_64 st;
	struct nfsfh *fh = NULL;
	char p[512], exp[128], got[256];
	int len, r;

	snprintf(p, sizeof(p), "%s/%s", dir, w->name);
	if (nfs_stat64(nfs, p, &st) != 0)
		return bad_call(nfs, "stat", p);
	if (w->dir) {
		if (!S_ISDIR(st.nfs_mode) || st.nfs_nlink != 2) {
			printf("%s: mode %o nlink %llu\n", p,
			       (unsigned)st.nfs_mode,
			       (unsigned long long)st.nfs_nlink);
			return 1;
		}
		return 0;
	}
	len = content(exp, sizeof(exp), w->tag, w->i);
	if (!S_ISREG(st.nfs_mode) || st.nfs_size != (uint64_t)len) {
		printf("%s: mode %o size %llu\n", p, (unsigned)st.nfs_mode,
		       (unsigned long long)st.nfs_size);
		return 1;
	}
	if (nfs_open(nfs, p, O_RDONLY, &fh) != 0)
		return bad_call(nfs, "open", p);
	r = nfs_pread(nfs, fh, 0, sizeof(got), got);
	nfs_close(nfs, fh);
	if (r != len || memcmp(got, exp, (size_t)len) != 0) {
		printf("%s: wrong content (%d bytes)\n", p, r);
		return 1;
	}
	return 0;
}

static int check(struct nfs_context *nfs, const char *dir, unsigned n,
                 char **tags, int ntags)
{
	want *w = calloc(NAMES_MAX, sizeof(*w));
	struct nfsdir *d = NULL;
	struct nfsdirent *e;
	struct nfs_stat_64 st;
	size_t nw = 0, subdirs = 0;
	int bad = 0;

	if (!w)
		return 1;
	for (int t = 0; t < ntags; t++)
		nw = wants_of(tags[t], n, w, nw);
	if (nfs_opendir(nfs, dir, &d) != 0) {
		bad += bad_call(nfs, "opendir", dir);
		goto out;
	}
	while ((e = nfs_readdir(nfs, d)) != NULL) {
		size_t k;
		if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
			continue;
		for (k = 0; k < nw && strcmp(w[k].name, e->name); k++)
			;
		if (k == nw) {
			printf("unexpected name %s\n", e->name);
			bad++;
		} else if (w[k].seen++) {
			printf("%s listed twice\n", e->name);
			bad++;
		}
	}
	nfs_closedir(nfs, d);
	for (size_t k = 0; k < nw; k++) {
		if (!w[k].seen) {
			printf("%s missing\n", w[k].name);
			bad++;
			continue;
		}
		subdirs += w[k].dir;
		bad += check_one(nfs, dir, &w[k]);
	}
	if (nfs_stat64(nfs, dir, &st) != 0) {
		bad += bad_call(nfs, "stat", dir);
	} else if (st.nfs_nlink != 2 + subdirs) {
		printf("%s: nlink %llu, %zu subdirectories\n", dir,
		       (unsigned long long)st.nfs_nlink, subdirs);
		bad++;
	}
	printf("%zu names expected, %d problems\n", nw, bad);
out:
	free(w);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct nfs_context *nfs;
	int rc;

	if (argc < 5 || (strcmp(argv[1], "mkdir") && argc < 7) ||
	    (strcmp(argv[1], "load") && strcmp(argv[1], "check") &&
	     strcmp(argv[1], "mkdir"))) {
		fprintf(stderr, "usage: concurit mkdir HOST PORT DIR | load "
		                "HOST PORT DIR TAG N | check HOST PORT DIR N "
		                "TAG...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!(nfs = nfsclient_mount(argv[2], argv[3])))
		return 1;
	if (strcmp(argv[1], "mkdir") == 0)
		rc = nfs_mkdir(nfs, argv[4]) ? bad_call(nfs, "mkdir", argv[4])
		                             : 0;
	else if (strcmp(argv[1], "load") == 0)
		rc = load(nfs, argv[4], argv[5],
		          (unsigned)strtoul(argv[6], NULL, 10));
	else
		rc = check(nfs, argv[4], (unsigned)strtoul(argv[5], NULL, 10),
		           argv + 6, argc - 6);
	nfs_destroy_context(nfs);
	return rc;
}

/* libnfs keeps a few bytes of its own until exit: not ours to report. */
#if defined(__SANITIZE_ADDRESS__)
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libnfs.so\n";
}
#endif
