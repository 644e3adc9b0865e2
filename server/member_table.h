/* member_table.h - the pure parts of membership (member.h): the next
 * table for one change, the epoch rule, and the node-local view.  No
 * I/O and no locks: unit-tested in tests/test_member.c. */
#ifndef MAGMA_MEMBER_TABLE_H
#define MAGMA_MEMBER_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

enum member_op {
	MEMBER_OP_JOIN = 1,      /* add m, or update its addresses */
	MEMBER_OP_SET_STATE = 2, /* m->id gets m->state */
	MEMBER_OP_REMOVE = 3,    /* m->id leaves the table */
};

/* The table after one change of cur, with epoch cur's + 1, into *out
 * (freed with ring_free); *out is NULL (and 0 returned) when the change
 * changes nothing, so that a repeated request is answered with the
 * current table and no new epoch.
 *   JOIN: a new member enters RING_JOINING when handoff (the data path
 *     moves its data and makes it RING_UP), else RING_UP; a member with
 *     the same id and addresses is unchanged; with other addresses it
 *     gets the new ones (state and weight kept).  MAGMA_EEXIST when
 *     another member has m->peer.
 *   SET_STATE: RING_UP, RING_JOINING or RING_LEAVING (RING_DOWN is never
 *     a table state: it is the view's), else MAGMA_EINVAL.
 *   REMOVE: MAGMA_EINVAL for the last member.
 * MAGMA_ENOENT for an unknown id (SET_STATE, REMOVE); ring.h errors. */
int member_table_next(const ring *cur, int op, const ring_member *m,
                      int handoff, ring **out);

/* The epoch rule: 1 when a received table in replaces cur (its epoch is
 * newer; any table replaces a NULL cur), else 0. */
int member_table_newer(const ring *cur, const ring *in);

/* The view: a copy of table in which the members whose ids are in
 * down[0..ndown-1] are RING_DOWN, with the table's epoch.  Unknown ids
 * are ignored.  *out is freed with ring_free. */
int member_table_view(const ring *table, const uint8_t (*down)[RING_ID_LEN],
                      size_t ndown, ring **out);

/* The member whose peer address is addr: 0 and *m, or MAGMA_ENOENT. */
int member_table_find_peer(const ring *rg, const char *addr, ring_member *m);

#endif
