/* nfsit_garbage.c - `nfsit garbage`: hostile input on the raw TCP port.
 * Hand-built ONC RPC records (RFC 5531 record marking) with bad versions,
 * programs, procedures, credentials, truncated or oversized arguments,
 * fragment tricks and random bytes.  The server must answer with the
 * right RPC-level error or close the connection, and keep serving. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nfsit.h"

#define NFS_PROG 100003
#define MNT_PROG 100005

static const char *g_host;
static int g_port;

/* ---- XDR by hand ---- */
typedef struct xb {
	uint8_t *b;
	size_t n, cap;
} xb;

static void xb_raw(xb *x, const void *p, size_t n)
{
	if (x->n + n > x->cap) {
		x->cap = (x->n + n) * 2 + 64;
		x->b = realloc(x->b, x->cap);
	}
	memcpy(x->b + x->n, p, n);
	x->n += n;
}

static void xb_u32(xb *x, uint32_t v)
{
	v = htonl(v);
	xb_raw(x, &v, 4);
}

static void xb_opaque(xb *x, const void *p, uint32_t n)
{
	static const uint8_t zero[4];

	xb_u32(x, n);
	xb_raw(x, p, n);
	xb_raw(x, zero, (4 - n % 4) % 4);
}

static void xb_free(xb *x)
{
	free(x->b);
	memset(x, 0, sizeof *x);
}

/* AUTH_SYS credential body. */
static void auth_sys(xb *x, uint32_t uid, uint32_t gid, uint32_t ngids)
{
	xb body = { 0 };
	uint32_t i;

	xb_u32(&body, 12345);
	xb_opaque(&body, "nfsit", 5);
	xb_u32(&body, uid);
	xb_u32(&body, gid);
	xb_u32(&body, ngids);
	for (i = 0; i < ngids; i++)
		xb_u32(&body, 100 + i);
	xb_u32(x, 1);
	xb_opaque(x, body.b, (uint32_t)body.n);
	xb_free(&body);
}

static void call_hdr(xb *x, uint32_t xid, uint32_t rpcvers, uint32_t prog,
                     uint32_t vers, uint32_t proc)
{
	xb_u32(x, xid);
	xb_u32(x, 0); /* CALL */
	xb_u32(x, rpcvers);
	xb_u32(x, prog);
	xb_u32(x, vers);
	xb_u32(x, proc);
}

static void verf_none(xb *x)
{
	xb_u32(x, 0);
	xb_u32(x, 0);
}

/* A complete call with AUTH_SYS root credentials. */
static void std_call(xb *x, uint32_t xid, uint32_t prog, uint32_t vers,
                     uint32_t proc)
{
	call_hdr(x, xid, 2, prog, vers, proc);
	auth_sys(x, 0, 0, 0);
	verf_none(x);
}

/* ---- sockets ---- */
static int tcp_open(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)g_port);
	inet_pton(AF_INET, g_host, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Send data as one record (one last fragment). */
static int send_rec(int fd, const xb *x)
{
	uint32_t m = htonl(0x80000000u | (uint32_t)x->n);

	if (send_all(fd, &m, 4) < 0)
		return -1;
	return send_all(fd, x->b, x->n);
}

/* Read exactly n bytes within ms: 0, or -1 closed/error, -2 timeout. */
static int recv_all(int fd, void *p, size_t n, int ms)
{
	uint8_t *b = p;

	while (n) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t r;
		int k = poll(&pf, 1, ms);
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0)
			return -2;
		r = recv(fd, b, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

typedef struct reply {
	int got; /* 1 reply, 0 closed, -2 timeout */
	uint32_t xid;
	uint32_t stat;  /* 0 accepted, 1 denied */
	uint32_t astat; /* accept_stat */
	uint32_t rstat; /* reject_stat */
	uint32_t auth;  /* auth_stat */
	uint32_t lo, hi;
	uint8_t body[4096];
	size_t blen; /* result bytes after accept_stat */
} reply;

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static void recv_reply(int fd, reply *r, int ms)
{
	uint8_t buf[65536];
	size_t len = 0, pos;
	uint32_t m;
	int k;

	memset(r, 0, sizeof *r);
	for (;;) {
		uint32_t fl;
		k = recv_all(fd, &m, 4, ms);
		if (k < 0) {
			r->got = k == -2 ? -2 : 0;
			return;
		}
		m = ntohl(m);
		fl = m & 0x7fffffffu;
		if (len + fl > sizeof buf) {
			r->got = 0;
			return;
		}
		if (recv_all(fd, buf + len, fl, ms) < 0) {
			r->got = 0;
			return;
		}
		len += fl;
		if (m & 0x80000000u)
			break;
	}
	r->got = 1;
	if (len < 12)
		return;
	r->xid = rd32(buf);
	r->stat = rd32(buf + 8);
	pos = 12;
	if (r->stat == 0) {
		uint32_t vl;
		if (pos + 8 > len)
			return;
		vl = rd32(buf + pos + 4);
		pos += 8 + ((vl + 3) & ~3u);
		if (pos + 4 > len)
			return;
		r->astat = rd32(buf + pos);
		pos += 4;
		if (r->astat == 2 && pos + 8 <= len) {
			r->lo = rd32(buf + pos);
			r->hi = rd32(buf + pos + 4);
		}
		r->blen =
		        len - pos < sizeof r->body ? len - pos : sizeof r->body;
		memcpy(r->body, buf + pos, r->blen);
	} else {
		if (pos + 4 > len)
			return;
		r->rstat = rd32(buf + pos);
		pos += 4;
		if (r->rstat == 0 && pos + 8 <= len) {
			r->lo = rd32(buf + pos);
			r->hi = rd32(buf + pos + 4);
		} else if (pos + 4 <= len) {
			r->auth = rd32(buf + pos);
		}
	}
}

static const char *rdesc(const reply *r)
{
	static char s[128];

	if (r->got == 0)
		return "connection closed";
	if (r->got == -2)
		return "no reply (timeout)";
	if (r->stat == 0)
		snprintf(s, sizeof s, "accepted, accept_stat %u", r->astat);
	else
		snprintf(s, sizeof s, "denied, reject_stat %u auth_stat %u",
		         r->rstat, r->auth);
	return s;
}

/* One call on a fresh connection; returns the reply. */
static void one_call(const xb *x, reply *r)
{
	int fd = tcp_open();

	memset(r, 0, sizeof *r);
	if (fd < 0)
		return;
	if (send_rec(fd, x) == 0)
		recv_reply(fd, r, 5000);
	close(fd);
}

static int accepted(const reply *r, uint32_t xid, uint32_t astat)
{
	return r->got == 1 && r->xid == xid && r->stat == 0 &&
	       r->astat == astat;
}

static int server_alive(void)
{
	xb x = { 0 };
	reply r;

	std_call(&x, 777, NFS_PROG, 3, 0);
	one_call(&x, &r);
	xb_free(&x);
	return accepted(&r, 777, 0);
}

/* Raw MNT "/" to get the root handle for argument tests. */
static int raw_root(uint8_t *fh, uint32_t *len)
{
	xb x = { 0 };
	reply r;
	int ok;

	std_call(&x, 9, MNT_PROG, 3, 1);
	xb_opaque(&x, "/", 1);
	one_call(&x, &r);
	xb_free(&x);
	ok = accepted(&r, 9, 0) && r.blen >= 8 && rd32(r.body) == 0;
	if (!ok)
		return -1;
	*len = rd32(r.body + 4);
	if (*len > 64 || 8 + *len > r.blen)
		return -1;
	memcpy(fh, r.body + 8, *len);
	return 0;
}

static void expect_garbage_or_close(const xb *x, uint32_t xid, const char *name)
{
	reply r;

	one_call(x, &r);
	CHECK(r.got == 0 || accepted(&r, xid, 4), name, "%s", rdesc(&r));
}

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* A client that sends READs and stops reading their replies: the server
 * goes on serving others, a WRITE of the file being read goes through,
 * and the server closes that connection once it has taken no reply
 * bytes for 10 s (RPC_SEND_MS), letting go of what its replies held.
 * Nothing is read from it until then: what it reads after is what was
 * on its way, then the end. */
#define STALL_READS 32
static void stalled_reader(const char *host, int port)
{
	nit_conn *c = nit_connect(host, port, 0, 0);
	nit_fh root, fh;
	uint8_t *buf = malloc(1u << 20);
	int fd = -1, rcvbuf = 16 * 1024, st = -1, alive, wst = -1, r;
	size_t total = 0;
	struct sockaddr_in sa;

	if (!c || !buf || nit_mnt(c, "/", &root) != MNT3_OK ||
	    nit_create(c, &root, "stalled.dat", 0, 0644, NULL, &fh, NULL) !=
	            NFS3_OK) {
		CHECK(0, "stalled reader: set-up", "%s", c ? c->err : "");
		goto out;
	}
	nit_fill(buf, 1u << 20, 5, 0);
	for (uint32_t i = 0; i < 4; i++)
		st = nit_write(c, &fh, (uint64_t)i << 20, buf, 1u << 20, 2,
		               NULL, NULL);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (st != NFS3_OK ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		CHECK(0, "stalled reader: 4 MiB file and a connection", "%s",
		      nit_stname(st));
		goto out;
	}
	for (uint32_t i = 0; i < STALL_READS; i++) {
		xb x = { 0 };
		std_call(&x, 5000 + i, NFS_PROG, 3, 6); /* READ */
		xb_opaque(&x, fh.data, fh.len);
		xb_u32(&x, 0);
		xb_u32(&x, (i % 4) << 20); /* offset */
		xb_u32(&x, 1u << 20);      /* count */
		send_rec(fd, &x);
		xb_free(&x);
	}
	sleep(1);
	alive = server_alive();
	wst = nit_write(c, &fh, 0, buf, 4096, 2, NULL, NULL);
	CHECK(alive, "others are served while a client does not read", "no");
	CHECK(wst == NFS3_OK, "a WRITE of the file it reads goes through", "%s",
	      nit_stname(wst));
	sleep(12);
	while ((r = recv_all(fd, buf, 1u << 20, 5000)) == 0)
		total += 1u << 20;
	CHECK(r == -1 && total < (size_t)STALL_READS << 20,
	      "a client that takes no reply bytes for 10 s is disconnected",
	      "%s after %zu MiB", r == -2 ? "still open" : "closed",
	      total >> 20);
	nit_remove(c, &root, "stalled.dat");
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	nit_close(c);
}

int nit_cmd_garbage(const char *host, int port)
{
	xb x = { 0 };
	reply r, r2;
	uint8_t root[64];
	uint32_t rootlen = 0;
	int fd, ok, st;

	g_host = host;
	g_port = port;

	/* baseline */
	std_call(&x, 1, NFS_PROG, 3, 0);
	one_call(&x, &r);
	if (!CHECK(accepted(&r, 1, 0), "raw NFS NULL call", "%s", rdesc(&r)))
		return nit_summary();
	xb_free(&x);
	std_call(&x, 2, MNT_PROG, 3, 0);
	one_call(&x, &r);
	CHECK(accepted(&r, 2, 0), "raw MOUNT NULL call", "%s", rdesc(&r));
	xb_free(&x);
	CHECK(raw_root(root, &rootlen) == 0, "raw MNT /", "failed");

	/* two records in one segment */
	fd = tcp_open();
	{
		xb a = { 0 }, b = { 0 }, both = { 0 };
		uint32_t m;
		std_call(&a, 10, NFS_PROG, 3, 0);
		std_call(&b, 11, NFS_PROG, 3, 0);
		m = htonl(0x80000000u | (uint32_t)a.n);
		xb_raw(&both, &m, 4);
		xb_raw(&both, a.b, a.n);
		m = htonl(0x80000000u | (uint32_t)b.n);
		xb_raw(&both, &m, 4);
		xb_raw(&both, b.b, b.n);
		send_all(fd, both.b, both.n);
		recv_reply(fd, &r, 5000);
		recv_reply(fd, &r2, 5000);
		CHECK(r.got == 1 && r2.got == 1 &&
		              ((r.xid == 10 && r2.xid == 11) ||
		               (r.xid == 11 && r2.xid == 10)),
		      "two pipelined calls in one write get two replies",
		      "%s / %s", rdesc(&r), rdesc(&r2));
		xb_free(&a);
		xb_free(&b);
		xb_free(&both);
	}
	close(fd);

	/* one call in three fragments (the first one empty) */
	fd = tcp_open();
	std_call(&x, 12, NFS_PROG, 3, 0);
	{
		uint32_t m0 = htonl(0), m1 = htonl(10),
		         m2 = htonl(0x80000000u | (uint32_t)(x.n - 10));
		send_all(fd, &m0, 4);
		send_all(fd, &m1, 4);
		send_all(fd, x.b, 10);
		send_all(fd, &m2, 4);
		send_all(fd, x.b + 10, x.n - 10);
		recv_reply(fd, &r, 5000);
		CHECK(accepted(&r, 12, 0), "call split over three fragments",
		      "%s", rdesc(&r));
	}
	close(fd);
	xb_free(&x);

	/* RPC version */
	call_hdr(&x, 20, 3, NFS_PROG, 3, 0);
	auth_sys(&x, 0, 0, 0);
	verf_none(&x);
	one_call(&x, &r);
	CHECK(r.got == 1 && r.xid == 20 && r.stat == 1 && r.rstat == 0 &&
	              r.lo <= 2 && r.hi >= 2,
	      "rpcvers 3 -> MSG_DENIED RPC_MISMATCH "
	      "(2..2)",
	      "%s lo %u hi %u", rdesc(&r), r.lo, r.hi);
	xb_free(&x);

	/* program, version, procedure */
	std_call(&x, 21, 0x20000099, 1, 0);
	one_call(&x, &r);
	CHECK(accepted(&r, 21, 1), "unknown program -> PROG_UNAVAIL", "%s",
	      rdesc(&r));
	xb_free(&x);
	std_call(&x, 22, NFS_PROG, 2, 0);
	one_call(&x, &r);
	CHECK(accepted(&r, 22, 2) && r.lo <= 3 && r.hi >= 3,
	      "NFS version 2 -> PROG_MISMATCH including 3", "%s lo %u hi %u",
	      rdesc(&r), r.lo, r.hi);
	xb_free(&x);
	std_call(&x, 23, NFS_PROG, 4, 0);
	one_call(&x, &r);
	CHECK(accepted(&r, 23, 2) && r.lo <= 3 && r.hi >= 3,
	      "NFS version 4 -> PROG_MISMATCH including 3", "%s lo %u hi %u",
	      rdesc(&r), r.lo, r.hi);
	xb_free(&x);
	std_call(&x, 24, NFS_PROG, 3, 22);
	one_call(&x, &r);
	CHECK(accepted(&r, 24, 3), "NFS procedure 22 -> PROC_UNAVAIL", "%s",
	      rdesc(&r));
	xb_free(&x);
	std_call(&x, 25, NFS_PROG, 3, 0xffffffffu);
	one_call(&x, &r);
	CHECK(accepted(&r, 25, 3), "NFS procedure 2^32-1 -> PROC_UNAVAIL", "%s",
	      rdesc(&r));
	xb_free(&x);
	std_call(&x, 26, MNT_PROG, 3, 6);
	one_call(&x, &r);
	CHECK(accepted(&r, 26, 3), "MOUNT procedure 6 -> PROC_UNAVAIL", "%s",
	      rdesc(&r));
	xb_free(&x);

	/* arguments */
	std_call(&x, 30, NFS_PROG, 3, 1);
	expect_garbage_or_close(&x, 30,
	                        "GETATTR without arguments -> "
	                        "GARBAGE_ARGS");
	xb_free(&x);
	std_call(&x, 31, NFS_PROG, 3, 1);
	{
		uint8_t big[200];
		memset(big, 0xab, sizeof big);
		xb_opaque(&x, big, sizeof big);
		one_call(&x, &r);
		CHECK(r.got == 0 || accepted(&r, 31, 4) ||
		              (accepted(&r, 31, 0) && r.blen >= 4 &&
		               rd32(r.body) == NFS3ERR_BADHANDLE),
		      "GETATTR with a 200-byte handle -> GARBAGE_ARGS or "
		      "BADHANDLE",
		      "%s", rdesc(&r));
	}
	xb_free(&x);
	std_call(&x, 32, NFS_PROG, 3, 1);
	xb_u32(&x, 0xffffffffu);
	xb_u32(&x, 0);
	expect_garbage_or_close(&x, 32,
	                        "GETATTR with handle length 2^32-1 -> "
	                        "GARBAGE_ARGS");
	xb_free(&x);
	std_call(&x, 33, NFS_PROG, 3, 3);
	xb_opaque(&x, root, rootlen);
	xb_u32(&x, 1000000);
	xb_raw(&x, "abcd", 4);
	expect_garbage_or_close(&x, 33,
	                        "LOOKUP with a truncated 1 MB name -> "
	                        "GARBAGE_ARGS");
	xb_free(&x);
	std_call(&x, 34, NFS_PROG, 3, 7);
	xb_opaque(&x, root, rootlen);
	xb_u32(&x, 0);
	xb_u32(&x, 0);
	xb_u32(&x, 100);
	xb_u32(&x, 2);
	xb_u32(&x, 0xfffffff0u);
	xb_raw(&x, "data", 4);
	expect_garbage_or_close(&x, 34,
	                        "WRITE with data length 0xfffffff0 -> "
	                        "GARBAGE_ARGS");
	xb_free(&x);
	std_call(&x, 35, MNT_PROG, 3, 1);
	xb_u32(&x, 5000);
	xb_raw(&x, "////", 4);
	expect_garbage_or_close(&x, 35,
	                        "MNT with a truncated path -> "
	                        "GARBAGE_ARGS");
	xb_free(&x);
	std_call(&x, 36, NFS_PROG, 3, 4);
	xb_opaque(&x, root, rootlen);
	one_call(&x, &r);
	CHECK(accepted(&r, 36, 4) || r.got == 0,
	      "ACCESS missing its mask -> "
	      "GARBAGE_ARGS",
	      "%s", rdesc(&r));
	xb_free(&x);

	/* credentials */
	call_hdr(&x, 40, 2, NFS_PROG, 3, 0);
	xb_u32(&x, 99);
	xb_opaque(&x, "abcd", 4);
	verf_none(&x);
	one_call(&x, &r);
	CHECK(r.got == 1 && r.xid == 40 && r.stat == 1 && r.rstat == 1 &&
	              r.auth != 0,
	      "unknown auth flavor -> AUTH_ERROR", "%s", rdesc(&r));
	xb_free(&x);
	call_hdr(&x, 41, 2, NFS_PROG, 3, 1);
	xb_u32(&x, 0);
	xb_u32(&x, 0);
	verf_none(&x);
	xb_opaque(&x, root, rootlen);
	one_call(&x, &r);
	CHECK(accepted(&r, 41, 0), "AUTH_NONE GETATTR root is accepted", "%s",
	      rdesc(&r));
	xb_free(&x);
	call_hdr(&x, 42, 2, NFS_PROG, 3, 0);
	{
		xb body = { 0 };
		xb_u32(&body, 1);
		xb_u32(&body, 0xffffffffu); /* machine name length */
		xb_u32(&body, 0);
		xb_u32(&x, 1);
		xb_opaque(&x, body.b, (uint32_t)body.n);
		xb_free(&body);
	}
	verf_none(&x);
	one_call(&x, &r);
	CHECK(r.got == 0 || (r.stat == 1 && r.rstat == 1) ||
	              accepted(&r, 42, 4),
	      "AUTH_SYS with a bad machine name length -> "
	      "AUTH_ERROR",
	      "%s", rdesc(&r));
	xb_free(&x);
	call_hdr(&x, 43, 2, NFS_PROG, 3, 0);
	auth_sys(&x, 0, 0, 17);
	verf_none(&x);
	one_call(&x, &r);
	CHECK(r.got == 0 || (r.stat == 1 && r.rstat == 1) ||
	              accepted(&r, 43, 4),
	      "AUTH_SYS with 17 gids -> AUTH_ERROR "
	      "(max 16)",
	      "%s", rdesc(&r));
	xb_free(&x);
	call_hdr(&x, 44, 2, NFS_PROG, 3, 0);
	{
		uint8_t big[1000];
		memset(big, 0, sizeof big);
		xb_u32(&x, 1);
		xb_opaque(&x, big, sizeof big);
	}
	verf_none(&x);
	one_call(&x, &r);
	CHECK(r.got == 0 || (r.stat == 1 && r.rstat == 1) ||
	              accepted(&r, 44, 4),
	      "credential body over 400 bytes -> "
	      "AUTH_ERROR",
	      "%s", rdesc(&r));
	xb_free(&x);
	call_hdr(&x, 45, 2, NFS_PROG, 3, 0);
	auth_sys(&x, 0, 0, 0);
	xb_u32(&x, 0);
	xb_u32(&x, 0x7fffffffu); /* verifier length */
	one_call(&x, &r);
	CHECK(r.got == 0 || (r.stat == 1 && r.rstat == 1) ||
	              accepted(&r, 45, 4),
	      "verifier with absurd length is refused", "%s", rdesc(&r));
	xb_free(&x);

	/* framing */
	fd = tcp_open();
	xb_u32(&x, 46);
	xb_u32(&x, 1); /* a REPLY sent to the server */
	xb_u32(&x, 0);
	send_rec(fd, &x);
	xb_free(&x);
	std_call(&x, 47, NFS_PROG, 3, 0);
	send_rec(fd, &x);
	recv_reply(fd, &r, 3000);
	CHECK(r.got == 0 || accepted(&r, 47, 0),
	      "a REPLY message is ignored "
	      "or the connection dropped",
	      "%s xid %u", rdesc(&r), r.xid);
	close(fd);
	xb_free(&x);

	fd = tcp_open();
	{
		uint32_t m = htonl(0x80000000u);
		send_all(fd, &m, 4); /* empty record */
	}
	std_call(&x, 48, NFS_PROG, 3, 0);
	send_rec(fd, &x);
	recv_reply(fd, &r, 3000);
	CHECK(r.got == 0 || accepted(&r, 48, 0),
	      "an empty record is skipped "
	      "or the connection dropped",
	      "%s", rdesc(&r));
	close(fd);
	xb_free(&x);

	fd = tcp_open();
	xb_u32(&x, 49);
	xb_u32(&x, 0);
	send_rec(fd, &x); /* 8-byte call */
	recv_reply(fd, &r, 2000);
	CHECK(r.got != 1 || r.stat == 1 || accepted(&r, 49, 4),
	      "truncated call header gets no success", "%s", rdesc(&r));
	close(fd);
	xb_free(&x);

	fd = tcp_open();
	{
		uint32_t m = htonl(0xffffffffu);
		char *junk = calloc(1, 1 << 20);
		int closed;
		send_all(fd, &m, 4);
		send_all(fd, junk, 1 << 20);
		free(junk);
		recv_reply(fd, &r, 10000);
		closed = r.got == 0;
		CHECK(closed,
		      "2 GiB fragment header: server closes the "
		      "connection",
		      "%s", rdesc(&r));
	}
	close(fd);
	fd = tcp_open();
	{
		/* many non-last fragments: the record grows past any sane
		 * limit without a single big fragment header */
		uint32_t m = htonl(65536);
		char *junk = calloc(1, 65536);
		int k;
		for (k = 0; k < 2048; k++) /* 128 MiB */
			if (send_all(fd, &m, 4) < 0 ||
			    send_all(fd, junk, 65536) < 0)
				break;
		free(junk);
		recv_reply(fd, &r, 5000);
		CHECK(r.got == 0 || k < 2048,
		      "endless fragments (128 MiB "
		      "record): server closes the connection",
		      "%s", rdesc(&r));
	}
	close(fd);

	/* half a record, then hang up */
	fd = tcp_open();
	std_call(&x, 50, NFS_PROG, 3, 0);
	{
		uint32_t m = htonl(0x80000000u | (uint32_t)(x.n + 100));
		send_all(fd, &m, 4);
		send_all(fd, x.b, x.n);
	}
	close(fd);
	xb_free(&x);
	CHECK(server_alive(), "server alive after a half record and hangup",
	      "no reply");

	/* mutated LOOKUP calls and random records */
	{
		xb base = { 0 };
		int replies = 0, closes = 0, n;
		std_call(&base, 60, NFS_PROG, 3, 3);
		xb_opaque(&base, root, rootlen);
		xb_opaque(&base, "somename", 8);
		fd = tcp_open();
		for (n = 0; n < 400; n++) {
			xb m = { 0 };
			int flips = 1 + (int)(rnd() % 4), k;
			if (n % 2) {
				xb_raw(&m, base.b, base.n);
				for (k = 0; k < flips; k++)
					m.b[rnd() % m.n] ^=
					        (uint8_t)(1 + rnd() % 255);
				if (rnd() % 4 == 0)
					m.n = rnd() % m.n;
			} else {
				size_t len = rnd() % 300;
				for (k = 0; k < (int)len; k++) {
					uint8_t c = (uint8_t)rnd();
					xb_raw(&m, &c, 1);
				}
			}
			if (fd < 0 || send_rec(fd, &m) < 0) {
				if (fd >= 0)
					close(fd);
				fd = tcp_open();
				closes++;
				xb_free(&m);
				continue;
			}
			xb_free(&m);
			recv_reply(fd, &r, 20);
			if (r.got == 1) {
				replies++;
			} else if (r.got == 0) {
				close(fd);
				fd = tcp_open();
				closes++;
			}
		}
		if (fd >= 0)
			close(fd);
		xb_free(&base);
		nit_note("fuzz: %d replies, %d connection drops", replies,
		         closes);
		CHECK(server_alive(),
		      "server alive after 400 mutated/random "
		      "records",
		      "no reply");
	}

	/* many connections at once */
	{
		int fds[64], k;
		ok = 0;
		for (k = 0; k < 64; k++)
			fds[k] = tcp_open();
		for (k = 0; k < 64; k++) {
			xb_free(&x);
			std_call(&x, 100 + k, NFS_PROG, 3, 0);
			if (fds[k] >= 0)
				send_rec(fds[k], &x);
		}
		for (k = 0; k < 64; k++) {
			if (fds[k] < 0)
				continue;
			recv_reply(fds[k], &r, 5000);
			if (accepted(&r, 100 + k, 0))
				ok++;
			close(fds[k]);
		}
		xb_free(&x);
		CHECK(ok == 64, "64 concurrent connections all answered",
		      "%d of 64", ok);
	}

	stalled_reader(host, port);

	/* a fresh real client still works */
	{
		nit_conn *c = nit_connect(host, port, 0, 0);
		nit_fh fh;
		st = -1;
		if (c && nit_mnt(c, "/", &fh) == MNT3_OK)
			st = nit_getattr(c, &fh, NULL);
		CHECK(st == NFS3_OK, "fresh libnfs client: MNT + GETATTR", "%s",
		      c ? c->err : "connect failed");
		nit_close(c);
	}
	return nit_summary();
}
