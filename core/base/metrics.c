#include "base/metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct series {
    char *name;
    double value;
} series;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static series *g_series;
static size_t g_n, g_cap;

/* Linear search: there are tens of series, and callers batch their updates. */
static series *find_or_add(const char *name)
{
    for (size_t i = 0; i < g_n; i++)
        if (strcmp(g_series[i].name, name) == 0)
            return &g_series[i];
    if (g_n == g_cap) {
        size_t cap = g_cap ? g_cap * 2 : 32;
        series *s = realloc(g_series, cap * sizeof *s);
        if (!s)
            return NULL;
        g_series = s;
        g_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return NULL;
    g_series[g_n] = (series){.name = copy, .value = 0};
    return &g_series[g_n++];
}

void metrics_add(const char *name, double delta)
{
    pthread_mutex_lock(&g_lock);
    series *s = find_or_add(name);
    if (s)
        s->value += delta;
    pthread_mutex_unlock(&g_lock);
}

void metrics_set(const char *name, double value)
{
    pthread_mutex_lock(&g_lock);
    series *s = find_or_add(name);
    if (s)
        s->value = value;
    pthread_mutex_unlock(&g_lock);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const series *)a)->name, ((const series *)b)->name);
}

void metrics_write(FILE *to)
{
    pthread_mutex_lock(&g_lock);
    qsort(g_series, g_n, sizeof *g_series, by_name);
    for (size_t i = 0; i < g_n; i++)
        fprintf(to, "%s %.17g\n", g_series[i].name, g_series[i].value);
    pthread_mutex_unlock(&g_lock);
}

const double metrics_latency_bounds[] = {0.001, 0.01, 0.1, 0.5, 1,    5,     10,
                                         30,    60,   300, 900, 3600, 21600, 86400};
const size_t metrics_latency_nbounds = sizeof metrics_latency_bounds / sizeof(double);

void metrics_observe(const char *name, const double *bounds, size_t n, double value)
{
    char key[256];
    pthread_mutex_lock(&g_lock);
    /* every bucket exists from the first observation on, counted or not */
    for (size_t i = 0; i <= n; i++) {
        if (i < n)
            snprintf(key, sizeof key, "%s_bucket{le=\"%g\"}", name, bounds[i]);
        else
            snprintf(key, sizeof key, "%s_bucket{le=\"+Inf\"}", name);
        series *b = find_or_add(key);
        if (b && (i == n || value <= bounds[i]))
            b->value += 1;
    }
    snprintf(key, sizeof key, "%s_sum", name);
    series *sum = find_or_add(key);
    if (sum)
        sum->value += value;
    snprintf(key, sizeof key, "%s_count", name);
    series *cnt = find_or_add(key);
    if (cnt)
        cnt->value += 1;
    pthread_mutex_unlock(&g_lock);
}
