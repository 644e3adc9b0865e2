/* transport.h - a byte stream between two nodes, behind a small function
 * table with two implementations: plain (a TCP socket, for the loopback
 * NFS front end) and tls (TLS 1.3 over a TCP socket, authenticated by a
 * pre-shared key with (EC)DHE, for node-to-node traffic; DESIGN.md 6).
 * Also the TCP helpers both need: connect with a timeout, listen, accept.
 *
 * Addresses are numeric "ip:port" strings: "127.0.0.1:7390" or
 * "[::1]:7390".  Nothing here resolves names.
 *
 * Threads: a transport is one connection.  One thread may read while
 * another writes; two concurrent readers (or writers) need a lock of the
 * caller's.  Different transports are independent.  SIGPIPE is never
 * raised: a closed peer is an error return. */
#ifndef MAGMA_TRANSPORT_H
#define MAGMA_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#define TRANSPORT_PSK_LEN 32       /* the join token (keys.h KEYS_LEN) */
#define TRANSPORT_PEER_MAX 56      /* "[v6addr]:port" and NUL */
#define TRANSPORT_IDENTITY "magma" /* PSK identity: a label, not a secret */

typedef struct transport transport;

/* Every function returns 0 or a negative MAGMA_E* code.  Connection
 * failures (reset, end of stream in the middle, timeouts) are
 * MAGMA_EUNAVAIL; a peer that does not speak the protocol MAGMA_EPROTO;
 * a failed authentication or MAC MAGMA_ECRYPTO. */
struct transport_ops {
	const char *name; /* "plain" or "tls" */
	/* Read 1..len bytes (len > 0) into buf; *got is how many.  At a
	 * clean end of stream (FIN, or TLS close_notify) returns 0 with
	 * *got = 0.  Waits at most the I/O timeout for the first byte. */
	int (*read)(transport *t, void *buf, size_t len, size_t *got);
	/* Write all len bytes.  On error an unknown prefix may have been
	 * sent: the transport is then only good for close. */
	int (*write_all)(transport *t, const void *buf, size_t len);
	/* End our direction of the stream (TLS close_notify, then a TCP
	 * half-close); reading stays possible. */
	int (*shutdown)(transport *t);
	/* Write a one-line description ("plain", "TLS1.3 ECDHE-PSK X25519
	 * AES-256-GCM") into buf of len bytes, truncated. */
	void (*describe)(transport *t, char *buf, size_t len);
	/* Release everything, closing the socket (no close_notify: call
	 * shutdown first for an orderly end). */
	void (*close)(transport *t);
	/* Optional (NULL: writes go out as they come).  Between cork and
	 * uncork, writes are gathered and uncork sends them at once:
	 * fewer, fuller segments for a message written in pieces.  uncork
	 * returns 0 or the error write_all would have (then the transport
	 * is only good for close). */
	void (*cork)(transport *t);
	int (*uncork)(transport *t);
};

/* Seen by the implementations; callers use the functions below. */
struct transport {
	const struct transport_ops *ops;
	int fd;
	int timeout_ms;                /* I/O timeout; 0 = none */
	char peer[TRANSPORT_PEER_MAX]; /* "ip:port" of the other end */
};

/* ---- constructors ----
 * Each takes ownership of fd (a connected stream socket) in every case:
 * on failure fd is closed.  The socket is switched to blocking mode.
 * timeout_ms (> 0) bounds the TLS handshake as a whole and then each
 * wait for the peer in read/write (change with transport_set_timeout).
 * *out is set on success and released with transport_close(). */

/* A plain TCP transport.  MAGMA_EINVAL for a bad fd or timeout. */
int transport_plain_new(int fd, int timeout_ms, transport **out);

/* TLS 1.3 server side: waits for the peer's ClientHello and completes a
 * PSK handshake with (EC)DHE using psk (TRANSPORT_PSK_LEN bytes, copied;
 * normally magma_keys.join_token).  Any PSK identity is accepted: the
 * key is what authenticates.  A peer with another key fails with
 * MAGMA_ECRYPTO (logged as a warning naming the peer), a silent peer
 * with MAGMA_EUNAVAIL after timeout_ms, a peer that is not speaking TLS
 * with MAGMA_EPROTO.  No application data crosses before success. */
int transport_tls_server(int fd, const uint8_t *psk, int timeout_ms,
                         transport **out);

/* TLS 1.3 client side; identity is a non-secret label (NULL:
 * TRANSPORT_IDENTITY).  Same key, timeout and error rules. */
int transport_tls_client(int fd, const uint8_t *psk, const char *identity,
                         int timeout_ms, transport **out);

/* ---- use ---- */

static inline int transport_read(transport *t, void *buf, size_t len,
                                 size_t *got)
{
	return t->ops->read(t, buf, len, got);
}
static inline int transport_write_all(transport *t, const void *buf, size_t len)
{
	return t->ops->write_all(t, buf, len);
}
static inline void transport_cork(transport *t)
{
	if (t->ops->cork)
		t->ops->cork(t);
}
static inline int transport_uncork(transport *t)
{
	return t->ops->uncork ? t->ops->uncork(t) : 0;
}
static inline int transport_shutdown(transport *t)
{
	return t->ops->shutdown(t);
}
static inline void transport_describe(transport *t, char *buf, size_t len)
{
	t->ops->describe(t, buf, len);
}
/* NULL is allowed. */
static inline void transport_close(transport *t)
{
	if (t)
		t->ops->close(t);
}
/* "ip:port" of the other end; valid until transport_close(). */
static inline const char *transport_peer(const transport *t)
{
	return t->peer;
}

/* Read exactly len bytes.  Returns 0 when all were read, 1 at a clean
 * end of stream before the first byte, MAGMA_EPROTO at an end in the
 * middle, or the transport's error.  Its signature is rpcmsg_read_fn
 * (rpc/rpcmsg.h) with ctx a transport *. */
int transport_read_exact(void *t, void *buf, size_t len);

/* Change the I/O timeout (ms, 0 = wait forever) for later reads and
 * writes, e.g. for a long-lived connection that idles between calls.
 * Not while another thread reads or writes t. */
int transport_set_timeout(transport *t, int timeout_ms);

/* Only the wait of later reads (no system call: reads wait in poll or
 * in GnuTLS's pull timeout), for a reader that keeps one deadline over
 * many reads.  Same rules as transport_set_timeout. */
int transport_set_read_timeout(transport *t, int timeout_ms);

/* For the implementations only: fill the common part of t, make fd
 * blocking, set the send timeout and record the peer's address. */
int transport_base_init(transport *t, const struct transport_ops *ops, int fd,
                        int timeout_ms);

/* ---- TCP helpers ---- */

/* Connect to the numeric "ip:port" addr, waiting at most timeout_ms
 * (> 0).  *fd is a connected, blocking, close-on-exec socket with
 * TCP_NODELAY; the caller owns it.  MAGMA_EINVAL for a malformed
 * address, MAGMA_EUNAVAIL when refused, unreachable or timed out. */
int transport_tcp_connect(const char *addr, int timeout_ms, int *fd);

/* Bind and listen on the numeric "ip:port" addr (port 0: any free port).
 * *fd is the listening socket (caller closes it); *port, if not NULL, is
 * the port bound.  MAGMA_EINVAL for a malformed address,
 * MAGMA_EADDRINUSE when taken. */
int transport_tcp_listen(const char *addr, int *fd, uint16_t *port);

/* Accept one connection on lfd (blocking): *fd gets close-on-exec and
 * TCP_NODELAY; the caller owns it.  MAGMA_EINVAL once lfd is shut down
 * or closed, MAGMA_EJUKEBOX for a transient failure (EMFILE, a
 * connection aborted before accept): try again later. */
int transport_tcp_accept(int lfd, int *fd);

/* "ip:port" of fd's peer (or "?" when unknown) into buf. */
void transport_peer_text(int fd, char *buf, size_t len);

#endif
