/* kv_fwd.c - a primary's forward queues (contract in kv_fwd.h).
 *
 * One mutex guards every queue, count and reference; one condition
 * variable wakes the senders (new work, stop) and another the waiters
 * (a job done, room freed).  A queue's sender thread starts with its
 * first job and runs until kv_fwd_free.  Sequence numbers: each job
 * takes the next one when queued; a queue is sent in order, so its head
 * is its lowest, and a drain waits until no head is at or below the
 * last number queued when it began (jobs queued later do not hold it
 * up). */
#include "kv_fwd.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mclock.h"
#include "merr.h"

struct kv_fwd_recs {
	store_applied ap; /* recs/nrecs; freed by the last put if owned */
	int owned;
	int refs; /* under kv_fwd.mu, except before the first job */
};

struct kv_fwd_job {
	kv_fwd_job *next;
	kv_fwd_recs *h;
	size_t *idx;
	size_t n, bytes;
	uint64_t seq, tag;
	int done, rc;
	int refs; /* the sender's and the caller's */
};

typedef struct fwd_queue {
	struct fwd_queue *next;
	kv_fwd *kf;
	uint8_t id[RING_ID_LEN];
	char addr[RING_ADDR_MAX];
	kv_fwd_job *head, *tail;
	pthread_t th;
} fwd_queue;

struct kv_fwd {
	kv_fwd_send_fn send;
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t work; /* senders: a job or stop */
	pthread_cond_t done; /* waiters: a job done */
	fwd_queue *queues;
	uint64_t seq;
	size_t unsent; /* bytes of jobs not done */
	int stop;
};

kv_fwd_recs *kv_fwd_recs_new(const store_rec *recs, size_t n)
{
	kv_fwd_recs *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ap.recs = (store_rec *)recs;
	h->ap.nrecs = n;
	h->refs = 1;
	return h;
}

/* Under mu (or before any job holds h). */
static void recs_put_locked(kv_fwd_recs *h)
{
	if (--h->refs > 0)
		return;
	if (h->owned)
		store_applied_free(&h->ap);
	free(h);
}

static void job_put_locked(kv_fwd_job *j)
{
	if (--j->refs > 0)
		return;
	recs_put_locked(j->h);
	free(j->idx);
	free(j);
}

static void *sender_main(void *arg)
{
	fwd_queue *q = arg;
	kv_fwd *kf = q->kf;

	pthread_mutex_lock(&kf->mu);
	for (;;) {
		kv_fwd_job *j = q->head;
		int rc;

		if (!j) {
			if (kf->stop)
				break;
			pthread_cond_wait(&kf->work, &kf->mu);
			continue;
		}
		pthread_mutex_unlock(&kf->mu);
		rc = kf->send(kf->arg, q->id, q->addr, j->h->ap.recs, j->idx,
		              j->n, j->tag);
		pthread_mutex_lock(&kf->mu);
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		kf->unsent -= j->bytes;
		j->rc = rc;
		j->done = 1;
		job_put_locked(j);
		pthread_cond_broadcast(&kf->done);
	}
	pthread_mutex_unlock(&kf->mu);
	return NULL;
}

int kv_fwd_new(kv_fwd_send_fn send, void *arg, kv_fwd **out)
{
	kv_fwd *kf = calloc(1, sizeof(*kf));

	if (!kf)
		return MAGMA_ENOMEM;
	kf->send = send;
	kf->arg = arg;
	if (pthread_mutex_init(&kf->mu, NULL)) {
		free(kf);
		return MAGMA_ESYS;
	}
	if (pthread_cond_init(&kf->work, NULL)) {
		pthread_mutex_destroy(&kf->mu);
		free(kf);
		return MAGMA_ESYS;
	}
	if (pthread_cond_init(&kf->done, NULL)) {
		pthread_cond_destroy(&kf->work);
		pthread_mutex_destroy(&kf->mu);
		free(kf);
		return MAGMA_ESYS;
	}
	*out = kf;
	return 0;
}

void kv_fwd_free(kv_fwd *kf)
{
	if (!kf)
		return;
	pthread_mutex_lock(&kf->mu);
	kf->stop = 1;
	pthread_cond_broadcast(&kf->work);
	pthread_mutex_unlock(&kf->mu);
	while (kf->queues) {
		fwd_queue *q = kf->queues;
		kf->queues = q->next;
		pthread_join(q->th, NULL);
		free(q);
	}
	pthread_cond_destroy(&kf->done);
	pthread_cond_destroy(&kf->work);
	pthread_mutex_destroy(&kf->mu);
	free(kf);
}

void kv_fwd_recs_put(kv_fwd *kf, kv_fwd_recs *h, int own)
{
	if (!h)
		return;
	pthread_mutex_lock(&kf->mu);
	h->owned = own;
	recs_put_locked(h);
	pthread_mutex_unlock(&kf->mu);
}

/* Under mu: the queue of peer id, made (with its sender) if new. */
static fwd_queue *queue_for(kv_fwd *kf, const uint8_t id[RING_ID_LEN],
                            const char *addr)
{
	fwd_queue *q;

	for (q = kf->queues; q; q = q->next)
		if (memcmp(q->id, id, RING_ID_LEN) == 0) {
			/* a peer that moved: later jobs go to where it is */
			if (strcmp(q->addr, addr) != 0 && !q->head)
				snprintf(q->addr, sizeof(q->addr), "%s", addr);
			return q;
		}
	if (!(q = calloc(1, sizeof(*q))))
		return NULL;
	q->kf = kf;
	memcpy(q->id, id, RING_ID_LEN);
	snprintf(q->addr, sizeof(q->addr), "%s", addr);
	if (pthread_create(&q->th, NULL, sender_main, q) != 0) {
		free(q);
		return NULL;
	}
	q->next = kf->queues;
	kf->queues = q;
	return q;
}

kv_fwd_job *kv_fwd_queue(kv_fwd *kf, kv_fwd_recs *h,
                         const uint8_t id[RING_ID_LEN], const char *addr,
                         const size_t *idx, size_t n, size_t bytes,
                         uint64_t tag)
{
	kv_fwd_job *j = calloc(1, sizeof(*j));
	fwd_queue *q;

	if (!j || !(j->idx = malloc((n ? n : 1) * sizeof(*idx)))) {
		free(j);
		return NULL;
	}
	memcpy(j->idx, idx, n * sizeof(*idx));
	j->n = n;
	j->bytes = bytes;
	j->tag = tag;
	j->h = h;
	j->refs = 2;
	pthread_mutex_lock(&kf->mu);
	if (kf->stop || !(q = queue_for(kf, id, addr))) {
		pthread_mutex_unlock(&kf->mu);
		free(j->idx);
		free(j);
		return NULL;
	}
	h->refs++;
	j->seq = ++kf->seq;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	kf->unsent += bytes;
	pthread_cond_broadcast(&kf->work);
	pthread_mutex_unlock(&kf->mu);
	return j;
}

int kv_fwd_wait(kv_fwd *kf, kv_fwd_job *j)
{
	int rc;

	pthread_mutex_lock(&kf->mu);
	while (!j->done)
		pthread_cond_wait(&kf->done, &kf->mu);
	rc = j->rc;
	job_put_locked(j);
	pthread_mutex_unlock(&kf->mu);
	return rc;
}

void kv_fwd_release(kv_fwd *kf, kv_fwd_job *j)
{
	pthread_mutex_lock(&kf->mu);
	job_put_locked(j);
	pthread_mutex_unlock(&kf->mu);
}

void kv_fwd_room(kv_fwd *kf)
{
	pthread_mutex_lock(&kf->mu);
	while (kf->unsent > KV_FWD_MAX_BYTES)
		pthread_cond_wait(&kf->done, &kf->mu);
	pthread_mutex_unlock(&kf->mu);
}

/* Under mu: no job numbered upto or lower is queued or being sent
 * (a queue is sent in order, so its head is its lowest). */
static int drained(const kv_fwd *kf, uint64_t upto)
{
	for (const fwd_queue *q = kf->queues; q; q = q->next)
		if (q->head && q->head->seq <= upto)
			return 0;
	return 1;
}

int kv_fwd_drain(kv_fwd *kf, unsigned timeout_ms)
{
	struct timespec end;
	uint64_t upto;
	int rc = 0;

	mclock_deadline(&end, timeout_ms);
	pthread_mutex_lock(&kf->mu);
	upto = kf->seq;
	while (!drained(kf, upto) && rc == 0)
		if (pthread_cond_timedwait(&kf->done, &kf->mu, &end) ==
		    ETIMEDOUT)
			rc = drained(kf, upto) ? 0 : MAGMA_EUNAVAIL;
	pthread_mutex_unlock(&kf->mu);
	return rc;
}
