/*
 * backtest_report.c - the figures of a backtest run (precision, recall, median lead time,
 * alerts per week), the difference between two runs and the fitted model as INI. See
 * backtest.h; the definitions are docs/scoring.md "Backtest".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/timefmt.h"
#include "replay/backtest.h"

#define DAY_MS 86400000LL
#define WEEK_MS (7 * DAY_MS)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Monday 00:00 UTC of t's week (1970-01-01 was a Thursday). */
static int64_t week_of(int64_t t)
{
    return floor_div(t + 3 * DAY_MS, WEEK_MS) * WEEK_MS - 3 * DAY_MS;
}

static bool is_right(const churn_table *truth, const bt_alert *a, int64_t horizon)
{
    size_t k = churn_table_next(truth, a->entity, a->t);
    return k < truth->n && truth->c[k].t - a->t <= horizon;
}

static bool is_judged(const churn_table *truth, const bt_alert *a, int64_t horizon, int64_t end)
{
    return a->t + horizon <= end || is_right(truth, a, horizon);
}

typedef struct ent_alerts { /* one entity's alerts: index range into a sorted copy */
    const char *entity;
    size_t from, to;
} ent_alerts;

static int alert_cmp(const void *pa, const void *pb)
{
    const bt_alert *a = pa, *b = pb;
    int c = strcmp(a->entity, b->entity);
    return c ? c : (a->t < b->t ? -1 : a->t > b->t);
}

/* The earliest alert of `entity` in [lo, hi] in the sorted copy, or INT64_MIN. */
static int64_t earliest_in(const bt_alert *s, size_t n, const char *entity, int64_t lo, int64_t hi)
{
    size_t a = 0, b = n;
    while (a < b) { /* first (entity, t >= lo) */
        size_t m = a + (b - a) / 2;
        int c = strcmp(s[m].entity, entity);
        if (c < 0 || (c == 0 && s[m].t < lo))
            a = m + 1;
        else
            b = m;
    }
    if (a < n && strcmp(s[a].entity, entity) == 0 && s[a].t <= hi)
        return s[a].t;
    return INT64_MIN;
}

static int dbl_cmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

void bt_compute(const bt_result *r, const churn_table *truth, int64_t horizon, int64_t start,
                int64_t end, bt_stats *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < r->n; i++) {
        if (r->a[i].t < start)
            continue; /* before --from: replayed, not judged */
        out->alerts++;
        if (is_judged(truth, &r->a[i], horizon, end)) {
            out->judged++;
            out->right += is_right(truth, &r->a[i], horizon);
        }
        if (r->a[i].t + horizon <= end) {
            out->closed++;
            out->closed_right += is_right(truth, &r->a[i], horizon);
        }
    }
    bt_alert *s = malloc((r->n ? r->n : 1) * sizeof *s);
    double *lead = malloc((truth->n ? truth->n : 1) * sizeof *lead);
    if (s && lead) {
        if (r->n) {                            /* r->a is NULL when a config raised nothing */
            memcpy(s, r->a, r->n * sizeof *s); /* alerts before start still catch a churner */
            qsort(s, r->n, sizeof *s, alert_cmp);
        }
        for (size_t k = 0; k < truth->n; k++) {
            const churn *c = &truth->c[k];
            if (c->t < start || c->t > end)
                continue;
            out->churners++;
            int64_t first = earliest_in(s, r->n, c->entity, c->t - horizon, c->t);
            if (first != INT64_MIN)
                lead[out->caught++] = (double)(c->t - first) / (double)DAY_MS;
        }
        qsort(lead, out->caught, sizeof *lead, dbl_cmp);
    }
    size_t m = out->caught;
    out->median_lead_days = m == 0       ? NAN
                            : m % 2 == 1 ? lead[m / 2]
                                         : (lead[m / 2 - 1] + lead[m / 2]) / 2;
    out->precision = out->judged ? (double)out->right / (double)out->judged : NAN;
    out->recall = out->churners ? (double)out->caught / (double)out->churners : NAN;
    out->weeks = (double)(week_of(end) - week_of(start)) / (double)WEEK_MS + 1;
    free(s);
    free(lead);
}

static void day_text(int64_t t, char *buf, size_t len)
{
    time_t secs = (time_t)floor_div(t, 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, len, "%Y-%m-%d", &tm);
}

static void print_ratio(FILE *out, const char *name, double v, uint64_t num, uint64_t den)
{
    if (isnan(v))
        fprintf(out, "%s - (%llu/%llu)", name, (unsigned long long)num, (unsigned long long)den);
    else
        fprintf(out, "%s %.3f (%llu/%llu)", name, v, (unsigned long long)num,
                (unsigned long long)den);
}

void bt_print(FILE *out, const bt_result *r, const churn_table *truth, int64_t horizon,
              int64_t start, int64_t end, const bt_stats *s)
{
    fprintf(out, "== %s\n", r->config);
    fprintf(out, "week        alerts  right  false  open\n");
    int64_t w0 = week_of(start), w1 = week_of(end);
    for (int64_t w = w0; w <= w1; w += WEEK_MS) {
        uint64_t n = 0, right = 0, judged = 0;
        for (size_t i = 0; i < r->n; i++) {
            if (week_of(r->a[i].t) != w || r->a[i].t < start)
                continue;
            n++;
            if (is_judged(truth, &r->a[i], horizon, end)) {
                judged++;
                right += is_right(truth, &r->a[i], horizon);
            }
        }
        char day[16];
        day_text(w, day, sizeof day);
        fprintf(out, "%s  %6llu %6llu %6llu %5llu\n", day, (unsigned long long)n,
                (unsigned long long)right, (unsigned long long)(judged - right),
                (unsigned long long)(n - judged));
    }
    fprintf(out, "alerts %llu (%.1f a week), ", (unsigned long long)s->alerts,
            s->weeks > 0 ? (double)s->alerts / s->weeks : 0.0);
    print_ratio(out, "precision", s->precision, s->right, s->judged);
    fputs(", ", out);
    print_ratio(out, "recall", s->recall, s->caught, s->churners);
    if (isnan(s->median_lead_days))
        fputs(", median lead time -\n", out);
    else
        fprintf(out, ", median lead time %.1fd\n", s->median_lead_days);
    fputs("closed horizons only: ", out);
    print_ratio(out, "precision", s->closed ? (double)s->closed_right / (double)s->closed : NAN,
                s->closed_right, s->closed);
    fputc('\n', out);
    if (r->model && r->model->outcome[0])
        fprintf(out, "model_version %u at the end (%zu changes recorded)\n", r->model->version,
                r->model->n_history);
    for (size_t i = 0; i < r->n_h; i++) {
        char t[40];
        time_format_rfc3339(r->h[i].t, t, sizeof t);
        fprintf(out, "%s %s %s\n", r->h[i].tag, t, r->h[i].what);
    }
}

void bt_print_difference(FILE *out, const bt_stats *a, const bt_stats *b)
{
    double per_week = (b->weeks > 0 ? (double)b->alerts / b->weeks : 0) -
                      (a->weeks > 0 ? (double)a->alerts / a->weeks : 0);
    long long fp = (long long)(b->judged - b->right) - (long long)(a->judged - a->right);
    long long caught = (long long)b->caught - (long long)a->caught;
    fprintf(out,
            "difference: %+.1f alerts a week, %lld %s false positives, %lld %s churners caught",
            per_week, fp < 0 ? -fp : fp, fp <= 0 ? "fewer" : "more", caught < 0 ? -caught : caught,
            caught >= 0 ? "more" : "fewer");
    if (!isnan(a->precision) && !isnan(b->precision))
        fprintf(out, ", precision %+.3f", b->precision - a->precision);
    if (!isnan(a->recall) && !isnan(b->recall))
        fprintf(out, ", recall %+.3f", b->recall - a->recall);
    fputc('\n', out);
}

void bt_print_history(FILE *out, const char *config, const score_model_view *m)
{
    if (!m)
        return;
    fprintf(out, "== %s: model history (%zu changes)\n", config, m->n_history);
    for (size_t i = 0; i < m->n_history; i++) {
        const score_model_change *c = &m->history[i];
        char day[16];
        day_text(c->time, day, sizeof day);
        fprintf(out, "%s v%u %s threshold %.2f -> %.2f bias %.4g -> %.4g", day, c->version,
                c->applied ? "applied" : "recorded", c->old_threshold, c->new_threshold,
                c->old_bias, c->new_bias);
        for (size_t j = 0; j < m->n_signals; j++)
            fprintf(out, " %s %.4g -> %.4g", m->signals[j].name, c->old_w[j], c->new_w[j]);
        fprintf(out, " rows %llu (%llu positive)", (unsigned long long)c->rows,
                (unsigned long long)c->positives);
        if (!isnan(c->alert_precision))
            fprintf(out, " judged %llu precision %.3f", (unsigned long long)c->alerts_judged,
                    c->alert_precision);
        fputc('\n', out);
    }
}

void bt_print_fit(FILE *out, const score_model_view *m)
{
    /* learning = off records refits without applying them: the last one is the fit */
    const score_model_change *c =
        !m->learning && m->n_history ? &m->history[m->n_history - 1] : NULL;
    fprintf(out, "; fitted by sigflow backtest: model_version %u, %zu changes recorded%s\n",
            c ? c->version : m->version, m->n_history,
            c ? " (learning = off: the last refit recorded)" : "");
    fprintf(out, "[decision]\nbias = %.6g\nthreshold = %.6g\n", c ? c->new_bias : m->bias,
            c ? c->new_threshold : m->threshold);
    for (size_t i = 0; i < m->n_signals; i++)
        fprintf(out, "[signal %s]\nweight = %.6g\n", m->signals[i].name,
                c ? c->new_w[i] : m->signals[i].weight);
}
