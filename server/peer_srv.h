/* peer_srv.h - the server side of the node-to-node protocol
 * (rpc/magma_peer.x): the dispatch rows of MAGMA_PEER_PROGRAM and the
 * routing table a lone node starts with.
 *
 * Handlers find the node in rpc_req.daemon (struct magmad, magmad.h):
 * its store, configuration, bound addresses and, under table_lock, its
 * routing table.  They are served only on the TLS peer port, so a caller
 * has already proved it holds the join token. */
#ifndef MAGMA_PEER_SRV_H
#define MAGMA_PEER_SRV_H

#include <stdint.h>

#include "dispatch.h"
#include "ring.h"

extern const rpc_program peer_program;

/* The initial table of a node that is the only member of its network:
 * one member (id, peer and nfs "ip:port" addresses, state up, default
 * weight), redundancy r, epoch 1.  *out is freed with ring_free. */
int peer_table_single(const uint8_t id[RING_ID_LEN], unsigned r,
                      const char *peer, const char *nfs, ring **out);

/* 32 hex digits (conf.h node_id) into 16 bytes; MAGMA_EINVAL if not. */
int peer_id_parse(const char *hex, uint8_t id[RING_ID_LEN]);

#endif
