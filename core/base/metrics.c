#include "base/metrics.h"
#include "base/metrics_expo.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One allocation per series, never moved or freed: a handle (metrics_series_get) stays valid
   while the table grows and /metrics sorts it. The value is updated without the lock. */
typedef struct metrics_series {
    char *name;
    _Atomic double value;
} series;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static series **g_series; /* the table (lock held), sorted by name at each metrics_write */
static size_t g_n, g_cap;
static char *g_hists[METRICS_MAX_HISTOGRAMS]; /* histogram names, for their # TYPE */
static size_t g_nhists;

/* Remember a histogram's name (lock held). */
static void note_histogram(const char *name)
{
    for (size_t i = 0; i < g_nhists; i++)
        if (strcmp(g_hists[i], name) == 0)
            return;
    if (g_nhists < METRICS_MAX_HISTOGRAMS && (g_hists[g_nhists] = strdup(name)))
        g_nhists++;
}

/* Linear search: there are tens of series, and callers batch their updates. */
static series *find_or_add(const char *name)
{
    for (size_t i = 0; i < g_n; i++)
        if (strcmp(g_series[i]->name, name) == 0)
            return g_series[i];
    if (g_n == g_cap) {
        size_t cap = g_cap ? g_cap * 2 : 32;
        series **t = realloc(g_series, cap * sizeof *t);
        if (!t)
            return NULL;
        g_series = t;
        g_cap = cap;
    }
    series *s = malloc(sizeof *s);
    char *copy = strdup(name);
    if (!s || !copy) {
        free(s);
        free(copy);
        return NULL;
    }
    s->name = copy;
    atomic_init(&s->value, 0);
    return g_series[g_n++] = s;
}

/* value += delta, atomically against other adders (no lock needed) */
static void series_add(series *s, double delta)
{
    double old = atomic_load_explicit(&s->value, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&s->value, &old, old + delta,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

void metrics_add(const char *name, double delta)
{
    pthread_mutex_lock(&g_lock);
    series *s = find_or_add(name);
    if (s)
        series_add(s, delta);
    pthread_mutex_unlock(&g_lock);
}

metrics_series *metrics_series_get(const char *name)
{
    pthread_mutex_lock(&g_lock);
    series *s = find_or_add(name);
    pthread_mutex_unlock(&g_lock);
    return s;
}

void metrics_series_add(metrics_series *s, double delta)
{
    series_add(s, delta);
}

void metrics_set(const char *name, double value)
{
    pthread_mutex_lock(&g_lock);
    series *s = find_or_add(name);
    if (s)
        atomic_store_explicit(&s->value, value, memory_order_relaxed);
    pthread_mutex_unlock(&g_lock);
}

static int by_name(const void *a, const void *b)
{
    return metrics_expo_compare((*(series *const *)a)->name, (*(series *const *)b)->name);
}

void metrics_write(FILE *to)
{
    pthread_mutex_lock(&g_lock);
    qsort(g_series, g_n, sizeof *g_series, by_name);
    for (size_t i = 0; i < g_n; i++) {
        metrics_expo_family(to, g_series[i]->name, i ? g_series[i - 1]->name : NULL,
                            (const char *const *)g_hists, g_nhists);
        fprintf(to, "%s %.17g\n", g_series[i]->name,
                atomic_load_explicit(&g_series[i]->value, memory_order_relaxed));
    }
    pthread_mutex_unlock(&g_lock);
    metrics_expo_process(to);
}

const double metrics_latency_bounds[] = {0.001, 0.01, 0.1, 0.5, 1,    5,     10,
                                         30,    60,   300, 900, 3600, 21600, 86400};
const size_t metrics_latency_nbounds = sizeof metrics_latency_bounds / sizeof(double);

/* Bucket i of histogram `name` (i == n: +Inf), lock held; NULL: out of memory. */
static series *bucket(const char *name, const double *bounds, size_t n, size_t i)
{
    char key[256];
    if (i < n)
        snprintf(key, sizeof key, "%s_bucket{le=\"%g\"}", name, bounds[i]);
    else
        snprintf(key, sizeof key, "%s_bucket{le=\"+Inf\"}", name);
    return find_or_add(key);
}

/* NAME_sum or NAME_count (`what`), lock held. */
static series *tally(const char *name, const char *what)
{
    char key[256];
    snprintf(key, sizeof key, "%s_%s", name, what);
    return find_or_add(key);
}

void metrics_observe(const char *name, const double *bounds, size_t n, double value)
{
    pthread_mutex_lock(&g_lock);
    note_histogram(name);
    /* every bucket exists from the first observation on, counted or not */
    for (size_t i = 0; i <= n; i++) {
        series *b = bucket(name, bounds, n, i);
        if (b && (i == n || value <= bounds[i]))
            series_add(b, 1);
    }
    series *sum = tally(name, "sum");
    if (sum)
        series_add(sum, value);
    series *cnt = tally(name, "count");
    if (cnt)
        series_add(cnt, 1);
    pthread_mutex_unlock(&g_lock);
}

void metrics_set_histogram(const char *name, const double *bounds, size_t n, const uint64_t *counts,
                           double sum)
{
    pthread_mutex_lock(&g_lock);
    note_histogram(name);
    uint64_t below = 0;
    for (size_t i = 0; i <= n; i++) {
        below += counts[i];
        series *b = bucket(name, bounds, n, i);
        if (b)
            atomic_store_explicit(&b->value, (double)below, memory_order_relaxed);
    }
    series *s = tally(name, "sum");
    if (s)
        atomic_store_explicit(&s->value, sum, memory_order_relaxed);
    s = tally(name, "count");
    if (s)
        atomic_store_explicit(&s->value, (double)below, memory_order_relaxed);
    pthread_mutex_unlock(&g_lock);
}
