/* throttle.c - a token bucket that paces a byte stream (throttle.h). */
#include "config.h"

#include "throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "merr.h"

struct throttle {
	pthread_mutex_t mu;
	pthread_cond_t cv;          /* on CLOCK_MONOTONIC; broadcast by stop */
	uint64_t rate;              /* bytes per second; 0 no limit */
	double burst;               /* most credit held, bytes */
	double tokens;              /* credit, bytes; negative: debt */
	uint64_t last_ns;           /* when tokens was last refilled */
	uint64_t charged, slept_ns; /* totals */
	int stop;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t throttle_delay_ns(uint64_t rate, int64_t tokens, uint64_t n)
{
	double debt = (double)n - (double)tokens;

	if (rate == 0 || debt <= 0)
		return 0;
	return (uint64_t)(debt * 1e9 / (double)rate);
}

int throttle_new(throttle **out, uint64_t rate, uint64_t burst)
{
	pthread_condattr_t ca;
	throttle *t;
	int rc = 0;

	if (!(t = calloc(1, sizeof(*t))))
		return MAGMA_ENOMEM;
	t->rate = rate;
	t->burst = (double)(burst ? burst : rate);
	t->tokens = t->burst;
	t->last_ns = mono_ns();
	if (pthread_condattr_init(&ca) != 0) {
		free(t);
		return MAGMA_ESYS;
	}
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&t->cv, &ca) != 0) {
		rc = MAGMA_ESYS;
		goto out;
	}
	if (pthread_mutex_init(&t->mu, NULL) != 0) {
		pthread_cond_destroy(&t->cv);
		rc = MAGMA_ESYS;
		goto out;
	}
	*out = t;
	t = NULL;
out:
	pthread_condattr_destroy(&ca);
	free(t);
	return rc;
}

void throttle_free(throttle *t)
{
	if (!t)
		return;
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

int throttle_take(throttle *t, uint64_t n)
{
	uint64_t now, wait_ns, until;
	struct timespec ts;
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	if (t->stop || n == 0)
		goto out;
	t->charged += n;
	if (t->rate == 0)
		goto out;
	now = mono_ns();
	t->tokens += (double)(now - t->last_ns) * (double)t->rate / 1e9;
	if (t->tokens > t->burst)
		t->tokens = t->burst;
	t->last_ns = now;
	wait_ns = throttle_delay_ns(t->rate, (int64_t)t->tokens, n);
	t->tokens -= (double)n;
	if (wait_ns == 0)
		goto out;
	/* In debt: sleep until it is paid (the next take's refill counts
	 * the time slept). */
	until = now + wait_ns;
	ts.tv_sec = (time_t)(until / 1000000000u);
	ts.tv_nsec = (long)(until % 1000000000u);
	while (!t->stop && mono_ns() < until)
		(void)pthread_cond_timedwait(&t->cv, &t->mu, &ts);
	t->slept_ns += mono_ns() - now;
out:
	if (t->stop)
		rc = MAGMA_EJUKEBOX;
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void throttle_stop(throttle *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

int throttle_stopped(throttle *t)
{
	int s;

	pthread_mutex_lock(&t->mu);
	s = t->stop;
	pthread_mutex_unlock(&t->mu);
	return s;
}

void throttle_totals(throttle *t, uint64_t *charged, uint64_t *slept_ns)
{
	pthread_mutex_lock(&t->mu);
	if (charged)
		*charged = t->charged;
	if (slept_ns)
		*slept_ns = t->slept_ns;
	pthread_mutex_unlock(&t->mu);
}
