/*
 * progress.h - the progress line of long `replay` and `backtest` runs on stderr: events
 * scored, events per second, the event time reached. On by default only when stderr is a
 * terminal (redrawn in place about once a second); --progress forces it (a line a second
 * when stderr is not a terminal), --no-progress silences it. The last state is written when
 * the run ends, so a forced run always shows one. Owns: the counters. Calls timefmt,
 * monotime. Used by replay.c and backtest.c (docs/operating.md "Progress").
 */
#ifndef SIGFLOW_PROGRESS_H
#define SIGFLOW_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum progress_mode { PROGRESS_AUTO, PROGRESS_ON, PROGRESS_OFF } progress_mode;

/* Events between two looks at the clock: the per-event cost is a counter and a compare. */
#define PROGRESS_CHECK_EVERY 4096

typedef struct progress {
    const char *cmd; /* "replay" or "backtest": the line's prefix */
    FILE *to;
    bool on, tty, drawn;
    uint64_t events;
    int64_t event_max_ms; /* the latest event time seen (INT64_MIN: none yet) */
    int64_t t0_ms, last_draw_ms;
} progress;

void progress_start(progress *p, const char *cmd, progress_mode mode, FILE *to);
/* One more event scored, at event time event_ms. */
void progress_event(progress *p, int64_t event_ms);
/* Before other output to the same terminal: erase a line drawn in place. */
void progress_clear(progress *p);
/* The final state (when on), ending the line. */
void progress_end(progress *p);

#endif
