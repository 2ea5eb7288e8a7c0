#include "ingest/intake.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/monotime.h"

#define INTAKE_RETRY_MS 10 /* linger thread's pause after a failed commit */

/* The request scope open on this thread, if any. */
static _Thread_local intake_scope *tl_scope;

struct intake {
    journal *j;
    char *connector;
    sf_event **buf;
    size_t n, alloc;
    size_t batch, cap;
    int64_t linger_ms;
    atomic_bool cursor_mode; /* commits only with a cursor (or when full); set once, read
                                without mu on the request-scope path */
    bool warned_full;
    struct timespec due; /* when the linger thread commits the buffer */
    bool stopping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
};

static sf_status commit_locked(intake *in, const char *key, const char *value)
{
    if (in->n == 0 && !key)
        return SF_OK;
    sf_status rc = journal_append_handoff(in->j, in->connector, in->buf, in->n, key, value);
    if (rc == SF_OK)
        in->n = 0; /* handed over to the journal's sink */
    return rc;
}

static void *linger_main(void *arg)
{
    pthread_setname_np(pthread_self(), "sf-linger"); /* top -H, perf: docs/operating.md */
    intake *in = arg;
    pthread_mutex_lock(&in->mu);
    while (!in->stopping) {
        if (in->n == 0 || atomic_load(&in->cursor_mode)) {
            pthread_cond_wait(&in->cv, &in->mu);
            continue;
        }
        if (pthread_cond_timedwait(&in->cv, &in->mu, &in->due) != ETIMEDOUT)
            continue; /* woken: re-check (a commit may have emptied the buffer) */
        if (in->n > 0 && !atomic_load(&in->cursor_mode) && commit_locked(in, NULL, NULL) != SF_OK)
            in->due = monotime_after(INTAKE_RETRY_MS);
    }
    pthread_mutex_unlock(&in->mu);
    return NULL;
}

intake *intake_new(journal *j, const char *connector, size_t batch, size_t capacity,
                   int64_t linger_ms)
{
    intake *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->j = j;
    in->batch = batch ? batch : 1;
    in->cap = capacity > in->batch ? capacity : in->batch;
    in->alloc = in->batch;
    in->linger_ms = linger_ms;
    in->connector = strdup(connector);
    in->buf = calloc(in->alloc, sizeof *in->buf);
    pthread_mutex_init(&in->mu, NULL);
    monotime_cond_init(&in->cv);
    if (!in->connector || !in->buf || pthread_create(&in->thread, NULL, linger_main, in) != 0) {
        pthread_mutex_destroy(&in->mu);
        pthread_cond_destroy(&in->cv);
        free(in->connector);
        free(in->buf);
        free(in);
        return NULL;
    }
    return in;
}

void intake_cursor_mode(intake *in)
{
    pthread_mutex_lock(&in->mu);
    atomic_store(&in->cursor_mode, true);
    pthread_mutex_unlock(&in->mu);
}

/* Room for one more event: grow up to cap, or commit what is there (mu held). */
static sf_status make_room(intake *in)
{
    bool cursor_mode = atomic_load(&in->cursor_mode);
    size_t limit = cursor_mode ? in->cap : in->batch;
    if (in->n < limit) {
        if (in->n < in->alloc)
            return SF_OK;
        size_t alloc = in->alloc * 2 < in->cap ? in->alloc * 2 : in->cap;
        sf_event **b = realloc(in->buf, alloc * sizeof *b);
        if (b) {
            in->buf = b;
            in->alloc = alloc;
            return SF_OK;
        }
    }
    if (cursor_mode && !in->warned_full) {
        in->warned_full = true;
        log_warn("component=intake",
                 "connector=%s emitted %zu events without storing a checkpoint: committing "
                 "them without its cursor (after a crash it may send some of them again)",
                 in->connector, in->n);
    }
    return commit_locked(in, NULL, NULL);
}

/* ---- request scopes ------------------------------------------------------------------------ */

void intake_scope_open(intake_scope *s)
{
    memset(s, 0, sizeof *s);
    s->prev = tl_scope;
    tl_scope = s;
}

void intake_scope_close(intake_scope *s)
{
    if (tl_scope == s)
        tl_scope = s->prev;
}

void intake_scope_discard(intake_scope *s)
{
    for (size_t i = 0; i < s->n; i++)
        event_free(s->evs[i]);
    free(s->evs);
    s->evs = NULL;
    s->n = s->alloc = 0;
}

sf_status intake_scope_submit(intake_scope *s, journal_done_fn done, void *ctx, journal **here)
{
    if (!s->in || s->n == 0) {
        intake_scope_discard(s);
        return SF_EINVAL;
    }
    sf_event **evs = s->evs;
    size_t n = s->n;
    s->evs = NULL;
    s->n = s->alloc = 0;
    if (here) {
        *here = s->in->j;
        return journal_submit_batch_deferred(s->in->j, s->in->connector, evs, n, done, ctx);
    }
    return journal_submit_batch(s->in->j, s->in->connector, evs, n, done, ctx);
}

/* The open scope that takes in's events, or NULL. */
static intake_scope *scope_for(intake *in)
{
    intake_scope *s = tl_scope;
    if (!s || (s->in && s->in != in))
        return NULL;
    return s;
}

/* Keep ev in the request's scope; SF_ERETRY past the intake's capacity (ev is freed). */
static sf_status scope_add(intake_scope *s, intake *in, sf_event *ev)
{
    if (s->n == s->alloc) {
        size_t alloc = s->alloc ? s->alloc * 2 : 16;
        sf_event **b = s->n < in->cap ? realloc(s->evs, alloc * sizeof *b) : NULL;
        if (!b) {
            event_free(ev);
            return SF_ERETRY;
        }
        s->evs = b;
        s->alloc = alloc;
    }
    s->in = in;
    s->evs[s->n++] = ev;
    return SF_OK;
}

sf_status intake_add(intake *in, sf_event *ev)
{
    /* A request's event: the scope is this thread's own, no lock needed. */
    intake_scope *s = atomic_load(&in->cursor_mode) ? NULL : scope_for(in);
    if (s)
        return scope_add(s, in, ev);
    pthread_mutex_lock(&in->mu);
    if (make_room(in) != SF_OK) {
        pthread_mutex_unlock(&in->mu);
        event_free(ev);
        return SF_ERETRY;
    }
    in->buf[in->n++] = ev;
    if (in->n == 1 && !atomic_load(&in->cursor_mode)) {
        in->due = monotime_after(in->linger_ms);
        pthread_cond_signal(&in->cv);
    }
    pthread_mutex_unlock(&in->mu);
    return SF_OK;
}

sf_status intake_commit(intake *in, const char *cursor_key, const char *cursor_value)
{
    if (!cursor_key && scope_for(in))
        return SF_OK; /* the request's events: the scope's owner submits them */
    pthread_mutex_lock(&in->mu);
    sf_status rc = commit_locked(in, cursor_key, cursor_value);
    pthread_mutex_unlock(&in->mu);
    return rc;
}

void intake_free(intake *in)
{
    if (!in)
        return;
    pthread_mutex_lock(&in->mu);
    in->stopping = true;
    pthread_cond_signal(&in->cv);
    pthread_mutex_unlock(&in->mu);
    pthread_join(in->thread, NULL);
    if (in->n > 0 && atomic_load(&in->cursor_mode)) {
        /* Not covered by a stored cursor: the connector reads them again from its cursor, so
           journaling them now would count them twice. */
        log_debug("component=intake",
                  "connector=%s: %zu events after its last cursor are left "
                  "to be read again",
                  in->connector, in->n);
        for (size_t i = 0; i < in->n; i++)
            event_free(in->buf[i]);
    } else if (in->n > 0 && commit_locked(in, NULL, NULL) != SF_OK) {
        log_error("component=intake", "connector=%s: %zu events not journaled at stop",
                  in->connector, in->n);
        for (size_t i = 0; i < in->n; i++)
            event_free(in->buf[i]);
    }
    pthread_mutex_destroy(&in->mu);
    pthread_cond_destroy(&in->cv);
    free(in->buf);
    free(in->connector);
    free(in);
}
