/*
 * bench_journal - journal throughput with group commit: N producer threads hand batches of
 * events to the journal (journal_append_handoff, blocking until durable, as a poll connector
 * does; a batch of 1 is one event at a time) into a fresh store per durability level, and
 * events/s is printed per level.
 *
 *   bench_journal [-t threads] [-n events per thread] [-b batch] [-d fsync|batch|off|all]
 *                 [-w max_delay_us] [-D dir] [-s]
 *
 * -s: submit each batch without blocking (journal_submit_batch, the HTTP listener's path) and
 * wait for its done callback.
 */
#include <getopt.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/journal.h"
#include "base/log.h"
#include "store/store.h"

typedef struct bench_args {
    int threads, per_thread, batch;
    bool submit; /* journal_submit_batch, then wait for done (the listener's path) */
    int64_t delay_us;
    const char *dir;
} bench_args;

typedef struct producer {
    journal *j;
    const bench_args *a;
    int id;
    int failures;
} producer;

static sf_event *bench_event(int thread, int i)
{
    char entity[32], attrs[96];
    snprintf(entity, sizeof entity, "cust-%05d", (thread * 7919 + i) % 10000);
    sf_event *ev = event_new(entity, i % 10 < 7 ? "login" : "usage", 1793500000000LL + i, NULL, 0);
    if (!ev)
        return NULL;
    ev->value = i % 100;
    ev->has_value = true;
    int n =
        snprintf(attrs, sizeof attrs, "{\"owner\":\"am%d@example.com\",\"plan\":\"pro\"}", thread);
    if (event_set_attrs(ev, attrs, (size_t)n) != SF_OK) {
        event_free(ev);
        return NULL;
    }
    return ev;
}

/* Fresh events for one batch (the journal takes them); NULL on failure. */
static sf_event **bench_batch(int thread, int first, int n)
{
    sf_event **evs = calloc((size_t)n, sizeof *evs);
    if (!evs)
        return NULL;
    for (int k = 0; k < n; k++)
        if (!(evs[k] = bench_event(thread, first + k))) {
            for (int i = 0; i < k; i++)
                event_free(evs[i]);
            free(evs);
            return NULL;
        }
    return evs;
}

/* A submitted batch's outcome, waited for by its producer. */
typedef struct bench_done {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool called;
    sf_status st;
} bench_done;

static void bench_on_done(void *ctx, sf_status st)
{
    bench_done *d = ctx;
    pthread_mutex_lock(&d->mu);
    d->called = true;
    d->st = st;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* The listener's path: each batch submitted (the journal consumes it), then its done awaited. */
static void bench_submit(producer *p)
{
    int b = p->a->batch;
    bench_done d = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    for (int i = 0; i < p->a->per_thread && !p->failures; i += b) {
        int n = p->a->per_thread - i < b ? p->a->per_thread - i : b;
        sf_event **evs = bench_batch(p->id, i, n);
        d.called = false;
        if (!evs || journal_submit_batch(p->j, NULL, evs, (size_t)n, bench_on_done, &d) != SF_OK) {
            p->failures++;
            break;
        }
        pthread_mutex_lock(&d.mu);
        while (!d.called)
            pthread_cond_wait(&d.cv, &d.mu);
        pthread_mutex_unlock(&d.mu);
        if (d.st != SF_OK)
            p->failures++;
    }
    pthread_cond_destroy(&d.cv);
    pthread_mutex_destroy(&d.mu);
}

static void bench_sink(void *ctx, sf_event *const *evs, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        event_free(evs[i]);
}

static void *bench_produce(void *arg)
{
    producer *p = arg;
    int b = p->a->batch;
    if (p->a->submit) {
        bench_submit(p);
        return NULL;
    }
    for (int i = 0; i < p->a->per_thread && !p->failures; i += b) {
        int n = p->a->per_thread - i < b ? p->a->per_thread - i : b;
        sf_event **evs = bench_batch(p->id, i, n);
        if (!evs) {
            p->failures++;
            break;
        }
        if (journal_append_handoff(p->j, NULL, evs, (size_t)n, NULL, NULL) != SF_OK) {
            p->failures++;
            for (int k = 0; k < n; k++)
                event_free(evs[k]); /* refused: still ours */
        }
        free(evs);
    }
    return NULL;
}

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One level: a fresh database, all producers, events/s printed; 0 on success. */
static int bench_level(const bench_args *a, store_durability d)
{
    char dir[512], err[256], cmd[600];
    snprintf(dir, sizeof dir, "%s/bench-journal-%s-%d", a->dir, store_durability_name(d),
             (int)getpid());
    store *s = NULL;
    journal *j = NULL;
    journal_config c;
    journal_config_default(&c);
    c.max_delay_us = a->delay_us;
    int rc = 1;
    if (store_open(dir, d, &s, err, sizeof err) != SF_OK) {
        fprintf(stderr, "bench_journal: %s\n", err);
        return 1;
    }
    producer *ps = calloc((size_t)a->threads, sizeof *ps);
    pthread_t *th = calloc((size_t)a->threads, sizeof *th);
    if (!ps || !th || journal_open(s, &c, &j) != SF_OK)
        goto done;
    journal_set_sink_many(j, bench_sink, NULL);
    double t0 = bench_now();
    for (int t = 0; t < a->threads; t++) {
        ps[t] = (producer){.j = j, .a = a, .id = t};
        pthread_create(&th[t], NULL, bench_produce, &ps[t]);
    }
    int failures = 0;
    for (int t = 0; t < a->threads; t++) {
        pthread_join(th[t], NULL);
        failures += ps[t].failures;
    }
    double secs = bench_now() - t0;
    long total = (long)a->threads * a->per_thread;
    printf("durability=%-5s api=%s threads=%d batch=%d events=%ld seconds=%.3f "
           "events_per_s=%.0f%s\n",
           store_durability_name(d), a->submit ? "submit_batch" : "append_handoff", a->threads,
           a->batch, total, secs, (double)total / secs, failures ? " FAILURES" : "");
    rc = failures != 0 || journal_last_seq(j) != (uint64_t)total;
done:
    journal_close(j);
    store_close(s);
    free(ps);
    free(th);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_journal: could not remove %s\n", dir);
    return rc;
}

int main(int argc, char **argv)
{
    bench_args a = {.threads = 8, .per_thread = 50000, .batch = 1, .delay_us = 0, .dir = "/tmp"};
    const char *level = "all";
    int opt;
    while ((opt = getopt(argc, argv, "t:n:b:d:w:D:s")) != -1) {
        switch (opt) {
        case 's':
            a.submit = true;
            break;
        case 't':
            a.threads = atoi(optarg);
            break;
        case 'n':
            a.per_thread = atoi(optarg);
            break;
        case 'b':
            a.batch = atoi(optarg);
            break;
        case 'd':
            level = optarg;
            break;
        case 'w':
            a.delay_us = atoll(optarg);
            break;
        case 'D':
            a.dir = optarg;
            break;
        default:
            fprintf(stderr, "usage: bench_journal [-t threads] [-n per thread] [-b batch]"
                            " [-d fsync|batch|off|all] [-w max_delay_us] [-D dir] [-s]\n");
            return 2;
        }
    }
    if (a.threads < 1 || a.per_thread < 1 || a.batch < 1)
        return 2;
    log_set_level(SF_LOG_WARN);
    int rc = 0;
    for (int d = STORE_DURABILITY_FSYNC; d <= STORE_DURABILITY_OFF; d++)
        if (strcmp(level, "all") == 0 || store_durability_parse(level) == d)
            rc |= bench_level(&a, (store_durability)d);
    return rc;
}
