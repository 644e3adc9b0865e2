/* peer_client.h - calls of the peer program (rpc/magma_peer.x) to one
 * other node over TLS with the join token (rpc/transport.h).
 *
 * A peer_client is a connection to one "ip:port", made on the first call
 * and remade after it breaks.  Every call is bounded: connecting by
 * connect_ms, the TLS handshake by handshake_ms, and the call from
 * sending to the whole reply by call_ms.  A call that fails on the
 * connection drops it (a late reply can never be taken for another
 * call's); the next call reconnects.  A call that may safely run twice
 * (all but TABLE_PUT and KV_APPLY) and failed on a connection that an
 * earlier call had opened is retried once on a new connection: the peer
 * may have closed an idle connection.
 *
 * Thread-safe: calls on one peer_client are serialized (one in flight);
 * use several peer_clients for parallel calls to one node.
 *
 * Errors (negative MAGMA_E*):
 *   the peer's status when it answered with one (MAGMA_ENOENT, ...);
 *   MAGMA_EUNAVAIL  cannot connect, connection lost, or a timeout;
 *   MAGMA_ECRYPTO   the TLS handshake failed on the key: the peer does
 *                   not hold our join token (another keyphrase);
 *   MAGMA_EPROTO    the peer does not speak TLS 1.3 PSK or sent a reply
 *                   that does not decode;
 *   MAGMA_ENOTSUPP  the peer does not serve the procedure (PROC_UNAVAIL,
 *                   PROG_UNAVAIL, PROG_MISMATCH);
 *   MAGMA_EGARBAGE  the peer could not decode our arguments;
 *   MAGMA_ESYS      the peer answered SYSTEM_ERR;
 *   MAGMA_EACCES    the peer denied the call (MSG_DENIED);
 *   MAGMA_EINVAL    bad arguments here (nothing is sent). */
#ifndef MAGMA_PEER_CLIENT_H
#define MAGMA_PEER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <rpc/rpc.h>

#include "store/kv.h"

#define PEER_CONNECT_MS 3000 /* defaults of peer_client_opts */
#define PEER_HANDSHAKE_MS 5000
#define PEER_CALL_MS 10000
#define PEER_CALL_MS_MAX 3600000 /* bound of every timeout */
#define PEER_NODE_ID_LEN 16
#define PEER_NODE_ADDR_MAX 64 /* "ip:port" with its NUL */

typedef struct peer_client peer_client;

typedef struct peer_client_opts {
	int connect_ms;   /* 0: PEER_CONNECT_MS */
	int handshake_ms; /* 0: PEER_HANDSHAKE_MS */
	int call_ms;      /* 0: PEER_CALL_MS */
} peer_client_opts;

/* Who a node is (HELLO). */
typedef struct peer_node {
	char network[65];
	uint8_t id[PEER_NODE_ID_LEN];
	char peer[PEER_NODE_ADDR_MAX]; /* "ip:port" of its peer port */
	char nfs[PEER_NODE_ADDR_MAX];  /* "ip:port" of its NFS port, or "" */
	uint32_t proto_version;
} peer_node;

/* A client of the peer at addr (numeric "ip:port" or "[v6]:port").  psk
 * is the join token (32 bytes, copied), self_id our node id (sent in
 * every call header).  opts may be NULL (defaults); a timeout outside
 * 0..PEER_CALL_MS_MAX is MAGMA_EINVAL.  Nothing is connected yet.
 * *out is freed with peer_client_free. */
int peer_client_new(const char *addr, const uint8_t psk[32],
                    const uint8_t self_id[PEER_NODE_ID_LEN],
                    const peer_client_opts *opts, peer_client **out);

/* Close the connection (orderly TLS close) and free; NULL is allowed.
 * No call may be in flight. */
void peer_client_free(peer_client *pc);

/* The epoch sent in every call header (default 0), and the highest
 * epoch seen in any reply so far. */
void peer_client_set_epoch(peer_client *pc, uint64_t epoch);
uint64_t peer_client_seen_epoch(peer_client *pc);

/* The peer's "ip:port"; valid until peer_client_free. */
const char *peer_client_addr(const peer_client *pc);

/* Connect now (TCP and TLS) if not connected; the calls do it anyway.
 * For `magmactl join`: a wrong keyphrase shows here as MAGMA_ECRYPTO. */
int peer_client_connect(peer_client *pc);

/* ---- the procedures ---- */

int peer_call_null(peer_client *pc);

/* Send who we are (me; its id should be self_id), get who they are.
 * *them is filled whenever the peer answered, also with a non-zero
 * status (see magma_peer.x). */
int peer_call_hello(peer_client *pc, const peer_node *me, peer_node *them);

/* The peer's routing table as ring_encode() bytes: *buf is malloc'd,
 * the caller frees it. */
int peer_call_table_get(peer_client *pc, uint8_t **buf, size_t *len);

/* As kv_get / kv_read / kv_scan / kv_sync / kv_stat_get (store/kv.h) on
 * the peer's local store.  kv_read may ask for any len (split into calls
 * of at most PEER_VAL_MAX bytes); kv_scan fetches pages of up to
 * PEER_SCAN_PAGE records and calls fn for each record in order. */
#define PEER_SCAN_PAGE 256
int peer_call_kv_get(peer_client *pc, const uint8_t key[KV_KEY_LEN],
                     const void *sub, size_t sublen, void **val, size_t *vallen,
                     uint64_t *ver);
/* KV_GET_MANY of reqs' subs under key, each value's asked range copied
 * straight into its req's buffer (kv.h kv_read_req: rc and got set);
 * the replier may answer only a prefix (*done < n), never none on
 * success. */
int peer_call_kv_read_many(peer_client *pc, const uint8_t key[KV_KEY_LEN],
                           kv_read_req *reqs, size_t n, size_t *done);
/* KV_GET_MANY: fills reqs[0..*done) (kv.h kv_get_req; each with its own
 * rc, values malloc'd for the caller); the replier may answer only a
 * prefix (*done < n), never none on success. */
int peer_call_kv_get_many(peer_client *pc, kv_get_req *reqs, size_t n,
                          size_t *done);
int peer_call_kv_read(peer_client *pc, const uint8_t key[KV_KEY_LEN],
                      const void *sub, size_t sublen, uint64_t off, size_t len,
                      void *buf, size_t *got);
int peer_call_kv_scan(peer_client *pc, const uint8_t key[KV_KEY_LEN],
                      const void *prefix, size_t prefixlen, const void *from,
                      size_t fromlen, size_t max, kv_scan_fn fn, void *arg);
/* KV_SYNC: the peer's forward queues are sent; *incarnation (may be
 * NULL): the run of the peer that answered. */
int peer_call_kv_sync(peer_client *pc, uint64_t *incarnation);
int peer_call_kv_stat(peer_client *pc, kv_stat *st);

/* ---- lower level (tests, and procedures without a wrapper yet) ---- */

/* Fill the call header (struct peer_hdr of magma_peer.h) with our epoch
 * and id. */
struct peer_hdr;
void peer_client_hdr(peer_client *pc, struct peer_hdr *h);

/* Point w (a peer_node_info of rpc/magma_peer.x, for a call's
 * arguments: HELLO, JOIN) at n's fields.  n is the caller's own copy,
 * since XDR encoding takes non-const pointers; it must outlive the call. */
struct peer_node_info;
void peer_node_to_wire(peer_node *n, struct peer_node_info *w);

/* One call of procedure proc: args encoded with xargs (NULL: void), the
 * reply decoded with xres (NULL: void) into res, which the caller has
 * zeroed and releases with xdr_free(xres, res) after a 0 return (on an
 * error nothing needs freeing).  The peer's status inside res is not
 * looked at.  Procedures TABLE_PUT and KV_APPLY are never retried. */
int peer_client_call(peer_client *pc, uint32_t proc, xdrproc_t xargs,
                     void *args, xdrproc_t xres, void *res);

/* Decode one reply record (without its record mark) to call xid: 0 with
 * res filled (release with xdr_free), 1 when the record answers another
 * xid (res untouched), or an error as above (MAGMA_EPROTO when it does
 * not decode; res left zeroed).  res must be zeroed.  Safe on any
 * input: for the fuzz target. */
int peer_reply_decode(const void *rec, size_t len, uint32_t xid, xdrproc_t xres,
                      void *res);

#endif
