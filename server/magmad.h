/* magmad.h - the running node's context, handed to RPC handlers as
 * rpc_req.daemon (dispatch.h).
 *
 * One struct magmad lives for the whole run of magmad; it is filled
 * during start-up, before any server thread starts, and its fields are
 * read-only afterwards (the pointed-to objects are thread-safe), so
 * handlers may read them without locking.  The one exception is the
 * routing table: it is replaced as the network changes, so it is read
 * and replaced only under table_lock. */
#ifndef MAGMA_MAGMAD_H
#define MAGMA_MAGMAD_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "ctl.h"
#include "fs.h"
#include "keys.h"
#include "ring.h"
#include "rpc_server.h"
#include "store/store.h"

#define MAGMAD_PID_FILE "magmad.pid"

struct magmad {
	char data_dir[CONF_PATH_MAX]; /* absolute */
	magma_conf cfg;
	magma_keys keys;
	store *store;
	fs *fs;
	rpc_server *rpc;
	rpc_server *peer_rpc; /* the peer program over TLS (peer_srv.c) */
	ctl_server *ctl;
	conf_addr nfs_bound;  /* nfs_listen with the port actually bound */
	conf_addr peer_bound; /* peer_listen with the port actually bound */
	uint8_t node_id[RING_ID_LEN]; /* cfg.node_id as bytes */
	pthread_rwlock_t table_lock;
	ring *table;             /* the routing table, under table_lock;
	                          * NULL until start-up has made it */
	struct timespec started; /* CLOCK_MONOTONIC at start-up */
	int pid_fd;              /* locked pid file, -1 when none */
	struct member *member;   /* membership state (member.h), NULL
	                          * until member_start */
	struct kv_net *net;      /* the data path (kv_net.h): fs's kv */
	struct repair *repair;   /* anti-entropy thread (repair.h) */
};

#endif
