/* conf.c - parse, validate and write DIR/magma.conf (see conf.h).
 * Every error names the file and line, so an administrator can fix the
 * file without reading the source. */
#include "config.h"

#include "conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "merr.h"
#include "mlog.h"

#define CONF_FILE_MAX (64 * 1024) /* a config file is small */

void conf_defaults(magma_conf *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	conf_parse_addr(CONF_DEFAULT_NFS, &cfg->nfs_listen);
	conf_parse_addr(CONF_DEFAULT_PEER, &cfg->peer_listen);
	cfg->redundancy = CONF_DEFAULT_REDUNDANCY;
	cfg->store_size = CONF_DEFAULT_STORE_SIZE;
	cfg->rpcbind = 1;
	cfg->log_level = MLOG_INFO;
	cfg->heartbeat_ms = CONF_DEFAULT_HEARTBEAT_MS;
	cfg->down_after_ms = CONF_DEFAULT_DOWN_AFTER_MS;
	cfg->down_grace_ms = CONF_DEFAULT_DOWN_GRACE_MS;
	cfg->op_timeout_ms = CONF_DEFAULT_OP_TIMEOUT_MS;
	cfg->repair_interval_ms = CONF_DEFAULT_REPAIR_MS;
	cfg->tombstone_age_s = CONF_DEFAULT_TOMB_AGE_S;
	cfg->move_rate = CONF_DEFAULT_MOVE_RATE;
}

/* A duration in seconds: digits with s, m, h or d (bare: seconds). */
static int conf_parse_age(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return MAGMA_EINVAL;
	for (; isdigit((unsigned char)*p) && v <= 315360000; p++)
		v = v * 10 + (unsigned)(*p - '0');
	if (*p == 'm')
		mul = 60;
	else if (*p == 'h')
		mul = 3600;
	else if (*p == 'd')
		mul = 86400;
	else if (*p != 's' && *p != '\0')
		return MAGMA_EINVAL;
	if (*p && p[1])
		return MAGMA_EINVAL;
	v *= mul;
	if (v < 60 || v > 315360000)
		return MAGMA_ERANGE;
	*out = v;
	return 0;
}

/* A time: digits with "ms" or "s" (a bare number is seconds), in ms. */
static int conf_parse_ms(const char *s, unsigned *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return MAGMA_EINVAL;
	for (; isdigit((unsigned char)*p) && v <= CONF_TIME_MS_MAX; p++)
		v = v * 10 + (unsigned)(*p - '0');
	if (strcmp(p, "ms") == 0)
		;
	else if (*p == '\0' || strcmp(p, "s") == 0)
		v *= 1000;
	else
		return MAGMA_EINVAL;
	if (v < 10 || v > CONF_TIME_MS_MAX)
		return MAGMA_ERANGE;
	*out = (unsigned)v;
	return 0;
}

int conf_valid_network(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CONF_NETWORK_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isascii(c) ||
		    !(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int conf_valid_node_id(const char *s)
{
	if (strlen(s) != CONF_NODE_ID_HEX)
		return 0;
	for (const char *p = s; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return 0;
	return 1;
}

/* A decimal port 0..65535, digits only. */
static int conf_parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return MAGMA_EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return MAGMA_EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return MAGMA_EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int conf_parse_addr(const char *s, conf_addr *out)
{
	conf_addr a;
	const char *colon, *host = s;
	size_t hostlen;
	unsigned char bin[16];

	memset(&a, 0, sizeof(a));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return MAGMA_EINVAL;
		host = s + 1;
		hostlen = (size_t)(end - host);
		colon = end + 1;
		a.v6 = 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return MAGMA_EINVAL;
		hostlen = (size_t)(colon - s);
	}
	if (hostlen == 0 || hostlen >= sizeof(a.host))
		return MAGMA_EINVAL;
	memcpy(a.host, host, hostlen);
	a.host[hostlen] = '\0';
	if (inet_pton(a.v6 ? AF_INET6 : AF_INET, a.host, bin) != 1)
		return MAGMA_EINVAL;
	if (conf_parse_port(colon + 1, &a.port) < 0)
		return MAGMA_EINVAL;
	*out = a;
	return 0;
}

void conf_format_addr(const conf_addr *a, char *buf, size_t len)
{
	if (a->v6)
		snprintf(buf, len, "[%s]:%u", a->host, (unsigned)a->port);
	else
		snprintf(buf, len, "%s:%u", a->host, (unsigned)a->port);
}

/* Bytes, with an optional K/M/G/T (powers of 1024) suffix. */
static int conf_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return MAGMA_EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return MAGMA_ERANGE;
		v = v * 10 + d;
	}
	switch (*p) {
	case '\0': break;
	case 'K':
	case 'k':
		mul = 1ULL << 10;
		p++;
		break;
	case 'M':
	case 'm':
		mul = 1ULL << 20;
		p++;
		break;
	case 'G':
	case 'g':
		mul = 1ULL << 30;
		p++;
		break;
	case 'T':
	case 't':
		mul = 1ULL << 40;
		p++;
		break;
	default: return MAGMA_EINVAL;
	}
	if (*p != '\0')
		return MAGMA_EINVAL;
	if (v > UINT64_MAX / mul)
		return MAGMA_ERANGE;
	*out = v * mul;
	return 0;
}

static void conf_err(char *err, size_t errlen, const char *name, unsigned line,
                     const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static void conf_err(char *err, size_t errlen, const char *name, unsigned line,
                     const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(err, errlen, "%s:%u: %s", name, line, what);
	else
		snprintf(err, errlen, "%s: %s", name, what);
}

static char *conf_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

enum conf_key {
	CK_NETWORK,
	CK_NODE_ID,
	CK_KEYPHRASE,
	CK_NFS,
	CK_PEER,
	CK_REDUNDANCY,
	CK_STORE_SIZE,
	CK_RPCBIND,
	CK_LOG_LEVEL,
	CK_COORDINATOR,
	CK_HEARTBEAT,
	CK_DOWN_AFTER,
	CK_OP_TIMEOUT,
	CK_REPAIR_INTERVAL,
	CK_TOMB_AGE,
	CK_DOWN_GRACE,
	CK_MOVE_RATE,
	CK_COUNT
};
static const char *const conf_keys[CK_COUNT] = {
	"network",     "node_id",         "keyphrase_file",     "nfs_listen",
	"peer_listen", "redundancy",      "store_size",         "rpcbind",
	"log_level",   "coordinator",     "heartbeat_interval", "down_after",
	"op_timeout",  "repair_interval", "tombstone_age",      "down_grace",
	"move_rate"
};

/* Apply one key's value to cfg; on error write what was wrong to what. */
static int conf_set(magma_conf *cfg, int k, const char *val, char *what,
                    size_t wlen)
{
	uint64_t n;
	int lvl;

	switch (k) {
	case CK_NETWORK:
		if (!conf_valid_network(val)) {
			snprintf(what, wlen,
			         "network: \"%s\" is not a valid "
			         "name ([A-Za-z0-9._-], 1 to 64 characters)",
			         val);
			return MAGMA_ECONFIG;
		}
		strcpy(cfg->network, val);
		return 0;
	case CK_NODE_ID:
		if (!conf_valid_node_id(val)) {
			snprintf(what, wlen,
			         "node_id: expected %d hex "
			         "digits",
			         CONF_NODE_ID_HEX);
			return MAGMA_ECONFIG;
		}
		for (int i = 0; val[i]; i++)
			cfg->node_id[i] = (char)tolower((unsigned char)val[i]);
		cfg->node_id[CONF_NODE_ID_HEX] = '\0';
		return 0;
	case CK_KEYPHRASE:
		if (val[0] != '/' ||
		    strlen(val) >= sizeof(cfg->keyphrase_file)) {
			snprintf(what, wlen,
			         "keyphrase_file: expected an "
			         "absolute path");
			return MAGMA_ECONFIG;
		}
		strcpy(cfg->keyphrase_file, val);
		return 0;
	case CK_NFS:
	case CK_PEER:
		if (conf_parse_addr(val, k == CK_NFS ? &cfg->nfs_listen
		                                     : &cfg->peer_listen) < 0) {
			snprintf(what, wlen,
			         "%s: \"%s\" is not a numeric "
			         "IP:port (IPv6 as [addr]:port)",
			         conf_keys[k], val);
			return MAGMA_ECONFIG;
		}
		return 0;
	case CK_REDUNDANCY:
		if (strspn(val, "0123456789") != strlen(val) ||
		    conf_parse_size(val, &n) < 0 || n < 1 ||
		    n > CONF_REDUNDANCY_MAX) {
			snprintf(what, wlen,
			         "redundancy: expected a number "
			         "from 1 to %d",
			         CONF_REDUNDANCY_MAX);
			return MAGMA_ECONFIG;
		}
		cfg->redundancy = (unsigned)n;
		return 0;
	case CK_STORE_SIZE:
		if (conf_parse_size(val, &n) < 0 || n < (1ULL << 20)) {
			snprintf(what, wlen,
			         "store_size: expected bytes (at "
			         "least 1M; K/M/G/T suffixes allowed)");
			return MAGMA_ECONFIG;
		}
		cfg->store_size = n;
		return 0;
	case CK_RPCBIND:
		if (strcmp(val, "yes") == 0)
			cfg->rpcbind = 1;
		else if (strcmp(val, "no") == 0)
			cfg->rpcbind = 0;
		else {
			snprintf(what, wlen, "rpcbind: expected yes or no");
			return MAGMA_ECONFIG;
		}
		return 0;
	case CK_LOG_LEVEL:
		lvl = mlog_parse_level(val);
		if (lvl < 0) {
			snprintf(what, wlen,
			         "log_level: expected error, warn, "
			         "info or debug");
			return MAGMA_ECONFIG;
		}
		cfg->log_level = lvl;
		return 0;
	case CK_COORDINATOR: {
		conf_addr a;
		if (conf_parse_addr(val, &a) < 0) {
			snprintf(what, wlen,
			         "coordinator: \"%s\" is not a numeric "
			         "IP:port (IPv6 as [addr]:port)",
			         val);
			return MAGMA_ECONFIG;
		}
		conf_format_addr(&a, cfg->coordinator,
		                 sizeof(cfg->coordinator));
		return 0;
	}
	case CK_HEARTBEAT:
	case CK_DOWN_AFTER:
		if (conf_parse_ms(val, k == CK_HEARTBEAT
		                               ? &cfg->heartbeat_ms
		                               : &cfg->down_after_ms) < 0) {
			snprintf(what, wlen,
			         "%s: expected a time from 10ms to 3600s "
			         "(e.g. 500ms, 3s)",
			         conf_keys[k]);
			return MAGMA_ECONFIG;
		}
		return 0;
	case CK_OP_TIMEOUT:
	case CK_REPAIR_INTERVAL: {
		unsigned ms = 0;
		unsigned max = k == CK_OP_TIMEOUT ? 600000 : CONF_TIME_MS_MAX;
		if (conf_parse_ms(val, &ms) < 0 || ms < 1000 || ms > max) {
			snprintf(what, wlen,
			         "%s: expected a time from 1s to %us "
			         "(e.g. 10s)",
			         conf_keys[k], max / 1000);
			return MAGMA_ECONFIG;
		}
		if (k == CK_OP_TIMEOUT)
			cfg->op_timeout_ms = ms;
		else
			cfg->repair_interval_ms = ms;
		return 0;
	}
	case CK_DOWN_GRACE: {
		unsigned ms = 0;
		/* off: a member gone for good is removed by hand (leave
		 * --force) rather than re-replicated around */
		if (strcmp(val, "off") == 0) {
			cfg->down_grace_ms = 0;
			return 0;
		}
		if (conf_parse_ms(val, &ms) < 0 || ms < 1000) {
			snprintf(what, wlen,
			         "down_grace: expected a time from 1s to 3600s "
			         "(e.g. 300s) or off");
			return MAGMA_ECONFIG;
		}
		cfg->down_grace_ms = ms;
		return 0;
	}
	case CK_MOVE_RATE: {
		char num[32];
		size_t len = strlen(val);
		/* off (or 0): pull as fast as the peers answer */
		if (strcmp(val, "off") == 0 || strcmp(val, "0") == 0) {
			cfg->move_rate = 0;
			return 0;
		}
		if (len > 2 && strcmp(val + len - 2, "/s") == 0)
			len -= 2;
		if (len < sizeof(num)) {
			memcpy(num, val, len);
			num[len] = '\0';
		}
		if (len >= sizeof(num) || conf_parse_size(num, &n) < 0 ||
		    n < CONF_MOVE_RATE_MIN) {
			snprintf(what, wlen,
			         "move_rate: expected bytes per second (at "
			         "least 1K; K/M/G/T suffixes, e.g. 64M or "
			         "100M/s) or off");
			return MAGMA_ECONFIG;
		}
		cfg->move_rate = n;
		return 0;
	}
	case CK_TOMB_AGE:
		if (conf_parse_age(val, &cfg->tombstone_age_s) < 0) {
			snprintf(what, wlen,
			         "tombstone_age: expected a duration from 60s "
			         "to 3650d (e.g. 1d, 12h)");
			return MAGMA_ECONFIG;
		}
		return 0;
	}
	return MAGMA_ECONFIG;
}

int conf_parse(const char *text, const char *name, magma_conf *cfg, char *err,
               size_t errlen)
{
	magma_conf c;
	int seen[CK_COUNT] = { 0 };
	char line[CONF_LINE_MAX + 1], what[600];
	const char *p = text;
	unsigned lineno = 0;

	conf_defaults(&c);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *s, *eq, *key, *val;
		int k;

		lineno++;
		if (n > CONF_LINE_MAX) {
			conf_err(err, errlen, name, lineno, "line too long");
			return MAGMA_ECONFIG;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl ? 1 : 0);
		s = conf_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			conf_err(err, errlen, name, lineno,
			         "expected \"key = value\"");
			return MAGMA_ECONFIG;
		}
		*eq = '\0';
		key = conf_trim(s);
		val = conf_trim(eq + 1);
		for (k = 0; k < CK_COUNT; k++)
			if (strcmp(key, conf_keys[k]) == 0)
				break;
		if (k == CK_COUNT) {
			conf_err(err, errlen, name, lineno,
			         "unknown key \"%.64s\"", key);
			return MAGMA_ECONFIG;
		}
		if (seen[k]) {
			conf_err(err, errlen, name, lineno,
			         "%s set twice (first on line %d)", key,
			         seen[k]);
			return MAGMA_ECONFIG;
		}
		seen[k] = (int)lineno;
		if (*val == '\0') {
			conf_err(err, errlen, name, lineno, "%s: missing value",
			         key);
			return MAGMA_ECONFIG;
		}
		if (conf_set(&c, k, val, what, sizeof(what)) < 0) {
			conf_err(err, errlen, name, lineno, "%s", what);
			return MAGMA_ECONFIG;
		}
	}
	for (int k = CK_NETWORK; k <= CK_KEYPHRASE; k++) {
		if (!seen[k]) {
			conf_err(err, errlen, name, 0, "%s is not set",
			         conf_keys[k]);
			return MAGMA_ECONFIG;
		}
	}
	*cfg = c;
	return 0;
}

int conf_load(const char *path, magma_conf *cfg, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t n = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		conf_err(err, errlen, path, 0, "%s", strerror(e));
		return e == ENOENT ? MAGMA_ENOENT : merr_from_errno(e);
	}
	buf = malloc(CONF_FILE_MAX + 1);
	if (buf == NULL) {
		rc = MAGMA_ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, CONF_FILE_MAX + 1 - n);
		if (r < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			conf_err(err, errlen, path, 0, "%s", strerror(e));
			rc = merr_from_errno(e);
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > CONF_FILE_MAX) {
			conf_err(err, errlen, path, 0, "file over %d bytes",
			         CONF_FILE_MAX);
			rc = MAGMA_ECONFIG;
			goto out;
		}
	}
	if (memchr(buf, '\0', n) != NULL) {
		conf_err(err, errlen, path, 0, "contains a NUL byte");
		rc = MAGMA_ECONFIG;
		goto out;
	}
	buf[n] = '\0';
	rc = conf_parse(buf, path, cfg, err, errlen);
out:
	free(buf);
	close(fd);
	return rc;
}

int conf_write(const char *path, const magma_conf *cfg)
{
	char tmp[CONF_PATH_MAX + 16], nfs[CONF_ADDR_MAX + 16],
	        peer[CONF_ADDR_MAX + 16];
	static const char *const levels[] = { "error", "warn", "info",
		                              "debug" };
	FILE *f = NULL;
	int fd = -1, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return MAGMA_ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		LOG_E("cannot create %s: %s", tmp, strerror(e));
		return merr_from_errno(e);
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		rc = merr_from_errno(errno);
		close(fd);
		goto out;
	}
	conf_format_addr(&cfg->nfs_listen, nfs, sizeof(nfs));
	conf_format_addr(&cfg->peer_listen, peer, sizeof(peer));
	fprintf(f,
	        "# Magma node configuration (see magmad(8)).\n"
	        "# Written by magmactl init; magmad reads it at start-up.\n"
	        "network = %s\n"
	        "node_id = %s\n"
	        "keyphrase_file = %s\n"
	        "nfs_listen = %s\n"
	        "peer_listen = %s\n"
	        "redundancy = %u\n"
	        "store_size = %" PRIu64 "\n"
	        "rpcbind = %s\n"
	        "log_level = %s\n",
	        cfg->network, cfg->node_id, cfg->keyphrase_file, nfs, peer,
	        cfg->redundancy, cfg->store_size, cfg->rpcbind ? "yes" : "no",
	        levels[cfg->log_level >= 0 && cfg->log_level <= 3
	                       ? cfg->log_level
	                       : MLOG_INFO]);
	if (cfg->coordinator[0])
		fprintf(f, "coordinator = %s\n", cfg->coordinator);
	if (cfg->heartbeat_ms != CONF_DEFAULT_HEARTBEAT_MS)
		fprintf(f, "heartbeat_interval = %ums\n", cfg->heartbeat_ms);
	if (cfg->down_after_ms != CONF_DEFAULT_DOWN_AFTER_MS)
		fprintf(f, "down_after = %ums\n", cfg->down_after_ms);
	if (cfg->down_grace_ms == 0)
		fprintf(f, "down_grace = off\n");
	else if (cfg->down_grace_ms != CONF_DEFAULT_DOWN_GRACE_MS)
		fprintf(f, "down_grace = %ums\n", cfg->down_grace_ms);
	if (cfg->op_timeout_ms != CONF_DEFAULT_OP_TIMEOUT_MS)
		fprintf(f, "op_timeout = %ums\n", cfg->op_timeout_ms);
	if (cfg->repair_interval_ms != CONF_DEFAULT_REPAIR_MS)
		fprintf(f, "repair_interval = %ums\n", cfg->repair_interval_ms);
	if (cfg->move_rate == 0)
		fprintf(f, "move_rate = off\n");
	else if (cfg->move_rate != CONF_DEFAULT_MOVE_RATE)
		fprintf(f, "move_rate = %llu\n",
		        (unsigned long long)cfg->move_rate);
	if (cfg->tombstone_age_s != CONF_DEFAULT_TOMB_AGE_S)
		fprintf(f, "tombstone_age = %llus\n",
		        (unsigned long long)cfg->tombstone_age_s);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = merr_from_errno(errno);
	if (fclose(f) != 0 && rc == 0)
		rc = merr_from_errno(errno);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = merr_from_errno(errno);
out:
	if (rc < 0) {
		LOG_E("cannot write %s: %s", path, magma_strerror(rc));
		unlink(tmp);
	}
	return rc;
}
