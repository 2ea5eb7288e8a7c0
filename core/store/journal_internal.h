/*
 * journal_internal.h - the journal's state, shared by its files: journal.c (appending,
 * the committer) and journal_read.c (reading, checkpoints, retention) and
 * journal_export.c (row decoding). Nothing outside the journal includes it.
 */
#ifndef SIGFLOW_JOURNAL_INTERNAL_H
#define SIGFLOW_JOURNAL_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>

#include "store/journal.h"
#include "base/limits.h"

#define JOURNAL_CTX "component=journal"
#define JOURNAL_HAND_BUF 1024 /* committed events handed to a batch sink per call at most */

/*
 * One request. A blocking hand-off's entry (journal_append_handoff) lives on the caller's
 * stack until `done` is posted; a submitted batch's (async, journal_submit_batch) is on the
 * heap, owned by the journal. Committed events of both go to the sink.
 */
typedef struct journal_entry {
    struct journal_entry *next;
    const char *connector;
    const sf_event *const *evs;
    size_t n;
    const char *cursor_key, *cursor_value;
    uint64_t *seqs;
    sf_status status;
    size_t dups; /* events dropped by dedup when committed */
    bool async;
    sem_t done; /* blocking only: posted when committed, wakes only its owner */
    /* async only */
    sf_event **owned;        /* the events (and seqs) are the journal's */
    journal_done_fn on_done; /* told the outcome after the commit */
    void *done_ctx;
    char connector_buf[SIGFLOW_MAX_NAME_LEN + 1];
} journal_entry;

struct journal {
    store *st;
    journal_config cfg;
    pthread_mutex_t mu;     /* guards everything below */
    pthread_cond_t work;    /* committer: something to do */
    pthread_cond_t settled; /* a round ended: journal_quiesce checks again */
    journal_entry *head, *tail;
    size_t pending_events;
    bool stopping;
    bool committing;   /* a commit and its hand-over are under way (committer or producer) */
    uint64_t last_seq; /* last committed */
    uint64_t next_seq; /* committer's own: first seq of the next commit */
    journal_stats stats;
    journal_sink_many_fn sink_many;
    void *sink_ctx;
    sf_event *hand_buf[JOURNAL_HAND_BUF]; /* the hand-over's: used by whoever is committing */
    pthread_t thread;
};

/* Step a statement expected to finish, reset it; logs and returns SF_EIO otherwise. */
sf_status journal__step_done(journal *j, sqlite3_stmt *st);

/* The event of a journal row selected as (seq, entity, type, time_ms, value, attrs, ...):
   source_id from column source_id_col (-1: none). NULL when it cannot be built. Used by
   journal_read.c and journal_export.c. */
sf_event *journal__row_event(sqlite3_stmt *st, int source_id_col);

#endif
