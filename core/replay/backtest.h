/*
 * backtest.h - `sigflow backtest`: replay history (an NDJSON file or the journal) through a
 * config in event time with the same engine as `run` and `replay` (learning included), and
 * report alerts per week, precision, recall and median lead time against the truth (a labels
 * file, or the outcome events of the stream); with --compare, a second config on the same
 * events and the difference; with --fit, the model the run ended with as an INI fragment.
 * Rules: docs/scoring.md "Backtest". Owns: the command. Calls config, mapping, replay_input,
 * journal_export, score, labels_file, backtest_report. Called by main.c.
 */
#ifndef SIGFLOW_BACKTEST_H
#define SIGFLOW_BACKTEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "replay/labels_file.h"
#include "score/model.h"

/* argv[0] = "backtest". Exit codes: 0 ok, 1 config/input error, 64 usage. */
int backtest_main(int argc, char **argv);

/* ---- the report (backtest_report.c) ---- */

typedef struct bt_alert {
    char *entity;
    int64_t t;
    uint32_t version;
} bt_alert;

/*
 * A health alert (docs/scoring.md "Health alerts") or a suppressed one ("Suppressed
 * alerts"): kept apart, never judged as a decision.
 */
typedef struct bt_health {
    int64_t t;
    const char *tag; /* "health" or "suppressed" (static) */
    char *what;      /* "stale quiet", "drift app user.id"; "ENTITY SCORE stale login_drop" */
} bt_health;

typedef struct bt_result {
    const char *config; /* path, for the heading */
    bt_alert *a;
    size_t n, cap;
    bt_health *h;
    size_t n_h, cap_h;
    score_model_view *model; /* at the end */
} bt_result;

typedef struct bt_stats {
    uint64_t alerts, judged, right, churners, caught;
    uint64_t closed, closed_right; /* alerts whose horizon closed (t + horizon <= end) */
    double precision, recall;      /* NaN when nothing to divide by */
    double median_lead_days;       /* NaN when nothing was caught */
    double weeks;                  /* weeks from the first event's week to the end's */
} bt_stats;

/*
 * The figures of one run. An alert at t is right when its entity churns in [t, t+horizon];
 * it is judged when right or when t + horizon <= end (its window closed within the data).
 * Only alerts at or after `start` count (the first event, or --from); churners: churns in
 * [start, end]; caught when some alert of the entity is in
 * [churn - horizon, churn]; lead time = churn - the earliest such alert.
 */
void bt_compute(const bt_result *r, const churn_table *truth, int64_t horizon, int64_t start,
                int64_t end, bt_stats *out);
/* The per-week table (decision alerts only), the summary line, then each health and
   suppressed alert. */
void bt_print(FILE *out, const bt_result *r, const churn_table *truth, int64_t horizon,
              int64_t start, int64_t end, const bt_stats *s);
/* "+14.0 alerts a week, 3 fewer false positives, ..." (b relative to a). */
void bt_print_difference(FILE *out, const bt_stats *a, const bt_stats *b);
/* Every recorded model change, one line each (--history). */
void bt_print_history(FILE *out, const char *config, const score_model_view *m);
/* The model as an INI fragment ([decision] bias, threshold; [signal NAME] weight). */
void bt_print_fit(FILE *out, const score_model_view *m);

#endif
