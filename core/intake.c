#include "intake.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "monotime.h"

#define INTAKE_RETRY_MS 10 /* linger thread's pause after a failed commit */

struct intake {
    journal *j;
    char *connector;
    sf_event **buf;
    size_t n, cap;
    int64_t linger_ms;
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
    intake *in = arg;
    pthread_mutex_lock(&in->mu);
    while (!in->stopping) {
        if (in->n == 0) {
            pthread_cond_wait(&in->cv, &in->mu);
            continue;
        }
        if (pthread_cond_timedwait(&in->cv, &in->mu, &in->due) != ETIMEDOUT)
            continue; /* woken: re-check (a commit may have emptied the buffer) */
        if (in->n > 0 && commit_locked(in, NULL, NULL) != SF_OK)
            in->due = monotime_after(INTAKE_RETRY_MS);
    }
    pthread_mutex_unlock(&in->mu);
    return NULL;
}

intake *intake_new(journal *j, const char *connector, size_t capacity, int64_t linger_ms)
{
    intake *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->j = j;
    in->cap = capacity ? capacity : 1;
    in->linger_ms = linger_ms;
    in->connector = strdup(connector);
    in->buf = calloc(in->cap, sizeof *in->buf);
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

sf_status intake_add(intake *in, sf_event *ev)
{
    pthread_mutex_lock(&in->mu);
    if (in->n == in->cap && commit_locked(in, NULL, NULL) != SF_OK) {
        pthread_mutex_unlock(&in->mu);
        event_free(ev);
        return SF_ERETRY;
    }
    in->buf[in->n++] = ev;
    if (in->n == 1) {
        in->due = monotime_after(in->linger_ms);
        pthread_cond_signal(&in->cv);
    }
    pthread_mutex_unlock(&in->mu);
    return SF_OK;
}

sf_status intake_commit(intake *in, const char *cursor_key, const char *cursor_value)
{
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
    if (in->n > 0 && commit_locked(in, NULL, NULL) != SF_OK) {
        log_error("component=intake",
                  "connector=%s: %zu events not journaled at stop; the "
                  "source will send them again from its last cursor",
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
