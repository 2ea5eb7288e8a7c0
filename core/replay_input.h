/*
 * replay_input.h - NDJSON input for replay/backtest, parsed on several cores: a reader
 * thread cuts the stream into chunks at line ends, parser threads map each chunk's lines to
 * events with json-c (through mapping), and the consumer gets chunks back in file order.
 * Owns: the threads, chunks and the events until taken. Calls mapping, event, limits.
 * Used by replay.c.
 */
#ifndef SF_REPLAY_INPUT_H
#define SF_REPLAY_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "event.h"
#include "mapping.h"

typedef struct replay_input replay_input;

/* One line's outcome: an event (owned by the receiver once taken) or why it was refused. */
typedef struct replay_item {
    sf_event *ev;   /* NULL for a bad line */
    uint64_t line;  /* 1-based line number in the input */
    char *error;    /* bad line: what was wrong; owned by the input */
} replay_item;

/* Start reading `in` (not closed here) with `parsers` threads (<= 0: online cores). */
replay_input *replay_input_start(FILE *in, mapping *m, int parsers);
/*
 * The next line's item, in file order; 0 at end of input, -1 on a read error (message in
 * err). Take ownership of item->ev; item->error stays valid until the next call.
 */
int replay_input_next(replay_input *in, replay_item *item, char *err, size_t errlen);
/* Stop the threads (also mid-stream) and free everything not taken. */
void replay_input_stop(replay_input *in);

#endif
