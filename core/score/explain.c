/*
 * explain.c - template rendering for alert reasons. Templates are short (limits.h bounds
 * them), so rendering builds the sentence in one pass into a growing buffer.
 */
#include "score/explain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"

#define WEEK_MS 604800000.0

void explain_duration(int64_t ms, char *out, size_t len)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ms != 0 && ms % units[i].ms == 0) {
            snprintf(out, len, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    }
    snprintf(out, len, "%lldms", (long long)ms);
}

/* Elapsed time floored to its largest unit: "9d", "5h", "3m", "20s". */
static void coarse_since(int64_t ms, char *out, size_t len)
{
    if (ms >= 86400000)
        snprintf(out, len, "%lldd", (long long)(ms / 86400000));
    else if (ms >= 3600000)
        snprintf(out, len, "%lldh", (long long)(ms / 3600000));
    else if (ms >= 60000)
        snprintf(out, len, "%lldm", (long long)(ms / 60000));
    else
        snprintf(out, len, "%llds", (long long)(ms / 1000));
}

static int is_decay(const config_signal *s)
{
    return s->measure == MEASURE_DROP || s->measure == MEASURE_RISE;
}

static int is_value(const config_signal *s)
{
    return s->measure == MEASURE_VALUE_BELOW || s->measure == MEASURE_VALUE_ABOVE;
}

/* Write the value of variable `name` (len n) into out; 0 if the name is unknown. */
static int var_value(const config_signal *s, const score_detail *d, int64_t t, const char *name,
                     size_t n, char *out, size_t len)
{
    out[0] = '\0';
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(name, lit, n) == 0)
    if (IS("pct")) {
        snprintf(out, len, "%.0f", floor(100.0 * d->x + 0.5));
    } else if (IS("n")) {
        if (s->measure == MEASURE_COUNT)
            snprintf(out, len, "%ld%s", d->n, d->n_saturated ? "+" : "");
        else if (is_decay(s))
            snprintf(out, len, "%.0f", d->s_recent);
        else if (is_value(s) && d->has_value)
            snprintf(out, len, "%g", d->value);
        else if (d->has_event)
            snprintf(out, len, "%lld", (long long)((t - d->latest) / 86400000));
    } else if (IS("window")) {
        if (is_decay(s))
            explain_duration(s->recent_ms, out, len);
        else if (!is_value(s))
            explain_duration(s->window_ms, out, len);
    } else if (IS("recent_rate") || IS("usual_rate")) {
        if (is_decay(s)) {
            int recent = IS("recent_rate");
            double sum = recent ? d->s_recent : d->s_usual;
            double tau = (double)(recent ? s->recent_ms : s->usual_ms);
            snprintf(out, len, "%.1f", sum / tau * WEEK_MS);
        }
    } else if (IS("value")) {
        if (is_value(s) && d->has_value)
            snprintf(out, len, "%g", d->value);
    } else if (IS("limit")) {
        if (is_value(s))
            snprintf(out, len, "%g", s->limit);
    } else if (IS("since")) {
        if (d->has_event)
            coarse_since(t - d->latest, out, len);
    } else if (IS("signal")) {
        snprintf(out, len, "%s", s->name ? s->name : "");
    } else {
        return 0;
    }
#undef IS
    return 1;
}

char *explain_render(const config_signal *s, const score_detail *d, int64_t t)
{
    strbuf b = {0};
    const char *p = s->explain ? s->explain : "";
    strbuf_add(&b, "", 0);
    while (*p) {
        const char *open = strstr(p, "{{");
        const char *close = open ? strstr(open + 2, "}}") : NULL;
        if (!close) {
            strbuf_add(&b, p, strlen(p));
            break;
        }
        strbuf_add(&b, p, (size_t)(open - p));
        const char *name = open + 2;
        size_t n = (size_t)(close - name);
        while (n && name[0] == ' ') {
            name++;
            n--;
        }
        while (n && name[n - 1] == ' ')
            n--;
        char val[128];
        if (var_value(s, d, t, name, n, val, sizeof val))
            strbuf_add(&b, val, strlen(val));
        else
            strbuf_add(&b, open, (size_t)(close + 2 - open)); /* unknown: keep as written */
        p = close + 2;
    }
    return strbuf_take(&b);
}
