/*
 * score_state.c - the measures. Decayed sums are kept as (S, t_ref) and are order-free:
 * an event at t <= t_ref adds a*exp(-(t_ref - t)/tau), a later one rescales S to its time.
 * count keeps the ceil(cap) latest event times, which is all min(n, cap) needs.
 */
#include "score/score_state.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "score/score.h"
#include "score/score_bytes.h"

#define NO_TIME INT64_MIN

typedef struct st_decay {
    double s_recent, s_usual; /* at t_ref */
    int64_t t_ref;            /* latest event time; NO_TIME = no event */
    int64_t first;            /* earliest event time */
    uint64_t mixed;           /* a negative value was added: S is not monotone in ratio */
} st_decay;

typedef struct st_count {
    uint64_t n;  /* times kept (<= kcap) */
    int64_t t[]; /* kept times, descending */
} st_count;

typedef struct st_latest {
    int64_t latest; /* NO_TIME = none */
} st_latest;

typedef struct st_value {
    int64_t latest; /* time of the latest event with a value; NO_TIME = none */
    double value;
} st_value;

static size_t state_size(const config_signal *s, unsigned kcap)
{
    switch (s->measure) {
    case MEASURE_DROP:
    case MEASURE_RISE:
        return sizeof(st_decay);
    case MEASURE_COUNT:
        return sizeof(st_count) + kcap * sizeof(int64_t);
    case MEASURE_RECENT:
    case MEASURE_ABSENT:
        return sizeof(st_latest);
    default:
        return sizeof(st_value);
    }
}

static int check_signal(const config_signal *s, unsigned *kcap, char *err, size_t errlen)
{
    const char *name = s->name ? s->name : "?";
    *kcap = 0;
    switch (s->measure) {
    case MEASURE_DROP:
    case MEASURE_RISE:
        if (s->recent_ms <= 0 || s->usual_ms <= 0 || s->recent_ms > SCORE_STATE_MAX_SPAN_MS ||
            s->usual_ms > SCORE_STATE_MAX_SPAN_MS) {
            snprintf(err, errlen, "signal %s: recent and usual must be in (0, 36500d]", name);
            return -1;
        }
        if (s->measure == MEASURE_RISE && !(s->span > 0)) {
            snprintf(err, errlen, "signal %s: span must be positive", name);
            return -1;
        }
        return 0;
    case MEASURE_COUNT:
        if (!(s->cap > 0) || s->cap > SCORE_STATE_MAX_CAP) {
            snprintf(err, errlen, "signal %s: cap must be in (0, %d]", name, SCORE_STATE_MAX_CAP);
            return -1;
        }
        *kcap = (unsigned)ceil(s->cap);
        __attribute__((fallthrough)); /* count needs a window too */
    case MEASURE_RECENT:
    case MEASURE_ABSENT:
        if (s->window_ms <= 0 || s->window_ms > SCORE_STATE_MAX_SPAN_MS) {
            snprintf(err, errlen, "signal %s: window must be in (0, 36500d]", name);
            return -1;
        }
        return 0;
    case MEASURE_VALUE_BELOW:
    case MEASURE_VALUE_ABOVE:
        if (!isfinite(s->limit)) {
            snprintf(err, errlen, "signal %s: limit must be a finite number", name);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "signal %s: unknown measure", name);
    return -1;
}

sf_status score_layout_init(score_layout *l, const config_signal *sig, size_t n, char *err,
                            size_t errlen)
{
    memset(l, 0, sizeof *l);
    if (n == 0 || n > SIGFLOW_MAX_SIGNALS) {
        snprintf(err, errlen, "a decision needs 1 to %d signals", SIGFLOW_MAX_SIGNALS);
        return SF_EINVAL;
    }
    l->sig = sig;
    l->n = n;
    for (size_t i = 0; i < n; i++) {
        if (check_signal(&sig[i], &l->kcap[i], err, errlen) != 0)
            return SF_EINVAL;
        if (!isfinite(sig[i].weight)) {
            snprintf(err, errlen, "signal %s: weight must be finite", sig[i].name);
            return SF_EINVAL;
        }
        l->off[i] = l->size;
        l->size += (state_size(&sig[i], l->kcap[i]) + 7) & ~(size_t)7;
    }
    return SF_OK;
}

void score_state_init(const score_layout *l, unsigned char *blob)
{
    memset(blob, 0, l->size);
    for (size_t i = 0; i < l->n; i++) {
        unsigned char *p = blob + l->off[i];
        switch (l->sig[i].measure) {
        case MEASURE_DROP:
        case MEASURE_RISE:
            ((st_decay *)p)->t_ref = NO_TIME;
            break;
        case MEASURE_COUNT:
            break;
        case MEASURE_RECENT:
        case MEASURE_ABSENT:
            ((st_latest *)p)->latest = NO_TIME;
            break;
        default:
            ((st_value *)p)->latest = NO_TIME;
        }
    }
}

static void decay_apply(const config_signal *s, st_decay *d, int64_t t, double a)
{
    if (a < 0)
        d->mixed = 1;
    if (d->t_ref == NO_TIME) {
        d->s_recent = a;
        d->s_usual = a;
        d->t_ref = t;
        d->first = t;
        return;
    }
    if (t <= d->t_ref) {
        double dt = (double)(d->t_ref - t);
        d->s_recent += a * exp(-dt / (double)s->recent_ms);
        d->s_usual += a * exp(-dt / (double)s->usual_ms);
    } else {
        double dt = (double)(t - d->t_ref);
        d->s_recent = d->s_recent * exp(-dt / (double)s->recent_ms) + a;
        d->s_usual = d->s_usual * exp(-dt / (double)s->usual_ms) + a;
        d->t_ref = t;
    }
    if (t < d->first)
        d->first = t;
}

static void count_apply(st_count *c, unsigned kcap, int64_t t)
{
    /* Keep the kcap largest times, descending; a time below all of a full set is irrelevant. */
    size_t n = c->n;
    if (n == kcap && t <= c->t[n - 1])
        return;
    size_t pos = n < kcap ? n : n - 1;
    while (pos > 0 && c->t[pos - 1] < t) {
        c->t[pos] = c->t[pos - 1];
        pos--;
    }
    c->t[pos] = t;
    if (n < kcap)
        c->n = n + 1;
}

void score_state_apply(const score_layout *l, unsigned char *blob, size_t i, int64_t t,
                       double value, bool has_value)
{
    const config_signal *s = &l->sig[i];
    unsigned char *p = blob + l->off[i];
    if (has_value && !isfinite(value))
        has_value = false; /* callers reject these; never let a NaN poison a sum */
    switch (s->measure) {
    case MEASURE_DROP:
    case MEASURE_RISE:
        decay_apply(s, (st_decay *)p, t, s->of_value ? (has_value ? value : 0.0) : 1.0);
        break;
    case MEASURE_COUNT:
        count_apply((st_count *)p, l->kcap[i], t);
        break;
    case MEASURE_RECENT:
    case MEASURE_ABSENT: {
        st_latest *st = (st_latest *)p;
        if (st->latest == NO_TIME || t > st->latest)
            st->latest = t;
        break;
    }
    default: {
        st_value *v = (st_value *)p;
        /* by event time; on equal times the later applied wins */
        if (has_value && (v->latest == NO_TIME || t >= v->latest)) {
            v->latest = t;
            v->value = value;
        }
    }
    }
}

static double clamp01(double x)
{
    if (!(x > 0))
        return 0; /* also NaN */
    return x > 1 ? 1 : x;
}

/* Decayed sums at t >= t_ref. */
static void decay_at(const config_signal *s, const st_decay *d, int64_t t, double *sr, double *su)
{
    double dt = (double)(t - d->t_ref);
    *sr = d->s_recent * exp(-dt / (double)s->recent_ms);
    *su = d->s_usual * exp(-dt / (double)s->usual_ms);
}

/* rho: the cohort's ratio the entity's is divided by (1 = absolute; docs/scoring.md). */
static double decay_x(const config_signal *s, const st_decay *d, int64_t t, double rho)
{
    if (d->t_ref == NO_TIME || t - d->first < s->usual_ms)
        return 0;
    if (d->s_usual == 0)
        return 0; /* S_usual(t) is S_usual(t_ref) times a positive factor */
    /* The rate ratio at t is its value at t_ref times one exponential: one exp, not two. */
    double rr = (double)s->recent_ms, ru = (double)s->usual_ms;
    double dt = (double)(t - d->t_ref);
    double ratio = (d->s_recent / rr) / (d->s_usual / ru) * exp(-dt * (1 / rr - 1 / ru));
    if (rho != 1)
        ratio /= rho;
    if (s->measure == MEASURE_DROP)
        return clamp01(1 - ratio);
    return clamp01((ratio - 1) / s->span);
}

static long count_n(const config_signal *s, const st_count *c, int64_t t)
{
    long n = 0;
    while ((uint64_t)n < c->n && c->t[n] > t - s->window_ms)
        n++;
    return n;
}

double score_state_x(const score_layout *l, const unsigned char *blob, size_t i, int64_t t)
{
    return score_state_x_rel(l, blob, i, t, 1.0);
}

double score_state_x_rel(const score_layout *l, const unsigned char *blob, size_t i, int64_t t,
                         double rho)
{
    const config_signal *s = &l->sig[i];
    const unsigned char *p = blob + l->off[i];
    switch (s->measure) {
    case MEASURE_DROP:
    case MEASURE_RISE:
        return decay_x(s, (const st_decay *)p, t, rho);
    case MEASURE_COUNT: {
        double n = (double)count_n(s, (const st_count *)p, t);
        return (n < s->cap ? n : s->cap) / s->cap;
    }
    case MEASURE_RECENT: {
        int64_t lt = ((const st_latest *)p)->latest;
        return lt != NO_TIME && lt > t - s->window_ms ? 1 : 0;
    }
    case MEASURE_ABSENT: {
        int64_t lt = ((const st_latest *)p)->latest;
        return lt != NO_TIME && lt <= t - s->window_ms ? 1 : 0;
    }
    case MEASURE_VALUE_BELOW:
    case MEASURE_VALUE_ABOVE: {
        const st_value *v = (const st_value *)p;
        if (v->latest == NO_TIME)
            return 0;
        if (s->measure == MEASURE_VALUE_BELOW)
            return v->value < s->limit ? 1 : 0;
        return v->value > s->limit ? 1 : 0;
    }
    }
    return 0;
}

void score_state_detail(const score_layout *l, const unsigned char *blob, size_t i, int64_t t,
                        score_detail *out)
{
    const config_signal *s = &l->sig[i];
    const unsigned char *p = blob + l->off[i];
    memset(out, 0, sizeof *out);
    out->x = score_state_x(l, blob, i, t);
    switch (s->measure) {
    case MEASURE_DROP:
    case MEASURE_RISE: {
        const st_decay *d = (const st_decay *)p;
        out->has_event = d->t_ref != NO_TIME;
        out->latest = d->t_ref;
        if (out->has_event)
            decay_at(s, d, t, &out->s_recent, &out->s_usual);
        break;
    }
    case MEASURE_COUNT: {
        const st_count *c = (const st_count *)p;
        out->has_event = c->n > 0;
        out->latest = c->n ? c->t[0] : 0;
        out->n = count_n(s, c, t);
        out->n_saturated = (unsigned)out->n >= l->kcap[i];
        break;
    }
    case MEASURE_RECENT:
    case MEASURE_ABSENT:
        out->latest = ((const st_latest *)p)->latest;
        out->has_event = out->latest != NO_TIME;
        break;
    default: {
        const st_value *v = (const st_value *)p;
        out->has_event = out->has_value = v->latest != NO_TIME;
        out->latest = v->latest;
        out->value = v->value;
    }
    }
}

/* Does x grow after the history point (ratio falling for drop, rising for rise)? */
static bool decay_grows(const config_signal *s)
{
    return s->measure == MEASURE_DROP ? s->recent_ms < s->usual_ms : s->recent_ms > s->usual_ms;
}

/*
 * With non-negative amounts both sums are single exponentials times constants, so their
 * ratio is monotone in t: x is 0 before the history point h = first + usual and monotone
 * after it (non-decreasing when it grows, else non-increasing). So one evaluation gives
 * either extreme over [a, b].
 */
static double decay_extreme(const config_signal *s, const st_decay *d, int64_t a, int64_t b,
                            bool want_hi, double rho)
{
    if (d->t_ref == NO_TIME)
        return 0;
    if (d->mixed)
        return want_hi ? 1 : 0;
    int64_t h = d->first + s->usual_ms;
    if (b < h)
        return 0;
    if (decay_grows(s))
        return want_hi ? decay_x(s, d, b, rho) : (a >= h ? decay_x(s, d, a, rho) : 0);
    if (want_hi)
        return decay_x(s, d, a >= h ? a : h, rho);
    return a >= h ? decay_x(s, d, b, rho) : 0;
}

double score_state_extreme(const score_layout *l, const unsigned char *blob, size_t i, int64_t a,
                           int64_t b, bool want_hi)
{
    return score_state_extreme_rel(l, blob, i, a, b, want_hi, 1.0);
}

double score_state_extreme_rel(const score_layout *l, const unsigned char *blob, size_t i,
                               int64_t a, int64_t b, bool want_hi, double rho)
{
    const config_signal *s = &l->sig[i];
    switch (s->measure) {
    case MEASURE_DROP:
    case MEASURE_RISE:
        return decay_extreme(s, (const st_decay *)(blob + l->off[i]), a, b, want_hi, rho);
    case MEASURE_COUNT:
    case MEASURE_RECENT: /* non-increasing */
        return score_state_x(l, blob, i, want_hi ? a : b);
    case MEASURE_ABSENT: /* non-decreasing */
        return score_state_x(l, blob, i, want_hi ? b : a);
    default: /* constant */
        return score_state_x(l, blob, i, a);
    }
}

void score_state_range(const score_layout *l, const unsigned char *blob, size_t i, int64_t a,
                       int64_t b, double *lo, double *hi)
{
    *lo = score_state_extreme(l, blob, i, a, b, false);
    *hi = score_state_extreme(l, blob, i, a, b, true);
}

static void decay_future(const config_signal *s, const st_decay *d, int64_t t0, double x0,
                         double *lo, double *hi, double rho)
{
    if (d->t_ref == NO_TIME) {
        *lo = *hi = 0;
        return;
    }
    if (d->mixed) {
        *lo = 0;
        *hi = 1;
        return;
    }
    if (decay_grows(s)) {
        *lo = x0; /* 0 before h, then non-decreasing */
        *hi = 1;
        return;
    }
    int64_t h = d->first + s->usual_ms;
    double xh = t0 < h ? decay_x(s, d, h, rho) : x0;
    *lo = 0; /* falls toward (or stays at) a limit >= 0 */
    *hi = xh > x0 ? xh : x0;
}

void score_state_future(const score_layout *l, const unsigned char *blob, size_t i, int64_t t0,
                        double x_t0, double *lo, double *hi)
{
    score_state_future_rel(l, blob, i, t0, x_t0, lo, hi, 1.0);
}

void score_state_future_rel(const score_layout *l, const unsigned char *blob, size_t i, int64_t t0,
                            double x_t0, double *lo, double *hi, double rho)
{
    const config_signal *s = &l->sig[i];
    const unsigned char *p = blob + l->off[i];
    switch (s->measure) {
    case MEASURE_DROP:
    case MEASURE_RISE:
        decay_future(s, (const st_decay *)p, t0, x_t0, lo, hi, rho);
        return;
    case MEASURE_COUNT:
    case MEASURE_RECENT:
        *lo = 0;
        *hi = x_t0;
        return;
    case MEASURE_ABSENT:
        *lo = x_t0;
        *hi = ((const st_latest *)p)->latest != NO_TIME ? 1 : 0;
        return;
    default:
        *lo = *hi = x_t0;
    }
}

int64_t score_state_latest(const score_layout *l, const unsigned char *blob, size_t i)
{
    const unsigned char *p = blob + l->off[i];
    switch (l->sig[i].measure) {
    case MEASURE_DROP:
    case MEASURE_RISE:
        return ((const st_decay *)p)->t_ref;
    case MEASURE_COUNT: {
        const st_count *c = (const st_count *)p;
        return c->n ? c->t[0] : NO_TIME;
    }
    case MEASURE_RECENT:
    case MEASURE_ABSENT:
        return ((const st_latest *)p)->latest;
    default:
        return ((const st_value *)p)->latest;
    }
}

/* ---- checkpoint encoding --------------------------------------------------------------- */

size_t score_state_encoded_max(const score_layout *l, size_t i)
{
    switch (l->sig[i].measure) {
    case MEASURE_DROP:
    case MEASURE_RISE:
        return 1 + 8 + 8 + 8 + 8 + 1;
    case MEASURE_COUNT:
        return 1 + 8 * (size_t)l->kcap[i];
    case MEASURE_RECENT:
    case MEASURE_ABSENT:
        return 1 + 8;
    default:
        return 1 + 8 + 8;
    }
}

/* Empty states (no event yet) take one byte: most entities feed only some signals. */
size_t score_state_encode(const score_layout *l, const unsigned char *blob, size_t i,
                          unsigned char *out)
{
    const unsigned char *p = blob + l->off[i];
    switch (l->sig[i].measure) {
    case MEASURE_DROP:
    case MEASURE_RISE: {
        const st_decay *d = (const st_decay *)p;
        out[0] = d->t_ref != NO_TIME;
        if (!out[0])
            return 1;
        sb_putf64(out + 1, d->s_recent);
        sb_putf64(out + 9, d->s_usual);
        sb_puti64(out + 17, d->t_ref);
        sb_puti64(out + 25, d->first);
        out[33] = d->mixed != 0;
        return 34;
    }
    case MEASURE_COUNT: {
        const st_count *c = (const st_count *)p;
        out[0] = (unsigned char)c->n;
        for (uint64_t k = 0; k < c->n; k++)
            sb_puti64(out + 1 + 8 * k, c->t[k]);
        return 1 + 8 * (size_t)c->n;
    }
    case MEASURE_RECENT:
    case MEASURE_ABSENT: {
        const st_latest *st = (const st_latest *)p;
        out[0] = st->latest != NO_TIME;
        if (out[0])
            sb_puti64(out + 1, st->latest);
        return out[0] ? 9 : 1;
    }
    default: {
        const st_value *v = (const st_value *)p;
        out[0] = v->latest != NO_TIME;
        if (!out[0])
            return 1;
        sb_puti64(out + 1, v->latest);
        sb_putf64(out + 9, v->value);
        return 17;
    }
    }
}

static bool time_ok(int64_t t, int64_t max_time)
{
    return t >= SCORE_TIME_MIN_MS && t <= max_time;
}

/* Only what apply can build: a corrupt state must not break the skipping proofs. */
static size_t decode_decay(st_decay *d, const unsigned char *in, size_t avail, int64_t max_time)
{
    if (in[0] == 0)
        return 1;
    if (in[0] != 1 || avail < 34 || in[33] > 1)
        return 0;
    d->s_recent = sb_getf64(in + 1);
    d->s_usual = sb_getf64(in + 9);
    d->t_ref = sb_geti64(in + 17);
    d->first = sb_geti64(in + 25);
    d->mixed = in[33];
    if (!time_ok(d->t_ref, max_time) || !time_ok(d->first, max_time) || d->first > d->t_ref ||
        !isfinite(d->s_recent) || !isfinite(d->s_usual))
        return 0;
    /* non-negative amounts give non-negative sums, which the monotone bounds assume */
    if (!d->mixed && (d->s_recent < 0 || d->s_usual < 0))
        return 0;
    return 34;
}

static size_t decode_count(st_count *c, unsigned kcap, const unsigned char *in, size_t avail,
                           int64_t max_time)
{
    size_t n = in[0];
    if (n > kcap || avail < 1 + 8 * n)
        return 0;
    for (size_t k = 0; k < n; k++) {
        c->t[k] = sb_geti64(in + 1 + 8 * k);
        if (!time_ok(c->t[k], max_time) || (k > 0 && c->t[k] > c->t[k - 1]))
            return 0; /* kept in descending order */
    }
    c->n = n;
    return 1 + 8 * n;
}

size_t score_state_decode(const score_layout *l, unsigned char *blob, size_t i,
                          const unsigned char *in, size_t avail, int64_t max_time)
{
    unsigned char *p = blob + l->off[i];
    if (avail < 1)
        return 0;
    switch (l->sig[i].measure) {
    case MEASURE_DROP:
    case MEASURE_RISE:
        return decode_decay((st_decay *)p, in, avail, max_time);
    case MEASURE_COUNT:
        return decode_count((st_count *)p, l->kcap[i], in, avail, max_time);
    case MEASURE_RECENT:
    case MEASURE_ABSENT: {
        st_latest *st = (st_latest *)p;
        if (in[0] == 0)
            return 1;
        if (in[0] != 1 || avail < 9 || !time_ok(sb_geti64(in + 1), max_time))
            return 0;
        st->latest = sb_geti64(in + 1);
        return 9;
    }
    default: {
        st_value *v = (st_value *)p;
        if (in[0] == 0)
            return 1;
        if (in[0] != 1 || avail < 17 || !time_ok(sb_geti64(in + 1), max_time) ||
            !isfinite(sb_getf64(in + 9)))
            return 0;
        v->latest = sb_geti64(in + 1);
        v->value = sb_getf64(in + 9);
        return 17;
    }
    }
}
