/* magmactl_join.c - `magmactl join`: prepare a new node that joins an
 * existing network through one of its members (magmactl(8)).
 *
 * Everything is checked with the peer before anything is written: the
 * TLS handshake proves both hold the same join token, which is derived
 * from the keyphrase alone (wrong keyphrase: the handshake fails); a
 * HELLO without a network name gets the network's name from the peer,
 * inside TLS; a second HELLO with it and a JOIN probe, which names the
 * coordinator and gives the table (redundancy, addresses in use),
 * confirm it.  Only then are DIR, its store and magma.conf made; on any
 * failure DIR is left as it was. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "keys.h"
#include "magma_peer.h"
#include "magmactl.h"
#include "member_rpc.h"
#include "member_table.h"
#include "merr.h"
#include "peer_client.h"

static void usage_join(FILE *f)
{
	fprintf(f,
	        "Usage: magmactl join --data DIR --keyphrase-file FILE "
	        "--peer HOST:PORT\n"
	        "                     [--nfs-listen ADDR:PORT] "
	        "[--peer-listen ADDR:PORT]\n"
	        "                     [--store-size BYTES] [--no-rpcbind] "
	        "[--network NAME]\n"
	        "\n"
	        "Prepare a new node in DIR that joins the network of the "
	        "member at\nHOST:PORT (its peer address).  The keyphrase is "
	        "checked with the peer at\nonce and the network's name is "
	        "learnt from it; then `magmad --data DIR`\nruns the node, "
	        "which enrolls at its first start.\n"
	        "\n"
	        "  --nfs-listen ADDR:PORT  NFS/MOUNT address (default %s)\n"
	        "  --peer-listen ADDR:PORT node address (default %s)\n"
	        "  --store-size BYTES      store capacity (default 1T)\n"
	        "  --no-rpcbind            do not register with rpcbind\n"
	        "  --network NAME          fail unless the peer's network is "
	        "NAME\n",
	        CONF_DEFAULT_NFS, CONF_DEFAULT_PEER);
}

/* The join token of the keyphrase in kfile. */
static int derive(const char *kfile, uint8_t token[KEYS_LEN])
{
	char *phrase = NULL;
	size_t len = 0;
	int rc = keys_read_phrase_file(kfile, &phrase, &len);

	if (rc == MAGMA_ENOENT)
		fprintf(stderr,
		        "magmactl join: keyphrase file %s does not "
		        "exist\n",
		        kfile);
	else if (rc == MAGMA_ECONFIG)
		fprintf(stderr,
		        "magmactl join: keyphrase file %s must be a private, "
		        "non-empty regular file of at most 4 KiB (chmod 600 "
		        "%s)\n",
		        kfile, kfile);
	else if (rc < 0)
		fprintf(stderr,
		        "magmactl join: cannot read keyphrase file %s: "
		        "%s\n",
		        kfile, magma_strerror(rc));
	if (rc < 0)
		return rc;
	rc = keys_derive_join(phrase, len, token);
	explicit_bzero(phrase, len);
	free(phrase);
	return rc;
}

/* Learn the network's name from the peer: a HELLO without one is
 * answered MAGMA_ECONFIG, with the peer's own description (magma_peer.x).
 * want, if not NULL, is the name --network expects.  Copies the name to
 * me and cfg. */
static int learn_network(peer_client *pc, const char *peer, const char *want,
                         peer_node *me, magma_conf *cfg)
{
	peer_node them;
	int rc;

	memset(&them, 0, sizeof(them));
	me->network[0] = '\0';
	rc = peer_call_hello(pc, me, &them);
	if (rc != 0 && rc != MAGMA_ECONFIG) {
		fprintf(stderr, "magmactl join: HELLO to %s failed: %s\n", peer,
		        magma_strerror(rc));
		return rc < 0 ? rc : MAGMA_EPROTO;
	}
	if (!conf_valid_network(them.network)) {
		fprintf(stderr,
		        "magmactl join: %s did not give a valid network "
		        "name\n",
		        peer);
		return MAGMA_EPROTO;
	}
	if (want != NULL && strcmp(want, them.network) != 0) {
		fprintf(stderr,
		        "magmactl join: %s is a member of network \"%s\", "
		        "not \"%s\" (--network): nothing done\n",
		        peer, them.network, want);
		return MAGMA_ECONFIG;
	}
	snprintf(me->network, sizeof(me->network), "%s", them.network);
	snprintf(cfg->network, sizeof(cfg->network), "%s", them.network);
	return 0;
}

/* Ask the peer: handshake, the network's name, HELLO, JOIN probe. */
static int ask_peer(const char *peer, const uint8_t token[KEYS_LEN],
                    const uint8_t id[16], const char *want, magma_conf *cfg,
                    member_answer *ans)
{
	peer_client_opts o = { 3000, 5000, 10000 };
	peer_client *pc = NULL;
	peer_node me, them;
	char nfs[CONF_ADDR_MAX + 16];
	int rc;

	rc = peer_client_new(peer, token, id, &o, &pc);
	if (rc < 0) {
		fprintf(stderr,
		        "magmactl join: --peer %s: expected a numeric "
		        "IP:port (IPv6 as [addr]:port)\n",
		        peer);
		return rc;
	}
	rc = peer_client_connect(pc);
	if (rc == MAGMA_ECRYPTO) {
		fprintf(stderr,
		        "magmactl join: %s refused the handshake: wrong "
		        "keyphrase\n",
		        peer);
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, "magmactl join: cannot reach %s: %s\n", peer,
		        rc == MAGMA_EUNAVAIL ? "no answer (is its magmad "
		                               "running, and is that its "
		                               "peer address?)"
		                             : magma_strerror(rc));
		goto out;
	}
	memset(&me, 0, sizeof(me));
	memcpy(me.id, id, 16);
	conf_format_addr(&cfg->peer_listen, me.peer, sizeof(me.peer));
	conf_format_addr(&cfg->nfs_listen, nfs, sizeof(nfs));
	if (strlen(nfs) >= sizeof(me.nfs)) {
		rc = MAGMA_EINVAL;
		goto out;
	}
	memcpy(me.nfs, nfs, strlen(nfs) + 1);
	me.proto_version = PEER_PROTO_VERSION;
	rc = learn_network(pc, peer, want, &me, cfg);
	if (rc < 0)
		goto out;
	rc = peer_call_hello(pc, &me, &them);
	if (rc < 0) {
		fprintf(stderr, "magmactl join: HELLO to %s failed: %s\n", peer,
		        magma_strerror(rc));
		goto out;
	}
	rc = member_call_join(pc, &me, 0, 1, 0, ans);
	if (rc == MAGMA_EUNAVAIL)
		fprintf(stderr,
		        "magmactl join: %s answers, but the network's "
		        "coordinator is unreachable: joins are possible only "
		        "while it runs\n",
		        peer);
	else if (rc < 0)
		fprintf(stderr, "magmactl join: %s: %s\n", peer,
		        magma_strerror(rc));
out:
	peer_client_free(pc);
	return rc;
}

int magmactl_join(int argc, char **argv, const char *data_dir)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "network", required_argument, NULL, 'n' },
		{ "keyphrase-file", required_argument, NULL, 'k' },
		{ "peer", required_argument, NULL, 'p' },
		{ "nfs-listen", required_argument, NULL, 'N' },
		{ "peer-listen", required_argument, NULL, 'P' },
		{ "store-size", required_argument, NULL, 'S' },
		{ "no-rpcbind", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *network = NULL, *kfile = NULL, *peer = NULL;
	char text[8192], kabs[PATH_MAX], dabs[PATH_MAX], pa[CONF_ADDR_MAX + 16];
	magma_conf cfg;
	uint8_t token[KEYS_LEN];
	member_answer ans = { .table = NULL };
	ring_member other;
	struct stat sb;
	uint8_t id[16];
	unsigned red = 0;
	int c, n = 0, rc, made_dir = 0;

	conf_defaults(&cfg);
	text[0] = '\0';
	while ((c = getopt_long(argc, argv, "+d:n:k:p:h", longopts, NULL)) !=
	       -1) {
		const char *key = NULL;
		switch (c) {
		case 'd': data_dir = optarg; break;
		case 'n': network = optarg; break;
		case 'k': kfile = optarg; break;
		case 'p': peer = optarg; break;
		case 'N': key = "nfs_listen"; break;
		case 'P': key = "peer_listen"; break;
		case 'S': key = "store_size"; break;
		case 'R':
			key = "rpcbind";
			optarg = (char *)"no";
			break;
		case 'h': usage_join(stdout); return 0;
		default: usage_join(stderr); return EXIT_USAGE;
		}
		if (key != NULL && mctl_conf_add("join", text, sizeof(text), &n,
		                                 key, optarg) < 0)
			return EXIT_USAGE;
	}
	if (optind != argc || kfile == NULL || peer == NULL ||
	    data_dir == NULL) {
		fprintf(stderr, "magmactl join: --data, --keyphrase-file and "
		                "--peer are required\n");
		usage_join(stderr);
		return EXIT_USAGE;
	}
	if (network != NULL && !conf_valid_network(network)) {
		fprintf(stderr,
		        "magmactl join: --network %s: not a valid network "
		        "name ([A-Za-z0-9._-], 1 to %d characters)\n",
		        network, CONF_NETWORK_MAX);
		return EXIT_USAGE;
	}
	/* A placeholder network until the peer names it (ask_peer). */
	n += snprintf(text + n, sizeof(text) - (size_t)n,
	              "network = unknown\nnode_id = %032x\n"
	              "keyphrase_file = /k\n",
	              0);
	if ((size_t)n >= sizeof(text) ||
	    mctl_conf_check("join", text, &cfg) < 0)
		return EXIT_USAGE;
	if (mctl_exists(data_dir, CONF_FILE)) {
		fprintf(stderr,
		        "magmactl join: %s already holds a magma node: "
		        "refusing to overwrite it\n",
		        data_dir);
		return 1;
	}
	if (realpath(kfile, kabs) == NULL) {
		fprintf(stderr, "magmactl join: keyphrase file %s: %s\n", kfile,
		        strerror(errno));
		return 1;
	}
	snprintf(cfg.keyphrase_file, sizeof(cfg.keyphrase_file), "%s", kabs);
	if (keys_random(id, sizeof(id)) < 0 || derive(kabs, token) < 0)
		return 1;
	keys_hex(id, sizeof(id), cfg.node_id);

	/* The network first: nothing is written unless it says yes.  The
	 * content keys are not needed here: magmad derives them from the
	 * keyphrase and the name written to magma.conf. */
	rc = ask_peer(peer, token, id, network, &cfg, &ans);
	explicit_bzero(token, sizeof(token));
	if (rc < 0)
		return 1;
	conf_format_addr(&cfg.peer_listen, pa, sizeof(pa));
	if (member_table_find_peer(ans.table, pa, &other) == 0) {
		fprintf(stderr,
		        "magmactl join: peer address %s is already used by "
		        "a member of the network: choose another "
		        "--peer-listen\n",
		        pa);
		goto fail;
	}
	(void)ring_redundancy(ans.table, &red);
	cfg.redundancy = red ? red : cfg.redundancy;
	snprintf(cfg.coordinator, sizeof(cfg.coordinator), "%s",
	         ans.coord_addr);

	if (stat(data_dir, &sb) < 0) {
		if (mkdir(data_dir, 0700) < 0) {
			fprintf(stderr,
			        "magmactl join: cannot create data dir %s: "
			        "%s\n",
			        data_dir, strerror(errno));
			goto fail;
		}
		made_dir = 1;
	}
	if (realpath(data_dir, dabs) == NULL || access(dabs, W_OK) < 0) {
		fprintf(stderr, "magmactl join: data dir %s: %s\n", data_dir,
		        strerror(errno));
		goto fail;
	}
	if (mctl_node_create("join", dabs, &cfg) < 0)
		goto fail;
	printf("magmactl: node %s of network %s prepared in %s (redundancy "
	       "%u, coordinator %s)\nstart it with: magmad --data %s\n",
	       cfg.node_id, cfg.network, dabs, cfg.redundancy, cfg.coordinator,
	       dabs);
	ring_free(ans.table);
	return 0;
fail:
	ring_free(ans.table);
	if (made_dir)
		rmdir(data_dir);
	return 1;
}
