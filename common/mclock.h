/* mclock.h - deadlines for pthread_cond_timedwait (CLOCK_REALTIME, the
 * default clock of a condition variable). */
#ifndef MAGMA_MCLOCK_H
#define MAGMA_MCLOCK_H

#include <stdint.h>
#include <time.h>

/* *ts = now + ms. */
static inline void mclock_deadline(struct timespec *ts, unsigned ms)
{
	uint64_t ns;

	clock_gettime(CLOCK_REALTIME, ts);
	ns = (uint64_t)ts->tv_nsec + (uint64_t)ms * 1000000u;
	ts->tv_sec += (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
}

#endif
