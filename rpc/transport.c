/* transport.c - what the plain and tls transports share: exact reads,
 * timeouts, peer names, and the TCP connect/listen/accept helpers. */
#define _GNU_SOURCE
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "merr.h"
#include "mlog.h"

int transport_read_exact(void *ctx, void *buf, size_t len)
{
	transport *t = ctx;
	size_t done = 0, got;
	int rc;

	while (done < len) {
		rc = transport_read(t, (char *)buf + done, len - done, &got);
		if (rc < 0)
			return rc;
		if (got == 0)
			return done == 0 ? 1 : MAGMA_EPROTO;
		done += got;
	}
	return 0;
}

/* SO_SNDTIMEO bounds each blocking send; reads wait in poll (plain) or
 * in GnuTLS's own pull timeout (tls), both from t->timeout_ms. */
static int set_send_timeout(int fd, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return merr_from_errno(errno);
	return 0;
}

int transport_set_timeout(transport *t, int timeout_ms)
{
	int rc;

	if (timeout_ms < 0)
		return MAGMA_EINVAL;
	rc = set_send_timeout(t->fd, timeout_ms);
	if (rc == 0)
		t->timeout_ms = timeout_ms;
	return rc;
}

int transport_set_read_timeout(transport *t, int timeout_ms)
{
	if (timeout_ms < 0)
		return MAGMA_EINVAL;
	t->timeout_ms = timeout_ms;
	return 0;
}

int transport_base_init(transport *t, const struct transport_ops *ops, int fd,
                        int timeout_ms)
{
	int fl;

	if (fd < 0 || timeout_ms <= 0)
		return MAGMA_EINVAL;
	/* A non-blocking socket would turn every wait into a busy loop. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 ||
	    (fl & O_NONBLOCK && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0))
		return merr_from_errno(errno);
	t->ops = ops;
	t->fd = fd;
	t->timeout_ms = timeout_ms;
	transport_peer_text(fd, t->peer, sizeof(t->peer));
	return set_send_timeout(fd, timeout_ms);
}

/* ---- addresses ---- */

static void sockaddr_text(const struct sockaddr_storage *ss, char *buf,
                          size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

void transport_peer_text(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		ss.ss_family = AF_UNSPEC;
	sockaddr_text(&ss, buf, len);
}

/* Parse "a.b.c.d:port" or "[v6]:port" into ss.  A missing port is an
 * error; port 0 only where port0_ok. */
static int parse_addr(const char *addr, int port0_ok,
                      struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = addr;
	size_t hl;
	char *end;
	unsigned long port;

	if (addr == NULL)
		return MAGMA_EINVAL;
	colon = strrchr(addr, ':');
	if (colon == NULL || colon == addr)
		return MAGMA_EINVAL;
	hl = (size_t)(colon - addr);
	if (addr[0] == '[') {
		if (hl < 3 || addr[hl - 1] != ']')
			return MAGMA_EINVAL;
		h = addr + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return MAGMA_EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno ||
	    port > 65535 || (port == 0 && !port0_ok))
		return MAGMA_EINVAL;

	memset(ss, 0, sizeof(*ss));
	if (addr[0] != '[' &&
	    inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) ==
	            1) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*s4);
		return 0;
	}
	if (addr[0] == '[' &&
	    inet_pton(AF_INET6, host,
	              &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*s6);
		return 0;
	}
	return MAGMA_EINVAL;
}

static void set_nodelay(int fd)
{
	int one = 1;

	/* Small RPC records must not wait for Nagle; failure is harmless. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- connect, listen, accept ---- */

int transport_tcp_connect(const char *addr, int timeout_ms, int *fd)
{
	struct sockaddr_storage ss;
	struct pollfd pfd;
	socklen_t sl;
	long deadline;
	int s = -1, rc, e = 0, n;

	rc = parse_addr(addr, 0, &ss, &sl);
	if (rc < 0) {
		LOG_W("'%s' is not a numeric ip:port address",
		      addr ? addr : "");
		return rc;
	}
	if (timeout_ms <= 0)
		return MAGMA_EINVAL;
	s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		e = errno;
		LOG_E("socket: %s", strerror(e));
		rc = merr_from_errno(e);
		goto out;
	}
	/* Non-blocking connect, so that the wait is ours to bound. */
	if (connect(s, (struct sockaddr *)&ss, sl) < 0) {
		e = errno;
		if (e != EINPROGRESS)
			goto failed;
		deadline = now_ms() + timeout_ms;
		pfd.fd = s;
		pfd.events = POLLOUT;
		for (;;) {
			long left = deadline - now_ms();

			if (left <= 0) {
				e = ETIMEDOUT;
				goto failed;
			}
			n = poll(&pfd, 1, (int)left);
			if (n > 0)
				break;
			if (n < 0 && errno != EINTR) {
				e = errno;
				goto failed;
			}
		}
		sl = sizeof(e);
		if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
			e = errno;
		if (e != 0)
			goto failed;
	}
	n = fcntl(s, F_GETFL);
	if (n < 0 || fcntl(s, F_SETFL, n & ~O_NONBLOCK) < 0) {
		e = errno;
		goto failed;
	}
	set_nodelay(s);
	*fd = s;
	s = -1;
	rc = 0;
	goto out;
failed:
	LOG_D("cannot connect to %s: %s", addr, strerror(e));
	switch (e) {
	case ENOMEM:
	case ENOBUFS: rc = MAGMA_ENOMEM; break;
	case EMFILE:
	case ENFILE: rc = MAGMA_EJUKEBOX; break;
	case EINVAL:
	case EAFNOSUPPORT: rc = MAGMA_EINVAL; break;
	default: rc = MAGMA_EUNAVAIL; /* refused, unreachable, timed out */
	}
out:
	if (s >= 0)
		close(s);
	return rc;
}

int transport_tcp_listen(const char *addr, int *fd, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int s = -1, rc, e, one = 1;

	rc = parse_addr(addr, 1, &ss, &sl);
	if (rc < 0) {
		LOG_W("'%s' is not a numeric ip:port address",
		      addr ? addr : "");
		return rc;
	}
	s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		e = errno;
		LOG_E("socket: %s", strerror(e));
		rc = merr_from_errno(e);
		goto out;
	}
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&ss, sl) < 0 ||
	    listen(s, SOMAXCONN) < 0) {
		e = errno;
		LOG_E("cannot listen on %s: %s", addr, strerror(e));
		rc = e == EADDRINUSE ? MAGMA_EADDRINUSE : merr_from_errno(e);
		goto out;
	}
	if (port != NULL) {
		sl = sizeof(ss);
		if (getsockname(s, (struct sockaddr *)&ss, &sl) < 0) {
			rc = merr_from_errno(errno);
			goto out;
		}
		*port = ntohs(
		        ss.ss_family == AF_INET
		                ? ((struct sockaddr_in *)&ss)->sin_port
		                : ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	*fd = s;
	s = -1;
	rc = 0;
out:
	if (s >= 0)
		close(s);
	return rc;
}

int transport_tcp_accept(int lfd, int *fd)
{
	int s, e;

	do {
		s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	} while (s < 0 && errno == EINTR);
	if (s < 0) {
		e = errno;
		switch (e) {
		case EBADF:
		case EINVAL:
		case ENOTSOCK: return MAGMA_EINVAL;
		case ENOMEM:
		case ENOBUFS: return MAGMA_ENOMEM;
		default: return MAGMA_EJUKEBOX; /* EMFILE, ECONNABORTED, ... */
		}
	}
	set_nodelay(s);
	*fd = s;
	return 0;
}
