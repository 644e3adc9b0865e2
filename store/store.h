/* store.h - the LMDB object store of one node: versioned opaque records
 * under (ring key, sub key).  No network, no knowledge of flares.
 *
 * On disk: DIR/store.mdb (LMDB, MDB_NOSUBDIR) with two databases:
 *   "rec"  key = ring key (20 bytes) || sub (0..KV_SUB_MAX bytes)
 *          val = header { u64 version (BE); u8 flags } || value bytes
 *   "meta" small named values (format version, node-local counters).
 * Every write transaction is committed with a sync, also for KV_UNSTABLE:
 * an unsynced LMDB commit can corrupt the store on power loss, and no
 * speed is worth that.  Thread-safe: one store may be used from many
 * threads. */
#ifndef MAGMA_STORE_H
#define MAGMA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kv.h"

typedef struct store store;

typedef struct store_config {
	const char *dir;   /* directory holding store.mdb */
	uint64_t map_size; /* LMDB map size: the store's capacity limit */
} store_config;

/* Open (creating when absent) the store in cfg->dir.  *out is owned by
 * the caller and released with store_close(). */
int store_open(store **out, const store_config *cfg);
void store_close(store *s);

/* A kv handle backed by this store (kv_local).  It lives as long as the
 * store; kv_close() on it is a no-op (store_close releases everything). */
kv *store_kv(store *s);

/* Named metadata, e.g. "boot_count".  Values up to 256 bytes. */
int store_meta_get(store *s, const char *name, void *buf, size_t buflen,
                   size_t *len);
int store_meta_put(store *s, const char *name, const void *val, size_t len);

#endif
