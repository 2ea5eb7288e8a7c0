/*
 * log_limit.c - call sites logged at most once per interval (see log_limit.h). A fixed table
 * under one lock: a site is its ctx text and its format's address; when the table is full the
 * oldest site is reused (its count is lost, never its first line).
 */
#include "base/log_limit.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/monotime.h"

#define LOG_LIMIT_SITES 32

typedef struct site {
    char ctx[64];
    const char *fmt;
    int64_t last_ms; /* when its last line was written (0: never) */
    uint64_t held;
} site;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static site sites[LOG_LIMIT_SITES];

static site *find(const char *ctx, const char *fmt)
{
    site *victim = NULL;
    for (size_t i = 0; i < LOG_LIMIT_SITES; i++)
        if (sites[i].fmt == fmt && strncmp(sites[i].ctx, ctx, sizeof sites[i].ctx - 1) == 0)
            return &sites[i];
    for (size_t i = 0; i < LOG_LIMIT_SITES && !victim; i++)
        if (!sites[i].fmt)
            victim = &sites[i];
    if (!victim) {
        victim = &sites[0];
        for (size_t i = 1; i < LOG_LIMIT_SITES; i++)
            if (sites[i].last_ms < victim->last_ms)
                victim = &sites[i];
    }
    *victim = (site){.fmt = fmt};
    snprintf(victim->ctx, sizeof victim->ctx, "%s", ctx);
    return victim;
}

bool log_limit_pass(const char *ctx, const char *fmt, int64_t now_ms, uint64_t *held)
{
    pthread_mutex_lock(&lock);
    site *s = find(ctx ? ctx : "", fmt);
    bool pass = s->last_ms == 0 || now_ms - s->last_ms >= LOG_LIMIT_EVERY_MS;
    if (pass) {
        *held = s->held;
        s->held = 0;
        s->last_ms = now_ms > 0 ? now_ms : 1;
    } else {
        s->held++;
    }
    pthread_mutex_unlock(&lock);
    return pass;
}

void log_limited(sf_log_level level, const char *ctx, const char *fmt, ...)
{
    uint64_t held = 0;
    if (!log_limit_pass(ctx, fmt, monotime_ms(), &held))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (held)
        log_msg(level, ctx, "%s (%llu more like this in the last %d s)", msg,
                (unsigned long long)held, LOG_LIMIT_EVERY_MS / 1000);
    else
        log_msg(level, ctx, "%s", msg);
}
