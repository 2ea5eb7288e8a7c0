/*
 * replay_input.h - NDJSON input for replay/backtest, parsed on several cores: a reader
 * thread cuts the stream into chunks at line ends, parser threads map each chunk's lines to
 * events with json-c (through mapping), and the consumer gets chunks back in file order.
 * Owns: the threads, chunks and the events until taken. Calls mapping, event, limits.
 * Used by replay.c.
 */
#ifndef SIGFLOW_REPLAY_INPUT_H
#define SIGFLOW_REPLAY_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/event.h"
#include "ingest/mapping.h"

typedef struct replay_input replay_input;

/*
 * One line's outcome: an event or why it was refused. The event's strings are borrowed from
 * the input and stay valid until the next replay_input_next call.
 */
typedef struct replay_item {
    int ok;        /* ev is valid */
    sf_event ev;   /* entity, type, attrs borrowed; source_id always NULL */
    uint64_t line; /* 1-based line number in the input */
    char *error;   /* bad line: what was wrong; borrowed likewise */
} replay_item;

/* Start reading `in` (not closed here) with `parsers` threads (<= 0: online cores). */
replay_input *replay_input_start(FILE *in, mapping *m, int parsers);
/*
 * The next line's item, in file order; 0 at end of input, -1 on a read error (message in
 * err).
 */
int replay_input_next(replay_input *in, replay_item *item, char *err, size_t errlen);
/* Stop the threads (also mid-stream) and free everything not taken. */
void replay_input_stop(replay_input *in);

#endif
