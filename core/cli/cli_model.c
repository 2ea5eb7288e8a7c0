/*
 * cli_model.c - `sigflow model -c CONF`: the decision's model as of the last scoring
 * checkpoint in state_dir (every checkpoint_interval and every clean stop): bias, weights and
 * threshold now against the configured ones, the labels counted from outcomes, each signal's
 * lift (how often it was high in confirmed vs false alerts) and the history of changes
 * (docs/scoring.md "Outcomes and learning"). Reads the store read-only: works while the
 * daemon runs. Calls config, score, score_image, snapshot_store_ro, timefmt.
 * Dispatched by main.c.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/timefmt.h"
#include "cli/cli.h"
#include "config/config.h"
#include "config/diag.h"
#include "score/model.h"
#include "score/score.h"
#include "score/score_image.h"
#include "store/snapshot_store_ro.h"

static void model_usage(FILE *to)
{
    fputs("usage: sigflow model -c FILE\n"
          "Prints the decision's model as of the last scoring checkpoint in state_dir: bias,\n"
          "weights and threshold now vs configured, labels from outcomes, per-signal lift\n"
          "(share of confirmed vs false alerts in which the signal was high, x >= 0.5) and the\n"
          "history of model changes. Without a checkpoint: the configured model. Reads the\n"
          "store read-only: works while the daemon runs. Exit 0, 1 when the config or store\n"
          "cannot be read, 64 on a bad command line.\n",
          to);
}

static void dur(int64_t ms, char *buf, size_t len)
{
    duration_format(ms, buf, len);
}

static void when(int64_t ms, char *buf, size_t len)
{
    if (ms == INT64_MIN)
        snprintf(buf, len, "never");
    else
        time_format_rfc3339(ms, buf, len);
}

static void print_head(const score_model_view *v, const char *source)
{
    char h[32], fh[32], rf[32], lr[40];
    dur(v->horizon_ms, h, sizeof h);
    dur(v->fit_horizon_ms, fh, sizeof fh);
    dur(v->refit_ms, rf, sizeof rf);
    when(v->last_refit, lr, sizeof lr);
    printf("decision %s (%s)\n", v->decision, source);
    if (v->outcome[0])
        printf("outcome %s, horizon %s, learning %s (refit every %s, fit_horizon %s, prior %g, "
               "fit_sample %llu)\n",
               v->outcome, h, v->learning ? "on" : "off", rf, fh, v->prior,
               (unsigned long long)v->fit_sample);
    else
        printf("no outcome configured: the model is the configured one and does not learn\n");
    printf("model_version %u, last refit %s\n\n", v->version, lr);
}

static double share(uint64_t k, uint64_t n)
{
    return n ? 100.0 * (double)k / (double)n : NAN;
}

static void print_table(const score_model_view *v)
{
    printf("%-24s %12s %12s   %s\n", "", "now", "configured",
           "high in confirmed / false alerts (lift)");
    printf("%-24s %12.4f %12.4f\n", "bias", v->bias, v->configured_bias);
    printf("%-24s %12.4f %12.4f%s", "threshold", v->threshold, v->configured_threshold,
           v->threshold_auto ? "   auto" : "");
    if (v->threshold_auto)
        printf(", target alert precision %.2f", v->target_precision);
    putchar('\n');
    for (size_t i = 0; i < v->n_signals; i++) {
        const score_model_signal *s = &v->signals[i];
        double c = share(s->high_confirmed, v->confirmed),
               f = share(s->high_false, v->false_positive);
        printf("%-24s %12.4f %12.4f   ", s->name, s->weight, s->configured);
        if (isnan(c) && isnan(f))
            printf("-\n");
        else if (isnan(c) || isnan(f) || f == 0)
            printf("%llu / %llu\n", (unsigned long long)s->high_confirmed,
                   (unsigned long long)s->high_false);
        else
            printf("%.0f%% / %.0f%% (%.2f)\n", c, f, c / f);
    }
    printf("\nlabels from outcomes: %llu confirmed, %llu false_positive, %llu missed\n",
           (unsigned long long)v->confirmed, (unsigned long long)v->false_positive,
           (unsigned long long)v->missed);
}

static void print_history(const score_model_view *v)
{
    printf("\nhistory (%zu change%s, oldest first):\n", v->n_history, v->n_history == 1 ? "" : "s");
    for (size_t k = 0; k < v->n_history; k++) {
        const score_model_change *c = &v->history[k];
        char t[40];
        when(c->time, t, sizeof t);
        printf("%s  v%u  %s: bias %.3f -> %.3f, threshold %.3f -> %.3f", t, c->version, c->cause,
               c->old_bias, c->new_bias, c->old_threshold, c->new_threshold);
        for (size_t i = 0; i < v->n_signals; i++)
            printf(", %s %.3f -> %.3f", v->signals[i].name, c->old_w[i], c->new_w[i]);
        printf("; %llu snapshots (%llu positive)", (unsigned long long)c->rows,
               (unsigned long long)c->positives);
        if (!isnan(c->alert_precision))
            printf(", %llu judged alerts at precision %.2f", (unsigned long long)c->alerts_judged,
                   c->alert_precision);
        putchar('\n');
    }
}

/* The engine with the stored checkpoint loaded (or as configured when there is none). */
static score_engine *load_engine(const sigflow_config *cfg, char *source, size_t slen)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    score_engine *e =
        score_new(&cfg->decision, cfg->signals, cfg->n_signals, 1, NULL, NULL, err, sizeof err);
    if (!e) {
        fprintf(stderr, "model: %s: %s\n", cfg->path, err);
        return NULL;
    }
    void *blob = NULL;
    size_t len = 0;
    uint64_t seq = 0;
    int64_t written = 0;
    if (snapshot_store_read_ro(cfg->state_dir, &blob, &len, &seq, &written, err, sizeof err) !=
        SF_OK) {
        fprintf(stderr, "model: %s\n", err);
        score_free(e);
        return NULL;
    }
    if (!blob) {
        snprintf(source, slen, "as configured: no checkpoint in %s yet", cfg->state_dir);
        return e;
    }
    score_membuf m = {.data = blob, .len = len};
    sf_status st = score_image_load(e, score_membuf_read, &m, err, sizeof err);
    free(blob);
    if (st == SF_EUNSUPPORTED) {
        snprintf(source, slen, "as configured: the checkpoint is of another decision config");
        fprintf(stderr, "model: %s\n", err);
        score_free(e);
        return score_new(&cfg->decision, cfg->signals, cfg->n_signals, 1, NULL, NULL, err,
                         sizeof err);
    }
    if (st != SF_OK) {
        fprintf(stderr, "model: %s\n", err);
        score_free(e);
        return NULL;
    }
    char t[40];
    time_format_rfc3339(written, t, sizeof t);
    snprintf(source, slen, "as of the checkpoint written %s, journal event %llu", t,
             (unsigned long long)seq);
    return e;
}

int cmd_model(int argc, char **argv)
{
    static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *path = NULL;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:h", longs, NULL)) != -1) {
        if (ch == 'c') {
            path = optarg;
        } else if (ch == 'h') {
            model_usage(stdout);
            return EXIT_OK;
        } else {
            fprintf(stderr, "model: unknown option %s\n", argv[optind - 1]);
            model_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!path || optind < argc) {
        fprintf(stderr, path ? "model: unexpected argument %s\n" : "model: -c FILE is required\n",
                path ? argv[optind] : "");
        model_usage(stderr);
        return EXIT_USAGE;
    }
    diag d = {0};
    sigflow_config *cfg = config_load(path, &d);
    if (cfg && !cfg->has_decision)
        diag_add(&d, path, 0, "no [decision] section: there is no model");
    if (!cfg || !cfg->has_decision) {
        diag_print(&d, stderr);
        diag_clear(&d);
        config_free(cfg);
        return EXIT_INVALID;
    }
    diag_clear(&d);
    char source[160];
    score_engine *e = load_engine(cfg, source, sizeof source);
    score_model_view *v = e ? score_model_get(e) : NULL;
    int rc = EXIT_INVALID;
    if (v) {
        print_head(v, source);
        print_table(v);
        print_history(v);
        rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_INVALID;
    }
    score_model_view_free(v);
    score_free(e);
    config_free(cfg);
    return rc;
}
