/*
 * fit.h - the arithmetic of learning, free of engine state (docs/scoring.md "Outcomes and
 * learning"): penalised logistic regression (L2 toward the configured values) and the
 * threshold picker that re-runs the alert rule over feature traces and takes the lowest
 * threshold whose alert precision reaches the target. Owns nothing. Calls libm. Used by
 * learn.c (refits) and backtest (--fit); tested alone in tests/unit/test_fit.c.
 */
#ifndef SIGFLOW_SCORE_FIT_H
#define SIGFLOW_SCORE_FIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sigflow.h"

#define FIT_MAX_ITER 50

typedef struct fit_result {
    int iterations;
    bool converged; /* the Newton step fell below 1e-9 */
    double loss;    /* penalised negative log-likelihood at the result */
} fit_result;

/*
 * Minimise  sum_i [log(1 + e^{z_i}) - y_i z_i] + prior/2 * |beta - beta0|^2,
 * z_i = beta[0] + sum_j beta[j+1] x[i*d + j], over beta (d + 1 values: bias, then weights),
 * by Newton's method with a backtracking line search, starting from `start`. x: n rows of d
 * floats; y: 0/1; wt: a weight per row (n positive finite weights; NULL: all 1), row i
 * counting as wt[i] rows in the sums. The bias is pulled toward beta0[0] like the weights.
 * Deterministic: sums run in row order. SF_EINVAL for d > 64 or a non-finite input;
 * SF_ENOMEM.
 */
sf_status fit_logistic_w(const float *x, const uint8_t *y, const float *wt, size_t n, size_t d,
                         const double *beta0, double prior, const double *start, double *beta,
                         fit_result *res);

/* One evaluation of one entity's trace, ordered by entity then time. */
typedef struct fit_trace_row {
    uint32_t entity; /* index: rows of one entity are consecutive */
    int64_t t;       /* ms */
    double p;        /* score under the model being judged */
    bool new_life;   /* an outcome came since the entity's previous row: arming starts over */
    /* An alert here is judged when follow >= 0: follow = how long after t the outcome is known
       at the refit (R - t, at most the horizon); outcome_in = ms from t to the entity's next
       outcome if it came within follow (the alert is right), else -1 (no outcome seen yet). */
    int64_t follow;
    int64_t outcome_in;
} fit_trace_row;

typedef struct fit_rule {
    int64_t cooldown_ms;
    bool rearm_set; /* rearm_below written: min(rearm_below, threshold), else threshold */
    double rearm_below;
    double target;       /* precision to reach */
    uint64_t min_judged; /* fewer judged alerts than this: a threshold is not judged */
} fit_rule;

/* The alerts a threshold raises over the traces, judged. */
typedef struct fit_judgement {
    uint64_t alerts;  /* judged alerts (follow >= 0) */
    uint64_t right;   /* of which the outcome came within their follow-up */
    double precision; /* Kaplan-Meier estimate of P(outcome within the horizon); NaN: none */
} fit_judgement;

typedef struct fit_pick {
    double threshold;
    bool reached;     /* the target was reached */
    bool judged;      /* some candidate had min_judged alerts (else threshold = current) */
    uint64_t alerts;  /* judged alerts at the threshold */
    uint64_t right;   /* of which an outcome was seen */
    double precision; /* their estimated precision (NaN: not judged) */
} fit_pick;

/* Candidates: 0.01, 0.02, ... 0.99 (k / 100.0). */
#define FIT_THRESHOLD_LO_PCT 1
#define FIT_THRESHOLD_HI_PCT 99

/*
 * Re-run the alert rule (docs/scoring.md "Score, evaluation, alerts": re-arm below rearm, fire when
 * armed, p >= threshold and the cooldown passed; an outcome starts a new life) over every entity's
 * trace for each candidate threshold and judge the alerts it raises (fit_judge). Pick the lowest
 * candidate with at least min_judged alerts whose estimated precision reaches rule->target; when
 * none reaches it, the candidate with the highest estimated precision (the lowest on ties); when
 * no candidate has min_judged alerts, `current` stays (judged the same way). Deterministic.
 */
void fit_pick_threshold(const fit_trace_row *rows, size_t n, const fit_rule *rule, double current,
                        fit_pick *out);

/* Alerts the rule raises over the trace at one threshold, judged: how many had follow >= 0, how
   many of those saw their outcome, and the Kaplan-Meier estimate of their precision over the
   horizon: alerts still waiting (censored at their follow-up) count as at risk until then. */
void fit_judge(const fit_trace_row *rows, size_t n, const fit_rule *rule, double threshold,
               fit_judgement *out);

/* Alerts and right alerts the rule raises over the trace at one threshold (tests). */
void fit_count_alerts(const fit_trace_row *rows, size_t n, const fit_rule *rule, double threshold,
                      uint64_t *alerts, uint64_t *right);

#endif
