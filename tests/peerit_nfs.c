/* peerit_nfs.c - libnfs's high-level synchronous API for tests/peerit. */
#include "tests/peerit_nfs.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <nfsc/libnfs.h>

struct pnfs {
	struct nfs_context *nfs;
};

pnfs *pnfs_mount(const char *host, int port)
{
	struct nfs_context *nfs = nfs_init_context();
	struct nfs_url *u = NULL;
	char url[256];
	pnfs *p = NULL;

	if (nfs == NULL)
		return NULL;
	snprintf(url, sizeof(url), "nfs://%s/?nfsport=%d&mountport=%d", host,
	         port, port);
	u = nfs_parse_url_dir(nfs, url);
	if (u == NULL || nfs_mount(nfs, u->server, u->path) != 0) {
		fprintf(stderr, "peerit: mount %s: %s\n", url,
		        nfs_get_error(nfs));
		goto out;
	}
	p = malloc(sizeof(*p));
	if (p != NULL) {
		p->nfs = nfs;
		nfs = NULL;
	}
out:
	if (u != NULL)
		nfs_destroy_url(u);
	if (nfs != NULL)
		nfs_destroy_context(nfs);
	return p;
}

void pnfs_umount(pnfs *p)
{
	if (p == NULL)
		return;
	nfs_destroy_context(p->nfs);
	free(p);
}

int pnfs_mkdir(pnfs *p, const char *path)
{
	if (nfs_mkdir(p->nfs, path) != 0) {
		fprintf(stderr, "peerit: mkdir %s: %s\n", path,
		        nfs_get_error(p->nfs));
		return -1;
	}
	return 0;
}

int pnfs_put(pnfs *p, const char *path, const void *data, size_t len)
{
	struct nfsfh *fh = NULL;
	size_t done = 0;
	int rc = -1;

	if (nfs_create(p->nfs, path, O_RDWR | O_TRUNC, 0644, &fh) != 0) {
		fprintf(stderr, "peerit: create %s: %s\n", path,
		        nfs_get_error(p->nfs));
		return -1;
	}
	while (done < len) {
		size_t n = len - done > (1u << 20) ? (1u << 20) : len - done;
		int w = nfs_pwrite(p->nfs, fh, done, n, (char *)data + done);

		if (w <= 0) {
			fprintf(stderr, "peerit: write %s: %s\n", path,
			        nfs_get_error(p->nfs));
			goto out;
		}
		done += (size_t)w;
	}
	if (nfs_fsync(p->nfs, fh) != 0) {
		fprintf(stderr, "peerit: fsync %s: %s\n", path,
		        nfs_get_error(p->nfs));
		goto out;
	}
	rc = 0;
out:
	nfs_close(p->nfs, fh);
	return rc;
}

#if defined(__SANITIZE_ADDRESS__)
/* libnfs 4.0 leaks a small allocation per mount: not ours to fix, and
 * not to hide leaks of our own code (peerit keeps leak detection). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libnfs.so\n";
}
#endif
