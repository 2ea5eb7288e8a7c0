/*
 * fit.c - penalised logistic regression by Newton's method (Cholesky solve of the
 * (d+1)x(d+1) system, backtracking line search on the penalised loss) and the alert-level
 * threshold picker. See fit.h.
 */
#include "score/fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAXP 65 /* bias + 64 weights */

/* log(1 + e^z) without overflow. */
static double softplus(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static double sigmoid(double z)
{
    return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

static double row_z(const float *xi, size_t d, const double *beta)
{
    double z = beta[0];
    for (size_t j = 0; j < d; j++)
        z += beta[j + 1] * (double)xi[j];
    return z;
}

static double loss_at(const float *x, const uint8_t *y, const float *wt, size_t n, size_t d,
                      const double *beta0, double prior, const double *beta)
{
    double l = 0;
    for (size_t i = 0; i < n; i++) {
        double z = row_z(x + i * d, d, beta);
        l += (wt ? (double)wt[i] : 1.0) * (softplus(z) - (y[i] ? z : 0));
    }
    for (size_t j = 0; j <= d; j++)
        l += 0.5 * prior * (beta[j] - beta0[j]) * (beta[j] - beta0[j]);
    return l;
}

/* Solve H s = g for symmetric positive definite H (p x p, row-major); false if not SPD. */
static bool cholesky_solve(double *H, const double *g, double *s, size_t p)
{
    for (size_t i = 0; i < p; i++) {
        for (size_t j = 0; j <= i; j++) {
            double v = H[i * p + j];
            for (size_t k = 0; k < j; k++)
                v -= H[i * p + k] * H[j * p + k];
            if (i == j) {
                if (!(v > 1e-300))
                    return false;
                H[i * p + i] = sqrt(v);
            } else {
                H[i * p + j] = v / H[j * p + j];
            }
        }
    }
    double tmp[MAXP];
    for (size_t i = 0; i < p; i++) { /* L tmp = g */
        double v = g[i];
        for (size_t k = 0; k < i; k++)
            v -= H[i * p + k] * tmp[k];
        tmp[i] = v / H[i * p + i];
    }
    for (size_t i = p; i-- > 0;) { /* L^T s = tmp */
        double v = tmp[i];
        for (size_t k = i + 1; k < p; k++)
            v -= H[k * p + i] * s[k];
        s[i] = v / H[i * p + i];
    }
    return true;
}

/* Gradient and Hessian of the penalised loss at beta. */
static void grad_hess(const float *x, const uint8_t *y, const float *wt, size_t n, size_t d,
                      const double *beta0, double prior, const double *beta, double *g, double *H)
{
    size_t p = d + 1;
    double xi[MAXP];
    memset(g, 0, p * sizeof *g);
    memset(H, 0, p * p * sizeof *H);
    for (size_t i = 0; i < n; i++) {
        xi[0] = 1;
        for (size_t j = 0; j < d; j++)
            xi[j + 1] = (double)x[i * d + j];
        double q = sigmoid(row_z(x + i * d, d, beta));
        double c = wt ? (double)wt[i] : 1.0;
        double r = c * (q - (y[i] ? 1 : 0)), w = c * q * (1 - q);
        for (size_t a = 0; a < p; a++) {
            g[a] += r * xi[a];
            if (xi[a] == 0)
                continue;
            for (size_t b = 0; b <= a; b++)
                H[a * p + b] += w * xi[a] * xi[b];
        }
    }
    for (size_t a = 0; a < p; a++) {
        g[a] += prior * (beta[a] - beta0[a]);
        H[a * p + a] += prior + 1e-9; /* the tiny ridge keeps separable data solvable */
        for (size_t b = 0; b < a; b++)
            H[b * p + a] = H[a * p + b];
    }
}

sf_status fit_logistic_w(const float *x, const uint8_t *y, const float *wt, size_t n, size_t d,
                         const double *beta0, double prior, const double *start, double *beta,
                         fit_result *res)
{
    size_t p = d + 1;
    if (d > MAXP - 1 || !isfinite(prior) || prior < 0)
        return SF_EINVAL;
    for (size_t i = 0; i < n * d; i++) {
        if (!isfinite(x[i]))
            return SF_EINVAL;
    }
    for (size_t i = 0; wt && i < n; i++) {
        if (!isfinite(wt[i]) || !(wt[i] > 0))
            return SF_EINVAL;
    }
    double *H = malloc(p * p * sizeof *H);
    if (!H)
        return SF_ENOMEM;
    double g[MAXP], s[MAXP], cand[MAXP];
    memcpy(beta, start, p * sizeof *beta);
    double cur = loss_at(x, y, wt, n, d, beta0, prior, beta);
    memset(res, 0, sizeof *res);
    for (int it = 0; it < FIT_MAX_ITER; it++) {
        res->iterations = it + 1;
        grad_hess(x, y, wt, n, d, beta0, prior, beta, g, H);
        if (!cholesky_solve(H, g, s, p))
            break;
        double step = 1, maxs = 0;
        for (size_t a = 0; a < p; a++)
            maxs = fmax(maxs, fabs(s[a]));
        if (maxs > 10)
            step = 10 / maxs; /* at most 10 logits a step: far starts stay stable */
        double next = cur;
        for (int ls = 0; ls < 40; ls++, step *= 0.5) {
            for (size_t a = 0; a < p; a++)
                cand[a] = beta[a] - step * s[a];
            next = loss_at(x, y, wt, n, d, beta0, prior, cand);
            if (next <= cur)
                break;
        }
        if (!(next <= cur))
            break; /* no descent left: at the optimum to rounding */
        memcpy(beta, cand, p * sizeof *beta);
        cur = next;
        if (maxs * step < 1e-9) {
            res->converged = true;
            break;
        }
    }
    res->loss = cur;
    free(H);
    return SF_OK;
}

/* ---- threshold ------------------------------------------------------------------------- */

typedef struct judged_alert {
    int64_t dur; /* to the outcome (event) or to the end of the follow-up (censored) */
    bool event;
} judged_alert;

static int judged_cmp(const void *pa, const void *pb)
{
    const judged_alert *a = pa, *b = pb;
    if (a->dur != b->dur)
        return a->dur < b->dur ? -1 : 1;
    return (int)b->event - (int)a->event; /* events before censorings at one time */
}

/* Run the rule; append every judged alert to out (room for n). Returns how many. */
static size_t run_rule(const fit_trace_row *rows, size_t n, const fit_rule *rule, double threshold,
                       judged_alert *out)
{
    double rearm = rule->rearm_set ? fmin(rule->rearm_below, threshold) : threshold;
    size_t k = 0;
    bool armed = true, fired = false;
    int64_t last = 0;
    for (size_t i = 0; i < n; i++) {
        const fit_trace_row *r = &rows[i];
        if (i == 0 || r->entity != rows[i - 1].entity || r->new_life) {
            armed = true;
            fired = false;
        }
        if (r->p < rearm)
            armed = true;
        if (armed && r->p >= threshold && (!fired || r->t - last >= rule->cooldown_ms)) {
            armed = false;
            fired = true;
            last = r->t;
            if (r->follow >= 0) {
                bool ev = r->outcome_in >= 0 && r->outcome_in <= r->follow;
                out[k++] = (judged_alert){ev ? r->outcome_in : r->follow, ev};
            }
        }
    }
    return k;
}

/* Kaplan-Meier: 1 - prod over event times (1 - events / at risk); a sorted array. */
static double km_precision(const judged_alert *a, size_t k, uint64_t *right)
{
    double surv = 1;
    uint64_t ev = 0;
    size_t i = 0;
    while (i < k) {
        size_t j = i, d = 0;
        while (j < k && a[j].dur == a[i].dur) {
            d += a[j].event;
            j++;
        }
        if (d)
            surv *= 1.0 - (double)d / (double)(k - i);
        ev += d;
        i = j;
    }
    *right = ev;
    return k ? 1.0 - surv : NAN;
}

static void judge_into(const fit_trace_row *rows, size_t n, const fit_rule *rule, double threshold,
                       judged_alert *buf, fit_judgement *out)
{
    size_t k = run_rule(rows, n, rule, threshold, buf);
    qsort(buf, k, sizeof *buf, judged_cmp);
    out->alerts = k;
    out->precision = km_precision(buf, k, &out->right);
}

void fit_judge(const fit_trace_row *rows, size_t n, const fit_rule *rule, double threshold,
               fit_judgement *out)
{
    judged_alert *buf = malloc((n ? n : 1) * sizeof *buf);
    memset(out, 0, sizeof *out);
    out->precision = NAN;
    if (!buf)
        return; /* judged nothing: the caller keeps its threshold */
    judge_into(rows, n, rule, threshold, buf, out);
    free(buf);
}

void fit_count_alerts(const fit_trace_row *rows, size_t n, const fit_rule *rule, double threshold,
                      uint64_t *alerts, uint64_t *right)
{
    fit_judgement j;
    fit_judge(rows, n, rule, threshold, &j);
    *alerts = j.alerts;
    *right = j.right;
}

void fit_pick_threshold(const fit_trace_row *rows, size_t n, const fit_rule *rule, double current,
                        fit_pick *out)
{
    memset(out, 0, sizeof *out);
    out->threshold = current;
    out->precision = NAN;
    judged_alert *buf = malloc((n ? n : 1) * sizeof *buf);
    if (!buf)
        return; /* nothing judged: the current threshold stays */
    fit_pick best = {.precision = NAN};
    for (int k = FIT_THRESHOLD_LO_PCT; k <= FIT_THRESHOLD_HI_PCT; k++) {
        double th = k / 100.0; /* exact hundredths, as written in an INI */
        fit_judgement j;
        judge_into(rows, n, rule, th, buf, &j);
        if (j.alerts == 0 || j.alerts < rule->min_judged)
            continue;
        if (j.precision >= rule->target) {
            *out = (fit_pick){th, true, true, j.alerts, j.right, j.precision};
            free(buf);
            return;
        }
        if (!best.judged || j.precision > best.precision)
            best = (fit_pick){th, false, true, j.alerts, j.right, j.precision};
    }
    if (best.judged) {
        *out = best;
    } else { /* no candidate judged: the current threshold, judged the same way */
        fit_judgement j;
        judge_into(rows, n, rule, current, buf, &j);
        out->alerts = j.alerts;
        out->right = j.right;
        out->precision = j.precision;
    }
    free(buf);
}
