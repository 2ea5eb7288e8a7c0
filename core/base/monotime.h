/*
 * monotime.h - CLOCK_MONOTONIC deadlines for timed waits (condition variables are created
 * with CLOCK_MONOTONIC so a wall clock jump never stretches a wait). Pure functions.
 */
#ifndef SIGFLOW_MONOTIME_H
#define SIGFLOW_MONOTIME_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Initialise cv to time its waits on CLOCK_MONOTONIC (use with monotime_after). */
int monotime_cond_init(pthread_cond_t *cv);
/* Now + ms on CLOCK_MONOTONIC. */
struct timespec monotime_after(int64_t ms);
/* Milliseconds on CLOCK_MONOTONIC (for intervals). */
int64_t monotime_ms(void);
/* Monotonic microseconds. */
int64_t monotime_us(void);
/* Milliseconds since the Unix epoch, from the wall clock. */
int64_t walltime_ms(void);

#endif
