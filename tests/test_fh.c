/* test_fh.c - CUnit suite for server/fh.c: the handle layout against a
 * vector computed with python3's hmac module, and refusal of every
 * corruption a client could send. */
#include <CUnit/CUnit.h>

#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "fh.h"
#include "keys.h"
#include "merr.h"
#include "unit.h"

#define PHRASE "correct horse battery staple"

static magma_keys fh_keys, fh_other;
static fs_ref fh_ref;

static int fh_suite_init(void)
{
	if (keys_derive(PHRASE, strlen(PHRASE), "testnet", &fh_keys) != 0 ||
	    keys_derive(PHRASE, strlen(PHRASE), "othernet", &fh_other) != 0)
		return -1;
	keys_ring_root(&fh_keys, fh_ref.home);
	for (unsigned i = 0; i < KEYS_ID_LEN; i++)
		fh_ref.id[i] = (uint8_t)i;
	return 0;
}

/* Handle for export 0x1234, home = root ring key of "testnet", id =
 * 00..0f; MAC = HMAC-SHA256(K_handle, bytes 0..39)[0..15]. */
static const char fh_vector[] =
        "010012346e874cc45aa18f14cc8cb47c6a6631df294e5bb3000102030405060708"
        "090a0b0c0d0e0f5696a6a9142f608097f5f092f8d072b0";

static void test_roundtrip(void)
{
	uint8_t h[FH_LEN];
	char hex[2 * FH_LEN + 1];
	uint16_t exp = 0;
	fs_ref got;

	CU_ASSERT_EQUAL_FATAL(fh_encode(&fh_keys, 0x1234, &fh_ref, h), 0);
	keys_hex(h, FH_LEN, hex);
	CU_ASSERT_STRING_EQUAL(hex, fh_vector);
	memset(&got, 0, sizeof(got));
	CU_ASSERT_EQUAL_FATAL(fh_decode(&fh_keys, h, FH_LEN, &exp, &got), 0);
	CU_ASSERT_EQUAL(exp, 0x1234);
	CU_ASSERT(memcmp(&got, &fh_ref, sizeof(got)) == 0);

	/* Other export ids and refs survive too. */
	fs_ref r2;
	CU_ASSERT_EQUAL_FATAL(keys_random(&r2, sizeof(r2)), 0);
	CU_ASSERT_EQUAL_FATAL(fh_encode(&fh_keys, 0xffff, &r2, h), 0);
	CU_ASSERT_EQUAL_FATAL(fh_decode(&fh_keys, h, FH_LEN, &exp, &got), 0);
	CU_ASSERT_EQUAL(exp, 0xffff);
	CU_ASSERT(memcmp(&got, &r2, sizeof(got)) == 0);
	CU_ASSERT_EQUAL_FATAL(fh_encode(&fh_keys, 0, &r2, h), 0);
	CU_ASSERT_EQUAL_FATAL(fh_decode(&fh_keys, h, FH_LEN, &exp, &got), 0);
	CU_ASSERT_EQUAL(exp, 0);
}

static void test_bit_flips(void)
{
	uint8_t h[FH_LEN], bad[FH_LEN];
	uint16_t exp = 0xabcd;
	fs_ref got;
	int refused = 0;

	CU_ASSERT_EQUAL_FATAL(fh_encode(&fh_keys, 7, &fh_ref, h), 0);
	memset(&got, 0x5a, sizeof(got));
	for (unsigned bit = 0; bit < FH_LEN * 8; bit++) {
		memcpy(bad, h, FH_LEN);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (fh_decode(&fh_keys, bad, FH_LEN, &exp, &got) ==
		    MAGMA_EBADHANDLE)
			refused++;
		else
			fprintf(stderr, "\n  bit %u flip accepted\n", bit);
	}
	CU_ASSERT_EQUAL(refused, FH_LEN * 8);
	/* Out-parameters untouched by refusals. */
	CU_ASSERT_EQUAL(exp, 0xabcd);
	CU_ASSERT_EQUAL(got.id[0], 0x5a);
}

static void test_lengths(void)
{
	uint8_t h[FH_LEN], buf[64];
	uint16_t exp;
	fs_ref got;
	static const size_t lens[] = { 0, 1, 55, 57, 64 };

	CU_ASSERT_EQUAL_FATAL(fh_encode(&fh_keys, 7, &fh_ref, h), 0);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, h, FH_LEN);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		CU_ASSERT_EQUAL(fh_decode(&fh_keys, buf, lens[i], &exp, &got),
		                MAGMA_EBADHANDLE);
	CU_ASSERT_EQUAL(fh_decode(&fh_keys, NULL, 0, &exp, &got),
	                MAGMA_EBADHANDLE);
	CU_ASSERT_EQUAL(fh_decode(&fh_keys, buf, FH_LEN, &exp, &got), 0);
}

/* Rewrite byte off of a valid handle to v and re-seal it with the right
 * key, so that only the field check can refuse it. */
static void reseal(uint8_t h[FH_LEN], unsigned off, uint8_t v)
{
	uint8_t mac[32];
	h[off] = v;
	CU_ASSERT_EQUAL_FATAL(gnutls_hmac_fast(GNUTLS_MAC_SHA256,
	                                       fh_keys.handle, KEYS_LEN, h, 40,
	                                       mac),
	                      0);
	memcpy(h + 40, mac, 16);
}

static void test_version_reserved(void)
{
	uint8_t h[FH_LEN];
	uint16_t exp;
	fs_ref got;

	CU_ASSERT_EQUAL_FATAL(fh_encode(&fh_keys, 7, &fh_ref, h), 0);
	reseal(h, 0, FH_VERSION); /* the re-seal itself is faithful */
	CU_ASSERT_EQUAL(fh_decode(&fh_keys, h, FH_LEN, &exp, &got), 0);
	reseal(h, 0, FH_VERSION + 1);
	CU_ASSERT_EQUAL(fh_decode(&fh_keys, h, FH_LEN, &exp, &got),
	                MAGMA_EBADHANDLE);
	reseal(h, 0, 0);
	CU_ASSERT_EQUAL(fh_decode(&fh_keys, h, FH_LEN, &exp, &got),
	                MAGMA_EBADHANDLE);
	reseal(h, 0, FH_VERSION);
	reseal(h, 1, 1);
	CU_ASSERT_EQUAL(fh_decode(&fh_keys, h, FH_LEN, &exp, &got),
	                MAGMA_EBADHANDLE);
	reseal(h, 1, 0x80);
	CU_ASSERT_EQUAL(fh_decode(&fh_keys, h, FH_LEN, &exp, &got),
	                MAGMA_EBADHANDLE);
}

static void test_other_keys(void)
{
	uint8_t h[FH_LEN];
	uint16_t exp;
	fs_ref got;

	CU_ASSERT_EQUAL_FATAL(fh_encode(&fh_other, 7, &fh_ref, h), 0);
	CU_ASSERT_EQUAL(fh_decode(&fh_keys, h, FH_LEN, &exp, &got),
	                MAGMA_EBADHANDLE);
	CU_ASSERT_EQUAL(fh_decode(&fh_other, h, FH_LEN, &exp, &got), 0);

	/* A node without content keys neither makes nor accepts handles. */
	magma_keys vol = fh_keys;
	vol.have_content = 0;
	CU_ASSERT_EQUAL(fh_encode(&vol, 7, &fh_ref, h), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(fh_decode(&vol, h, FH_LEN, &exp, &got), MAGMA_EINVAL);
}

static CU_TestInfo fh_tests[] = {
	{ "round trip and fixed vector", test_roundtrip },
	{ "every single-bit flip refused", test_bit_flips },
	{ "wrong lengths refused", test_lengths },
	{ "wrong version or reserved byte refused", test_version_reserved },
	{ "handle of other keys refused", test_other_keys },
	CU_TEST_INFO_NULL,
};

int unit_suite_fh(void)
{
	CU_SuiteInfo suites[] = {
		{ "fh", fh_suite_init, NULL, NULL, NULL, fh_tests },
		CU_SUITE_INFO_NULL,
	};
	return CU_register_suites(suites);
}
