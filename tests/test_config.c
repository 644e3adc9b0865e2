/* test_config.c - CUnit suite for server/conf.c: magma.conf parsing,
 * every kind of bad line, address validation, and a write/load round
 * trip. */
#include <CUnit/CUnit.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "merr.h"
#include "mlog.h"
#include "unit.h"

#define GOOD_ID "0123456789abcdef0123456789ABCDEF"
#define REQUIRED                                                               \
	"network = test.net_1-a\n"                                             \
	"node_id = " GOOD_ID "\n"                                              \
	"keyphrase_file = /etc/magma/keyphrase\n"

static void test_good_minimal(void)
{
	magma_conf c;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(conf_parse(REQUIRED, "t", &c, err, sizeof(err)),
	                      0);
	CU_ASSERT_STRING_EQUAL(c.network, "test.net_1-a");
	CU_ASSERT_STRING_EQUAL(c.node_id, "0123456789abcdef0123456789abcdef");
	CU_ASSERT_STRING_EQUAL(c.keyphrase_file, "/etc/magma/keyphrase");
	CU_ASSERT_STRING_EQUAL(c.nfs_listen.host, "127.0.0.1");
	CU_ASSERT_EQUAL(c.nfs_listen.port, 2049);
	CU_ASSERT_STRING_EQUAL(c.peer_listen.host, "127.0.0.1");
	CU_ASSERT_EQUAL(c.peer_listen.port, 7390);
	CU_ASSERT_EQUAL(c.redundancy, 2);
	CU_ASSERT_EQUAL(c.store_size, 1ULL << 40);
	CU_ASSERT_EQUAL(c.rpcbind, 1);
	CU_ASSERT_EQUAL(c.log_level, MLOG_INFO);
}

static void test_good_full(void)
{
	const char *text = "# a comment\n"
	                   "\n"
	                   "   network=n1   \r\n"
	                   "\tnode_id =" GOOD_ID "\n"
	                   "keyphrase_file = /k\n"
	                   "nfs_listen = 127.0.0.2:0\n"
	                   "peer_listen = [::1]:7391\n"
	                   "redundancy = 3\n"
	                   "store_size = 64M\n"
	                   "rpcbind = no\n"
	                   "log_level = debug"; /* no final newline */
	magma_conf c;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(conf_parse(text, "t", &c, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(c.network, "n1");
	CU_ASSERT_STRING_EQUAL(c.nfs_listen.host, "127.0.0.2");
	CU_ASSERT_EQUAL(c.nfs_listen.port, 0);
	CU_ASSERT_STRING_EQUAL(c.peer_listen.host, "::1");
	CU_ASSERT_EQUAL(c.peer_listen.v6, 1);
	CU_ASSERT_EQUAL(c.peer_listen.port, 7391);
	CU_ASSERT_EQUAL(c.redundancy, 3);
	CU_ASSERT_EQUAL(c.store_size, 64ULL << 20);
	CU_ASSERT_EQUAL(c.rpcbind, 0);
	CU_ASSERT_EQUAL(c.log_level, MLOG_DEBUG);
}

/* Each bad line, appended after the required keys (line 4), must fail
 * with an error naming the file, line 4 and the key. */
static void test_bad_lines(void)
{
	static const struct {
		const char *line;
		const char *expect; /* substring of the message */
	} bad[] = {
		{ "just words", "expected \"key = value\"" },
		{ "colour = blue", "unknown key \"colour\"" },
		{ "nfs_listen =", "missing value" },
		{ "nfs_listen = localhost:2049", "nfs_listen" },
		{ "nfs_listen = 127.0.0.1", "nfs_listen" },
		{ "nfs_listen = 127.0.0.1:65536", "nfs_listen" },
		{ "nfs_listen = 127.0.0.1:-1", "nfs_listen" },
		{ "nfs_listen = 127.0.0.1:20x", "nfs_listen" },
		{ "peer_listen = ::1:7390", "peer_listen" },
		{ "peer_listen = [::1]7390", "peer_listen" },
		{ "peer_listen = 300.1.1.1:7390", "peer_listen" },
		{ "redundancy = 0", "redundancy" },
		{ "redundancy = 17", "redundancy" },
		{ "redundancy = 2K", "redundancy" },
		{ "redundancy = two", "redundancy" },
		{ "store_size = 10", "store_size" },
		{ "store_size = 5X", "store_size" },
		{ "store_size = 99999999999999999999", "store_size" },
		{ "store_size = 20000000T", "store_size" },
		{ "rpcbind = maybe", "rpcbind" },
		{ "log_level = loud", "log_level" },
		{ "network = other", "network set twice (first on line 1)" },
	};
	char text[1024], err[256], want[128];
	magma_conf c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s\n", REQUIRED, bad[i].line);
		err[0] = '\0';
		CU_ASSERT_EQUAL(
		        conf_parse(text, "f.conf", &c, err, sizeof(err)),
		        MAGMA_ECONFIG);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "f.conf:4: "));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].expect));
		if (strstr(err, bad[i].expect) == NULL)
			fprintf(stderr, "\n  line \"%s\": got \"%s\"\n",
			        bad[i].line, err);
	}
	/* Bad values of the required keys, on line 1. */
	snprintf(want, sizeof(want), "network = bad/name\n");
	CU_ASSERT_EQUAL(conf_parse(want, "f", &c, err, sizeof(err)),
	                MAGMA_ECONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "f:1: network"));
	CU_ASSERT_EQUAL(
	        conf_parse("node_id = 1234\n", "f", &c, err, sizeof(err)),
	        MAGMA_ECONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "f:1: node_id"));
	CU_ASSERT_EQUAL(conf_parse("keyphrase_file = relative\n", "f", &c, err,
	                           sizeof(err)),
	                MAGMA_ECONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "f:1: keyphrase_file"));
}

static void test_missing_required(void)
{
	magma_conf c;
	char err[256];

	CU_ASSERT_EQUAL(conf_parse("network = n\nnode_id = " GOOD_ID "\n", "f",
	                           &c, err, sizeof(err)),
	                MAGMA_ECONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "keyphrase_file is not set"));
	CU_ASSERT_EQUAL(conf_parse("", "f", &c, err, sizeof(err)),
	                MAGMA_ECONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "network is not set"));
	/* err may be NULL. */
	CU_ASSERT_EQUAL(conf_parse("x\n", "f", &c, NULL, 0), MAGMA_ECONFIG);
}

static void test_addresses(void)
{
	static const char *const good[] = {
		"127.0.0.1:2049",  "0.0.0.0:1", "10.1.2.3:65535",
		"[::1]:2049",      "[::]:0",    "[fe80::1:2]:80",
		"127.0.0.5:00080",
	};
	static const char *const badv[] = {
		"",
		":",
		"127.0.0.1",
		"127.0.0.1:",
		":2049",
		"localhost:2049",
		"127.0.0.1:65536",
		"127.0.0.1:123456",
		"127.0.0.1:+1",
		"127.0.0.1: 1",
		"1.2.3:4",
		"::1:2049",
		"[::1]",
		"[::1]:",
		"[127.0.0.1]:1",
		"[::1]x:1",
		"[::1:1",
		"1.2.3.4:5:6",
		"[::1]:2049 ",
		" 1.2.3.4:5",
	};
	conf_addr a;
	char buf[96];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CU_ASSERT_EQUAL(conf_parse_addr(good[i], &a), 0);
		if (conf_parse_addr(good[i], &a) != 0)
			fprintf(stderr, "\n  rejected \"%s\"\n", good[i]);
	}
	for (size_t i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
		CU_ASSERT_EQUAL(conf_parse_addr(badv[i], &a), MAGMA_EINVAL);
		if (conf_parse_addr(badv[i], &a) == 0)
			fprintf(stderr, "\n  accepted \"%s\"\n", badv[i]);
	}
	CU_ASSERT_EQUAL(conf_parse_addr("[::1]:2049", &a), 0);
	conf_format_addr(&a, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "[::1]:2049");
	CU_ASSERT_EQUAL(conf_parse_addr("127.0.0.5:00080", &a), 0);
	CU_ASSERT_EQUAL(a.port, 80);
	conf_format_addr(&a, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "127.0.0.5:80");
}

static void test_names(void)
{
	char long_ok[65], too_long[66];

	memset(long_ok, 'a', 64);
	long_ok[64] = '\0';
	memset(too_long, 'a', 65);
	too_long[65] = '\0';
	CU_ASSERT_TRUE(conf_valid_network("A-z.0_9"));
	CU_ASSERT_TRUE(conf_valid_network(long_ok));
	CU_ASSERT_FALSE(conf_valid_network(too_long));
	CU_ASSERT_FALSE(conf_valid_network(""));
	CU_ASSERT_FALSE(conf_valid_network("a b"));
	CU_ASSERT_FALSE(conf_valid_network("a/b"));
	CU_ASSERT_FALSE(conf_valid_network("caf\xc3\xa9"));
	CU_ASSERT_TRUE(conf_valid_node_id(GOOD_ID));
	CU_ASSERT_FALSE(conf_valid_node_id("0123456789abcdef0123456789abcdeg"));
	CU_ASSERT_FALSE(conf_valid_node_id("0123"));
}

static void test_write_load(void)
{
	const char *dir = unit_tmpdir();
	char path[512], err[512];
	magma_conf c, back;
	struct stat st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	CU_ASSERT_EQUAL_FATAL(conf_parse(REQUIRED
	                                 "nfs_listen = [::1]:0\n"
	                                 "rpcbind = no\nlog_level = warn\n"
	                                 "store_size = 2G\n",
	                                 "t", &c, err, sizeof(err)),
	                      0);
	snprintf(path, sizeof(path), "%s/magma.conf", dir);
	CU_ASSERT_EQUAL(conf_load(path, &back, err, sizeof(err)), MAGMA_ENOENT);
	CU_ASSERT_EQUAL_FATAL(conf_write(path, &c), 0);
	CU_ASSERT_EQUAL_FATAL(conf_load(path, &back, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(back.network, c.network);
	CU_ASSERT_STRING_EQUAL(back.node_id, c.node_id);
	CU_ASSERT_STRING_EQUAL(back.keyphrase_file, c.keyphrase_file);
	CU_ASSERT_STRING_EQUAL(back.nfs_listen.host, "::1");
	CU_ASSERT_EQUAL(back.nfs_listen.v6, 1);
	CU_ASSERT_EQUAL(back.nfs_listen.port, 0);
	CU_ASSERT_STRING_EQUAL(back.peer_listen.host, c.peer_listen.host);
	CU_ASSERT_EQUAL(back.peer_listen.port, c.peer_listen.port);
	CU_ASSERT_EQUAL(back.redundancy, c.redundancy);
	CU_ASSERT_EQUAL(back.store_size, 2ULL << 30);
	CU_ASSERT_EQUAL(back.rpcbind, 0);
	CU_ASSERT_EQUAL(back.log_level, MLOG_WARN);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0644);

	/* A bad line in a file is reported with the file's path. */
	FILE *f = fopen(path, "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("bogus = 1\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(conf_load(path, &back, err, sizeof(err)),
	                MAGMA_ECONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown key \"bogus\""));
}

int unit_suite_config(void)
{
	CU_pSuite s = CU_add_suite("config", NULL, NULL);

	if (s == NULL || !CU_add_test(s, "good minimal", test_good_minimal) ||
	    !CU_add_test(s, "good full", test_good_full) ||
	    !CU_add_test(s, "bad lines", test_bad_lines) ||
	    !CU_add_test(s, "missing required", test_missing_required) ||
	    !CU_add_test(s, "addresses", test_addresses) ||
	    !CU_add_test(s, "names", test_names) ||
	    !CU_add_test(s, "write and load", test_write_load))
		return CU_get_error();
	return CUE_SUCCESS;
}
