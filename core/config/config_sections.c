/*
 * config_sections.c - what the keys of [sigflow], [decision] and [signal NAME] mean: types,
 * defaults, ranges, which keys each measure takes. Part of the config module (config.h);
 * calls config_values.c, config_guards.c, config_learn.c, timefmt, secret, suggest, diag.
 * Called by config.c when a section closes.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "config/secret.h"
#include "config/suggest.h"
#include "base/timefmt.h"

/* ---- [sigflow] ------------------------------------------------------------------------- */

static bool config_admin_ok(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return false;
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    return colon[1] && !*end && port >= 1 && port <= 65535;
}

/* A user name as useradd takes it: [a-z0-9_.-], not starting with '-' (no path, no id). */
static bool config_user_ok(const char *u)
{
    if (!*u || *u == '-')
        return false;
    for (const char *p = u; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
              *p == '.'))
            return false;
    return true;
}

/* public_url, feedback_secret, feedback_ttl: the one-click feedback links. */
static void config_apply_feedback(config_loader *ld)
{
    sigflow_config *cfg = ld->cfg;
    const config_kv *kv, *url = config__raw_get(ld, "public_url");
    if (url && config__string(ld, url, SIGFLOW_MAX_URL_LEN, &cfg->public_url) &&
        ((strncmp(url->value, "http://", 7) != 0 && strncmp(url->value, "https://", 8) != 0) ||
         strpbrk(url->value, " \t\"<>?#") != NULL))
        CFG_ERR(ld, url->line,
                "`public_url` must be an http:// or https:// URL without query, got `%s`",
                url->value);
    if ((kv = config__raw_get(ld, "feedback_secret"))) {
        char err[SIGFLOW_MAX_ERROR_LEN];
        cfg->feedback_secret = secret_resolve(kv->value, err, sizeof err);
        if (!cfg->feedback_secret)
            CFG_ERR(ld, kv->line, "`feedback_secret`: %s", err);
        else if (strlen(cfg->feedback_secret) < 16)
            CFG_ERR(ld, kv->line, "`feedback_secret` must be at least 16 bytes long");
        else if (!url)
            CFG_ERR(ld, kv->line,
                    "`feedback_secret` needs `public_url =` (the address links point to)");
    }
    if ((kv = config__raw_get(ld, "feedback_ttl")))
        config__duration(ld, kv, true, &cfg->feedback_ttl_ms);
}

void config__apply_sigflow(config_loader *ld)
{
    static const char *const known[] = {"state_dir",
                                        "plugin_dir",
                                        "admin",
                                        "admin_token",
                                        "shards",
                                        "queue_size",
                                        "clock",
                                        "log_level",
                                        "log_format",
                                        "ingest",
                                        "durability",
                                        "retry_base",
                                        "retry_max",
                                        "max_attempts",
                                        "retry_for",
                                        "deliver_timeout",
                                        "plugin_timeout",
                                        "max_future_skew",
                                        "checkpoint_interval",
                                        "journal_retention",
                                        "health_deliver",
                                        "drift_window",
                                        "drift_threshold",
                                        "public_url",
                                        "user",
                                        "feedback_secret",
                                        "feedback_ttl"};
    static const char *const durabilities[] = {"fsync", "batch", "off"};
    static const char *const clocks[] = {"wall", "event"};
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    static const char *const log_formats[] = {"logfmt", "json"};
    sigflow_config *cfg = ld->cfg;
    const config_kv *kv;
    config__check_known(ld, "[sigflow]", known, sizeof known / sizeof known[0]);
    char *dir = NULL;
    if ((kv = config__raw_get(ld, "state_dir")) && config__string(ld, kv, 4096, &dir)) {
        free(cfg->state_dir);
        cfg->state_dir = dir;
        dir = NULL;
    }
    if ((kv = config__raw_get(ld, "plugin_dir")) && config__string(ld, kv, 4096, &dir)) {
        free(cfg->plugin_dir);
        cfg->plugin_dir = dir;
    }
    if ((kv = config__raw_get(ld, "admin")) && config__string(ld, kv, 256, &cfg->admin) &&
        !config_admin_ok(cfg->admin))
        CFG_ERR(ld, kv->line, "`admin` must be host:port, got `%s`", kv->value);
    if ((kv = config__raw_get(ld, "admin_token"))) {
        char err[SIGFLOW_MAX_ERROR_LEN];
        cfg->admin_token = secret_resolve_at(kv->value, cfg->base_dir, err, sizeof err);
        if (!cfg->admin_token)
            CFG_ERR(ld, kv->line, "`admin_token`: %s", err);
    }
    if ((kv = config__raw_get(ld, "user")) &&
        config__string(ld, kv, SIGFLOW_MAX_NAME_LEN, &cfg->user) && !config_user_ok(cfg->user))
        CFG_ERR(ld, kv->line,
                "`user` must be a user name (a-z 0-9 _ - ., not starting with -), got `%s`",
                kv->value);
    long long v;
    if ((kv = config__raw_get(ld, "shards")) && config__integer(ld, kv, 1, 1024, &v))
        cfg->shards = (int)v;
    if ((kv = config__raw_get(ld, "queue_size")) && config__integer(ld, kv, 16, 16 << 20, &v))
        cfg->queue_size = v;
    int c = 0;
    if ((kv = config__raw_get(ld, "clock")) && config__choice(ld, kv, clocks, 2, &c))
        cfg->clock = c == 0 ? CONFIG_CLOCK_WALL : CONFIG_CLOCK_EVENT;
    if ((kv = config__raw_get(ld, "log_level")) && config__choice(ld, kv, levels, 4, &c))
        config__string(ld, kv, 16, &cfg->log_level);
    if ((kv = config__raw_get(ld, "log_format")) && config__choice(ld, kv, log_formats, 2, &c))
        cfg->log_format = c;
    if ((kv = config__raw_get(ld, "ingest"))) {
        free(cfg->ingest);
        cfg->ingest = NULL;
        if (config__string(ld, kv, 256, &cfg->ingest) && !config_admin_ok(cfg->ingest))
            CFG_ERR(ld, kv->line, "`ingest` must be host:port, got `%s`", kv->value);
    }
    if ((kv = config__raw_get(ld, "durability")) && config__choice(ld, kv, durabilities, 3, &c))
        cfg->durability = c;
    if ((kv = config__raw_get(ld, "retry_base")))
        config__duration(ld, kv, true, &cfg->retry_base_ms);
    if ((kv = config__raw_get(ld, "retry_max")))
        config__duration(ld, kv, true, &cfg->retry_max_ms);
    if ((kv = config__raw_get(ld, "max_attempts")) && config__integer(ld, kv, 1, 1000, &v))
        cfg->max_attempts = (int)v;
    if ((kv = config__raw_get(ld, "retry_for")))
        config__duration(ld, kv, true, &cfg->retry_for_ms);
    if ((kv = config__raw_get(ld, "deliver_timeout")))
        config__duration(ld, kv, true, &cfg->deliver_timeout_ms);
    if ((kv = config__raw_get(ld, "plugin_timeout")))
        config__duration(ld, kv, true, &cfg->plugin_timeout_ms);
    if ((kv = config__raw_get(ld, "max_future_skew")))
        config__duration(ld, kv, true, &cfg->max_future_skew_ms);
    if ((kv = config__raw_get(ld, "checkpoint_interval")))
        config__duration(ld, kv, true, &cfg->checkpoint_interval_ms);
    if ((kv = config__raw_get(ld, "journal_retention")))
        config__duration(ld, kv, false, &cfg->journal_retention_ms);
    config__apply_sigflow_guards(ld);
    config_apply_feedback(ld);
}

/* ---- [decision] ------------------------------------------------------------------------ */

static void config_apply_deliver(config_loader *ld, const config_kv *kv)
{
    config_decision *dec = &ld->cfg->decision;
    const char *p = kv->value;
    size_t cap = 0;
    ld->deliver_line = kv->line;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *b = p, *e = p + n;
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        char *name = strndup(b, (size_t)(e - b));
        if (!name || !config__push((void **)&dec->deliver, &dec->n_deliver, &cap, sizeof(char *))) {
            free(name);
            CFG_ERR(ld, kv->line, "out of memory");
            return;
        }
        if (!config__name_ok(name))
            CFG_ERR(ld, kv->line, "`deliver` lists `%s`, which is not a valid name", name);
        dec->deliver[dec->n_deliver++] = name;
        p += n;
        if (*p == ',')
            p++;
    }
}

void config__apply_decision(config_loader *ld)
{
    static const char *const known[] = {"name",      "question",    "bias",
                                        "threshold", "rearm_below", "cooldown",
                                        "tick",      "deliver",     CONFIG_LEARN_KEYS};
    config_decision *dec = &ld->cfg->decision;
    const config_kv *kv;
    config__check_known(ld, "[decision]", known, sizeof known / sizeof known[0]);
    if (!(kv = config__raw_get(ld, "name")))
        CFG_ERR(ld, ld->sec_line, "[decision] needs `name =`");
    else if (config__string(ld, kv, SIGFLOW_MAX_NAME_LEN, &dec->name) &&
             !config__name_ok(dec->name))
        CFG_ERR(ld, kv->line, "decision name `%s` may only use a-z 0-9 _ . -", kv->value);
    if ((kv = config__raw_get(ld, "question")))
        config__string(ld, kv, SIGFLOW_MAX_TEMPLATE_LEN, &dec->question);
    if ((kv = config__raw_get(ld, "bias")))
        config__number(ld, kv, &dec->bias);
    const config_kv *th = config__raw_get(ld, "threshold");
    bool th_ok = false;
    if (!th)
        CFG_ERR(ld, ld->sec_line, "[decision] needs `threshold =` (a probability in (0,1))");
    else if (strcmp(th->value, "auto") == 0) {
        dec->threshold_auto = true; /* starts at CONFIG_AUTO_THRESHOLD_START, then learned */
        dec->threshold = CONFIG_AUTO_THRESHOLD_START;
        th_ok = true;
    } else if (config__number(ld, th, &dec->threshold)) {
        th_ok = dec->threshold > 0 && dec->threshold < 1;
        if (!th_ok)
            CFG_ERR(ld, th->line, "`threshold` must be between 0 and 1 (exclusive), got %s",
                    th->value);
    }
    dec->rearm_below = dec->threshold;
    dec->rearm_set = config__raw_get(ld, "rearm_below") != NULL;
    if ((kv = config__raw_get(ld, "rearm_below")) && config__number(ld, kv, &dec->rearm_below) &&
        (dec->rearm_below < 0 ||
         (th_ok && !dec->threshold_auto && dec->rearm_below > dec->threshold)))
        CFG_ERR(ld, kv->line, "`rearm_below` must be between 0 and threshold (%s), got %s",
                th_ok ? th->value : "?", kv->value);
    if ((kv = config__raw_get(ld, "cooldown")))
        config__duration(ld, kv, false, &dec->cooldown_ms);
    if ((kv = config__raw_get(ld, "tick")))
        config__duration(ld, kv, true, &dec->tick_ms);
    if ((kv = config__raw_get(ld, "deliver")))
        config_apply_deliver(ld, kv);
    config__apply_learning(ld);
}

/* ---- [signal NAME] --------------------------------------------------------------------- */

static const char *const config_measures[] = {"drop",   "rise",        "count",      "recent",
                                              "absent", "value_below", "value_above"};
static const char *const config_signal_keys[] = {
    "event",  "measure", "of",    "weight",   "explain",     "recent",       "usual",    "span",
    "window", "cap",     "limit", "relative", "stale_below", "stale_window", "stale_min"};
/* event, measure, weight, explain and the stale keys: valid for every measure */
#define CFG_N_SIGNAL_COMMON 7

/* The measure-specific keys each measure takes; the first `required` of them are required. */
static const struct {
    const char *keys[5];
    size_t n, required;
} config_measure_keys[] = {
    [MEASURE_DROP] = {{"recent", "usual", "of", "relative"}, 4, 2},
    [MEASURE_RISE] = {{"recent", "usual", "span", "of", "relative"}, 5, 2},
    [MEASURE_COUNT] = {{"window", "cap"}, 2, 2},
    [MEASURE_RECENT] = {{"window"}, 1, 1},
    [MEASURE_ABSENT] = {{"window", "relative"}, 2, 1},
    [MEASURE_VALUE_BELOW] = {{"limit"}, 1, 1},
    [MEASURE_VALUE_ABOVE] = {{"limit"}, 1, 1},
};

static bool config_measure_takes(measure_kind m, const char *key)
{
    static const char *const common[] = {"event",       "measure",      "weight",   "explain",
                                         "stale_below", "stale_window", "stale_min"};
    for (size_t i = 0; i < CFG_N_SIGNAL_COMMON; i++)
        if (strcmp(key, common[i]) == 0)
            return true;
    for (size_t i = 0; i < config_measure_keys[m].n; i++)
        if (strcmp(key, config_measure_keys[m].keys[i]) == 0)
            return true;
    return false;
}

/* Keys of the measure: presence, keys that belong to another measure. */
static void config_check_measure_keys(config_loader *ld, const config_signal *sig)
{
    const char *mname = config_measures[sig->measure];
    for (size_t i = 0; i < config_measure_keys[sig->measure].required; i++) {
        const char *k = config_measure_keys[sig->measure].keys[i];
        if (!config__raw_get(ld, k))
            CFG_ERR(ld, sig->line, "[signal %s]: measure %s needs `%s =`", sig->name, mname, k);
    }
    size_t nk = sizeof config_signal_keys / sizeof config_signal_keys[0];
    for (size_t i = 0; i < ld->n_raw; i++) {
        const char *k = ld->raw[i].key;
        bool known = false;
        for (size_t j = 0; j < nk && !known; j++)
            known = strcmp(k, config_signal_keys[j]) == 0;
        if (known && !config_measure_takes(sig->measure, k))
            CFG_ERR(ld, ld->raw[i].line, "`%s` is not used by measure %s", k, mname);
    }
}

static void config_signal_durations(config_loader *ld, config_signal *sig)
{
    const config_kv *kv;
    bool r_ok = false, u_ok = false;
    if ((kv = config__raw_get(ld, "recent")))
        r_ok = config__duration(ld, kv, true, &sig->recent_ms);
    const config_kv *ukv = config__raw_get(ld, "usual");
    if (ukv)
        u_ok = config__duration(ld, ukv, true, &sig->usual_ms);
    if (r_ok && u_ok && sig->recent_ms >= sig->usual_ms)
        CFG_ERR(ld, ukv->line, "`usual` (%s) must be longer than `recent` (%s)", ukv->value,
                kv->value);
    if ((kv = config__raw_get(ld, "window")))
        config__duration(ld, kv, true, &sig->window_ms);
}

static void config_signal_numbers(config_loader *ld, config_signal *sig)
{
    const config_kv *kv;
    if ((kv = config__raw_get(ld, "weight")))
        config__number(ld, kv, &sig->weight);
    if ((kv = config__raw_get(ld, "span")) && config__number(ld, kv, &sig->span) && sig->span <= 0)
        CFG_ERR(ld, kv->line, "`span` must be greater than 0, got %s", kv->value);
    if ((kv = config__raw_get(ld, "cap")) && config__number(ld, kv, &sig->cap) && sig->cap <= 0)
        CFG_ERR(ld, kv->line, "`cap` must be greater than 0, got %s", kv->value);
    if ((kv = config__raw_get(ld, "limit")))
        config__number(ld, kv, &sig->limit);
}

void config__apply_signal(config_loader *ld)
{
    static const char *const ofs[] = {"count", "value"};
    config_signal *sig = &ld->cfg->signals[ld->sec_index];
    char what[SIGFLOW_MAX_NAME_LEN + 16];
    snprintf(what, sizeof what, "[signal %s]", sig->name);
    config__check_known(ld, what, config_signal_keys, sizeof config_signal_keys / sizeof(char *));
    const config_kv *kv;
    if (!(kv = config__raw_get(ld, "event")))
        CFG_ERR(ld, sig->line, "[signal %s] needs `event =` (the event type it reads)", sig->name);
    else
        config__string(ld, kv, SIGFLOW_MAX_TYPE_LEN, &sig->event);
    int m = -1;
    if (!(kv = config__raw_get(ld, "measure")))
        CFG_ERR(ld, sig->line,
                "[signal %s] needs `measure =` (drop, rise, count, recent, "
                "absent, value_below or value_above)",
                sig->name);
    else if (config__choice(ld, kv, config_measures, sizeof config_measures / sizeof(char *), &m)) {
        sig->measure = (measure_kind)m;
        config_check_measure_keys(ld, sig);
    }
    int of = 0;
    if ((kv = config__raw_get(ld, "of")) && config__choice(ld, kv, ofs, 2, &of))
        sig->of_value = of == 1;
    if ((kv = config__raw_get(ld, "explain")))
        config__string(ld, kv, SIGFLOW_MAX_TEMPLATE_LEN, &sig->explain);
    config_signal_durations(ld, sig);
    config_signal_numbers(ld, sig);
    config__apply_signal_guards(ld, sig);
}
