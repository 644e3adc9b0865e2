/* test_member.c - CUnit suite for server/member_table.c: the next table
 * for each kind of change (one epoch per change, none for a change that
 * changes nothing), the epoch rule, and the node-local view; and the
 * membership keys of magma.conf. */
#include <CUnit/CUnit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "member_table.h"
#include "merr.h"
#include "ring.h"
#include "unit.h"

static void mk(ring_member *m, int i, int state)
{
	memset(m, 0, sizeof(*m));
	memset(m->id, 0x10 + i, RING_ID_LEN);
	snprintf(m->peer, sizeof(m->peer), "127.0.0.%d:7390", 2 + i);
	snprintf(m->nfs, sizeof(m->nfs), "127.0.0.%d:2049", 2 + i);
	m->state = state;
}

/* A table of n up members, epoch e. */
static ring *table(int n, uint64_t e)
{
	ring *rg = NULL;
	ring_member m;

	CU_ASSERT_FATAL(ring_new(2, &rg) == 0);
	for (int i = 0; i < n; i++) {
		mk(&m, i, RING_UP);
		CU_ASSERT_FATAL(ring_add(rg, &m) == 0);
	}
	CU_ASSERT_FATAL(ring_set_epoch(rg, e) == 0);
	return rg;
}

static uint64_t epoch(const ring *rg)
{
	uint64_t e = 0;
	CU_ASSERT(ring_epoch(rg, &e) == 0);
	return e;
}

static int state_of(const ring *rg, int i)
{
	ring_member m, x;
	mk(&m, i, 0);
	if (ring_member_find(rg, m.id, &x) < 0)
		return 0;
	return x.state;
}

static void test_join(void)
{
	ring *cur = table(1, 1), *next = NULL, *again = NULL;
	ring_member m;
	size_t n = 0;

	mk(&m, 1, 0);
	CU_ASSERT(member_table_next(cur, MEMBER_OP_JOIN, &m, 0, &next) == 0);
	CU_ASSERT_FATAL(next != NULL);
	CU_ASSERT(epoch(next) == 2); /* exactly one, not one per ring call */
	CU_ASSERT(ring_count(next, &n) == 0 && n == 2);
	CU_ASSERT(state_of(next, 1) == RING_UP); /* no hand-off: up */
	CU_ASSERT(epoch(cur) == 1);              /* cur untouched */
	/* The same join again changes nothing: no new epoch. */
	CU_ASSERT(member_table_next(next, MEMBER_OP_JOIN, &m, 0, &again) == 0);
	CU_ASSERT(again == NULL);
	/* With hand-off the new member is joining. */
	ring_free(next);
	CU_ASSERT(member_table_next(cur, MEMBER_OP_JOIN, &m, 1, &next) == 0);
	CU_ASSERT_FATAL(next != NULL);
	CU_ASSERT(state_of(next, 1) == RING_JOINING);
	ring_free(next);
	ring_free(cur);
}

static void test_join_readdress(void)
{
	ring *cur = table(2, 7), *next = NULL;
	ring_member m, x;

	mk(&m, 1, 0);
	CU_ASSERT(ring_set_state(cur, m.id, RING_LEAVING) == 0);
	CU_ASSERT(ring_set_epoch(cur, 7) == 0);
	mk(&m, 1, 0);
	strcpy(m.peer, "127.0.0.99:7000");
	CU_ASSERT(member_table_next(cur, MEMBER_OP_JOIN, &m, 0, &next) == 0);
	CU_ASSERT_FATAL(next != NULL);
	CU_ASSERT(epoch(next) == 8);
	CU_ASSERT(ring_member_find(next, m.id, &x) == 0);
	CU_ASSERT(strcmp(x.peer, "127.0.0.99:7000") == 0);
	CU_ASSERT(x.state == RING_LEAVING); /* state kept */
	ring_free(next);
	/* Another node's peer address is refused. */
	mk(&m, 5, 0);
	strcpy(m.peer, "127.0.0.2:7390");
	CU_ASSERT(member_table_next(cur, MEMBER_OP_JOIN, &m, 0, &next) ==
	          MAGMA_EEXIST);
	CU_ASSERT(next == NULL);
	ring_free(cur);
}

static void test_set_state_remove(void)
{
	ring *cur = table(3, 4), *next = NULL;
	ring_member m;
	size_t n = 0;

	mk(&m, 2, RING_LEAVING);
	CU_ASSERT(member_table_next(cur, MEMBER_OP_SET_STATE, &m, 0, &next) ==
	          0);
	CU_ASSERT_FATAL(next != NULL);
	CU_ASSERT(epoch(next) == 5 && state_of(next, 2) == RING_LEAVING);
	ring_free(next);
	m.state = RING_UP; /* unchanged: nothing */
	CU_ASSERT(member_table_next(cur, MEMBER_OP_SET_STATE, &m, 0, &next) ==
	          0);
	CU_ASSERT(next == NULL);
	m.state = RING_DOWN; /* never a table state */
	CU_ASSERT(member_table_next(cur, MEMBER_OP_SET_STATE, &m, 0, &next) ==
	          MAGMA_EINVAL);
	mk(&m, 9, RING_UP);
	CU_ASSERT(member_table_next(cur, MEMBER_OP_SET_STATE, &m, 0, &next) ==
	          MAGMA_ENOENT);
	CU_ASSERT(member_table_next(cur, MEMBER_OP_REMOVE, &m, 0, &next) ==
	          MAGMA_ENOENT);
	mk(&m, 0, 0);
	CU_ASSERT(member_table_next(cur, MEMBER_OP_REMOVE, &m, 0, &next) == 0);
	CU_ASSERT_FATAL(next != NULL);
	CU_ASSERT(epoch(next) == 5);
	CU_ASSERT(ring_count(next, &n) == 0 && n == 2);
	CU_ASSERT(state_of(next, 0) == 0);
	ring_free(next);
	ring_free(cur);
	/* The last member stays. */
	cur = table(1, 1);
	CU_ASSERT(member_table_next(cur, MEMBER_OP_REMOVE, &m, 0, &next) ==
	          MAGMA_EINVAL);
	ring_free(cur);
}

/* Serialized changes: applying joins one after another from the current
 * table gives one epoch sequence with no two tables sharing an epoch,
 * whatever the order, and the same members either way. */
static void test_sequence(void)
{
	ring *a = table(1, 1), *b = table(1, 1), *next;
	ring_member m;
	uint8_t *ea = NULL, *eb = NULL;
	size_t la = 0, lb = 0;

	for (int i = 1; i <= 4; i++) {
		mk(&m, i, 0);
		CU_ASSERT(member_table_next(a, MEMBER_OP_JOIN, &m, 0, &next) ==
		          0);
		CU_ASSERT(epoch(next) == (uint64_t)i + 1);
		ring_free(a);
		a = next;
		mk(&m, 5 - i, 0);
		CU_ASSERT(member_table_next(b, MEMBER_OP_JOIN, &m, 0, &next) ==
		          0);
		ring_free(b);
		b = next;
	}
	CU_ASSERT(ring_encode(a, &ea, &la) == 0 &&
	          ring_encode(b, &eb, &lb) == 0);
	CU_ASSERT(la == lb && memcmp(ea, eb, la) == 0);
	free(ea);
	free(eb);
	ring_free(a);
	ring_free(b);
}

static void test_newer(void)
{
	ring *a = table(1, 3), *b = table(2, 3), *c = table(2, 4);

	CU_ASSERT(member_table_newer(NULL, a) == 1);
	CU_ASSERT(member_table_newer(a, b) == 0); /* same epoch: never */
	CU_ASSERT(member_table_newer(a, c) == 1);
	CU_ASSERT(member_table_newer(c, a) == 0); /* older: never */
	CU_ASSERT(member_table_newer(a, NULL) == 0);
	ring_free(a);
	ring_free(b);
	ring_free(c);
}

static void test_view(void)
{
	ring *t = table(3, 9), *v = NULL;
	ring_member m1, m9;
	uint8_t down[2][RING_ID_LEN];
	uint8_t key[RING_KEY_LEN] = { 0 }, own[2][RING_ID_LEN];
	size_t n = 0;
	double share = 1;

	mk(&m1, 1, 0);
	mk(&m9, 9, 0);
	memcpy(down[0], m1.id, RING_ID_LEN);
	memcpy(down[1], m9.id, RING_ID_LEN); /* unknown: ignored */
	CU_ASSERT(member_table_view(t, down, 2, &v) == 0);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT(epoch(v) == 9); /* reachability is not a table change */
	CU_ASSERT(state_of(v, 1) == RING_DOWN);
	CU_ASSERT(state_of(v, 0) == RING_UP && state_of(t, 1) == RING_UP);
	CU_ASSERT(ring_share(v, m1.id, RING_VIEW_OWNERS, &share) == 0 &&
	          share == 0);
	for (int k = 0; k < 64; k++) {
		key[0] = (uint8_t)(k * 4);
		CU_ASSERT(ring_owners(v, key, own, 2, &n) == 0 && n == 2);
		CU_ASSERT(memcmp(own[0], m1.id, RING_ID_LEN) != 0);
		CU_ASSERT(memcmp(own[1], m1.id, RING_ID_LEN) != 0);
	}
	ring_free(v);
	ring_free(t);
}

static void test_conf_keys(void)
{
	magma_conf c;
	char err[256];
	const char *base = "network = n\nnode_id = "
	                   "0123456789abcdef0123456789abcdef\n"
	                   "keyphrase_file = /k\n";
	char text[512];

	CU_ASSERT(conf_parse(base, "t", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.heartbeat_ms == 1000 && c.down_after_ms == 3000);
	CU_ASSERT(c.coordinator[0] == '\0');
	snprintf(text, sizeof(text),
	         "%sheartbeat_interval = 250ms\ndown_after = 2\n"
	         "coordinator = 127.0.0.2:7390\n",
	         base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.heartbeat_ms == 250 && c.down_after_ms == 2000);
	CU_ASSERT(strcmp(c.coordinator, "127.0.0.2:7390") == 0);
	snprintf(text, sizeof(text), "%sheartbeat_interval = 5ms\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == MAGMA_ECONFIG);
	snprintf(text, sizeof(text), "%sdown_after = 3h\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == MAGMA_ECONFIG);
	snprintf(text, sizeof(text), "%scoordinator = host:1\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == MAGMA_ECONFIG);

	/* down_grace: a time from 1 s to 3600 s, or off */
	CU_ASSERT(conf_parse(base, "t", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.down_grace_ms == CONF_DEFAULT_DOWN_GRACE_MS);
	snprintf(text, sizeof(text), "%sdown_grace = 3s\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.down_grace_ms == 3000);
	snprintf(text, sizeof(text), "%sdown_grace = off\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.down_grace_ms == 0);
	snprintf(text, sizeof(text), "%sdown_grace = 500ms\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == MAGMA_ECONFIG);
	CU_ASSERT(strstr(err, "down_grace") != NULL);
	snprintf(text, sizeof(text), "%sdown_grace = 2h\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == MAGMA_ECONFIG);
	snprintf(text, sizeof(text), "%sdown_grace = soon\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == MAGMA_ECONFIG);

	/* move_rate: bytes/s (K/M/G/T, optional /s), at least 1K; off or 0 */
	CU_ASSERT(conf_parse(base, "t", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.move_rate == CONF_DEFAULT_MOVE_RATE &&
	          c.move_rate == 64u << 20);
	snprintf(text, sizeof(text), "%smove_rate = 100M\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.move_rate == 100u << 20);
	snprintf(text, sizeof(text), "%smove_rate = 2G/s\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.move_rate == 2ull << 30);
	snprintf(text, sizeof(text), "%smove_rate = 5000\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.move_rate == 5000);
	snprintf(text, sizeof(text), "%smove_rate = off\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.move_rate == 0);
	snprintf(text, sizeof(text), "%smove_rate = 0\n", base);
	c.move_rate = 1;
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.move_rate == 0);
	snprintf(text, sizeof(text), "%smove_rate = 512\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == MAGMA_ECONFIG);
	CU_ASSERT(strstr(err, "move_rate") != NULL);
	snprintf(text, sizeof(text), "%smove_rate = fast\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == MAGMA_ECONFIG);
	snprintf(text, sizeof(text), "%smove_rate = 10MB/s\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == MAGMA_ECONFIG);
	snprintf(text, sizeof(text), "%smove_rate = /s\n", base);
	CU_ASSERT(conf_parse(text, "t", &c, err, sizeof(err)) == MAGMA_ECONFIG);

	/* conf_write keeps it: off, and a value other than the default */
	{
		const char *dir = unit_tmpdir();
		char path[1024];
		magma_conf w, r;

		CU_ASSERT_FATAL(dir != NULL);
		snprintf(path, sizeof(path), "%s/m.conf", dir);
		CU_ASSERT_FATAL(conf_parse(base, "t", &w, err, sizeof(err)) ==
		                0);
		w.move_rate = 0;
		CU_ASSERT(conf_write(path, &w) == 0);
		CU_ASSERT(conf_load(path, &r, err, sizeof(err)) == 0);
		CU_ASSERT(r.move_rate == 0);
		w.move_rate = 12345;
		CU_ASSERT(conf_write(path, &w) == 0);
		CU_ASSERT(conf_load(path, &r, err, sizeof(err)) == 0);
		CU_ASSERT(r.move_rate == 12345);
		w.move_rate = CONF_DEFAULT_MOVE_RATE;
		CU_ASSERT(conf_write(path, &w) == 0);
		CU_ASSERT(conf_load(path, &r, err, sizeof(err)) == 0);
		CU_ASSERT(r.move_rate == CONF_DEFAULT_MOVE_RATE);
	}
}

int unit_suite_member(void)
{
	CU_pSuite s = CU_add_suite("member", NULL, NULL);

	if (s == NULL || !CU_add_test(s, "join", test_join) ||
	    !CU_add_test(s, "join with new addresses", test_join_readdress) ||
	    !CU_add_test(s, "set state and remove", test_set_state_remove) ||
	    !CU_add_test(s, "one epoch sequence", test_sequence) ||
	    !CU_add_test(s, "epoch rule", test_newer) ||
	    !CU_add_test(s, "view", test_view) ||
	    !CU_add_test(s, "config keys", test_conf_keys))
		return CU_get_error();
	return CUE_SUCCESS;
}
