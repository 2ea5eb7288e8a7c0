/*
 * config.c - the site configuration: INI text -> sigflow_config, with every problem reported as
 * "file:line: message". Calls inih (key = value splitting), config_sections.c (key meanings),
 * config_values.c, suggest, diag. Called by the CLI (check, run, replay) and the runtime (reload).
 *
 * inih is driven through ini_parse_stream with our own line reader: the reader counts lines
 * (Debian's inih has no INI_HANDLER_LINENO), enforces SIGFLOW_MAX_CONFIG_LINE, and parses section
 * headers itself, so that a section without keys still exists and every syntax error is
 * reported, not only the first.
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_internal.h"
#include "config/paths.h"
#include "config/suggest.h"
#include "base/cpus.h"

static const char *const config_section_kinds[] = {"sigflow", "decision", "signal", "connector",
                                                   "delivery"};

/* ---- small helpers --------------------------------------------------------------------- */

static void config_kvs_free(config_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static bool config_kv_append(config_kv **kv, size_t *n, size_t *cap, const char *key,
                             const char *value, int line)
{
    if (!config__push((void **)kv, n, cap, sizeof **kv))
        return false;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return false;
    }
    (*kv)[*n] = (config_kv){.key = k, .value = v, .line = line};
    (*n)++;
    return true;
}

/* ---- sections -------------------------------------------------------------------------- */

static void config_close_section(config_loader *ld)
{
    switch (ld->kind) {
    case SEC_SIGFLOW:
        config__apply_sigflow(ld);
        break;
    case SEC_DECISION:
        config__apply_decision(ld);
        break;
    case SEC_SIGNAL:
        config__apply_signal(ld);
        break;
    case SEC_CONNECTOR:
    case SEC_DELIVERY: {
        config_instance *in = ld->kind == SEC_CONNECTOR ? &ld->cfg->connectors[ld->sec_index]
                                                        : &ld->cfg->deliveries[ld->sec_index];
        if (!in->plugin)
            CFG_ERR(ld, in->line, "[%s %s] needs `plugin =` (the plugin that runs it)",
                    ld->kind == SEC_CONNECTOR ? "connector" : "delivery", in->name);
        break;
    }
    default:
        break;
    }
    config_kvs_free(ld->raw, ld->n_raw);
    ld->raw = NULL;
    ld->n_raw = ld->cap_raw = 0;
    ld->kind = SEC_NONE;
}

/* The line of an existing signal or instance named `name`, or 0. */
static int config_name_taken(const sigflow_config *cfg, sec_kind kind, const char *name,
                             const char **what)
{
    if (kind == SEC_SIGNAL) {
        for (size_t i = 0; i < cfg->n_signals; i++)
            if (strcmp(cfg->signals[i].name, name) == 0)
                return *what = "signal", cfg->signals[i].line;
        return 0;
    }
    /* Connectors and deliveries share one namespace: config_find_instance searches both. */
    for (size_t i = 0; i < cfg->n_connectors; i++)
        if (strcmp(cfg->connectors[i].name, name) == 0)
            return *what = "connector", cfg->connectors[i].line;
    for (size_t i = 0; i < cfg->n_deliveries; i++)
        if (strcmp(cfg->deliveries[i].name, name) == 0)
            return *what = "delivery", cfg->deliveries[i].line;
    return 0;
}

static bool config_open_named(config_loader *ld, sec_kind kind, const char *kname, const char *name)
{
    sigflow_config *cfg = ld->cfg;
    const char *other = NULL;
    int prev;
    if (!*name) {
        CFG_ERR(ld, ld->lineno, "[%s] needs a name: [%s NAME]", kname, kname);
        return false;
    }
    if (!config__name_ok(name)) {
        CFG_ERR(ld, ld->lineno, "bad name `%s`: use 1 to %d of a-z 0-9 _ . -", name,
                SIGFLOW_MAX_NAME_LEN);
        return false;
    }
    if ((prev = config_name_taken(cfg, kind, name, &other))) {
        CFG_ERR(ld, ld->lineno, "[%s %s] has the same name as [%s %s] at line %d", kname, name,
                other, name, prev);
        return false;
    }
    size_t *n = kind == SEC_SIGNAL      ? &cfg->n_signals
                : kind == SEC_CONNECTOR ? &cfg->n_connectors
                                        : &cfg->n_deliveries;
    if (kind == SEC_SIGNAL ? *n >= SIGFLOW_MAX_SIGNALS
                           : cfg->n_connectors + cfg->n_deliveries >= SIGFLOW_MAX_INSTANCES) {
        CFG_ERR(ld, ld->lineno, "too many [%s] sections (at most %d)", kname,
                kind == SEC_SIGNAL ? SIGFLOW_MAX_SIGNALS : SIGFLOW_MAX_INSTANCES);
        return false;
    }
    /* Arrays are sized to their limit up front: no realloc while indexes are held. */
    char *copy = strdup(name);
    if (!copy) {
        CFG_ERR(ld, ld->lineno, "out of memory");
        return false;
    }
    if (kind == SEC_SIGNAL) {
        cfg->signals[*n] = (config_signal){.name = copy,
                                           .line = ld->lineno,
                                           .weight = 1,
                                           .span = 1,
                                           .stale_window_ms = 86400000,
                                           .stale_min = 100};
    } else {
        config_instance *arr = kind == SEC_CONNECTOR ? cfg->connectors : cfg->deliveries;
        arr[*n] =
            (config_instance){.name = copy,
                              .line = ld->lineno,
                              .kind = kind == SEC_CONNECTOR ? SF_KIND_CONNECTOR : SF_KIND_DELIVERY};
    }
    ld->sec_index = (*n)++;
    return true;
}

static void config_open_section(config_loader *ld, char *hdr)
{
    size_t kl = strcspn(hdr, " \t");
    char *name = hdr + kl;
    while (isspace((unsigned char)*name))
        name++;
    hdr[kl] = '\0';
    int line = ld->lineno;
    sec_kind kind = SEC_BAD;
    if (strcmp(hdr, "sigflow") == 0 || strcmp(hdr, "decision") == 0) {
        bool is_sf = hdr[0] == 's';
        int *first = is_sf ? &ld->sigflow_line : &ld->decision_line;
        if (*name)
            CFG_ERR(ld, line, "[%s] takes no name%s", hdr,
                    is_sf ? "" : ": write `name = ...` inside the section");
        if (*first)
            CFG_ERR(ld, line, "a second [%s] section (the first is at line %d)%s", hdr, *first,
                    is_sf ? ""
                          : ": one decision per instance; a second decision is a second "
                            "sigflow instance with its own config");
        else {
            *first = line;
            kind = is_sf ? SEC_SIGFLOW : SEC_DECISION;
            ld->cfg->has_decision |= !is_sf;
            ld->cfg->decision.line = is_sf ? ld->cfg->decision.line : line;
        }
    } else if (strcmp(hdr, "signal") == 0) {
        kind = config_open_named(ld, SEC_SIGNAL, hdr, name) ? SEC_SIGNAL : SEC_BAD;
    } else if (strcmp(hdr, "connector") == 0) {
        kind = config_open_named(ld, SEC_CONNECTOR, hdr, name) ? SEC_CONNECTOR : SEC_BAD;
    } else if (strcmp(hdr, "delivery") == 0) {
        kind = config_open_named(ld, SEC_DELIVERY, hdr, name) ? SEC_DELIVERY : SEC_BAD;
    } else {
        char hint[96];
        CFG_ERR(ld, line,
                "unknown section kind `%s`%s; sections are [sigflow], [decision], "
                "[signal NAME], [connector NAME], [delivery NAME]",
                hdr, suggest_hint(hint, sizeof hint, hdr, config_section_kinds, 5));
    }
    ld->kind = kind;
    ld->sec_line = line;
}

/* ---- the line reader and the inih handler ---------------------------------------------- */

/* A section header line: "[...]" with an optional comment after it. */
static void config_header_line(config_loader *ld, char *p)
{
    config_close_section(ld);
    char *end = strchr(p, ']');
    if (!end) {
        CFG_ERR(ld, ld->lineno, "section header without a closing `]`");
        ld->kind = SEC_BAD;
        return;
    }
    char *rest = end + 1;
    while (isspace((unsigned char)*rest))
        rest++;
    if (*rest && *rest != ';' && *rest != '#') {
        CFG_ERR(ld, ld->lineno, "unexpected text after the section header: `%s`", rest);
        ld->kind = SEC_BAD;
        return;
    }
    *end = '\0';
    char *h = p + 1;
    while (isspace((unsigned char)*h))
        h++;
    for (char *e = h + strlen(h); e > h && isspace((unsigned char)e[-1]); e--)
        e[-1] = '\0';
    config_open_section(ld, h);
}

/*
 * fgets-style reader for ini_parse_stream. Lines inih would reject (or misread) are reported
 * here with their line number and handed to inih as a comment, so parsing goes on.
 */
static char *config_reader(char *str, int num, void *stream)
{
    config_loader *ld = stream;
    if (!fgets(ld->buf, sizeof ld->buf, ld->f))
        return NULL;
    ld->lineno++;
    size_t len = strlen(ld->buf);
    if (len == sizeof ld->buf - 1 && ld->buf[len - 1] != '\n') {
        int c;
        while ((c = fgetc(ld->f)) != EOF && c != '\n')
            ;
        CFG_ERR(ld, ld->lineno, "line longer than %d bytes", SIGFLOW_MAX_CONFIG_LINE);
        snprintf(str, (size_t)num, ";\n");
        return str;
    }
    char *p = ld->buf;
    if (ld->lineno == 1 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '[') {
        config_header_line(ld, p);
        snprintf(str, (size_t)num, ";\n");
    } else if (*p && *p != ';' && *p != '#' && !strpbrk(p, "=:")) {
        CFG_ERR(ld, ld->lineno, "expected `key = value` or a [section] header");
        snprintf(str, (size_t)num, ";\n");
    } else {
        snprintf(str, (size_t)num, "%s", p);
    }
    return str;
}

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
    (void)section; /* sections are tracked by config_reader, which saw the header first */
    config_loader *ld = user;
    int line = ld->lineno;
    bool ok = true;
    if (!*name) {
        CFG_ERR(ld, line, "a value without a key");
        return 1;
    }
    switch (ld->kind) {
    case SEC_NONE:
        CFG_ERR(ld, line, "`%s` is outside any section", name);
        return 1;
    case SEC_BAD:
        return 1; /* the header was reported already */
    case SEC_CONNECTOR:
    case SEC_DELIVERY: {
        config_instance *in = ld->kind == SEC_CONNECTOR ? &ld->cfg->connectors[ld->sec_index]
                                                        : &ld->cfg->deliveries[ld->sec_index];
        int prev = strcmp(name, "plugin") == 0 ? in->plugin_line : 0;
        for (size_t i = 0; i < in->n_kv && !prev; i++)
            if (strcmp(in->kv[i].key, name) == 0)
                prev = in->kv[i].line;
        if (prev) {
            CFG_ERR(ld, line, "`%s` is set twice (first at line %d)", name, prev);
        } else if (strcmp(name, "plugin") == 0) {
            in->plugin_line = line;
            if (!config__name_ok(value))
                CFG_ERR(ld, line, "bad plugin name `%s`: use 1 to %d of a-z 0-9 _ . -", value,
                        SIGFLOW_MAX_NAME_LEN);
            else
                ok = (in->plugin = strdup(value)) != NULL;
        } else {
            size_t cap = in->n_kv; /* grown one at a time: kv arrays stay small */
            ok = config_kv_append(&in->kv, &in->n_kv, &cap, name, value, line);
        }
        break;
    }
    default: {
        const config_kv *prev = config__raw_get(ld, name);
        if (prev)
            CFG_ERR(ld, line, "`%s` is set twice (first at line %d)", name, prev->line);
        else
            ok = config_kv_append(&ld->raw, &ld->n_raw, &ld->cap_raw, name, value, line);
    }
    }
    if (!ok)
        CFG_ERR(ld, line, "out of memory");
    return 1;
}

/* ---- whole-file checks, load, free ----------------------------------------------------- */

static void config_check_whole(config_loader *ld)
{
    sigflow_config *cfg = ld->cfg;
    if (cfg->n_signals && !cfg->has_decision)
        CFG_ERR(ld, cfg->signals[0].line, "[signal %s] has no [decision] to belong to",
                cfg->signals[0].name);
    if (cfg->has_decision && !cfg->n_signals)
        CFG_ERR(ld, cfg->decision.line, "[decision] has no [signal NAME] sections");
    config__check_learning(ld);
    const char *names[SIGFLOW_MAX_INSTANCES];
    for (size_t i = 0; i < cfg->n_deliveries; i++)
        names[i] = cfg->deliveries[i].name;
    for (size_t i = 0; i < cfg->decision.n_deliver; i++) {
        const char *want = cfg->decision.deliver[i];
        bool found = false;
        for (size_t j = 0; j < cfg->n_deliveries && !found; j++)
            found = strcmp(names[j], want) == 0;
        if (!found && config__name_ok(want)) {
            char hint[96];
            CFG_ERR(ld, ld->deliver_line,
                    "`deliver` names `%s`, which is not a [delivery] "
                    "section%s",
                    want, suggest_hint(hint, sizeof hint, want, names, cfg->n_deliveries));
        }
    }
    config__check_health_deliver(ld);
}

static sigflow_config *config_new(const char *path)
{
    sigflow_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    cfg->shards = (int)cpus_online(1024);
    cfg->queue_size = 65536;
    cfg->clock = CONFIG_CLOCK_WALL;
    cfg->decision.tick_ms = 3600000;
    config_learning_defaults(&cfg->decision);
    cfg->path = strdup(path);
    cfg->base_dir = path_dirname(path);
    cfg->state_dir = strdup("var");
    cfg->plugin_dir =
        strdup(SIGFLOW_PREFIX "/lib/sigflow/plugins"); /* where make install puts them */
    cfg->admin = strdup("127.0.0.1:9464");
    cfg->ingest = strdup("127.0.0.1:8088");
    cfg->retry_base_ms = 1000;
    cfg->retry_max_ms = 5 * 60 * 1000;
    cfg->max_attempts = 0; /* no count limit: retry_for bounds the retries */
    cfg->retry_for_ms = 24LL * 3600 * 1000;
    cfg->deliver_timeout_ms = 30 * 1000;
    cfg->plugin_timeout_ms = 10 * 1000;
    cfg->max_future_skew_ms = 3600 * 1000;
    cfg->checkpoint_interval_ms = 5 * 60 * 1000;
    cfg->journal_retention_ms = 7LL * 24 * 3600 * 1000;
    cfg->feedback_ttl_ms = 30LL * 24 * 3600 * 1000;
    cfg->log_level = strdup("info");
    cfg->drift_window = 100;
    cfg->drift_threshold = 0.2;
    cfg->signals = calloc(SIGFLOW_MAX_SIGNALS, sizeof *cfg->signals);
    cfg->connectors = calloc(SIGFLOW_MAX_INSTANCES, sizeof *cfg->connectors);
    cfg->deliveries = calloc(SIGFLOW_MAX_INSTANCES, sizeof *cfg->deliveries);
    if (!cfg->path || !cfg->base_dir || !cfg->state_dir || !cfg->plugin_dir || !cfg->admin ||
        !cfg->ingest || !cfg->log_level || !cfg->signals || !cfg->connectors || !cfg->deliveries) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* state_dir and plugin_dir are relative to the config file, not to the working directory. */
static bool config_resolve_dirs(sigflow_config *cfg)
{
    char *s = path_resolve(cfg->base_dir, cfg->state_dir);
    char *p = path_resolve(cfg->base_dir, cfg->plugin_dir);
    if (!s || !p) {
        free(s);
        free(p);
        return false;
    }
    free(cfg->state_dir);
    free(cfg->plugin_dir);
    cfg->state_dir = s;
    cfg->plugin_dir = p;
    return true;
}

static void config_configure_inih(void)
{
    /* Heap line buffer sized for our longest line; no Python-style continuation lines. */
    ini_use_stack = false;
    ini_allow_realloc = false;
    ini_max_line = SIGFLOW_MAX_CONFIG_LINE + 3;
    ini_initial_alloc = SIGFLOW_MAX_CONFIG_LINE + 3;
    ini_allow_multiline = false;
    ini_allow_no_value = false;
    ini_stop_on_first_error = false;
}

/* keep: return what was parsed even when there were errors (check reports them all). */
static sigflow_config *config_load_mode(const char *path, diag *d, bool keep)
{
    config_loader *ld = calloc(1, sizeof *ld);
    if (!ld) {
        diag_add(d, path, 0, "out of memory");
        return NULL;
    }
    ld->path = path;
    ld->d = d;
    ld->errs_before = d->n;
    ld->f = fopen(path, "r");
    if (!ld->f) {
        diag_add(d, path, 0, "cannot open: %s", strerror(errno));
        goto fail;
    }
    ld->cfg = config_new(path);
    if (!ld->cfg) {
        diag_add(d, path, 0, "out of memory");
        goto fail;
    }
    config_configure_inih();
    int rc = ini_parse_stream(config_reader, ld, config_handler, ld);
    config_close_section(ld);
    if (ferror(ld->f))
        diag_add(d, path, 0, "read error");
    else if (rc == -2)
        diag_add(d, path, 0, "out of memory");
    else if (rc != 0 && d->n == ld->errs_before)
        diag_add(d, path, rc, "syntax error");
    config_check_whole(ld);
    if ((keep || d->n == ld->errs_before) && !config_resolve_dirs(ld->cfg)) {
        diag_add(d, path, 0, "out of memory");
        keep = false;
    }
    if (d->n != ld->errs_before && !keep)
        goto fail;
    sigflow_config *cfg = ld->cfg;
    fclose(ld->f);
    free(ld);
    return cfg;
fail:
    if (ld->f)
        fclose(ld->f);
    config_kvs_free(ld->raw, ld->n_raw);
    config_free(ld->cfg);
    free(ld);
    return NULL;
}

sigflow_config *config_load(const char *path, diag *d)
{
    return config_load_mode(path, d, false);
}

sigflow_config *config_load_partial(const char *path, diag *d)
{
    return config_load_mode(path, d, true);
}

static void config_instances_free(config_instance *arr, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(arr[i].name);
        free(arr[i].plugin);
        config_kvs_free(arr[i].kv, arr[i].n_kv);
    }
    free(arr);
}

void config_free(sigflow_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->base_dir);
    free(cfg->state_dir);
    free(cfg->plugin_dir);
    free(cfg->admin);
    if (cfg->admin_token) {
        explicit_bzero(cfg->admin_token, strlen(cfg->admin_token));
        free(cfg->admin_token);
    }
    if (cfg->feedback_secret) {
        explicit_bzero(cfg->feedback_secret, strlen(cfg->feedback_secret));
        free(cfg->feedback_secret);
    }
    free(cfg->public_url);
    free(cfg->user);
    free(cfg->log_level);
    free(cfg->ingest);
    free(cfg->decision.name);
    free(cfg->decision.question);
    free(cfg->decision.outcome);
    for (size_t i = 0; i < cfg->decision.n_deliver; i++)
        free(cfg->decision.deliver[i]);
    free(cfg->decision.deliver);
    for (size_t i = 0; i < cfg->n_health_deliver; i++)
        free(cfg->health_deliver[i]);
    free(cfg->health_deliver);
    for (size_t i = 0; i < cfg->n_signals; i++) {
        free(cfg->signals[i].name);
        free(cfg->signals[i].event);
        free(cfg->signals[i].explain);
    }
    free(cfg->signals);
    config_instances_free(cfg->connectors, cfg->n_connectors);
    config_instances_free(cfg->deliveries, cfg->n_deliveries);
    free(cfg);
}

const config_instance *config_find_instance(const sigflow_config *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->n_connectors; i++)
        if (strcmp(cfg->connectors[i].name, name) == 0)
            return &cfg->connectors[i];
    for (size_t i = 0; cfg && name && i < cfg->n_deliveries; i++)
        if (strcmp(cfg->deliveries[i].name, name) == 0)
            return &cfg->deliveries[i];
    return NULL;
}
