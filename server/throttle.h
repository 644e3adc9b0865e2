/* throttle.h - a token bucket that paces a byte stream (DESIGN.md 5:
 * "rebalance is streamed, throttled, resumable"): repair.c charges it
 * with the bytes of the records each RANGE_PULL brought, and sleeps
 * before the next one while the stream is ahead of its rate.
 *
 * The bucket holds at most burst bytes of credit and refills at rate
 * bytes per second; a charge may take it below zero (a reply's size is
 * only known after it came), and the caller then sleeps until the debt
 * is paid.  So over any long stretch the stream moves at most
 * rate * seconds + burst bytes, and a single large reply is never split.
 *
 * The sleep is on the bucket's own condition variable (its mutex is
 * released while waiting): a caller must not hold a lock of its own
 * across throttle_take.  throttle_stop wakes every sleeper at once.
 *
 * Thread-safe. */
#ifndef MAGMA_THROTTLE_H
#define MAGMA_THROTTLE_H

#include <stdint.h>

typedef struct throttle throttle;

/* A bucket of rate bytes/s (0: no limit: throttle_take never sleeps,
 * but still reports a stop), holding at most burst bytes (0: one
 * second's worth), full at first.  *out is freed with throttle_free.
 * 0, MAGMA_ENOMEM or MAGMA_ESYS. */
int throttle_new(throttle **out, uint64_t rate, uint64_t burst);

/* NULL allowed; no thread may be in throttle_take. */
void throttle_free(throttle *t);

/* Charge n bytes (n 0: only the stop check), then sleep while the
 * bucket is in debt.  0; MAGMA_EJUKEBOX once throttle_stop was called
 * (at once, or as soon as it is during the sleep). */
int throttle_take(throttle *t, uint64_t n);

/* Wake every sleeper; every later throttle_take fails.  Not undone. */
void throttle_stop(throttle *t);

/* Non-zero once throttle_stop was called. */
int throttle_stopped(throttle *t);

/* Totals so far: bytes charged (also with rate 0) and ns slept; either
 * pointer may be NULL. */
void throttle_totals(throttle *t, uint64_t *charged, uint64_t *slept_ns);

/* The pure rule, for tests: the ns a caller sleeps after charging n
 * bytes to a bucket of rate bytes/s that held tokens (may be negative)
 * bytes of credit.  0 when rate is 0 or the credit covers n. */
uint64_t throttle_delay_ns(uint64_t rate, int64_t tokens, uint64_t n);

#endif
