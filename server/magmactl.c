/* magmactl.c - the administrator's command line: create a node (init),
 * and ask a running magmad about itself (status, locate) over its
 * control socket DIR/magmad.sock (ctl.h).
 *
 * Exit codes: 0 success, 1 failure (message on stderr), 2 usage error. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "keys.h"
#include "merr.h"
#include "mlog.h"
#include "magmactl.h"
#include "store/store.h"

static const char *data_dir; /* --data, or the default */
static char default_dir[CONF_PATH_MAX];

static void usage(FILE *f)
{
	fprintf(f, "Usage: magmactl [--data DIR] COMMAND [OPTIONS]\n"
	           "\n"
	           "Commands:\n"
	           "  init      create a one-node network in DIR\n"
	           "  join      prepare a node in DIR that joins a network\n"
	           "  leave     take the running node out of its network\n"
	           "  status    show the running node and its network\n"
	           "  locate    show where each component of a path lives\n"
	           "\n"
	           "Options:\n"
	           "  -d, --data DIR   the node's data directory (default:\n"
	           "                   $XDG_STATE_HOME/magma/node or\n"
	           "                   ~/.local/state/magma/node)\n"
	           "  -h, --help       show this help (COMMAND --help: that\n"
	           "                   command's help)\n"
	           "  -V, --version    show the version\n"
	           "\n"
	           "See magmactl(8).\n");
}

static void usage_init(FILE *f)
{
	fprintf(f,
	        "Usage: magmactl init --data DIR --network NAME "
	        "--keyphrase-file FILE\n"
	        "                     [--generate-keyphrase] "
	        "[--nfs-listen ADDR:PORT]\n"
	        "                     [--peer-listen ADDR:PORT] "
	        "[--redundancy R]\n"
	        "                     [--store-size BYTES] [--no-rpcbind]\n"
	        "\n"
	        "Create a new one-node Magma network in DIR (made if "
	        "missing).\n"
	        "\n"
	        "  --network NAME          network name: [A-Za-z0-9._-], 1-64\n"
	        "  --keyphrase-file FILE   the network's secret; mode 0600\n"
	        "  --generate-keyphrase    create FILE with 32 random bytes\n"
	        "                          (hex) if it does not exist\n"
	        "  --nfs-listen ADDR:PORT  NFS/MOUNT address (default %s)\n"
	        "  --peer-listen ADDR:PORT node address (default %s)\n"
	        "  --redundancy R          copies of every key (default %d)\n"
	        "  --store-size BYTES      store capacity, K/M/G/T suffixes\n"
	        "                          (default 1T)\n"
	        "  --no-rpcbind            do not register with rpcbind\n",
	        CONF_DEFAULT_NFS, CONF_DEFAULT_PEER, CONF_DEFAULT_REDUNDANCY);
}

static void usage_status(FILE *f)
{
	fprintf(f, "Usage: magmactl [--data DIR] status [--json]\n"
	           "\n"
	           "Show the running node: network, node id, addresses, "
	           "state, table epoch,\nredundancy, members, store figures, "
	           "uptime and write verifier.\n"
	           "  --json   one JSON object, for scripts\n");
}

static void usage_locate(FILE *f)
{
	fprintf(f, "Usage: magmactl [--data DIR] locate PATH\n"
	           "\n"
	           "For each component of the absolute PATH (\"/\" first), "
	           "show its ring key,\nits home key when different, and "
	           "its owners (primary, then backups).\n");
}

static int default_data_dir(void)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(default_dir, sizeof(default_dir), "%s/magma/node",
		             xdg);
	else if (home && home[0] == '/')
		n = snprintf(default_dir, sizeof(default_dir),
		             "%s/.local/state/magma/node", home);
	else
		return MAGMA_ECONFIG;
	if (n < 0 || (size_t)n >= sizeof(default_dir))
		return MAGMA_ENAMETOOLONG;
	data_dir = default_dir;
	return 0;
}

static int join_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= len ? MAGMA_ENAMETOOLONG : 0;
}

int mctl_exists(const char *dir, const char *name)
{
	char path[CONF_PATH_MAX + 64];
	struct stat st;

	if (join_path(path, sizeof(path), dir, name) < 0)
		return 0;
	return lstat(path, &st) == 0;
}

int mctl_conf_add(const char *cmd, char *text, size_t cap, int *n,
                  const char *key, const char *val)
{
	if (strchr(val, '\n') != NULL) {
		fprintf(stderr, "magmactl %s: bad value for --%s\n", cmd, key);
		return -1;
	}
	*n += snprintf(text + *n, cap - (size_t)*n, "%s = %s\n", key, val);
	return (size_t)*n >= cap ? -1 : 0;
}

int mctl_conf_check(const char *cmd, const char *text, magma_conf *cfg)
{
	char err[512], where[32];
	const char *what;

	snprintf(where, sizeof(where), "magmactl %s", cmd);
	if (conf_parse(text, where, cfg, err, sizeof(err)) == 0)
		return 0;
	/* err is "magmactl CMD:N: key: what": keep "key: what". */
	what = strstr(err, ": ");
	fprintf(stderr, "magmactl %s: %s\n", cmd, what ? what + 2 : err);
	return -1;
}

int mctl_node_create(const char *cmd, const char *dabs, const magma_conf *cfg)
{
	char path[CONF_PATH_MAX + 64];
	store_config sc = { .dir = dabs, .map_size = cfg->store_size };
	store *st = NULL;
	int rc = store_open(&st, &sc);

	if (rc < 0) {
		fprintf(stderr,
		        "magmactl %s: cannot create the store in %s: %s\n", cmd,
		        dabs, magma_strerror(rc));
		return -1;
	}
	store_close(st);
	if (join_path(path, sizeof(path), dabs, CONF_FILE) == 0 &&
	    conf_write(path, cfg) == 0)
		return 0;
	fprintf(stderr, "magmactl %s: cannot write %s/%s\n", cmd, dabs,
	        CONF_FILE);
	/* Leave no half node behind, so that the command can be run again. */
	join_path(path, sizeof(path), dabs, "store.mdb");
	unlink(path);
	join_path(path, sizeof(path), dabs, "store.mdb-lock");
	unlink(path);
	return -1;
}

/* mkdir -p with mode for the directories it makes. */
static int mkdir_p(const char *path, mode_t mode)
{
	char buf[CONF_PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return MAGMA_ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return merr_from_errno(errno);
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

/* ---- init ---- */

/* Create FILE with 32 random bytes in hex, mode 0600; an existing file
 * is left alone (it is checked like any keyphrase file afterwards). */
static int generate_keyphrase(const char *file)
{
	uint8_t raw[32];
	char hex[2 * sizeof(raw) + 2], dir[CONF_PATH_MAX];
	const char *slash = strrchr(file, '/');
	int fd, rc = 0;
	size_t len;

	if (slash != NULL && slash != file &&
	    (size_t)(slash - file) < sizeof(dir)) {
		memcpy(dir, file, (size_t)(slash - file));
		dir[slash - file] = '\0';
		if (mkdir_p(dir, 0700) < 0) {
			fprintf(stderr, "magmactl: cannot create %s: %s\n", dir,
			        strerror(errno));
			return MAGMA_ESYS;
		}
	}
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0) {
		fprintf(stderr,
		        "magmactl: cannot create keyphrase file %s: "
		        "%s\n",
		        file, strerror(errno));
		return MAGMA_ESYS;
	}
	rc = keys_random(raw, sizeof(raw));
	if (rc == 0) {
		keys_hex(raw, sizeof(raw), hex);
		len = strlen(hex);
		hex[len++] = '\n';
		if (write(fd, hex, len) != (ssize_t)len || fsync(fd) < 0)
			rc = MAGMA_EIO;
	}
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(hex, sizeof(hex));
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "magmactl: cannot write keyphrase file %s\n",
		        file);
		unlink(file);
		return rc;
	}
	printf("magmactl: generated keyphrase file %s (mode 0600): keep it "
	       "secret and back it up\n",
	       file);
	return 0;
}

static int check_keyphrase(const char *file)
{
	char *phrase = NULL;
	size_t len = 0;
	int rc = keys_read_phrase_file(file, &phrase, &len);

	if (rc == MAGMA_ENOENT)
		fprintf(stderr,
		        "magmactl: keyphrase file %s does not exist "
		        "(--generate-keyphrase creates one)\n",
		        file);
	else if (rc == MAGMA_ECONFIG)
		fprintf(stderr,
		        "magmactl: keyphrase file %s must be a "
		        "private, non-empty regular file of at most 4 KiB "
		        "(chmod 600 %s)\n",
		        file, file);
	else if (rc < 0)
		fprintf(stderr, "magmactl: cannot read keyphrase file %s: %s\n",
		        file, magma_strerror(rc));
	if (phrase) {
		explicit_bzero(phrase, len);
		free(phrase);
	}
	return rc;
}

static int cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "network", required_argument, NULL, 'n' },
		{ "keyphrase-file", required_argument, NULL, 'k' },
		{ "generate-keyphrase", no_argument, NULL, 'g' },
		{ "nfs-listen", required_argument, NULL, 'N' },
		{ "peer-listen", required_argument, NULL, 'P' },
		{ "redundancy", required_argument, NULL, 'r' },
		{ "store-size", required_argument, NULL, 'S' },
		{ "no-rpcbind", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *network = NULL, *kfile = NULL;
	char text[8192], kabs[PATH_MAX], dabs[PATH_MAX];
	magma_conf cfg;
	int gen = 0, c, n = 0;
	uint8_t id[16];

	/* The options are checked by building the config text and parsing
	 * it: one validator for magmactl and magmad. */
	conf_defaults(&cfg);
	text[0] = '\0';
	while ((c = getopt_long(argc, argv, "+d:n:k:gh", longopts, NULL)) !=
	       -1) {
		const char *key = NULL;
		switch (c) {
		case 'd': data_dir = optarg; break;
		case 'n': network = optarg; break;
		case 'k': kfile = optarg; break;
		case 'g': gen = 1; break;
		case 'N': key = "nfs_listen"; break;
		case 'P': key = "peer_listen"; break;
		case 'r': key = "redundancy"; break;
		case 'S': key = "store_size"; break;
		case 'R':
			key = "rpcbind";
			optarg = (char *)"no";
			break;
		case 'h': usage_init(stdout); return 0;
		default: usage_init(stderr); return EXIT_USAGE;
		}
		if (key != NULL && mctl_conf_add("init", text, sizeof(text), &n,
		                                 key, optarg) < 0)
			return EXIT_USAGE;
	}
	if (optind != argc) {
		fprintf(stderr, "magmactl init: unexpected argument \"%s\"\n",
		        argv[optind]);
		usage_init(stderr);
		return EXIT_USAGE;
	}
	if (network == NULL || kfile == NULL || data_dir == NULL) {
		fprintf(stderr, "magmactl init: --data, --network and "
		                "--keyphrase-file are required\n");
		usage_init(stderr);
		return EXIT_USAGE;
	}
	if (!conf_valid_network(network)) {
		fprintf(stderr,
		        "magmactl init: network name \"%s\" is not "
		        "valid: use 1 to 64 of A-Z a-z 0-9 . _ -\n",
		        network);
		return EXIT_USAGE;
	}
	/* Validate the listen addresses etc. before touching the disk. */
	n += snprintf(text + n, sizeof(text) - (size_t)n,
	              "network = %s\nnode_id = %032x\nkeyphrase_file = /k\n",
	              network, 0);
	if ((size_t)n >= sizeof(text) ||
	    mctl_conf_check("init", text, &cfg) < 0)
		return EXIT_USAGE;

	if (mctl_exists(data_dir, CONF_FILE) ||
	    mctl_exists(data_dir, "store.mdb")) {
		fprintf(stderr,
		        "magmactl init: %s already holds a magma node "
		        "(%s/%s): refusing to overwrite it\n",
		        data_dir, data_dir, CONF_FILE);
		return 1;
	}
	if (gen && generate_keyphrase(kfile) < 0)
		return 1;
	if (realpath(kfile, kabs) == NULL) {
		fprintf(stderr, "magmactl init: keyphrase file %s: %s\n", kfile,
		        strerror(errno));
		return 1;
	}
	if (check_keyphrase(kabs) < 0)
		return 1;
	if (strlen(kabs) >= sizeof(cfg.keyphrase_file)) {
		fprintf(stderr, "magmactl init: keyphrase path too long\n");
		return 1;
	}
	strcpy(cfg.keyphrase_file, kabs);

	if (mkdir_p(data_dir, 0700) < 0 || realpath(data_dir, dabs) == NULL ||
	    access(dabs, W_OK) < 0) {
		fprintf(stderr,
		        "magmactl init: cannot create data dir %s: %s\n",
		        data_dir, strerror(errno));
		return 1;
	}
	if (keys_random(id, sizeof(id)) < 0) {
		fprintf(stderr, "magmactl init: no random bytes for a node "
		                "id\n");
		return 1;
	}
	keys_hex(id, sizeof(id), cfg.node_id);
	if (mctl_node_create("init", dabs, &cfg) < 0)
		return 1;
	printf("magmactl: created network %s with node %s in %s\n"
	       "start it with: magmad --data %s\n",
	       cfg.network, cfg.node_id, dabs, dabs);
	return 0;
}

/* ---- talking to magmad ---- */

/* Run request; on failure print why and return the exit code (1). */
static int call_daemon(const char *request, ctl_line_fn fn, void *arg)
{
	char sock[CONF_PATH_MAX + 64], err[1024];
	int rc;

	if (!mctl_exists(data_dir, CONF_FILE)) {
		fprintf(stderr,
		        "magmactl: no magma node in %s: run magmactl "
		        "init\n",
		        data_dir);
		return 1;
	}
	if (join_path(sock, sizeof(sock), data_dir, CTL_SOCKET) < 0) {
		fprintf(stderr, "magmactl: data dir path too long\n");
		return 1;
	}
	rc = ctl_call(sock, request, fn, arg, err, sizeof(err));
	if (rc == 0)
		return 0;
	if (rc == MAGMA_EUNAVAIL)
		fprintf(stderr, "magmactl: magmad is not running for %s\n",
		        data_dir);
	else if (rc == MAGMA_EACCES || rc == MAGMA_EPERM)
		fprintf(stderr,
		        "magmactl: %s: permission denied (run as the "
		        "user that runs magmad)\n",
		        sock);
	else
		fprintf(stderr, "magmactl: %s\n",
		        err[0] ? err : magma_strerror(rc));
	return 1;
}

typedef struct status_info {
	char network[80], node_id[40], version[32], data_dir[CONF_PATH_MAX];
	char nfs[80], peer[80], state[16], verifier[40];
	long pid;
	unsigned long epoch, redundancy;
	uint64_t used, free, total, records, uptime;
	char coord_id[40], coord_addr[80], movement[160];
	uint64_t mv_done, mv_total;
	int mv_active;
	int nmembers;
	int serving; /* -1: not reported */
	unsigned long repair_passes;
	char repair_last[128]; /* "ranges R differing D pulled P ..." */
	int have_move;         /* a move_rate line came */
	uint64_t move_rate, move_bytes, move_waited_ms;
	int have_reads; /* a data_reads line came */
	uint64_t reads_here, reads_away;
	struct {
		char id[40], addr[80], nfs[80], state[16], flags[32];
		char table_state[16]; /* "" from a magmad without it */
		double share;
		int reachable; /* -1: not reported */
	} m[4096];             /* RING_MEMBERS_MAX */
} status_info;

static void copy_val(char *dst, size_t len, const char *v)
{
	snprintf(dst, len, "%s", v);
}

static int status_line(void *arg, const char *line)
{
	status_info *s = arg;
	const char *eq = strchr(line, '=');
	char key[32];
	const char *v;

	if (eq == NULL || (size_t)(eq - line) >= sizeof(key))
		return 0; /* unknown lines are skipped: newer magmad */
	memcpy(key, line, (size_t)(eq - line));
	key[eq - line] = '\0';
	v = eq + 1;
	if (!strcmp(key, "network"))
		copy_val(s->network, sizeof(s->network), v);
	else if (!strcmp(key, "node_id"))
		copy_val(s->node_id, sizeof(s->node_id), v);
	else if (!strcmp(key, "version"))
		copy_val(s->version, sizeof(s->version), v);
	else if (!strcmp(key, "data_dir"))
		copy_val(s->data_dir, sizeof(s->data_dir), v);
	else if (!strcmp(key, "nfs_listen"))
		copy_val(s->nfs, sizeof(s->nfs), v);
	else if (!strcmp(key, "peer_listen"))
		copy_val(s->peer, sizeof(s->peer), v);
	else if (!strcmp(key, "state"))
		copy_val(s->state, sizeof(s->state), v);
	else if (!strcmp(key, "write_verifier"))
		copy_val(s->verifier, sizeof(s->verifier), v);
	else if (!strcmp(key, "pid"))
		s->pid = strtol(v, NULL, 10);
	else if (!strcmp(key, "epoch"))
		s->epoch = strtoul(v, NULL, 10);
	else if (!strcmp(key, "redundancy"))
		s->redundancy = strtoul(v, NULL, 10);
	else if (!strcmp(key, "store_bytes_used"))
		s->used = strtoull(v, NULL, 10);
	else if (!strcmp(key, "store_bytes_free"))
		s->free = strtoull(v, NULL, 10);
	else if (!strcmp(key, "store_bytes_total"))
		s->total = strtoull(v, NULL, 10);
	else if (!strcmp(key, "store_records"))
		s->records = strtoull(v, NULL, 10);
	else if (!strcmp(key, "uptime"))
		s->uptime = strtoull(v, NULL, 10);
	else if (!strcmp(key, "serving"))
		s->serving = (int)strtol(v, NULL, 10);
	else if (!strcmp(key, "repair_passes"))
		s->repair_passes = strtoul(v, NULL, 10);
	else if (!strcmp(key, "repair_last"))
		copy_val(s->repair_last, sizeof(s->repair_last), v);
	else if (!strcmp(key, "move_rate"))
		s->have_move = sscanf(v, "%" SCNu64 " %" SCNu64 " %" SCNu64,
		                      &s->move_rate, &s->move_bytes,
		                      &s->move_waited_ms) == 3;
	else if (!strcmp(key, "data_reads"))
		s->have_reads = sscanf(v, "%" SCNu64 " %" SCNu64,
		                       &s->reads_here, &s->reads_away) == 2;
	else if (!strcmp(key, "coordinator"))
		(void)sscanf(v, "%39s %79s", s->coord_id, s->coord_addr);
	else if (!strcmp(key, "movement")) {
		int at = 0;
		s->mv_active = strcmp(v, "none") != 0 &&
		               sscanf(v, "%" SCNu64 " %" SCNu64 " %n",
		                      &s->mv_done, &s->mv_total, &at) >= 2;
		copy_val(s->movement, sizeof(s->movement),
		         s->mv_active ? v + at : "none");
	} else if (!strcmp(key, "member") &&
	           s->nmembers < (int)(sizeof(s->m) / sizeof(s->m[0]))) {
		int i = s->nmembers, got;
		char reach[16] = "";
		/* state: the view's (down when unreachable); then, from a
		 * newer magmad, the table's state and reachability */
		got = sscanf(v, "%39s %79s %79s %15s %lf %31s %15s %15s",
		             s->m[i].id, s->m[i].addr, s->m[i].nfs,
		             s->m[i].state, &s->m[i].share, s->m[i].flags,
		             s->m[i].table_state, reach);
		if (got >= 6) {
			if (got < 8)
				s->m[i].table_state[0] = '\0';
			s->m[i].reachable =
			        got < 8 ? -1 : strcmp(reach, "reachable") == 0;
			s->nmembers++;
		}
	}
	return 0;
}

static void human_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = { "B",   "KiB", "MiB", "GiB",
		                            "TiB", "PiB", "EiB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
}

/* A JSON string; the values here are plain, but escape anyway. */
static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void status_json(const status_info *s)
{
	printf("{\"network\": ");
	json_str(s->network);
	printf(", \"node_id\": ");
	json_str(s->node_id);
	printf(", \"version\": ");
	json_str(s->version);
	printf(", \"pid\": %ld, \"data_dir\": ", s->pid);
	json_str(s->data_dir);
	printf(", \"state\": ");
	json_str(s->state);
	printf(", \"nfs_listen\": ");
	json_str(s->nfs);
	printf(", \"peer_listen\": ");
	json_str(s->peer);
	printf(", \"epoch\": %lu, \"redundancy\": %lu, \"members\": [",
	       s->epoch, s->redundancy);
	for (int i = 0; i < s->nmembers; i++) {
		printf("%s{\"id\": ", i ? ", " : "");
		json_str(s->m[i].id);
		printf(", \"address\": ");
		json_str(s->m[i].addr);
		printf(", \"state\": ");
		json_str(s->m[i].state);
		if (s->m[i].table_state[0]) {
			printf(", \"table_state\": ");
			json_str(s->m[i].table_state);
		} else {
			printf(", \"table_state\": null");
		}
		printf(", \"reachable\": %s", s->m[i].reachable < 0 ? "null"
		                              : s->m[i].reachable   ? "true"
		                                                    : "false");
		printf(", \"nfs\": ");
		json_str(strcmp(s->m[i].nfs, "-") ? s->m[i].nfs : "");
		printf(", \"share\": %.1f, \"self\": %s, \"coordinator\": "
		       "%s}",
		       s->m[i].share,
		       strstr(s->m[i].flags, "self") ? "true" : "false",
		       strstr(s->m[i].flags, "coordinator") ? "true" : "false");
	}
	printf("], \"coordinator\": {\"id\": ");
	json_str(s->coord_id);
	printf(", \"address\": ");
	json_str(s->coord_addr);
	printf("}, \"movement\": ");
	if (s->mv_active) {
		printf("{\"what\": ");
		json_str(s->movement);
		printf(", \"done\": %" PRIu64 ", \"total\": %" PRIu64 "}",
		       s->mv_done, s->mv_total);
	} else {
		printf("null");
	}
	if (s->have_move)
		printf(", \"move_rate\": {\"limit\": %" PRIu64
		       ", \"bytes_paced\": %" PRIu64 ", \"waited_ms\": %" PRIu64
		       "}",
		       s->move_rate, s->move_bytes, s->move_waited_ms);
	if (s->have_reads)
		printf(", \"data_reads\": {\"here\": %" PRIu64
		       ", \"other_owners\": %" PRIu64 "}",
		       s->reads_here, s->reads_away);
	printf(", \"store\": {\"bytes_used\": %" PRIu64
	       ", \"bytes_free\": %" PRIu64 ", \"bytes_total\": %" PRIu64
	       ", \"records\": %" PRIu64 "}, \"uptime_seconds\": %" PRIu64
	       ", \"write_verifier\": ",
	       s->used, s->free, s->total, s->records, s->uptime);
	json_str(s->verifier);
	printf("}\n");
}

static void status_text(const status_info *s)
{
	char used[32], total[32], avail[32];
	uint64_t up = s->uptime;

	human_bytes(s->used, used, sizeof(used));
	human_bytes(s->total, total, sizeof(total));
	human_bytes(s->free, avail, sizeof(avail));
	printf("network:        %s\n", s->network);
	printf("node:           %s\n", s->node_id);
	printf("state:          %s\n", s->state);
	printf("nfs listen:     %s\n", s->nfs);
	printf("peer listen:    %s\n", s->peer);
	printf("table epoch:    %lu\n", s->epoch);
	printf("redundancy:     %lu", s->redundancy);
	if ((unsigned long)s->nmembers < s->redundancy)
		printf(" (%d member%s: %d cop%s of each key until more nodes "
		       "join)",
		       s->nmembers, s->nmembers == 1 ? "" : "s", s->nmembers,
		       s->nmembers == 1 ? "y" : "ies");
	printf("\nmembers:        %d\n", s->nmembers);
	/* The state column is the table's (the view's from an older
	 * magmad); "unreachable" among the flags: an owner this node's
	 * heartbeats cannot reach is "up ... unreachable", one the
	 * coordinator took out after down_grace "down". */
	for (int i = 0; i < s->nmembers; i++) {
		char flags[48] = "";
		if (strcmp(s->m[i].flags, "-") != 0)
			snprintf(flags, sizeof(flags), "%s", s->m[i].flags);
		if (s->m[i].reachable == 0)
			snprintf(flags + strlen(flags),
			         sizeof(flags) - strlen(flags), "%sunreachable",
			         flags[0] ? "," : "");
		printf("  %s  %-21s  %-7s  %5.1f%% of the ring%s%s\n",
		       s->m[i].id, s->m[i].addr,
		       s->m[i].table_state[0] ? s->m[i].table_state
		                              : s->m[i].state,
		       s->m[i].share, flags[0] ? "  " : "", flags);
	}
	printf("coordinator:    %s %s\n", s->coord_id, s->coord_addr);
	if (s->mv_active)
		printf("data movement:  %s: %" PRIu64 " of %" PRIu64 "\n",
		       s->movement, s->mv_done, s->mv_total);
	else
		printf("data movement:  none\n");
	printf("store:          %s used, %s free of %s\n", used, avail, total);
	printf("records:        %" PRIu64 "\n", s->records);
	if (s->serving >= 0)
		printf("repair:         %s; %lu passes; last: %s\n",
		       s->serving ? "serving as primary"
		                  : "catching up (not serving as primary)",
		       s->repair_passes,
		       s->repair_last[0] ? s->repair_last : "none");
	if (s->have_move) {
		char lim[32], moved[32];
		human_bytes(s->move_rate, lim, sizeof(lim));
		human_bytes(s->move_bytes, moved, sizeof(moved));
		printf("move rate:      %s%s; %s pulled at it, %.1f s waited\n",
		       s->move_rate ? lim : "no limit",
		       s->move_rate ? "/s" : "", moved,
		       (double)s->move_waited_ms / 1000);
	}
	if (s->have_reads)
		printf("data reads:     %" PRIu64 " from this node's copies, "
		       "%" PRIu64 " from other owners\n",
		       s->reads_here, s->reads_away);
	printf("uptime:         %" PRIu64 "d %02" PRIu64 ":%02" PRIu64
	       ":%02" PRIu64 "\n",
	       up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);
	printf("write verifier: %s\n", s->verifier);
	printf("magmad:         pid %ld, version %s, data %s\n", s->pid,
	       s->version, s->data_dir);
}

static int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	status_info *s;
	int json = 0, c, rc;

	while ((c = getopt_long(argc, argv, "+d:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': data_dir = optarg; break;
		case 'j': json = 1; break;
		case 'h': usage_status(stdout); return 0;
		default: usage_status(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage_status(stderr);
		return EXIT_USAGE;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return 1;
	s->serving = -1;
	rc = call_daemon("status", status_line, s);
	if (rc == 0) {
		if (json)
			status_json(s);
		else
			status_text(s);
	}
	free(s);
	return rc;
}

typedef struct locate_out {
	int components;
	int owners; /* owners printed for the current component */
} locate_out;

static int locate_line(void *arg, const char *line)
{
	locate_out *lo = arg;
	const char *sp = strchr(line, ' ');
	const char *v = sp ? sp + 1 : "";
	size_t klen = sp ? (size_t)(sp - line) : strlen(line);

#define KEY_IS(k) (klen == strlen(k) && strncmp(line, k, klen) == 0)
	if (KEY_IS("component")) {
		printf("%s%s\n", lo->components ? "\n" : "", v);
		lo->components++;
		lo->owners = 0;
	} else if (KEY_IS("ring")) {
		printf("  ring key  %s\n", v);
	} else if (KEY_IS("home")) {
		printf("  home key  %s (renamed or linked: its data lives "
		       "here)\n",
		       v);
	} else if (KEY_IS("type")) {
		printf("  type      %s\n", v);
	} else if (KEY_IS("primary")) {
		printf("  primary   %s\n", v);
		lo->owners++;
	} else if (KEY_IS("backup")) {
		printf("  backup    %s\n", v);
		lo->owners++;
	} else if (KEY_IS("backups")) {
		printf("  backups   %s\n", v);
	}
#undef KEY_IS
	return 0;
}

static int cmd_locate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char req[CTL_LINE_MAX];
	locate_out lo = { 0, 0 };
	int c;

	while ((c = getopt_long(argc, argv, "+d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': data_dir = optarg; break;
		case 'h': usage_locate(stdout); return 0;
		default: usage_locate(stderr); return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		usage_locate(stderr);
		return EXIT_USAGE;
	}
	if (argv[optind][0] != '/') {
		fprintf(stderr,
		        "magmactl locate: %s: not an absolute path "
		        "(paths are from the root of the network, e.g. "
		        "/etc/hostname)\n",
		        argv[optind]);
		return EXIT_USAGE;
	}
	if (strchr(argv[optind], '\n') ||
	    snprintf(req, sizeof(req), "locate %s", argv[optind]) >=
	            (int)sizeof(req)) {
		fprintf(stderr, "magmactl locate: path too long or holds a "
		                "newline\n");
		return EXIT_USAGE;
	}
	/* Line-buffered: the walk so far comes before an error message. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return call_daemon(req, locate_line, &lo);
}

static int leave_line(void *arg, const char *line)
{
	(void)arg;
	printf("magmactl: %s\n", line);
	return 0;
}

static int cmd_leave(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int force = 0, c;

	while ((c = getopt_long(argc, argv, "+d:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': data_dir = optarg; break;
		case 'f': force = 1; break;
		case 'h':
			printf("Usage: magmactl [--data DIR] leave [--force]\n"
			       "\nMark the running node leaving; --force "
			       "removes it from the table\nat once, without "
			       "handing its data off.  See magmactl(8).\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return EXIT_USAGE;
	return call_daemon(force ? "leave --force" : "leave", leave_line, NULL);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd;
	int c;

	/* Library errors (keys, store) are printed as they happen. */
	mlog_init("magmactl", 0, MLOG_ERR);
	while ((c = getopt_long(argc, argv, "+d:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': data_dir = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("magmactl %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0; /* glibc: restart getopt for the command's options */
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc, argv);
	if (strcmp(cmd, "join") == 0)
		return magmactl_join(argc, argv, data_dir);
	if (data_dir == NULL && default_data_dir() < 0) {
		fprintf(stderr, "magmactl: no --data DIR given and no HOME to "
		                "default to\n");
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "status") == 0)
		return cmd_status(argc, argv);
	if (strcmp(cmd, "locate") == 0)
		return cmd_locate(argc, argv);
	if (strcmp(cmd, "leave") == 0)
		return cmd_leave(argc, argv);
	fprintf(stderr, "magmactl: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
