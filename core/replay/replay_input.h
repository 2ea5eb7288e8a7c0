/*
 * replay_input.h - NDJSON input for replay/backtest, parsed on several cores: a reader
 * thread cuts the stream into chunks at line ends, parser threads map each chunk's lines to
 * events with json-c (through mapping), and the consumer gets chunks back in file order.
 * Lines are parsed where the reader put them (no copy), the events' strings are kept in one
 * arena per chunk, and each entity's hash is computed on the parser threads.
 * Owns: the threads, chunks and the events until taken. Calls mapping, event, limits.
 * Used by replay.c and backtest.c.
 */
#ifndef SIGFLOW_REPLAY_INPUT_H
#define SIGFLOW_REPLAY_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/event.h"
#include "mapping/mapping.h"

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
    uint64_t hash; /* ok: score_entity_hash of ev.entity, computed by the parser thread */
} replay_item;

/* Start reading `in` (not closed here) with `parsers` threads (<= 0: online cores). */
replay_input *replay_input_start(FILE *in, mapping *m, int parsers);
/*
 * The next line's item, in file order; 0 at end of input, -1 on a read error (message in
 * err).
 */
int replay_input_next(replay_input *in, replay_item *item, char *err, size_t errlen);
/*
 * The item k places after the one replay_input_next returned last, when it is already parsed
 * (in the chunk being read), else NULL: for hints ahead (score_prefetch). Borrowed until the
 * next call of replay_input_next.
 */
const replay_item *replay_input_ahead(const replay_input *in, size_t k);
/* Stop the threads (also mid-stream) and free everything not taken. */
void replay_input_stop(replay_input *in);

#endif
