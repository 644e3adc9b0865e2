/* nfsclient.h - the mount step shared by the libnfs test clients
 * (tests/replit.c, joinit.c, concurit.c). */
#ifndef MAGMA_TESTS_NFSCLIENT_H
#define MAGMA_TESTS_NFSCLIENT_H

#include <sys/time.h> /* libnfs.h uses struct timeval */

#include <nfsc/libnfs.h>

/* Mount the export "/" of the front end at HOST:PORT (NFS and MOUNT on
 * the same port, no portmapper).  Returns a context the caller frees
 * with nfs_destroy_context(), or NULL after printing why on stdout. */
struct nfs_context *nfsclient_mount(const char *host, const char *port);

#endif
