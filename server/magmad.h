/* magmad.h - the running node's context, handed to RPC handlers as
 * rpc_req.daemon (dispatch.h).
 *
 * One struct magmad lives for the whole run of magmad; it is filled
 * during start-up, before any server thread starts, and its fields are
 * read-only afterwards (the pointed-to objects are thread-safe), so
 * handlers may read them without locking. */
#ifndef MAGMA_MAGMAD_H
#define MAGMA_MAGMAD_H

#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "ctl.h"
#include "fs.h"
#include "keys.h"
#include "rpc_server.h"
#include "store/store.h"

#define MAGMAD_PID_FILE "magmad.pid"
#define MAGMAD_TABLE_EPOCH 1 /* single-node: the table never changes */

struct magmad {
	char data_dir[CONF_PATH_MAX]; /* absolute */
	magma_conf cfg;
	magma_keys keys;
	store *store;
	fs *fs;
	rpc_server *rpc;
	ctl_server *ctl;
	conf_addr nfs_bound;     /* nfs_listen with the port actually bound */
	struct timespec started; /* CLOCK_MONOTONIC at start-up */
	int pid_fd;              /* locked pid file, -1 when none */
};

#endif
