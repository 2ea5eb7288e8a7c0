#include "base/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/monotime.h"

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    void **items;
    size_t cap, head, len;
    bool closed;
};

/* This thread's wake-up rate limit (queue_defer_wakeups): the queues owed one, and when. */
#define QUEUE_DEFER_MAX 4
static _Thread_local struct {
    int64_t interval_us; /* 0: no limit */
    int64_t last_us;     /* the last wake-up this thread gave (monotime_us) */
    unsigned n;
    queue *owed[QUEUE_DEFER_MAX];
} tl_defer;

queue *queue_new(size_t capacity)
{
    if (capacity == 0)
        return NULL;
    queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->items = calloc(capacity, sizeof *q->items);
    if (!q->items) {
        free(q);
        return NULL;
    }
    q->cap = capacity;
    pthread_mutex_init(&q->lock, NULL);
    monotime_cond_init(&q->not_empty);
    monotime_cond_init(&q->not_full);
    return q;
}

void queue_free(queue *q, void (*free_item)(void *))
{
    if (!q)
        return;
    for (size_t i = 0; i < q->len && free_item; i++)
        free_item(q->items[(q->head + i) % q->cap]);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->items);
    free(q);
}

/* Wait on cv until pred() holds, the deadline passes or the queue closes. Lock held. */
static bool wait_until(queue *q, pthread_cond_t *cv, bool want_room, int64_t timeout_ms)
{
    struct timespec dl = monotime_after(timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        if (q->closed)
            return !want_room && q->len > 0;
        if (want_room ? q->len < q->cap : q->len > 0)
            return true;
        if (timeout_ms < 0)
            pthread_cond_wait(cv, &q->lock);
        else if (pthread_cond_timedwait(cv, &q->lock, &dl) == ETIMEDOUT)
            return want_room ? q->len < q->cap : q->len > 0;
    }
}

/* True when this thread holds q's wake-up back (rate limit): it is owed then. */
static bool defer_wakeup(queue *q)
{
    if (tl_defer.interval_us <= 0)
        return false;
    for (unsigned i = 0; i < tl_defer.n; i++)
        if (tl_defer.owed[i] == q)
            return true;
    int64_t now = monotime_us();
    if (now - tl_defer.last_us >= tl_defer.interval_us || tl_defer.n == QUEUE_DEFER_MAX) {
        tl_defer.last_us = now; /* the first in a while wakes at once, as without a limit */
        return false;
    }
    tl_defer.owed[tl_defer.n++] = q;
    return true;
}

size_t queue_push_many(queue *q, void *const *items, size_t n, int64_t timeout_ms)
{
    size_t done = 0;
    bool added = false;
    pthread_mutex_lock(&q->lock);
    while (done < n && wait_until(q, &q->not_full, true, timeout_ms) && !q->closed) {
        for (; done < n && q->len < q->cap; done++) {
            q->items[(q->head + q->len) % q->cap] = items[done];
            q->len++;
            added = true;
        }
        if (done < n) { /* full: wake the consumers before waiting for their room */
            pthread_cond_broadcast(&q->not_empty);
            added = false;
        }
    }
    pthread_mutex_unlock(&q->lock);
    /* After the unlock: a woken consumer does not run into the lock still held. */
    if (added && !defer_wakeup(q))
        pthread_cond_broadcast(&q->not_empty);
    return done;
}

void queue_defer_wakeups(int64_t interval_us)
{
    tl_defer.interval_us = interval_us;
    if (interval_us <= 0)
        queue_wake_deferred();
    else /* the first wake-up under a new limit is given at once (an interval longer than the
            machine's uptime made it wait: monotime starts near 0 at boot) */
        tl_defer.last_us = monotime_us() - interval_us;
}

bool queue_wakeups_owed(int64_t *due_us)
{
    if (tl_defer.n > 0 && due_us)
        *due_us = tl_defer.last_us + tl_defer.interval_us;
    return tl_defer.n > 0;
}

void queue_wake_deferred(void)
{
    for (unsigned i = 0; i < tl_defer.n; i++)
        pthread_cond_broadcast(&tl_defer.owed[i]->not_empty);
    if (tl_defer.n > 0)
        tl_defer.last_us = monotime_us();
    tl_defer.n = 0;
}

void queue_close(queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

size_t queue_length(queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->len;
    pthread_mutex_unlock(&q->lock);
    return n;
}

size_t queue_capacity(const queue *q)
{
    return q->cap;
}

size_t queue_pop_many(queue *q, void **items, size_t max, int64_t timeout_ms)
{
    size_t n = 0;
    pthread_mutex_lock(&q->lock);
    if (max > 0 && wait_until(q, &q->not_empty, false, timeout_ms)) {
        while (n < max && q->len > 0) {
            items[n++] = q->items[q->head];
            q->head = (q->head + 1) % q->cap;
            q->len--;
        }
        pthread_cond_broadcast(&q->not_full); /* room for n: every producer may go on */
    }
    pthread_mutex_unlock(&q->lock);
    return n;
}
