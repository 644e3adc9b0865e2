/* dispatch.h - table-driven RPC dispatch: one row per procedure.
 *
 * rpc_server decodes the call header and credentials, finds the program
 * and procedure row, decodes the arguments with xdr_args into a zeroed
 * args_size buffer, calls fn, encodes the result with xdr_res, then frees
 * both with xdr_free(): handlers therefore allocate every pointer they put
 * in a result with malloc, exactly as XDR decoding would.
 * A handler returns 0 when *res is to be sent (NFS errors are results:
 * status fields inside res), or a negative MAGMA_E* code for a
 * SYSTEM_ERR reply (nothing of res is sent or freed). */
#ifndef MAGMA_DISPATCH_H
#define MAGMA_DISPATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <rpc/rpc.h>

#include "fs.h"
#include "keys.h"

struct magmad;

typedef struct rpc_req {
	struct magmad *daemon; /* the running node (exports, stats) */
	fs *fs;
	const magma_keys *keys;
	uint32_t flavor;   /* AUTH_NONE or AUTH_SYS */
	fs_cred cred;      /* from AUTH_SYS; nobody for AUTH_NONE */
	char machine[256]; /* AUTH_SYS machine name, "" otherwise */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	uint32_t xid;
} rpc_req;

typedef int (*rpc_handler)(rpc_req *req, void *args, void *res);

typedef struct rpc_proc {
	const char *name;
	xdrproc_t xdr_args;
	size_t args_size;
	xdrproc_t xdr_res;
	size_t res_size;
	rpc_handler fn;
} rpc_proc;

typedef struct rpc_program {
	uint32_t prog;
	uint32_t vers;
	const rpc_proc *procs; /* indexed by procedure number */
	size_t nprocs;
	const char *name;
} rpc_program;

extern const rpc_program nfs3_program;   /* server/nfs3_*.c */
extern const rpc_program mount3_program; /* server/mount3.c */

#endif
