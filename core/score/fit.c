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

static double loss_at(const float *x, const uint8_t *y, size_t n, size_t d, const double *beta0,
                      double prior, const double *beta)
{
    double l = 0;
    for (size_t i = 0; i < n; i++) {
        double z = row_z(x + i * d, d, beta);
        l += softplus(z) - (y[i] ? z : 0);
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
static void grad_hess(const float *x, const uint8_t *y, size_t n, size_t d, const double *beta0,
                      double prior, const double *beta, double *g, double *H)
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
        double r = q - (y[i] ? 1 : 0), w = q * (1 - q);
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

sf_status fit_logistic(const float *x, const uint8_t *y, size_t n, size_t d, const double *beta0,
                       double prior, const double *start, double *beta, fit_result *res)
{
    size_t p = d + 1;
    if (d > MAXP - 1 || !isfinite(prior) || prior < 0)
        return SF_EINVAL;
    for (size_t i = 0; i < n * d; i++) {
        if (!isfinite(x[i]))
            return SF_EINVAL;
    }
    double *H = malloc(p * p * sizeof *H);
    if (!H)
        return SF_ENOMEM;
    double g[MAXP], s[MAXP], cand[MAXP];
    memcpy(beta, start, p * sizeof *beta);
    double cur = loss_at(x, y, n, d, beta0, prior, beta);
    memset(res, 0, sizeof *res);
    for (int it = 0; it < FIT_MAX_ITER; it++) {
        res->iterations = it + 1;
        grad_hess(x, y, n, d, beta0, prior, beta, g, H);
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
            next = loss_at(x, y, n, d, beta0, prior, cand);
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

void fit_count_alerts(const fit_trace_row *rows, size_t n, const fit_rule *rule, double threshold,
                      uint64_t *alerts, uint64_t *right)
{
    double rearm = rule->rearm_set ? fmin(rule->rearm_below, threshold) : threshold;
    uint64_t na = 0, nr = 0;
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
            if (r->right >= 0) {
                na++;
                nr += r->right > 0;
            }
        }
    }
    *alerts = na;
    *right = nr;
}

void fit_pick_threshold(const fit_trace_row *rows, size_t n, const fit_rule *rule, double current,
                        fit_pick *out)
{
    memset(out, 0, sizeof *out);
    out->threshold = current;
    for (int k = FIT_THRESHOLD_LO_PCT; k <= FIT_THRESHOLD_HI_PCT; k++) {
        double th = k / 100.0; /* exact hundredths, as written in an INI */
        uint64_t na, nr;
        fit_count_alerts(rows, n, rule, th, &na, &nr);
        if (na == 0 || na < rule->min_judged)
            continue;
        double prec = (double)nr / (double)na;
        if (prec >= rule->target) {
            *out = (fit_pick){th, true, true, na, nr};
            return;
        }
        out->judged = true;
    }
    if (out->judged) { /* not reached: the current threshold, judged the same way */
        fit_count_alerts(rows, n, rule, current, &out->alerts, &out->right);
    }
}
