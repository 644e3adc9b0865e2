/* peerit_nfs.h - the libnfs side of tests/peerit: write files through a
 * real NFS client.  Kept apart from peerit.c so that libnfs's headers
 * never meet libtirpc's and rpcgen's. */
#ifndef MAGMA_PEERIT_NFS_H
#define MAGMA_PEERIT_NFS_H

#include <stddef.h>

typedef struct pnfs pnfs;

/* Mount "/" of host (NFS and MOUNT on port); NULL on failure (printed). */
pnfs *pnfs_mount(const char *host, int port);
void pnfs_umount(pnfs *p);

/* 0 or -1 (the error is printed). */
int pnfs_mkdir(pnfs *p, const char *path);
/* Create or truncate path and write len bytes, then fsync (COMMIT). */
int pnfs_put(pnfs *p, const char *path, const void *data, size_t len);

#endif
