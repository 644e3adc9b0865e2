/* rpc_server.c - the ONC RPC listeners of magmad: accepts TCP
 * connections, reads record-marked calls (in clear, or inside TLS with a
 * pre-shared key), dispatches them through the program tables of
 * dispatch.h and writes each reply as one record.  One thread per
 * connection; calls on a connection are served in order.  Between calls
 * a thread may poll briefly before sleeping (conn_spin). */
#define _GNU_SOURCE /* accept4 */
#include "rpc_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <rpc/rpc.h>

#include "merr.h"
#include "mlog.h"
#include "rpc/rpcmsg.h"
#include "rpc/transport.h"

#define RPC_MAX_CONNS 1024
/* First size of a connection's reply buffer; grown to RPC_MAX_RECORD
 * when a result (a 1 MiB READ, a big READDIRPLUS) does not fit. */
#define RPC_REPLY_MIN (64u * 1024u)
#define RPCBIND_PROBE_MS 300
/* Opaque bodies at least this long (a READ's data, the chunks of a
 * KV_GET_MANY) are not copied into the reply buffer: the reply goes out
 * with one writev (in clear) or one corked run of TLS writes from where
 * the procedure left them.  MAX: a 1 MiB KV_GET_MANY is 16 chunks. */
#define RPC_SPLICE_MIN (16u * 1024u)
#define RPC_SPLICE_MAX 32
/* Input buffer of a connection: one recv usually brings a whole call (or
 * several), instead of one recv for the record mark and one for the body.
 * Bodies at least this long (a WRITE's data) are read straight into the
 * record buffer. */
#define RPC_RBUF (32u * 1024u)
/* Longest poll for the next call (see conn_spin). */
#define RPC_SPIN_NS 100000L
/* Polling helps only where waking a sleeping thread is slow (idle CPUs
 * that halt); on a busy machine it takes CPU from others.  So each
 * connection measures: RPC_PROBE_CALLS calls polling, as many sleeping,
 * then RPC_PROBE_EVERY calls in whichever mode gave the shorter gaps
 * between reply and next call; gaps are capped at RPC_GAP_CAP_NS so that
 * a client's pause does not decide. */
#define RPC_PROBE_CALLS 64u
#define RPC_PROBE_EVERY 4096u
#define RPC_GAP_CAP_NS 200000L

/* The splicing XDR stream: xdrmem with x_putbytes replaced. */
typedef struct rpc_splice {
	struct xdr_ops ops;        /* first: found back from x->x_ops */
	const struct xdr_ops *mem; /* the wrapped xdrmem ops */
	xdrproc_t inner;
	void *res;
	size_t n;     /* bodies left out of the buffer */
	size_t bytes; /* their total length */
	struct {
		u_int pos; /* buffer offset they belong at */
		const char *p;
		u_int len;
	} at[RPC_SPLICE_MAX];
} rpc_splice;

typedef struct rpc_conn {
	struct rpc_conn *next, *prev;
	rpc_server *s;
	int fd;
	transport *t; /* TLS: the session over a dup of fd; NULL: plain */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	uint8_t *out;         /* reply buffer, record mark first */
	size_t outcap;        /* bytes after the mark */
	rpc_splice sp;        /* bodies of the reply being sent, not in out */
	xdrproc_t held_xres;  /* result owning the spliced bodies */
	void *held_res;       /* its contents freed once the reply is sent */
	uint8_t *rbuf;        /* RPC_RBUF bytes read ahead */
	size_t roff, rlen;    /* unread bytes are rbuf[roff..rlen) */
	void *args, *res;     /* argument and result structs, reused */
	int spin;             /* last gap short enough to poll for */
	int poll_better;      /* the last probe favoured polling */
	unsigned cycle;       /* calls into the probe cycle */
	long probe[2];        /* gaps summed polling [0] and sleeping [1] */
	struct timespec sent; /* when the last reply was sent */
} rpc_conn;

struct rpc_server {
	rpc_server_config cfg;
	char addrtext[INET6_ADDRSTRLEN];
	int family;
	int lfd;
	uint16_t port;
	pthread_t accept_th;
	int accept_started;
	size_t argmax, resmax; /* largest args_size, res_size of any row */
	int spin_max;          /* threads that may poll at once */
	int spinners;          /* threads polling now (atomic) */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* signalled when a connection ends */
	rpc_conn *conns;
	size_t nconns;
	int stopping;
	int registered;
};

/* ---- socket I/O ---- */

static long ns_between(const struct timespec *a, const struct timespec *b)
{
	return (long)(b->tv_sec - a->tv_sec) * 1000000000L +
	       (b->tv_nsec - a->tv_nsec);
}

/* Read 1..len bytes from the connection; *got 0 at end of stream. */
static int conn_recv(rpc_conn *c, void *buf, size_t len, size_t *got)
{
	if (c->t != NULL)
		return transport_read(c->t, buf, len, got);
	for (;;) {
		ssize_t n = recv(c->fd, buf, len, 0);

		if (n >= 0) {
			*got = (size_t)n;
			return 0;
		}
		if (errno != EINTR)
			return merr_from_errno(errno);
	}
}

/* Whether to poll while waiting for the next call (see RPC_PROBE_*). */
static int spin_mode(const rpc_conn *c)
{
	if (c->cycle < RPC_PROBE_CALLS)
		return 1;
	if (c->cycle < 2 * RPC_PROBE_CALLS)
		return 0;
	return c->poll_better;
}

/* Account the gap before the call just read, gap ns after the reply. */
static void spin_account(rpc_conn *c, long gap)
{
	if (c->cycle < 2 * RPC_PROBE_CALLS)
		c->probe[c->cycle >= RPC_PROBE_CALLS] +=
		        gap < RPC_GAP_CAP_NS ? gap : RPC_GAP_CAP_NS;
	c->cycle++;
	if (c->cycle == 2 * RPC_PROBE_CALLS)
		c->poll_better = c->probe[0] < c->probe[1];
	if (c->cycle == 2 * RPC_PROBE_CALLS + RPC_PROBE_EVERY) {
		c->cycle = 0;
		c->probe[0] = c->probe[1] = 0;
	}
	c->spin = gap <= RPC_SPIN_NS;
}

/* Wait for the next call by polling for a short while before blocking
 * in recv.  A thread blocked in recv is woken on the CPU it last ran on;
 * when that CPU is idle the wake-up costs far more than the call itself
 * (measured on a 2-vCPU VM: 80 us per NULL round trip against 8 us with
 * client and server on one CPU), and a client waiting for one reply
 * before its next call (a path walk: LOOKUP after LOOKUP) pays it on
 * every call.  Bounded three ways: only while this connection's last
 * gap between reply and next call was short (so an idle or slow client
 * costs at most one poll), only where polling measurably shortens the
 * gaps (RPC_PROBE_*), only while fewer than CPUs-1 threads poll
 * (so polling never takes every CPU), and not when the client's data
 * comes in on our own CPU (it then needs this CPU to send).  Each turn
 * yields, so a client sharing the CPU still runs.  Plain TCP only.
 * (A long yield is no sign of a busy CPU: it is mostly the client,
 * woken onto this CPU, sending the next call.) */
static void conn_spin(rpc_conn *c)
{
	rpc_server *s = c->s;
	struct timespec t0, t;
	int cpu = -1;
	socklen_t sl = sizeof(cpu);

	if (!c->spin || !spin_mode(c) || c->t != NULL || c->roff != c->rlen ||
	    s->spin_max <= 0)
		return;
	if (getsockopt(c->fd, SOL_SOCKET, SO_INCOMING_CPU, &cpu, &sl) == 0 &&
	    cpu == sched_getcpu())
		return;
	if (__atomic_add_fetch(&s->spinners, 1, __ATOMIC_RELAXED) > s->spin_max)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ssize_t n = recv(c->fd, c->rbuf, RPC_RBUF, MSG_DONTWAIT);

		if (n > 0) {
			c->roff = 0;
			c->rlen = (size_t)n;
			break;
		}
		/* End of stream and errors: the blocking read sees them. */
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			break;
		(void)sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (ns_between(&t0, &t) > RPC_SPIN_NS)
			break;
	}
out:
	__atomic_sub_fetch(&s->spinners, 1, __ATOMIC_RELAXED);
}

/* rpcmsg_read_fn over the connection's input buffer. */
static int conn_read(void *ctx, void *buf, size_t len)
{
	rpc_conn *c = ctx;
	size_t done = 0, got;
	int rc;

	while (done < len) {
		size_t have = c->rlen - c->roff, want = len - done;

		if (have > 0) {
			if (have > want)
				have = want;
			memcpy((char *)buf + done, c->rbuf + c->roff, have);
			c->roff += have;
			done += have;
			continue;
		}
		c->roff = c->rlen = 0;
		got = 0;
		if (want >= RPC_RBUF)
			rc = conn_recv(c, (char *)buf + done, want, &got);
		else
			rc = conn_recv(c, c->rbuf, RPC_RBUF, &got);
		if (rc < 0)
			return rc;
		if (got == 0)
			return done == 0 ? 1 : MAGMA_EPROTO;
		if (want >= RPC_RBUF)
			done += got;
		else
			c->rlen = got;
	}
	return 0;
}

/* Wait until fd takes more bytes: MAGMA_EJUKEBOX when it took none for
 * RPC_SEND_MS.  A reply's bodies may hold store pages until sent (a
 * READ's data read in place, nfs3_file.c; KV_GET_MANY's, peer_srv.c):
 * a client that stopped reading must not hold them for long, so its
 * connection is closed then (a client that reads on reconnects and
 * sends its calls again). */
static int wait_writable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	for (;;) {
		int n = poll(&pfd, 1, RPC_SEND_MS);

		if (n > 0)
			return 0; /* or an error, which the send reports */
		if (n == 0)
			return MAGMA_EJUKEBOX;
		if (errno != EINTR)
			return merr_from_errno(errno);
	}
}

/* Write iov[0..n) whole (the array is consumed), waiting at most
 * RPC_SEND_MS each time the socket takes nothing. */
static int fd_writev(int fd, struct iovec *iov, int n)
{
	struct msghdr mh;

	while (n > 0) {
		ssize_t w;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			int e = errno, rc;

			if (e == EINTR)
				continue;
			if (e != EAGAIN && e != EWOULDBLOCK)
				return merr_from_errno(e);
			if ((rc = wait_writable(fd)) < 0)
				return rc;
			continue;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static int fd_write(int fd, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return fd_writev(fd, &iov, 1);
}

/* ---- dispatch ---- */

/* A NULL xdr_args or xdr_res in a row means void. */
static bool_t xdr_nothing(XDR *x, ...)
{
	return TRUE;
}

static bool_t splice_putbytes(XDR *x, const char *p, u_int len)
{
	rpc_splice *sp = (rpc_splice *)(void *)x->x_ops;

	if (len < RPC_SPLICE_MIN || sp->n == RPC_SPLICE_MAX ||
	    sp->bytes + len > RPC_MAX_RECORD)
		return sp->mem->x_putbytes(x, p, len);
	sp->at[sp->n].pos = sp->mem->x_getpostn(x);
	sp->at[sp->n].p = p;
	sp->at[sp->n].len = len;
	sp->n++;
	sp->bytes += len;
	return TRUE;
}

/* Encode sp->res with sp->inner, leaving long bodies out of the buffer
 * (they are recorded in sp and must outlive the send). */
static bool_t xdr_spliced(XDR *x, ...)
{
	rpc_splice *sp;
	va_list ap;
	bool_t ok;

	va_start(ap, x); /* called as an xdrproc_t: (XDR *, void *) */
	sp = va_arg(ap, rpc_splice *);
	va_end(ap);
	sp->n = 0;
	sp->bytes = 0;
	if (x->x_op != XDR_ENCODE)
		return sp->inner(x, sp->res);
	sp->mem = x->x_ops;
	sp->ops = *x->x_ops;
	sp->ops.x_putbytes = splice_putbytes;
	x->x_ops = &sp->ops;
	ok = sp->inner(x, sp->res);
	x->x_ops = sp->mem;
	return ok;
}

static int grow_reply(rpc_conn *c)
{
	uint8_t *p;

	if (c->outcap >= RPC_MAX_RECORD)
		return MAGMA_ERANGE;
	p = realloc(c->out, RPC_RECMARK_LEN + RPC_MAX_RECORD);
	if (p == NULL)
		return MAGMA_ENOMEM;
	c->out = p;
	c->outcap = RPC_MAX_RECORD;
	return 0;
}

static const rpc_program *find_program(const rpc_server *s, uint32_t prog,
                                       uint32_t vers, int *known, uint32_t *low,
                                       uint32_t *high)
{
	size_t i;

	*known = 0;
	for (i = 0; i < s->cfg.nprogs; i++) {
		const rpc_program *p = s->cfg.progs[i];

		if (p->prog != prog)
			continue;
		if (p->vers == vers)
			return p;
		if (!*known || p->vers < *low)
			*low = p->vers;
		if (!*known || p->vers > *high)
			*high = p->vers;
		*known = 1;
	}
	return NULL;
}

/* Run one decoded, authenticated call; writes the reply message after
 * the record mark of c->out and sets *len. */
static int run_call(rpc_conn *c, const rpcmsg_call *call, const uint8_t *rec,
                    size_t reclen, size_t *len)
{
	rpc_server *s = c->s;
	const rpc_program *prog;
	const rpc_proc *p;
	uint32_t low = 0, high = 0;
	void *args = c->args, *res = c->res;
	xdrproc_t xargs;
	rpc_req req;
	XDR x;
	int known, rc;
	uint8_t *out = c->out + RPC_RECMARK_LEN;

	prog = find_program(s, call->prog, call->vers, &known, &low, &high);
	if (prog == NULL) {
		if (known)
			return rpcmsg_encode_prog_mismatch(
			        out, c->outcap, call->xid, low, high, len);
		return rpcmsg_encode_error(out, c->outcap, call->xid,
		                           PROG_UNAVAIL, len);
	}
	if (call->proc >= prog->nprocs || prog->procs[call->proc].fn == NULL)
		return rpcmsg_encode_error(out, c->outcap, call->xid,
		                           PROC_UNAVAIL, len);
	p = &prog->procs[call->proc];
	xargs = p->xdr_args ? p->xdr_args : xdr_nothing;

	/* Zeroed, as XDR decoding and the handlers expect. */
	memset(args, 0, p->args_size);
	memset(res, 0, p->res_size);
	xdrmem_create(&x, (char *)rec + call->args_off,
	              (u_int)(reclen - call->args_off), XDR_DECODE);
	if (!xargs(&x, args)) {
		xdr_destroy(&x);
		xdr_free(xargs, args);
		LOG_D("%s %s xid %08x: garbage arguments", prog->name, p->name,
		      call->xid);
		return rpcmsg_encode_error(out, c->outcap, call->xid,
		                           GARBAGE_ARGS, len);
	}
	xdr_destroy(&x);

	memset(&req, 0, sizeof(req));
	req.daemon = s->cfg.daemon;
	req.fs = s->cfg.fs;
	req.keys = s->cfg.keys;
	req.flavor = call->flavor;
	req.cred = call->cred;
	memcpy(req.machine, call->machine, sizeof(req.machine));
	req.peer = c->peer;
	req.peerlen = c->peerlen;
	req.xid = call->xid;

	LOG_D("%s %s xid %08x", prog->name, p->name, call->xid);
	rc = p->fn(&req, args, res);
	if (rc < 0) {
		LOG_W("%s %s xid %08x: %s", prog->name, p->name, call->xid,
		      magma_strerror(rc));
		rc = rpcmsg_encode_error(out, c->outcap, call->xid, SYSTEM_ERR,
		                         len);
	} else {
		xdrproc_t xres = p->xdr_res ? p->xdr_res : xdr_nothing;

		c->sp.inner = xres;
		c->sp.res = res;
		rc = rpcmsg_encode_success(out, c->outcap, call->xid,
		                           xdr_spliced, &c->sp, len);
		if (rc == MAGMA_ERANGE && grow_reply(c) == 0) {
			out = c->out + RPC_RECMARK_LEN;
			rc = rpcmsg_encode_success(out, c->outcap, call->xid,
			                           xdr_spliced, &c->sp, len);
		}
		if (rc < 0) {
			LOG_E("%s %s xid %08x: result does not encode",
			      prog->name, p->name, call->xid);
			c->sp.n = c->sp.bytes = 0;
			rc = rpcmsg_encode_error(out, c->outcap, call->xid,
			                         SYSTEM_ERR, len);
		}
		if (c->sp.n) { /* res owns the spliced bodies: free it later */
			c->held_xres = xres;
			c->held_res = res;
		} else {
			xdr_free(xres, res);
		}
	}
	xdr_free(xargs, args);
	return rc;
}

/* Serve one record: 0 with a reply of *len bytes in c->out (mark
 * included), 1 when the record is dropped, negative to close. */
static int serve_record(rpc_conn *c, const uint8_t *rec, size_t reclen,
                        size_t *len)
{
	rpcmsg_call call;
	uint8_t *out = c->out + RPC_RECMARK_LEN;
	size_t n = 0;
	int rc;

	c->sp.n = c->sp.bytes = 0;
	if (rpcmsg_decode_call(rec, reclen, &call) < 0) {
		LOG_D("undecodable call header (%zu bytes) dropped", reclen);
		return 1;
	}
	if (call.deny != RPCMSG_SERVE)
		rc = rpcmsg_encode_denied(out, c->outcap, &call, &n);
	else
		rc = run_call(c, &call, rec, reclen, &n);
	if (rc < 0)
		return rc;
	rpcmsg_put_mark(c->out, n + c->sp.bytes);
	*len = RPC_RECMARK_LEN + n;
	return 0;
}

/* Free the result that owned the last reply's spliced bodies. */
static void reply_release(rpc_conn *c)
{
	if (c->held_res == NULL)
		return;
	xdr_free(c->held_xres, c->held_res);
	c->held_res = NULL;
}

/* reply_send over TLS: the same pieces in order, one write each (the
 * session has no writev). */
static int reply_send_tls(rpc_conn *c, size_t len)
{
	size_t prev = 0, i;
	int rc = 0, rc2;

	transport_cork(c->t); /* whole records, not one per piece */
	for (i = 0; i < c->sp.n && rc == 0; i++) {
		size_t pos = RPC_RECMARK_LEN + c->sp.at[i].pos;

		rc = transport_write_all(c->t, c->out + prev, pos - prev);
		if (rc == 0)
			rc = transport_write_all(c->t, c->sp.at[i].p,
			                         c->sp.at[i].len);
		prev = pos;
	}
	if (rc == 0)
		rc = transport_write_all(c->t, c->out + prev, len - prev);
	rc2 = transport_uncork(c->t);
	reply_release(c);
	return rc ? rc : rc2;
}

/* Send the reply serve_record built: len bytes of c->out (mark
 * included) with the spliced bodies in their places. */
static int reply_send(rpc_conn *c, size_t len)
{
	struct iovec iov[2 * RPC_SPLICE_MAX + 1];
	size_t prev = 0, i;
	int n = 0, rc;

	if (c->t != NULL)
		return reply_send_tls(c, len);
	if (c->sp.n == 0)
		return fd_write(c->fd, c->out, len);
	for (i = 0; i < c->sp.n; i++) {
		size_t pos = RPC_RECMARK_LEN + c->sp.at[i].pos;

		iov[n].iov_base = c->out + prev;
		iov[n++].iov_len = pos - prev;
		iov[n].iov_base = (void *)c->sp.at[i].p;
		iov[n++].iov_len = c->sp.at[i].len;
		prev = pos;
	}
	iov[n].iov_base = c->out + prev;
	iov[n++].iov_len = len - prev;
	rc = fd_writev(c->fd, iov, n);
	reply_release(c);
	return rc;
}

/* ---- connections ---- */

/* TLS: the handshake, in the connection's own thread so that a slow or
 * silent peer never holds up accept.  The session gets a duplicate of
 * fd: rpc_server_stop's shutdown(fd) still reaches the socket, and fd
 * stays ours to close.  A failed handshake is logged by the transport. */
static int conn_tls(rpc_conn *c)
{
	rpc_server *s = c->s;
	int tfd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0), rc;

	if (tfd < 0)
		return merr_from_errno(errno);
	rc = transport_tls_server(tfd, s->cfg.psk, s->cfg.tls_handshake_ms,
	                          &c->t);
	if (rc < 0) {
		c->t = NULL;
		return rc;
	}
	/* A reply must drain within RPC_SEND_MS (see wait_writable).
	 * Between calls peers keep connections open: wait tls_idle_ms for
	 * the next. */
	rc = transport_set_timeout(c->t, RPC_SEND_MS);
	if (rc == 0)
		rc = transport_set_read_timeout(c->t, s->cfg.tls_idle_ms);
	return rc;
}

static void *conn_main(void *arg)
{
	rpc_conn *c = arg;
	rpc_server *s = c->s;
	rpcmsg_buf in = { 0 };
	char who[TRANSPORT_PEER_MAX];
	int rc;

	transport_peer_text(c->fd, who, sizeof(who));
	LOG_D("connection from %s", who);
	if (s->cfg.transport == RPC_SERVER_TLS && conn_tls(c) < 0)
		goto out;
	c->outcap = RPC_REPLY_MIN;
	c->out = malloc(RPC_RECMARK_LEN + c->outcap);
	c->rbuf = malloc(RPC_RBUF);
	c->args = malloc(s->argmax);
	c->res = malloc(s->resmax);
	if (c->out == NULL || c->rbuf == NULL || c->args == NULL ||
	    c->res == NULL) {
		LOG_E("out of memory for connection from %s", who);
		goto out;
	}
	for (;;) {
		size_t len;

		conn_spin(c);
		rc = rpcmsg_read_record(conn_read, c, &in, RPC_MAX_RECORD);
		if (rc == 0) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if (c->sent.tv_sec != 0) /* not the first call */
				spin_account(c, ns_between(&c->sent, &now));
		}
		if (rc == 1)
			break;
		if (rc < 0) {
			LOG_D("closing %s: %s", who, magma_strerror(rc));
			break;
		}
		rc = serve_record(c, in.data, in.len, &len);
		if (rc == 1)
			continue;
		if (rc < 0)
			break;
		if ((rc = reply_send(c, len)) < 0) {
			if (rc == MAGMA_EJUKEBOX)
				LOG_W("closing %s: it took no reply bytes for "
				      "%d s",
				      who, RPC_SEND_MS / 1000);
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &c->sent);
	}
out:
	if (c->t != NULL) {
		/* close_notify, so that the peer sees an orderly end; a
		 * short wait, as the peer may be gone. */
		(void)transport_set_timeout(c->t, 1000);
		(void)transport_shutdown(c->t);
	}
	rpcmsg_buf_free(&in);
	reply_release(c);
	free(c->out);
	free(c->rbuf);
	free(c->args);
	free(c->res);
	pthread_mutex_lock(&s->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	transport_close(c->t);
	close(c->fd);
	free(c);
	/* s may be freed as soon as the lock is released. */
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void add_conn(rpc_server *s, int fd, const struct sockaddr_storage *ss,
                     socklen_t sl)
{
	pthread_attr_t at;
	pthread_t th;
	rpc_conn *c;
	int one = 1;

	if (s->nconns >= RPC_MAX_CONNS) {
		char who[TRANSPORT_PEER_MAX];

		transport_peer_text(fd, who, sizeof(who));
		LOG_W("refusing connection from %s: %d connections open", who,
		      RPC_MAX_CONNS);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->s = s;
	c->fd = fd;
	c->peer = *ss;
	c->peerlen = sl;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;

	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, conn_main, c) != 0) {
		LOG_E("cannot start a connection thread");
		s->conns = c->next;
		if (c->next)
			c->next->prev = NULL;
		s->nconns--;
		close(fd);
		free(c);
	}
	pthread_attr_destroy(&at);
}

static void *accept_main(void *arg)
{
	rpc_server *s = arg;

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd, e, stop;

		fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		e = errno;
		pthread_mutex_lock(&s->mu);
		stop = s->stopping;
		if (fd >= 0 && !stop)
			add_conn(s, fd, &ss, sl);
		pthread_mutex_unlock(&s->mu);
		if (stop) {
			if (fd >= 0)
				close(fd);
			break;
		}
		if (fd >= 0 || e == EINTR || e == ECONNABORTED)
			continue;
		if (e == EINVAL) /* the listener was shut down */
			break;
		LOG_W("accept on %s:%u: %s", s->addrtext, s->port, strerror(e));
		/* EMFILE and friends: give the connections time to end. */
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	return NULL;
}

/* ---- rpcbind ---- */

/* Whether something accepts TCP on 127.0.0.1:111 within a short time, so
 * that registering can never hang the start-up. */
static int rpcbind_answers(void)
{
	struct sockaddr_in sa;
	struct pollfd pfd;
	socklen_t sl;
	int fd, err = 1, ok = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(111);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		ok = 1;
	} else if (errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, RPCBIND_PROBE_MS) == 1) {
			sl = sizeof(err);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) ==
			            0 &&
			    err == 0)
				ok = 1;
		}
	}
	close(fd);
	return ok;
}

static void rpcbind_register(rpc_server *s)
{
	const char *netid = s->family == AF_INET6 ? "tcp6" : "tcp";
	struct netconfig *nc;
	struct netbuf *nb = NULL;
	char uaddr[INET6_ADDRSTRLEN + 16];
	size_t i;

	if (!rpcbind_answers()) {
		LOG_I("no rpcbind on 127.0.0.1:111: clients must mount with "
		      "port=%u,mountport=%u",
		      s->port, s->port);
		return;
	}
	nc = getnetconfigent(netid);
	if (nc == NULL) {
		LOG_W("no netconfig entry for %s: not registering", netid);
		return;
	}
	snprintf(uaddr, sizeof(uaddr), "%s.%u.%u", s->addrtext,
	         (unsigned)s->port >> 8, (unsigned)s->port & 0xffu);
	nb = uaddr2taddr(nc, uaddr);
	if (nb == NULL) {
		LOG_W("cannot make an rpcbind address of %s", uaddr);
		goto out;
	}
	for (i = 0; i < s->cfg.nprogs; i++) {
		const rpc_program *p = s->cfg.progs[i];

		(void)rpcb_unset(p->prog, p->vers, nc);
		if (!rpcb_set(p->prog, p->vers, nc, nb))
			LOG_W("rpcbind refused %s v%u on %s", p->name, p->vers,
			      uaddr);
		else
			s->registered = 1;
	}
	if (s->registered)
		LOG_I("registered with rpcbind on %s %s", netid, uaddr);
out:
	if (nb != NULL) {
		free(nb->buf);
		free(nb);
	}
	freenetconfigent(nc);
}

static void rpcbind_unregister(rpc_server *s)
{
	struct netconfig *nc;
	size_t i;

	if (!s->registered || !rpcbind_answers())
		return;
	nc = getnetconfigent(s->family == AF_INET6 ? "tcp6" : "tcp");
	if (nc == NULL)
		return;
	for (i = 0; i < s->cfg.nprogs; i++)
		(void)rpcb_unset(s->cfg.progs[i]->prog, s->cfg.progs[i]->vers,
		                 nc);
	freenetconfigent(nc);
}

/* ---- start and stop ---- */

/* Every 1 MiB WRITE argument and READ result is a malloc of ~1 MiB per
 * call.  glibc's default (a sliding mmap threshold, trimming a thread's
 * heap when 2x that is free on top) turns many of those into fresh pages:
 * page faults and kernel zeroing per call, measured at up to a third of
 * sequential write throughput.  Keep them in the heap and keep the heap. */
static void tune_malloc(void)
{
	(void)mallopt(M_MMAP_THRESHOLD, 4 * RPC_MAX_RECORD);
	(void)mallopt(M_TRIM_THRESHOLD, 16 * RPC_MAX_RECORD);
}

static int open_listener(rpc_server *s)
{
	char addr[INET6_ADDRSTRLEN + 16];
	int v6 = strchr(s->cfg.addr, ':') != NULL, rc;

	snprintf(addr, sizeof(addr), v6 ? "[%s]:%u" : "%s:%u", s->cfg.addr,
	         (unsigned)s->cfg.port);
	rc = transport_tcp_listen(addr, &s->lfd, &s->port);
	if (rc == MAGMA_EINVAL) {
		LOG_E("listen address '%s' is not a numeric IPv4/IPv6 address",
		      s->cfg.addr);
		return MAGMA_ECONFIG;
	}
	if (rc == 0)
		s->family = v6 ? AF_INET6 : AF_INET;
	return rc;
}

int rpc_server_start(rpc_server **out, const rpc_server_config *cfg)
{
	rpc_server *s;
	int rc;

	static pthread_once_t malloc_once = PTHREAD_ONCE_INIT;

	(void)pthread_once(&malloc_once, tune_malloc);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return MAGMA_ENOMEM;
	s->cfg = *cfg;
	s->lfd = -1;
	if (cfg->transport == RPC_SERVER_TLS && cfg->psk == NULL) {
		free(s);
		return MAGMA_EINVAL;
	}
	if (s->cfg.tls_handshake_ms <= 0)
		s->cfg.tls_handshake_ms = RPC_TLS_HANDSHAKE_MS;
	if (s->cfg.tls_idle_ms <= 0)
		s->cfg.tls_idle_ms = RPC_TLS_IDLE_MS;
	snprintf(s->addrtext, sizeof(s->addrtext), "%s", cfg->addr);
	s->spin_max = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	s->argmax = s->resmax = 1;
	for (size_t i = 0; i < cfg->nprogs; i++) {
		const rpc_program *p = cfg->progs[i];

		for (size_t j = 0; j < p->nprocs; j++) {
			if (p->procs[j].args_size > s->argmax)
				s->argmax = p->procs[j].args_size;
			if (p->procs[j].res_size > s->resmax)
				s->resmax = p->procs[j].res_size;
		}
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);

	rc = open_listener(s);
	if (rc < 0)
		goto out;
	if (pthread_create(&s->accept_th, NULL, accept_main, s) != 0) {
		LOG_E("cannot start the accept thread");
		rc = MAGMA_ESYS;
		goto out;
	}
	s->accept_started = 1;
	LOG_I("serving RPC on %s:%u%s", s->addrtext, s->port,
	      cfg->transport == RPC_SERVER_TLS ? " over TLS (PSK)" : "");
	if (cfg->use_rpcbind)
		rpcbind_register(s);
	*out = s;
	rc = 0;
out:
	if (rc < 0) {
		if (s->lfd >= 0)
			close(s->lfd);
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
	}
	return rc;
}

uint16_t rpc_server_port(const rpc_server *s)
{
	return s->port;
}

void rpc_server_stop(rpc_server *s)
{
	rpc_conn *c;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_mutex_unlock(&s->mu);
	/* Wakes accept() with EINVAL on Linux. */
	shutdown(s->lfd, SHUT_RDWR);
	if (s->accept_started)
		pthread_join(s->accept_th, NULL);
	close(s->lfd);

	pthread_mutex_lock(&s->mu);
	for (c = s->conns; c != NULL; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (s->nconns > 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);

	rpcbind_unregister(s);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
