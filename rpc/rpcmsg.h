/* rpcmsg.h - ONC RPC messages (RFC 5531) without sockets: TCP record
 * marking, the call header with its credentials, and reply encoding.
 *
 * (Named rpcmsg.h, not rpc_msg.h: with -I$(top_srcdir) a file
 * rpc/rpc_msg.h would shadow libtirpc's <rpc/rpc_msg.h>.)
 *
 * Everything here works on caller-owned buffers and is meant to be safe
 * on hostile input: no decoder reads outside the record it is given. */
#ifndef MAGMA_RPCMSG_H
#define MAGMA_RPCMSG_H

#include <stddef.h>
#include <stdint.h>

#include <rpc/rpc.h>

#include "fs.h"

/* Largest record accepted or sent: a 1 MiB WRITE or READ plus headers.
 * A larger incoming record is a protocol error (close the connection). */
#define RPC_MAX_RECORD (2u * 1024u * 1024u + 64u * 1024u)
/* Room to leave in front of a reply for the record mark. */
#define RPC_RECMARK_LEN 4u
#define RPC_LAST_FRAG 0x80000000u
/* Largest opaque_auth body (RFC 5531 section 8.2). */
#define RPC_MAX_AUTH 400u
#define RPC_MAX_MACHINE 255u
#define RPC_NOBODY 65534u

/* ---- record marking ---- */

/* Read exactly len bytes into buf.  Returns 0 when all were read, 1 on
 * end of stream before the first byte, a negative MAGMA_E* code otherwise
 * (MAGMA_EPROTO for end of stream in the middle). */
typedef int (*rpcmsg_read_fn)(void *ctx, void *buf, size_t len);

/* A growable record buffer, reused from one record to the next.
 * Release with rpcmsg_buf_free(); zero-initialise before first use. */
typedef struct rpcmsg_buf {
	uint8_t *data;
	size_t len; /* bytes of the current record */
	size_t cap;
} rpcmsg_buf;

void rpcmsg_buf_free(rpcmsg_buf *b);

/* Read one whole record (all fragments up to the last-fragment bit) into
 * b, at most max bytes in total (normally RPC_MAX_RECORD).
 * Returns 0 with b->len set, 1 on a clean end of stream between records,
 * MAGMA_EPROTO when the record is over max or the stream ends inside it,
 * MAGMA_ENOMEM, or the reader's error. */
int rpcmsg_read_record(rpcmsg_read_fn rd, void *ctx, rpcmsg_buf *b, size_t max);

/* Parse one record from memory (for tests and fuzzing): in holds the
 * fragments; *used is set to the bytes consumed.  Same returns as
 * rpcmsg_read_record (1 when in is empty). */
int rpcmsg_read_record_mem(const void *in, size_t inlen, rpcmsg_buf *b,
                           size_t max, size_t *used);

/* Write the record mark of a single-fragment record of len payload bytes
 * into mark (the RPC_RECMARK_LEN bytes just before the payload). */
void rpcmsg_put_mark(uint8_t mark[RPC_RECMARK_LEN], size_t len);

/* ---- call header ---- */

enum rpcmsg_deny {
	RPCMSG_SERVE = 0,        /* authenticated call: dispatch it */
	RPCMSG_DENY_RPCVERS = 1, /* answer MSG_DENIED RPC_MISMATCH 2..2 */
	RPCMSG_DENY_AUTH = 2     /* answer MSG_DENIED AUTH_ERROR auth_stat */
};

typedef struct rpcmsg_call {
	uint32_t xid;
	uint32_t rpcvers, prog, vers, proc;
	uint32_t deny;      /* enum rpcmsg_deny */
	uint32_t auth_stat; /* enum auth_stat when RPCMSG_DENY_AUTH */
	uint32_t flavor;    /* AUTH_NONE or AUTH_SYS when served */
	fs_cred cred;       /* AUTH_SYS ids; nobody for AUTH_NONE */
	uint32_t stamp;     /* AUTH_SYS stamp */
	char machine[RPC_MAX_MACHINE + 1]; /* AUTH_SYS name, "" otherwise */
	size_t args_off; /* offset of the procedure's arguments */
} rpcmsg_call;

/* Decode the call header of a record of len bytes.
 * Returns 0 with *call filled: if call->deny is not RPCMSG_SERVE, answer
 * with rpcmsg_encode_denied() and do not dispatch.  MAGMA_EGARBAGE when
 * the record is not a decodable CALL (truncated, a REPLY): there is
 * nothing sensible to answer.  A credential or verifier body over
 * RPC_MAX_AUTH is denied with AUTH_BADCRED or AUTH_BADVERF.
 * AUTH_NONE gives uid/gid RPC_NOBODY; AUTH_SYS with a machine name over
 * 255 bytes or over 16 gids, or an unknown flavor, is AUTH_BADCRED. */
int rpcmsg_decode_call(const void *rec, size_t len, rpcmsg_call *call);

/* ---- replies ----
 * Each encoder writes a whole reply message (without the record mark)
 * into buf of cap bytes and sets *len.  The verifier is AUTH_NONE.
 * MAGMA_ERANGE when it does not fit (retry with a larger buffer),
 * MAGMA_EGARBAGE when xres fails for another reason. */

/* MSG_ACCEPTED SUCCESS followed by res encoded with xres. */
int rpcmsg_encode_success(void *buf, size_t cap, uint32_t xid, xdrproc_t xres,
                          void *res, size_t *len);
/* MSG_ACCEPTED with PROG_UNAVAIL, PROC_UNAVAIL, GARBAGE_ARGS or
 * SYSTEM_ERR (enum accept_stat). */
int rpcmsg_encode_error(void *buf, size_t cap, uint32_t xid, uint32_t stat,
                        size_t *len);
/* MSG_ACCEPTED PROG_MISMATCH with the supported version range. */
int rpcmsg_encode_prog_mismatch(void *buf, size_t cap, uint32_t xid,
                                uint32_t low, uint32_t high, size_t *len);
/* MSG_DENIED as call->deny says (RPC_MISMATCH 2..2 or AUTH_ERROR). */
int rpcmsg_encode_denied(void *buf, size_t cap, const rpcmsg_call *call,
                         size_t *len);

/* Decode a variable-length opaque of at most max bytes in place: *val
 * points into the XDR memory stream being decoded (NULL when empty), so
 * it lives as long as that buffer and must not be freed.  FALSE when the
 * length is over max or the stream is short. */
bool_t rpcmsg_xdr_opaque_inplace(XDR *x, char **val, u_int *len, u_int max);

#endif
