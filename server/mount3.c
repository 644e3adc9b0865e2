/* mount3.c - MOUNT version 3 (RFC 1813 appendix I): hands out the handle
 * of an export, or of a directory below one (as Linux servers allow), and
 * keeps the advisory list of mounts that DUMP shows.  The exports are a
 * small table here until magma-exports lands. */
#include <netdb.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dispatch.h"
#include "fh.h"
#include "merr.h"
#include "mlog.h"
#include "nfs3_prot.h"

/* Paths up to this long decode, so that an over-long one gets
 * MNT3ERR_NAMETOOLONG rather than GARBAGE_ARGS. */
#define MOUNT3_PATH_DECODE_MAX 8192u
#define MOUNT3_MAX_MOUNTS 4096

typedef struct mount3_export {
	uint16_t id; /* export id in the file handle */
	const char *path;
	const char *groups; /* who may mount, as EXPORT shows it */
} mount3_export;

static const mount3_export mount3_exports[] = {
	{ 1, "/", "*" },
};
#define MOUNT3_NEXPORTS (sizeof(mount3_exports) / sizeof(mount3_exports[0]))

typedef struct mount3_entry {
	char host[NI_MAXHOST];
	char *path;
} mount3_entry;

static pthread_mutex_t mount3_mu = PTHREAD_MUTEX_INITIALIZER;
static mount3_entry mount3_list[MOUNT3_MAX_MOUNTS];
static size_t mount3_n;

static bool_t mount3_xdr_path(XDR *x, char **p)
{
	return xdr_string(x, p, MOUNT3_PATH_DECODE_MAX);
}

/* Path without repeated or trailing slashes, into out (len bytes). */
static void norm_path(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in != '\0' && o + 1 < len; in++) {
		if (*in == '/' && o > 0 && out[o - 1] == '/')
			continue;
		out[o++] = *in;
	}
	while (o > 1 && out[o - 1] == '/')
		o--;
	out[o] = '\0';
}

/* The export that holds the normalised path n (the longest match on a
 * component boundary); *rest points at what is below it ("" or "a/b"). */
static const mount3_export *find_export(const char *n, const char **rest)
{
	const mount3_export *best = NULL;
	size_t i, bestlen = 0;

	for (i = 0; i < MOUNT3_NEXPORTS; i++) {
		const char *ep = mount3_exports[i].path;
		size_t el = strlen(ep);

		if (strncmp(n, ep, el) != 0)
			continue;
		if (n[el] != '\0' && n[el] != '/' && ep[el - 1] != '/')
			continue;
		if (best == NULL || el > bestlen) {
			best = &mount3_exports[i];
			bestlen = el;
		}
	}
	if (best != NULL) {
		*rest = n + bestlen;
		while (**rest == '/')
			(*rest)++;
	}
	return best;
}

static mountstat3 mnt_status(int err)
{
	switch (err) {
	case MAGMA_ENOENT:
	case MAGMA_ESTALE: return MNT3ERR_NOENT;
	case MAGMA_ENOTDIR: return MNT3ERR_NOTDIR;
	case MAGMA_EACCES:
	case MAGMA_EPERM: return MNT3ERR_ACCES;
	case MAGMA_ENAMETOOLONG: return MNT3ERR_NAMETOOLONG;
	case MAGMA_EINVAL: return MNT3ERR_INVAL;
	case MAGMA_EIO:
	case MAGMA_EUNAVAIL: return MNT3ERR_IO;
	default: return MNT3ERR_SERVERFAULT;
	}
}

/* Walk rest ("a/b") down from the root as the caller, as a Linux server
 * lets clients mount any directory below an export.  ".." is refused so
 * that a mount never climbs out of its export. */
static int walk_below(rpc_req *req, const char *rest, fs_ref *ref)
{
	fs_attr attr;
	int rc;

	fs_root(req->fs, ref);
	while (*rest != '\0') {
		const char *slash = strchr(rest, '/');
		size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
		fs_ref next;

		if (len == 2 && rest[0] == '.' && rest[1] == '.')
			return MAGMA_EINVAL;
		if (!(len == 1 && rest[0] == '.')) {
			rc = fs_lookup(req->fs, &req->cred, ref, rest, len,
			               &next, &attr, NULL, NULL);
			if (rc < 0)
				return rc;
			if (attr.type != FS_DIR)
				return MAGMA_ENOTDIR;
			*ref = next;
		}
		rest += len;
		while (*rest == '/')
			rest++;
	}
	return 0;
}

static void client_host(const rpc_req *req, char *host, size_t len)
{
	if (req->peerlen == 0 ||
	    getnameinfo((const struct sockaddr *)&req->peer, req->peerlen, host,
	                (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(host, len, "unknown");
}

static void add_mount(const char *host, const char *path)
{
	size_t i;
	char *p;

	pthread_mutex_lock(&mount3_mu);
	for (i = 0; i < mount3_n; i++)
		if (strcmp(mount3_list[i].host, host) == 0 &&
		    strcmp(mount3_list[i].path, path) == 0)
			goto out;
	if (mount3_n == MOUNT3_MAX_MOUNTS) {
		LOG_W("mount list full (%d): not recording %s:%s",
		      MOUNT3_MAX_MOUNTS, host, path);
		goto out;
	}
	p = strdup(path);
	if (p == NULL)
		goto out;
	snprintf(mount3_list[mount3_n].host, sizeof(mount3_list[0].host), "%s",
	         host);
	mount3_list[mount3_n].path = p;
	mount3_n++;
out:
	pthread_mutex_unlock(&mount3_mu);
}

/* Remove the mounts of host (of path only, unless path is NULL). */
static void del_mounts(const char *host, const char *path)
{
	size_t i = 0;

	pthread_mutex_lock(&mount3_mu);
	while (i < mount3_n) {
		mount3_entry *e = &mount3_list[i];

		if (strcmp(e->host, host) == 0 &&
		    (path == NULL || strcmp(e->path, path) == 0)) {
			free(e->path);
			*e = mount3_list[--mount3_n];
			continue;
		}
		i++;
	}
	pthread_mutex_unlock(&mount3_mu);
}

static int mount3_null(rpc_req *req, void *args, void *res)
{
	return 0;
}

static int mount3_mnt(rpc_req *req, void *args, void *resp)
{
	const char *path = *(char **)args;
	mountres3 *res = resp;
	mountres3_ok *ok = &res->mountres3_u.mountinfo;
	const mount3_export *ex;
	const char *rest;
	char host[NI_MAXHOST], n[MNTPATHLEN + 1];
	fs_ref root;
	int rc;

	client_host(req, host, sizeof(host));
	if (strlen(path) > MNTPATHLEN) {
		res->fhs_status = MNT3ERR_NAMETOOLONG;
		return 0;
	}
	norm_path(path, n, sizeof(n));
	ex = find_export(n, &rest);
	if (ex == NULL) {
		LOG_I("%s: mount of %s refused: no such export", host, n);
		res->fhs_status = MNT3ERR_NOENT;
		return 0;
	}
	rc = walk_below(req, rest, &root);
	if (rc < 0) {
		LOG_I("%s: mount of %s refused: %s", host, n,
		      magma_strerror(rc));
		res->fhs_status = mnt_status(rc);
		return 0;
	}
	ok->fhandle.fhandle3_val = malloc(FH_LEN);
	ok->auth_flavors.auth_flavors_val = malloc(2 * sizeof(int));
	if (ok->fhandle.fhandle3_val == NULL ||
	    ok->auth_flavors.auth_flavors_val == NULL) {
		res->fhs_status = MNT3ERR_SERVERFAULT;
		goto fail;
	}
	rc = fh_encode(req->keys, ex->id, &root,
	               (uint8_t *)ok->fhandle.fhandle3_val);
	if (rc < 0) {
		LOG_E("handle of %s: %s", n, magma_strerror(rc));
		res->fhs_status = MNT3ERR_SERVERFAULT;
		goto fail;
	}
	ok->fhandle.fhandle3_len = FH_LEN;
	ok->auth_flavors.auth_flavors_val[0] = AUTH_SYS;
	ok->auth_flavors.auth_flavors_val[1] = AUTH_NONE;
	ok->auth_flavors.auth_flavors_len = 2;
	res->fhs_status = MNT3_OK;
	add_mount(host, n);
	LOG_I("%s mounted %s", host, n);
	return 0;
fail:
	/* Not MNT3_OK: xdr_free will not look at mountinfo. */
	free(ok->fhandle.fhandle3_val);
	free(ok->auth_flavors.auth_flavors_val);
	memset(ok, 0, sizeof(*ok));
	return 0;
}

static int mount3_dump(rpc_req *req, void *args, void *resp)
{
	mountlist *res = resp;
	mountlist *tail = res;
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&mount3_mu);
	for (i = 0; i < mount3_n; i++) {
		mountbody *b = calloc(1, sizeof(*b));

		if (b == NULL) {
			rc = MAGMA_ENOMEM;
			break;
		}
		*tail = b;
		tail = &b->ml_next;
		b->ml_hostname = strdup(mount3_list[i].host);
		b->ml_directory = strdup(mount3_list[i].path);
		if (b->ml_hostname == NULL || b->ml_directory == NULL) {
			rc = MAGMA_ENOMEM;
			break;
		}
	}
	pthread_mutex_unlock(&mount3_mu);
	if (rc < 0) /* the caller sends SYSTEM_ERR and frees nothing */
		xdr_free((xdrproc_t)xdr_mountlist, (char *)res);
	return rc;
}

static int mount3_umnt(rpc_req *req, void *args, void *res)
{
	const char *path = *(char **)args;
	char host[NI_MAXHOST], n[MNTPATHLEN + 1];

	if (strlen(path) > MNTPATHLEN)
		return 0;
	client_host(req, host, sizeof(host));
	norm_path(path, n, sizeof(n));
	del_mounts(host, n);
	return 0;
}

static int mount3_umntall(rpc_req *req, void *args, void *res)
{
	char host[NI_MAXHOST];

	client_host(req, host, sizeof(host));
	del_mounts(host, NULL);
	return 0;
}

static int mount3_export_list(rpc_req *req, void *args, void *resp)
{
	exports *res = resp;
	exports *tail = res;
	size_t i;

	for (i = 0; i < MOUNT3_NEXPORTS; i++) {
		exportnode *e = calloc(1, sizeof(*e));

		if (e == NULL)
			goto fail;
		*tail = e;
		tail = &e->ex_next;
		e->ex_dir = strdup(mount3_exports[i].path);
		e->ex_groups = calloc(1, sizeof(groupnode));
		if (e->ex_dir == NULL || e->ex_groups == NULL)
			goto fail;
		e->ex_groups->gr_name = strdup(mount3_exports[i].groups);
		if (e->ex_groups->gr_name == NULL)
			goto fail;
	}
	return 0;
fail:
	xdr_free((xdrproc_t)xdr_exports, (char *)res);
	return MAGMA_ENOMEM;
}

/* NULL xdr procs are void (rpc_server.c). */
static const rpc_proc mount3_procs[] = {
	[MOUNTPROC3_NULL] = { "NULL", NULL, 0, NULL, 0, mount3_null },
	[MOUNTPROC3_MNT] = { "MNT", (xdrproc_t)mount3_xdr_path, sizeof(dirpath),
	                     (xdrproc_t)xdr_mountres3, sizeof(mountres3),
	                     mount3_mnt },
	[MOUNTPROC3_DUMP] = { "DUMP", NULL, 0, (xdrproc_t)xdr_mountlist,
	                      sizeof(mountlist), mount3_dump },
	[MOUNTPROC3_UMNT] = { "UMNT", (xdrproc_t)mount3_xdr_path,
	                      sizeof(dirpath), NULL, 0, mount3_umnt },
	[MOUNTPROC3_UMNTALL] = { "UMNTALL", NULL, 0, NULL, 0, mount3_umntall },
	[MOUNTPROC3_EXPORT] = { "EXPORT", NULL, 0, (xdrproc_t)xdr_exports,
	                        sizeof(exports), mount3_export_list },
};

const rpc_program mount3_program = {
	.prog = MOUNT_PROGRAM,
	.vers = MOUNT_V3,
	.procs = mount3_procs,
	.nprocs = sizeof(mount3_procs) / sizeof(mount3_procs[0]),
	.name = "MOUNT3",
};
