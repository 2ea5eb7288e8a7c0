/*
 * cli_model.c - `sigflow model -c CONF`: the decision's model, live from the running daemon's
 * API (GET /v1/model, with admin_token) when it answers, else as of the last scoring
 * checkpoint in state_dir (every checkpoint_interval and every clean stop), and it says which:
 * bias, weights and threshold now against the configured ones, the labels counted from
 * outcomes, each signal's lift (how often it was high in confirmed vs false alerts) and the
 * history of changes (docs/scoring.md "Outcomes and learning"). Reads the store read-only.
 * Calls config, score, score_image, snapshot_store_ro, timefmt, cli_admin, json-c.
 * Dispatched by main.c.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/timefmt.h"
#include "cli/cli.h"
#include "cli/cli_admin.h"
#include "config/config.h"
#include "config/diag.h"
#include "score/model.h"
#include "score/score.h"
#include "score/score_image.h"
#include "store/snapshot_store_ro.h"

static void model_usage(FILE *to)
{
    fputs("usage: sigflow model -c FILE\n"
          "Prints the decision's model: bias, weights and threshold now vs configured, labels\n"
          "from outcomes, per-signal lift (share of confirmed vs false alerts in which the\n"
          "signal was high, x >= 0.5) and the history of model changes. Live from the running\n"
          "daemon's API (GET /v1/model; needs admin_token) when it answers; otherwise as of\n"
          "the last scoring checkpoint in state_dir (read-only), or the configured model\n"
          "without one. The first line says which. Exit 0, 1 when the config or store cannot\n"
          "be read, 64 on a bad command line.\n",
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

/* ---- live, through the daemon's API ---------------------------------------------------- */

#define MODEL_API_TIMEOUT_S 5

static double jnum(json_object *o, const char *key, double dflt)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && v ? json_object_get_double(v) : dflt;
}

static int64_t jint(json_object *o, const char *key, int64_t dflt)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && v ? json_object_get_int64(v) : dflt;
}

static json_object *jget(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static int64_t jtime(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    int64_t t;
    const char *s =
        v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    return s && time_parse(s, strlen(s), &t) == 0 ? t : INT64_MIN;
}

/* One side of a change ({"bias", "weights", "threshold"}) into bias, w (config order), th. */
static void side_from(json_object *o, const score_model_view *v, double *bias, double *w,
                      double *th)
{
    *bias = jnum(o, "bias", NAN);
    *th = jnum(o, "threshold", NAN);
    json_object *ws = jget(o, "weights");
    for (size_t i = 0; i < v->n_signals; i++)
        w[i] = jnum(ws, v->signals[i].name, NAN);
}

static const char *cause_of(const char *text)
{
    static const char *const known[] = {"refit", "refit (learning off: recorded only)", "config"};
    for (size_t i = 0; text && i < sizeof known / sizeof *known; i++)
        if (strcmp(text, known[i]) == 0)
            return known[i];
    return "change";
}

static void history_from(json_object *arr, score_model_view *v)
{
    size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    if (n > SIGFLOW_MAX_MODEL_HISTORY)
        n = SIGFLOW_MAX_MODEL_HISTORY;
    score_model_change *h = calloc(n ? n : 1, sizeof *h);
    if (!h)
        return;
    for (size_t k = 0; k < n; k++) {
        json_object *c = json_object_array_get_idx(arr, k);
        score_model_change *x = &h[k];
        x->time = jtime(c, "time");
        x->version = (uint32_t)jint(c, "version", 0);
        json_object *cause = jget(c, "cause");
        x->cause = cause_of(cause ? json_object_get_string(cause) : NULL);
        side_from(jget(c, "old"), v, &x->old_bias, x->old_w, &x->old_threshold);
        side_from(jget(c, "new"), v, &x->new_bias, x->new_w, &x->new_threshold);
        x->rows = (uint64_t)jint(c, "labels_used", 0);
        x->positives = (uint64_t)jint(c, "positives", 0);
        x->alerts_judged = (uint64_t)jint(c, "alerts_judged", 0);
        x->alert_precision = jnum(c, "alert_precision", NAN);
    }
    v->history = h;
    v->n_history = n;
}

/* GET /v1/model's answer into a view; the config gives the signal names and order. */
static score_model_view *view_from_json(json_object *o, const sigflow_config *cfg)
{
    score_model_view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    const config_decision *d = &cfg->decision;
    snprintf(v->decision, sizeof v->decision, "%s", d->name ? d->name : "");
    json_object *oc = jget(o, "outcome");
    snprintf(v->outcome, sizeof v->outcome, "%s", oc ? json_object_get_string(oc) : "");
    json_object *b = jget(o, "learning");
    v->learning = b && json_object_get_boolean(b);
    b = jget(o, "threshold_auto");
    v->threshold_auto = b && json_object_get_boolean(b);
    v->version = (uint32_t)jint(o, "model_version", 1);
    v->last_refit = jtime(o, "last_refit");
    json_object *ls = jget(o, "learning_settings");
    v->horizon_ms = jint(ls, "horizon_ms", d->horizon_ms);
    v->fit_horizon_ms = jint(ls, "fit_horizon_ms", d->fit_horizon_ms);
    v->refit_ms = jint(ls, "refit_ms", d->refit_ms);
    v->prior = jnum(ls, "prior", d->prior);
    v->fit_sample = (uint64_t)jint(ls, "fit_sample", (int64_t)d->fit_sample);
    v->target_precision = jnum(ls, "target_precision", d->target_precision);
    v->n_signals = cfg->n_signals < SIGFLOW_MAX_SIGNALS ? cfg->n_signals : SIGFLOW_MAX_SIGNALS;
    for (size_t i = 0; i < v->n_signals; i++)
        snprintf(v->signals[i].name, sizeof v->signals[i].name, "%s", cfg->signals[i].name);
    double w[SIGFLOW_MAX_SIGNALS], cw[SIGFLOW_MAX_SIGNALS];
    side_from(o, v, &v->bias, w, &v->threshold);
    side_from(jget(o, "configured"), v, &v->configured_bias, cw, &v->configured_threshold);
    json_object *lift = jget(o, "lift");
    for (size_t i = 0; i < v->n_signals; i++) {
        json_object *l = jget(lift, v->signals[i].name);
        v->signals[i].weight = w[i];
        v->signals[i].configured = cw[i];
        v->signals[i].high_confirmed = (uint64_t)jint(l, "high_in_confirmed", 0);
        v->signals[i].high_false = (uint64_t)jint(l, "high_in_false_positive", 0);
    }
    json_object *counts = jget(o, "outcome_labels");
    v->confirmed = (uint64_t)jint(counts, "confirmed", 0);
    v->false_positive = (uint64_t)jint(counts, "false_positive", 0);
    v->missed = (uint64_t)jint(counts, "missed", 0);
    history_from(jget(o, "history"), v);
    if (!v->history) {
        free(v);
        return NULL;
    }
    return v;
}

/* The live model from the daemon, or NULL (why in `why`: it is printed with the fallback). */
static score_model_view *live_model(const sigflow_config *cfg, char *source, size_t slen, char *why,
                                    size_t wlen)
{
    if (!cfg->admin_token) {
        snprintf(why, wlen, "no admin_token configured: the daemon's API is not asked");
        return NULL;
    }
    long status = 0;
    char *answer = NULL;
    if (cli_admin_request(cfg, "/v1/model", NULL, MODEL_API_TIMEOUT_S, &status, &answer, why,
                          wlen) != 0) {
        free(answer);
        return NULL;
    }
    score_model_view *v = NULL;
    json_object *o = status == 200 && answer ? json_tokener_parse(answer) : NULL;
    json_object *src = o ? jget(o, "model_source") : NULL;
    if (!o || !json_object_is_type(o, json_type_object))
        snprintf(why, wlen, "the daemon's API answered %ld without a model", status);
    else if (!src || strcmp(json_object_get_string(src), "engine") != 0)
        snprintf(why, wlen, "the running daemon has not published its engine's model yet");
    else if (!(v = view_from_json(o, cfg)))
        snprintf(why, wlen, "out of memory");
    if (v) {
        char url[300];
        cli_admin_url(cfg->admin, "/v1/model", url, sizeof url);
        snprintf(source, slen, "live: the running daemon's engine, from %s", url);
    }
    json_object_put(o);
    free(answer);
    return v;
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
    char source[400], why[SIGFLOW_MAX_ERROR_LEN] = "";
    score_engine *e = NULL;
    score_model_view *v = live_model(cfg, source, sizeof source, why, sizeof why);
    if (!v) {
        char stored[160];
        e = load_engine(cfg, stored, sizeof stored);
        v = e ? score_model_get(e) : NULL;
        snprintf(source, sizeof source, "%s; not live: %s", stored, why);
    }
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
