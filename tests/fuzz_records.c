/* fuzz_records.c - fuzz target for the small decoders and parsers: the
 * file handle (server/fh.h), the namespace records (server/fs_rec.h), the
 * routing table encoding (server/ring.h), magma.conf and its addresses
 * (server/conf.h), and both ends of the control socket (server/ctl.h).
 *
 * Input: byte 0 picks the decoder (mod FZ_NKINDS), the rest is its input.
 * Besides "no crash", every decoder that accepts an input must give it
 * back unchanged when its result is encoded again (the formats are
 * canonical), and a reply of the control server must be well formed.
 * ctl.h has no parse function to call without a socket, so its two ends
 * are fuzzed over a real Unix socket in a temporary directory: the server
 * (ctl_server_start) fed with request bytes, and the client (ctl_call)
 * fed with reply bytes by a small thread here.
 *
 * A libFuzzer target, or run by tests/fuzz_main.c (see fuzz.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "fh.h"
#include "fs.h"
#include "fs_rec.h"
#include "keys.h"
#include "merr.h"
#include "mlog.h"
#include "ring.h"
#include "tests/fuzz.h"

enum {
	FZ_FH,
	FZ_REC,
	FZ_BIND,
	FZ_ENT,
	FZ_CONF,
	FZ_ADDR,
	FZ_RING,
	FZ_CTL_SERVER,
	FZ_CTL_CLIENT,
	FZ_NKINDS
};

static struct {
	char dir[256];
	char sock[300]; /* ctl_server under test */
	char fake[300]; /* fake server for ctl_call */
	char conf[300];
	magma_keys keys;
	ctl_server *srv;
	int fake_fd;
	pthread_t fake_thread;
	pthread_mutex_t mu;
	const uint8_t *reply; /* what the fake server answers */
	size_t replylen;
	/* MAGMA_FUZZ_STATS: inputs and accepted inputs per decoder */
	int kind;
	unsigned long tried[FZ_NKINDS], accepted[FZ_NKINDS];
	int skip[FZ_NKINDS]; /* MAGMA_FUZZ_SKIP: decoders left out */
} fz = { .fake_fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER };

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_records: %s:%d: %s\n", __FILE__, \
			        __LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* ---- the control socket: a server to feed, a fake server to answer ---- */

static int ctl_echo(void *ctx, const char *verb, const char *arg, ctl_reply *r,
                    char *err, size_t errlen)
{
	if (strcmp(verb, "err") == 0) {
		snprintf(err, errlen, "%s", arg);
		return MAGMA_EINVAL;
	}
	if (strcmp(verb, "big") == 0) /* longer than a line may be */
		return ctl_reply_line(r, "%s%s%s%s", arg, arg, arg, arg);
	if (ctl_reply_line(r, "%s", verb) < 0 ||
	    ctl_reply_line(r, "%s", arg) < 0)
		return MAGMA_EIO;
	return verb[0] == 'x' ? MAGMA_ENOENT : 0;
}

/* Signals (libFuzzer's -timeout alarm) interrupt our socket calls. */
static ssize_t read_retry(int fd, void *buf, size_t len)
{
	ssize_t r;

	while ((r = read(fd, buf, len)) < 0 && errno == EINTR)
		;
	return r;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void *fake_server(void *arg)
{
	for (;;) {
		char c;
		int fd = accept(fz.fake_fd, NULL, NULL);
		ssize_t r;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		/* The request, up to its newline. */
		while ((r = read_retry(fd, &c, 1)) == 1 && c != '\n')
			;
		pthread_mutex_lock(&fz.mu);
		write_all(fd, fz.reply, fz.replylen);
		pthread_mutex_unlock(&fz.mu);
		close(fd);
	}
	return NULL;
}

static int unix_socket(const char *path, int listening)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	CHECK(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	if (listening) {
		CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		CHECK(listen(fd, 16) == 0);
	} else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send request bytes to the real server and check its reply: data lines
 * "D ...", then exactly one "OK" or "ERR <negative code> <message>". */
static void fuzz_ctl_server(const uint8_t *p, size_t n)
{
	static char rep[64 * 1024];
	size_t have = 0, off = 0;
	int fd = unix_socket(fz.sock, 0), last = 0;
	struct timeval tv = { 10, 0 };
	ssize_t r;

	CHECK(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	write_all(fd, p, n);
	shutdown(fd, SHUT_WR);
	while (have < sizeof(rep) &&
	       (r = read_retry(fd, rep + have, sizeof(rep) - have)) > 0)
		have += (size_t)r;
	close(fd);
	/* No reply at all is allowed only for a request without a line. */
	if (have == 0) {
		CHECK(memchr(p, '\n', n) == NULL);
		return;
	}
	while (off < have) {
		char *nl = memchr(rep + off, '\n', have - off);
		size_t len;

		CHECK(!last);
		CHECK(nl != NULL);
		len = (size_t)(nl - (rep + off));
		CHECK(len + 1 <= CTL_LINE_MAX);
		*nl = '\0';
		if (strncmp(rep + off, "D ", 2) != 0) {
			char *end;
			long code;

			last = 1;
			if (strcmp(rep + off, "OK") == 0)
				fz.accepted[fz.kind]++;
			else {
				CHECK(strncmp(rep + off, "ERR ", 4) == 0);
				code = strtol(rep + off + 4, &end, 10);
				CHECK(end != rep + off + 4 && code < 0);
			}
		}
		off += len + 1;
	}
	CHECK(last);
}

static int ctl_line(void *arg, const char *line)
{
	size_t len = strlen(line);

	CHECK(len < CTL_LINE_MAX && strchr(line, '\n') == NULL);
	++*(unsigned *)arg;
	return len == 3 && memcmp(line, "bye", 3) == 0 ? MAGMA_ERANGE : 0;
}

/* Let ctl_call parse reply bytes from the fake server. */
static void fuzz_ctl_client(const uint8_t *p, size_t n)
{
	char err[256];
	unsigned lines = 0;
	int rc;

	pthread_mutex_lock(&fz.mu);
	fz.reply = p;
	fz.replylen = n;
	pthread_mutex_unlock(&fz.mu);
	rc = ctl_call(fz.fake, "fuzz request", ctl_line, &lines, err,
	              sizeof(err));
	CHECK(rc <= 0 && rc > MAGMA_E_LAST);
	if (rc == 0)
		fz.accepted[fz.kind]++;
	CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	pthread_mutex_lock(&fz.mu);
	fz.reply = NULL;
	fz.replylen = 0;
	pthread_mutex_unlock(&fz.mu);
}

/* ---- records ---- */

static void fuzz_fh(const uint8_t *p, size_t n)
{
	uint8_t again[FH_LEN];
	uint16_t export_id;
	fs_ref ref;

	if (fh_decode(&fz.keys, p, n, &export_id, &ref) != 0)
		return;
	CHECK(n == FH_LEN);
	CHECK(fh_encode(&fz.keys, export_id, &ref, again) == 0);
	CHECK(memcmp(again, p, FH_LEN) == 0);
	fz.accepted[fz.kind]++;
}

static void same(const uint8_t *p, size_t n, int rc, uint8_t *enc,
                 size_t enclen)
{
	CHECK(rc == 0);
	CHECK(enclen == n && memcmp(enc, p, n) == 0);
	free(enc);
	fz.accepted[fz.kind]++;
}

/* A decoded record with guard bytes behind it: a stray write far past
 * the struct lands in other valid memory, where ASan cannot see it. */
#define GUARD_LEN (64 * 1024 + 64)
#define GUARD_BYTE 0xa5
static struct {
	fs_rec r;
	uint8_t guard[GUARD_LEN];
} grec;

static void fuzz_rec(const uint8_t *p, size_t n)
{
	static uint8_t pattern[GUARD_LEN];
	fs_rec *r = &grec.r;
	uint8_t *enc = NULL;
	size_t len = 0;
	int rc;

	if (pattern[0] != GUARD_BYTE) {
		memset(pattern, GUARD_BYTE, GUARD_LEN);
		memset(grec.guard, GUARD_BYTE, GUARD_LEN);
	}
	rc = fs_rec_decode(p, n, r);
	CHECK(memcmp(grec.guard, pattern, GUARD_LEN) == 0);
	if (rc != 0)
		return;
	CHECK(r->target_len <= FS_PATH_MAX && r->target[r->target_len] == '\0');
	rc = fs_rec_encode(r, &enc, &len);
	same(p, n, rc, enc, len);
}

static void fuzz_bind(const uint8_t *p, size_t n)
{
	fs_bind b;
	uint8_t *enc = NULL;
	size_t len = 0;
	int rc;

	if (fs_bind_decode(p, n, &b) != 0)
		return;
	rc = fs_bind_encode(&b, &enc, &len);
	same(p, n, rc, enc, len);
}

/* p[0]: the sub key's length; the sub key, then the value. */
static void fuzz_ent(const uint8_t *p, size_t n)
{
	static fs_ent e;
	uint8_t *enc = NULL;
	size_t sublen, len = 0;
	int rc;

	if (n == 0)
		return;
	sublen = p[0] % 32 < n - 1 ? p[0] % 32 : n - 1;
	p++;
	n--;
	if (fs_ent_decode(p, sublen, p + sublen, n - sublen, &e) != 0)
		return;
	CHECK(sublen == FS_SUB_ENTRY_LEN);
	CHECK(e.namelen >= 1 && e.namelen <= FS_NAME_MAX &&
	      e.name[e.namelen] == '\0');
	CHECK(memcmp(e.name_key, p + 1, KEYS_RING_LEN) == 0);
	rc = fs_ent_encode(&e, &enc, &len);
	same(p + sublen, n - sublen, rc, enc, len);
}

static void fuzz_ring(const uint8_t *p, size_t n)
{
	ring *rg = NULL;
	uint8_t *enc = NULL;
	size_t len = 0;
	int rc;

	if (ring_decode(p, n, &rg) != 0)
		return;
	rc = ring_encode(rg, &enc, &len);
	ring_free(rg);
	same(p, n, rc, enc, len);
}

static void addr_eq(const conf_addr *a, const conf_addr *b)
{
	CHECK(strcmp(a->host, b->host) == 0 && a->port == b->port &&
	      a->v6 == b->v6);
}

static void fuzz_addr(const uint8_t *p, size_t n)
{
	char *s = strndup((const char *)p, n), buf[CONF_ADDR_MAX + 16];
	conf_addr a, b;

	CHECK(s != NULL);
	if (conf_parse_addr(s, &a) == 0) {
		CHECK(memchr(a.host, '\0', sizeof(a.host)) != NULL);
		conf_format_addr(&a, buf, sizeof(buf));
		CHECK(conf_parse_addr(buf, &b) == 0);
		addr_eq(&a, &b);
		fz.accepted[fz.kind]++;
	}
	free(s);
}

/* A configuration that parses must be valid, and survive a write and a
 * load unchanged. */
static void fuzz_conf(const uint8_t *p, size_t n)
{
	static magma_conf c, d;
	char *s = strndup((const char *)p, n), err[256];

	CHECK(s != NULL);
	err[0] = '\0';
	if (conf_parse(s, "fuzz.conf", &c, err, sizeof(err)) != 0) {
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		free(s);
		return;
	}
	free(s);
	CHECK(conf_valid_network(c.network));
	CHECK(conf_valid_node_id(c.node_id));
	CHECK(c.keyphrase_file[0] == '/' &&
	      memchr(c.keyphrase_file, '\0', sizeof(c.keyphrase_file)));
	CHECK(c.redundancy >= 1 && c.redundancy <= CONF_REDUNDANCY_MAX);
	CHECK(c.rpcbind == 0 || c.rpcbind == 1);
	CHECK(c.log_level >= MLOG_ERR && c.log_level <= MLOG_DEBUG);
	CHECK(conf_write(fz.conf, &c) == 0);
	CHECK(conf_load(fz.conf, &d, err, sizeof(err)) == 0);
	CHECK(strcmp(c.network, d.network) == 0);
	CHECK(strcmp(c.node_id, d.node_id) == 0);
	CHECK(strcmp(c.keyphrase_file, d.keyphrase_file) == 0);
	addr_eq(&c.nfs_listen, &d.nfs_listen);
	addr_eq(&c.peer_listen, &d.peer_listen);
	CHECK(c.redundancy == d.redundancy && c.store_size == d.store_size &&
	      c.rpcbind == d.rpcbind && c.log_level == d.log_level);
	fz.accepted[fz.kind]++;
}

/* ---- set-up ---- */

static const char *const fz_names[FZ_NKINDS] = {
	"fh",        "fs_rec", "fs_bind",    "fs_ent",    "conf",
	"conf_addr", "ring",   "ctl_server", "ctl_client"
};

static void fuzz_exit(void)
{
	if (getenv("MAGMA_FUZZ_STATS") != NULL)
		for (int i = 0; i < FZ_NKINDS; i++)
			fprintf(stderr, "%-12s %9lu inputs %9lu accepted\n",
			        fz_names[i], fz.tried[i], fz.accepted[i]);
	if (fz.srv != NULL)
		ctl_server_stop(fz.srv);
	if (fz.fake_fd >= 0) {
		shutdown(fz.fake_fd, SHUT_RDWR);
		close(fz.fake_fd);
		pthread_join(fz.fake_thread, NULL);
	}
	unlink(fz.fake);
	unlink(fz.conf);
	rmdir(fz.dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	const char *lvl = getenv("MAGMA_FUZZ_LOG");
	int rc;

	/* MAGMA_FUZZ_SKIP="fs_rec,ring": leave decoders with a known,
	 * reported crash out of a long run, to look for others. */
	for (int i = 0; i < FZ_NKINDS; i++) {
		const char *sk = getenv("MAGMA_FUZZ_SKIP"), *m;
		size_t len = strlen(fz_names[i]);

		for (m = sk; m != NULL && (m = strstr(m, fz_names[i])); m++)
			if ((m == sk || m[-1] == ',') &&
			    (m[len] == ',' || m[len] == '\0'))
				fz.skip[i] = 1;
	}
	/* Decoders log what they reject; quiet unless asked. */
	mlog_init("fuzz_records", 0, lvl ? mlog_parse_level(lvl) : -1);
	signal(SIGPIPE, SIG_IGN);
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 60)
		tmp = "/tmp";
	snprintf(fz.dir, sizeof(fz.dir), "%s/fuzz_rec.XXXXXX", tmp);
	if (mkdtemp(fz.dir) == NULL) {
		perror(fz.dir);
		exit(1);
	}
	snprintf(fz.sock, sizeof(fz.sock), "%s/ctl.sock", fz.dir);
	snprintf(fz.fake, sizeof(fz.fake), "%s/fake.sock", fz.dir);
	snprintf(fz.conf, sizeof(fz.conf), "%s/magma.conf", fz.dir);
	rc = keys_derive("fuzz keyphrase", 14, "fuzz", &fz.keys);
	CHECK(rc == 0);
	CHECK(ctl_server_start(&fz.srv, fz.sock, ctl_echo, NULL) == 0);
	fz.fake_fd = unix_socket(fz.fake, 1);
	CHECK(pthread_create(&fz.fake_thread, NULL, fake_server, NULL) == 0);
	atexit(fuzz_exit);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1;
	size_t n = size - 1;

	if (size < 1)
		return 0;
	fz.kind = data[0] % FZ_NKINDS;
	if (fz.skip[fz.kind])
		return 0;
	fz.tried[fz.kind]++;
	switch (fz.kind) {
	case FZ_FH: fuzz_fh(p, n); break;
	case FZ_REC: fuzz_rec(p, n); break;
	case FZ_BIND: fuzz_bind(p, n); break;
	case FZ_ENT: fuzz_ent(p, n); break;
	case FZ_CONF: fuzz_conf(p, n); break;
	case FZ_ADDR: fuzz_addr(p, n); break;
	case FZ_RING: fuzz_ring(p, n); break;
	case FZ_CTL_SERVER: fuzz_ctl_server(p, n); break;
	default: fuzz_ctl_client(p, n); break;
	}
	return 0;
}

#ifndef MAGMA_LIBFUZZER

const unsigned long fuzz_count = 100000;

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)fuzz_rnd();
}

static size_t put_enc(uint8_t *buf, size_t cap, int rc, uint8_t *enc,
                      size_t len)
{
	CHECK(rc == 0);
	if (len > cap)
		len = cap;
	memcpy(buf, enc, len);
	free(enc);
	return len;
}

static size_t put_str(uint8_t *buf, size_t cap, const char *s)
{
	size_t len = strlen(s) < cap ? strlen(s) : cap;

	memcpy(buf, s, len);
	return len;
}

static fs_ref rnd_ref(void)
{
	fs_ref r;

	rnd_bytes(r.home, sizeof(r.home));
	rnd_bytes(r.id, sizeof(r.id));
	return r;
}

static size_t seed_rec(uint8_t *buf, size_t cap)
{
	static fs_rec r;
	uint8_t *enc = NULL;
	size_t len = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	r.type = 1 + fuzz_rnd() % 7;
	r.mode = fuzz_rnd() % 010000;
	r.nlink = fuzz_rnd() % 4;
	r.uid = fuzz_rnd() % 2 ? 1000 : 0;
	r.size = fuzz_rnd() % 2 ? fuzz_rnd() : (uint64_t)INT64_MAX;
	r.mtime.sec = (int64_t)fuzz_rnd() - (1 << 30);
	r.mtime.nsec = fuzz_rnd() % 1000000000u;
	r.parent = rnd_ref();
	r.has_verf = (int)(fuzz_rnd() % 2);
	r.target_len = r.type == FS_LNK ? fuzz_rnd() % 64 : 0;
	memset(r.target, 'a', r.target_len);
	rc = fs_rec_encode(&r, &enc, &len);
	return put_enc(buf, cap, rc, enc, len);
}

static size_t seed_ent(uint8_t *buf, size_t cap)
{
	static fs_ent e;
	uint8_t *enc = NULL;
	size_t len = 0;
	int rc;

	memset(&e, 0, sizeof(e));
	e.type = 1 + fuzz_rnd() % 7;
	e.ref = rnd_ref();
	e.namelen = 1 + fuzz_rnd() % (fuzz_rnd() % 2 ? 8 : FS_NAME_MAX);
	memset(e.name, 'n', e.namelen);
	rc = fs_ent_encode(&e, &enc, &len);
	CHECK(rc == 0 && cap > FS_SUB_ENTRY_LEN + 1 + len);
	buf[0] = FS_SUB_ENTRY_LEN;
	buf[1] = 'D';
	rnd_bytes(buf + 2, KEYS_RING_LEN);
	memcpy(buf + 1 + FS_SUB_ENTRY_LEN, enc, len);
	free(enc);
	return 1 + FS_SUB_ENTRY_LEN + len;
}

static size_t seed_ring(uint8_t *buf, size_t cap)
{
	static const char *const addrs[] = { "127.0.0.2:7390", "[::1]:1",
		                             "10.1.2.3:65535", "" };
	ring *rg = NULL;
	ring_member m;
	uint8_t *enc = NULL;
	size_t len = 0;
	unsigned i, n = fuzz_rnd() % 4;

	CHECK(ring_new(1 + fuzz_rnd() % 3, &rg) == 0);
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		rnd_bytes(m.id, sizeof(m.id));
		snprintf(m.peer, sizeof(m.peer), "%s", addrs[fuzz_rnd() % 3]);
		snprintf(m.nfs, sizeof(m.nfs), "%s", addrs[fuzz_rnd() % 4]);
		m.weight = 1 + fuzz_rnd() % 8;
		m.state = 1 + (int)(fuzz_rnd() % 4);
		CHECK(ring_add(rg, &m) == 0);
	}
	if (fuzz_rnd() % 2)
		ring_set_epoch(rg, fuzz_rnd());
	CHECK(ring_encode(rg, &enc, &len) == 0);
	ring_free(rg);
	return put_enc(buf, cap, 0, enc, len);
}

static size_t seed_conf(uint8_t *buf, size_t cap)
{
	static const char *const opt[] = {
		"nfs_listen = 127.0.0.1:0\n",
		"peer_listen = [::1]:7390\n",
		"redundancy = 3\n",
		"store_size = 10G\n",
		"store_size = 1\n",
		"rpcbind = no\n",
		"rpcbind = yes\n",
		"log_level = debug\n",
		"# comment = x\n",
		"\n",
		"   \t\n",
		"redundancy=16\n",
		"store_size = 16383P\n",
		"nfs_listen = [fe80::1%lo]:2049\n",
		"peer_listen = 0.0.0.0:65535\n",
		"bogus = 1\n",
	};
	char text[2048];
	size_t len;
	unsigned i, n = fuzz_rnd() % 5;

	len = (size_t)snprintf(text, sizeof(text),
	                       "network = %s\nnode_id = %s\n"
	                       "keyphrase_file = /etc/magma/keyphrase\n",
	                       fuzz_rnd() % 2 ? "home.net" : "a_b-c.9",
	                       "0123456789abcdefABCDEF0123456789");
	for (i = 0; i < n && len + 64 < sizeof(text); i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s",
		                        opt[fuzz_rnd() % 16]);
	return put_str(buf, cap, text);
}

static size_t seed_addr(uint8_t *buf, size_t cap)
{
	static const char *const a[] = { "127.0.0.1:2049",
		                         "[::1]:0",
		                         "[::ffff:1.2.3.4]:99",
		                         "1.2.3.4:65536",
		                         "1.2.3.4:",
		                         "[::1]",
		                         ":80",
		                         "[]:1",
		                         "1.2.3.4:-1",
		                         "1.2.3.4:0x10",
		                         "a:b:c",
		                         "[1:2:3:4:5:6:7:8]:65535" };

	return put_str(buf, cap, a[fuzz_rnd() % 12]);
}

static size_t seed_ctl(uint8_t *buf, size_t cap, int reply)
{
	static const char *const req[] = {
		"status\n",         "err something bad\n",
		"big xxxxxxxxxx\n", "x y z\n",
		"verb\n",           "\n",
		" leading\n",       "status --json\n"
	};
	static const char *const rep[] = { "OK\n",
		                           "D line\nOK\n",
		                           "ERR -2 no such\n",
		                           "ERR 5 positive\n",
		                           "ERR -99999 far\n",
		                           "ERR\n",
		                           "D a\nD bye\nOK\n",
		                           "D\nOK\n",
		                           "junk\n",
		                           "D x\n",
		                           "OK",
		                           "ERR -3\n" };
	size_t len;

	if (!reply) {
		len = put_str(buf, cap, req[fuzz_rnd() % 8]);
		if (fuzz_rnd() % 16 == 0 && cap > CTL_LINE_MAX + 8) {
			/* a line near or over the limit */
			len = CTL_LINE_MAX - 8 + fuzz_rnd() % 16;
			memset(buf, 'a', len);
			buf[3] = ' ';
			buf[len++] = '\n';
		}
		return len;
	}
	len = put_str(buf, cap, rep[fuzz_rnd() % 12]);
	if (fuzz_rnd() % 16 == 0 && cap > CTL_LINE_MAX + 16) {
		buf[0] = 'D';
		buf[1] = ' ';
		len = CTL_LINE_MAX - 8 + fuzz_rnd() % 16;
		memset(buf + 2, 'b', len - 2);
		buf[len++] = '\n';
		len += put_str(buf + len, cap - len, "OK\n");
	}
	return len;
}

size_t fuzz_seed(uint8_t *buf, size_t cap)
{
	uint32_t kind = fuzz_rnd() % FZ_NKINDS;
	uint8_t *p = buf + 1;
	size_t c = cap - 1, n = 0;

	buf[0] = (uint8_t)kind;
	switch (kind) {
	case FZ_FH: {
		fs_ref r = rnd_ref();

		CHECK(fh_encode(&fz.keys, (uint16_t)(fuzz_rnd() % 3), &r, p) ==
		      0);
		n = FH_LEN;
		break;
	}
	case FZ_REC: n = seed_rec(p, c); break;
	case FZ_BIND: {
		fs_bind b = { 1 + fuzz_rnd() % 7, rnd_ref() };
		uint8_t *enc = NULL;
		size_t len = 0;
		int rc = fs_bind_encode(&b, &enc, &len);

		n = put_enc(p, c, rc, enc, len);
		break;
	}
	case FZ_ENT: n = seed_ent(p, c); break;
	case FZ_CONF: n = seed_conf(p, c); break;
	case FZ_ADDR: n = seed_addr(p, c); break;
	case FZ_RING: n = seed_ring(p, c); break;
	case FZ_CTL_SERVER: n = seed_ctl(p, c, 0); break;
	default: n = seed_ctl(p, c, 1); break;
	}
	return 1 + n;
}

#endif
