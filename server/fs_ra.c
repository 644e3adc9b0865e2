/* fs_ra.c - read-ahead for sequential READs of files whose chunks come
 * from other nodes (an NFS READ of data this node holds reads it in
 * place, fs_read_data, and is not prefetched; fs_read also prefetches
 * from this node's backup copy, whose READs wait for the flare's round
 * trip to the primary): while the client takes one reply and asks the
 * next, the next ranges are fetched, so a one-call-at-a-time reader
 * does not wait for them on every MiB.
 * RA_DEPTH ranges are in flight at once, each fetched by its own worker
 * over its own connection: the owner reads and encrypts one while this
 * node decrypts the one before.
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
 * workers started at the first prefetch.  A READ that takes a whole
 * prefetched range takes its buffer too (fs_ra_take swaps buffers), so
 * the bytes are not copied once more on their way to the client. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fs_internal.h"
#include "merr.h"

#define RA_SLOTS 4
#define RA_DEPTH 3        /* ranges fetched ahead of one reader */
#define RA_MAX (1u << 20) /* the longest range */

enum { RA_IDLE = 0, RA_WANTED, RA_FETCHING, RA_READY };

/* One range of a file, fetched or to fetch. */
typedef struct ra_win {
	uint64_t off;
	uint32_t len;
	uint64_t ver; /* the file's flare record version when asked */
	int state;
	uint8_t *buf; /* cap bytes, allocated at the first use */
	uint32_t cap;
} ra_win;

typedef struct ra_slot {
	fs_ref ref;    /* the file */
	uint64_t next; /* where the last READ of it ended */
	uint64_t used;
	int live;
	ra_win w[RA_DEPTH];
} ra_slot;

struct fs_ra {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th[RA_DEPTH];
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
	for (int i = 0; i < ra->started; i++)
		pthread_join(ra->th[i], NULL);
	for (int i = 0; i < RA_SLOTS; i++)
		for (int j = 0; j < RA_DEPTH; j++)
			free(ra->slots[i].w[j].buf);
	pthread_cond_destroy(&ra->cv);
	pthread_mutex_destroy(&ra->mu);
	free(ra);
}

static int same_file(const ra_slot *s, const fs_ref *ref)
{
	return s->live && memcmp(&s->ref, ref, sizeof(*ref)) == 0;
}

static int busy(const ra_win *w)
{
	return w->state == RA_WANTED || w->state == RA_FETCHING;
}

/* Under mu. */
static ra_slot *slot_of(fs_ra *ra, const fs_ref *ref)
{
	for (int i = 0; i < RA_SLOTS; i++)
		if (same_file(&ra->slots[i], ref))
			return &ra->slots[i];
	return NULL;
}

/* Under mu: a wanted range of any slot, with its slot's file. */
static ra_win *next_wanted(fs_ra *ra, fs_ref *ref)
{
	for (int i = 0; i < RA_SLOTS; i++)
		for (int j = 0; j < RA_DEPTH; j++)
			if (ra->slots[i].w[j].state == RA_WANTED) {
				*ref = ra->slots[i].ref;
				return &ra->slots[i].w[j];
			}
	return NULL;
}

static void *ra_run(void *arg)
{
	fs *f = arg;
	fs_ra *ra = f->ra;

	pthread_mutex_lock(&ra->mu);
	while (!ra->stop) {
		fs_ref ref;
		ra_win *w = next_wanted(ra, &ref), x;
		int rc, ahead;

		if (!w) {
			pthread_cond_wait(&ra->cv, &ra->mu);
			continue;
		}
		w->state = RA_FETCHING;
		x = *w;
		pthread_mutex_unlock(&ra->mu);
		/* The window (and its buffer) is the worker's while
		 * FETCHING: nobody else changes or frees it. */
		rc = fs_chunks_read(f, &ref, x.ver, x.off, x.len, x.buf,
		                    &ahead);
		pthread_mutex_lock(&ra->mu);
		w->state = rc == 0 ? RA_READY : RA_IDLE;
		pthread_cond_broadcast(&ra->cv);
	}
	pthread_mutex_unlock(&ra->mu);
	return NULL;
}

/* Under mu: the window of s holding [off, off+len) at ver, or NULL. */
static ra_win *win_with(ra_slot *s, uint64_t ver, uint64_t off, uint32_t len)
{
	for (int j = 0; j < RA_DEPTH; j++) {
		ra_win *w = &s->w[j];
		if (w->state != RA_IDLE && w->ver == ver && off >= w->off &&
		    off + len <= w->off + w->len)
			return w;
	}
	return NULL;
}

int fs_ra_take(fs *f, const fs_node *n, uint64_t off, uint32_t len,
               uint8_t **bufp, uint32_t cap)
{
	fs_ra *ra = f->ra;
	ra_slot *s;
	ra_win *w = NULL;
	int hit = 0;

	if (!ra || len == 0)
		return 0;
	pthread_mutex_lock(&ra->mu);
	for (;;) {
		s = slot_of(ra, &n->ref);
		w = s ? win_with(s, n->ver, off, len) : NULL;
		if (!w || !busy(w) || ra->stop)
			break;
		pthread_cond_wait(&ra->cv, &ra->mu);
	}
	if (w && w->state == RA_READY) {
		if (off == w->off && len == w->len && cap >= len) {
			/* the whole range: hand its buffer over */
			uint8_t *b = w->buf;
			w->buf = *bufp;
			w->cap = cap;
			*bufp = b;
		} else {
			memcpy(*bufp, w->buf + (off - w->off), len);
		}
		if (off + len == w->off + w->len)
			w->state = RA_IDLE; /* used up */
		hit = 1;
	}
	pthread_mutex_unlock(&ra->mu);
	return hit;
}

/* Under mu: start the workers once. */
static int ra_start(fs *f)
{
	fs_ra *ra = f->ra;

	while (ra->started < RA_DEPTH) {
		if (pthread_create(&ra->th[ra->started], NULL, ra_run, f))
			return ra->started > 0;
		ra->started++;
	}
	return 1;
}

/* Under mu: the least recently used slot no worker is filling. */
static ra_slot *slot_take(fs_ra *ra, const fs_ref *ref)
{
	ra_slot *s = NULL;

	for (int i = 0; i < RA_SLOTS; i++) {
		ra_slot *c = &ra->slots[i];
		int fill = 0;
		for (int j = 0; j < RA_DEPTH; j++)
			fill |= busy(&c->w[j]);
		if (!fill && (!s || c->used < s->used))
			s = c;
	}
	if (s) {
		for (int j = 0; j < RA_DEPTH; j++)
			s->w[j].state = RA_IDLE;
		s->ref = *ref;
		s->live = 1;
		s->next = UINT64_MAX; /* not sequential yet */
	}
	return s;
}

void fs_ra_after(fs *f, const fs_node *n, uint64_t off, uint32_t len)
{
	fs_ra *ra = f->ra;
	uint64_t end = off + len, at;
	ra_slot *s;

	if (!ra || len == 0)
		return;
	if (len > RA_MAX)
		len = RA_MAX;
	pthread_mutex_lock(&ra->mu);
	s = slot_of(ra, &n->ref);
	if (!s && !(s = slot_take(ra, &n->ref)))
		goto out;
	s->used = ++ra->clock;
	/* Sequential, and more of the file to come: keep RA_DEPTH ranges
	 * after this one fetched or on their way. */
	if (s->next == off && end < n->rec.size && ra_start(f)) {
		/* what an older version or a skipped-over range holds is of
		 * no more use */
		for (int j = 0; j < RA_DEPTH; j++) {
			ra_win *w = &s->w[j];
			if (w->state == RA_READY &&
			    (w->ver != n->ver || w->off + w->len <= off))
				w->state = RA_IDLE;
		}
		at = end;
		for (int k = 0; k < RA_DEPTH && at < n->rec.size; k++) {
			uint64_t left = n->rec.size - at;
			uint32_t want = left < len ? (uint32_t)left : len;
			ra_win *w = win_with(s, n->ver, at, 1), *free_w = NULL;

			for (int j = 0; j < RA_DEPTH && !w && !free_w; j++)
				if (s->w[j].state == RA_IDLE)
					free_w = &s->w[j];
			if (!w && free_w) {
				if (free_w->cap < want) {
					uint8_t *b =
					        realloc(free_w->buf, RA_MAX);
					if (!b)
						break;
					free_w->buf = b;
					free_w->cap = RA_MAX;
				}
				free_w->off = at;
				free_w->len = want;
				free_w->ver = n->ver;
				free_w->state = RA_WANTED;
				w = free_w;
				pthread_cond_broadcast(&ra->cv);
			}
			if (!w)
				break;
			at = w->off + w->len;
		}
	}
	s->next = end;
out:
	pthread_mutex_unlock(&ra->mu);
}
