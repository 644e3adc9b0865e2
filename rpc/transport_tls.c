/* transport_tls.c - the tls transport: GnuTLS, TLS 1.3 only, PSK key
 * exchange with (EC)DHE (psk_dhe_ke: forward secrecy even though the key
 * is long-lived), no certificates, no session tickets.  Both ends hold
 * the join token derived from the keyphrase; the handshake proves it
 * (PSK binder, Finished) without sending it, and a peer with another key
 * fails before any application data is exchanged (DESIGN.md 6).
 *
 * Every GnuTLS error becomes a MAGMA_E* code in tls_map(), nowhere else. */
#include "transport.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "merr.h"
#include "mlog.h"

/* TLS 1.3 only; the key exchanges are the two (EC)DHE-PSK ones, so a
 * client offers only psk_dhe_ke and a server refuses plain psk_ke.
 * %NO_TICKETS: no resumption secrets to keep or leak.  The join token
 * is a SHA-256 PSK, so only the SHA-256 suites can be picked: AES-128-GCM
 * before ChaCha20-Poly1305 (NORMAL has them the other way): with AES-NI
 * it is several times faster, and ChaCha20 bounded bulk transfers. */
#define TLS_PRIORITY                                                           \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-KX-ALL:+ECDHE-PSK:+DHE-PSK:"           \
	"-CIPHER-ALL:+AES-128-GCM:+CHACHA20-POLY1305:+AES-256-GCM:"            \
	"%NO_TICKETS"

typedef struct tls_transport {
	transport base; /* first: a transport * is a tls_transport * */
	gnutls_session_t s;
	gnutls_psk_server_credentials_t scred;
	gnutls_psk_client_credentials_t ccred;
	uint8_t psk[TRANSPORT_PSK_LEN];
	int key_used; /* server: the ClientHello's PSK reached the binder check
	               */
	/* Ciphertext read from the socket ahead of GnuTLS's asks (it asks
	 * for a record's header, then its body: two reads and two polls
	 * per 16 KiB record otherwise). */
	uint8_t *rbuf;
	size_t rpos, rlen;
	/* Between cork and uncork: the records GnuTLS writes, gathered up
	 * to TLS_WBUF_MAX and sent with one send (not one per 16 KiB
	 * record), in pieces small enough that the reader decrypts one
	 * while the next is encrypted. */
	int corked;
	uint8_t *wbuf;
	size_t wlen, wcap;
} tls_transport;

#define TLS_RBUF (256u * 1024u)
#define TLS_WBUF_MAX (128u * 1024u) /* sent on when this much is gathered */

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static gnutls_priority_t tls_prio; /* shared by every session, never freed */
static int tls_init_rc;

static void tls_global_init(void)
{
	const char *errpos = NULL;
	int rc;

	rc = gnutls_global_init();
	if (rc == 0)
		rc = gnutls_priority_init(&tls_prio, TLS_PRIORITY, &errpos);
	if (rc < 0) {
		LOG_E("GnuTLS initialisation failed: %s%s%s",
		      gnutls_strerror(rc), errpos ? " at " : "",
		      errpos ? errpos : "");
		tls_init_rc = MAGMA_ECRYPTO;
	}
}

/* ---- the one GnuTLS -> MAGMA_E* mapping ---- */

/* Alerts a peer sends when our key (binder or Finished MAC) is wrong;
 * a Magma server says decrypt_error (RFC 8446 6.2). */
static int alert_is_auth(gnutls_alert_description_t a)
{
	switch (a) {
	case GNUTLS_A_DECRYPT_ERROR:
	case GNUTLS_A_BAD_RECORD_MAC:
	case GNUTLS_A_UNKNOWN_PSK_IDENTITY:
	case GNUTLS_A_DECRYPTION_FAILED: return 1;
	default: return 0;
	}
}

static int tls_map(const tls_transport *tt, int gerr)
{
	switch (gerr) {
	case 0: return 0;
	case GNUTLS_E_MEMORY_ERROR: return MAGMA_ENOMEM;
	/* the connection, not the peer's TLS, failed */
	case GNUTLS_E_TIMEDOUT:
	case GNUTLS_E_AGAIN:
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_SESSION_EOF: return MAGMA_EUNAVAIL;
	/* a key mismatch: wrong binder or Finished, or records that do not
	 * authenticate */
	case GNUTLS_E_DECRYPTION_FAILED:
	case GNUTLS_E_ERROR_IN_FINISHED_PACKET: return MAGMA_ECRYPTO;
	/* GnuTLS's code for a PSK binder that does not verify, once our
	 * key was looked up for it */
	case GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER:
		return tt->key_used ? MAGMA_ECRYPTO : MAGMA_EPROTO;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return alert_is_auth(gnutls_alert_get(tt->s)) ? MAGMA_ECRYPTO
		                                              : MAGMA_EPROTO;
	default: return MAGMA_EPROTO; /* not TLS 1.3, or not our settings */
	}
}

/* ---- PSK ---- */

/* Server side: the key for any identity is ours (the identity is a
 * label; a peer with another key fails at the binder check). */
static int psk_lookup(gnutls_session_t s, const char *identity,
                      gnutls_datum_t *key)
{
	tls_transport *tt = gnutls_session_get_ptr(s);

	key->data = gnutls_malloc(TRANSPORT_PSK_LEN);
	if (key->data == NULL)
		return -1;
	memcpy(key->data, tt->psk, TRANSPORT_PSK_LEN);
	key->size = TRANSPORT_PSK_LEN;
	tt->key_used = 1;
	LOG_D("peer %s: PSK identity '%.64s'", tt->base.peer, identity);
	return 0;
}

static void tls_describe(transport *t, char *buf, size_t len);

/* ---- the handshake ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_failure(tls_transport *tt, int gerr, int rc)
{
	const char *p = tt->base.peer, *why = gnutls_strerror(gerr);
	const char *alert =
	        gerr == GNUTLS_E_FATAL_ALERT_RECEIVED
	                ? gnutls_alert_get_name(gnutls_alert_get(tt->s))
	                : NULL;

	if (rc == MAGMA_ECRYPTO)
		LOG_W("peer %s failed the TLS handshake: wrong keyphrase? "
		      "(%s%s%s)",
		      p, why, alert ? ": " : "", alert ? alert : "");
	else if (gerr == GNUTLS_E_TIMEDOUT)
		LOG_W("peer %s: TLS handshake timed out after %d ms", p,
		      tt->base.timeout_ms);
	else if (rc == MAGMA_EUNAVAIL)
		LOG_W("peer %s: connection lost during the TLS handshake (%s)",
		      p, why);
	else
		LOG_W("peer %s failed the TLS handshake: not TLS 1.3 with "
		      "PSK (%s%s%s)",
		      p, why, alert ? ": " : "", alert ? alert : "");
}

/* Check what was negotiated rather than trust the priority string. */
static int check_session(tls_transport *tt)
{
	gnutls_kx_algorithm_t kx = gnutls_kx_get(tt->s);

	if (gnutls_protocol_get_version(tt->s) != GNUTLS_TLS1_3 ||
	    gnutls_auth_get_type(tt->s) != GNUTLS_CRD_PSK ||
	    (kx != GNUTLS_KX_ECDHE_PSK && kx != GNUTLS_KX_DHE_PSK)) {
		LOG_W("peer %s: negotiated %s with %s, refused", tt->base.peer,
		      gnutls_protocol_get_name(
		              gnutls_protocol_get_version(tt->s)),
		      gnutls_kx_get_name(kx));
		(void)gnutls_alert_send(tt->s, GNUTLS_AL_FATAL,
		                        GNUTLS_A_INSUFFICIENT_SECURITY);
		return MAGMA_EPROTO;
	}
	return 0;
}

static int handshake(tls_transport *tt)
{
	long deadline = now_ms() + tt->base.timeout_ms;
	int g, rc;

	gnutls_handshake_set_timeout(tt->s, (unsigned)tt->base.timeout_ms);
	do {
		g = gnutls_handshake(tt->s);
		/* Non-fatal codes (interrupts, warning alerts) repeat the
		 * call; our own clock keeps that bounded too. */
	} while (g < 0 && !gnutls_error_is_fatal(g) && now_ms() < deadline);
	if (g == 0) {
		char d[128];

		rc = check_session(tt);
		tls_describe(&tt->base, d, sizeof(d));
		if (rc == 0)
			LOG_D("peer %s: %s", tt->base.peer, d);
		return rc;
	}
	if (!gnutls_error_is_fatal(g))
		g = GNUTLS_E_TIMEDOUT;
	rc = tls_map(tt, g);
	/* Tell a live peer why, so that it fails with MAGMA_ECRYPTO too
	 * rather than with a bare reset; pointless when the connection
	 * itself died or the peer already said why. */
	if (rc == MAGMA_ECRYPTO && g != GNUTLS_E_FATAL_ALERT_RECEIVED)
		(void)gnutls_alert_send(tt->s, GNUTLS_AL_FATAL,
		                        GNUTLS_A_DECRYPT_ERROR);
	else if (rc != MAGMA_EUNAVAIL && g != GNUTLS_E_FATAL_ALERT_RECEIVED)
		(void)gnutls_alert_send_appropriate(tt->s, g);
	log_failure(tt, g, rc);
	return rc;
}

/* ---- the socket below GnuTLS ---- */

static ssize_t tls_pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	tls_transport *tt = p;
	size_t take;

	if (tt->rpos == tt->rlen) {
		ssize_t n = recv(tt->base.fd, tt->rbuf, TLS_RBUF, 0);

		if (n <= 0) {
			if (n < 0)
				gnutls_transport_set_errno(tt->s, errno);
			return n;
		}
		tt->rpos = 0;
		tt->rlen = (size_t)n;
	}
	take = tt->rlen - tt->rpos < len ? tt->rlen - tt->rpos : len;
	memcpy(buf, tt->rbuf + tt->rpos, take);
	tt->rpos += take;
	return (ssize_t)take;
}

/* GnuTLS's wait for input: what is read ahead is there at once. */
static int tls_pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
	tls_transport *tt = p;
	struct pollfd pfd = { .fd = tt->base.fd, .events = POLLIN };
	int n;

	if (tt->rpos < tt->rlen)
		return 1;
	n = poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
	if (n < 0)
		gnutls_transport_set_errno(tt->s, errno);
	return n;
}

/* Send all len bytes (SO_SNDTIMEO bounds each wait): 0 or -1 with
 * errno. */
static int send_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int wbuf_flush(tls_transport *tt)
{
	int rc = send_all(tt->base.fd, tt->wbuf, tt->wlen);

	tt->wlen = 0;
	return rc;
}

static ssize_t tls_push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	tls_transport *tt = p;

	if (tt->corked && tt->wlen + len > TLS_WBUF_MAX && tt->wlen > 0 &&
	    wbuf_flush(tt) < 0)
		goto fail;
	if (tt->corked && tt->wlen + len > tt->wcap) {
		size_t cap = tt->wcap ? tt->wcap : 64u * 1024u;
		uint8_t *nb;

		while (cap < tt->wlen + len)
			cap *= 2;
		if ((nb = realloc(tt->wbuf, cap)) != NULL) {
			tt->wbuf = nb;
			tt->wcap = cap;
		}
	}
	if (tt->corked && tt->wlen + len <= tt->wcap) {
		memcpy(tt->wbuf + tt->wlen, buf, len);
		tt->wlen += len;
		return (ssize_t)len;
	}
	/* Not corked (or no memory to gather): straight out, in order. */
	if ((tt->wlen > 0 && wbuf_flush(tt) < 0) ||
	    send_all(tt->base.fd, buf, len) < 0)
		goto fail;
	return (ssize_t)len;
fail:
	gnutls_transport_set_errno(tt->s, errno);
	return -1;
}

/* ---- the ops ---- */

static int tls_read(transport *t, void *buf, size_t len, size_t *got)
{
	tls_transport *tt = (tls_transport *)t;
	ssize_t n;

	if (len == 0)
		return MAGMA_EINVAL;
	gnutls_record_set_timeout(tt->s, (unsigned)t->timeout_ms);
	for (;;) {
		n = gnutls_record_recv(tt->s, buf, len);
		if (n >= 0)
			break;
		if (n == GNUTLS_E_INTERRUPTED ||
		    n == GNUTLS_E_WARNING_ALERT_RECEIVED)
			continue;
		if (n == GNUTLS_E_TIMEDOUT || n == GNUTLS_E_AGAIN)
			LOG_D("peer %s: read timed out", t->peer);
		else
			LOG_W("peer %s: TLS read failed: %s", t->peer,
			      gnutls_strerror((int)n));
		return tls_map(tt, (int)n);
	}
	*got = (size_t)n;
	return 0;
}

static int tls_write_all(transport *t, const void *buf, size_t len)
{
	tls_transport *tt = (tls_transport *)t;
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = gnutls_record_send(tt->s, p, len);
		if (n == GNUTLS_E_INTERRUPTED)
			continue; /* same arguments again, as GnuTLS asks */
		if (n < 0) {
			/* GNUTLS_E_AGAIN here is SO_SNDTIMEO expiring. */
			LOG_W("peer %s: TLS write failed: %s", t->peer,
			      gnutls_strerror((int)n));
			return tls_map(tt, (int)n);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void tls_cork(transport *t)
{
	((tls_transport *)t)->corked = 1;
}

static int tls_uncork(transport *t)
{
	tls_transport *tt = (tls_transport *)t;

	tt->corked = 0;
	if (tt->wlen > 0 && wbuf_flush(tt) < 0) {
		LOG_W("peer %s: write failed: %s", t->peer, strerror(errno));
		return MAGMA_EUNAVAIL;
	}
	return 0;
}

static int tls_shutdown(transport *t)
{
	tls_transport *tt = (tls_transport *)t;
	int g;

	do {
		g = gnutls_bye(tt->s, GNUTLS_SHUT_WR);
	} while (g == GNUTLS_E_INTERRUPTED);
	if (g < 0)
		return tls_map(tt, g);
	if (shutdown(t->fd, SHUT_WR) < 0)
		return MAGMA_EUNAVAIL;
	return 0;
}

static void tls_describe(transport *t, char *buf, size_t len)
{
	tls_transport *tt = (tls_transport *)t;
	const char *group = gnutls_group_get_name(gnutls_group_get(tt->s));

	/* e.g. "TLS1.3 ECDHE-PSK X25519 AES-256-GCM" */
	snprintf(buf, len, "%s %s %s %s",
	         gnutls_protocol_get_name(gnutls_protocol_get_version(tt->s)),
	         gnutls_kx_get_name(gnutls_kx_get(tt->s)), group ? group : "-",
	         gnutls_cipher_get_name(gnutls_cipher_get(tt->s)));
}

static void tls_close(transport *t)
{
	tls_transport *tt = (tls_transport *)t;

	if (tt->s)
		gnutls_deinit(tt->s);
	if (tt->scred)
		gnutls_psk_free_server_credentials(tt->scred);
	if (tt->ccred)
		gnutls_psk_free_client_credentials(tt->ccred);
	free(tt->rbuf);
	free(tt->wbuf);
	gnutls_memset(tt->psk, 0, sizeof(tt->psk));
	if (t->fd >= 0)
		close(t->fd);
	free(tt);
}

static const struct transport_ops tls_ops = {
	.name = "tls",
	.read = tls_read,
	.write_all = tls_write_all,
	.shutdown = tls_shutdown,
	.describe = tls_describe,
	.close = tls_close,
	.cork = tls_cork,
	.uncork = tls_uncork,
};

/* ---- constructors ---- */

/* Everything but the credentials, which differ by side. */
static int tls_new(int fd, const uint8_t *psk, int timeout_ms, unsigned flags,
                   tls_transport **out)
{
	tls_transport *tt = NULL;
	int rc;

	pthread_once(&tls_once, tls_global_init);
	if (tls_init_rc < 0 || psk == NULL) {
		rc = tls_init_rc < 0 ? tls_init_rc : MAGMA_EINVAL;
		goto out;
	}
	tt = calloc(1, sizeof(*tt));
	if (tt == NULL) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	tt->base.fd = fd; /* from here on tls_close() closes it */
	rc = transport_base_init(&tt->base, &tls_ops, fd, timeout_ms);
	if (rc < 0)
		goto out;
	memcpy(tt->psk, psk, TRANSPORT_PSK_LEN);
	/* GNUTLS_NO_SIGNAL: a closed peer must not raise SIGPIPE. */
	if (gnutls_init(&tt->s, flags | GNUTLS_NO_SIGNAL) < 0) {
		tt->s = NULL;
		rc = MAGMA_ENOMEM;
		goto out;
	}
	if (gnutls_priority_set(tt->s, tls_prio) < 0) {
		rc = MAGMA_ECRYPTO;
		goto out;
	}
	if ((tt->rbuf = malloc(TLS_RBUF)) == NULL) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	gnutls_session_set_ptr(tt->s, tt);
	gnutls_transport_set_ptr(tt->s, tt);
	gnutls_transport_set_pull_function(tt->s, tls_pull);
	gnutls_transport_set_pull_timeout_function(tt->s, tls_pull_timeout);
	gnutls_transport_set_push_function(tt->s, tls_push);
	*out = tt;
	tt = NULL;
out:
	if (tt != NULL)
		tls_close(&tt->base);
	else if (rc < 0 && fd >= 0)
		close(fd);
	return rc;
}

int transport_tls_server(int fd, const uint8_t *psk, int timeout_ms,
                         transport **out)
{
	tls_transport *tt = NULL;
	int rc;

	rc = tls_new(fd, psk, timeout_ms, GNUTLS_SERVER, &tt);
	if (rc < 0)
		return rc;
	if (gnutls_psk_allocate_server_credentials(&tt->scred) < 0) {
		tt->scred = NULL;
		rc = MAGMA_ENOMEM;
		goto out;
	}
	gnutls_psk_set_server_credentials_function(tt->scred, psk_lookup);
	if (gnutls_credentials_set(tt->s, GNUTLS_CRD_PSK, tt->scred) < 0) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	rc = handshake(tt);
	if (rc < 0)
		goto out;
	*out = &tt->base;
	tt = NULL;
out:
	if (tt != NULL)
		tls_close(&tt->base);
	return rc;
}

int transport_tls_client(int fd, const uint8_t *psk, const char *identity,
                         int timeout_ms, transport **out)
{
	tls_transport *tt = NULL;
	gnutls_datum_t key;
	int rc;

	rc = tls_new(fd, psk, timeout_ms, GNUTLS_CLIENT, &tt);
	if (rc < 0)
		return rc;
	key.data = tt->psk;
	key.size = TRANSPORT_PSK_LEN;
	if (gnutls_psk_allocate_client_credentials(&tt->ccred) < 0) {
		tt->ccred = NULL;
		rc = MAGMA_ENOMEM;
		goto out;
	}
	if (gnutls_psk_set_client_credentials(
	            tt->ccred, identity ? identity : TRANSPORT_IDENTITY, &key,
	            GNUTLS_PSK_KEY_RAW) < 0 ||
	    gnutls_credentials_set(tt->s, GNUTLS_CRD_PSK, tt->ccred) < 0) {
		rc = MAGMA_EINVAL;
		goto out;
	}
	rc = handshake(tt);
	if (rc < 0)
		goto out;
	*out = &tt->base;
	tt = NULL;
out:
	if (tt != NULL)
		tls_close(&tt->base);
	return rc;
}
