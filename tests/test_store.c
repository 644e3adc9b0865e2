/* test_store.c - CUnit suite for store/ (the LMDB store and kv_local). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <xxhash.h>

#include "merr.h"
#include "store.h"
#include "unit.h"

#define MiB (1024ull * 1024)

/* ---- helpers ---- */

static void mkkey(uint8_t key[KV_KEY_LEN], int n)
{
	memset(key, 0x5a, KV_KEY_LEN);
	key[KV_KEY_LEN - 1] = (uint8_t)n;
}

/* Open a store in a fresh temp dir (or dir when not NULL). */
static store *open_at(const char *dir, uint64_t map_size)
{
	store_config cfg = { .dir = dir ? dir : unit_tmpdir(),
		             .map_size = map_size };
	store *s = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg.dir);
	CU_ASSERT_EQUAL_FATAL(store_open(&s, &cfg), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

static int put1(kv *k, int key, const char *sub, const void *val, size_t vallen,
                uint64_t expect)
{
	kv_op op = { .kind = KV_PUT,
		     .sub = sub,
		     .sublen = strlen(sub),
		     .val = val,
		     .vallen = vallen,
		     .expect = expect };
	kv_batch b = { .ops = &op, .nops = 1 };

	mkkey(b.key, key);
	return kv_apply(k, &b, 1, KV_DURABLE);
}

static int puts1(kv *k, int key, const char *sub, const char *val,
                 uint64_t expect)
{
	return put1(k, key, sub, val, strlen(val), expect);
}

static int op1(kv *k, int key, int kind, const char *sub, uint64_t expect)
{
	kv_op op = { .kind = kind,
		     .sub = sub,
		     .sublen = strlen(sub),
		     .expect = expect };
	kv_batch b = { .ops = &op, .nops = 1 };

	mkkey(b.key, key);
	return kv_apply(k, &b, 1, KV_DURABLE);
}

static int del_range(kv *k, int key, const char *from, const char *end)
{
	kv_op op = { .kind = KV_DEL_RANGE,
		     .sub = from,
		     .sublen = strlen(from),
		     .val = end,
		     .vallen = end ? strlen(end) : 0 };
	kv_batch b = { .ops = &op, .nops = 1 };

	mkkey(b.key, key);
	return kv_apply(k, &b, 1, KV_UNSTABLE);
}

/* Version of (key, sub), 0 when absent. */
static uint64_t ver_of(kv *k, int key, const char *sub)
{
	uint8_t kb[KV_KEY_LEN];
	uint64_t ver = 0;
	int rc;

	mkkey(kb, key);
	rc = kv_get(k, kb, sub, strlen(sub), NULL, NULL, &ver);
	CU_ASSERT(rc == 0 || rc == MAGMA_ENOENT);
	return rc == 0 ? ver : 0;
}

/* 1 when (key, sub) holds exactly the string val. */
static int has_str(kv *k, int key, const char *sub, const char *val)
{
	uint8_t kb[KV_KEY_LEN];
	void *got = NULL;
	size_t len = 0;
	uint64_t ver;
	int ok;

	mkkey(kb, key);
	if (kv_get(k, kb, sub, strlen(sub), &got, &len, &ver) != 0)
		return 0;
	ok = len == strlen(val) && memcmp(got, val, len) == 0;
	free(got);
	return ok;
}

/* Bytewise order, shorter prefix first (LMDB's). */
static int bytes_cmp_t(const void *a, size_t alen, const void *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;

	return c ? c : (alen > blen) - (alen < blen);
}

/* ---- get / put / versions ---- */

static void test_put_get(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);
	uint8_t kb[KV_KEY_LEN];
	void *val = NULL;
	size_t len = 99;
	uint64_t ver = 0;

	mkkey(kb, 1);
	CU_ASSERT_EQUAL(kv_get(k, kb, "a", 1, &val, &len, &ver), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(puts1(k, 1, "a", "hello", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(kv_get(k, kb, "a", 1, &val, &len, &ver), 0);
	CU_ASSERT_EQUAL(len, 5);
	CU_ASSERT_EQUAL(ver, 1);
	CU_ASSERT(val && memcmp(val, "hello", 5) == 0);
	free(val);
	/* version only */
	ver = 0;
	CU_ASSERT_EQUAL(kv_get(k, kb, "a", 1, NULL, NULL, &ver), 0);
	CU_ASSERT_EQUAL(ver, 1);
	/* empty sub and empty value are ordinary records */
	CU_ASSERT_EQUAL(puts1(k, 1, "", "", KV_VER_ANY), 0);
	val = NULL;
	CU_ASSERT_EQUAL(kv_get(k, kb, "", 0, &val, &len, &ver), 0);
	CU_ASSERT_PTR_NOT_NULL(val);
	CU_ASSERT_EQUAL(len, 0);
	free(val);
	/* other ring key, same sub: distinct */
	CU_ASSERT_EQUAL(ver_of(k, 2, "a"), 0);
	store_close(s);
}

static void test_versions(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);

	for (int i = 1; i <= 5; i++) {
		CU_ASSERT_EQUAL(puts1(k, 1, "v", "x", KV_VER_ANY), 0);
		CU_ASSERT_EQUAL(ver_of(k, 1, "v"), (uint64_t)i);
	}
	CU_ASSERT_EQUAL(puts1(k, 1, "v", "y", 5), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "v"), 6);
	CU_ASSERT(has_str(k, 1, "v", "y"));
	/* a delete really deletes: the record starts again at 1 */
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "v", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "v"), 0);
	CU_ASSERT_EQUAL(puts1(k, 1, "v", "z", KV_VER_ABSENT), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "v"), 1);
	store_close(s);
}

/* ---- conditions ---- */

static void test_cond_absent(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);

	CU_ASSERT_EQUAL(puts1(k, 1, "n", "first", KV_VER_ABSENT), 0);
	CU_ASSERT_EQUAL(puts1(k, 1, "n", "second", KV_VER_ABSENT),
	                MAGMA_EEXIST);
	CU_ASSERT(has_str(k, 1, "n", "first"));
	CU_ASSERT_EQUAL(ver_of(k, 1, "n"), 1);
	/* DEL expecting absence of a present record */
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "n", KV_VER_ABSENT), MAGMA_EEXIST);
	CU_ASSERT(has_str(k, 1, "n", "first"));
	/* DEL of an absent record: no-op for ANY and ABSENT */
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "nope", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "nope", KV_VER_ABSENT), 0);
	store_close(s);
}

static void test_cond_exact(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);

	CU_ASSERT_EQUAL(puts1(k, 1, "e", "v1", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(puts1(k, 1, "e", "v2", 1), 0);
	CU_ASSERT_EQUAL(puts1(k, 1, "e", "bad", 1), MAGMA_ECONFLICT);
	CU_ASSERT_EQUAL(puts1(k, 1, "e", "bad", 3), MAGMA_ECONFLICT);
	CU_ASSERT(has_str(k, 1, "e", "v2"));
	CU_ASSERT_EQUAL(ver_of(k, 1, "e"), 2);
	/* exact version on an absent record */
	CU_ASSERT_EQUAL(puts1(k, 1, "gone", "x", 1), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(ver_of(k, 1, "gone"), 0);
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "gone", 1), MAGMA_ENOENT);
	/* conditional delete */
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "e", 1), MAGMA_ECONFLICT);
	CU_ASSERT(has_str(k, 1, "e", "v2"));
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "e", 2), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "e"), 0);
	store_close(s);
}

static void test_check(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);

	CU_ASSERT_EQUAL(puts1(k, 1, "c", "x", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(op1(k, 1, KV_CHECK, "c", 1), 0);
	CU_ASSERT_EQUAL(op1(k, 1, KV_CHECK, "c", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(op1(k, 1, KV_CHECK, "c", 2), MAGMA_ECONFLICT);
	CU_ASSERT_EQUAL(op1(k, 1, KV_CHECK, "c", KV_VER_ABSENT), MAGMA_EEXIST);
	CU_ASSERT_EQUAL(op1(k, 1, KV_CHECK, "none", KV_VER_ABSENT), 0);
	CU_ASSERT_EQUAL(op1(k, 1, KV_CHECK, "none", 1), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(ver_of(k, 1, "c"), 1); /* a check writes nothing */
	store_close(s);
}

/* A batch over two ring keys whose last op fails leaves nothing applied;
 * ops later in a batch see the earlier ones. */
static void test_batch_rollback(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);
	kv_op a[] = {
		{ .kind = KV_PUT,
		  .sub = "x",
		  .sublen = 1,
		  .val = "A",
		  .vallen = 1,
		  .expect = KV_VER_ANY },
		{ .kind = KV_DEL,
		  .sub = "old",
		  .sublen = 3,
		  .expect = KV_VER_ANY },
	};
	kv_op b[] = {
		{ .kind = KV_PUT,
		  .sub = "y",
		  .sublen = 1,
		  .val = "B",
		  .vallen = 1,
		  .expect = KV_VER_ABSENT },
		{ .kind = KV_CHECK, .sub = "y", .sublen = 1, .expect = 1 },
		{ .kind = KV_CHECK, .sub = "z", .sublen = 1, .expect = 7 },
	};
	kv_batch batch[2] = { { .ops = a, .nops = 2 },
		              { .ops = b, .nops = 3 } };

	mkkey(batch[0].key, 1);
	mkkey(batch[1].key, 2);
	CU_ASSERT_EQUAL(puts1(k, 1, "old", "keep", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(kv_apply(k, batch, 2, KV_DURABLE), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(ver_of(k, 1, "x"), 0);
	CU_ASSERT_EQUAL(ver_of(k, 2, "y"), 0);
	CU_ASSERT(has_str(k, 1, "old", "keep"));
	/* unknown kind: rejected, nothing applied */
	b[2].kind = 99;
	CU_ASSERT_EQUAL(kv_apply(k, batch, 2, KV_DURABLE), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(ver_of(k, 1, "x"), 0);
	/* now make the batch succeed: the check of y sees the put of y */
	b[2].kind = KV_CHECK;
	b[2].expect = KV_VER_ABSENT;
	CU_ASSERT_EQUAL(kv_apply(k, batch, 2, KV_UNSTABLE), 0);
	CU_ASSERT(has_str(k, 1, "x", "A"));
	CU_ASSERT(has_str(k, 2, "y", "B"));
	CU_ASSERT_EQUAL(ver_of(k, 1, "old"), 0);
	CU_ASSERT_EQUAL(kv_apply(k, batch, 0, KV_DURABLE), 0);
	store_close(s);
}

static void test_invalid(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);
	char longsub[KV_SUB_MAX + 2];
	uint8_t kb[KV_KEY_LEN];
	uint64_t ver;

	memset(longsub, 's', sizeof(longsub) - 1);
	longsub[sizeof(longsub) - 1] = 0;
	mkkey(kb, 1);
	CU_ASSERT_EQUAL(puts1(k, 1, longsub, "x", KV_VER_ANY), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(
	        kv_get(k, kb, longsub, strlen(longsub), NULL, NULL, &ver),
	        MAGMA_EINVAL);
	longsub[KV_SUB_MAX] = 0; /* exactly the maximum is fine */
	CU_ASSERT_EQUAL(puts1(k, 1, longsub, "x", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(put1(k, 1, "big", "x", KV_VAL_MAX + 1, KV_VER_ANY),
	                MAGMA_EINVAL);
	store_close(s);
}

/* ---- DEL_RANGE ---- */

static void test_del_range(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);
	const char *subs[] = { "", "a", "b", "b\x01", "ba", "c", "d" };

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		CU_ASSERT_EQUAL(puts1(k, 1, subs[i], "v", KV_VER_ANY), 0);
		CU_ASSERT_EQUAL(puts1(k, 2, subs[i], "v", KV_VER_ANY), 0);
	}
	/* [b, c): b, b\x01, ba go; c (the end) stays */
	CU_ASSERT_EQUAL(del_range(k, 1, "b", "c"), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "a"), 1);
	CU_ASSERT_EQUAL(ver_of(k, 1, "b"), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "b\x01"), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "ba"), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "c"), 1);
	CU_ASSERT_EQUAL(ver_of(k, 2, "b"), 1); /* other key untouched */
	/* empty and inverted ranges delete nothing */
	CU_ASSERT_EQUAL(del_range(k, 1, "c", "c"), 0);
	CU_ASSERT_EQUAL(del_range(k, 1, "d", "a"), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "c"), 1);
	CU_ASSERT_EQUAL(ver_of(k, 1, "d"), 1);
	/* [c, NULL): to the end of the ring key, not into key 2 */
	CU_ASSERT_EQUAL(del_range(k, 1, "c", NULL), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "c"), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "d"), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, ""), 1);
	CU_ASSERT_EQUAL(ver_of(k, 2, ""), 1);
	CU_ASSERT_EQUAL(ver_of(k, 2, "d"), 1);
	/* [ "", "b") on key 2 takes the empty sub too */
	CU_ASSERT_EQUAL(del_range(k, 2, "", "b"), 0);
	CU_ASSERT_EQUAL(ver_of(k, 2, ""), 0);
	CU_ASSERT_EQUAL(ver_of(k, 2, "a"), 0);
	CU_ASSERT_EQUAL(ver_of(k, 2, "b"), 1);
	store_close(s);
}

/* ---- scan ---- */

struct seen {
	int n;
	int stop_after; /* return 1 after this many (0: never) */
	int fail_after; /* return MAGMA_EIO after this many (0: never) */
	char subs[16][KV_SUB_MAX + 1];
	uint64_t vers[16];
};

static int collect(void *arg, const void *sub, size_t sublen, const void *val,
                   size_t vallen, uint64_t ver)
{
	struct seen *s = arg;

	(void)val;
	(void)vallen;
	if (s->n < 16) {
		memcpy(s->subs[s->n], sub, sublen);
		s->subs[s->n][sublen] = 0;
		s->vers[s->n] = ver;
	}
	s->n++;
	if (s->fail_after && s->n >= s->fail_after)
		return MAGMA_EIO;
	return s->stop_after && s->n >= s->stop_after;
}

static int scan_s(kv *k, int key, const char *prefix, const char *from,
                  size_t max, struct seen *out)
{
	uint8_t kb[KV_KEY_LEN];

	mkkey(kb, key);
	return kv_scan(k, kb, prefix, prefix ? strlen(prefix) : 0, from,
	               from ? strlen(from) : 0, max, collect, out);
}

static void test_scan(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);
	const char *subs[] = { "e/1", "d/2", "a", "d/1", "d/3" };
	struct seen sn;

	for (size_t i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(puts1(k, 1, subs[i], subs[i], KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(puts1(k, 1, "d/2", "again", KV_VER_ANY), 0);
	/* neighbours on both sides must never show up */
	CU_ASSERT_EQUAL(puts1(k, 0, "z", "x", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(puts1(k, 2, "", "x", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(puts1(k, 2, "d/0", "x", KV_VER_ANY), 0);

	memset(&sn, 0, sizeof(sn));
	CU_ASSERT_EQUAL(scan_s(k, 1, NULL, NULL, 0, &sn), 0);
	CU_ASSERT_EQUAL(sn.n, 5);
	CU_ASSERT_STRING_EQUAL(sn.subs[0], "a");
	CU_ASSERT_STRING_EQUAL(sn.subs[1], "d/1");
	CU_ASSERT_STRING_EQUAL(sn.subs[2], "d/2");
	CU_ASSERT_EQUAL(sn.vers[2], 2);
	CU_ASSERT_STRING_EQUAL(sn.subs[4], "e/1");

	memset(&sn, 0, sizeof(sn));
	CU_ASSERT_EQUAL(scan_s(k, 1, "d/", NULL, 0, &sn), 0);
	CU_ASSERT_EQUAL(sn.n, 3);
	CU_ASSERT_STRING_EQUAL(sn.subs[0], "d/1");
	CU_ASSERT_STRING_EQUAL(sn.subs[2], "d/3");

	memset(&sn, 0, sizeof(sn)); /* from inside the prefix */
	CU_ASSERT_EQUAL(scan_s(k, 1, "d/", "d/2", 0, &sn), 0);
	CU_ASSERT_EQUAL(sn.n, 2);
	CU_ASSERT_STRING_EQUAL(sn.subs[0], "d/2");

	memset(&sn, 0, sizeof(sn)); /* from before the prefix */
	CU_ASSERT_EQUAL(scan_s(k, 1, "d/", "a", 0, &sn), 0);
	CU_ASSERT_EQUAL(sn.n, 3);
	CU_ASSERT_STRING_EQUAL(sn.subs[0], "d/1");

	memset(&sn, 0, sizeof(sn)); /* from between records, no prefix */
	CU_ASSERT_EQUAL(scan_s(k, 1, NULL, "b", 0, &sn), 0);
	CU_ASSERT_EQUAL(sn.n, 4);
	CU_ASSERT_STRING_EQUAL(sn.subs[0], "d/1");

	memset(&sn, 0, sizeof(sn)); /* from past everything */
	CU_ASSERT_EQUAL(scan_s(k, 1, NULL, "zz", 0, &sn), 0);
	CU_ASSERT_EQUAL(sn.n, 0);

	memset(&sn, 0, sizeof(sn)); /* prefix nothing has */
	CU_ASSERT_EQUAL(scan_s(k, 1, "c", NULL, 0, &sn), 0);
	CU_ASSERT_EQUAL(sn.n, 0);

	memset(&sn, 0, sizeof(sn));
	CU_ASSERT_EQUAL(scan_s(k, 1, NULL, NULL, 2, &sn), 0);
	CU_ASSERT_EQUAL(sn.n, 2);

	memset(&sn, 0, sizeof(sn));
	sn.stop_after = 3;
	CU_ASSERT_EQUAL(scan_s(k, 1, NULL, NULL, 0, &sn), 0);
	CU_ASSERT_EQUAL(sn.n, 3);

	memset(&sn, 0, sizeof(sn));
	sn.fail_after = 2;
	CU_ASSERT_EQUAL(scan_s(k, 1, NULL, NULL, 0, &sn), MAGMA_EIO);
	CU_ASSERT_EQUAL(sn.n, 2);

	memset(&sn, 0, sizeof(sn)); /* a key with no records */
	CU_ASSERT_EQUAL(scan_s(k, 9, NULL, NULL, 0, &sn), 0);
	CU_ASSERT_EQUAL(sn.n, 0);
	store_close(s);
}

/* ---- read ---- */

static void test_read(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);
	size_t n = 200 * 1024 + 7, got = 1;
	uint8_t *data = malloc(n), buf[4096], kb[KV_KEY_LEN];

	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 31 + (i >> 8));
	mkkey(kb, 3);
	CU_ASSERT_EQUAL(kv_read(k, kb, "r", 1, 0, 10, buf, &got), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(put1(k, 3, "r", data, n, KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(kv_read(k, kb, "r", 1, 0, 10, buf, &got), 0);
	CU_ASSERT_EQUAL(got, 10);
	CU_ASSERT(memcmp(buf, data, 10) == 0);
	CU_ASSERT_EQUAL(kv_read(k, kb, "r", 1, 65536, sizeof(buf), buf, &got),
	                0);
	CU_ASSERT_EQUAL(got, sizeof(buf));
	CU_ASSERT(memcmp(buf, data + 65536, sizeof(buf)) == 0);
	/* across the end: only what is there */
	memset(buf, 0xee, sizeof(buf));
	CU_ASSERT_EQUAL(kv_read(k, kb, "r", 1, n - 100, sizeof(buf), buf, &got),
	                0);
	CU_ASSERT_EQUAL(got, 100);
	CU_ASSERT(memcmp(buf, data + n - 100, 100) == 0);
	CU_ASSERT_EQUAL(buf[100], 0xee); /* nothing written past got */
	/* at and past the end */
	CU_ASSERT_EQUAL(kv_read(k, kb, "r", 1, n, 10, buf, &got), 0);
	CU_ASSERT_EQUAL(got, 0);
	got = 1;
	CU_ASSERT_EQUAL(kv_read(k, kb, "r", 1, n + 5000, 10, buf, &got), 0);
	CU_ASSERT_EQUAL(got, 0);
	CU_ASSERT_EQUAL(kv_read(k, kb, "r", 1, 5, 0, buf, &got), 0);
	CU_ASSERT_EQUAL(got, 0);
	free(data);
	store_close(s);
}

/* store_read_many: ranges of several records in one transaction, a
 * missing one answered MAGMA_ENOENT alone; with a witness, nothing is
 * read unless the witness record has exactly the witness version. */
static void test_read_many(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);
	uint8_t kb[KV_KEY_LEN], a[8], b[8], c[8];
	kv_read_req q[3] = {
		{ .sub = "a", .sublen = 1, .off = 2, .len = 8, .buf = a },
		{ .sub = "b", .sublen = 1, .off = 0, .len = 8, .buf = b },
		{ .sub = "c", .sublen = 1, .off = 0, .len = 8, .buf = c },
	};
	kv_witness w = { .sub = "w", .sublen = 1 };
	uint64_t ver = 0;

	mkkey(kb, 9);
	CU_ASSERT_EQUAL(put1(k, 9, "a", "0123456789", 10, KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(put1(k, 9, "c", "xy", 2, KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(put1(k, 9, "w", "v1", 2, KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(kv_get(k, kb, "w", 1, NULL, NULL, &ver), 0);
	CU_ASSERT_EQUAL(store_read_many(s, kb, NULL, q, 3), 0);
	CU_ASSERT(q[0].rc == 0 && q[0].got == 8 && !memcmp(a, "23456789", 8));
	CU_ASSERT(q[1].rc == MAGMA_ENOENT && q[1].got == 0);
	CU_ASSERT(q[2].rc == 0 && q[2].got == 2 && !memcmp(c, "xy", 2));
	w.ver = ver;
	memset(a, 0, sizeof(a));
	CU_ASSERT_EQUAL(store_read_many(s, kb, &w, q, 3), 0);
	CU_ASSERT(q[0].got == 8 && !memcmp(a, "23456789", 8));
	/* the witness moved on (a write of the file), or is older */
	CU_ASSERT_EQUAL(put1(k, 9, "w", "v2", 2, KV_VER_ANY), 0);
	memset(a, 0, sizeof(a));
	q[0].got = 99;
	CU_ASSERT_EQUAL(store_read_many(s, kb, &w, q, 3), MAGMA_ECONFLICT);
	CU_ASSERT(q[0].got == 99 && a[0] == 0); /* nothing read */
	w.ver = ver + 2;
	CU_ASSERT_EQUAL(store_read_many(s, kb, &w, q, 3), MAGMA_ECONFLICT);
	w.sub = "nope";
	w.sublen = 4;
	w.ver = ver;
	CU_ASSERT_EQUAL(store_read_many(s, kb, &w, q, 3), MAGMA_ECONFLICT);
	/* the local kv's read_many: this node's is the only copy */
	w.here = 0;
	CU_ASSERT_EQUAL(kv_read_many(k, kb, &w, q, 3), 0);
	CU_ASSERT(w.here == 1 && q[2].got == 2);
	store_close(s);
}

/* store_read_many_view: the same reads in place (at, into the map, no
 * buf needed), held by the view across later writes; a failed witness
 * holds nothing. */
static void test_read_many_view(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);
	uint8_t kb[KV_KEY_LEN];
	kv_read_req q[3] = {
		{ .sub = "a", .sublen = 1, .off = 2, .len = 8 },
		{ .sub = "b", .sublen = 1, .off = 0, .len = 8 },
		{ .sub = "c", .sublen = 1, .off = 5, .len = 8 },
	};
	kv_witness w = { .sub = "w", .sublen = 1 };
	store_view *v = NULL;

	mkkey(kb, 9);
	CU_ASSERT_EQUAL(put1(k, 9, "a", "0123456789", 10, KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(put1(k, 9, "c", "xy", 2, KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(put1(k, 9, "w", "v1", 2, KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(kv_get(k, kb, "w", 1, NULL, NULL, &w.ver), 0);
	CU_ASSERT_EQUAL_FATAL(store_read_many_view(s, kb, &w, q, 3, &v), 0);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT(q[0].rc == 0 && q[0].got == 8 &&
	          !memcmp(q[0].at, "23456789", 8));
	CU_ASSERT(q[1].rc == MAGMA_ENOENT && q[1].got == 0 && !q[1].at);
	CU_ASSERT(q[2].rc == 0 && q[2].got == 0); /* off past the value */
	/* a write after the read does not reach the held bytes */
	CU_ASSERT_EQUAL(put1(k, 9, "a", "abcdefghij", 10, KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(put1(k, 9, "w", "v2", 2, KV_VER_ANY), 0);
	CU_ASSERT(!memcmp(q[0].at, "23456789", 8));
	store_view_end(v);
	/* the witness moved on: nothing read, nothing held */
	v = (store_view *)1;
	CU_ASSERT_EQUAL(store_read_many_view(s, kb, &w, q, 3, &v),
	                MAGMA_ECONFLICT);
	CU_ASSERT(v == NULL);
	/* the local kv: always this node's copy */
	w.ver++;
	CU_ASSERT_EQUAL(kv_read_many_view(k, kb, &w, q, 1, &v), 0);
	CU_ASSERT(v != NULL && w.here == 1 && q[0].got == 8 &&
	          !memcmp(q[0].at, "cdefghij", 8));
	store_view_end(v);
	store_close(s);
}

/* ---- persistence, sync, stat, meta ---- */

static void test_persist(void)
{
	const char *dir = unit_tmpdir();
	store *s = open_at(dir, 0);
	char buf[64];
	size_t len = 0;

	CU_ASSERT_EQUAL(puts1(store_kv(s), 1, "p", "kept", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(puts1(store_kv(s), 1, "p", "kept2", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(puts1(store_kv(s), 1, "u", "unstable", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(store_meta_put(s, "boot_count", "\x00\x07", 2), 0);
	kv_close(store_kv(s)); /* a no-op: the store stays open */
	CU_ASSERT_EQUAL(ver_of(store_kv(s), 1, "p"), 2);
	store_close(s);

	s = open_at(dir, 0);
	CU_ASSERT(has_str(store_kv(s), 1, "p", "kept2"));
	CU_ASSERT_EQUAL(ver_of(store_kv(s), 1, "p"), 2);
	CU_ASSERT(has_str(store_kv(s), 1, "u", "unstable"));
	CU_ASSERT_EQUAL(store_meta_get(s, "boot_count", buf, sizeof(buf), &len),
	                0);
	CU_ASSERT(len == 2 && memcmp(buf, "\x00\x07", 2) == 0);
	store_close(s);
}

static void test_sync_stat(void)
{
	store *s = open_at(NULL, 64 * MiB);
	kv *k = store_kv(s);
	kv_stat st0, st1;
	struct statvfs vfs;
	static uint8_t big[256 * 1024];
	char sub[16];

	CU_ASSERT_EQUAL_FATAL(statvfs("/tmp", &vfs), 0);
	CU_ASSERT_EQUAL(kv_stat_get(k, &st0), 0);
	CU_ASSERT_EQUAL(st0.records, 0);
	if ((uint64_t)vfs.f_blocks * vfs.f_frsize > 64 * MiB)
		CU_ASSERT_EQUAL(st0.bytes_total, 64 * MiB);
	CU_ASSERT(st0.bytes_free > 0 && st0.bytes_free <= st0.bytes_total);
	CU_ASSERT_EQUAL(st0.bytes_avail, st0.bytes_free);
	for (int i = 0; i < 8; i++) {
		snprintf(sub, sizeof(sub), "%d", i);
		CU_ASSERT_EQUAL(put1(k, 1, sub, big, sizeof(big), KV_VER_ANY),
		                0);
	}
	CU_ASSERT_EQUAL(kv_sync(k), 0);
	CU_ASSERT_EQUAL(kv_stat_get(k, &st1), 0);
	CU_ASSERT_EQUAL(st1.records, 8);
	CU_ASSERT(st1.bytes_free + 8 * sizeof(big) <= st0.bytes_free);
	store_close(s);

	/* default map size (1 TiB): the disk is the limit here */
	s = open_at(NULL, 0);
	CU_ASSERT_EQUAL(kv_stat_get(store_kv(s), &st0), 0);
	CU_ASSERT(st0.bytes_total <= (1ull << 40));
	CU_ASSERT(st0.bytes_total <= (uint64_t)vfs.f_blocks * vfs.f_frsize);
	CU_ASSERT(st0.bytes_free <=
	          (uint64_t)vfs.f_bavail * vfs.f_frsize + 64 * MiB);
	CU_ASSERT(st0.bytes_free > 0);
	store_close(s);
}

static void test_meta(void)
{
	store *s = open_at(NULL, 0);
	char buf[300], small[2];
	size_t len = 0;

	CU_ASSERT_EQUAL(store_meta_get(s, "x", buf, sizeof(buf), &len),
	                MAGMA_ENOENT);
	CU_ASSERT_EQUAL(store_meta_put(s, "x", "abc", 3), 0);
	CU_ASSERT_EQUAL(store_meta_put(s, "x", "abcd", 4), 0);
	CU_ASSERT_EQUAL(store_meta_get(s, "x", buf, sizeof(buf), &len), 0);
	CU_ASSERT(len == 4 && memcmp(buf, "abcd", 4) == 0);
	CU_ASSERT_EQUAL(store_meta_get(s, "x", small, sizeof(small), &len),
	                MAGMA_ETOOSMALL);
	CU_ASSERT_EQUAL(store_meta_put(s, "empty", NULL, 0), 0);
	CU_ASSERT_EQUAL(store_meta_get(s, "empty", buf, sizeof(buf), &len), 0);
	CU_ASSERT_EQUAL(len, 0);
	memset(buf, 'm', sizeof(buf));
	CU_ASSERT_EQUAL(store_meta_put(s, "max", buf, 256), 0);
	CU_ASSERT_EQUAL(store_meta_put(s, "over", buf, 257), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(store_meta_put(s, "", buf, 1), MAGMA_EINVAL);
	/* meta names are not records */
	kv_stat st;
	CU_ASSERT_EQUAL(kv_stat_get(store_kv(s), &st), 0);
	CU_ASSERT_EQUAL(st.records, 0);
	store_close(s);
}

/* ---- a full store ---- */

static void test_full(void)
{
	store *s = open_at(NULL, 1 * MiB);
	kv *k = store_kv(s);
	static uint8_t val[16 * 1024];
	char sub[16];
	int n = 0, rc = 0;

	for (n = 0; n < 1000; n++) {
		memset(val, n & 0xff, sizeof(val));
		snprintf(sub, sizeof(sub), "%04d", n);
		if ((rc = put1(k, 1, sub, val, sizeof(val), KV_VER_ANY)) != 0)
			break;
	}
	CU_ASSERT_EQUAL_FATAL(rc, MAGMA_ENOSPC);
	CU_ASSERT(n > 10);
	snprintf(sub, sizeof(sub), "%04d", n);
	CU_ASSERT_EQUAL(ver_of(k, 1, sub), 0); /* the failed put left nothing */
	for (int i = 0; i < n; i++) {
		uint8_t kb[KV_KEY_LEN], buf[sizeof(val)];
		size_t got = 0;

		mkkey(kb, 1);
		snprintf(sub, sizeof(sub), "%04d", i);
		memset(val, i & 0xff, sizeof(val));
		CU_ASSERT_EQUAL(
		        kv_read(k, kb, sub, 4, 0, sizeof(buf), buf, &got), 0);
		CU_ASSERT(got == sizeof(val) && memcmp(buf, val, got) == 0);
	}
	kv_stat st;
	CU_ASSERT_EQUAL(kv_stat_get(k, &st), 0);
	CU_ASSERT_EQUAL(st.records, (uint64_t)n);
	CU_ASSERT(st.bytes_total <= 1 * MiB);
	/* deletes work on a full store, and free room for new writes */
	for (int i = 0; i < n; i += 2) {
		snprintf(sub, sizeof(sub), "%04d", i);
		CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, sub, KV_VER_ANY), 0);
	}
	CU_ASSERT_EQUAL(put1(k, 2, "again", val, sizeof(val), KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(put1(k, 2, "again2", val, sizeof(val), KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(store_meta_put(s, "after", "ok", 2), 0);
	CU_ASSERT_EQUAL(kv_sync(k), 0);
	snprintf(sub, sizeof(sub), "%04d", 1);
	CU_ASSERT_EQUAL(ver_of(k, 1, sub), 1);
	store_close(s);
}

/* ---- refusing an unwritable directory ---- */

static int open_rc(const char *dir)
{
	store_config cfg = { .dir = dir };
	store *s = NULL;
	int rc = store_open(&s, &cfg);

	store_close(s);
	return rc;
}

static void test_unwritable(void)
{
	char dir[256];
	const char *base = unit_tmpdir();
	pid_t pid;
	int status = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	snprintf(dir, sizeof(dir), "%s/ro", base);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0555), 0);
	CU_ASSERT_EQUAL_FATAL(chmod(dir, 0555), 0);
	CU_ASSERT_EQUAL(open_rc("/nonexistent-magma/a/b"), MAGMA_ENOENT);
	if (geteuid() != 0) {
		CU_ASSERT_EQUAL(open_rc(dir), MAGMA_EACCES);
		return;
	}
	/* root writes anywhere: try as nobody in a child */
	CU_ASSERT_EQUAL_FATAL(chmod(base, 0755), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		_exit(open_rc(dir) == MAGMA_EACCES ? 0 : 1);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- threads ---- */

#define T_THREADS 4
#define T_ROUNDS 100

struct tctx {
	kv *k;
	int id;
	int errors;
};

/* Add one to the shared counter by compare-and-swap, retrying on loss. */
static int cas_incr(kv *k)
{
	uint8_t kb[KV_KEY_LEN];
	void *val;
	size_t len;
	uint64_t ver, n;

	mkkey(kb, 200);
	for (int tries = 0; tries < 1000; tries++) {
		int rc = kv_get(k, kb, "n", 1, &val, &len, &ver);
		if (rc)
			return rc;
		memcpy(&n, val, sizeof(n));
		free(val);
		n++;
		rc = put1(k, 200, "n", &n, sizeof(n), ver);
		if (rc != MAGMA_ECONFLICT)
			return rc;
	}
	return MAGMA_ECONFLICT;
}

static void *worker(void *arg)
{
	struct tctx *t = arg;
	struct seen sn;
	char val[32];

	for (int i = 0; i < T_ROUNDS; i++) {
		snprintf(val, sizeof(val), "t%d-%d", t->id, i);
		/* own record: exact-version chain never conflicts */
		if (puts1(t->k, 100 + t->id, "own", val,
		          i ? (uint64_t)i : KV_VER_ABSENT) != 0 ||
		    !has_str(t->k, 100 + t->id, "own", val) ||
		    cas_incr(t->k) != 0)
			t->errors++;
		memset(&sn, 0, sizeof(sn));
		if (scan_s(t->k, 100 + t->id, NULL, NULL, 0, &sn) != 0 ||
		    sn.n != 1)
			t->errors++;
	}
	return NULL;
}

static void test_threads(void)
{
	store *s = open_at(NULL, 0);
	kv *k = store_kv(s);
	pthread_t th[T_THREADS];
	struct tctx ctx[T_THREADS];
	uint64_t zero = 0, n = 0;
	uint8_t kb[KV_KEY_LEN];
	void *val = NULL;
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(
	        put1(k, 200, "n", &zero, sizeof(zero), KV_VER_ABSENT), 0);
	for (int i = 0; i < T_THREADS; i++) {
		ctx[i] = (struct tctx){ .k = k, .id = i };
		CU_ASSERT_EQUAL_FATAL(
		        pthread_create(&th[i], NULL, worker, &ctx[i]), 0);
	}
	for (int i = 0; i < T_THREADS; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(ctx[i].errors, 0);
		CU_ASSERT_EQUAL(ver_of(k, 100 + i, "own"), T_ROUNDS);
	}
	mkkey(kb, 200);
	CU_ASSERT_EQUAL(kv_get(k, kb, "n", 1, &val, &len, NULL), 0);
	if (val && len == sizeof(n))
		memcpy(&n, val, sizeof(n));
	free(val);
	CU_ASSERT_EQUAL(n, (uint64_t)T_THREADS * T_ROUNDS);
	CU_ASSERT_EQUAL(ver_of(k, 200, "n"),
	                (uint64_t)T_THREADS * T_ROUNDS + 1);
	store_close(s);
}

/* ---- growth ahead ---- */

#define G_MIB 160 /* written, past two growth steps */

struct gctx {
	store *s;
	volatile int stop;
	int errors;
};

/* Deletes and purges (transactions of unknown size) beside the writer. */
static void *grow_churn(void *arg)
{
	struct gctx *g = arg;
	kv *k = store_kv(g->s);
	char sub[16];
	size_t purged;

	for (int i = 0; !g->stop; i++) {
		snprintf(sub, sizeof(sub), "c%d", i % 64);
		if (put1(k, 7, sub, sub, strlen(sub), KV_VER_ANY) ||
		    op1(k, 7, KV_DEL, sub, KV_VER_ANY) ||
		    store_purge_tombstones(g->s, 0, 16, &purged))
			g->errors++;
	}
	return NULL;
}

/* Fill value i of the writer with a pattern of its own. */
static void grow_fill(uint8_t *v, size_t len, int i)
{
	for (size_t j = 0; j < len; j++)
		v[j] = (uint8_t)(i * 31 + j / 4096);
}

/* The file is grown ahead by the grower thread while commits write below
 * and transactions of unknown size run beside them: every value reads
 * back whole, before and after a reopen, and the file ends up longer
 * than what LMDB itself would have written. */
static void test_grow_ahead(void)
{
	const char *dir = unit_tmpdir();
	store_config cfg = { .dir = dir };
	static uint8_t val[16][64 * 1024], buf[64 * 1024];
	struct gctx g = { 0 };
	char path[512], sub[16];
	pthread_t th;
	struct stat st;
	store *s = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	CU_ASSERT_EQUAL_FATAL(
	        store_open_flags(&s, &cfg, STORE_TOMBSTONES | STORE_GROW_AHEAD),
	        0);
	g.s = s;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, grow_churn, &g), 0);
	for (int m = 0; m < G_MIB; m++) {
		kv_op ops[16];
		kv_batch b = { .ops = ops, .nops = 16 };
		mkkey(b.key, 1);
		for (int j = 0; j < 16; j++) {
			int i = m * 16 + j;
			snprintf(sub, sizeof(sub), "%05d", i);
			grow_fill(val[j], sizeof(val[j]), i);
			ops[j] = (kv_op){ .kind = KV_PUT,
				          .sub = strdup(sub),
				          .sublen = 5,
				          .val = val[j],
				          .vallen = sizeof(val[j]),
				          .expect = KV_VER_ANY };
		}
		CU_ASSERT_EQUAL(kv_apply(store_kv(s), &b, 1, KV_DURABLE), 0);
		for (int j = 0; j < 16; j++)
			free((void *)ops[j].sub);
	}
	g.stop = 1;
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(g.errors, 0);
	snprintf(path, sizeof(path), "%s/store.mdb", dir);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	/* LMDB alone: ~170 MiB of pages; grown: at least 8 MiB past them. */
	CU_ASSERT((uint64_t)st.st_size >= (uint64_t)(G_MIB + 18) * MiB);
	for (int pass = 0; pass < 2; pass++) {
		int bad = 0;
		for (int i = 0; i < G_MIB * 16; i++) {
			uint8_t kb[KV_KEY_LEN];
			size_t got = 0;
			mkkey(kb, 1);
			snprintf(sub, sizeof(sub), "%05d", i);
			grow_fill(val[0], sizeof(val[0]), i);
			if (kv_read(store_kv(s), kb, sub, 5, 0, sizeof(buf),
			            buf, &got) ||
			    got != sizeof(buf) || memcmp(buf, val[0], got))
				bad++;
		}
		CU_ASSERT_EQUAL(bad, 0);
		store_close(s);
		s = NULL;
		if (pass == 0)
			CU_ASSERT_EQUAL_FATAL(store_open(&s, &cfg), 0);
	}
}

/* ---- replication: tombstones, replica apply, digests, pulls ---- */

static store *open_tomb(const char *dir)
{
	store_config cfg = { .dir = dir ? dir : unit_tmpdir() };
	store *s = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg.dir);
	CU_ASSERT_EQUAL_FATAL(store_open_flags(&s, &cfg, STORE_TOMBSTONES), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

/* A ring key at a chosen place: first byte at, low bytes n. */
static void ringkey(uint8_t key[KV_KEY_LEN], uint8_t at, unsigned n)
{
	memset(key, 0, KV_KEY_LEN);
	key[0] = at;
	key[KV_KEY_LEN - 3] = (uint8_t)(n >> 16);
	key[KV_KEY_LEN - 2] = (uint8_t)(n >> 8);
	key[KV_KEY_LEN - 1] = (uint8_t)n;
}

static store_rec mkrec(const uint8_t key[KV_KEY_LEN], const char *sub,
                       uint64_t ver, uint8_t flags, const void *val,
                       size_t vallen)
{
	store_rec r = { .sub = sub,
		        .sublen = strlen(sub),
		        .version = ver,
		        .flags = flags,
		        .val = val,
		        .vallen = vallen };

	memcpy(r.key, key, KV_KEY_LEN);
	return r;
}

/* A live record with a string value / a tombstone deleted at t. */
static store_rec live_rec(const uint8_t key[KV_KEY_LEN], const char *sub,
                          uint64_t ver, const char *val)
{
	return mkrec(key, sub, ver, 0, val, strlen(val));
}

static store_rec tomb_rec(const uint8_t key[KV_KEY_LEN], const char *sub,
                          uint64_t ver, const uint8_t t[STORE_TOMB_LEN])
{
	return mkrec(key, sub, ver, STORE_REC_TOMBSTONE, t, STORE_TOMB_LEN);
}

static int apply1(store *s, store_rec r, store_replica_stats *st)
{
	return store_apply_replica(s, &r, 1, st);
}

/* Records pulled, copied out of the callback. */
struct pulled {
	size_t n, cap, bytes_page, page_max; /* per-page byte accounting */
	store_rec *r;
};

static int pull_collect(void *arg, const store_rec *r)
{
	struct pulled *p = arg;
	store_rec c = *r;
	void *sub = malloc(r->sublen + 1), *val = malloc(r->vallen + 1);

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		store_rec *nr = realloc(p->r, cap * sizeof(*nr));
		if (!nr) {
			free(sub);
			free(val);
			return MAGMA_ENOMEM;
		}
		p->r = nr;
		p->cap = cap;
	}
	if (!sub || !val) {
		free(sub);
		free(val);
		return MAGMA_ENOMEM;
	}
	memcpy(sub, r->sub, r->sublen);
	memcpy(val, r->val, r->vallen);
	c.sub = sub;
	c.val = val;
	p->r[p->n++] = c;
	p->bytes_page += KV_KEY_LEN + r->sublen + 9 + r->vallen;
	return 0;
}

static void pulled_free(struct pulled *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free((void *)p->r[i].sub);
		free((void *)p->r[i].val);
	}
	free(p->r);
	memset(p, 0, sizeof(*p));
}

/* Pull all of [start, end) in pages of max_bytes; *calls counts pages.
 * Checks the page size bound: a page passes max_bytes by at most its
 * last record. */
static int pull_all(store *s, const uint8_t *start, const uint8_t *end,
                    size_t max_bytes, struct pulled *p, int *calls)
{
	store_cursor cur = { .len = 0 }, next;
	int done = 0, rc = 0, n = 0;

	while (!done && n < 1000000) {
		size_t before = p->n;
		p->bytes_page = 0;
		rc = store_range_pull(s, start, end, &cur, max_bytes,
		                      pull_collect, p, &next, &done);
		if (rc)
			break;
		n++;
		if (p->n > before + 1) {
			store_rec *last = &p->r[p->n - 1];
			size_t lastsz =
			        KV_KEY_LEN + last->sublen + 9 + last->vallen;
			CU_ASSERT(p->bytes_page - lastsz < max_bytes);
		}
		if (p->bytes_page > p->page_max)
			p->page_max = p->bytes_page;
		cur = next;
	}
	if (calls)
		*calls = n;
	return rc;
}

/* The raw record (tombstones too) at (key, sub): version and flags, or
 * version 0 when nothing is stored. */
static uint64_t raw_ver(store *s, const uint8_t key[KV_KEY_LEN],
                        const char *sub, uint8_t *flags)
{
	struct pulled p = { 0 };
	uint8_t end[KV_KEY_LEN];
	uint64_t ver = 0;
	unsigned carry = 1;

	/* [key, key + 1): just this ring key */
	memcpy(end, key, KV_KEY_LEN);
	for (int i = KV_KEY_LEN - 1; i >= 0 && carry; i--) {
		carry = end[i] == 0xff;
		end[i]++;
	}
	CU_ASSERT_EQUAL(pull_all(s, key, end, 1 << 20, &p, NULL), 0);
	for (size_t i = 0; i < p.n; i++)
		if (p.r[i].sublen == strlen(sub) &&
		    memcmp(p.r[i].sub, sub, p.r[i].sublen) == 0) {
			ver = p.r[i].version;
			if (flags)
				*flags = p.r[i].flags;
		}
	pulled_free(&p);
	return ver;
}

static void test_tomb_lifecycle(void)
{
	const char *dir = unit_tmpdir();
	store *s = open_tomb(dir);
	kv *k = store_kv(s);
	uint8_t kb[KV_KEY_LEN], fl = 0, buf[8];
	size_t got = 0, purged = 99;
	uint64_t before, after;
	struct seen sn;
	struct timespec ts;

	mkkey(kb, 1);
	CU_ASSERT_EQUAL(puts1(k, 1, "t", "one", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(puts1(k, 1, "t", "two", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(puts1(k, 1, "u", "keep", KV_VER_ANY), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	before = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "t", 2), 0);
	/* gone for every kv reader, but a tombstone at version 3 */
	CU_ASSERT_EQUAL(ver_of(k, 1, "t"), 0);
	CU_ASSERT_EQUAL(kv_get(k, kb, "t", 1, NULL, NULL, NULL), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(kv_read(k, kb, "t", 1, 0, 8, buf, &got), MAGMA_ENOENT);
	memset(&sn, 0, sizeof(sn));
	CU_ASSERT_EQUAL(scan_s(k, 1, NULL, NULL, 0, &sn), 0);
	CU_ASSERT(sn.n == 1 && strcmp(sn.subs[0], "u") == 0);
	memset(&sn, 0, sizeof(sn)); /* a tombstone does not use up max */
	CU_ASSERT_EQUAL(scan_s(k, 1, NULL, NULL, 1, &sn), 0);
	CU_ASSERT(sn.n == 1 && strcmp(sn.subs[0], "u") == 0);
	CU_ASSERT_EQUAL(raw_ver(s, kb, "t", &fl), 3);
	CU_ASSERT_EQUAL(fl, STORE_REC_TOMBSTONE);
	/* conditions see it absent; deleting it again changes nothing */
	CU_ASSERT_EQUAL(op1(k, 1, KV_CHECK, "t", KV_VER_ABSENT), 0);
	CU_ASSERT_EQUAL(op1(k, 1, KV_CHECK, "t", 3), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "t", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "t", KV_VER_ABSENT), 0);
	CU_ASSERT_EQUAL(puts1(k, 1, "t", "x", 3), MAGMA_ENOENT);
	CU_ASSERT_EQUAL(raw_ver(s, kb, "t", NULL), 3);
	/* re-create: CAS absent over the tombstone, version goes on */
	CU_ASSERT_EQUAL(puts1(k, 1, "t", "three", KV_VER_ABSENT), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "t"), 4);
	CU_ASSERT(has_str(k, 1, "t", "three"));
	CU_ASSERT_EQUAL(puts1(k, 1, "t", "again", KV_VER_ABSENT), MAGMA_EEXIST);
	/* DEL_RANGE leaves tombstones too, and skips existing ones */
	CU_ASSERT_EQUAL(puts1(k, 1, "v", "v", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "v", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(del_range(k, 1, "", NULL), 0);
	memset(&sn, 0, sizeof(sn));
	CU_ASSERT_EQUAL(scan_s(k, 1, NULL, NULL, 0, &sn), 0);
	CU_ASSERT_EQUAL(sn.n, 0);
	CU_ASSERT_EQUAL(raw_ver(s, kb, "t", &fl), 5);
	CU_ASSERT_EQUAL(fl, STORE_REC_TOMBSTONE);
	CU_ASSERT_EQUAL(raw_ver(s, kb, "u", NULL), 2);
	CU_ASSERT_EQUAL(raw_ver(s, kb, "v", NULL), 2);
	/* they survive a restart */
	store_close(s);
	s = open_tomb(dir);
	k = store_kv(s);
	CU_ASSERT_EQUAL(raw_ver(s, kb, "t", NULL), 5);
	/* purge: nothing older than before the deletes; then in batches */
	CU_ASSERT_EQUAL(store_purge_tombstones(s, before, 10, &purged), 0);
	CU_ASSERT_EQUAL(purged, 0);
	CU_ASSERT_EQUAL(store_purge_tombstones(s, 0, 0, &purged), MAGMA_EINVAL);
	clock_gettime(CLOCK_REALTIME, &ts);
	after = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + 1;
	CU_ASSERT_EQUAL(store_purge_tombstones(s, after, 2, &purged), 0);
	CU_ASSERT_EQUAL(purged, 2);
	CU_ASSERT_EQUAL(store_purge_tombstones(s, after, 2, &purged), 0);
	CU_ASSERT_EQUAL(purged, 1);
	CU_ASSERT_EQUAL(store_purge_tombstones(s, after, 2, &purged), 0);
	CU_ASSERT_EQUAL(purged, 0);
	CU_ASSERT_EQUAL(raw_ver(s, kb, "t", NULL), 0);
	CU_ASSERT_EQUAL(raw_ver(s, kb, "u", NULL), 0);
	/* a record re-created after the purge starts above it (5) */
	CU_ASSERT_EQUAL(puts1(k, 1, "u", "new", KV_VER_ABSENT), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "u"), 6);
	/* a re-written tombstone leaves no stale index entry behind */
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "u", 6), 0);
	CU_ASSERT_EQUAL(puts1(k, 1, "u", "back", KV_VER_ABSENT), 0);
	CU_ASSERT_EQUAL(store_purge_tombstones(s, UINT64_MAX, 10, &purged), 0);
	CU_ASSERT_EQUAL(purged, 0);
	CU_ASSERT(has_str(k, 1, "u", "back"));
	CU_ASSERT_EQUAL(ver_of(k, 1, "u"), 8);
	store_close(s);

	/* without the flag a delete still deletes (single-node daemon) */
	s = open_at(NULL, 0);
	k = store_kv(s);
	CU_ASSERT_EQUAL(puts1(k, 1, "t", "x", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(op1(k, 1, KV_DEL, "t", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(raw_ver(s, kb, "t", NULL), 0);
	CU_ASSERT_EQUAL(store_purge_tombstones(s, UINT64_MAX, 1, &purged), 0);
	CU_ASSERT_EQUAL(purged, 0);
	store_close(s);
}

static const uint8_t T1[STORE_TOMB_LEN] = { 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t T2[STORE_TOMB_LEN] = { 0, 0, 0, 0, 0, 0, 0, 2 };

static void test_repl_order(void)
{
	store *s = open_tomb(NULL);
	kv *k = store_kv(s);
	store_replica_stats st = { 0 };
	uint8_t kb[KV_KEY_LEN], fl = 0;
	store_rec bad[2];

	mkkey(kb, 1);
	CU_ASSERT_EQUAL(apply1(s, live_rec(kb, "r", 2, "v2"), &st), 0);
	CU_ASSERT(has_str(k, 1, "r", "v2"));
	CU_ASSERT_EQUAL(ver_of(k, 1, "r"), 2);
	CU_ASSERT_EQUAL(apply1(s, live_rec(kb, "r", 1, "v1"), &st), 0);
	CU_ASSERT(has_str(k, 1, "r", "v2")); /* older: ignored */
	CU_ASSERT_EQUAL(apply1(s, live_rec(kb, "r", 2, "v2"), &st), 0);
	CU_ASSERT(st.applied == 1 && st.stale == 1 && st.same == 1 &&
	          st.conflicts == 0);
	/* a tombstone beats an older put, and hides the record */
	CU_ASSERT_EQUAL(apply1(s, tomb_rec(kb, "r", 3, T1), &st), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "r"), 0);
	CU_ASSERT_EQUAL(apply1(s, live_rec(kb, "r", 2, "v2"), &st), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "r"), 0);
	CU_ASSERT_EQUAL(raw_ver(s, kb, "r", &fl), 3);
	CU_ASSERT_EQUAL(fl, STORE_REC_TOMBSTONE);
	/* a put newer than the tombstone brings it back */
	CU_ASSERT_EQUAL(apply1(s, live_rec(kb, "r", 4, "v4"), &st), 0);
	CU_ASSERT(has_str(k, 1, "r", "v4"));
	CU_ASSERT_EQUAL(ver_of(k, 1, "r"), 4);
	CU_ASSERT(st.applied == 3 && st.stale == 2 && st.conflicts == 0);
	/* local writes go on from the replicated version */
	CU_ASSERT_EQUAL(puts1(k, 1, "r", "v5", 4), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "r"), 5);
	/* a tombstone onto nothing is kept (a missed create + delete) */
	CU_ASSERT_EQUAL(apply1(s, tomb_rec(kb, "n", 7, T1), &st), 0);
	CU_ASSERT_EQUAL(raw_ver(s, kb, "n", NULL), 7);
	CU_ASSERT_EQUAL(apply1(s, live_rec(kb, "n", 6, "late"), &st), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "n"), 0);
	/* malformed records: nothing of the call is applied */
	bad[0] = live_rec(kb, "b", 1, "ok");
	bad[1] = live_rec(kb, "b2", 0, "zero version");
	CU_ASSERT_EQUAL(store_apply_replica(s, bad, 2, &st), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(ver_of(k, 1, "b"), 0);
	bad[1] = mkrec(kb, "b2", 1, STORE_REC_TOMBSTONE, "short", 5);
	CU_ASSERT_EQUAL(store_apply_replica(s, bad, 2, NULL), MAGMA_EINVAL);
	bad[1] = mkrec(kb, "b2", 1, 0x80, "x", 1);
	CU_ASSERT_EQUAL(store_apply_replica(s, bad, 2, NULL), MAGMA_EINVAL);
	bad[1] = live_rec(kb, "b2", KV_VER_ANY, "x");
	CU_ASSERT_EQUAL(store_apply_replica(s, bad, 2, NULL), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(ver_of(k, 1, "b"), 0);
	CU_ASSERT_EQUAL(store_apply_replica(s, bad, 1, NULL), 0);
	CU_ASSERT_EQUAL(store_apply_replica(s, NULL, 0, NULL), 0);
	CU_ASSERT_EQUAL(ver_of(k, 1, "b"), 1);
	/* the tombstones it wrote are purged like local ones */
	size_t purged = 0;
	CU_ASSERT_EQUAL(store_purge_tombstones(s, 2, 10, &purged), 0);
	CU_ASSERT_EQUAL(purged, 1); /* "n" deleted at t=1; "r" was revived */
	CU_ASSERT_EQUAL(raw_ver(s, kb, "n", NULL), 0);
	store_close(s);
}

/* Apply a then b on one store and b then a on another: both must end
 * with the bytes of want, each counting one conflict. */
static void converge(store_rec a, store_rec b, const store_rec *want)
{
	store *s1 = open_tomb(NULL), *s2 = open_tomb(NULL);
	store_replica_stats st1 = { 0 }, st2 = { 0 };
	uint8_t d1[STORE_DIGEST_LEN], d2[STORE_DIGEST_LEN], z[KV_KEY_LEN];
	struct pulled p = { 0 };
	uint64_t n = 0;

	memset(z, 0, sizeof(z));
	CU_ASSERT_EQUAL(apply1(s1, a, &st1), 0);
	CU_ASSERT_EQUAL(apply1(s1, b, &st1), 0);
	CU_ASSERT_EQUAL(apply1(s2, b, &st2), 0);
	CU_ASSERT_EQUAL(apply1(s2, a, &st2), 0);
	CU_ASSERT_EQUAL(st1.conflicts, 1);
	CU_ASSERT_EQUAL(st2.conflicts, 1);
	CU_ASSERT_EQUAL(store_conflicts(s1, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(store_range_digest(s1, z, z, d1, NULL), 0);
	CU_ASSERT_EQUAL(store_range_digest(s2, z, z, d2, NULL), 0);
	CU_ASSERT(memcmp(d1, d2, sizeof(d1)) == 0);
	CU_ASSERT_EQUAL(pull_all(s1, z, z, 4096, &p, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(p.n, 1);
	CU_ASSERT(p.r[0].version == want->version &&
	          p.r[0].flags == want->flags &&
	          p.r[0].vallen == want->vallen &&
	          memcmp(p.r[0].val, want->val, want->vallen) == 0);
	pulled_free(&p);
	store_close(s1);
	store_close(s2);
}

static void test_repl_conflict(void)
{
	uint8_t kb[KV_KEY_LEN];
	store_rec apple, banana, bananas, tomb1, tomb2;

	mkkey(kb, 1);
	apple = live_rec(kb, "c", 2, "apple");
	banana = live_rec(kb, "c", 2, "banana");
	bananas = live_rec(kb, "c", 2, "bananas");
	tomb1 = tomb_rec(kb, "c", 2, T1);
	tomb2 = tomb_rec(kb, "c", 2, T2);
	converge(apple, banana, &banana);    /* bytewise greater value */
	converge(banana, bananas, &bananas); /* a prefix is smaller */
	converge(tomb1, apple, &apple);      /* live beats tombstone */
	converge(apple, tomb2, &apple);
	converge(tomb2, tomb1, &tomb2); /* later deletion */

	/* the conflict is resolved once: a third copy of the loser is
	 * another conflict, counted and persistent across a reopen */
	const char *dir = unit_tmpdir();
	store *s = open_tomb(dir);
	uint64_t n = 0;
	CU_ASSERT_EQUAL(apply1(s, apple, NULL), 0);
	CU_ASSERT_EQUAL(apply1(s, banana, NULL), 0);
	CU_ASSERT_EQUAL(apply1(s, apple, NULL), 0);
	CU_ASSERT(has_str(store_kv(s), 1, "c", "banana"));
	store_close(s);
	s = open_tomb(dir);
	CU_ASSERT_EQUAL(store_conflicts(s, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	store_close(s);

	/* A node catching up after its start keeps the incoming copy of a
	 * tie, whatever its bytes (its own may be an unforwarded write);
	 * still a conflict, counted.  Off again, the rule is bytewise. */
	store_replica_stats st = { 0 };
	s = open_tomb(NULL);
	store_set_restart_ties(s, 1);
	CU_ASSERT_EQUAL(apply1(s, banana, &st), 0);
	CU_ASSERT_EQUAL(apply1(s, apple, &st), 0);
	CU_ASSERT(has_str(store_kv(s), 1, "c", "apple"));
	CU_ASSERT_EQUAL(apply1(s, tomb1, &st), 0);
	uint8_t fl = 0;
	CU_ASSERT_EQUAL(raw_ver(s, kb, "c", &fl), 2);
	CU_ASSERT(fl & STORE_REC_TOMBSTONE);
	CU_ASSERT_EQUAL(st.conflicts, 2);
	store_set_restart_ties(s, 0);
	CU_ASSERT_EQUAL(apply1(s, apple, &st), 0); /* live beats tombstone */
	CU_ASSERT(has_str(store_kv(s), 1, "c", "apple"));
	CU_ASSERT_EQUAL(apply1(s, banana, &st), 0);
	CU_ASSERT_EQUAL(apply1(s, apple, &st), 0);
	CU_ASSERT(has_str(store_kv(s), 1, "c", "banana"));
	CU_ASSERT_EQUAL(st.conflicts, 5);
	store_close(s);
}

/* ---- digests ---- */

#define D_RECS 40

/* Fill s with D_RECS records spread over the ring, in the given order
 * (forward or reverse); change alters record 17: 1 value (same
 * version), 2 version, 3 tombstone, 4 dropped. */
static void fill(store *s, int reverse, int change)
{
	char val[32], sub[8];

	for (int j = 0; j < D_RECS; j++) {
		int i = reverse ? D_RECS - 1 - j : j;
		uint8_t kb[KV_KEY_LEN];
		store_rec r;

		ringkey(kb, (uint8_t)(i * 6), (unsigned)i);
		snprintf(sub, sizeof(sub), "s%d", i % 3);
		snprintf(val, sizeof(val), "value %d", i);
		r = live_rec(kb, sub, (uint64_t)i + 1, val);
		if (i == 17 && change == 1)
			r = live_rec(kb, sub, (uint64_t)i + 1, "value 17!");
		if (i == 17 && change == 2)
			r.version++;
		if (i == 17 && change == 3)
			r = tomb_rec(kb, sub, (uint64_t)i + 1, T1);
		if (i == 17 && change == 4)
			continue;
		CU_ASSERT_EQUAL(apply1(s, r, NULL), 0);
	}
}

static void test_digest(void)
{
	uint8_t z[KV_KEY_LEN], base[STORE_DIGEST_LEN], d[STORE_DIGEST_LEN];
	uint8_t e1[STORE_DIGEST_LEN], e2[STORE_DIGEST_LEN];
	uint64_t n = 0;
	store *a = open_tomb(NULL), *b;

	memset(z, 0, sizeof(z));
	/* empty stores agree */
	b = open_tomb(NULL);
	CU_ASSERT_EQUAL(store_range_digest(a, z, z, e1, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(store_range_digest(b, z, z, e2, NULL), 0);
	CU_ASSERT(memcmp(e1, e2, sizeof(e1)) == 0);
	store_close(b);

	fill(a, 0, 0);
	CU_ASSERT_EQUAL(store_range_digest(a, z, z, base, &n), 0);
	CU_ASSERT_EQUAL(n, D_RECS);
	CU_ASSERT(memcmp(base, e1, sizeof(base)) != 0);
	/* independent of insertion order */
	b = open_tomb(NULL);
	fill(b, 1, 0);
	CU_ASSERT_EQUAL(store_range_digest(b, z, z, d, &n), 0);
	CU_ASSERT_EQUAL(n, D_RECS);
	CU_ASSERT(memcmp(base, d, sizeof(d)) == 0);
	store_close(b);
	/* any single change shows */
	for (int change = 1; change <= 4; change++) {
		b = open_tomb(NULL);
		fill(b, change & 1, change);
		CU_ASSERT_EQUAL(store_range_digest(b, z, z, d, &n), 0);
		CU_ASSERT_EQUAL(n, change == 4 ? D_RECS - 1 : D_RECS);
		CU_ASSERT(memcmp(base, d, sizeof(d)) != 0);
		store_close(b);
	}
	/* a local delete changes it; the same delete replicated agrees */
	b = open_tomb(NULL);
	fill(b, 0, 0);
	uint8_t kb[KV_KEY_LEN];
	ringkey(kb, 5 * 6, 5);
	kv_op del = {
		.kind = KV_DEL, .sub = "s2", .sublen = 2, .expect = KV_VER_ANY
	};
	kv_batch bt = { .ops = &del, .nops = 1 };
	memcpy(bt.key, kb, KV_KEY_LEN);
	CU_ASSERT_EQUAL(kv_apply(store_kv(b), &bt, 1, KV_DURABLE), 0);
	CU_ASSERT_EQUAL(store_range_digest(b, z, z, d, &n), 0);
	CU_ASSERT_EQUAL(n, D_RECS);
	CU_ASSERT(memcmp(base, d, sizeof(d)) != 0);
	struct pulled p = { 0 };
	uint8_t end[KV_KEY_LEN];
	memcpy(end, kb, KV_KEY_LEN);
	end[KV_KEY_LEN - 1]++;
	CU_ASSERT_EQUAL(pull_all(b, kb, end, 1 << 20, &p, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(p.n, 1);
	CU_ASSERT_EQUAL(p.r[0].flags, STORE_REC_TOMBSTONE);
	CU_ASSERT_EQUAL(p.r[0].version, 7);
	CU_ASSERT_EQUAL(store_apply_replica(a, p.r, 1, NULL), 0);
	pulled_free(&p);
	CU_ASSERT_EQUAL(store_range_digest(a, z, z, base, NULL), 0);
	CU_ASSERT(memcmp(base, d, sizeof(d)) == 0);
	store_close(b);
	store_close(a);
}

static void test_digest_split(void)
{
	uint8_t z[KV_KEY_LEN], pt[KV_KEY_LEN], top[KV_KEY_LEN];
	uint8_t da[16][STORE_DIGEST_LEN], db[16][STORE_DIGEST_LEN];
	uint8_t whole[STORE_DIGEST_LEN];
	uint64_t ca[16], cb[16], sum = 0, n = 0;
	store *a = open_tomb(NULL), *b = open_tomb(NULL);
	int differ = 0, which = -1;

	memset(z, 0, sizeof(z));
	memset(top, 0xff, sizeof(top));
	/* the points: whole ring from 0 in 16 parts = first byte i * 16 */
	for (unsigned i = 0; i <= 16; i++) {
		CU_ASSERT_EQUAL(store_range_point(z, z, 16, i, pt), 0);
		CU_ASSERT_EQUAL(pt[0], (uint8_t)(i * 16));
		CU_ASSERT_EQUAL(pt[1], 0);
	}
	CU_ASSERT_EQUAL(store_range_point(z, top, 3, 3, pt), 0);
	CU_ASSERT(memcmp(pt, top, KV_KEY_LEN) == 0);
	CU_ASSERT_EQUAL(store_range_point(z, z, 0, 0, pt), MAGMA_EINVAL);
	CU_ASSERT_EQUAL(store_range_point(z, z, 4, 5, pt), MAGMA_EINVAL);
	/* a wrapping range: [0xf0.., 0x10..) in 2 parts meets at 0 */
	uint8_t s0[KV_KEY_LEN], e0[KV_KEY_LEN];
	ringkey(s0, 0xf0, 0);
	ringkey(e0, 0x10, 0);
	CU_ASSERT_EQUAL(store_range_point(s0, e0, 2, 1, pt), 0);
	CU_ASSERT(memcmp(pt, z, KV_KEY_LEN) == 0);

	fill(a, 0, 0);
	fill(b, 0, 1); /* record 17 (at 17 * 6 = 0x66) differs */
	CU_ASSERT_EQUAL(store_range_digest_split(a, z, z, 16, da, ca), 0);
	CU_ASSERT_EQUAL(store_range_digest_split(b, z, z, 16, db, cb), 0);
	for (int i = 0; i < 16; i++) {
		sum += ca[i];
		CU_ASSERT_EQUAL(ca[i], cb[i]);
		if (memcmp(da[i], db[i], STORE_DIGEST_LEN)) {
			differ++;
			which = i;
		}
	}
	CU_ASSERT_EQUAL(sum, D_RECS);
	CU_ASSERT_EQUAL(differ, 1);
	CU_ASSERT_EQUAL(which, 0x66 / 16);
	/* a part's digest is the digest of its sub-range */
	uint8_t lo[KV_KEY_LEN], hi[KV_KEY_LEN];
	CU_ASSERT_EQUAL(store_range_point(z, z, 16, 6, lo), 0);
	CU_ASSERT_EQUAL(store_range_point(z, z, 16, 7, hi), 0);
	CU_ASSERT_EQUAL(store_range_digest(b, lo, hi, whole, &n), 0);
	CU_ASSERT(memcmp(whole, db[6], STORE_DIGEST_LEN) == 0);
	CU_ASSERT_EQUAL(n, cb[6]);
	/* one part is the whole range */
	CU_ASSERT_EQUAL(store_range_digest_split(a, z, z, 1, da, NULL), 0);
	CU_ASSERT_EQUAL(store_range_digest(a, z, z, whole, NULL), 0);
	CU_ASSERT(memcmp(whole, da[0], STORE_DIGEST_LEN) == 0);
	CU_ASSERT_EQUAL(store_range_digest_split(a, z, z, 0, da, NULL),
	                MAGMA_EINVAL);
	store_close(a);
	store_close(b);
}

static void test_wrap(void)
{
	store *s = open_tomb(NULL);
	uint8_t kb[KV_KEY_LEN], lo[KV_KEY_LEN], hi[KV_KEY_LEN];
	uint8_t d1[STORE_DIGEST_LEN], d2[STORE_DIGEST_LEN];
	uint8_t parts[4][STORE_DIGEST_LEN];
	const uint8_t at[] = { 0x10, 0x80, 0xf0, 0xc0, 0x20 };
	uint64_t n = 0, c[4];
	struct pulled p = { 0 };

	for (size_t i = 0; i < sizeof(at); i++) {
		ringkey(kb, at[i], 0);
		CU_ASSERT_EQUAL(apply1(s, live_rec(kb, "a", 1, "x"), NULL), 0);
		CU_ASSERT_EQUAL(apply1(s, live_rec(kb, "b", 1, "y"), NULL), 0);
	}
	ringkey(lo, 0xc0, 0);
	ringkey(hi, 0x20, 0);
	/* [c0, 20) wraps: c0, f0, 10 (its end, 20, is out) */
	CU_ASSERT_EQUAL(store_range_digest(s, lo, hi, d1, &n), 0);
	CU_ASSERT_EQUAL(n, 6);
	CU_ASSERT_EQUAL(pull_all(s, lo, hi, 1, &p, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(p.n, 6);
	CU_ASSERT(p.r[0].key[0] == 0xc0 && p.r[1].key[0] == 0xc0 &&
	          p.r[2].key[0] == 0xf0 && p.r[4].key[0] == 0x10);
	CU_ASSERT(*(const char *)p.r[4].sub == 'a' &&
	          *(const char *)p.r[5].sub == 'b');
	pulled_free(&p);
	/* the split of a wrapping range covers it exactly */
	CU_ASSERT_EQUAL(store_range_digest_split(s, lo, hi, 4, parts, c), 0);
	CU_ASSERT_EQUAL(c[0] + c[1] + c[2] + c[3], 6);
	/* [20, c0): the rest */
	CU_ASSERT_EQUAL(store_range_digest(s, hi, lo, d2, &n), 0);
	CU_ASSERT_EQUAL(n, 4);
	/* start == end: the whole ring, in ring order from start */
	CU_ASSERT_EQUAL(pull_all(s, hi, hi, 100, &p, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(p.n, 10);
	CU_ASSERT(p.r[0].key[0] == 0x20 && p.r[9].key[0] == 0x10);
	pulled_free(&p);
	CU_ASSERT_EQUAL(store_range_digest(s, hi, hi, d1, &n), 0);
	CU_ASSERT_EQUAL(n, 10);
	/* a cursor outside a plain range starts at the range */
	store_cursor cur = { .len = KV_KEY_LEN }, next;
	int done = 0;
	ringkey(cur.key, 0x05, 0);
	CU_ASSERT_EQUAL(store_range_pull(s, hi, lo, &cur, 1 << 20, pull_collect,
	                                 &p, &next, &done),
	                0);
	CU_ASSERT_EQUAL(p.n, 4);
	CU_ASSERT_EQUAL(done, 1);
	pulled_free(&p);
	store_close(s);
}

/* Key order of a pulled list inside a non-wrapping range. */
static int strictly_ordered(const struct pulled *p)
{
	for (size_t i = 1; i < p->n; i++) {
		int c = memcmp(p->r[i - 1].key, p->r[i].key, KV_KEY_LEN);
		if (c == 0)
			c = bytes_cmp_t(p->r[i - 1].sub, p->r[i - 1].sublen,
			                p->r[i].sub, p->r[i].sublen);
		if (c >= 0)
			return 0;
	}
	return 1;
}

static void test_pull_resume(void)
{
	store *s = open_tomb(NULL);
	kv *k = store_kv(s);
	uint8_t z[KV_KEY_LEN], lo[KV_KEY_LEN], hi[KV_KEY_LEN];
	char sub[16], val[128];
	struct pulled p = { 0 };
	int calls = 0, tombs = 0;

	memset(z, 0, sizeof(z));
	for (int i = 0; i < 300; i++) {
		kv_op op = { .kind = KV_PUT, .val = val, .expect = KV_VER_ANY };
		kv_batch b = { .ops = &op, .nops = 1 };
		ringkey(b.key, (uint8_t)(i % 251), (unsigned)i);
		snprintf(sub, sizeof(sub), "%d", i % 7);
		memset(val, 'a' + i % 26, sizeof(val));
		op.sub = sub;
		op.sublen = strlen(sub);
		op.vallen = (size_t)(i % 100) + 1;
		CU_ASSERT_EQUAL(kv_apply(k, &b, 1, KV_DURABLE), 0);
		if (i % 10 == 0) {
			op.kind = KV_DEL;
			CU_ASSERT_EQUAL(kv_apply(k, &b, 1, KV_DURABLE), 0);
		}
	}
	CU_ASSERT_EQUAL(pull_all(s, z, z, 500, &p, &calls), 0);
	CU_ASSERT_EQUAL(p.n, 300);
	CU_ASSERT(calls > 20);
	CU_ASSERT(strictly_ordered(&p));
	for (size_t i = 0; i < p.n; i++)
		tombs += p.r[i].flags == STORE_REC_TOMBSTONE;
	CU_ASSERT_EQUAL(tombs, 30);
	pulled_free(&p);
	/* a wrapping range, resumed across its wrap */
	ringkey(lo, 200, 0);
	ringkey(hi, 50, 0);
	CU_ASSERT_EQUAL(pull_all(s, lo, hi, 300, &p, &calls), 0);
	size_t want = 0;
	for (int i = 0; i < 300; i++)
		want += i % 251 >= 200 || i % 251 < 50;
	CU_ASSERT_EQUAL(p.n, want);
	size_t firstlow = 0;
	while (firstlow < p.n && p.r[firstlow].key[0] >= 200)
		firstlow++;
	for (size_t i = firstlow; i < p.n; i++)
		CU_ASSERT(p.r[i].key[0] < 50);
	pulled_free(&p);
	/* one record larger than max_bytes still moves, one per call */
	CU_ASSERT_EQUAL(pull_all(s, z, z, 1, &p, &calls), 0);
	CU_ASSERT_EQUAL(p.n, 300);
	CU_ASSERT_EQUAL(calls, 300);
	pulled_free(&p);
	store_close(s);
}

/* Copy every record of src's whole ring into dst by pages. */
static void sync_into(store *dst, store *src, store_replica_stats *st)
{
	uint8_t z[KV_KEY_LEN];
	store_cursor cur = { .len = 0 }, next;
	struct pulled p = { 0 };
	int done = 0;

	memset(z, 0, sizeof(z));
	while (!done) {
		CU_ASSERT_EQUAL_FATAL(store_range_pull(src, z, z, &cur, 4096,
		                                       pull_collect, &p, &next,
		                                       &done),
		                      0);
		CU_ASSERT_EQUAL(store_apply_replica(dst, p.r, p.n, st), 0);
		pulled_free(&p);
		cur = next;
	}
}

static void test_full_sync(void)
{
	store *a = open_tomb(NULL), *b = open_tomb(NULL);
	uint8_t z[KV_KEY_LEN], da[STORE_DIGEST_LEN], db[STORE_DIGEST_LEN];
	uint8_t kb[KV_KEY_LEN];
	uint64_t na = 0, nb = 0;
	store_replica_stats st = { 0 };

	memset(z, 0, sizeof(z));
	fill(a, 0, 0);
	fill(b, 1, 2); /* b: record 17 one version ahead */
	/* a: local writes and deletes; b: a record a lacks, a stale copy */
	CU_ASSERT_EQUAL(puts1(store_kv(a), 3, "new", "on a", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(op1(store_kv(a), 3, KV_DEL, "new", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(puts1(store_kv(a), 4, "x", "ax", KV_VER_ANY), 0);
	CU_ASSERT_EQUAL(puts1(store_kv(b), 5, "y", "by", KV_VER_ANY), 0);
	ringkey(kb, 3 * 6, 3);
	CU_ASSERT_EQUAL(apply1(a, live_rec(kb, "s0", 9, "newer on a"), NULL),
	                0);
	CU_ASSERT_EQUAL(store_range_digest(a, z, z, da, NULL), 0);
	CU_ASSERT_EQUAL(store_range_digest(b, z, z, db, NULL), 0);
	CU_ASSERT(memcmp(da, db, sizeof(da)) != 0);
	sync_into(b, a, &st);
	sync_into(a, b, &st);
	CU_ASSERT_EQUAL(store_range_digest(a, z, z, da, &na), 0);
	CU_ASSERT_EQUAL(store_range_digest(b, z, z, db, &nb), 0);
	CU_ASSERT(memcmp(da, db, sizeof(da)) == 0);
	CU_ASSERT_EQUAL(na, nb);
	CU_ASSERT_EQUAL(na, D_RECS + 3);
	CU_ASSERT_EQUAL(st.conflicts, 0);
	CU_ASSERT(has_str(store_kv(b), 4, "x", "ax"));
	CU_ASSERT(has_str(store_kv(a), 5, "y", "by"));
	CU_ASSERT_EQUAL(ver_of(store_kv(b), 3, "new"), 0); /* stays deleted */
	store_close(a);
	store_close(b);
}

#define BIG_RECS 50000
#define BIG_BATCH 5000

/* ---- format 1: records without their value hash ----
 * Built with LMDB directly, as a magmad of format 1 left it. */

static MDB_env *raw_open(const char *dir, MDB_txn **txn, MDB_dbi *rec,
                         MDB_dbi *meta, MDB_dbi *tomb)
{
	char path[4096];
	MDB_env *env = NULL;

	snprintf(path, sizeof(path), "%s/store.mdb", dir);
	CU_ASSERT_EQUAL_FATAL(mdb_env_create(&env), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_env_set_maxdbs(env, 4), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_env_set_mapsize(env, 64 * MiB), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_env_open(env, path, MDB_NOSUBDIR, 0600), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_txn_begin(env, NULL, 0, txn), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(*txn, "rec", MDB_CREATE, rec), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(*txn, "meta", MDB_CREATE, meta), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(*txn, "tomb", MDB_CREATE, tomb), 0);
	return env;
}

static void raw_format(MDB_txn *txn, MDB_dbi meta, uint8_t fmt)
{
	uint8_t f[4] = { 0, 0, 0, fmt };
	MDB_val k = { 6, "format" }, v = { sizeof(f), f };

	CU_ASSERT_EQUAL(mdb_put(txn, meta, &k, &v, 0), 0);
}

/* r as format 1 wrote it: { u64 version; u8 flags } || value. */
static void raw_put_v1(MDB_txn *txn, MDB_dbi rec, MDB_dbi tomb,
                       const store_rec *r)
{
	uint8_t kb[KV_KEY_LEN + KV_SUB_MAX], ib[8 + sizeof(kb)];
	uint8_t *vb = malloc(9 + r->vallen);
	MDB_val k = { KV_KEY_LEN + r->sublen, kb }, v = { 9 + r->vallen, vb };
	MDB_val ik = { 8 + k.mv_size, ib }, empty = { 0, "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(vb);
	memcpy(kb, r->key, KV_KEY_LEN);
	memcpy(kb + KV_KEY_LEN, r->sub, r->sublen);
	for (int i = 0; i < 8; i++)
		vb[i] = (uint8_t)(r->version >> (56 - 8 * i));
	vb[8] = r->flags;
	memcpy(vb + 9, r->val, r->vallen);
	CU_ASSERT_EQUAL(mdb_put(txn, rec, &k, &v, 0), 0);
	if (r->flags & STORE_REC_TOMBSTONE) { /* its index entry */
		memcpy(ib, r->val, 8);
		memcpy(ib + 8, kb, k.mv_size);
		CU_ASSERT_EQUAL(mdb_put(txn, tomb, &ik, &empty, 0), 0);
	}
	free(vb);
}

/* The stored bytes of (key, sub) into *v (malloc'd), or 0 bytes. */
static size_t raw_get(const char *dir, const uint8_t key[KV_KEY_LEN],
                      const char *sub, uint8_t **v)
{
	uint8_t kb[KV_KEY_LEN + KV_SUB_MAX];
	MDB_dbi rec, meta, tomb;
	MDB_txn *txn;
	MDB_env *env = raw_open(dir, &txn, &rec, &meta, &tomb);
	MDB_val k = { KV_KEY_LEN + strlen(sub), kb }, got;
	size_t n = 0;

	memcpy(kb, key, KV_KEY_LEN);
	memcpy(kb + KV_KEY_LEN, sub, strlen(sub));
	*v = NULL;
	if (mdb_get(txn, rec, &k, &got) == 0 && (*v = malloc(got.mv_size))) {
		memcpy(*v, got.mv_data, got.mv_size);
		n = got.mv_size;
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}

static void digests_agree(store *a, store *b)
{
	uint8_t z[KV_KEY_LEN], da[4][STORE_DIGEST_LEN], db[4][STORE_DIGEST_LEN];
	uint64_t na[4], nb[4];

	memset(z, 0, sizeof(z));
	CU_ASSERT_EQUAL(store_range_digest_split(a, z, z, 4, da, na), 0);
	CU_ASSERT_EQUAL(store_range_digest_split(b, z, z, 4, db, nb), 0);
	CU_ASSERT(memcmp(da, db, sizeof(da)) == 0);
	CU_ASSERT(memcmp(na, nb, sizeof(na)) == 0);
}

/* A format-1 store opens as format 2; its records read and digest as
 * the same records written now, and are rewritten with the hash only
 * when they change.  Formats past 2 are refused. */
static void test_format1(void)
{
	const char *dir = unit_tmpdir();
	size_t bigsz = 200 * 1024, n;
	uint8_t kb[KV_KEY_LEN], fmt[8], *big = malloc(bigsz), *raw;
	MDB_dbi rec, meta, tomb;
	MDB_txn *txn;
	MDB_env *env;
	store_rec recs[4];
	store *old, *now;
	void *val = NULL;
	size_t vallen = 0;
	uint64_t ver = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	for (size_t i = 0; i < bigsz; i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	mkkey(kb, 9);
	recs[0] = live_rec(kb, "a", 3, "apple");
	recs[1] = mkrec(kb, "big", 1, 0, big, bigsz);
	recs[2] = live_rec(kb, "e", 2, "");
	recs[3] = tomb_rec(kb, "t", 4, T1);
	env = raw_open(dir, &txn, &rec, &meta, &tomb);
	raw_format(txn, meta, 1);
	for (int i = 0; i < 4; i++)
		raw_put_v1(txn, rec, tomb, &recs[i]);
	CU_ASSERT_EQUAL_FATAL(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	old = open_tomb(dir);
	CU_ASSERT_EQUAL(store_meta_get(old, "format", fmt, sizeof(fmt), &n), 0);
	CU_ASSERT(n == 4 && fmt[3] == 2);
	CU_ASSERT_EQUAL(kv_get(store_kv(old), kb, "a", 1, &val, &vallen, &ver),
	                0);
	CU_ASSERT(ver == 3 && vallen == 5 && memcmp(val, "apple", 5) == 0);
	free(val);
	CU_ASSERT_EQUAL(
	        kv_get(store_kv(old), kb, "big", 3, &val, &vallen, &ver), 0);
	CU_ASSERT(ver == 1 && vallen == bigsz && memcmp(val, big, bigsz) == 0);
	free(val);
	CU_ASSERT_EQUAL(kv_get(store_kv(old), kb, "e", 1, &val, &vallen, &ver),
	                0);
	CU_ASSERT(ver == 2 && vallen == 0);
	free(val);
	CU_ASSERT_EQUAL(kv_get(store_kv(old), kb, "t", 1, &val, &vallen, &ver),
	                MAGMA_ENOENT);
	CU_ASSERT_EQUAL(raw_ver(old, kb, "t", NULL), 4);

	/* the same records written by format 2 digest the same */
	now = open_tomb(NULL);
	CU_ASSERT_EQUAL(store_apply_replica(now, recs, 4, NULL), 0);
	digests_agree(old, now);
	/* and so do both after the same change */
	CU_ASSERT_EQUAL(apply1(old, live_rec(kb, "a", 5, "apricot"), NULL), 0);
	CU_ASSERT_EQUAL(apply1(now, live_rec(kb, "a", 5, "apricot"), NULL), 0);
	digests_agree(old, now);
	/* a value that differs at the same version shows */
	CU_ASSERT_EQUAL(apply1(now, live_rec(kb, "e", 2, "x"), NULL), 0);
	uint8_t z[KV_KEY_LEN], d1[STORE_DIGEST_LEN], d2[STORE_DIGEST_LEN];
	memset(z, 0, sizeof(z));
	CU_ASSERT_EQUAL(store_range_digest(old, z, z, d1, NULL), 0);
	CU_ASSERT_EQUAL(store_range_digest(now, z, z, d2, NULL), 0);
	CU_ASSERT(memcmp(d1, d2, sizeof(d1)) != 0);
	store_close(old);
	store_close(now);

	/* on disk: the rewritten record has the hash, the others not */
	n = raw_get(dir, kb, "a", &raw);
	CU_ASSERT_EQUAL_FATAL(n, 25 + 7);
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits("apricot", 7));
	CU_ASSERT(raw[7] == 5 && raw[8] == 0x80);
	CU_ASSERT(memcmp(raw + 9, c.digest, 16) == 0);
	CU_ASSERT(memcmp(raw + 25, "apricot", 7) == 0);
	free(raw);
	n = raw_get(dir, kb, "big", &raw);
	CU_ASSERT(n == 9 + bigsz && raw && raw[8] == 0);
	free(raw);

	/* a format this build does not know is refused, not misread */
	env = raw_open(dir, &txn, &rec, &meta, &tomb);
	raw_format(txn, meta, 3);
	CU_ASSERT_EQUAL_FATAL(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	store_config cfg = { .dir = dir };
	old = NULL;
	CU_ASSERT_EQUAL(store_open_flags(&old, &cfg, STORE_TOMBSTONES),
	                MAGMA_ECONFIG);
	CU_ASSERT_PTR_NULL(old);
	free(big);
}

static void test_big_range(void)
{
	store *s = open_tomb(NULL);
	store_rec *recs = calloc(BIG_BATCH, sizeof(*recs));
	char(*subs)[12] = calloc(BIG_BATCH, sizeof(*subs));
	uint8_t z[KV_KEY_LEN], d[64][STORE_DIGEST_LEN], prev[KV_KEY_LEN];
	uint64_t counts[64], sum = 0;
	store_cursor cur = { .len = 0 }, next;
	struct pulled p = { 0 };
	size_t total = 0, pages = 0, most = 0;
	int done = 0, ordered = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(recs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(subs);
	memset(z, 0, sizeof(z));
	for (int i = 0; i < BIG_RECS; i += BIG_BATCH) {
		for (int j = 0; j < BIG_BATCH; j++) {
			uint8_t kb[KV_KEY_LEN];
			unsigned n = (unsigned)(i + j) * 2654435761u;
			ringkey(kb, (uint8_t)(n >> 24), n);
			snprintf(subs[j], sizeof(subs[j]), "%d", i + j);
			recs[j] = live_rec(kb, subs[j], 1, "0123456789abcdef");
		}
		CU_ASSERT_EQUAL_FATAL(
		        store_apply_replica(s, recs, BIG_BATCH, NULL), 0);
	}
	CU_ASSERT_EQUAL(store_range_digest_split(s, z, z, 64, d, counts), 0);
	for (int i = 0; i < 64; i++)
		sum += counts[i];
	CU_ASSERT_EQUAL(sum, BIG_RECS);
	/* pages of 64 KiB: each holds a bounded number of records */
	memset(prev, 0, sizeof(prev));
	while (!done) {
		CU_ASSERT_EQUAL_FATAL(store_range_pull(s, z, z, &cur, 64 << 10,
		                                       pull_collect, &p, &next,
		                                       &done),
		                      0);
		CU_ASSERT(p.n > 0 || done);
		if (p.n > most)
			most = p.n;
		for (size_t i = 0; i < p.n; i++) {
			if (memcmp(prev, p.r[i].key, KV_KEY_LEN) > 0)
				ordered = 0;
			memcpy(prev, p.r[i].key, KV_KEY_LEN);
		}
		total += p.n;
		pages++;
		pulled_free(&p);
		cur = next;
	}
	CU_ASSERT_EQUAL(total, BIG_RECS);
	CU_ASSERT(ordered);
	CU_ASSERT(pages > 20);
	/* 64 KiB / (20 + sub + 9 + 16 bytes) */
	CU_ASSERT(most <= (64 << 10) / (KV_KEY_LEN + 1 + 9 + 16) + 1);
	free(recs);
	free(subs);
	store_close(s);
}

int unit_suite_store(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "put/get", test_put_get },
		{ "versions", test_versions },
		{ "condition absent", test_cond_absent },
		{ "condition exact", test_cond_exact },
		{ "check", test_check },
		{ "batch rollback", test_batch_rollback },
		{ "invalid arguments", test_invalid },
		{ "del range", test_del_range },
		{ "scan", test_scan },
		{ "read ranges", test_read },
		{ "read many, with a witness", test_read_many },
		{ "read many in place (a view)", test_read_many_view },
		{ "persistence", test_persist },
		{ "sync and stat", test_sync_stat },
		{ "meta", test_meta },
		{ "full store", test_full },
		{ "unwritable dir", test_unwritable },
		{ "threads", test_threads },
		{ "growth ahead", test_grow_ahead },
		{ "tombstone lifecycle", test_tomb_lifecycle },
		{ "replica apply order", test_repl_order },
		{ "replica conflict rule", test_repl_conflict },
		{ "range digest", test_digest },
		{ "range digest split", test_digest_split },
		{ "wrap-around ranges", test_wrap },
		{ "pull resumes by cursor", test_pull_resume },
		{ "full sync by pull", test_full_sync },
		{ "big range in pages", test_big_range },
		{ "format 1 records, without their hash", test_format1 },
	};
	CU_pSuite suite = CU_add_suite("store", NULL, NULL);

	if (!suite)
		return CU_get_error();
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return CU_get_error();
	return CUE_SUCCESS;
}
