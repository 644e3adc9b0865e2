/* test_keys.c - CUnit suite for server/keys.c.
 *
 * The expected values of Magma's own derivations were computed outside
 * GnuTLS, with python3's hashlib.pbkdf2_hmac, hmac and a ten-line
 * HKDF-expand, for the keyphrase "correct horse battery staple" and the
 * network "testnet":
 *
 *   def expand(prk, info):  # RFC 5869, 32 bytes
 *       return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()
 *   def pbkdf2(pw, salt):
 *       return hashlib.pbkdf2_hmac("sha256", pw, salt, 100000, 32)
 *   join = expand(pbkdf2(P, b"magma/v1/join/"), b"magma join token")
 *   content = expand(pbkdf2(P, b"magma/v1/" + net), b"magma content")
 *   ring = expand(content, b"magma ring")  # also aead, handle
 *
 * The KDF primitives are also checked against the
 * published RFC 6070, RFC 7914 (PBKDF2) and RFC 5869 (HKDF) vectors. */
#include <CUnit/CUnit.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "keys.h"
#include "merr.h"
#include "mlog.h"
#include "unit.h"

#define PHRASE "correct horse battery staple"
#define NET "testnet"

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
	char buf[2 * 128 + 1];
	CU_ASSERT_FATAL(len <= 128);
	keys_hex(got, len, buf);
	CU_ASSERT_STRING_EQUAL(buf, want);
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "\n  got  %s\n  want %s\n", buf, want);
}

/* ---- primitives against published vectors ---- */

static void pbkdf2_check(gnutls_mac_algorithm_t mac, const char *pw,
                         const char *salt, unsigned iter, size_t len,
                         const char *want)
{
	uint8_t out[64];
	gnutls_datum_t p = { (unsigned char *)pw, (unsigned)strlen(pw) };
	gnutls_datum_t s = { (unsigned char *)salt, (unsigned)strlen(salt) };
	CU_ASSERT_FATAL(len <= sizeof(out));
	CU_ASSERT_EQUAL_FATAL(gnutls_pbkdf2(mac, &p, &s, iter, out, len), 0);
	assert_hex(out, len, want);
}

static void test_pbkdf2_rfc(void)
{
	/* RFC 6070 (PBKDF2-HMAC-SHA1), test cases 1 and 3. */
	pbkdf2_check(GNUTLS_MAC_SHA1, "password", "salt", 1, 20,
	             "0c60c80f961f0e71f3a9b524af6012062fe037a6");
	pbkdf2_check(GNUTLS_MAC_SHA1, "password", "salt", 4096, 20,
	             "4b007901b765489abead49d926f721d065a429c1");
	/* RFC 7914 section 11 (PBKDF2-HMAC-SHA256). */
	pbkdf2_check(GNUTLS_MAC_SHA256, "passwd", "salt", 1, 64,
	             "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57"
	             "c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd5"
	             "09112041d3a19783");
	pbkdf2_check(GNUTLS_MAC_SHA256, "Password", "NaCl", 80000, 64,
	             "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff0887"
	             "6b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078"
	             "478f62b397f33c8d");
}

static void test_hkdf_rfc5869(void)
{
	/* RFC 5869 A.1, test case 1 (SHA-256). */
	uint8_t ikm[22], salt[13], info[10], prk[32], okm[42];
	memset(ikm, 0x0b, sizeof(ikm));
	for (unsigned i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(0xf0 + i);
	gnutls_datum_t k = { ikm, sizeof(ikm) }, s = { salt, sizeof(salt) };
	CU_ASSERT_EQUAL_FATAL(
	        gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &k, &s, prk), 0);
	assert_hex(prk, sizeof(prk),
	           "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844a"
	           "d7c2b3e5");
	gnutls_datum_t p = { prk, sizeof(prk) }, in = { info, sizeof(info) };
	CU_ASSERT_EQUAL_FATAL(gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &p, &in,
	                                         okm, sizeof(okm)),
	                      0);
	assert_hex(okm, sizeof(okm),
	           "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56"
	           "ecc4c5bf34007208d5b887185865");
}

/* ---- Magma's derivations ---- */

static magma_keys fixed_keys;

static int keys_suite_init(void)
{
	return keys_derive(PHRASE, strlen(PHRASE), NET, &fixed_keys) == 0 ? 0
	                                                                  : -1;
}

static void test_derive_vectors(void)
{
	const magma_keys *k = &fixed_keys;
	CU_ASSERT_EQUAL(k->have_content, 1);
	assert_hex(k->join_token, KEYS_LEN,
	           "f32f4319b89c8100c4b007454c177ddb8ceaab9367c6803e614317e7"
	           "88cfc16a");
	assert_hex(k->ring, KEYS_LEN,
	           "f41a18598b554f38f15e24be680399f44a3c061d84d0127304bfcb5f"
	           "c413b044");
	assert_hex(k->aead, KEYS_LEN,
	           "794cd2d68fa2dd82306d376987e403c06891644551f5f2800b9486ed"
	           "62d86194");
	assert_hex(k->handle, KEYS_LEN,
	           "d052ef0af647b2ce410e8cefb48bbaeff0ef9801fe38f372078f66d0"
	           "eb9ddf79");
}

static void test_ring_vectors(void)
{
	uint8_t parent[KEYS_ID_LEN], out[KEYS_RING_LEN];
	for (unsigned i = 0; i < KEYS_ID_LEN; i++)
		parent[i] = (uint8_t)i;
	keys_ring_root(&fixed_keys, out);
	assert_hex(out, sizeof(out),
	           "6e874cc45aa18f14cc8cb47c6a6631df294e5bb3");
	keys_ring_child(&fixed_keys, parent, "hostname", 8, out);
	assert_hex(out, sizeof(out),
	           "a4e4acb5ed2456aed8161fd2700fcbe5be7633fe");
	keys_ring_derived(&fixed_keys, "dirents", parent, out);
	assert_hex(out, sizeof(out),
	           "ec6f6af96e17d64d00eb665d8cd6e01435ec56d9");
}

static void test_ring_distinct(void)
{
	uint8_t p1[KEYS_ID_LEN] = { 1 }, p2[KEYS_ID_LEN] = { 2 };
	uint8_t a[KEYS_RING_LEN], b[KEYS_RING_LEN], c[KEYS_RING_LEN];
	keys_ring_child(&fixed_keys, p1, "x", 1, a);
	keys_ring_child(&fixed_keys, p2, "x", 1, b);
	keys_ring_child(&fixed_keys, p1, "y", 1, c);
	CU_ASSERT(memcmp(a, b, sizeof(a)) != 0);
	CU_ASSERT(memcmp(a, c, sizeof(a)) != 0);
	/* The name is counted bytes, not a C string. */
	keys_ring_child(&fixed_keys, p1, "xyz", 1, b);
	CU_ASSERT(memcmp(a, b, sizeof(a)) == 0);
	/* A long (invalid for fs) name still hashes deterministically. */
	char *big = malloc(5000);
	CU_ASSERT_FATAL(big != NULL);
	memset(big, 'n', 5000);
	keys_ring_child(&fixed_keys, p1, big, 5000, a);
	keys_ring_child(&fixed_keys, p1, big, 5000, b);
	keys_ring_child(&fixed_keys, p1, big, 4999, c);
	CU_ASSERT(memcmp(a, b, sizeof(a)) == 0);
	CU_ASSERT(memcmp(a, c, sizeof(a)) != 0);
	free(big);
	keys_ring_derived(&fixed_keys, "dirents", p1, a);
	keys_ring_derived(&fixed_keys, "other", p1, b);
	CU_ASSERT(memcmp(a, b, sizeof(a)) != 0);
}

static void test_join_token_separate(void)
{
	const magma_keys *k = &fixed_keys;
	CU_ASSERT(memcmp(k->join_token, k->ring, KEYS_LEN) != 0);
	CU_ASSERT(memcmp(k->join_token, k->aead, KEYS_LEN) != 0);
	CU_ASSERT(memcmp(k->join_token, k->handle, KEYS_LEN) != 0);
	CU_ASSERT(memcmp(k->ring, k->aead, KEYS_LEN) != 0);
	CU_ASSERT(memcmp(k->ring, k->handle, KEYS_LEN) != 0);
	CU_ASSERT(memcmp(k->aead, k->handle, KEYS_LEN) != 0);
}

/* The join token from the keyphrase alone equals keys_derive's. */
static void test_join_vectors(void)
{
	uint8_t t[KEYS_LEN];
	CU_ASSERT_EQUAL_FATAL(keys_derive_join(PHRASE, strlen(PHRASE), t), 0);
	assert_hex(t, KEYS_LEN,
	           "f32f4319b89c8100c4b007454c177ddb8ceaab9367c6803e614317e7"
	           "88cfc16a");
	CU_ASSERT(memcmp(t, fixed_keys.join_token, KEYS_LEN) == 0);
	CU_ASSERT_EQUAL_FATAL(keys_derive_join("other phrase", 12, t), 0);
	assert_hex(t, KEYS_LEN,
	           "42aa05808cd14c0f54ea8293350390764f79f4e81778b94153a9a20e"
	           "0deef75d");
}

static void test_networks_differ(void)
{
	magma_keys o;
	CU_ASSERT_EQUAL_FATAL(
	        keys_derive(PHRASE, strlen(PHRASE), "othernet", &o), 0);
	/* One keyphrase, two networks: the same join token (a joiner
	 * needs no name), different content keys. */
	CU_ASSERT(memcmp(o.join_token, fixed_keys.join_token, KEYS_LEN) == 0);
	CU_ASSERT(memcmp(o.ring, fixed_keys.ring, KEYS_LEN) != 0);
	CU_ASSERT(memcmp(o.aead, fixed_keys.aead, KEYS_LEN) != 0);
	CU_ASSERT(memcmp(o.handle, fixed_keys.handle, KEYS_LEN) != 0);
	assert_hex(o.ring, KEYS_LEN,
	           "dd0b6e4a23a33b8b1d5218f30a4077142c15ef0aa16f314c9c1f8a2d"
	           "f10fd3e6");
	assert_hex(o.aead, KEYS_LEN,
	           "90c92a4f4dabefb1a9be919f94d20bea641a54e7f13c2ddd6d279417"
	           "48ca7461");
	assert_hex(o.handle, KEYS_LEN,
	           "09bb3d13b2d26b3de6f63170fbe1bf1924a0b89503f144b5b3ca9f0e"
	           "c1f88f09");
	/* And a different phrase on the same network. */
	CU_ASSERT_EQUAL_FATAL(keys_derive("other phrase", 12, NET, &o), 0);
	CU_ASSERT(memcmp(o.join_token, fixed_keys.join_token, KEYS_LEN) != 0);
	CU_ASSERT(memcmp(o.ring, fixed_keys.ring, KEYS_LEN) != 0);
}

static void test_derive_invalid(void)
{
	magma_keys o;
	memset(&o, 0xa5, sizeof(o));
	CU_ASSERT_EQUAL(keys_derive("", 0, NET, &o), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(keys_derive(PHRASE, strlen(PHRASE), "", &o),
	                MAGMA_EINVAL);
	CU_ASSERT_EQUAL(keys_derive(PHRASE, strlen(PHRASE), NULL, &o),
	                MAGMA_EINVAL);
	/* Out-parameter untouched on failure. */
	CU_ASSERT_EQUAL(o.join_token[0], 0xa5);
	CU_ASSERT_EQUAL(keys_derive_join("", 0, o.join_token), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(keys_derive_join(NULL, 5, o.join_token), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(o.join_token[0], 0xa5);
}

static void test_random_hex(void)
{
	uint8_t a[32], b[32];
	char hex[7];
	CU_ASSERT_EQUAL(keys_random(a, sizeof(a)), 0);
	CU_ASSERT_EQUAL(keys_random(b, sizeof(b)), 0);
	CU_ASSERT(memcmp(a, b, sizeof(a)) != 0);
	keys_hex((const uint8_t *)"\x00\xab\xff", 3, hex);
	CU_ASSERT_STRING_EQUAL(hex, "00abff");
	keys_hex(a, 0, hex);
	CU_ASSERT_STRING_EQUAL(hex, "");
}

/* ---- keyphrase files ---- */

/* Short, so that tmpdir + "/" + name always fits a PATH_MAX buffer. */
static char tmpdir[256];

/* A fresh directory from the runner, which removes it at exit. */
static void use_tmpdir(void)
{
	const char *d = unit_tmpdir();
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_FATAL(strlen(d) < sizeof(tmpdir));
	strcpy(tmpdir, d);
}

static void write_file(const char *name, const void *data, size_t len,
                       mode_t mode, char *path)
{
	snprintf(path, PATH_MAX, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_FATAL(fwrite(data, 1, len, f) == len);
	CU_ASSERT_FATAL(fclose(f) == 0);
	CU_ASSERT_FATAL(chmod(path, mode) == 0);
}

/* Read name with content data and mode; returns the code, and on
 * success checks the phrase equals want. */
static int read_case(const char *name, const void *data, size_t len,
                     mode_t mode, const char *want)
{
	char path[PATH_MAX];
	char *phrase = (char *)"untouched";
	size_t plen = 12345;
	write_file(name, data, len, mode, path);
	int rc = keys_read_phrase_file(path, &phrase, &plen);
	if (rc == 0) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(want);
		CU_ASSERT_EQUAL(plen, strlen(want));
		CU_ASSERT(memcmp(phrase, want, plen) == 0);
		CU_ASSERT_EQUAL(phrase[plen], '\0');
		free(phrase);
	} else {
		CU_ASSERT_STRING_EQUAL(phrase, "untouched");
		CU_ASSERT_EQUAL(plen, 12345);
	}
	unlink(path);
	return rc;
}

static void test_phrase_file(void)
{
	/* The refusals below log by design; keep the report readable
	 * unless a log level was asked for. */
	int level = mlog_level_now;
	if (getenv("MAGMA_UNIT_LOG") == NULL)
		mlog_level_now = -1;
	use_tmpdir();

	CU_ASSERT_EQUAL(read_case("plain", "secret", 6, 0600, "secret"), 0);
	CU_ASSERT_EQUAL(read_case("nl", "secret\n", 7, 0600, "secret"), 0);
	CU_ASSERT_EQUAL(read_case("crlf", "secret\r\n", 8, 0600, "secret"), 0);
	/* Only one trailing newline is stripped. */
	CU_ASSERT_EQUAL(read_case("nl2", "secret\n\n", 8, 0600, "secret\n"), 0);
	CU_ASSERT_EQUAL(read_case("inner", "a b\nc\n", 6, 0400, "a b\nc"), 0);
	/* A lone CR is part of the phrase. */
	CU_ASSERT_EQUAL(read_case("cr", "secret\r", 7, 0600, "secret\r"), 0);

	CU_ASSERT_EQUAL(read_case("empty", "", 0, 0600, NULL), MAGMA_ECONFIG);
	CU_ASSERT_EQUAL(read_case("onlynl", "\n", 1, 0600, NULL),
	                MAGMA_ECONFIG);
	CU_ASSERT_EQUAL(read_case("onlycrlf", "\r\n", 2, 0600, NULL),
	                MAGMA_ECONFIG);

	char *big = malloc(4098);
	CU_ASSERT_FATAL(big != NULL);
	memset(big, 'x', 4098);
	big[4096] = '\n';
	CU_ASSERT_EQUAL(read_case("maxnl", big, 4097, 0600, NULL),
	                MAGMA_ECONFIG);
	CU_ASSERT_EQUAL(read_case("big", big, 4097, 0600, NULL), MAGMA_ECONFIG);
	free(big);

	CU_ASSERT_EQUAL(read_case("m644", "secret", 6, 0644, NULL),
	                MAGMA_ECONFIG);
	CU_ASSERT_EQUAL(read_case("m640", "secret", 6, 0640, NULL),
	                MAGMA_ECONFIG);
	CU_ASSERT_EQUAL(read_case("m604", "secret", 6, 0604, NULL),
	                MAGMA_ECONFIG);
	CU_ASSERT_EQUAL(read_case("m601", "secret", 6, 0601, NULL),
	                MAGMA_ECONFIG);

	char path[PATH_MAX], *phrase = NULL;
	size_t plen = 0;
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	CU_ASSERT_EQUAL(keys_read_phrase_file(path, &phrase, &plen),
	                MAGMA_ENOENT);
	CU_ASSERT_PTR_NULL(phrase);
	/* A directory is not a keyphrase file. */
	CU_ASSERT_EQUAL(keys_read_phrase_file(tmpdir, &phrase, &plen),
	                MAGMA_ECONFIG);
	/* Nor is a FIFO, and opening one must not block. */
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
	CU_ASSERT_EQUAL(keys_read_phrase_file(path, &phrase, &plen),
	                MAGMA_ECONFIG);
	mlog_level_now = level;
}

/* Exactly 4 KiB is allowed, and returned whole. */
static void test_phrase_file_max(void)
{
	char path[PATH_MAX], *phrase = NULL;
	size_t plen = 0;
	char *big = malloc(4096);
	CU_ASSERT_FATAL(big != NULL);
	memset(big, 'y', 4096);
	use_tmpdir();
	write_file("max", big, 4096, 0600, path);
	CU_ASSERT_EQUAL(keys_read_phrase_file(path, &phrase, &plen), 0);
	CU_ASSERT_EQUAL(plen, 4096);
	if (phrase != NULL)
		CU_ASSERT(memcmp(phrase, big, 4096) == 0);
	free(phrase);
	free(big);
	unlink(path);
}

static CU_TestInfo keys_tests[] = {
	{ "pbkdf2 RFC 6070/7914 vectors", test_pbkdf2_rfc },
	{ "hkdf RFC 5869 vector", test_hkdf_rfc5869 },
	{ "derive fixed vectors", test_derive_vectors },
	{ "ring key vectors", test_ring_vectors },
	{ "ring keys distinct", test_ring_distinct },
	{ "join token separate from content keys", test_join_token_separate },
	{ "join token from the keyphrase alone", test_join_vectors },
	{ "one join token for all networks of a phrase", test_networks_differ },
	{ "derive rejects bad input", test_derive_invalid },
	{ "random and hex", test_random_hex },
	{ "phrase file edge cases", test_phrase_file },
	{ "phrase file of 4096 bytes", test_phrase_file_max },
	CU_TEST_INFO_NULL,
};

int unit_suite_keys(void)
{
	CU_SuiteInfo suites[] = {
		{ "keys", keys_suite_init, NULL, NULL, NULL, keys_tests },
		CU_SUITE_INFO_NULL,
	};
	return CU_register_suites(suites);
}
