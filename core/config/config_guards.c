/*
 * config_guards.c - the noise-guard keys (docs/scoring.md "Noise guards", docs/config.md):
 * `relative`, `stale_below`, `stale_window`, `stale_min` of a [signal], and `health_deliver`,
 * `drift_window`, `drift_threshold` of [sigflow]. Part of the config module; called by
 * config_sections.c when a section closes and by config.c's whole-file check.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "config/suggest.h"

#define STALE_WINDOW_MAX_MS (366LL * 86400000LL)

void config__apply_signal_guards(config_loader *ld, config_signal *sig)
{
    static const char *const relatives[] = {"self", "cohort"};
    const config_kv *kv;
    if ((kv = config__raw_get(ld, "relative"))) {
        bool found = false;
        for (size_t i = 0; i < 2 && !found; i++) {
            if (strcmp(kv->value, relatives[i]) == 0) {
                sig->cohort = i == 1;
                found = true;
            }
        }
        if (!found) {
            char hint[96];
            CFG_ERR(ld, kv->line, "`relative` must be self or cohort, got `%s`%s", kv->value,
                    suggest_hint(hint, sizeof hint, kv->value, relatives, 2));
        }
    }
    if ((kv = config__raw_get(ld, "stale_below")) && config__number(ld, kv, &sig->stale_below) &&
        (sig->stale_below < 0 || sig->stale_below > 1))
        CFG_ERR(ld, kv->line, "`stale_below` must be between 0 (off) and 1, got %s", kv->value);
    if ((kv = config__raw_get(ld, "stale_window")) &&
        config__duration(ld, kv, true, &sig->stale_window_ms) &&
        sig->stale_window_ms > STALE_WINDOW_MAX_MS)
        CFG_ERR(ld, kv->line, "`stale_window` must be at most 366d, got %s", kv->value);
    if ((kv = config__raw_get(ld, "stale_min")) && config__number(ld, kv, &sig->stale_min) &&
        sig->stale_min < 0)
        CFG_ERR(ld, kv->line, "`stale_min` must be 0 or more, got %s", kv->value);
}

/* A comma-separated list of names into a fresh array. */
static void parse_names(config_loader *ld, const config_kv *kv, char ***out, size_t *n)
{
    const char *p = kv->value;
    size_t cap = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *b = p, *e = p + len;
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        char *name = strndup(b, (size_t)(e - b));
        if (!name || !config__push((void **)out, n, &cap, sizeof(char *))) {
            free(name);
            CFG_ERR(ld, kv->line, "out of memory");
            return;
        }
        if (!config__name_ok(name))
            CFG_ERR(ld, kv->line, "`%s` lists `%s`, which is not a valid name", kv->key, name);
        (*out)[(*n)++] = name;
        p += len;
        if (*p == ',')
            p++;
    }
}

void config__apply_sigflow_guards(config_loader *ld)
{
    sigflow_config *cfg = ld->cfg;
    const config_kv *kv;
    long long v;
    if ((kv = config__raw_get(ld, "health_deliver"))) {
        for (size_t i = 0; i < cfg->n_health_deliver; i++)
            free(cfg->health_deliver[i]);
        free(cfg->health_deliver);
        cfg->health_deliver = NULL;
        cfg->n_health_deliver = 0;
        cfg->health_deliver_line = kv->line;
        parse_names(ld, kv, &cfg->health_deliver, &cfg->n_health_deliver);
        if (cfg->n_health_deliver == 0)
            CFG_ERR(ld, kv->line, "`health_deliver` is empty");
    }
    if ((kv = config__raw_get(ld, "drift_window")) &&
        config__integer(ld, kv, 10, SIGFLOW_MAX_DRIFT_WINDOW, &v))
        cfg->drift_window = (int)v;
    if ((kv = config__raw_get(ld, "drift_threshold")) &&
        config__number(ld, kv, &cfg->drift_threshold) &&
        !(cfg->drift_threshold > 0 && cfg->drift_threshold < 1))
        CFG_ERR(ld, kv->line, "`drift_threshold` must be between 0 and 1 (exclusive), got %s",
                kv->value);
}

void config__check_health_deliver(config_loader *ld)
{
    sigflow_config *cfg = ld->cfg;
    const char *names[SIGFLOW_MAX_INSTANCES];
    for (size_t i = 0; i < cfg->n_deliveries; i++)
        names[i] = cfg->deliveries[i].name;
    for (size_t i = 0; i < cfg->n_health_deliver; i++) {
        const char *want = cfg->health_deliver[i];
        bool found = false;
        for (size_t j = 0; j < cfg->n_deliveries && !found; j++)
            found = strcmp(names[j], want) == 0;
        if (!found && config__name_ok(want)) {
            char hint[96];
            CFG_ERR(ld, cfg->health_deliver_line,
                    "`health_deliver` names `%s`, which is not a [delivery] section%s", want,
                    suggest_hint(hint, sizeof hint, want, names, cfg->n_deliveries));
        }
    }
}
