/* conf.h - a node's configuration: DIR/magma.conf.
 *
 * The file is "key = value" lines; blank lines and lines starting with
 * '#' are ignored.  Keys (defaults in brackets):
 *   network         network name, [A-Za-z0-9._-]{1,64}     (required)
 *   node_id         32 hex digits (random 128 bits)         (required)
 *   keyphrase_file  absolute path of the keyphrase file     (required)
 *   nfs_listen      numeric IP:port of the NFS/MOUNT port   [127.0.0.1:2049]
 *   peer_listen     numeric IP:port of the node port        [127.0.0.1:7390]
 *   redundancy      copies of every key, 1..16              [2]
 *   store_size      store capacity in bytes (K/M/G/T suffix
 *                   for powers of 1024 accepted)            [1 TiB]
 *   rpcbind         yes/no: register with rpcbind           [yes]
 *   log_level       error, warn, info or debug              [info]
 *   coordinator     numeric IP:port of the peer port of the node that
 *                   makes table changes (member.h); unset on the
 *                   founding node, which is the coordinator itself  []
 *   heartbeat_interval  time between heartbeats (ms or s suffix;
 *                   a bare number is seconds)                    [1s]
 *   down_after      silence after which a member is down        [3s]
 *   down_grace      silence after which the coordinator marks a member
 *                   down in the table, so that the others restore r
 *                   copies (member_hb.c); 1s..3600s, or off     [300s]
 *   op_timeout      bound of one data op over the network: after it
 *                   without an answer from any owner the op fails
 *                   (NFS3ERR_IO), 1s..600s                      [10s]
 *   repair_interval time between anti-entropy passes, 1s..3600s [60s]
 *   tombstone_age   age at which deletion records are purged, seconds
 *                   (or with s, m, h, d), 60s..3650d             [1d]
 *   move_rate       bytes per second of records this node pulls to
 *                   move data (joins, leaves, re-replication, repair
 *                   while serving; repair.h), K/M/G/T suffixes, an
 *                   optional "/s"; at least 1K, or off (0)     [64M]
 * IPv6 addresses are written in brackets: [::1]:2049.  Port 0 means any
 * free port (tests). Unknown keys and repeated keys are errors. */
#ifndef MAGMA_CONF_H
#define MAGMA_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_FILE "magma.conf"
#define CONF_NETWORK_MAX 64
#define CONF_NODE_ID_HEX 32
#define CONF_ADDR_MAX 64 /* numeric address without brackets */
#define CONF_PATH_MAX 4096
#define CONF_LINE_MAX 4200 /* longest line accepted */

#define CONF_DEFAULT_NFS "127.0.0.1:2049"
#define CONF_DEFAULT_PEER "127.0.0.1:7390"
#define CONF_DEFAULT_REDUNDANCY 2
#define CONF_DEFAULT_STORE_SIZE (1ULL << 40)
#define CONF_REDUNDANCY_MAX 16
#define CONF_DEFAULT_HEARTBEAT_MS 1000
#define CONF_DEFAULT_DOWN_AFTER_MS 3000
#define CONF_DEFAULT_DOWN_GRACE_MS 300000
#define CONF_TIME_MS_MAX 3600000
#define CONF_DEFAULT_OP_TIMEOUT_MS 10000
#define CONF_DEFAULT_REPAIR_MS 60000
#define CONF_DEFAULT_TOMB_AGE_S 86400
/* About half of a 1 Gb/s link (119 MB/s) and well under a disk's
 * sequential rate: a join or re-replication leaves clients the rest,
 * and still refills a 1 TiB node in under 5 hours.  Faster networks
 * raise it. */
#define CONF_DEFAULT_MOVE_RATE (64ULL << 20)
#define CONF_MOVE_RATE_MIN 1024

/* A listen address: numeric host and port. */
typedef struct conf_addr {
	char host[CONF_ADDR_MAX];
	uint16_t port;
	int v6; /* host is IPv6 (printed in brackets) */
} conf_addr;

typedef struct magma_conf {
	char network[CONF_NETWORK_MAX + 1];
	char node_id[CONF_NODE_ID_HEX + 1];
	char keyphrase_file[CONF_PATH_MAX];
	conf_addr nfs_listen;
	conf_addr peer_listen;
	unsigned redundancy;
	uint64_t store_size;
	int rpcbind;                          /* 1 yes, 0 no */
	int log_level;                        /* enum mlog_level */
	char coordinator[CONF_ADDR_MAX + 16]; /* "ip:port", "" for self */
	unsigned heartbeat_ms;       /* heartbeat_interval, 10..3600000 */
	unsigned down_after_ms;      /* down_after, 10..3600000 */
	unsigned down_grace_ms;      /* down_grace, 1000..3600000; 0 off */
	unsigned op_timeout_ms;      /* op_timeout, 1000..600000 */
	unsigned repair_interval_ms; /* repair_interval, 1000..3600000 */
	uint64_t tombstone_age_s;    /* tombstone_age, 60..315360000 */
	uint64_t move_rate;          /* move_rate, bytes/s >= 1024; 0 off */
} magma_conf;

/* Fill every field with its default (required fields empty). */
void conf_defaults(magma_conf *cfg);

/* Parse configuration text (NUL-terminated).  name is used in error
 * messages, written to err as "name:line: what" (err may be NULL).
 * Returns 0 or MAGMA_ECONFIG.  *cfg is fully written on success only. */
int conf_parse(const char *text, const char *name, magma_conf *cfg, char *err,
               size_t errlen);

/* Read and parse path.  MAGMA_ENOENT when the file does not exist,
 * MAGMA_ECONFIG (err says where and what) when it is invalid. */
int conf_load(const char *path, magma_conf *cfg, char *err, size_t errlen);

/* Write cfg to path atomically (temporary file, fsync, rename), mode
 * 0644: the file holds no secret.  Returns 0 or a MAGMA_E* code. */
int conf_write(const char *path, const magma_conf *cfg);

/* Parse "IPv4:port" or "[IPv6]:port" with a numeric address.
 * Returns 0 or MAGMA_EINVAL. */
int conf_parse_addr(const char *s, conf_addr *out);

/* Format an address as it is parsed: "1.2.3.4:5" or "[::1]:5". */
void conf_format_addr(const conf_addr *a, char *buf, size_t len);

/* Non-zero when name is a valid network name. */
int conf_valid_network(const char *name);

/* Non-zero when s is 32 lower- or upper-case hex digits. */
int conf_valid_node_id(const char *s);

#endif
