/* fs_ra.c - read-ahead for sequential READs of files whose chunks come
 * from other nodes (this node holds no current copy of them): while the
 * client takes one reply, the next range is fetched, so a
 * one-call-at-a-time reader does not wait a round trip for every MiB.
 *
 * Why the data is never stale: every WRITE, truncation and other change
 * of a file's data puts its flare record, which bumps the record's
 * version, in the same batch (one ring key: one owner transaction).  A
 * prefetch is labelled with the version that the READ which asked for it
 * had read, and was fetched after that read; a later READ uses it only
 * when the version it reads itself is still that one, i.e. nothing
 * changed the file since before the prefetch began.
 *
 * A few slots, one per file being read, least recently used replaced;
 * one worker thread, started at the first prefetch. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fs_internal.h"
#include "merr.h"

#define RA_SLOTS 4
#define RA_MAX (1u << 20) /* the most fetched ahead */

enum { RA_IDLE = 0, RA_WANTED, RA_FETCHING, RA_READY };

typedef struct ra_slot {
	fs_ref ref;    /* the file */
	uint64_t ver;  /* its flare record's version when the READ asked */
	uint64_t next; /* where the last READ of it ended */
	uint64_t off;  /* the range fetched (or to fetch) */
	uint32_t len;
	int state;
	uint8_t *buf; /* RA_MAX bytes */
	uint64_t used;
} ra_slot;

struct fs_ra {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	int started, stop;
	uint64_t clock;
	ra_slot slots[RA_SLOTS];
};

int fs_ra_new(fs_ra **out)
{
	fs_ra *ra = calloc(1, sizeof(*ra));

	if (!ra)
		return MAGMA_ENOMEM;
	if (pthread_mutex_init(&ra->mu, NULL)) {
		free(ra);
		return MAGMA_ESYS;
	}
	if (pthread_cond_init(&ra->cv, NULL)) {
		pthread_mutex_destroy(&ra->mu);
		free(ra);
		return MAGMA_ESYS;
	}
	*out = ra;
	return 0;
}

void fs_ra_free(fs_ra *ra)
{
	if (!ra)
		return;
	pthread_mutex_lock(&ra->mu);
	ra->stop = 1;
	pthread_cond_broadcast(&ra->cv);
	pthread_mutex_unlock(&ra->mu);
	if (ra->started)
		pthread_join(ra->th, NULL);
	for (int i = 0; i < RA_SLOTS; i++)
		free(ra->slots[i].buf);
	pthread_cond_destroy(&ra->cv);
	pthread_mutex_destroy(&ra->mu);
	free(ra);
}

static int same_file(const ra_slot *s, const fs_node *n)
{
	return memcmp(&s->ref, &n->ref, sizeof(n->ref)) == 0;
}

/* Under mu. */
static ra_slot *slot_of(fs_ra *ra, const fs_node *n)
{
	for (int i = 0; i < RA_SLOTS; i++)
		if (ra->slots[i].used && same_file(&ra->slots[i], n))
			return &ra->slots[i];
	return NULL;
}

static void *ra_run(void *arg)
{
	fs *f = arg;
	fs_ra *ra = f->ra;

	pthread_mutex_lock(&ra->mu);
	while (!ra->stop) {
		ra_slot *s = NULL;
		fs_ref ref;
		uint64_t off, ver;
		uint32_t len;
		int rc, here;

		for (int i = 0; i < RA_SLOTS && !s; i++)
			if (ra->slots[i].state == RA_WANTED)
				s = &ra->slots[i];
		if (!s) {
			pthread_cond_wait(&ra->cv, &ra->mu);
			continue;
		}
		s->state = RA_FETCHING;
		ref = s->ref;
		off = s->off;
		len = s->len;
		ver = s->ver;
		pthread_mutex_unlock(&ra->mu);
		/* The buffer is the worker's while FETCHING. */
		rc = fs_chunks_read(f, &ref, ver, off, len, s->buf, &here);
		pthread_mutex_lock(&ra->mu);
		s->state = rc == 0 ? RA_READY : RA_IDLE;
		pthread_cond_broadcast(&ra->cv);
	}
	pthread_mutex_unlock(&ra->mu);
	return NULL;
}

int fs_ra_take(fs *f, const fs_node *n, uint64_t off, uint32_t len, void *buf)
{
	fs_ra *ra = f->ra;
	ra_slot *s;
	int hit = 0;

	if (!ra || len == 0)
		return 0;
	pthread_mutex_lock(&ra->mu);
	s = slot_of(ra, n);
	while (s && (s->state == RA_WANTED || s->state == RA_FETCHING) &&
	       same_file(s, n) && !ra->stop)
		pthread_cond_wait(&ra->cv, &ra->mu);
	if (s && same_file(s, n) && s->state == RA_READY && s->ver == n->ver &&
	    off >= s->off && off + len <= s->off + s->len) {
		memcpy(buf, s->buf + (off - s->off), len);
		hit = 1;
	}
	pthread_mutex_unlock(&ra->mu);
	return hit;
}

void fs_ra_after(fs *f, const fs_node *n, uint64_t off, uint32_t len)
{
	fs_ra *ra = f->ra;
	uint64_t end = off + len;
	ra_slot *s;

	if (!ra || len == 0)
		return;
	pthread_mutex_lock(&ra->mu);
	s = slot_of(ra, n);
	if (!s) { /* the least recently used idle or ready slot */
		for (int i = 0; i < RA_SLOTS; i++) {
			ra_slot *c = &ra->slots[i];
			if (c->state == RA_WANTED || c->state == RA_FETCHING)
				continue;
			if (!s || c->used < s->used)
				s = c;
		}
		if (!s)
			goto out;
		s->state = RA_IDLE;
		s->ref = n->ref;
		s->next = UINT64_MAX; /* not sequential yet */
	}
	s->used = ++ra->clock;
	if (s->state == RA_WANTED || s->state == RA_FETCHING)
		goto out;
	/* Sequential, and more of the file to come: fetch the next range. */
	if (s->next == off && end < n->rec.size) {
		uint64_t left = n->rec.size - end;

		if (!s->buf && !(s->buf = malloc(RA_MAX)))
			goto out;
		if (!ra->started) {
			if (pthread_create(&ra->th, NULL, ra_run, f))
				goto out;
			ra->started = 1;
		}
		s->ver = n->ver;
		s->off = end;
		s->len = len > RA_MAX ? RA_MAX : len;
		if (s->len > left)
			s->len = (uint32_t)left;
		s->state = RA_WANTED;
		pthread_cond_broadcast(&ra->cv);
	}
	s->next = end;
out:
	pthread_mutex_unlock(&ra->mu);
}
