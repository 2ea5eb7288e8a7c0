/* Unit tests of core/store/journal.c: order, batch+cursor atomicity, group commit, dedup,
 * retention. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>

#include <sqlite3.h>

#include "store/journal.h"
#include "base/log.h"
#include "base/limits.h"
#include "store/store.h"
#include "store/store_kv.h"
#include "tmpdir.h"

#define DAY_MS (24LL * 3600 * 1000)

static int64_t g_now = 1700000000000LL;
static int64_t test_clock(void)
{
    return g_now;
}

typedef struct fixture {
    char dir[64];
    store *s;
    journal *j;
} fixture;

/* The sink every test journal starts with (below): appended copies' sequence numbers. */
static void record_sink(void *ctx, sf_event *const *evs, size_t n);

static void open_all(fixture *f, const journal_config *c)
{
    char err[256];
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_BATCH, &f->s, err, sizeof err), SF_OK);
    store_set_clock(f->s, test_clock);
    assert_int_equal(journal_open(f->s, c, &f->j), SF_OK);
    journal_set_sink_many(f->j, record_sink, NULL);
}

static void close_all(fixture *f)
{
    journal_close(f->j);
    store_close(f->s);
    f->j = NULL;
    f->s = NULL;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || !tmpdir_make(f->dir, sizeof f->dir))
        return -1;
    g_now = 1700000000000LL;
    open_all(f, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    close_all(f);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static sf_event *mk(const char *entity, const char *type, int64_t t, const char *source_id)
{
    sf_event *ev = event_new(entity, type, t, NULL, 0);
    assert_non_null(ev);
    if (source_id)
        ev->source_id = strdup(source_id);
    return ev;
}

/* Collects what journal_read hands over. */
typedef struct collected {
    size_t n;
    uint64_t seqs[8192];
    sf_event *evs[8192];
} collected;

static sf_status collect(void *ctx, uint64_t seq, sf_event *ev)
{
    collected *c = ctx;
    if (c->n == 8192) {
        event_free(ev);
        return SF_EFATAL;
    }
    c->seqs[c->n] = seq;
    c->evs[c->n++] = ev;
    return SF_OK;
}

static collected *read_all(journal *j, uint64_t after)
{
    collected *c = calloc(1, sizeof *c);
    assert_non_null(c);
    assert_int_equal(journal_read(j, after, collect, c), SF_OK);
    return c;
}

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        event_free(c->evs[i]);
    free(c);
}

/* ---- the tests' blocking append: journal_append_handoff of copies ------------------------ */

/*
 * Copies being appended, registered so that the recording sink tells them (and their
 * sequence numbers) apart from submitted events, which it frees as a journal without a sink
 * does. open_all installs it.
 */
#define APPENDING_MAX 4096
static struct {
    pthread_mutex_t mu;
    const sf_event *ev[APPENDING_MAX];
    uint64_t seq[APPENDING_MAX];
    bool sunk[APPENDING_MAX];
} g_appending = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void record_one(uint64_t seq, sf_event *ev)
{
    pthread_mutex_lock(&g_appending.mu);
    for (size_t i = 0; i < APPENDING_MAX; i++)
        if (g_appending.ev[i] == ev && !g_appending.sunk[i]) {
            g_appending.seq[i] = seq;
            g_appending.sunk[i] = true;
            pthread_mutex_unlock(&g_appending.mu);
            return; /* the appender frees it */
        }
    pthread_mutex_unlock(&g_appending.mu);
    event_free(ev);
}

static void record_sink(void *ctx, sf_event *const *evs, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        record_one(evs[i]->seq, evs[i]);
}

static sf_event *copy_event(const sf_event *ev)
{
    sf_event *c = mk(ev->entity, ev->type, ev->time_ms, ev->source_id);
    c->value = ev->value;
    c->has_value = ev->has_value;
    if (ev->attrs)
        assert_int_equal(event_set_attrs(c, ev->attrs, ev->attrs_len), SF_OK);
    return c;
}

/* Register copies of evs[0..n) in free slots (slot[i] their places). */
static void appending_register(sf_event **copies, size_t n, size_t *slot)
{
    pthread_mutex_lock(&g_appending.mu);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        while (at < APPENDING_MAX && g_appending.ev[at])
            at++;
        assert_true(at < APPENDING_MAX);
        g_appending.ev[at] = copies[i];
        g_appending.sunk[at] = false;
        slot[i] = at;
    }
    pthread_mutex_unlock(&g_appending.mu);
}

/*
 * Append copies of evs (the caller keeps its events, and may append them again) with the
 * cursor in one transaction, blocking until committed. seqs (may be NULL) receives each
 * event's sequence number, JOURNAL_DUPLICATE for one dedup dropped, all 0 on failure.
 */
static sf_status append(journal *j, const char *connector, const sf_event *const *evs, size_t n,
                        const char *cursor_key, const char *cursor_value, uint64_t *seqs)
{
    sf_event **copies = n ? calloc(n, sizeof *copies) : NULL;
    size_t *slot = n ? calloc(n, sizeof *slot) : NULL;
    assert_true(n == 0 || (copies && slot));
    for (size_t i = 0; i < n; i++)
        copies[i] = copy_event(evs[i]);
    appending_register(copies, n, slot);
    sf_status rc =
        journal_append_handoff(j, connector, evs ? copies : NULL, n, cursor_key, cursor_value);
    pthread_mutex_lock(&g_appending.mu);
    for (size_t i = 0; i < n; i++) {
        size_t at = slot[i];
        bool sunk = g_appending.sunk[at];
        if (seqs)
            seqs[i] = rc == SF_OK && sunk ? g_appending.seq[at] : 0;
        if (rc != SF_OK || sunk)
            event_free(copies[i]); /* failed: still ours; sunk: kept for us */
        g_appending.ev[at] = NULL; /* else a duplicate the journal freed */
    }
    pthread_mutex_unlock(&g_appending.mu);
    free(copies);
    free(slot);
    return rc;
}

static sf_status append_one(journal *j, const char *connector, const sf_event *ev, uint64_t *seq)
{
    return append(j, connector, &ev, 1, NULL, NULL, seq);
}

/* True when `connector` recorded `source_id` in the dedup table at or after since_ms. */
static bool dedup_seen(fixture *f, const char *connector, const char *source_id, int64_t since_ms)
{
    store_lock(f->s);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(f->s),
                                        "SELECT 1 FROM dedup WHERE connector = ?1 AND"
                                        " source_id = ?2 AND seen_ms >= ?3",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, connector, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, source_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, since_ms);
    bool seen = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    store_unlock(f->s);
    return seen;
}

/* journal_mark_checkpointed_locked in a transaction of its own. */
static sf_status mark_checkpointed(fixture *f, uint64_t seq)
{
    store_lock(f->s);
    sf_status rc = store_exec(f->s, "BEGIN");
    if (rc == SF_OK)
        rc = journal_mark_checkpointed_locked(f->j, seq);
    if (store_exec(f->s, rc == SF_OK ? "COMMIT" : "ROLLBACK") != SF_OK)
        rc = SF_EIO;
    store_unlock(f->s);
    return rc;
}

/* What a batch's done callback saw. */
typedef struct done_rec {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    int failures; /* calls with a status other than SF_OK */
    sf_status st;
    pthread_t thread;
} done_rec;

static void done_rec_init(done_rec *d)
{
    memset(d, 0, sizeof *d);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
}

static void done_rec_destroy(done_rec *d)
{
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
}

static void on_done_rec(void *ctx, sf_status st)
{
    done_rec *d = ctx;
    pthread_mutex_lock(&d->mu);
    d->calls++;
    if (st != SF_OK)
        d->failures++;
    d->st = st;
    d->thread = pthread_self();
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* Calls so far, after waiting up to 30 s (a safety net, not a timing) for at least `want`. */
static int done_wait(done_rec *d, int want)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&d->mu);
    while (d->calls < want && pthread_cond_timedwait(&d->cv, &d->mu, &until) == 0)
        ;
    int calls = d->calls;
    pthread_mutex_unlock(&d->mu);
    return calls;
}

static int done_calls(done_rec *d)
{
    pthread_mutex_lock(&d->mu);
    int calls = d->calls;
    pthread_mutex_unlock(&d->mu);
    return calls;
}

/* Submit one event (consumed) as a batch of one; its outcome goes to d. */
static sf_status submit_one(journal *j, const char *connector, sf_event *ev, done_rec *d)
{
    sf_event **evs = malloc(sizeof *evs);
    if (!evs) {
        event_free(ev);
        return SF_ENOMEM;
    }
    evs[0] = ev;
    return journal_submit_batch(j, connector, evs, 1, on_done_rec, d);
}

static void append_numbers_from_one_and_read_returns_fields_in_order(void **state)
{
    fixture *f = *state;
    sf_event *a = mk("cust-1", "login", 1000, NULL);
    sf_event *b = mk("cust-2", "ticket.opened", 2000, "t-9");
    b->value = 2.5;
    b->has_value = true;
    assert_int_equal(event_set_attrs(b, "{\"owner\":\"x@y\"}", 15), SF_OK);
    uint64_t sa = 0, sb = 0;
    assert_int_equal(append_one(f->j, NULL, a, &sa), SF_OK);
    assert_int_equal(append_one(f->j, "billing", b, &sb), SF_OK);
    assert_int_equal(sa, 1);
    assert_int_equal(sb, 2);
    assert_int_equal(journal_last_seq(f->j), 2);

    collected *c = read_all(f->j, 0);
    assert_int_equal(c->n, 2);
    assert_int_equal(c->seqs[0], 1);
    assert_string_equal(c->evs[0]->entity, "cust-1");
    assert_false(c->evs[0]->has_value);
    assert_null(c->evs[0]->attrs);
    assert_string_equal(c->evs[1]->type, "ticket.opened");
    assert_int_equal(c->evs[1]->time_ms, 2000);
    assert_true(c->evs[1]->has_value);
    assert_true(c->evs[1]->value == 2.5);
    assert_string_equal(c->evs[1]->attrs, "{\"owner\":\"x@y\"}");
    assert_string_equal(c->evs[1]->source_id, "t-9");
    collected_free(c);

    c = read_all(f->j, 1);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->seqs[0], 2);
    collected_free(c);
    event_free(a);
    event_free(b);
}

static void read_pages_through_more_than_one_page_in_order(void **state)
{
    fixture *f = *state;
    enum { N = 1300 };
    sf_event *evs[N];
    uint64_t seqs[N];
    for (int i = 0; i < N; i++)
        evs[i] = mk("e", "t", i, NULL);
    assert_int_equal(append(f->j, NULL, (const sf_event *const *)evs, N, NULL, NULL, seqs), SF_OK);
    collected *c = read_all(f->j, 0);
    assert_int_equal(c->n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(c->seqs[i], i + 1);
        assert_int_equal(c->evs[i]->time_ms, i);
    }
    collected_free(c);
    for (int i = 0; i < N; i++)
        event_free(evs[i]);
}

static void sequence_continues_after_reopen(void **state)
{
    fixture *f = *state;
    sf_event *ev = mk("e", "t", 1, NULL);
    uint64_t seq = 0;
    assert_int_equal(append_one(f->j, NULL, ev, &seq), SF_OK);
    assert_int_equal(append_one(f->j, NULL, ev, &seq), SF_OK);
    close_all(f);
    open_all(f, NULL);
    assert_int_equal(journal_last_seq(f->j), 2);
    assert_int_equal(append_one(f->j, NULL, ev, &seq), SF_OK);
    assert_int_equal(seq, 3);
    event_free(ev);
}

static void batch_and_cursor_commit_together(void **state)
{
    fixture *f = *state;
    sf_event *evs[3] = {mk("a", "t", 1, NULL), mk("b", "t", 2, NULL), mk("c", "t", 3, NULL)};
    uint64_t seqs[3] = {0};
    assert_int_equal(
        append(f->j, "poller", (const sf_event *const *)evs, 3, "cursor", "page-2", seqs), SF_OK);
    assert_int_equal(seqs[0], 1);
    assert_int_equal(seqs[2], 3);
    char *v = NULL;
    assert_int_equal(store_kv_get(f->s, "poller", "cursor", &v), SF_OK);
    assert_string_equal(v, "page-2");
    free(v);
    for (int i = 0; i < 3; i++)
        event_free(evs[i]);
}

/* The cursor write fails after the events were inserted in the same transaction. */
static void failed_cursor_write_leaves_neither_events_nor_cursor(void **state)
{
    fixture *f = *state;
    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "CREATE TEMP TRIGGER fail_kv BEFORE INSERT ON kv"
                                      " BEGIN SELECT RAISE(ABORT, 'injected'); END"),
                     SF_OK);
    store_unlock(f->s);
    sf_event *evs[2] = {mk("a", "t", 1, "id-1"), mk("b", "t", 2, "id-2")};
    uint64_t seqs[2] = {7, 7};
    assert_int_equal(
        append(f->j, "poller", (const sf_event *const *)evs, 2, "cursor", "page-9", seqs), SF_EIO);
    assert_int_equal(seqs[0], 0);
    collected *c = read_all(f->j, 0);
    assert_int_equal(c->n, 0);
    collected_free(c);
    char *v = NULL;
    assert_int_equal(store_kv_get(f->s, "poller", "cursor", &v), SF_OK);
    assert_null(v);
    /* The dedup ids went with the rollback: a retry is not mistaken for a duplicate. */
    assert_false(dedup_seen(f, "poller", "id-1", g_now - 7 * DAY_MS));
    assert_int_equal(journal_last_seq(f->j), 0);

    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "DROP TRIGGER fail_kv"), SF_OK);
    store_unlock(f->s);
    assert_int_equal(
        append(f->j, "poller", (const sf_event *const *)evs, 2, "cursor", "page-9", seqs), SF_OK);
    assert_int_equal(seqs[0], 1); /* the failed attempt used no sequence numbers */
    assert_int_equal(seqs[1], 2);
    for (int i = 0; i < 2; i++)
        event_free(evs[i]);
}

/* An event the table refuses (entity over its limit) in the middle of a batch. */
static void failed_event_mid_batch_leaves_nothing(void **state)
{
    fixture *f = *state;
    sf_event *evs[3] = {mk("a", "t", 1, NULL), mk("b", "t", 2, NULL), mk("c", "t", 3, NULL)};
    char *good = evs[1]->entity;
    char big[400];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    evs[1]->entity = big;
    /* handed over directly: a copy of an event over the limits cannot be made */
    assert_int_equal(journal_append_handoff(f->j, "poller", evs, 3, "cursor", "p"), SF_EIO);
    evs[1]->entity = good; /* refused: the events are still ours */
    collected *c = read_all(f->j, 0);
    assert_int_equal(c->n, 0);
    collected_free(c);
    char *v = NULL;
    assert_int_equal(store_kv_get(f->s, "poller", "cursor", &v), SF_OK);
    assert_null(v);
    for (int i = 0; i < 3; i++)
        event_free(evs[i]);
}

static void invalid_batches_are_refused(void **state)
{
    fixture *f = *state;
    sf_event *ev = mk("a", "t", 1, NULL);
    const sf_event *evs[1] = {ev};
    assert_int_equal(append(f->j, "c", evs, 0, NULL, NULL, NULL), SF_EINVAL);
    assert_int_equal(append(f->j, NULL, evs, 1, "cursor", "v", NULL), SF_EINVAL);
    assert_int_equal(append(f->j, "c", evs, 1, "cursor", NULL, NULL), SF_EINVAL);
    /* A cursor alone (a poll that produced nothing new) is a valid append. */
    assert_int_equal(append(f->j, "c", NULL, 0, "cursor", "v", NULL), SF_OK);
    event_free(ev);
}

#define THREADS 8
#define PER_THREAD 400

typedef struct producer {
    journal *j;
    int id;
    uint64_t seqs[PER_THREAD];
    int failures;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    char entity[32];
    snprintf(entity, sizeof entity, "producer-%d", p->id);
    for (int i = 0; i < PER_THREAD; i++) {
        sf_event *ev = event_new(entity, "tick", i, NULL, 0);
        if (!ev || append_one(p->j, NULL, ev, &p->seqs[i]) != SF_OK)
            p->failures++;
        event_free(ev);
    }
    return NULL;
}

static void group_commit_from_threads_loses_and_duplicates_nothing(void **state)
{
    fixture *f = *state;
    producer *ps = calloc(THREADS, sizeof *ps);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        ps[t].j = f->j;
        ps[t].id = t;
        assert_int_equal(pthread_create(&th[t], NULL, produce, &ps[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    enum { TOTAL = THREADS * PER_THREAD };
    static bool seen_seq[TOTAL + 1];
    memset(seen_seq, 0, sizeof seen_seq);
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(ps[t].failures, 0);
        for (int i = 0; i < PER_THREAD; i++) {
            uint64_t s = ps[t].seqs[i];
            assert_true(s >= 1 && s <= TOTAL);
            assert_false(seen_seq[s]);
            seen_seq[s] = true;
            /* one producer's events keep their order */
            if (i > 0)
                assert_true(s > ps[t].seqs[i - 1]);
        }
    }
    collected *c = read_all(f->j, 0);
    assert_int_equal(c->n, TOTAL);
    int count[THREADS] = {0};
    for (size_t k = 0; k < c->n; k++) {
        int t = atoi(c->evs[k]->entity + strlen("producer-"));
        assert_int_equal(c->evs[k]->time_ms, count[t]); /* each once, in its order */
        count[t]++;
    }
    collected_free(c);
    free(ps);
}

static void duplicate_source_id_is_acknowledged_not_appended(void **state)
{
    fixture *f = *state;
    sf_event *ev = mk("a", "ticket.opened", 1, "T-1");
    uint64_t seq = 99;
    assert_false(dedup_seen(f, "desk", "T-1", g_now - 7 * DAY_MS));
    assert_int_equal(append_one(f->j, "desk", ev, &seq), SF_OK);
    assert_int_equal(seq, 1);
    assert_true(dedup_seen(f, "desk", "T-1", g_now - 7 * DAY_MS));
    assert_int_equal(append_one(f->j, "desk", ev, &seq), SF_OK);
    assert_int_equal(seq, JOURNAL_DUPLICATE);
    /* another connector's id space is its own */
    assert_int_equal(append_one(f->j, "crm", ev, &seq), SF_OK);
    assert_int_equal(seq, 2);
    /* within one batch too */
    sf_event *twice[2] = {mk("b", "t", 2, "T-2"), mk("b", "t", 2, "T-2")};
    uint64_t seqs[2];
    assert_int_equal(append(f->j, "desk", (const sf_event *const *)twice, 2, NULL, NULL, seqs),
                     SF_OK);
    assert_int_equal(seqs[0], 3);
    assert_int_equal(seqs[1], JOURNAL_DUPLICATE);
    collected *c = read_all(f->j, 0);
    assert_int_equal(c->n, 3);
    collected_free(c);
    /* the window survives a restart */
    close_all(f);
    open_all(f, NULL);
    assert_int_equal(append_one(f->j, "desk", ev, &seq), SF_OK);
    assert_int_equal(seq, JOURNAL_DUPLICATE);
    event_free(ev);
    event_free(twice[0]);
    event_free(twice[1]);
}

static void source_id_older_than_window_is_appended_again(void **state)
{
    fixture *f = *state;
    close_all(f);
    journal_config c;
    journal_config_default(&c);
    c.dedup_window_ms = DAY_MS;
    open_all(f, &c);
    sf_event *ev = mk("a", "t", 1, "X");
    uint64_t seq;
    assert_int_equal(append_one(f->j, "desk", ev, &seq), SF_OK);
    g_now += DAY_MS - 1;
    assert_int_equal(append_one(f->j, "desk", ev, &seq), SF_OK);
    assert_int_equal(seq, JOURNAL_DUPLICATE);
    g_now += 2;
    assert_false(dedup_seen(f, "desk", "X", g_now - DAY_MS));
    assert_int_equal(append_one(f->j, "desk", ev, &seq), SF_OK);
    assert_int_equal(seq, 2);
    event_free(ev);
}

static void retention_removes_only_old_checkpointed_events(void **state)
{
    fixture *f = *state;
    int64_t now = g_now;
    /* Arrival times decide (a backfill's event times are old whenever it arrives). */
    g_now = now - 10 * DAY_MS;
    sf_event *evs[4] = {mk("a", "t", now, NULL), mk("b", "t", now, NULL),
                        mk("c", "t", now - 30 * DAY_MS, NULL), mk("d", "t", now, NULL)};
    assert_int_equal(append(f->j, NULL, (const sf_event *const *)evs, 2, NULL, NULL, NULL), SF_OK);
    g_now = now - DAY_MS; /* c: an old event that arrived recently */
    assert_int_equal(append_one(f->j, NULL, evs[2], NULL), SF_OK);
    g_now = now - 10 * DAY_MS; /* d arrived long ago but is not covered by the checkpoint */
    assert_int_equal(append_one(f->j, NULL, evs[3], NULL), SF_OK);
    g_now = now;
    assert_int_equal(mark_checkpointed(f, 3), SF_OK);
    assert_int_equal(mark_checkpointed(f, 2), SF_OK); /* never moves back */
    assert_int_equal(journal_checkpointed_seq(f->j), 3);
    size_t deleted = 0;
    assert_int_equal(journal_retain(f->j, 7 * DAY_MS, &deleted), SF_OK);
    assert_int_equal(deleted, 2); /* seq 1, 2; 3 arrived recently, 4 is not checkpointed */
    collected *c = read_all(f->j, 0);
    assert_int_equal(c->n, 2);
    assert_int_equal(c->seqs[0], 3);
    assert_int_equal(c->seqs[1], 4);
    collected_free(c);
    for (int i = 0; i < 4; i++)
        event_free(evs[i]);
}

static void sequence_is_not_reused_after_retention_empties_the_journal(void **state)
{
    fixture *f = *state;
    sf_event *ev = mk("a", "t", g_now - 30 * DAY_MS, NULL);
    uint64_t seq;
    assert_int_equal(append_one(f->j, NULL, ev, &seq), SF_OK);
    assert_int_equal(append_one(f->j, NULL, ev, &seq), SF_OK);
    assert_int_equal(mark_checkpointed(f, 2), SF_OK);
    assert_int_equal(journal_retain(f->j, DAY_MS, NULL), SF_OK);
    close_all(f);
    open_all(f, NULL);
    assert_int_equal(journal_last_seq(f->j), 2);
    assert_int_equal(append_one(f->j, NULL, ev, &seq), SF_OK);
    assert_int_equal(seq, 3);
    event_free(ev);
}

static void retention_forgets_ids_past_the_window(void **state)
{
    fixture *f = *state;
    sf_event *ev = mk("a", "t", g_now, "Y");
    uint64_t seq;
    assert_int_equal(append_one(f->j, "desk", ev, &seq), SF_OK);
    g_now += 8 * DAY_MS;
    assert_int_equal(journal_retain(f->j, 365 * DAY_MS, NULL), SF_OK);
    store_lock(f->s);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(store_db(f->s), "SELECT count(*) FROM dedup", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    store_unlock(f->s);
    event_free(ev);
}

static sf_status stop_after_two(void *ctx, uint64_t seq, sf_event *ev)
{
    (void)seq;
    int *n = ctx;
    event_free(ev);
    return ++*n == 2 ? SF_EFATAL : SF_OK;
}

static void read_stops_when_the_callback_says_so(void **state)
{
    fixture *f = *state;
    sf_event *ev = mk("a", "t", 1, NULL);
    for (int i = 0; i < 5; i++)
        assert_int_equal(append_one(f->j, NULL, ev, NULL), SF_OK);
    int n = 0;
    assert_int_equal(journal_read(f->j, 0, stop_after_two, &n), SF_EFATAL);
    assert_int_equal(n, 2);
    event_free(ev);
}

/* Child: append forever, writing each acknowledged seq to fd. Never returns. */
static void append_until_killed(const char *dir, int fd)
{
    char err[256];
    store *s = NULL;
    journal *j = NULL;
    if (store_open(dir, STORE_DURABILITY_FSYNC, &s, err, sizeof err) != SF_OK ||
        journal_open(s, NULL, &j) != SF_OK)
        _exit(2);
    journal_set_sink_many(j, record_sink, NULL);
    sf_event *ev = event_new("victim", "tick", 1, NULL, 0);
    for (;;) {
        uint64_t seq = 0;
        if (!ev || append_one(j, NULL, ev, &seq) != SF_OK)
            _exit(3);
        if (write(fd, &seq, sizeof seq) != sizeof seq)
            _exit(4);
    }
}

/* The promise to a connector: once append returned, a kill -9 cannot take the event back. */
static void acknowledged_events_survive_kill_9(void **state)
{
    (void)state;
    char dir[64];
    assert_non_null(tmpdir_make(dir, sizeof dir));
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        append_until_killed(dir, fds[1]);
    }
    close(fds[1]);
    uint64_t seq = 0, acked = 0;
    while (acked < 300 && read(fds[0], &seq, sizeof seq) == sizeof seq)
        acked = seq;
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    while (read(fds[0], &seq, sizeof seq) == sizeof seq) /* acked before it died */
        acked = seq;
    close(fds[0]);
    assert_true(acked >= 300);

    fixture f = {0};
    memcpy(f.dir, dir, sizeof dir);
    open_all(&f, NULL);
    assert_true(journal_last_seq(f.j) >= acked);
    collected *c = read_all(f.j, 0);
    assert_true(c->n >= acked);
    for (size_t i = 0; i < c->n; i++)
        assert_int_equal(c->seqs[i], i + 1); /* no gap, nothing torn */
    collected_free(c);
    close_all(&f);
    tmpdir_remove(dir);
}

/* A sink that keeps what it is given, for the submit tests. */
typedef struct sunk {
    pthread_mutex_t mu;
    size_t n;
    uint64_t seqs[4096];
    char entities[4096][24];
} sunk;

static void sink_keep(void *ctx, sf_event *const *evs, size_t n)
{
    sunk *k = ctx;
    pthread_mutex_lock(&k->mu);
    for (size_t i = 0; i < n; i++) {
        if (k->n < 4096) {
            k->seqs[k->n] = evs[i]->seq;
            snprintf(k->entities[k->n], sizeof k->entities[0], "%s", evs[i]->entity);
            k->n++;
        }
        event_free(evs[i]);
    }
    pthread_mutex_unlock(&k->mu);
}

static sunk *sunk_new(journal *j)
{
    sunk *k = calloc(1, sizeof *k);
    assert_non_null(k);
    pthread_mutex_init(&k->mu, NULL);
    journal_set_sink_many(j, sink_keep, k);
    return k;
}

static void sunk_free(sunk *k)
{
    pthread_mutex_destroy(&k->mu);
    free(k);
}

static void submitted_events_reach_the_sink_in_sequence_order(void **state)
{
    fixture *f = *state;
    sunk *k = sunk_new(f->j);
    done_rec d;
    done_rec_init(&d);
    for (int i = 0; i < 50; i++) {
        char entity[16];
        snprintf(entity, sizeof entity, "e%d", i);
        assert_int_equal(submit_one(f->j, NULL, mk(entity, "t", i, NULL), &d), SF_OK);
    }
    assert_int_equal(done_wait(&d, 50), 50);
    assert_int_equal(d.failures, 0);
    /* durable once waited for: readable before the sink has even run */
    collected *c = read_all(f->j, 0);
    assert_int_equal(c->n, 50);
    collected_free(c);
    close_all(f); /* drains: every sink call has happened */
    assert_int_equal(k->n, 50);
    for (size_t i = 0; i < k->n; i++) {
        char entity[32];
        snprintf(entity, sizeof entity, "e%zu", i);
        assert_int_equal(k->seqs[i], i + 1);
        assert_string_equal(k->entities[i], entity);
    }
    sunk_free(k);
    done_rec_destroy(&d);
    open_all(f, NULL);
}

static void handoff_batch_and_cursor_reach_the_sink_once_committed(void **state)
{
    fixture *f = *state;
    sunk *k = sunk_new(f->j);
    sf_event *evs[3] = {mk("a", "t", 1, "id1"), mk("b", "t", 2, "id2"), mk("c", "t", 3, "id1")};
    /* The third repeats the first's source id: committed as a duplicate, freed, not sunk. */
    assert_int_equal(journal_append_handoff(f->j, "conn", evs, 3, "offset", "42"), SF_OK);
    /* Returned only after the sink ran: the events are in the shard router already. */
    assert_int_equal(k->n, 2);
    assert_string_equal(k->entities[0], "a");
    assert_string_equal(k->entities[1], "b");
    assert_int_equal(k->seqs[1], k->seqs[0] + 1);
    char *v = NULL;
    assert_int_equal(store_kv_get(f->s, "conn", "offset", &v), SF_OK);
    assert_string_equal(v, "42");
    free(v);
    /* A refused batch leaves the caller owning its events. */
    sf_event *bad[1] = {mk("d", "t", 4, NULL)};
    assert_int_equal(journal_append_handoff(f->j, NULL, bad, 1, "k", "v"), SF_EINVAL);
    event_free(bad[0]);
    close_all(f);
    sunk_free(k);
    open_all(f, NULL);
}

static void submitted_duplicate_is_freed_not_sunk(void **state)
{
    fixture *f = *state;
    sunk *k = sunk_new(f->j);
    done_rec d;
    done_rec_init(&d);
    assert_int_equal(submit_one(f->j, "desk", mk("a", "t", 1, "T-7"), &d), SF_OK);
    assert_int_equal(submit_one(f->j, "desk", mk("a", "t", 1, "T-7"), &d), SF_OK);
    assert_int_equal(done_wait(&d, 2), 2);
    assert_int_equal(d.failures, 0); /* a duplicate is acknowledged */
    close_all(f);
    assert_int_equal(k->n, 1);
    sunk_free(k);
    done_rec_destroy(&d);
    open_all(f, NULL);
}

typedef struct submitter {
    journal *j;
    int id;
    int failures;
} submitter;

static void *submit_many(void *arg)
{
    submitter *p = arg;
    char entity[32];
    snprintf(entity, sizeof entity, "producer-%d", p->id);
    for (int round = 0; round < 10; round++) {
        done_rec d;
        done_rec_init(&d);
        int submitted = 0;
        for (int i = 0; i < 40; i++) {
            sf_event *ev = event_new(entity, "tick", round * 40 + i, NULL, 0);
            if (!ev || submit_one(p->j, NULL, ev, &d) != SF_OK)
                p->failures++;
            else
                submitted++;
        }
        if (done_wait(&d, submitted) != submitted || d.failures != 0)
            p->failures++;
        done_rec_destroy(&d);
    }
    return NULL;
}

static void submits_from_threads_are_all_sunk_once_in_order(void **state)
{
    fixture *f = *state;
    sunk *k = sunk_new(f->j);
    submitter ps[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        ps[t] = (submitter){.j = f->j, .id = t};
        assert_int_equal(pthread_create(&th[t], NULL, submit_many, &ps[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(ps[t].failures, 0);
    }
    close_all(f);
    assert_int_equal(k->n, 1600);
    for (size_t i = 0; i < k->n; i++)
        assert_int_equal(k->seqs[i], i + 1);
    sunk_free(k);
    open_all(f, NULL);
    assert_int_equal(journal_last_seq(f->j), 1600);
}

static void cursor_appended_after_submits_commits_no_earlier_than_them(void **state)
{
    fixture *f = *state;
    done_rec d;
    done_rec_init(&d);
    for (int i = 0; i < 20; i++)
        assert_int_equal(submit_one(f->j, "file", mk("a", "t", i, NULL), &d), SF_OK);
    assert_int_equal(append(f->j, "file", NULL, 0, "offset", "4096", NULL), SF_OK);
    collected *c = read_all(f->j, 0);
    assert_int_equal(c->n, 20);
    collected_free(c);
    assert_int_equal(done_wait(&d, 20), 20);
    done_rec_destroy(&d);
}

static void failed_submit_is_reported_to_done_and_not_sunk(void **state)
{
    fixture *f = *state;
    sunk *k = sunk_new(f->j);
    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "CREATE TEMP TRIGGER fail_j BEFORE INSERT ON journal"
                                      " BEGIN SELECT RAISE(ABORT, 'injected'); END"),
                     SF_OK);
    store_unlock(f->s);
    done_rec a, b;
    done_rec_init(&a);
    done_rec_init(&b);
    assert_int_equal(submit_one(f->j, NULL, mk("a", "t", 1, NULL), &a), SF_OK);
    assert_int_equal(done_wait(&a, 1), 1);
    assert_int_equal(a.st, SF_EIO);
    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "DROP TRIGGER fail_j"), SF_OK);
    store_unlock(f->s);
    assert_int_equal(submit_one(f->j, NULL, mk("b", "t", 1, NULL), &b), SF_OK);
    assert_int_equal(done_wait(&b, 1), 1);
    assert_int_equal(b.st, SF_OK);
    close_all(f);
    assert_int_equal(k->n, 1);
    assert_string_equal(k->entities[0], "b");
    sunk_free(k);
    done_rec_destroy(&a);
    done_rec_destroy(&b);
    open_all(f, NULL);
}

static void invalid_submit_is_refused_and_consumed(void **state)
{
    fixture *f = *state;
    sf_event *ev = mk("a", "t", 1, NULL);
    ev->source_id = malloc(SIGFLOW_MAX_SOURCE_ID_LEN + 2);
    memset(ev->source_id, 's', SIGFLOW_MAX_SOURCE_ID_LEN + 1);
    ev->source_id[SIGFLOW_MAX_SOURCE_ID_LEN + 1] = '\0';
    done_rec d;
    done_rec_init(&d);
    assert_int_equal(submit_one(f->j, "desk", ev, &d), SF_EINVAL); /* freed: no leak */
    assert_int_equal(journal_submit_batch(f->j, NULL, NULL, 0, on_done_rec, &d), SF_EINVAL);
    close_all(f); /* drains: a refused submit is never answered */
    assert_int_equal(done_calls(&d), 0);
    done_rec_destroy(&d);
    open_all(f, NULL);
}

static void full_disk_fails_the_batch_and_stores_nothing(void **state)
{
    fixture *f = *state;
    enum { N = 64 };
    sf_event *evs[N];
    char attrs[4002];
    memset(attrs, 'x', sizeof attrs);
    attrs[0] = '"';
    attrs[sizeof attrs - 1] = '"';
    for (int i = 0; i < N; i++) {
        evs[i] = mk("a", "t", i, NULL);
        assert_int_equal(event_set_attrs(evs[i], attrs, sizeof attrs), SF_OK);
    }
    /* The database may not grow: SQLITE_FULL, which can roll the transaction back. */
    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "PRAGMA max_page_count = 1"), SF_OK);
    store_unlock(f->s);
    assert_int_equal(append(f->j, NULL, (const sf_event *const *)evs, N, NULL, NULL, NULL), SF_EIO);
    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "PRAGMA max_page_count = 1073741823"), SF_OK);
    store_unlock(f->s);
    collected *c = read_all(f->j, 0);
    assert_int_equal(c->n, 0);
    collected_free(c);
    uint64_t seq = 0;
    assert_int_equal(append_one(f->j, NULL, evs[0], &seq), SF_OK);
    assert_int_equal(seq, 1);
    for (int i = 0; i < N; i++)
        event_free(evs[i]);
}

/* A full disk in the middle of a shared commit: SQLite rolls the transaction back, and the
   entries after the failing one must not be written one by one outside it. */
static void full_disk_mid_commit_leaves_no_entry_of_it_stored(void **state)
{
    fixture *f = *state;
    close_all(f);
    journal_config c;
    journal_config_default(&c);
    c.max_delay_us = 300000; /* hold the commit open so the three submits share it */
    open_all(f, &c);
    char attrs[SIGFLOW_MAX_ATTRS_LEN];
    memset(attrs, 'x', sizeof attrs);
    attrs[0] = '"';
    attrs[sizeof attrs - 1] = '"';
    sf_event *big = mk("b", "t", 2, NULL);
    assert_int_equal(event_set_attrs(big, attrs, sizeof attrs), SF_OK);
    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "PRAGMA max_page_count = 1"), SF_OK); /* = current */
    store_unlock(f->s);
    done_rec a, b, c3;
    done_rec_init(&a);
    done_rec_init(&b);
    done_rec_init(&c3);
    assert_int_equal(submit_one(f->j, NULL, mk("a", "t", 1, NULL), &a), SF_OK);
    assert_int_equal(submit_one(f->j, NULL, big, &b), SF_OK);
    assert_int_equal(submit_one(f->j, NULL, mk("c", "t", 3, NULL), &c3), SF_OK);
    assert_int_equal(done_wait(&c3, 1), 1);
    assert_int_equal(done_calls(&a), 1);
    assert_int_equal(done_calls(&b), 1);
    assert_int_equal(b.st, SF_EIO);
    assert_int_equal(a.st, SF_EIO);  /* the whole commit failed: before the big one */
    assert_int_equal(c3.st, SF_EIO); /* and after it */
    done_rec_destroy(&a);
    done_rec_destroy(&b);
    done_rec_destroy(&c3);
    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "PRAGMA max_page_count = 1073741823"), SF_OK);
    store_unlock(f->s);
    collected *got = read_all(f->j, 0);
    assert_int_equal(got->n, 0);
    collected_free(got);
    assert_int_equal(journal_last_seq(f->j), 0);
}

static void checkpoint_and_its_position_commit_together(void **state)
{
    fixture *f = *state;
    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "BEGIN"), SF_OK);
    assert_int_equal(store_kv_set_locked(f->s, "entities", "shard-0", "state@5"), SF_OK);
    assert_int_equal(journal_mark_checkpointed_locked(f->j, 5), SF_OK);
    assert_int_equal(store_exec(f->s, "ROLLBACK"), SF_OK); /* the process died here */
    store_unlock(f->s);
    char *v = NULL;
    assert_int_equal(store_kv_get(f->s, "entities", "shard-0", &v), SF_OK);
    assert_null(v);
    assert_int_equal(journal_checkpointed_seq(f->j), 0);

    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "BEGIN"), SF_OK);
    assert_int_equal(store_kv_set_locked(f->s, "entities", "shard-0", "state@5"), SF_OK);
    assert_int_equal(journal_mark_checkpointed_locked(f->j, 5), SF_OK);
    assert_int_equal(store_exec(f->s, "COMMIT"), SF_OK);
    store_unlock(f->s);
    assert_int_equal(store_kv_get(f->s, "entities", "shard-0", &v), SF_OK);
    assert_string_equal(v, "state@5");
    free(v);
    assert_int_equal(journal_checkpointed_seq(f->j), 5);
}

static void commits_hold_at_most_max_batch_events(void **state)
{
    fixture *f = *state;
    close_all(f);
    journal_config c;
    journal_config_default(&c);
    c.max_batch = 2;
    open_all(f, &c);
    sf_event *evs[3] = {mk("a", "t", 1, NULL), mk("b", "t", 2, NULL), mk("c", "t", 3, NULL)};
    done_rec d;
    done_rec_init(&d);
    for (int i = 0; i < 7; i++)
        assert_int_equal(submit_one(f->j, NULL, mk("a", "t", i, NULL), &d), SF_OK);
    /* an entry larger than max_batch is committed whole, on its own */
    assert_int_equal(append(f->j, NULL, (const sf_event *const *)evs, 3, NULL, NULL, NULL), SF_OK);
    assert_int_equal(done_wait(&d, 7), 7); /* queued before the batch: committed before it */
    assert_int_equal(d.failures, 0);
    done_rec_destroy(&d);
    journal_stats st;
    journal_get_stats(f->j, &st);
    assert_int_equal(st.events, 10);
    assert_int_equal(st.largest_commit, 3);
    assert_true(st.commits >= 5); /* 7 submits in commits of <= 2, then the 3-event batch */
    for (int i = 0; i < 3; i++)
        event_free(evs[i]);
}

static void stats_count_duplicates_and_failures(void **state)
{
    fixture *f = *state;
    sf_event *ev = mk("a", "t", 1, "S-1");
    assert_int_equal(append_one(f->j, "desk", ev, NULL), SF_OK);
    assert_int_equal(append_one(f->j, "desk", ev, NULL), SF_OK);
    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "CREATE TEMP TRIGGER fail_j BEFORE INSERT ON journal"
                                      " BEGIN SELECT RAISE(ABORT, 'injected'); END"),
                     SF_OK);
    store_unlock(f->s);
    assert_int_equal(append_one(f->j, NULL, ev, NULL), SF_EIO);
    journal_stats st;
    journal_get_stats(f->j, &st);
    assert_int_equal(st.events, 1);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(st.failed, 1);
    event_free(ev);
}

/* sleep_ms(N) in SQL: a write that takes N ms, as a stalling disk makes one. */
static void sql_sleep_ms(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    struct timespec ts = {0, (long)sqlite3_value_int(argv[0]) * 1000000L};
    nanosleep(&ts, NULL);
    sqlite3_result_null(cx);
}

/* Each commit's time is in the histogram: as many counted as committed, each in the bucket
   its time falls in; a commit slowed inside its transaction is seen as slow. */
static void commit_times_are_counted(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 3; i++) {
        sf_event *ev = mk("a", "t", i, NULL);
        assert_int_equal(append_one(f->j, NULL, ev, NULL), SF_OK);
        event_free(ev);
    }
    store_lock(f->s);
    assert_int_equal(sqlite3_create_function(store_db(f->s), "sleep_ms", 1, SQLITE_UTF8, NULL,
                                             sql_sleep_ms, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(store_exec(f->s, "CREATE TEMP TRIGGER slow_j BEFORE INSERT ON journal"
                                      " BEGIN SELECT sleep_ms(30); END"),
                     SF_OK);
    store_unlock(f->s);
    sf_event *ev = mk("b", "t", 9, NULL);
    assert_int_equal(append_one(f->j, NULL, ev, NULL), SF_OK);
    event_free(ev);
    journal_stats st;
    journal_get_stats(f->j, &st);
    assert_int_equal(st.commits, 4);
    uint64_t counted = 0, slow = 0;
    for (size_t b = 0; b <= JOURNAL_COMMIT_NBOUNDS; b++) {
        counted += st.commit_buckets[b];
        if (b > 0 && journal_commit_bounds[b - 1] >= 0.025) /* above 25 ms */
            slow += st.commit_buckets[b];
    }
    assert_int_equal(counted, 4);
    assert_int_equal(slow, 1); /* the slowed one, and only it (the others take microseconds) */
    assert_true(st.slowest_commit >= 0.030);
    assert_true(st.commit_seconds >= st.slowest_commit);
    for (size_t b = 1; b < JOURNAL_COMMIT_NBOUNDS; b++)
        assert_true(journal_commit_bounds[b] > journal_commit_bounds[b - 1]);
}

/* ---- producers that commit on their own thread (journal_commit_here) ---------------------- */

/* n events "PREFIX-i" in a malloc'd array, as a request scope hands them over. */
static sf_event **events_of(const char *prefix, int n)
{
    sf_event **evs = calloc((size_t)n, sizeof *evs);
    assert_non_null(evs);
    for (int i = 0; i < n; i++) {
        char entity[32];
        snprintf(entity, sizeof entity, "%s-%d", prefix, i);
        evs[i] = mk(entity, "t", i, NULL);
    }
    return evs;
}

static void deferred_batches_commit_together_on_the_calling_thread(void **state)
{
    fixture *f = *state;
    sunk *k = sunk_new(f->j);
    done_rec a, b;
    done_rec_init(&a);
    done_rec_init(&b);
    journal_stats before, after;
    journal_get_stats(f->j, &before);
    assert_int_equal(
        journal_submit_batch_deferred(f->j, "hook", events_of("a", 2), 2, on_done_rec, &a), SF_OK);
    assert_int_equal(
        journal_submit_batch_deferred(f->j, "hook", events_of("b", 3), 3, on_done_rec, &b), SF_OK);
    journal_commit_here(f->j);
    /* Both answered before it returned, here, in one transaction, and sunk in order. */
    assert_int_equal(done_calls(&a), 1);
    assert_int_equal(done_calls(&b), 1);
    assert_int_equal(a.st, SF_OK);
    assert_int_equal(b.st, SF_OK);
    assert_true(pthread_equal(a.thread, pthread_self()));
    assert_true(pthread_equal(b.thread, pthread_self()));
    journal_get_stats(f->j, &after);
    assert_int_equal(after.commits - before.commits, 1);
    assert_int_equal(after.events - before.events, 5);
    assert_int_equal(k->n, 5);
    const char *want[] = {"a-0", "a-1", "b-0", "b-1", "b-2"};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(k->entities[i], want[i]);
        assert_int_equal(k->seqs[i], i + 1);
    }
    close_all(f);
    sunk_free(k);
    done_rec_destroy(&a);
    done_rec_destroy(&b);
    open_all(f, NULL);
}

/* A hand-off commits on the committer thread, the caller not waiting; and only `fsync` says
   a commit waits for the disk (the event loops hand those off). */
static void hand_off_commits_on_the_committer_thread(void **state)
{
    fixture *f = *state;
    assert_false(journal_commit_waits_for_disk(f->j)); /* the fixture's store: batch */
    sunk *k = sunk_new(f->j);
    done_rec a, b;
    done_rec_init(&a);
    done_rec_init(&b);
    assert_int_equal(
        journal_submit_batch_deferred(f->j, "hook", events_of("a", 2), 2, on_done_rec, &a), SF_OK);
    assert_int_equal(
        journal_submit_batch_deferred(f->j, "hook", events_of("b", 1), 1, on_done_rec, &b), SF_OK);
    journal_commit_hand_off(f->j);
    assert_int_equal(done_wait(&a, 1), 1);
    assert_int_equal(done_wait(&b, 1), 1);
    assert_int_equal(a.st, SF_OK);
    assert_int_equal(b.st, SF_OK);
    assert_false(pthread_equal(a.thread, pthread_self()));
    assert_false(pthread_equal(b.thread, pthread_self()));
    close_all(f); /* the sink has everything once the journal is closed */
    assert_int_equal(k->n, 3);
    const char *want[] = {"a-0", "a-1", "b-0"};
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(k->entities[i], want[i]);
    sunk_free(k);
    done_rec_destroy(&a);
    done_rec_destroy(&b);

    char err[256];
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_FSYNC, &f->s, err, sizeof err), SF_OK);
    assert_int_equal(journal_open(f->s, NULL, &f->j), SF_OK);
    assert_true(journal_commit_waits_for_disk(f->j));
    close_all(f);
    open_all(f, NULL);
}

static void commit_here_leaves_a_busy_store_to_the_committer(void **state)
{
    fixture *f = *state;
    done_rec d;
    done_rec_init(&d);
    store_lock(f->s); /* another user of the store (outbox, checkpoint) is in it */
    assert_int_equal(
        journal_submit_batch_deferred(f->j, "hook", events_of("x", 1), 1, on_done_rec, &d), SF_OK);
    journal_commit_here(f->j); /* must not wait for the store */
    assert_int_equal(done_calls(&d), 0);
    store_unlock(f->s);
    assert_int_equal(done_wait(&d, 1), 1);
    assert_int_equal(d.st, SF_OK);
    assert_false(pthread_equal(d.thread, pthread_self())); /* the committer thread did it */
    collected *c = read_all(f->j, 0);
    assert_int_equal(c->n, 1);
    assert_string_equal(c->evs[0]->entity, "x-0");
    collected_free(c);
    done_rec_destroy(&d);
}

static void commit_here_does_not_wait_for_another_connections_write_lock(void **state)
{
    fixture *f = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->dir, STORE_FILE_NAME);
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    done_rec d;
    done_rec_init(&d);
    assert_int_equal(
        journal_submit_batch_deferred(f->j, "hook", events_of("y", 2), 2, on_done_rec, &d), SF_OK);
    journal_commit_here(f->j);
    /* Returned without committing or failing: the committer thread waits for the lock. */
    assert_int_equal(done_calls(&d), 0);
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(done_wait(&d, 1), 1);
    assert_int_equal(d.st, SF_OK);
    assert_false(pthread_equal(d.thread, pthread_self()));
    collected *c = read_all(f->j, 0);
    assert_int_equal(c->n, 2);
    collected_free(c);
    done_rec_destroy(&d);
}

/* A producer like an event loop: batches of 3, committed on its own thread when it can. */
static void *commit_here_many(void *arg)
{
    submitter *p = arg;
    char prefix[16];
    snprintf(prefix, sizeof prefix, "loop-%d", p->id % 10);
    for (int round = 0; round < 40; round++) {
        done_rec d;
        done_rec_init(&d);
        if (journal_submit_batch_deferred(p->j, "hook", events_of(prefix, 3), 3, on_done_rec, &d) !=
            SF_OK)
            p->failures++;
        journal_commit_here(p->j);
        if (done_wait(&d, 1) != 1 || d.st != SF_OK)
            p->failures++;
        done_rec_destroy(&d);
    }
    return NULL;
}

static void committer_and_producers_committing_here_sink_everything_once_in_order(void **state)
{
    fixture *f = *state;
    sunk *k = sunk_new(f->j);
    submitter ps[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        ps[t] = (submitter){.j = f->j, .id = t};
        assert_int_equal(
            pthread_create(&th[t], NULL, t % 2 ? commit_here_many : submit_many, &ps[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(ps[t].failures, 0);
    }
    close_all(f);
    /* 2 x 400 submits, 2 x 40 batches of 3: every one sunk once, in sequence order. */
    assert_int_equal(k->n, 800 + 240);
    for (size_t i = 0; i < k->n; i++)
        assert_int_equal(k->seqs[i], i + 1);
    sunk_free(k);
    open_all(f, NULL);
    assert_int_equal(journal_last_seq(f->j), 1040);
}

/* A batch sink: what each call got. */
typedef struct sunk_many {
    size_t calls;
    size_t n;
    uint64_t seqs[64];
    char entities[64][24];
} sunk_many;

static void sink_many_keep(void *ctx, sf_event *const *evs, size_t n)
{
    sunk_many *k = ctx;
    k->calls++;
    for (size_t i = 0; i < n; i++) {
        if (k->n < 64) {
            k->seqs[k->n] = evs[i]->seq;
            snprintf(k->entities[k->n], sizeof k->entities[0], "%s", evs[i]->entity);
            k->n++;
        }
        event_free(evs[i]);
    }
}

static void batch_sink_gets_a_commits_events_in_one_call_without_duplicates(void **state)
{
    fixture *f = *state;
    sunk_many k = {0};
    journal_set_sink_many(f->j, sink_many_keep, &k);
    done_rec a, b;
    done_rec_init(&a);
    done_rec_init(&b);
    sf_event **one = events_of("p", 2);
    sf_event **two = calloc(2, sizeof *two);
    assert_non_null(two);
    two[0] = mk("q", "t", 1, "id-1");
    two[1] = mk("q", "t", 2, "id-1"); /* a duplicate of the one before: freed, not sunk */
    assert_int_equal(journal_submit_batch_deferred(f->j, "hook", one, 2, on_done_rec, &a), SF_OK);
    assert_int_equal(journal_submit_batch_deferred(f->j, "hook", two, 2, on_done_rec, &b), SF_OK);
    journal_commit_here(f->j);
    assert_int_equal(done_calls(&a), 1);
    assert_int_equal(done_calls(&b), 1);
    assert_int_equal(k.calls, 1);
    assert_int_equal(k.n, 3);
    assert_string_equal(k.entities[0], "p-0");
    assert_string_equal(k.entities[1], "p-1");
    assert_string_equal(k.entities[2], "q");
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(k.seqs[i], i + 1);
    /* Blocking hand-offs go the same way, after what was committed before them. */
    sf_event *evs[1] = {mk("r", "t", 3, NULL)};
    assert_int_equal(journal_append_handoff(f->j, "file", evs, 1, "offset", "7"), SF_OK);
    assert_int_equal(k.calls, 2);
    assert_string_equal(k.entities[3], "r");
    assert_int_equal(k.seqs[3], 4);
    close_all(f);
    done_rec_destroy(&a);
    done_rec_destroy(&b);
    open_all(f, NULL);
}

/* A done callback that notes how many sink calls had been made when it ran. */
typedef struct told {
    sunk_many *sink;
    size_t sink_calls_then;
    int calls;
} told;

static void on_done_note_sink(void *ctx, sf_status st)
{
    told *t = ctx;
    assert_int_equal(st, SF_OK);
    t->sink_calls_then = t->sink->calls;
    t->calls++;
}

/* A submitted batch's sender is told as soon as its events are stored, before the sink (the
   scorer's queue, whose wake-up would otherwise run ahead of the answer) gets them. */
static void submitted_batches_are_told_before_the_sink_gets_their_events(void **state)
{
    fixture *f = *state;
    sunk_many k = {0};
    journal_set_sink_many(f->j, sink_many_keep, &k);
    told a = {.sink = &k}, b = {.sink = &k};
    assert_int_equal(
        journal_submit_batch_deferred(f->j, "hook", events_of("a", 2), 2, on_done_note_sink, &a),
        SF_OK);
    assert_int_equal(
        journal_submit_batch_deferred(f->j, "hook", events_of("b", 1), 1, on_done_note_sink, &b),
        SF_OK);
    journal_commit_here(f->j);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_int_equal(a.sink_calls_then, 0);
    assert_int_equal(b.sink_calls_then, 0);
    assert_int_equal(k.calls, 1); /* and then all three events, in order */
    assert_int_equal(k.n, 3);
    assert_string_equal(k.entities[0], "a-0");
    assert_string_equal(k.entities[2], "b-0");
}

/* A sink that holds the committing thread until it is let go. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, open;
    size_t got;
} gate;

static void sink_gated(void *ctx, sf_event *const *evs, size_t n)
{
    gate *g = ctx;
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    g->got += n;
    pthread_mutex_unlock(&g->mu);
    for (size_t i = 0; i < n; i++)
        event_free(evs[i]);
}

typedef struct quiescer {
    journal *j;
    atomic_bool returned;
} quiescer;

static void *quiesce_main(void *arg)
{
    quiescer *q = arg;
    journal_quiesce(q->j);
    atomic_store(&q->returned, true);
    return NULL;
}

/* A sender is answered before its events reach the sink; journal_quiesce is what tells the
   runtime's stop that the sink has them all, so that closing the scorer's queue loses none. */
static void quiesce_waits_for_the_hand_over_after_the_answer(void **state)
{
    fixture *f = *state;
    gate g = {.entered = false};
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    journal_set_sink_many(f->j, sink_gated, &g);
    done_rec d;
    done_rec_init(&d);
    assert_int_equal(submit_one(f->j, "hook", mk("c", "t", 1, NULL), &d), SF_OK);
    assert_int_equal(done_wait(&d, 1), 1); /* answered: the committer is on to the sink */
    pthread_mutex_lock(&g.mu);
    while (!g.entered)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    quiescer q = {.j = f->j};
    atomic_init(&q.returned, false);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, quiesce_main, &q), 0);
    struct timespec pause = {0, 50 * 1000000};
    nanosleep(&pause, NULL);
    bool early = atomic_load(&q.returned); /* asserted once the sink is let go (no hang) */
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    pthread_join(t, NULL);
    assert_false(early); /* it returned while the sink still held the hand-over */
    assert_true(atomic_load(&q.returned));
    assert_int_equal(g.got, 1);
    journal_quiesce(f->j); /* idle: at once */
    done_rec_destroy(&d);
    pthread_mutex_destroy(&g.mu);
    pthread_cond_destroy(&g.cv);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    log_set_level(SF_LOG_WARN);
    const struct CMUnitTest tests[] = {
        T(append_numbers_from_one_and_read_returns_fields_in_order),
        T(read_pages_through_more_than_one_page_in_order),
        T(sequence_continues_after_reopen),
        T(batch_and_cursor_commit_together),
        T(failed_cursor_write_leaves_neither_events_nor_cursor),
        T(failed_event_mid_batch_leaves_nothing),
        T(invalid_batches_are_refused),
        T(commits_hold_at_most_max_batch_events),
        T(commit_times_are_counted),
        T(stats_count_duplicates_and_failures),
        T(full_disk_fails_the_batch_and_stores_nothing),
        T(full_disk_mid_commit_leaves_no_entry_of_it_stored),
        T(group_commit_from_threads_loses_and_duplicates_nothing),
        T(duplicate_source_id_is_acknowledged_not_appended),
        T(source_id_older_than_window_is_appended_again),
        T(checkpoint_and_its_position_commit_together),
        T(retention_removes_only_old_checkpointed_events),
        T(sequence_is_not_reused_after_retention_empties_the_journal),
        T(retention_forgets_ids_past_the_window),
        T(read_stops_when_the_callback_says_so),
        T(submitted_events_reach_the_sink_in_sequence_order),
        T(handoff_batch_and_cursor_reach_the_sink_once_committed),
        T(submitted_duplicate_is_freed_not_sunk),
        T(submits_from_threads_are_all_sunk_once_in_order),
        T(cursor_appended_after_submits_commits_no_earlier_than_them),
        T(failed_submit_is_reported_to_done_and_not_sunk),
        T(invalid_submit_is_refused_and_consumed),
        T(deferred_batches_commit_together_on_the_calling_thread),
        T(hand_off_commits_on_the_committer_thread),
        T(commit_here_leaves_a_busy_store_to_the_committer),
        T(commit_here_does_not_wait_for_another_connections_write_lock),
        T(committer_and_producers_committing_here_sink_everything_once_in_order),
        T(batch_sink_gets_a_commits_events_in_one_call_without_duplicates),
        T(submitted_batches_are_told_before_the_sink_gets_their_events),
        T(quiesce_waits_for_the_hand_over_after_the_answer),
        cmocka_unit_test(acknowledged_events_survive_kill_9),
    };
    return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
