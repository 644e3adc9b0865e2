/* test_store.c - CUnit suite for store/ (the LMDB store and kv_local). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

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
		{ "persistence", test_persist },
		{ "sync and stat", test_sync_stat },
		{ "meta", test_meta },
		{ "full store", test_full },
		{ "unwritable dir", test_unwritable },
		{ "threads", test_threads },
	};
	CU_pSuite suite = CU_add_suite("store", NULL, NULL);

	if (!suite)
		return CU_get_error();
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return CU_get_error();
	return CUE_SUCCESS;
}
