/* member_table.c - the pure parts of membership (member_table.h). */
#include "config.h"

#include "member_table.h"

#include <string.h>

#include "merr.h"

int member_table_find_peer(const ring *rg, const char *addr, ring_member *m)
{
	size_t n = 0;

	if (ring_count(rg, &n) < 0)
		return MAGMA_EINVAL;
	for (size_t i = 0; i < n; i++) {
		ring_member x;
		if (ring_member_at(rg, i, &x) == 0 &&
		    strcmp(x.peer, addr) == 0) {
			if (m)
				*m = x;
			return 0;
		}
	}
	return MAGMA_ENOENT;
}

/* JOIN on a copy: see member_table_next. *changed says whether it did. */
static int join(ring *rg, const ring_member *m, int handoff, int *changed)
{
	ring_member old, nm = *m, other;
	int rc;

	if (member_table_find_peer(rg, m->peer, &other) == 0 &&
	    memcmp(other.id, m->id, RING_ID_LEN) != 0)
		return MAGMA_EEXIST;
	rc = ring_member_find(rg, m->id, &old);
	if (rc == MAGMA_ENOENT) {
		nm.state = handoff ? RING_JOINING : RING_UP;
		*changed = 1;
		return ring_add(rg, &nm);
	}
	if (rc < 0)
		return rc;
	if (strcmp(old.peer, m->peer) == 0 && strcmp(old.nfs, m->nfs) == 0)
		return 0;
	/* New addresses: the same id keeps its tokens, state and weight. */
	nm.state = old.state;
	nm.weight = old.weight;
	*changed = 1;
	if ((rc = ring_remove(rg, m->id)) < 0)
		return rc;
	return ring_add(rg, &nm);
}

int member_table_next(const ring *cur, int op, const ring_member *m,
                      int handoff, ring **out)
{
	ring *rg = NULL;
	ring_member old;
	uint64_t epoch = 0;
	size_t n = 0;
	int rc, changed = 0;

	*out = NULL;
	if ((rc = ring_epoch(cur, &epoch)) < 0 || (rc = ring_dup(cur, &rg)) < 0)
		goto out;
	switch (op) {
	case MEMBER_OP_JOIN: rc = join(rg, m, handoff, &changed); break;
	case MEMBER_OP_SET_STATE:
		if (m->state != RING_UP && m->state != RING_JOINING &&
		    m->state != RING_LEAVING) {
			rc = MAGMA_EINVAL;
			break;
		}
		rc = ring_member_find(rg, m->id, &old);
		if (rc == 0 && old.state != m->state) {
			changed = 1;
			rc = ring_set_state(rg, m->id, m->state);
		}
		break;
	case MEMBER_OP_REMOVE:
		if ((rc = ring_member_find(rg, m->id, &old)) < 0 ||
		    (rc = ring_count(rg, &n)) < 0)
			break;
		if (n <= 1) {
			rc = MAGMA_EINVAL;
			break;
		}
		changed = 1;
		rc = ring_remove(rg, m->id);
		break;
	default: rc = MAGMA_EINVAL; break;
	}
	if (rc < 0 || !changed)
		goto out;
	/* One change, one epoch, whatever the ring calls counted. */
	if ((rc = ring_set_epoch(rg, epoch + 1)) < 0)
		goto out;
	*out = rg;
	rg = NULL;
out:
	ring_free(rg);
	return rc;
}

int member_table_newer(const ring *cur, const ring *in)
{
	uint64_t a = 0, b = 0;

	if (in == NULL || ring_epoch(in, &b) < 0)
		return 0;
	if (cur == NULL)
		return 1;
	if (ring_epoch(cur, &a) < 0)
		return 1;
	return b > a;
}

int member_table_view(const ring *table, const uint8_t (*down)[RING_ID_LEN],
                      size_t ndown, ring **out)
{
	ring *rg = NULL;
	uint64_t epoch = 0;
	int rc;

	if ((rc = ring_epoch(table, &epoch)) < 0 ||
	    (rc = ring_dup(table, &rg)) < 0)
		goto out;
	for (size_t i = 0; i < ndown; i++) {
		rc = ring_set_state(rg, down[i], RING_DOWN);
		if (rc < 0 && rc != MAGMA_ENOENT)
			goto out;
	}
	if ((rc = ring_set_epoch(rg, epoch)) < 0)
		goto out;
	*out = rg;
	rg = NULL;
out:
	ring_free(rg);
	return rc == MAGMA_ENOENT ? 0 : rc;
}
