/*
 * path_log.c - see path_log.h. A fixed table searched linearly: it is consulted only for
 * requests that are answered 404, and holds SIGFLOW_MAX_UNKNOWN_PATHS entries.
 */
#include "ingest/path_log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/limits.h"

#define PATH_LOG_CTX "component=ingest_http"

typedef struct path_entry {
    char path[SIGFLOW_MAX_HTTP_PATH + 1];
    bool used;
    int64_t logged_ms; /* when its last line was written */
    uint64_t suppressed;
} path_entry;

struct path_log {
    pthread_mutex_t mu;
    path_entry e[SIGFLOW_MAX_UNKNOWN_PATHS];
    int64_t window_start_ms; /* the minute the global line budget counts */
    unsigned lines;          /* lines written in that minute */
    uint64_t others;         /* requests counted nowhere else since the last line */
};

path_log *path_log_new(void)
{
    path_log *pl = calloc(1, sizeof *pl);
    if (pl && pthread_mutex_init(&pl->mu, NULL) != 0) {
        free(pl);
        return NULL;
    }
    if (pl)
        pl->window_start_ms = INT64_MIN;
    return pl;
}

void path_log_free(path_log *pl)
{
    if (!pl)
        return;
    pthread_mutex_destroy(&pl->mu);
    free(pl);
}

/* The entry for path, or the slot to reuse (free, else the least recently logged). */
static path_entry *find_slot(path_log *pl, const char *path, bool *found)
{
    path_entry *victim = &pl->e[0];
    for (size_t i = 0; i < SIGFLOW_MAX_UNKNOWN_PATHS; i++) {
        path_entry *x = &pl->e[i];
        if (x->used && strcmp(x->path, path) == 0) {
            *found = true;
            return x;
        }
        if (victim->used && (!x->used || x->logged_ms < victim->logged_ms))
            victim = x;
    }
    *found = false;
    return victim;
}

static bool budget_left(path_log *pl, int64_t now_ms)
{
    if (pl->window_start_ms == INT64_MIN || now_ms - pl->window_start_ms >= PATH_LOG_WINDOW_MS) {
        pl->window_start_ms = now_ms;
        pl->lines = 0;
    }
    return pl->lines < SIGFLOW_UNKNOWN_PATH_LINES;
}

static void write_line(path_log *pl, path_entry *x, const char *method, const char *client,
                       const char *known)
{
    char ctx[3 * SIGFLOW_MAX_HTTP_PATH + 192], kv_path[3 * SIGFLOW_MAX_HTTP_PATH + 16],
        kv_method[64];
    log_format_kv(kv_path, sizeof kv_path, "path", x->path);
    log_format_kv(kv_method, sizeof kv_method, "method", method ? method : "");
    snprintf(ctx, sizeof ctx, "%s %s %s client=%s suppressed=%llu others_suppressed=%llu",
             PATH_LOG_CTX, kv_path, kv_method, client && *client ? client : "-",
             (unsigned long long)x->suppressed, (unsigned long long)pl->others);
    log_warn(ctx, "request to a path no connector serves: answered 404 (connector paths: %s)",
             known && *known ? known : "none");
    x->suppressed = 0;
    pl->others = 0;
    pl->lines++;
}

int path_log_unknown(path_log *pl, const char *method, const char *path, const char *client,
                     const char *known, int64_t now_ms)
{
    char key[SIGFLOW_MAX_HTTP_PATH + 1];
    snprintf(key, sizeof key, "%s", path ? path : "");
    int wrote = 0;
    pthread_mutex_lock(&pl->mu);
    bool found;
    path_entry *x = find_slot(pl, key, &found);
    if (found && now_ms - x->logged_ms < PATH_LOG_WINDOW_MS) {
        x->suppressed++; /* this path logged within the minute */
    } else if (!budget_left(pl, now_ms)) {
        if (found)
            x->suppressed++;
        else
            pl->others++; /* not remembered: the table keeps the paths that were logged */
    } else {
        if (!found) {
            pl->others += x->used ? x->suppressed : 0; /* the forgotten path's count */
            memset(x, 0, sizeof *x);
            memcpy(x->path, key, sizeof key);
            x->used = true;
        }
        x->logged_ms = now_ms;
        write_line(pl, x, method, client, known);
        wrote = 1;
    }
    pthread_mutex_unlock(&pl->mu);
    return wrote;
}
