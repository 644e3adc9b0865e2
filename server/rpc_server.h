/* rpc_server.h - the ONC RPC listeners of magmad: record marking over
 * plain TCP (NFSv3 and MOUNTv3 on one port) or over TLS with a pre-shared
 * key (the peer program, rpc/magma_peer.x), with table-driven dispatch
 * (dispatch.h).
 *
 * Each connection is served by its own thread; calls on one connection
 * are read in order, and replies are written whole under a per-connection
 * lock.  Malformed input gets GARBAGE_ARGS (or the connection is closed
 * when the framing itself is broken); the server keeps serving others.
 * Over TLS, each connection's thread first completes the handshake
 * (rpc/transport.h): a peer that fails it is logged by the transport and
 * closed, and never reaches the dispatcher. */
#ifndef MAGMA_RPC_SERVER_H
#define MAGMA_RPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "dispatch.h"

typedef struct rpc_server rpc_server;

enum rpc_server_transport {
	RPC_SERVER_PLAIN = 0, /* TCP in clear: the loopback NFS front end */
	RPC_SERVER_TLS = 1    /* TLS 1.3 PSK with (EC)DHE: node to node */
};

#define RPC_TLS_HANDSHAKE_MS 10000   /* default tls_handshake_ms */
#define RPC_TLS_IDLE_MS (15 * 60000) /* default tls_idle_ms */
#define RPC_SEND_MS 10000 /* longest send of a reply without progress */

typedef struct rpc_server_config {
	const char *addr; /* numeric IPv4/IPv6 address to bind */
	uint16_t port;    /* 0: any free port (see rpc_server_port) */
	const rpc_program *const *progs; /* programs served on this port */
	size_t nprogs;
	struct magmad *daemon; /* passed to handlers in rpc_req */
	fs *fs;
	const magma_keys *keys;
	int use_rpcbind;      /* register with rpcbind when one answers */
	int transport;        /* enum rpc_server_transport (0: plain) */
	const uint8_t *psk;   /* TLS: the key (TRANSPORT_PSK_LEN bytes,
	                       * the join token); must outlive the server */
	int tls_handshake_ms; /* TLS: bound of a handshake; 0: default */
	int tls_idle_ms;      /* TLS: close a connection idle this long;
	                       * 0: default */
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
