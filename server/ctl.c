/* ctl.c - the control socket between magmactl and magmad (see ctl.h).
 * Requests are rare and small, so one thread serves them in turn; every
 * read is bounded in size and time so a stuck client cannot wedge it. */
#include "config.h"

#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "merr.h"
#include "mlog.h"

#define CTL_CLIENT_TIMEOUT_MS 60000

struct ctl_server {
	int fd;      /* listening socket */
	int wake[2]; /* pipe: written to stop the thread */
	char *path;
	ctl_handler fn;
	void *ctx;
	pthread_t thread;
};

struct ctl_reply {
	int fd;
	int failed;
};

/* Fill sa for path.  A path longer than sun_path is reached through its
 * directory's /proc/self/fd link; *dirfd is then set and must be closed
 * by the caller after bind/connect (else it is -1). */
static int ctl_sockaddr(const char *path, struct sockaddr_un *sa, int *dirfd)
{
	const char *base;
	char dir[4096];
	int fd;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	*dirfd = -1;
	if (strlen(path) < sizeof(sa->sun_path)) {
		strcpy(sa->sun_path, path);
		return 0;
	}
	base = strrchr(path, '/');
	if (base == NULL || (size_t)(base - path) >= sizeof(dir))
		return MAGMA_ENAMETOOLONG;
	memcpy(dir, path, (size_t)(base - path));
	dir[base - path] = '\0';
	fd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return merr_from_errno(errno);
	if (snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s",
	             fd, base + 1) >= (int)sizeof(sa->sun_path)) {
		close(fd);
		return MAGMA_ENAMETOOLONG;
	}
	*dirfd = fd;
	return 0;
}

static void ctl_set_timeouts(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int ctl_send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return MAGMA_EIO;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Send prefix + text + "\n", with newlines in text made spaces and the
 * whole cut to CTL_LINE_MAX. */
static int ctl_send_line(int fd, const char *prefix, const char *text)
{
	char line[CTL_LINE_MAX + 1];
	int n = snprintf(line, sizeof(line) - 1, "%s%s", prefix, text);

	if (n < 0)
		return MAGMA_EIO;
	if (n > CTL_LINE_MAX - 1)
		n = CTL_LINE_MAX - 1;
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	return ctl_send_all(fd, line, (size_t)n);
}

int ctl_reply_line(ctl_reply *r, const char *fmt, ...)
{
	char text[CTL_LINE_MAX];
	va_list ap;

	if (r->failed)
		return MAGMA_EIO;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (ctl_send_line(r->fd, "D ", text) < 0)
		r->failed = 1;
	return r->failed ? MAGMA_EIO : 0;
}

/* Buffered, bounded line reader over a socket. */
typedef struct ctl_reader {
	int fd;
	char buf[CTL_LINE_MAX];
	size_t have;
} ctl_reader;

/* Read one line into line (CTL_LINE_MAX bytes), without its newline.
 * Returns 0, MAGMA_ENOENT at a clean end of stream, MAGMA_ETOOSMALL for
 * an over-long line, MAGMA_EIO on error or timeout. */
static int ctl_read_line(ctl_reader *rd, char *line)
{
	for (;;) {
		char *nl = memchr(rd->buf, '\n', rd->have);
		ssize_t r;

		if (nl != NULL) {
			size_t n = (size_t)(nl - rd->buf);
			memcpy(line, rd->buf, n);
			line[n] = '\0';
			rd->have -= n + 1;
			memmove(rd->buf, nl + 1, rd->have);
			return 0;
		}
		if (rd->have == sizeof(rd->buf))
			return MAGMA_ETOOSMALL;
		r = recv(rd->fd, rd->buf + rd->have, sizeof(rd->buf) - rd->have,
		         0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return MAGMA_EIO;
		if (r == 0)
			return rd->have ? MAGMA_EIO : MAGMA_ENOENT;
		rd->have += (size_t)r;
	}
}

static void ctl_serve_one(ctl_server *s, int fd)
{
	ctl_reader *rd = NULL;
	ctl_reply reply = { fd, 0 };
	char line[CTL_LINE_MAX], err[512], *arg;
	char out[600];
	int rc;

	ctl_set_timeouts(fd, CTL_TIMEOUT_MS);
	rd = calloc(1, sizeof(*rd));
	if (rd == NULL)
		goto out;
	rd->fd = fd;
	rc = ctl_read_line(rd, line);
	if (rc == MAGMA_ETOOSMALL) {
		ctl_send_line(fd, "", "ERR -9 request line too long");
		goto out;
	}
	if (rc < 0)
		goto out;
	arg = strchr(line, ' ');
	if (arg != NULL)
		*arg++ = '\0';
	else
		arg = line + strlen(line);
	err[0] = '\0';
	LOG_D("control request: %s", line);
	rc = s->fn(s->ctx, line, arg, &reply, err, sizeof(err));
	if (reply.failed)
		goto out;
	if (rc == 0) {
		ctl_send_line(fd, "", "OK");
	} else {
		snprintf(out, sizeof(out), "ERR %d %s", rc,
		         err[0] ? err : magma_strerror(rc));
		ctl_send_line(fd, "", out);
	}
out:
	free(rd);
	close(fd);
}

static void *ctl_thread(void *arg)
{
	ctl_server *s = arg;
	struct pollfd pfd[2] = { { s->fd, POLLIN, 0 },
		                 { s->wake[0], POLLIN, 0 } };

	for (;;) {
		int fd;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			LOG_E("poll on control socket: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue; /* client gone, EMFILE...: try again later */
		ctl_serve_one(s, fd);
	}
	return NULL;
}

int ctl_server_start(ctl_server **out, const char *path, ctl_handler fn,
                     void *ctx)
{
	struct sockaddr_un sa;
	ctl_server *s;
	int dirfd = -1, rc, e;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return MAGMA_ENOMEM;
	s->fd = -1;
	s->wake[0] = s->wake[1] = -1;
	s->fn = fn;
	s->ctx = ctx;
	s->path = strdup(path);
	if (s->path == NULL) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	rc = ctl_sockaddr(path, &sa, &dirfd);
	if (rc < 0) {
		LOG_E("control socket path %s: %s", path, magma_strerror(rc));
		goto out;
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || pipe2(s->wake, O_CLOEXEC) < 0) {
		rc = merr_from_errno(errno);
		goto out;
	}
	unlink(sa.sun_path); /* stale socket of a crashed magmad */
	/* Bind under a private umask so the socket is never, even briefly,
	 * usable by others; chmod states the intent. */
	mode_t old = umask(0177);
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		umask(old);
		LOG_E("cannot bind control socket %s: %s", path, strerror(e));
		rc = merr_from_errno(e);
		goto out;
	}
	umask(old);
	if (chmod(sa.sun_path, 0600) < 0 || listen(s->fd, 8) < 0) {
		e = errno;
		LOG_E("control socket %s: %s", path, strerror(e));
		rc = merr_from_errno(e);
		goto out;
	}
	e = pthread_create(&s->thread, NULL, ctl_thread, s);
	if (e != 0) {
		rc = merr_from_errno(e);
		goto out;
	}
	rc = 0;
out:
	if (dirfd >= 0)
		close(dirfd);
	if (rc < 0) {
		if (s->fd >= 0)
			close(s->fd);
		if (s->wake[0] >= 0) {
			close(s->wake[0]);
			close(s->wake[1]);
		}
		free(s->path);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void ctl_server_stop(ctl_server *s)
{
	if (s == NULL)
		return;
	while (write(s->wake[1], "x", 1) < 0 && errno == EINTR)
		;
	pthread_join(s->thread, NULL);
	close(s->fd);
	close(s->wake[0]);
	close(s->wake[1]);
	unlink(s->path);
	free(s->path);
	free(s);
}

int ctl_call(const char *path, const char *request, ctl_line_fn fn, void *arg,
             char *err, size_t errlen)
{
	struct sockaddr_un sa;
	ctl_reader *rd = NULL;
	char line[CTL_LINE_MAX];
	int fd = -1, dirfd = -1, rc;

	if (err && errlen)
		err[0] = '\0';
	if (strlen(request) + 1 > CTL_LINE_MAX || strchr(request, '\n'))
		return MAGMA_EINVAL;
	rc = ctl_sockaddr(path, &sa, &dirfd);
	if (rc < 0)
		return rc == MAGMA_ENOENT ? MAGMA_EUNAVAIL : rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = merr_from_errno(errno);
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (e == ENOENT || e == ECONNREFUSED || e == ENOTSOCK)
			rc = MAGMA_EUNAVAIL;
		else
			rc = merr_from_errno(e);
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		goto out;
	}
	ctl_set_timeouts(fd, CTL_CLIENT_TIMEOUT_MS);
	snprintf(line, sizeof(line), "%s\n", request);
	rc = ctl_send_all(fd, line, strlen(line));
	if (rc < 0)
		goto out;
	rd = calloc(1, sizeof(*rd));
	if (rd == NULL) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	rd->fd = fd;
	for (;;) {
		rc = ctl_read_line(rd, line);
		if (rc < 0) {
			rc = MAGMA_EPROTO;
			goto out;
		}
		if (strncmp(line, "D ", 2) == 0) {
			if (fn != NULL && (rc = fn(arg, line + 2)) < 0)
				goto out;
			continue;
		}
		if (strcmp(line, "OK") == 0) {
			rc = 0;
			goto out;
		}
		if (strncmp(line, "ERR ", 4) == 0) {
			char *end;
			long code = strtol(line + 4, &end, 10);
			if (end == line + 4 || code >= 0 ||
			    code <= MAGMA_E_LAST)
				code = MAGMA_EIO;
			if (*end == ' ')
				end++;
			if (err && errlen)
				snprintf(err, errlen, "%s", end);
			rc = (int)code;
			goto out;
		}
		rc = MAGMA_EPROTO;
		goto out;
	}
out:
	free(rd);
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}
