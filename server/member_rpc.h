/* member_rpc.h - the client side of the membership procedures of
 * rpc/magma_peer.x (JOIN, MEMBER_SET, TABLE_PUT) over a peer_client.
 * Errors as peer_client.h; the peer's status when it answered with one. */
#ifndef MAGMA_MEMBER_RPC_H
#define MAGMA_MEMBER_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "peer_client.h"
#include "ring.h"

/* What JOIN and MEMBER_SET answer: the coordinator and the table. */
typedef struct member_answer {
	uint8_t coord_id[RING_ID_LEN];
	char coord_addr[RING_ADDR_MAX];
	ring *table; /* decoded; the caller frees it with ring_free */
} member_answer;

/* JOIN (see magma_peer.x) as node me with weight (0: default).  On 0,
 * ans is filled. */
int member_call_join(peer_client *pc, const peer_node *me, uint32_t weight,
                     int probe, int forwarded, member_answer *ans);

/* MEMBER_SET: state (enum ring_state) or 0 to remove. */
int member_call_set(peer_client *pc, const uint8_t id[RING_ID_LEN], int state,
                    int forwarded, member_answer *ans);

/* TABLE_PUT the table; the peer's status (MAGMA_ECONFLICT: not newer). */
int member_call_table_put(peer_client *pc, const ring *table);

/* TABLE_GET, decoded; *out freed with ring_free. */
int member_call_table_get(peer_client *pc, ring **out);

#endif
