/* rpc_server.h - the ONC RPC listener of magmad: TCP with record marking,
 * table-driven dispatch (dispatch.h) to NFSv3 and MOUNTv3 on one port.
 *
 * Each connection is served by its own thread; calls on one connection
 * are read in order, and replies are written whole under a per-connection
 * lock.  Malformed input gets GARBAGE_ARGS (or the connection is closed
 * when the framing itself is broken); the server keeps serving others. */
#ifndef MAGMA_RPC_SERVER_H
#define MAGMA_RPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "dispatch.h"

typedef struct rpc_server rpc_server;

typedef struct rpc_server_config {
	const char *addr;      /* numeric IPv4/IPv6 address to bind */
	uint16_t port;         /* 0: any free port (see rpc_server_port) */
	const rpc_program *const *progs; /* programs served on this port */
	size_t nprogs;
	struct magmad *daemon; /* passed to handlers in rpc_req */
	fs *fs;
	const magma_keys *keys;
	int use_rpcbind;       /* register with rpcbind when one answers */
} rpc_server_config;

/* Bind, listen and start serving in background threads.  The config's
 * pointers must outlive the server.  MAGMA_EADDRINUSE when the port is
 * taken (logged with the address).  *out is released by rpc_server_stop. */
int rpc_server_start(rpc_server **out, const rpc_server_config *cfg);

/* The port actually bound. */
uint16_t rpc_server_port(const rpc_server *s);

/* Stop accepting, close every connection, wait for the threads, unregister
 * from rpcbind, free s. */
void rpc_server_stop(rpc_server *s);

#endif
