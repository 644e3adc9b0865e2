/* nfsclient.c - the mount step shared by the libnfs test clients. */
#include "nfsclient.h"

#include <stdio.h>

struct nfs_context *nfsclient_mount(const char *host, const char *port)
{
	struct nfs_context *nfs = nfs_init_context();
	struct nfs_url *u;
	char url[256];

	if (!nfs)
		return NULL;
	snprintf(url, sizeof(url), "nfs://%s/?nfsport=%s&mountport=%s", host,
	         port, port);
	u = nfs_parse_url_dir(nfs, url);
	if (!u || nfs_mount(nfs, u->server, u->path) != 0) {
		printf("mount %s: %s\n", url, nfs_get_error(nfs));
		if (u)
			nfs_destroy_url(u);
		nfs_destroy_context(nfs);
		return NULL;
	}
	nfs_destroy_url(u);
	return nfs;
}
