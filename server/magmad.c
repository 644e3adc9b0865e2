/* magmad.c - the Magma node daemon: load DIR/magma.conf, derive the
 * keys, open the store and namespace, serve NFSv3 + MOUNT on one port,
 * the peer program over TLS on another (peer_srv.c), and answer magmactl
 * on DIR/magmad.sock, until SIGTERM or SIGINT.
 *
 * Every start-up failure is one clear line on stderr and a non-zero
 * exit; the one line on stdout ("magmad: serving ...") says it is ready. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "dispatch.h"
#include "magmad.h"
#include "member.h"
#include "merr.h"
#include "kv_net.h"
#include "mlog.h"
#include "node_net.h"
#include "peer_srv.h"
#include "repair.h"

typedef struct magmad_opts {
	const char *data;
	int log_level; /* -1: from the config */
	int use_syslog;
} magmad_opts;

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: magmad [--data DIR] [--log-level LEVEL] [--syslog]\n"
	        "       magmad --help | --version\n"
	        "\n"
	        "Run a Magma node in the foreground until SIGTERM or SIGINT.\n"
	        "\n"
	        "  -d, --data DIR         the node's data directory, made by\n"
	        "                         magmactl init (default:\n"
	        "                         $XDG_STATE_HOME/magma/node or\n"
	        "                         ~/.local/state/magma/node)\n"
	        "  -l, --log-level LEVEL  error, warn, info or debug "
	        "(default:\n"
	        "                         log_level in DIR/magma.conf)\n"
	        "  -s, --syslog           log to syslog instead of stderr\n"
	        "  -h, --help             show this help\n"
	        "  -V, --version          show the version\n"
	        "\n"
	        "See magmad(8).\n");
}

/* The default data dir: the user's state dir, as the quickstart uses. */
static int default_data_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/magma/node", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.local/state/magma/node", home);
	else
		return MAGMA_ECONFIG;
	return n < 0 || (size_t)n >= len ? MAGMA_ENAMETOOLONG : 0;
}

static void host_for_url(const conf_addr *a, char *buf, size_t len)
{
	snprintf(buf, len, a->v6 ? "[%s]" : "%s", a->host);
}

/* ---- control requests ---- */

static int ctl_status(struct magmad *d, ctl_reply *r)
{
	char nfs[CONF_ADDR_MAX + 16], peer[CONF_ADDR_MAX + 16], verf_hex[17];
	char mdb[CONF_PATH_MAX + 16];
	uint8_t verf[8];
	struct timespec now;
	struct stat sb;
	uint64_t used;
	kv_stat st;
	int rc;

	rc = kv_stat_get(store_kv(d->store), &st);
	if (rc < 0)
		return rc;
	/* "Used" is what the store's file occupies, not the whole disk. */
	snprintf(mdb, sizeof(mdb), "%s/store.mdb", d->data_dir);
	used = stat(mdb, &sb) == 0 ? (uint64_t)sb.st_blocks * 512 : 0;
	conf_format_addr(&d->nfs_bound, nfs, sizeof(nfs));
	conf_format_addr(&d->peer_bound, peer, sizeof(peer));
	fs_write_verifier(d->fs, verf);
	keys_hex(verf, sizeof(verf), verf_hex);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ctl_reply_line(r, "network=%s", d->cfg.network);
	ctl_reply_line(r, "node_id=%s", d->cfg.node_id);
	ctl_reply_line(r, "version=%s", PACKAGE_VERSION);
	ctl_reply_line(r, "pid=%ld", (long)getpid());
	ctl_reply_line(r, "data_dir=%s", d->data_dir);
	ctl_reply_line(r, "nfs_listen=%s", nfs);
	ctl_reply_line(r, "peer_listen=%s", peer);
	ctl_reply_line(r, "state=up");
	/* epoch, redundancy, coordinator, movement, members */
	rc = member_ctl_status(d, r);
	if (rc < 0)
		return rc;
	if (d->repair) { /* data path: catch-up and anti-entropy */
		repair_stats last;
		uint64_t passes;
		int caught;
		repair_get_stats(d->repair, NULL, &last, &passes, &caught);
		ctl_reply_line(r, "serving=%d", kv_net_serving(d->net));
		ctl_reply_line(r, "repair_passes=%" PRIu64, passes);
		ctl_reply_line(
		        r,
		        "repair_last=ranges %" PRIu64 " differing %" PRIu64
		        " pulled %" PRIu64 " failed %" PRIu64,
		        last.ranges, last.differing, last.pulled, last.failed);
		{
			uint64_t rate, bytes, waited;
			repair_get_pace(d->repair, &rate, &bytes, &waited);
			ctl_reply_line(
			        r, "move_rate=%" PRIu64 " %" PRIu64 " %" PRIu64,
			        rate, bytes, waited);
		}
		{
			uint64_t here, away;
			kv_net_read_counts(d->net, &here, &away);
			ctl_reply_line(r, "data_reads=%" PRIu64 " %" PRIu64,
			               here, away);
		}
	}
	ctl_reply_line(r, "store_bytes_used=%" PRIu64, used);
	ctl_reply_line(r, "store_bytes_free=%" PRIu64, st.bytes_free);
	ctl_reply_line(r, "store_bytes_total=%" PRIu64, st.bytes_total);
	ctl_reply_line(r, "store_records=%" PRIu64, st.records);
	ctl_reply_line(r, "uptime=%lld",
	               (long long)(now.tv_sec - d->started.tv_sec));
	return ctl_reply_line(r, "write_verifier=%s", verf_hex);
}

/* Bytes of a name as printable text: '\\' and non-printables as \xNN. */
static void escape_name(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in;
	     *p && o + 5 < outlen; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x",
			                      *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
}

typedef struct locate_ctx {
	struct magmad *d;
	ctl_reply *r;
	int visited; /* components reported so far, "/" included */
	char last[FS_NAME_MAX * 4 + 1]; /* escaped, the last one visited */
} locate_ctx;

static const char *type_name(uint32_t t)
{
	static const char *const names[] = { "?",        "file",    "dir",
		                             "blockdev", "chardev", "symlink",
		                             "socket",   "fifo" };
	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static int locate_one(void *arg, const char *component,
                      const uint8_t name_key[KEYS_RING_LEN], const fs_ref *ref,
                      const fs_attr *attr)
{
	locate_ctx *lc = arg;
	char hex[2 * KEYS_RING_LEN + 1], peer[CONF_ADDR_MAX + 16];

	escape_name(component, lc->last, sizeof(lc->last));
	lc->visited++;
	ctl_reply_line(lc->r, "component %s", lc->last);
	keys_hex(name_key, KEYS_RING_LEN, hex);
	ctl_reply_line(lc->r, "ring %s", hex);
	if (memcmp(name_key, ref->home, KEYS_RING_LEN) != 0) {
		keys_hex(ref->home, KEYS_RING_LEN, hex);
		ctl_reply_line(lc->r, "home %s", hex);
	}
	ctl_reply_line(lc->r, "type %s", type_name(attr->type));
	/* Owners of the flare's home key, in this node's view. */
	(void)peer;
	return member_ctl_owners(lc->d, ref->home, lc->r);
}

/* The n-th (0-based) non-empty component of path, escaped. */
static void nth_component(const char *path, int n, char *out, size_t len)
{
	char name[FS_NAME_MAX + 1];
	const char *p = path;

	out[0] = '\0';
	while (*p) {
		size_t l;
		while (*p == '/')
			p++;
		l = strcspn(p, "/");
		if (l == 0)
			break;
		if (n-- == 0) {
			if (l > FS_NAME_MAX)
				l = FS_NAME_MAX;
			memcpy(name, p, l);
			name[l] = '\0';
			escape_name(name, out, len);
			return;
		}
		p += l;
	}
}

static int ctl_locate(struct magmad *d, const char *path, ctl_reply *r,
                      char *err, size_t errlen)
{
	locate_ctx lc = { d, r, 0, "" };
	char epath[1024], missing[FS_NAME_MAX * 4 + 1];
	int rc;

	escape_name(path, epath, sizeof(epath));
	if (path[0] != '/') {
		snprintf(err, errlen, "%s: not an absolute path", epath);
		return MAGMA_EINVAL;
	}
	if (strlen(path) >= FS_PATH_MAX) {
		snprintf(err, errlen, "path too long");
		return MAGMA_ENAMETOOLONG;
	}
	rc = fs_walk(d->fs, path, locate_one, &lc);
	if (rc == 0)
		return 0;
	/* visited counts "/", so the next component has index visited-1. */
	nth_component(path, lc.visited - 1, missing, sizeof(missing));
	if (rc == MAGMA_ENOENT && missing[0])
		snprintf(err, errlen,
		         "%s: no such file or directory "
		         "(component \"%s\")",
		         epath, missing);
	else if (rc == MAGMA_ENOTDIR && lc.visited > 0)
		snprintf(err, errlen,
		         "%s: component \"%s\" is not a "
		         "directory",
		         epath, lc.last);
	else
		snprintf(err, errlen, "%s: %s", epath, magma_strerror(rc));
	return rc;
}

static int ctl_handle(void *ctx, const char *verb, const char *arg,
                      ctl_reply *r, char *err, size_t errlen)
{
	struct magmad *d = ctx;

	if (strcmp(verb, "status") == 0 && arg[0] == '\0')
		return ctl_status(d, r);
	if (strcmp(verb, "locate") == 0)
		return ctl_locate(d, arg, r, err, errlen);
	if (strcmp(verb, "leave") == 0)
		return member_ctl_leave(d, arg, r, err, errlen);
	snprintf(err, errlen, "unknown request \"%.32s\"", verb);
	return MAGMA_EINVAL;
}

/* ---- start-up and shutdown ---- */

/* Take the pid file's lock: one magmad per data dir. */
static int lock_pid_file(struct magmad *d)
{
	char path[CONF_PATH_MAX + 32], buf[32];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", d->data_dir, MAGMAD_PID_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "magmad: data dir %s is not writable: %s\n",
		        d->data_dir, strerror(errno));
		return MAGMA_EACCES;
	}
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		int e = errno;
		if (e == EAGAIN || e == EACCES) {
			ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[got > 0 ? got : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			fprintf(stderr,
			        "magmad: another magmad (pid %s) is "
			        "running for %s\n",
			        buf[0] ? buf : "?", d->data_dir);
		} else {
			fprintf(stderr, "magmad: cannot lock %s: %s\n", path,
			        strerror(e));
		}
		close(fd);
		return MAGMA_EEXIST;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		fprintf(stderr, "magmad: cannot write %s: %s\n", path,
		        strerror(errno));
		close(fd);
		return MAGMA_ESYS;
	}
	d->pid_fd = fd;
	return 0;
}

static int read_keys(struct magmad *d)
{
	const char *kf = d->cfg.keyphrase_file;
	char *phrase = NULL;
	size_t len = 0;
	int rc;

	rc = keys_read_phrase_file(kf, &phrase, &len);
	if (rc == MAGMA_ENOENT)
		fprintf(stderr, "magmad: keyphrase file %s does not exist\n",
		        kf);
	else if (rc == MAGMA_ECONFIG)
		fprintf(stderr,
		        "magmad: keyphrase file %s must be a private, "
		        "non-empty regular file of at most 4 KiB "
		        "(chmod 600 %s)\n",
		        kf, kf);
	else if (rc < 0)
		fprintf(stderr, "magmad: cannot read keyphrase file %s: %s\n",
		        kf, magma_strerror(rc));
	if (rc < 0)
		return rc;
	rc = keys_derive(phrase, len, d->cfg.network, &d->keys);
	explicit_bzero(phrase, len);
	free(phrase);
	if (rc < 0)
		fprintf(stderr, "magmad: key derivation failed: %s\n",
		        magma_strerror(rc));
	return rc;
}

static void magmad_stop(struct magmad *d)
{
	char path[CONF_PATH_MAX + 32];

	ctl_server_stop(d->ctl);
	d->ctl = NULL;
	if (d->rpc)
		rpc_server_stop(d->rpc);
	d->rpc = NULL;
	if (d->peer_rpc)
		rpc_server_stop(d->peer_rpc);
	d->peer_rpc = NULL;
	member_stop(d);   /* after every server: handlers call member_* */
	node_net_stop(d); /* after member_stop: it feeds the view */
	pthread_rwlock_wrlock(&d->table_lock);
	ring_free(d->table);
	d->table = NULL;
	pthread_rwlock_unlock(&d->table_lock);
	if (d->fs)
		fs_close(d->fs);
	d->fs = NULL;
	if (d->store)
		store_close(d->store);
	d->store = NULL;
	explicit_bzero(&d->keys, sizeof(d->keys));
	if (d->pid_fd >= 0) {
		snprintf(path, sizeof(path), "%s/%s", d->data_dir,
		         MAGMAD_PID_FILE);
		unlink(path); /* still locked by us: no one else wrote it */
		close(d->pid_fd);
		d->pid_fd = -1;
	}
}

/* The peer program over TLS with the join token, and the table of a
 * lone node.  Until the table is set, handlers answer without one. */
static int start_peer(struct magmad *d)
{
	static const rpc_program *const progs[] = { &peer_program };
	char addr[CONF_ADDR_MAX + 16], nfs[CONF_ADDR_MAX + 16];
	rpc_server_config pc;
	ring *table = NULL;
	int rc;

	rc = peer_id_parse(d->cfg.node_id, d->node_id);
	if (rc < 0) {
		fprintf(stderr, "magmad: node_id %s is not 32 hex digits\n",
		        d->cfg.node_id);
		return rc;
	}
	memset(&pc, 0, sizeof(pc));
	pc.addr = d->cfg.peer_listen.host;
	pc.port = d->cfg.peer_listen.port;
	pc.progs = progs;
	pc.nprogs = sizeof(progs) / sizeof(progs[0]);
	pc.daemon = d;
	pc.fs = d->fs;
	pc.keys = &d->keys;
	pc.use_rpcbind = 0; /* peers know the port from the table */
	pc.transport = RPC_SERVER_TLS;
	pc.psk = d->keys.join_token;
	rc = rpc_server_start(&d->peer_rpc, &pc);
	conf_format_addr(&d->cfg.peer_listen, addr, sizeof(addr));
	if (rc == MAGMA_EADDRINUSE) {
		fprintf(stderr, "magmad: peer-listen %s is in use\n", addr);
		return rc;
	}
	if (rc < 0) {
		fprintf(stderr, "magmad: cannot serve peers on %s: %s\n", addr,
		        magma_strerror(rc));
		return rc;
	}
	d->peer_bound = d->cfg.peer_listen;
	d->peer_bound.port = rpc_server_port(d->peer_rpc);
	conf_format_addr(&d->peer_bound, addr, sizeof(addr));
	conf_format_addr(&d->nfs_bound, nfs, sizeof(nfs));
	rc = peer_table_single(d->node_id, d->cfg.redundancy, addr, nfs,
	                       &table);
	if (rc < 0) {
		fprintf(stderr, "magmad: cannot make the routing table: %s\n",
		        magma_strerror(rc));
		return rc;
	}
	pthread_rwlock_wrlock(&d->table_lock);
	d->table = table;
	pthread_rwlock_unlock(&d->table_lock);
	LOG_I("peers served on %s over TLS with the join token", addr);
	return 0;
}

static int magmad_start(struct magmad *d, const magmad_opts *o)
{
	static const rpc_program *const progs[] = { &nfs3_program,
		                                    &mount3_program };
	char path[CONF_PATH_MAX + 32], err[CONF_PATH_MAX + 600],
	        addr[CONF_ADDR_MAX + 16];
	struct stat sb;
	rpc_server_config rc_cfg;
	int rc;

	if (realpath(o->data, d->data_dir) == NULL) {
		int e = errno;
		if (e != ENOENT && e != ENOTDIR) {
			fprintf(stderr,
			        "magmad: cannot access data dir %s: "
			        "%s\n",
			        o->data, strerror(e));
			return MAGMA_EACCES;
		}
		d->data_dir[0] = '\0';
	}
	if (d->data_dir[0] == '\0' || stat(d->data_dir, &sb) < 0 ||
	    !S_ISDIR(sb.st_mode)) {
		fprintf(stderr,
		        "magmad: no magma node in %s: run magmactl "
		        "init --data %s --network NAME --keyphrase-file FILE\n",
		        o->data, o->data);
		return MAGMA_ENOENT;
	}
	snprintf(path, sizeof(path), "%s/%s", d->data_dir, CONF_FILE);
	rc = conf_load(path, &d->cfg, err, sizeof(err));
	if (rc == MAGMA_ENOENT) {
		fprintf(stderr,
		        "magmad: no magma node in %s: run magmactl "
		        "init --data %s --network NAME --keyphrase-file FILE\n",
		        o->data, o->data);
		return rc;
	}
	if (rc < 0) {
		fprintf(stderr, "magmad: %s\n", err);
		return rc;
	}
	mlog_init("magmad", o->use_syslog,
	          o->log_level >= 0 ? o->log_level : d->cfg.log_level);
	rc = lock_pid_file(d);
	if (rc < 0)
		return rc;
	rc = read_keys(d);
	if (rc < 0)
		return rc;

	/* The store, and the data path over it (node_net.h). */
	rc = node_net_open(d);
	if (rc < 0)
		return rc;
	rc = fs_open_root(&d->fs, kv_net_kv(d->net), &d->keys,
	                  node_net_network_is_new(d));
	if (rc < 0) {
		fprintf(stderr, "magmad: cannot open the file system: %s\n",
		        magma_strerror(rc));
		return rc;
	}

	memset(&rc_cfg, 0, sizeof(rc_cfg));
	rc_cfg.addr = d->cfg.nfs_listen.host;
	rc_cfg.port = d->cfg.nfs_listen.port;
	rc_cfg.progs = progs;
	rc_cfg.nprogs = sizeof(progs) / sizeof(progs[0]);
	rc_cfg.daemon = d;
	rc_cfg.fs = d->fs;
	rc_cfg.keys = &d->keys;
	rc_cfg.use_rpcbind = d->cfg.rpcbind;
	rc = rpc_server_start(&d->rpc, &rc_cfg);
	conf_format_addr(&d->cfg.nfs_listen, addr, sizeof(addr));
	if (rc == MAGMA_EADDRINUSE) {
		fprintf(stderr, "magmad: nfs-listen %s is in use\n", addr);
		return rc;
	}
	if (rc < 0) {
		fprintf(stderr, "magmad: cannot serve NFS on %s: %s\n", addr,
		        magma_strerror(rc));
		return rc;
	}
	d->nfs_bound = d->cfg.nfs_listen;
	d->nfs_bound.port = rpc_server_port(d->rpc);

	rc = start_peer(d);
	if (rc < 0)
		return rc;
	rc = member_start(d); /* the network's table, joins, heartbeats */
	if (rc < 0)
		return rc;
	rc = node_net_start(d); /* route by the view; catch up; repair */
	if (rc < 0)
		return rc;

	snprintf(path, sizeof(path), "%s/%s", d->data_dir, CTL_SOCKET);
	rc = ctl_server_start(&d->ctl, path, ctl_handle, d);
	if (rc < 0) {
		fprintf(stderr, "magmad: cannot open control socket %s: %s\n",
		        path, magma_strerror(rc));
		return rc;
	}
	return 0;
}

static int parse_args(int argc, char **argv, magmad_opts *o)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "syslog", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o->data = NULL;
	o->log_level = -1;
	o->use_syslog = 0;
	while ((c = getopt_long(argc, argv, "d:l:shV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->data = optarg; break;
		case 'l':
			o->log_level = mlog_parse_level(optarg);
			if (o->log_level < 0) {
				fprintf(stderr, "magmad: --log-level: expected "
				                "error, warn, info or debug\n");
				return 2;
			}
			break;
		case 's': o->use_syslog = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("magmad %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "magmad: unexpected argument \"%s\"\n",
		        argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1; /* go on */
}

int main(int argc, char **argv)
{
	static struct magmad d; /* large: keep it off the stack */
	char defdir[CONF_PATH_MAX], host[CONF_ADDR_MAX + 2];
	magmad_opts o;
	sigset_t sigs;
	int rc, sig;

	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (o.data == NULL) {
		if (default_data_dir(defdir, sizeof(defdir)) < 0) {
			fprintf(stderr, "magmad: no --data DIR given and no "
			                "HOME to default to\n");
			return 2;
		}
		o.data = defdir;
	}
	mlog_init("magmad", o.use_syslog,
	          o.log_level >= 0 ? o.log_level : MLOG_INFO);

	/* Block the stop signals in every thread (they inherit the mask);
	 * main waits for them with sigwait, so no async handler exists. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	d.pid_fd = -1;
	pthread_rwlock_init(&d.table_lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &d.started);
	if (magmad_start(&d, &o) < 0) {
		magmad_stop(&d);
		return 1;
	}
	host_for_url(&d.nfs_bound, host, sizeof(host));
	LOG_I("node %s of network %s up, NFS on %s:%u", d.cfg.node_id,
	      d.cfg.network, host, (unsigned)d.nfs_bound.port);
	printf("magmad: serving network %s on %s:%u; mount with: mount -t nfs "
	       "-o vers=3,proto=tcp,port=%u,mountport=%u,nolock %s:/ /mnt\n",
	       d.cfg.network, host, (unsigned)d.nfs_bound.port,
	       (unsigned)d.nfs_bound.port, (unsigned)d.nfs_bound.port, host);
	fflush(stdout);

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			LOG_I("SIGHUP: nothing to reload (restart to apply "
			      "magma.conf changes)");
			continue;
		}
		break;
	}
	LOG_I("%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
	magmad_stop(&d);
	LOG_I("stopped");
	return 0;
}
