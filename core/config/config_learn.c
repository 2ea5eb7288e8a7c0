/*
 * config_learn.c - the [decision] keys of outcomes and learning (docs/scoring.md "Outcomes
 * and learning", docs/config.md): outcome, horizon, learning, refit, prior, fit_sample,
 * fit_horizon, target_precision, auto_window. Owns their defaults and checks. Called by
 * config_sections.c (config__apply_decision) and config.c (whole-file checks).
 */
#include <string.h>

#include "config/config_internal.h"

#define DAY_MS (86400000LL)

void config_learning_defaults(config_decision *dec)
{
    dec->horizon_ms = 45 * DAY_MS;
    dec->refit_ms = DAY_MS;
    dec->prior = 10;
    dec->fit_sample = 100000;
    dec->fit_horizon_ms = 14 * DAY_MS;
    dec->target_precision = 0.6;
    dec->auto_window_ms = 28 * DAY_MS;
}

static void learning_numbers(config_loader *ld, config_decision *dec)
{
    const config_kv *kv;
    long long v;
    if ((kv = config__raw_get(ld, "prior")) && config__number(ld, kv, &dec->prior) &&
        (dec->prior < 0 || dec->prior > 1e9))
        CFG_ERR(ld, kv->line, "`prior` must be between 0 and 1e9, got %s", kv->value);
    if ((kv = config__raw_get(ld, "fit_sample")) &&
        config__integer(ld, kv, 100, SIGFLOW_MAX_FIT_SAMPLE, &v))
        dec->fit_sample = v;
    if ((kv = config__raw_get(ld, "target_precision")) &&
        config__number(ld, kv, &dec->target_precision) &&
        (dec->target_precision <= 0 || dec->target_precision > 1))
        CFG_ERR(ld, kv->line, "`target_precision` must be in (0, 1], got %s", kv->value);
}

static void learning_durations(config_loader *ld, config_decision *dec)
{
    const config_kv *kv, *fh = config__raw_get(ld, "fit_horizon");
    bool h_ok = true;
    if ((kv = config__raw_get(ld, "horizon")))
        h_ok = config__duration(ld, kv, true, &dec->horizon_ms);
    if (h_ok && dec->horizon_ms > 3650 * DAY_MS)
        CFG_ERR(ld, kv ? kv->line : ld->sec_line, "`horizon` must be at most 3650d");
    if (fh && config__duration(ld, fh, true, &dec->fit_horizon_ms) && h_ok &&
        dec->fit_horizon_ms > dec->horizon_ms)
        CFG_ERR(ld, fh->line, "`fit_horizon` (%s) must not be longer than `horizon`", fh->value);
    if (!fh && dec->fit_horizon_ms > dec->horizon_ms)
        dec->fit_horizon_ms = dec->horizon_ms;
    if ((kv = config__raw_get(ld, "refit")) && config__duration(ld, kv, true, &dec->refit_ms) &&
        dec->refit_ms > 366 * DAY_MS)
        CFG_ERR(ld, kv->line, "`refit` must be at most 366d, got %s", kv->value);
    if ((kv = config__raw_get(ld, "auto_window")) &&
        config__duration(ld, kv, true, &dec->auto_window_ms) && dec->auto_window_ms > 366 * DAY_MS)
        CFG_ERR(ld, kv->line, "`auto_window` must be at most 366d, got %s", kv->value);
}

void config__apply_learning(config_loader *ld)
{
    static const char *const onoff[] = {"off", "on"};
    config_decision *dec = &ld->cfg->decision;
    const config_kv *kv, *lk = config__raw_get(ld, "learning");
    if ((kv = config__raw_get(ld, "outcome")))
        config__string(ld, kv, SIGFLOW_MAX_TYPE_LEN, &dec->outcome);
    dec->learning = dec->outcome != NULL;
    int c;
    if (lk && config__choice(ld, lk, onoff, 2, &c))
        dec->learning = c == 1;
    if (dec->learning && !dec->outcome)
        CFG_ERR(ld, lk->line, "`learning = on` needs `outcome =` (the event that says yes)");
    if (dec->threshold_auto && !dec->outcome)
        CFG_ERR(ld, config__raw_get(ld, "threshold")->line,
                "`threshold = auto` needs `outcome =` (it is judged against outcomes)");
    learning_durations(ld, dec);
    learning_numbers(ld, dec);
    static const char *const need_outcome[] = {"horizon",    "refit",       "prior",
                                               "fit_sample", "fit_horizon", "target_precision",
                                               "auto_window"};
    for (size_t i = 0; i < sizeof need_outcome / sizeof *need_outcome && !dec->outcome; i++) {
        if ((kv = config__raw_get(ld, need_outcome[i])))
            CFG_ERR(ld, kv->line, "`%s` has no effect without `outcome =`", kv->key);
    }
}

void config__check_learning(config_loader *ld)
{
    const sigflow_config *cfg = ld->cfg;
    for (size_t i = 0; cfg->has_decision && i < cfg->n_signals; i++) {
        const config_signal *s = &cfg->signals[i];
        if (s->event && strcmp(s->event, CONFIG_PERSON_LABEL_TYPE) == 0)
            CFG_ERR(ld, s->line,
                    "[signal %s] reads `%s`: that type carries people's labels to the refits "
                    "(docs/scoring.md \"People's labels\") and is no signal",
                    s->name, s->event);
    }
    if (cfg->decision.outcome && strcmp(cfg->decision.outcome, CONFIG_PERSON_LABEL_TYPE) == 0)
        CFG_ERR(ld, cfg->decision.line, "`outcome = %s`: that type carries people's labels",
                CONFIG_PERSON_LABEL_TYPE);
    if (!cfg->has_decision || !cfg->decision.outcome)
        return;
    if (cfg->decision.tick_ms > 0 && cfg->decision.refit_ms < cfg->decision.tick_ms)
        CFG_ERR(ld, cfg->decision.line, "`refit` must not be shorter than `tick`");
    for (size_t i = 0; i < cfg->n_signals; i++) {
        const config_signal *s = &cfg->signals[i];
        if (s->event && strcmp(s->event, cfg->decision.outcome) == 0)
            CFG_ERR(ld, s->line,
                    "[signal %s] reads `%s`, the decision's outcome: an outcome retires the "
                    "entity and cannot also be a signal",
                    s->name, s->event);
    }
}
