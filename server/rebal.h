/* rebal.h - data movement on join and leave (DESIGN.md section 5), run
 * by the repair thread after each of its passes (repair.h hook).
 *
 * Join (and return from RING_DOWN).  A member that is RING_JOINING in
 * the table is in the placement view but not the owners view: nobody
 * reads from it, every writer that has the table forwards to it, and its
 * repair passes pull its placement ranges from their owners.  Once a
 * pass succeeded with every peer, it waits until every other member that
 * is not down has shown (in a reply) an epoch at least the table's, so
 * no primary still forwards by a table without it; then one more full
 * pass pulls whatever was written meanwhile, and it asks the
 * coordinator to make it RING_UP.  Only then do reads go to it.  While
 * an owner of one of its ranges does not answer (and is not down in
 * the table: membership's grace), it stays joining.
 *
 * Leave.  `magmactl leave` makes this node RING_LEAVING: it still owns
 * (serves) its ranges, but the placement view has new owners for them,
 * which get every write and pull the ranges in their passes (a pass's
 * peers include the owners that are not placed).  This node, after the
 * same epoch barrier, compares each of its ranges with every placement
 * owner (repair_handoff_check) until all match, then removes itself from
 * the table and stops answering reads and primary writes (so a node with
 * the old table fails over to the new owners).  magmad keeps running as
 * a non-member (man magmactl(8)).
 *
 * Old copies.  A member that is up (or no longer a member), once every
 * member routes by its table, drops its copies of the ranges it neither
 * owns nor is placed on where every placement member is up and holds
 * the same (repair_drop).
 *
 * Progress is `magmactl status`'s movement line: "joining: pulling
 * ranges" or "leaving: handing ranges off", done and total in ranges
 * (pieces, repair.h). */
#ifndef MAGMA_REBAL_H
#define MAGMA_REBAL_H

#include <stdint.h>

#include "ring.h"

struct magmad;

/* repair_config.hook and .progress, with arg the struct magmad. */
unsigned rebal_after_pass(void *arg, int pass_rc);
void rebal_progress(void *arg, uint64_t done, uint64_t total);

/* The table is now table (a copy: this node's state in it): show the
 * movement this node is part of, or clear it. */
void rebal_table(struct magmad *d, const ring *table);

#endif
