/* transport_plain.c - the plain transport: a TCP socket in clear, for
 * the NFS front end on loopback (DESIGN.md 6).  Reads wait in poll so a
 * silent peer costs at most the I/O timeout. */
#include "transport.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "merr.h"
#include "mlog.h"

/* Errors of a connected socket: the peer going away is "unavailable". */
static int sock_err(int e)
{
	switch (e) {
	case EAGAIN:
	case ETIMEDOUT:
	case ECONNRESET:
	case EPIPE:
	case ENOTCONN:
	case ECONNABORTED:
	case EHOSTUNREACH:
	case ENETUNREACH: return MAGMA_EUNAVAIL;
	default: return merr_from_errno(e);
	}
}

static int plain_read(transport *t, void *buf, size_t len, size_t *got)
{
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
	ssize_t n;
	int e;

	if (len == 0)
		return MAGMA_EINVAL;
	for (;;) {
		e = poll(&pfd, 1, t->timeout_ms > 0 ? t->timeout_ms : -1);
		if (e == 0) {
			LOG_D("peer %s: read timed out", t->peer);
			return MAGMA_EUNAVAIL;
		}
		if (e < 0 && errno != EINTR)
			return sock_err(errno);
		if (e < 0)
			continue;
		n = recv(t->fd, buf, len, 0);
		if (n >= 0)
			break;
		if (errno != EINTR)
			return sock_err(errno);
	}
	*got = (size_t)n;
	return 0;
}

static int plain_write_all(transport *t, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		/* SO_SNDTIMEO (transport_base_init) bounds a blocked send. */
		n = send(t->fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sock_err(errno);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int plain_shutdown(transport *t)
{
	if (shutdown(t->fd, SHUT_WR) < 0)
		return sock_err(errno);
	return 0;
}

static void plain_describe(transport *t, char *buf, size_t len)
{
	snprintf(buf, len, "plain");
}

static void plain_close(transport *t)
{
	close(t->fd);
	free(t);
}

static const struct transport_ops plain_ops = {
	.name = "plain",
	.read = plain_read,
	.write_all = plain_write_all,
	.shutdown = plain_shutdown,
	.describe = plain_describe,
	.close = plain_close,
};

int transport_plain_new(int fd, int timeout_ms, transport **out)
{
	transport *t;
	int rc;

	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	rc = transport_base_init(t, &plain_ops, fd, timeout_ms);
	if (rc < 0)
		goto out;
	*out = t;
	t = NULL;
out:
	if (rc < 0 && fd >= 0)
		close(fd);
	free(t);
	return rc;
}
