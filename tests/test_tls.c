/* test_tls.c - CUnit suite for rpc/transport*.c: the plain and tls
 * transports and the TCP helpers, over real sockets on 127.0.0.61/62
 * (ephemeral ports) with real GnuTLS.  Each test's server is a thread
 * that accepts one connection; a forwarding thread on 127.0.0.62 sits
 * between client and server where a test needs to see the bytes on the
 * wire (or to tamper with them). */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "keys.h"
#include "merr.h"
#include "rpc/transport.h"
#include "unit.h"

#define SRV_IP "127.0.0.61"
#define FWD_IP "127.0.0.62"
#define PHRASE "tls suite: correct horse battery staple"
#define NET "tlsnet"
#define MARKER "MAGMA-PLAINTEXT-MARKER-7f3a9c"
#define BULK (1536u * 1024u) /* 1.5 MiB each way */
#define CHUNK (64u * 1024u)
#define WAIT_MS 5000 /* a test thread gives up after this */
#define SLOW_MS 2000 /* any failure must be faster than this */

_Static_assert(TRANSPORT_PSK_LEN == KEYS_LEN, "the PSK is the join token");

static magma_keys keys_ok, keys_bad;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 131u + (i >> 11) + 7u);
}

static int fd_closed(int fd)
{
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

static int addr_of(char *buf, size_t len, const char *ip, uint16_t port)
{
	return snprintf(buf, len, "%s:%u", ip, port);
}

/* ---- a one-connection server thread ---- */

enum { SRV_PLAIN, SRV_TLS, SRV_RAW };

typedef struct srv srv;
struct srv {
	int kind, timeout_ms, lfd;
	uint16_t port;
	const uint8_t *psk;
	void (*body)(srv *s, transport *t, int fd);
	const void *data; /* SRV_RAW: bytes to send */
	size_t len;
	int rc;  /* constructor (handshake) result */
	long ms; /* its duration */
	int body_rc;
	size_t count; /* bytes the body moved */
	char desc[160], peer[TRANSPORT_PEER_MAX];
	atomic_int up, release;
	pthread_t th;
};

static void *srv_main(void *arg)
{
	srv *s = arg;
	struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };
	transport *t = NULL;
	long t0;
	int fd;

	s->rc = 1; /* "no connection came" */
	if (poll(&pfd, 1, WAIT_MS) != 1 || transport_tcp_accept(s->lfd, &fd))
		return NULL;
	t0 = now_ms();
	if (s->kind == SRV_RAW) {
		s->rc = 0;
		s->body(s, NULL, fd);
		close(fd);
		return NULL;
	}
	if (s->kind == SRV_PLAIN)
		s->rc = transport_plain_new(fd, s->timeout_ms, &t);
	else
		s->rc = transport_tls_server(fd, s->psk, s->timeout_ms, &t);
	s->ms = now_ms() - t0;
	if (s->rc == 0) {
		transport_describe(t, s->desc, sizeof(s->desc));
		snprintf(s->peer, sizeof(s->peer), "%s", transport_peer(t));
		atomic_store(&s->up, 1);
		if (s->body)
			s->body(s, t, -1);
		transport_close(t);
	}
	return NULL;
}

/* data/len: what a SRV_RAW server sends */
static void srv_start_data(srv *s, int kind, const uint8_t *psk, int timeout_ms,
                           void (*body)(srv *, transport *, int),
                           const void *data, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->data = data;
	s->len = len;
	s->kind = kind;
	s->psk = psk;
	s->timeout_ms = timeout_ms;
	s->body = body;
	CU_ASSERT_EQUAL_FATAL(
	        transport_tcp_listen(SRV_IP ":0", &s->lfd, &s->port), 0);
	CU_ASSERT_FATAL(s->port != 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_start(srv *s, int kind, const uint8_t *psk, int timeout_ms,
                      void (*body)(srv *, transport *, int))
{
	srv_start_data(s, kind, psk, timeout_ms, body, NULL, 0);
}

static void srv_join(srv *s)
{
	pthread_join(s->th, NULL);
	close(s->lfd);
}

static void wait_flag(atomic_int *f)
{
	long end = now_ms() + WAIT_MS;

	while (!atomic_load(f) && now_ms() < end)
		poll(NULL, 0, 5);
}

/* Bodies: what a server does with its connection. */

static void body_echo(srv *s, transport *t, int fd)
{
	uint8_t *buf = malloc(CHUNK);
	size_t got;
	int rc = buf ? 0 : MAGMA_ENOMEM;

	while (rc == 0) {
		rc = transport_read(t, buf, CHUNK, &got);
		if (rc < 0 || got == 0)
			break;
		s->count += got;
		rc = transport_write_all(t, buf, got);
	}
	if (rc == 0)
		rc = transport_shutdown(t);
	s->body_rc = rc;
	free(buf);
}

static void body_idle(srv *s, transport *t, int fd)
{
	wait_flag(&s->release);
}

static void body_read1(srv *s, transport *t, int fd)
{
	uint8_t buf[256];
	size_t got = 0;

	s->body_rc = transport_read(t, buf, sizeof(buf), &got);
	s->count = got;
}

static void body_send3(srv *s, transport *t, int fd)
{
	uint8_t buf[16];
	size_t got;

	s->body_rc = transport_write_all(t, "abc", 3);
	if (s->body_rc == 0)
		s->body_rc = transport_shutdown(t);
	if (s->body_rc == 0)
		s->body_rc = transport_read(t, buf, sizeof(buf), &got);
}

/* SRV_RAW: send s->data, then drain until the peer closes. */
static void body_raw_send(srv *s, transport *t, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[4096];

	if (s->len)
		(void)send(fd, s->data, s->len, MSG_NOSIGNAL);
	while (poll(&pfd, 1, WAIT_MS) == 1 && recv(fd, buf, sizeof(buf), 0) > 0)
		s->count++;
}

/* ---- a forwarder that records (and may corrupt) the bytes ---- */

typedef struct fwd {
	int lfd;
	uint16_t port, to_port;
	uint8_t *cap[2]; /* 0: client to server, 1: server to client */
	size_t caplen[2], capsize[2];
	atomic_int tamper; /* flip a bit in the next client->server chunk */
	int rc;
	pthread_t th;
} fwd;

static int cap_add(fwd *f, int d, const uint8_t *p, size_t n)
{
	if (f->caplen[d] + n > f->capsize[d]) {
		size_t ns = 2 * (f->caplen[d] + n);
		uint8_t *nb = realloc(f->cap[d], ns);

		if (nb == NULL)
			return -1;
		f->cap[d] = nb;
		f->capsize[d] = ns;
	}
	memcpy(f->cap[d] + f->caplen[d], p, n);
	f->caplen[d] += n;
	return 0;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *fwd_main(void *arg)
{
	fwd *f = arg;
	struct pollfd pfd[2] = { { .fd = f->lfd, .events = POLLIN } };
	char to[64];
	uint8_t buf[16384];
	int fds[2] = { -1, -1 }, open_dir[2] = { 1, 1 };

	f->rc = -1;
	addr_of(to, sizeof(to), SRV_IP, f->to_port);
	if (poll(pfd, 1, WAIT_MS) != 1 || transport_tcp_accept(f->lfd, &fds[0]))
		return NULL;
	if (transport_tcp_connect(to, WAIT_MS, &fds[1]))
		goto out;
	while (open_dir[0] || open_dir[1]) {
		for (int d = 0; d < 2; d++) {
			pfd[d].fd = open_dir[d] ? fds[d] : -1;
			pfd[d].events = POLLIN;
			pfd[d].revents = 0;
		}
		if (poll(pfd, 2, WAIT_MS) <= 0)
			goto out;
		for (int d = 0; d < 2; d++) {
			ssize_t n;

			if (!pfd[d].revents)
				continue;
			n = recv(fds[d], buf, sizeof(buf), 0);
			if (n <= 0) {
				/* pass the end of stream (or reset) on */
				shutdown(fds[1 - d], SHUT_WR);
				open_dir[d] = 0;
				continue;
			}
			if (cap_add(f, d, buf, (size_t)n))
				goto out;
			if (d == 0 && atomic_exchange(&f->tamper, 0))
				buf[n - 1] ^= 0x01;
			if (send_all(fds[1 - d], buf, (size_t)n))
				open_dir[d] = 0;
		}
	}
	f->rc = 0;
out:
	for (int d = 0; d < 2; d++)
		if (fds[d] >= 0)
			close(fds[d]);
	return NULL;
}

static void fwd_start(fwd *f, uint16_t to_port)
{
	memset(f, 0, sizeof(*f));
	f->to_port = to_port;
	CU_ASSERT_EQUAL_FATAL(
	        transport_tcp_listen(FWD_IP ":0", &f->lfd, &f->port), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&f->th, NULL, fwd_main, f), 0);
}

static void fwd_join(fwd *f)
{
	pthread_join(f->th, NULL);
	close(f->lfd);
}

static void fwd_free(fwd *f)
{
	free(f->cap[0]);
	free(f->cap[1]);
}

/* ---- client helpers ---- */

static int dial(const char *ip, uint16_t port, int *fd)
{
	char a[64];

	addr_of(a, sizeof(a), ip, port);
	return transport_tcp_connect(a, WAIT_MS, fd);
}

/* Connect to ip:port and start a transport of kind; returns the
 * constructor's result, *ms its duration. */
static int client(const char *ip, uint16_t port, int kind, const uint8_t *psk,
                  const char *identity, int timeout_ms, transport **t, long *ms)
{
	long t0;
	int fd, rc;

	*t = NULL;
	rc = dial(ip, port, &fd);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		return rc;
	t0 = now_ms();
	if (kind == SRV_PLAIN)
		rc = transport_plain_new(fd, timeout_ms, t);
	else
		rc = transport_tls_client(fd, psk, identity, timeout_ms, t);
	if (ms)
		*ms = now_ms() - t0;
	return rc;
}

/* Write len bytes of pattern from a second thread while the caller
 * reads: one reader and one writer on one transport at once. */
typedef struct writer {
	transport *t;
	const uint8_t *data;
	size_t len;
	int rc;
} writer;

static void *writer_main(void *arg)
{
	writer *w = arg;

	w->rc = 0;
	for (size_t off = 0; off < w->len && w->rc == 0; off += CHUNK) {
		size_t n = w->len - off < CHUNK ? w->len - off : CHUNK;

		w->rc = transport_write_all(w->t, w->data + off, n);
	}
	if (w->rc == 0)
		w->rc = transport_shutdown(w->t);
	return NULL;
}

/* Send data through t to an echo server from a writer thread, read the
 * echo here and compare; then expect a clean end of stream. */
static void echo_check(transport *t, const uint8_t *data, size_t len)
{
	uint8_t *back = malloc(len + 1);
	writer w = { t, data, len, -1 };
	pthread_t th;
	size_t got;

	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, writer_main, &w), 0);
	CU_ASSERT_EQUAL(transport_read_exact(t, back, len), 0);
	CU_ASSERT(memcmp(back, data, len) == 0);
	CU_ASSERT_EQUAL(transport_read(t, back, 1, &got), 0);
	CU_ASSERT_EQUAL(got, 0);
	CU_ASSERT_EQUAL(transport_read_exact(t, back, 1), 1);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(w.rc, 0);
	free(back);
}

static uint8_t *bulk_data(size_t len)
{
	uint8_t *d = malloc(len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	for (size_t i = 0; i < len; i++)
		d[i] = pattern(i);
	return d;
}

/* ---- tests ---- */

static void test_plain_roundtrip(void)
{
	static const char msg[] = "hello over plain TCP";
	transport *t;
	srv s;

	srv_start(&s, SRV_PLAIN, NULL, 2000, body_echo);
	CU_ASSERT_EQUAL_FATAL(
	        client(SRV_IP, s.port, SRV_PLAIN, NULL, NULL, 2000, &t, NULL),
	        0);
	CU_ASSERT_STRING_EQUAL(t->ops->name, "plain");
	echo_check(t, (const uint8_t *)msg, sizeof(msg));
	transport_close(t);
	srv_join(&s);
	CU_ASSERT_EQUAL(s.rc, 0);
	CU_ASSERT_EQUAL(s.body_rc, 0);
	CU_ASSERT_EQUAL(s.count, sizeof(msg));
	CU_ASSERT_STRING_EQUAL(s.desc, "plain");
	CU_ASSERT_NSTRING_EQUAL(s.peer, "127.0.0.", 8);
}

static void test_tls_roundtrip_bulk(void)
{
	uint8_t *data = bulk_data(BULK);
	char desc[160];
	transport *t;
	srv s;

	srv_start(&s, SRV_TLS, keys_ok.join_token, 3000, body_echo);
	CU_ASSERT_EQUAL_FATAL(client(SRV_IP, s.port, SRV_TLS,
	                             keys_ok.join_token, NULL, 3000, &t, NULL),
	                      0);
	CU_ASSERT_STRING_EQUAL(t->ops->name, "tls");
	transport_describe(t, desc, sizeof(desc));
	/* TLS 1.3, PSK with an ephemeral (EC)DH exchange */
	CU_ASSERT_PTR_NOT_NULL(strstr(desc, "TLS1.3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(desc, "PSK"));
	CU_ASSERT(strncmp(desc, "TLS1.3 ECDHE-PSK ", 17) == 0 ||
	          strncmp(desc, "TLS1.3 DHE-PSK ", 15) == 0);
	if (strncmp(desc, "TLS1.3 ", 7) != 0)
		fprintf(stderr, "negotiated: %s\n", desc);
	echo_check(t, data, BULK);
	transport_close(t);
	srv_join(&s);
	CU_ASSERT_EQUAL(s.rc, 0);
	CU_ASSERT_EQUAL(s.body_rc, 0);
	CU_ASSERT_EQUAL(s.count, BULK);
	CU_ASSERT_STRING_EQUAL(s.desc, desc);
	CU_ASSERT_NSTRING_EQUAL(s.peer, "127.0.0.", 8);
	free(data);
}

/* The identity is a label: another one, with the right key, works. */
static void test_tls_identity_label(void)
{
	transport *t;
	srv s;

	srv_start(&s, SRV_TLS, keys_ok.join_token, 3000, body_echo);
	CU_ASSERT_EQUAL_FATAL(client(SRV_IP, s.port, SRV_TLS,
	                             keys_ok.join_token, NET, 3000, &t, NULL),
	                      0);
	echo_check(t, (const uint8_t *)"x", 1);
	transport_close(t);
	srv_join(&s);
	CU_ASSERT_EQUAL(s.rc, 0);
}

static void test_tls_wrong_key(void)
{
	transport *t;
	long ms;
	srv s;

	srv_start(&s, SRV_TLS, keys_ok.join_token, 3000, body_echo);
	CU_ASSERT_EQUAL(client(SRV_IP, s.port, SRV_TLS, keys_bad.join_token,
	                       NULL, 3000, &t, &ms),
	                MAGMA_ECRYPTO);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT(ms < SLOW_MS);
	srv_join(&s);
	CU_ASSERT_EQUAL(s.rc, MAGMA_ECRYPTO);
	CU_ASSERT(s.ms < SLOW_MS);
	CU_ASSERT_EQUAL(s.count, 0);
}

/* A peer that connects and says nothing costs the timeout, no more. */
static void test_tls_silent_client(void)
{
	int fd;
	srv s;

	srv_start(&s, SRV_TLS, keys_ok.join_token, 300, body_echo);
	CU_ASSERT_EQUAL_FATAL(dial(SRV_IP, s.port, &fd), 0);
	srv_join(&s);
	close(fd);
	CU_ASSERT_EQUAL(s.rc, MAGMA_EUNAVAIL);
	CU_ASSERT(s.ms >= 250 && s.ms < SLOW_MS);
}

/* A server that accepts (in the kernel's backlog) and never answers. */
static void test_tls_silent_server(void)
{
	transport *t;
	uint16_t port;
	long ms;
	int lfd;

	CU_ASSERT_EQUAL_FATAL(transport_tcp_listen(SRV_IP ":0", &lfd, &port),
	                      0);
	CU_ASSERT_EQUAL(client(SRV_IP, port, SRV_TLS, keys_ok.join_token, NULL,
	                       300, &t, &ms),
	                MAGMA_EUNAVAIL);
	CU_ASSERT(ms >= 250 && ms < SLOW_MS);
	close(lfd);
}

static void test_tls_garbage_client(void)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: magma\r\n\r\n";
	uint8_t junk[4096];
	int fd;
	srv s;

	/* Something else's protocol... */
	srv_start(&s, SRV_TLS, keys_ok.join_token, 3000, body_echo);
	CU_ASSERT_EQUAL_FATAL(dial(SRV_IP, s.port, &fd), 0);
	CU_ASSERT_EQUAL(send_all(fd, (const uint8_t *)http, strlen(http)), 0);
	srv_join(&s);
	close(fd);
	CU_ASSERT_EQUAL(s.rc, MAGMA_EPROTO);
	CU_ASSERT(s.ms < SLOW_MS);

	/* ...a record of application data before any handshake... */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = pattern(i * 7 + 3);
	memcpy(junk, "\x17\x03\x03\x0f\xfb", 5);
	srv_start(&s, SRV_TLS, keys_ok.join_token, 3000, body_echo);
	CU_ASSERT_EQUAL_FATAL(dial(SRV_IP, s.port, &fd), 0);
	CU_ASSERT_EQUAL(send_all(fd, junk, sizeof(junk)), 0);
	srv_join(&s);
	close(fd);
	CU_ASSERT_EQUAL(s.rc, MAGMA_EPROTO);
	CU_ASSERT(s.ms < SLOW_MS);

	/* ...and noise, which may look like the start of a long record
	 * (SSLv2 framing): then the timeout ends it. */
	srv_start(&s, SRV_TLS, keys_ok.join_token, 300, body_echo);
	CU_ASSERT_EQUAL_FATAL(dial(SRV_IP, s.port, &fd), 0);
	CU_ASSERT_EQUAL(send_all(fd, junk + 5, sizeof(junk) - 5), 0);
	srv_join(&s);
	close(fd);
	CU_ASSERT(s.rc == MAGMA_EPROTO || s.rc == MAGMA_EUNAVAIL);
	CU_ASSERT(s.ms < SLOW_MS);
}

static void test_tls_garbage_server(void)
{
	static const char banner[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
	transport *t;
	long ms;
	srv s;

	srv_start_data(&s, SRV_RAW, NULL, 0, body_raw_send, banner,
	               strlen(banner));
	CU_ASSERT_EQUAL(client(SRV_IP, s.port, SRV_TLS, keys_ok.join_token,
	                       NULL, 3000, &t, &ms),
	                MAGMA_EPROTO);
	CU_ASSERT(ms < SLOW_MS);
	srv_join(&s);
}

/* A plain client against a TLS server: nothing of it is read as data. */
static void test_tls_plain_client(void)
{
	transport *t;
	size_t got = 0;
	uint8_t buf[64];
	srv s;

	srv_start(&s, SRV_TLS, keys_ok.join_token, 3000, body_echo);
	CU_ASSERT_EQUAL_FATAL(
	        client(SRV_IP, s.port, SRV_PLAIN, NULL, NULL, 3000, &t, NULL),
	        0);
	CU_ASSERT_EQUAL(transport_write_all(t, MARKER, strlen(MARKER)), 0);
	/* whatever comes back (an alert, or nothing) is not our marker */
	if (transport_read(t, buf, sizeof(buf), &got) == 0 && got > 0)
		CU_ASSERT_PTR_NULL(memmem(buf, got, MARKER, strlen(MARKER)));
	transport_close(t);
	srv_join(&s);
	CU_ASSERT(s.rc == MAGMA_EPROTO || s.rc == MAGMA_EUNAVAIL);
	CU_ASSERT_EQUAL(s.count, 0);
}

/* Drive a GnuTLS client with another priority string at our server. */
static int foreign_client(uint16_t port, const char *prio)
{
	gnutls_psk_client_credentials_t cred;
	gnutls_datum_t key = { keys_ok.join_token, KEYS_LEN };
	gnutls_session_t ses;
	int fd, g;

	CU_ASSERT_EQUAL_FATAL(dial(SRV_IP, port, &fd), 0);
	CU_ASSERT_EQUAL_FATAL(gnutls_psk_allocate_client_credentials(&cred), 0);
	CU_ASSERT_EQUAL(gnutls_psk_set_client_credentials(cred, "magma", &key,
	                                                  GNUTLS_PSK_KEY_RAW),
	                0);
	CU_ASSERT_EQUAL_FATAL(gnutls_init(&ses, GNUTLS_CLIENT), 0);
	CU_ASSERT_EQUAL(gnutls_priority_set_direct(ses, prio, NULL), 0);
	CU_ASSERT_EQUAL(gnutls_credentials_set(ses, GNUTLS_CRD_PSK, cred), 0);
	gnutls_transport_set_int(ses, fd);
	gnutls_handshake_set_timeout(ses, 3000);
	do {
		g = gnutls_handshake(ses);
	} while (g < 0 && !gnutls_error_is_fatal(g));
	gnutls_deinit(ses);
	gnutls_psk_free_client_credentials(cred);
	close(fd);
	return g;
}

/* The right key is not enough: no forward secrecy (psk_ke), or an older
 * TLS, is refused. */
static void test_tls_refuses_weaker(void)
{
	static const char *const prios[] = {
		"NORMAL:-VERS-ALL:+VERS-TLS1.3:-KX-ALL:+PSK",
		"NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-PSK:+PSK",
	};
	srv s;

	for (size_t i = 0; i < sizeof(prios) / sizeof(prios[0]); i++) {
		srv_start(&s, SRV_TLS, keys_ok.join_token, 3000, body_echo);
		CU_ASSERT(foreign_client(s.port, prios[i]) < 0);
		srv_join(&s);
		CU_ASSERT(s.rc < 0);
		CU_ASSERT_EQUAL(s.count, 0);
	}
	/* the same client code with our settings succeeds */
	srv_start(&s, SRV_TLS, keys_ok.join_token, 3000, NULL);
	CU_ASSERT_EQUAL(foreign_client(s.port, "NORMAL:-VERS-ALL:+VERS-TLS1.3:"
	                                       "-KX-ALL:+ECDHE-PSK"),
	                0);
	srv_join(&s);
	CU_ASSERT_EQUAL(s.rc, 0);
}

/* Send a message full of a marker through the forwarder; return it. */
static void wire_run(fwd *f, int kind, uint8_t *msg, size_t len)
{
	transport *t;
	srv s;

	srv_start(&s, kind, keys_ok.join_token, 3000, body_echo);
	fwd_start(f, s.port);
	CU_ASSERT_EQUAL_FATAL(client(FWD_IP, f->port, kind, keys_ok.join_token,
	                             NULL, 3000, &t, NULL),
	                      0);
	echo_check(t, msg, len);
	transport_close(t);
	srv_join(&s);
	fwd_join(f);
	CU_ASSERT_EQUAL(s.rc, 0);
	CU_ASSERT_EQUAL(s.count, len);
	CU_ASSERT_EQUAL(f->rc, 0);
	CU_ASSERT(f->caplen[0] >= len && f->caplen[1] >= len);
}

static void test_tls_wire_has_no_plaintext(void)
{
	size_t mlen = strlen(MARKER), len = 256 * 1024;
	uint8_t *msg = malloc(len);
	fwd f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	for (size_t i = 0; i + mlen <= len; i += mlen)
		memcpy(msg + i, MARKER, mlen);
	memset(msg + len - len % mlen, '.', len % mlen);

	/* control: in clear the capture does see the marker */
	wire_run(&f, SRV_PLAIN, msg, len);
	CU_ASSERT_PTR_NOT_NULL(memmem(f.cap[0], f.caplen[0], MARKER, mlen));
	CU_ASSERT_PTR_NOT_NULL(memmem(f.cap[1], f.caplen[1], MARKER, mlen));
	fwd_free(&f);

	wire_run(&f, SRV_TLS, msg, len);
	for (int d = 0; d < 2; d++) {
		CU_ASSERT_PTR_NULL(memmem(f.cap[d], f.caplen[d], MARKER, mlen));
		/* nor a part of it, nor any secret */
		CU_ASSERT_PTR_NULL(memmem(f.cap[d], f.caplen[d], MARKER, 8));
		CU_ASSERT_PTR_NULL(
		        memmem(f.cap[d], f.caplen[d], keys_ok.join_token, 8));
		CU_ASSERT_PTR_NULL(memmem(f.cap[d], f.caplen[d], PHRASE, 8));
	}
	fwd_free(&f);
	free(msg);
}

/* A flipped bit in a record is a MAC failure, not data. */
static void test_tls_tamper(void)
{
	transport *t;
	fwd f;
	srv s;

	srv_start(&s, SRV_TLS, keys_ok.join_token, 3000, body_read1);
	fwd_start(&f, s.port);
	CU_ASSERT_EQUAL_FATAL(client(FWD_IP, f.port, SRV_TLS,
	                             keys_ok.join_token, NULL, 3000, &t, NULL),
	                      0);
	wait_flag(&s.up); /* the handshake has passed the forwarder */
	atomic_store(&f.tamper, 1);
	CU_ASSERT_EQUAL(transport_write_all(t, MARKER, strlen(MARKER)), 0);
	srv_join(&s);
	CU_ASSERT_EQUAL(s.rc, 0);
	CU_ASSERT_EQUAL(s.body_rc, MAGMA_ECRYPTO);
	CU_ASSERT_EQUAL(s.count, 0);
	transport_close(t);
	fwd_join(&f);
	fwd_free(&f);
}

static void test_tls_read_timeout(void)
{
	uint8_t buf[8];
	transport *t;
	size_t got;
	long t0;
	srv s;

	srv_start(&s, SRV_TLS, keys_ok.join_token, 3000, body_idle);
	CU_ASSERT_EQUAL_FATAL(client(SRV_IP, s.port, SRV_TLS,
	                             keys_ok.join_token, NULL, 3000, &t, NULL),
	                      0);
	CU_ASSERT_EQUAL(transport_set_timeout(t, 200), 0);
	CU_ASSERT_EQUAL(transport_set_timeout(t, -1), MAGMA_EINVAL);
	t0 = now_ms();
	CU_ASSERT_EQUAL(transport_read(t, buf, sizeof(buf), &got),
	                MAGMA_EUNAVAIL);
	CU_ASSERT(now_ms() - t0 >= 150 && now_ms() - t0 < SLOW_MS);
	atomic_store(&s.release, 1);
	srv_join(&s);
	transport_close(t);
}

/* Ends of stream: clean (close_notify or FIN), in the middle of a read,
 * and a peer that vanishes without close_notify. */
static void test_end_of_stream(void)
{
	uint8_t buf[8];
	transport *t;
	size_t got;
	srv s;

	for (int kind = SRV_PLAIN; kind <= SRV_TLS; kind++) {
		srv_start(&s, kind, keys_ok.join_token, 3000, body_send3);
		CU_ASSERT_EQUAL_FATAL(client(SRV_IP, s.port, kind,
		                             keys_ok.join_token, NULL, 3000, &t,
		                             NULL),
		                      0);
		CU_ASSERT_EQUAL(transport_read_exact(t, buf, 8), MAGMA_EPROTO);
		CU_ASSERT_EQUAL(transport_shutdown(t), 0);
		srv_join(&s);
		CU_ASSERT_EQUAL(s.body_rc, 0);
		transport_close(t);
	}

	srv_start(&s, SRV_TLS, keys_ok.join_token, 3000, NULL);
	CU_ASSERT_EQUAL_FATAL(client(SRV_IP, s.port, SRV_TLS,
	                             keys_ok.join_token, NULL, 3000, &t, NULL),
	                      0);
	srv_join(&s); /* closed without close_notify */
	CU_ASSERT_EQUAL(transport_read(t, buf, sizeof(buf), &got),
	                MAGMA_EUNAVAIL);
	transport_close(t);
}

static void test_bad_arguments(void)
{
	transport *t = NULL;
	int fd[2];

	CU_ASSERT_EQUAL(transport_plain_new(-1, 100, &t), MAGMA_EINVAL);
	/* constructors own the fd even when they fail */
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0);
	CU_ASSERT_EQUAL(transport_tls_client(fd[0], NULL, NULL, 100, &t),
	                MAGMA_EINVAL);
	CU_ASSERT(fd_closed(fd[0]));
	CU_ASSERT_EQUAL(transport_tls_server(fd[1], keys_ok.join_token, 0, &t),
	                MAGMA_EINVAL);
	CU_ASSERT(fd_closed(fd[1]));
	CU_ASSERT_PTR_NULL(t);
	transport_close(NULL);
}

static void test_tcp_helpers(void)
{
	static const char *const bad[] = {
		"127.0.0.1",      "127.0.0.1:",    ":80",
		"127.0.0.1:x",    "1.2.3.4:70000", "localhost:80",
		"[::1]",          "[::1:80",       "::1:80",
		"[127.0.0.1]:80", "127.0.0.1:-1",  "",
	};
	char a[64], peer[TRANSPORT_PEER_MAX];
	uint16_t port, port2;
	int lfd, lfd2, fd, sfd;
	long t0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(transport_tcp_connect(bad[i], 100, &fd),
		                MAGMA_EINVAL);
		CU_ASSERT_EQUAL(transport_tcp_listen(bad[i], &lfd, NULL),
		                MAGMA_EINVAL);
	}
	CU_ASSERT_EQUAL(transport_tcp_connect(SRV_IP ":0", 100, &fd),
	                MAGMA_EINVAL);

	/* a taken port, then a refused connection once it is free */
	CU_ASSERT_EQUAL_FATAL(transport_tcp_listen(SRV_IP ":0", &lfd, &port),
	                      0);
	addr_of(a, sizeof(a), SRV_IP, port);
	CU_ASSERT_EQUAL(transport_tcp_listen(a, &lfd2, &port2),
	                MAGMA_EADDRINUSE);
	CU_ASSERT_EQUAL_FATAL(transport_tcp_connect(a, 1000, &fd), 0);
	CU_ASSERT_EQUAL(transport_tcp_accept(lfd, &sfd), 0);
	transport_peer_text(sfd, peer, sizeof(peer));
	CU_ASSERT_NSTRING_EQUAL(peer, "127.0.0.", 8);
	CU_ASSERT(fcntl(fd, F_GETFL) >= 0 &&
	          !(fcntl(fd, F_GETFL) & O_NONBLOCK));
	close(sfd);
	close(fd);
	close(lfd);
	t0 = now_ms();
	CU_ASSERT_EQUAL(transport_tcp_connect(a, 1000, &fd), MAGMA_EUNAVAIL);
	CU_ASSERT(now_ms() - t0 < 900);
	CU_ASSERT_EQUAL(transport_tcp_accept(lfd, &fd), MAGMA_EINVAL);

	/* IPv6 loopback, where the host has it */
	if (transport_tcp_listen("[::1]:0", &lfd, &port) == 0) {
		addr_of(a, sizeof(a), "[::1]", port);
		CU_ASSERT_EQUAL(transport_tcp_connect(a, 1000, &fd), 0);
		CU_ASSERT_EQUAL(transport_tcp_accept(lfd, &sfd), 0);
		transport_peer_text(sfd, peer, sizeof(peer));
		CU_ASSERT_NSTRING_EQUAL(peer, "[::1]:", 6);
		close(sfd);
		close(fd);
		close(lfd);
	}
}

/* ---- registration ---- */

static int suite_init(void)
{
	if (keys_derive(PHRASE, strlen(PHRASE), NET, &keys_ok) != 0 ||
	    keys_derive("a wrong phrase", 14, NET, &keys_bad) != 0)
		return -1;
	return memcmp(keys_ok.join_token, keys_bad.join_token, KEYS_LEN) ? 0
	                                                                 : -1;
}

int unit_suite_tls(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{ "plain round trip", test_plain_roundtrip },
		{ "tls round trip, 1.5 MiB each way", test_tls_roundtrip_bulk },
		{ "tls identity is only a label", test_tls_identity_label },
		{ "tls wrong key fails both sides", test_tls_wrong_key },
		{ "tls silent client times out", test_tls_silent_client },
		{ "tls silent server times out", test_tls_silent_server },
		{ "tls garbage client", test_tls_garbage_client },
		{ "tls garbage server", test_tls_garbage_server },
		{ "tls plain client is no data", test_tls_plain_client },
		{ "tls refuses psk_ke and TLS 1.2", test_tls_refuses_weaker },
		{ "tls wire carries no plaintext",
		  test_tls_wire_has_no_plaintext },
		{ "tls tampered record", test_tls_tamper },
		{ "tls read timeout", test_tls_read_timeout },
		{ "end of stream", test_end_of_stream },
		{ "bad arguments", test_bad_arguments },
		{ "tcp helpers", test_tcp_helpers },
	};
	CU_pSuite suite = CU_add_suite("tls", suite_init, NULL);

	if (!suite)
		return CU_get_error();
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return CU_get_error();
	return CUE_SUCCESS;
}
