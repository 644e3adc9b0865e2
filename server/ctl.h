/* ctl.h - magmad's control socket (DIR/magmad.sock): the server side in
 * magmad and the client side in magmactl.
 *
 * Protocol: line based, one request per connection, bounded lines.
 *   client: "<verb> [<argument>]\n"          (at most CTL_LINE_MAX bytes)
 *   server: zero or more "D <text>\n" data lines, then exactly one of
 *           "OK\n" or "ERR <code> <message>\n" (code: a MAGMA_E* number)
 * The socket is mode 0600: only the node's owner (and root) may use it.
 * One thread accepts and serves requests one at a time; a client that
 * does not send its request within CTL_TIMEOUT_MS is dropped. */
#ifndef MAGMA_CTL_H
#define MAGMA_CTL_H

#include <stddef.h>

#define CTL_SOCKET "magmad.sock"
#define CTL_LINE_MAX 4200 /* longest line either way, newline included */
#define CTL_TIMEOUT_MS 5000

typedef struct ctl_server ctl_server;
typedef struct ctl_reply ctl_reply;

/* Send one data line (no newline in fmt's output; longer lines are cut
 * at CTL_LINE_MAX). Returns 0 or MAGMA_EIO when the client went away. */
int ctl_reply_line(ctl_reply *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* A request handler: verb is the first word, arg the rest of the line
 * ("" when none).  Send data with ctl_reply_line; return 0 for "OK", or
 * a negative MAGMA_E* code with a message in err for "ERR". */
typedef int (*ctl_handler)(void *ctx, const char *verb, const char *arg,
                           ctl_reply *r, char *err, size_t errlen);

/* Bind path (a stale socket there is replaced: the caller holds the pid
 * lock, so no live magmad owns it), chmod 0600, and start the accepting
 * thread.  ctx is passed to fn and must outlive the server.  *out is
 * released by ctl_server_stop (which also unlinks the socket). */
int ctl_server_start(ctl_server **out, const char *path, ctl_handler fn,
                     void *ctx);
void ctl_server_stop(ctl_server *s);

/* Client: send request (without newline) to the magmad listening on
 * path; fn is called with each data line (without "D " and newline).
 * Returns 0 on "OK"; MAGMA_EUNAVAIL when nothing listens at path; the
 * server's code with its message copied to err on "ERR"; MAGMA_EPROTO on
 * a malformed or truncated reply.  A negative return from fn stops the
 * call with that code. */
typedef int (*ctl_line_fn)(void *arg, const char *line);
int ctl_call(const char *path, const char *request, ctl_line_fn fn, void *arg,
             char *err, size_t errlen);

#endif
