/*
 * config.c - the site configuration: INI text -> sf_config, with every problem reported as
 * "file:line: message". Calls inih (key = value splitting), timefmt, diag, log.
 * Called by the CLI (check, run, replay) and the runtime (reload).
 *
 * inih is driven through ini_parse_stream with our own line reader: the reader counts lines
 * (Debian's inih has no INI_HANDLER_LINENO), enforces SF_MAX_CONFIG_LINE, and parses section
 * headers itself, so that a section without keys still exists and every syntax error is
 * reported, not only the first.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "limits.h"
#include "log.h"
#include "timefmt.h"

typedef enum sec_kind {
    SEC_NONE,
    SEC_BAD,
    SEC_SIGFLOW,
    SEC_DECISION,
    SEC_SIGNAL,
    SEC_CONNECTOR,
    SEC_DELIVERY
} sec_kind;

static const char *const cfg_section_kinds[] = {"sigflow", "decision", "signal", "connector",
                                                "delivery"};

typedef struct cfg_loader {
    const char *path;
    diag *d;
    size_t errs_before;
    sf_config *cfg;
    FILE *f;
    int lineno;
    char buf[SF_MAX_CONFIG_LINE + 2];
    sec_kind kind;
    int sec_line;
    size_t sec_index; /* current signal / connector / delivery */
    cfg_kv *raw;      /* keys of the current [sigflow]/[decision]/[signal], until it closes */
    size_t n_raw, cap_raw;
    int sigflow_line;
    int decision_line;
    int deliver_line;
} cfg_loader;

#define CFG_ERR(ld, line, ...) diag_add((ld)->d, (ld)->path, (line), __VA_ARGS__)

/* ---- small helpers --------------------------------------------------------------------- */

static bool cfg_push(void **arr, size_t *n, size_t *cap, size_t elem)
{
    if (*n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return false;
    memset((char *)p + *cap * elem, 0, (ncap - *cap) * elem);
    *arr = p;
    *cap = ncap;
    return true;
}

static bool cfg_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SF_MAX_NAME_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static void cfg_kvs_free(cfg_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static bool cfg_kv_append(cfg_kv **kv, size_t *n, size_t *cap, const char *key, const char *value,
                          int line)
{
    if (!cfg_push((void **)kv, n, cap, sizeof **kv))
        return false;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return false;
    }
    (*kv)[*n] = (cfg_kv){.key = k, .value = v, .line = line};
    (*n)++;
    return true;
}

/* ---- "did you mean" -------------------------------------------------------------------- */

/* Optimal-string-alignment distance (a transposition costs 1), case-insensitive. */
static size_t cfg_edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t rows[3][SF_MAX_NAME_LEN + 2];
    size_t *pp = rows[0], *p = rows[1], *c = rows[2];
    for (size_t j = 0; j <= lb; j++)
        p[j] = j;
    for (size_t i = 1; i <= la; i++) {
        c[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            int ai = tolower((unsigned char)a[i - 1]), bj = tolower((unsigned char)b[j - 1]);
            size_t cost = ai != bj;
            size_t v = p[j] + 1;
            if (c[j - 1] + 1 < v)
                v = c[j - 1] + 1;
            if (p[j - 1] + cost < v)
                v = p[j - 1] + cost;
            if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == bj && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            c[j] = v;
        }
        size_t *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[lb];
}

const char *suggest_closest(const char *word, const char *const *candidates, size_t n)
{
    if (!word || !candidates)
        return NULL;
    size_t lw = strlen(word);
    if (lw == 0 || lw > SF_MAX_NAME_LEN)
        return NULL;
    /* Short words get a tighter bound, or "of" would suggest every 3-letter key. */
    size_t maxd = lw / 3 < 1 ? 1 : (lw / 3 > 2 ? 2 : lw / 3);
    const char *best = NULL;
    size_t bestd = maxd + 1;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i])
            continue;
        size_t lc = strlen(candidates[i]);
        if (lc > SF_MAX_NAME_LEN)
            continue;
        size_t dist = cfg_edit_distance(word, lw, candidates[i], lc);
        if (dist < bestd) {
            bestd = dist;
            best = candidates[i];
        }
    }
    return best;
}

/* " (did you mean `x`?)" or "" into buf. */
static const char *cfg_hint(char *buf, size_t len, const char *word, const char *const *cands,
                            size_t n)
{
    const char *s = suggest_closest(word, cands, n);
    if (s)
        snprintf(buf, len, " (did you mean `%s`?)", s);
    else
        buf[0] = '\0';
    return buf;
}

/* ---- secrets --------------------------------------------------------------------------- */

static char *cfg_secret_from_file(const char *path, char *err, size_t errlen)
{
    char *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read secret file %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "secret file %s is not a regular file", path);
        goto done;
    }
    if (st.st_mode & (S_IRGRP | S_IROTH))
        log_warn(NULL, "secret file %s is readable by group or others: chmod 600 it", path);
    out = malloc(SF_MAX_SECRET_LEN + 2);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    size_t n = fread(out, 1, SF_MAX_SECRET_LEN + 2, f);
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read secret file %s", path);
        goto fail;
    }
    if (n > 0 && out[n - 1] == '\n')
        n--; /* one trailing newline, as `echo secret > file` leaves */
    if (n > 0 && out[n - 1] == '\r')
        n--;
    if (n > SF_MAX_SECRET_LEN) {
        snprintf(err, errlen, "secret file %s is longer than %d bytes", path, SF_MAX_SECRET_LEN);
        goto fail;
    }
    if (n == 0 || memchr(out, '\0', n)) {
        snprintf(err, errlen, "secret file %s is empty or binary", path);
        goto fail;
    }
    out[n] = '\0';
    goto done;
fail:
    free(out);
    out = NULL;
done:
    fclose(f);
    return out;
}

char *secret_resolve(const char *spec, char *err, size_t errlen)
{
    if (!spec)
        spec = "";
    if (strncmp(spec, "env:", 4) == 0) {
        const char *name = spec + 4;
        if (!*name) {
            snprintf(err, errlen, "env: needs a variable name (env:NAME)");
            return NULL;
        }
        const char *v = getenv(name);
        if (!v || !*v) {
            /* Name the variable, never its value. */
            snprintf(err, errlen, "environment variable %s is %s", name, v ? "empty" : "not set");
            return NULL;
        }
        if (strlen(v) > SF_MAX_SECRET_LEN) {
            snprintf(err, errlen, "environment variable %s is longer than %d bytes", name,
                     SF_MAX_SECRET_LEN);
            return NULL;
        }
        char *out = strdup(v);
        if (!out)
            snprintf(err, errlen, "out of memory");
        return out;
    }
    if (strncmp(spec, "file:", 5) == 0) {
        if (!spec[5]) {
            snprintf(err, errlen, "file: needs a path (file:/path)");
            return NULL;
        }
        return cfg_secret_from_file(spec + 5, err, errlen);
    }
    snprintf(err, errlen, "secrets are never written in INI: use env:NAME or file:/path");
    return NULL;
}

/* ---- typed values ---------------------------------------------------------------------- */

static bool cfg_number(cfg_loader *ld, const cfg_kv *kv, double *out)
{
    const char *s = kv->value;
    /* strtod also reads "inf", "nan" and hex: only plain decimal notation is accepted. */
    bool ok = *s != '\0' && strspn(s, "0123456789+-.eE") == strlen(s);
    char *end = NULL;
    errno = 0;
    double v = ok ? strtod(s, &end) : 0;
    if (!ok || *end || errno == ERANGE || !isfinite(v)) {
        CFG_ERR(ld, kv->line, "`%s` must be a number, got `%s`", kv->key, s);
        return false;
    }
    *out = v;
    return true;
}

static bool cfg_integer(cfg_loader *ld, const cfg_kv *kv, long long min, long long max,
                        long long *out)
{
    const char *s = kv->value;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || isspace((unsigned char)*s) || *end || errno == ERANGE) {
        CFG_ERR(ld, kv->line, "`%s` must be an integer, got `%s`", kv->key, s);
        return false;
    }
    if (v < min || v > max) {
        CFG_ERR(ld, kv->line, "`%s` must be between %lld and %lld, got %lld", kv->key, min, max, v);
        return false;
    }
    *out = v;
    return true;
}

static bool cfg_duration(cfg_loader *ld, const cfg_kv *kv, bool positive, int64_t *out)
{
    if (duration_parse(kv->value, out) != 0) {
        CFG_ERR(ld, kv->line,
                "`%s` must be a duration such as 30s, 5m, 7d (units ms s m h d w), got `%s`",
                kv->key, kv->value);
        return false;
    }
    if (positive && *out <= 0) {
        CFG_ERR(ld, kv->line, "`%s` must be longer than 0", kv->key);
        return false;
    }
    return true;
}

static bool cfg_choice(cfg_loader *ld, const cfg_kv *kv, const char *const *choices, size_t n,
                       int *out)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(kv->value, choices[i]) == 0) {
            *out = (int)i;
            return true;
        }
    }
    char list[256] = "", hint[96];
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", choices[i]);
    }
    CFG_ERR(ld, kv->line, "`%s` must be one of %s, got `%s`%s", kv->key, list, kv->value,
            cfg_hint(hint, sizeof hint, kv->value, choices, n));
    return false;
}

static bool cfg_string(cfg_loader *ld, const cfg_kv *kv, size_t max, char **out)
{
    if (!kv->value[0]) {
        CFG_ERR(ld, kv->line, "`%s` is empty", kv->key);
        return false;
    }
    if (strlen(kv->value) > max) {
        CFG_ERR(ld, kv->line, "`%s` is longer than %zu bytes", kv->key, max);
        return false;
    }
    char *s = strdup(kv->value);
    if (!s) {
        CFG_ERR(ld, kv->line, "out of memory");
        return false;
    }
    free(*out);
    *out = s;
    return true;
}

static const cfg_kv *cfg_raw_get(const cfg_loader *ld, const char *key)
{
    for (size_t i = 0; i < ld->n_raw; i++)
        if (strcmp(ld->raw[i].key, key) == 0)
            return &ld->raw[i];
    return NULL;
}

/* Unknown keys of a typed section, each with a suggestion from `known`. */
static void cfg_check_known(cfg_loader *ld, const char *what, const char *const *known, size_t n)
{
    for (size_t i = 0; i < ld->n_raw; i++) {
        bool found = false;
        for (size_t k = 0; k < n && !found; k++)
            found = strcmp(ld->raw[i].key, known[k]) == 0;
        if (!found) {
            char hint[96];
            CFG_ERR(ld, ld->raw[i].line, "unknown key `%s` in %s%s", ld->raw[i].key, what,
                    cfg_hint(hint, sizeof hint, ld->raw[i].key, known, n));
        }
    }
}

/* ---- [sigflow] ------------------------------------------------------------------------- */

static char *cfg_resolve_dir(const sf_config *cfg, const char *dir)
{
    if (dir[0] == '/' || strcmp(cfg->base_dir, ".") == 0)
        return strdup(dir);
    size_t n = strlen(cfg->base_dir) + strlen(dir) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", cfg->base_dir, dir);
    return out;
}

static bool cfg_admin_ok(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return false;
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    return colon[1] && !*end && port >= 1 && port <= 65535;
}

static void cfg_apply_sigflow(cfg_loader *ld)
{
    static const char *const known[] = {"state_dir", "plugin_dir", "admin", "admin_token",
                                        "shards",    "queue_size", "clock", "log_level"};
    static const char *const clocks[] = {"wall", "event"};
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    sf_config *cfg = ld->cfg;
    const cfg_kv *kv;
    cfg_check_known(ld, "[sigflow]", known, sizeof known / sizeof known[0]);
    char *dir = NULL;
    if ((kv = cfg_raw_get(ld, "state_dir")) && cfg_string(ld, kv, 4096, &dir)) {
        free(cfg->state_dir);
        cfg->state_dir = dir;
        dir = NULL;
    }
    if ((kv = cfg_raw_get(ld, "plugin_dir")) && cfg_string(ld, kv, 4096, &dir)) {
        free(cfg->plugin_dir);
        cfg->plugin_dir = dir;
    }
    if ((kv = cfg_raw_get(ld, "admin")) && cfg_string(ld, kv, 256, &cfg->admin) &&
        !cfg_admin_ok(cfg->admin))
        CFG_ERR(ld, kv->line, "`admin` must be host:port, got `%s`", kv->value);
    if ((kv = cfg_raw_get(ld, "admin_token"))) {
        char err[SF_MAX_ERROR_LEN];
        cfg->admin_token = secret_resolve(kv->value, err, sizeof err);
        if (!cfg->admin_token)
            CFG_ERR(ld, kv->line, "`admin_token`: %s", err);
    }
    long long v;
    if ((kv = cfg_raw_get(ld, "shards")) && cfg_integer(ld, kv, 1, 1024, &v))
        cfg->shards = (int)v;
    if ((kv = cfg_raw_get(ld, "queue_size")) && cfg_integer(ld, kv, 16, 16 << 20, &v))
        cfg->queue_size = v;
    int c = 0;
    if ((kv = cfg_raw_get(ld, "clock")) && cfg_choice(ld, kv, clocks, 2, &c))
        cfg->clock = c == 0 ? CLOCK_WALL : CLOCK_EVENT;
    if ((kv = cfg_raw_get(ld, "log_level")) && cfg_choice(ld, kv, levels, 4, &c))
        cfg_string(ld, kv, 16, &cfg->log_level);
}

/* ---- [decision] ------------------------------------------------------------------------ */

static void cfg_apply_deliver(cfg_loader *ld, const cfg_kv *kv)
{
    cfg_decision *dec = &ld->cfg->decision;
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
        if (!name || !cfg_push((void **)&dec->deliver, &dec->n_deliver, &cap, sizeof(char *))) {
            free(name);
            CFG_ERR(ld, kv->line, "out of memory");
            return;
        }
        if (!cfg_name_ok(name))
            CFG_ERR(ld, kv->line, "`deliver` lists `%s`, which is not a valid name", name);
        dec->deliver[dec->n_deliver++] = name;
        p += n;
        if (*p == ',')
            p++;
    }
}

static void cfg_apply_decision(cfg_loader *ld)
{
    static const char *const known[] = {"name",        "question", "bias", "threshold",
                                        "rearm_below", "cooldown", "tick", "deliver"};
    cfg_decision *dec = &ld->cfg->decision;
    const cfg_kv *kv;
    cfg_check_known(ld, "[decision]", known, sizeof known / sizeof known[0]);
    if (!(kv = cfg_raw_get(ld, "name")))
        CFG_ERR(ld, ld->sec_line, "[decision] needs `name =`");
    else if (cfg_string(ld, kv, SF_MAX_NAME_LEN, &dec->name) && !cfg_name_ok(dec->name))
        CFG_ERR(ld, kv->line, "decision name `%s` may only use a-z 0-9 _ . -", kv->value);
    if ((kv = cfg_raw_get(ld, "question")))
        cfg_string(ld, kv, SF_MAX_TEMPLATE_LEN, &dec->question);
    if ((kv = cfg_raw_get(ld, "bias")))
        cfg_number(ld, kv, &dec->bias);
    const cfg_kv *th = cfg_raw_get(ld, "threshold");
    bool th_ok = false;
    if (!th)
        CFG_ERR(ld, ld->sec_line, "[decision] needs `threshold =` (a probability in (0,1))");
    else if (cfg_number(ld, th, &dec->threshold)) {
        th_ok = dec->threshold > 0 && dec->threshold < 1;
        if (!th_ok)
            CFG_ERR(ld, th->line, "`threshold` must be between 0 and 1 (exclusive), got %s",
                    th->value);
    }
    dec->rearm_below = dec->threshold;
    if ((kv = cfg_raw_get(ld, "rearm_below")) && cfg_number(ld, kv, &dec->rearm_below) &&
        (dec->rearm_below < 0 || (th_ok && dec->rearm_below > dec->threshold)))
        CFG_ERR(ld, kv->line, "`rearm_below` must be between 0 and threshold (%s), got %s",
                th_ok ? th->value : "?", kv->value);
    if ((kv = cfg_raw_get(ld, "cooldown")))
        cfg_duration(ld, kv, false, &dec->cooldown_ms);
    if ((kv = cfg_raw_get(ld, "tick")))
        cfg_duration(ld, kv, true, &dec->tick_ms);
    if ((kv = cfg_raw_get(ld, "deliver")))
        cfg_apply_deliver(ld, kv);
}

/* ---- [signal NAME] --------------------------------------------------------------------- */

static const char *const cfg_measures[] = {"drop",   "rise",        "count",      "recent",
                                           "absent", "value_below", "value_above"};
static const char *const cfg_signal_keys[] = {"event",   "measure", "of",    "weight",
                                              "explain", "recent",  "usual", "span",
                                              "window",  "cap",     "limit"};
#define CFG_N_SIGNAL_COMMON 4 /* event, measure, weight, explain: valid for every measure */

/* The measure-specific keys each measure takes; the first `required` of them are required. */
static const struct {
    const char *keys[4];
    size_t n, required;
} cfg_measure_keys[] = {
    [MEASURE_DROP] = {{"recent", "usual", "of"}, 3, 2},
    [MEASURE_RISE] = {{"recent", "usual", "span", "of"}, 4, 2},
    [MEASURE_COUNT] = {{"window", "cap"}, 2, 2},
    [MEASURE_RECENT] = {{"window"}, 1, 1},
    [MEASURE_ABSENT] = {{"window"}, 1, 1},
    [MEASURE_VALUE_BELOW] = {{"limit"}, 1, 1},
    [MEASURE_VALUE_ABOVE] = {{"limit"}, 1, 1},
};

static bool cfg_measure_takes(measure_kind m, const char *key)
{
    static const char *const common[] = {"event", "measure", "weight", "explain"};
    for (size_t i = 0; i < CFG_N_SIGNAL_COMMON; i++)
        if (strcmp(key, common[i]) == 0)
            return true;
    for (size_t i = 0; i < cfg_measure_keys[m].n; i++)
        if (strcmp(key, cfg_measure_keys[m].keys[i]) == 0)
            return true;
    return false;
}

/* Keys of the measure: presence, keys that belong to another measure. */
static void cfg_check_measure_keys(cfg_loader *ld, const cfg_signal *sig)
{
    const char *mname = cfg_measures[sig->measure];
    for (size_t i = 0; i < cfg_measure_keys[sig->measure].required; i++) {
        const char *k = cfg_measure_keys[sig->measure].keys[i];
        if (!cfg_raw_get(ld, k))
            CFG_ERR(ld, sig->line, "[signal %s]: measure %s needs `%s =`", sig->name, mname, k);
    }
    size_t nk = sizeof cfg_signal_keys / sizeof cfg_signal_keys[0];
    for (size_t i = 0; i < ld->n_raw; i++) {
        const char *k = ld->raw[i].key;
        bool known = false;
        for (size_t j = 0; j < nk && !known; j++)
            known = strcmp(k, cfg_signal_keys[j]) == 0;
        if (known && !cfg_measure_takes(sig->measure, k))
            CFG_ERR(ld, ld->raw[i].line, "`%s` is not used by measure %s", k, mname);
    }
}

static void cfg_signal_durations(cfg_loader *ld, cfg_signal *sig)
{
    const cfg_kv *kv;
    bool r_ok = false, u_ok = false;
    if ((kv = cfg_raw_get(ld, "recent")))
        r_ok = cfg_duration(ld, kv, true, &sig->recent_ms);
    const cfg_kv *ukv = cfg_raw_get(ld, "usual");
    if (ukv)
        u_ok = cfg_duration(ld, ukv, true, &sig->usual_ms);
    if (r_ok && u_ok && sig->recent_ms >= sig->usual_ms)
        CFG_ERR(ld, ukv->line, "`usual` (%s) must be longer than `recent` (%s)", ukv->value,
                kv->value);
    if ((kv = cfg_raw_get(ld, "window")))
        cfg_duration(ld, kv, true, &sig->window_ms);
}

static void cfg_signal_numbers(cfg_loader *ld, cfg_signal *sig)
{
    const cfg_kv *kv;
    if ((kv = cfg_raw_get(ld, "weight")))
        cfg_number(ld, kv, &sig->weight);
    if ((kv = cfg_raw_get(ld, "span")) && cfg_number(ld, kv, &sig->span) && sig->span <= 0)
        CFG_ERR(ld, kv->line, "`span` must be greater than 0, got %s", kv->value);
    if ((kv = cfg_raw_get(ld, "cap")) && cfg_number(ld, kv, &sig->cap) && sig->cap <= 0)
        CFG_ERR(ld, kv->line, "`cap` must be greater than 0, got %s", kv->value);
    if ((kv = cfg_raw_get(ld, "limit")))
        cfg_number(ld, kv, &sig->limit);
}

static void cfg_apply_signal(cfg_loader *ld)
{
    static const char *const ofs[] = {"count", "value"};
    cfg_signal *sig = &ld->cfg->signals[ld->sec_index];
    char what[SF_MAX_NAME_LEN + 16];
    snprintf(what, sizeof what, "[signal %s]", sig->name);
    cfg_check_known(ld, what, cfg_signal_keys, sizeof cfg_signal_keys / sizeof(char *));
    const cfg_kv *kv;
    if (!(kv = cfg_raw_get(ld, "event")))
        CFG_ERR(ld, sig->line, "[signal %s] needs `event =` (the event type it reads)", sig->name);
    else
        cfg_string(ld, kv, SF_MAX_TYPE_LEN, &sig->event);
    int m = -1;
    if (!(kv = cfg_raw_get(ld, "measure")))
        CFG_ERR(ld, sig->line,
                "[signal %s] needs `measure =` (drop, rise, count, recent, "
                "absent, value_below or value_above)",
                sig->name);
    else if (cfg_choice(ld, kv, cfg_measures, sizeof cfg_measures / sizeof(char *), &m)) {
        sig->measure = (measure_kind)m;
        cfg_check_measure_keys(ld, sig);
    }
    int of = 0;
    if ((kv = cfg_raw_get(ld, "of")) && cfg_choice(ld, kv, ofs, 2, &of))
        sig->of_value = of == 1;
    if ((kv = cfg_raw_get(ld, "explain")))
        cfg_string(ld, kv, SF_MAX_TEMPLATE_LEN, &sig->explain);
    cfg_signal_durations(ld, sig);
    cfg_signal_numbers(ld, sig);
}

/* ---- sections -------------------------------------------------------------------------- */

static void cfg_close_section(cfg_loader *ld)
{
    switch (ld->kind) {
    case SEC_SIGFLOW:
        cfg_apply_sigflow(ld);
        break;
    case SEC_DECISION:
        cfg_apply_decision(ld);
        break;
    case SEC_SIGNAL:
        cfg_apply_signal(ld);
        break;
    case SEC_CONNECTOR:
    case SEC_DELIVERY: {
        cfg_instance *in = ld->kind == SEC_CONNECTOR ? &ld->cfg->connectors[ld->sec_index]
                                                     : &ld->cfg->deliveries[ld->sec_index];
        if (!in->plugin)
            CFG_ERR(ld, in->line, "[%s %s] needs `plugin =` (the plugin that runs it)",
                    ld->kind == SEC_CONNECTOR ? "connector" : "delivery", in->name);
        break;
    }
    default:
        break;
    }
    cfg_kvs_free(ld->raw, ld->n_raw);
    ld->raw = NULL;
    ld->n_raw = ld->cap_raw = 0;
    ld->kind = SEC_NONE;
}

/* The line of an existing signal or instance named `name`, or 0. */
static int cfg_name_taken(const sf_config *cfg, sec_kind kind, const char *name, const char **what)
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

static bool cfg_open_named(cfg_loader *ld, sec_kind kind, const char *kname, const char *name)
{
    sf_config *cfg = ld->cfg;
    const char *other = NULL;
    int prev;
    if (!*name) {
        CFG_ERR(ld, ld->lineno, "[%s] needs a name: [%s NAME]", kname, kname);
        return false;
    }
    if (!cfg_name_ok(name)) {
        CFG_ERR(ld, ld->lineno, "bad name `%s`: use 1 to %d of a-z 0-9 _ . -", name,
                SF_MAX_NAME_LEN);
        return false;
    }
    if ((prev = cfg_name_taken(cfg, kind, name, &other))) {
        CFG_ERR(ld, ld->lineno, "[%s %s] has the same name as [%s %s] at line %d", kname, name,
                other, name, prev);
        return false;
    }
    size_t *n = kind == SEC_SIGNAL      ? &cfg->n_signals
                : kind == SEC_CONNECTOR ? &cfg->n_connectors
                                        : &cfg->n_deliveries;
    if (kind == SEC_SIGNAL ? *n >= SF_MAX_SIGNALS
                           : cfg->n_connectors + cfg->n_deliveries >= SF_MAX_INSTANCES) {
        CFG_ERR(ld, ld->lineno, "too many [%s] sections (at most %d)", kname,
                kind == SEC_SIGNAL ? SF_MAX_SIGNALS : SF_MAX_INSTANCES);
        return false;
    }
    /* Arrays are sized to their limit up front: no realloc while indexes are held. */
    char *copy = strdup(name);
    if (!copy) {
        CFG_ERR(ld, ld->lineno, "out of memory");
        return false;
    }
    if (kind == SEC_SIGNAL) {
        cfg->signals[*n] = (cfg_signal){.name = copy, .line = ld->lineno, .weight = 1, .span = 1};
    } else {
        cfg_instance *arr = kind == SEC_CONNECTOR ? cfg->connectors : cfg->deliveries;
        arr[*n] =
            (cfg_instance){.name = copy,
                           .line = ld->lineno,
                           .kind = kind == SEC_CONNECTOR ? SF_KIND_CONNECTOR : SF_KIND_DELIVERY};
    }
    ld->sec_index = (*n)++;
    return true;
}

static void cfg_open_section(cfg_loader *ld, char *hdr)
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
        kind = cfg_open_named(ld, SEC_SIGNAL, hdr, name) ? SEC_SIGNAL : SEC_BAD;
    } else if (strcmp(hdr, "connector") == 0) {
        kind = cfg_open_named(ld, SEC_CONNECTOR, hdr, name) ? SEC_CONNECTOR : SEC_BAD;
    } else if (strcmp(hdr, "delivery") == 0) {
        kind = cfg_open_named(ld, SEC_DELIVERY, hdr, name) ? SEC_DELIVERY : SEC_BAD;
    } else {
        char hint[96];
        CFG_ERR(ld, line,
                "unknown section kind `%s`%s; sections are [sigflow], [decision], "
                "[signal NAME], [connector NAME], [delivery NAME]",
                hdr, cfg_hint(hint, sizeof hint, hdr, cfg_section_kinds, 5));
    }
    ld->kind = kind;
    ld->sec_line = line;
}

/* ---- the line reader and the inih handler ---------------------------------------------- */

/* A section header line: "[...]" with an optional comment after it. */
static void cfg_header_line(cfg_loader *ld, char *p)
{
    cfg_close_section(ld);
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
    cfg_open_section(ld, h);
}

/*
 * fgets-style reader for ini_parse_stream. Lines inih would reject (or misread) are reported
 * here with their line number and handed to inih as a comment, so parsing goes on.
 */
static char *cfg_reader(char *str, int num, void *stream)
{
    cfg_loader *ld = stream;
    if (!fgets(ld->buf, sizeof ld->buf, ld->f))
        return NULL;
    ld->lineno++;
    size_t len = strlen(ld->buf);
    if (len == sizeof ld->buf - 1 && ld->buf[len - 1] != '\n') {
        int c;
        while ((c = fgetc(ld->f)) != EOF && c != '\n')
            ;
        CFG_ERR(ld, ld->lineno, "line longer than %d bytes", SF_MAX_CONFIG_LINE);
        snprintf(str, (size_t)num, ";\n");
        return str;
    }
    char *p = ld->buf;
    if (ld->lineno == 1 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '[') {
        cfg_header_line(ld, p);
        snprintf(str, (size_t)num, ";\n");
    } else if (*p && *p != ';' && *p != '#' && !strpbrk(p, "=:")) {
        CFG_ERR(ld, ld->lineno, "expected `key = value` or a [section] header");
        snprintf(str, (size_t)num, ";\n");
    } else {
        snprintf(str, (size_t)num, "%s", p);
    }
    return str;
}

static int cfg_handler(void *user, const char *section, const char *name, const char *value)
{
    (void)section; /* sections are tracked by cfg_reader, which saw the header first */
    cfg_loader *ld = user;
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
        cfg_instance *in = ld->kind == SEC_CONNECTOR ? &ld->cfg->connectors[ld->sec_index]
                                                     : &ld->cfg->deliveries[ld->sec_index];
        int prev = strcmp(name, "plugin") == 0 ? in->plugin_line : 0;
        for (size_t i = 0; i < in->n_kv && !prev; i++)
            if (strcmp(in->kv[i].key, name) == 0)
                prev = in->kv[i].line;
        if (prev) {
            CFG_ERR(ld, line, "`%s` is set twice (first at line %d)", name, prev);
        } else if (strcmp(name, "plugin") == 0) {
            in->plugin_line = line;
            if (!cfg_name_ok(value))
                CFG_ERR(ld, line, "bad plugin name `%s`: use 1 to %d of a-z 0-9 _ . -", value,
                        SF_MAX_NAME_LEN);
            else
                ok = (in->plugin = strdup(value)) != NULL;
        } else {
            size_t cap = in->n_kv; /* grown one at a time: kv arrays stay small */
            ok = cfg_kv_append(&in->kv, &in->n_kv, &cap, name, value, line);
        }
        break;
    }
    default: {
        const cfg_kv *prev = cfg_raw_get(ld, name);
        if (prev)
            CFG_ERR(ld, line, "`%s` is set twice (first at line %d)", name, prev->line);
        else
            ok = cfg_kv_append(&ld->raw, &ld->n_raw, &ld->cap_raw, name, value, line);
    }
    }
    if (!ok)
        CFG_ERR(ld, line, "out of memory");
    return 1;
}

/* ---- whole-file checks, load, free ----------------------------------------------------- */

static void cfg_check_whole(cfg_loader *ld)
{
    sf_config *cfg = ld->cfg;
    if (cfg->n_signals && !cfg->has_decision)
        CFG_ERR(ld, cfg->signals[0].line, "[signal %s] has no [decision] to belong to",
                cfg->signals[0].name);
    if (cfg->has_decision && !cfg->n_signals)
        CFG_ERR(ld, cfg->decision.line, "[decision] has no [signal NAME] sections");
    const char *names[SF_MAX_INSTANCES];
    for (size_t i = 0; i < cfg->n_deliveries; i++)
        names[i] = cfg->deliveries[i].name;
    for (size_t i = 0; i < cfg->decision.n_deliver; i++) {
        const char *want = cfg->decision.deliver[i];
        bool found = false;
        for (size_t j = 0; j < cfg->n_deliveries && !found; j++)
            found = strcmp(names[j], want) == 0;
        if (!found && cfg_name_ok(want)) {
            char hint[96];
            CFG_ERR(ld, ld->deliver_line,
                    "`deliver` names `%s`, which is not a [delivery] "
                    "section%s",
                    want, cfg_hint(hint, sizeof hint, want, names, cfg->n_deliveries));
        }
    }
}

static char *cfg_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static sf_config *cfg_new(const char *path)
{
    sf_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->shards = cores < 1 ? 1 : cores > 1024 ? 1024 : (int)cores;
    cfg->queue_size = 65536;
    cfg->clock = CLOCK_WALL;
    cfg->decision.tick_ms = 3600000;
    cfg->path = strdup(path);
    cfg->base_dir = cfg_dirname(path);
    cfg->state_dir = strdup("var");
    cfg->plugin_dir = strdup("plugins");
    cfg->admin = strdup("127.0.0.1:9464");
    cfg->log_level = strdup("info");
    cfg->signals = calloc(SF_MAX_SIGNALS, sizeof *cfg->signals);
    cfg->connectors = calloc(SF_MAX_INSTANCES, sizeof *cfg->connectors);
    cfg->deliveries = calloc(SF_MAX_INSTANCES, sizeof *cfg->deliveries);
    if (!cfg->path || !cfg->base_dir || !cfg->state_dir || !cfg->plugin_dir || !cfg->admin ||
        !cfg->log_level || !cfg->signals || !cfg->connectors || !cfg->deliveries) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* state_dir and plugin_dir are relative to the config file, not to the working directory. */
static bool cfg_resolve_dirs(sf_config *cfg)
{
    char *s = cfg_resolve_dir(cfg, cfg->state_dir);
    char *p = cfg_resolve_dir(cfg, cfg->plugin_dir);
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

static void cfg_configure_inih(void)
{
    /* Heap line buffer sized for our longest line; no Python-style continuation lines. */
    ini_use_stack = false;
    ini_allow_realloc = false;
    ini_max_line = SF_MAX_CONFIG_LINE + 3;
    ini_initial_alloc = SF_MAX_CONFIG_LINE + 3;
    ini_allow_multiline = false;
    ini_allow_no_value = false;
    ini_stop_on_first_error = false;
}

sf_config *config_load(const char *path, diag *d)
{
    cfg_loader *ld = calloc(1, sizeof *ld);
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
    ld->cfg = cfg_new(path);
    if (!ld->cfg) {
        diag_add(d, path, 0, "out of memory");
        goto fail;
    }
    cfg_configure_inih();
    int rc = ini_parse_stream(cfg_reader, ld, cfg_handler, ld);
    cfg_close_section(ld);
    if (ferror(ld->f))
        diag_add(d, path, 0, "read error");
    else if (rc == -2)
        diag_add(d, path, 0, "out of memory");
    else if (rc != 0 && d->n == ld->errs_before)
        diag_add(d, path, rc, "syntax error");
    cfg_check_whole(ld);
    if (d->n == ld->errs_before && !cfg_resolve_dirs(ld->cfg))
        diag_add(d, path, 0, "out of memory");
    if (d->n != ld->errs_before)
        goto fail;
    sf_config *cfg = ld->cfg;
    fclose(ld->f);
    free(ld);
    return cfg;
fail:
    if (ld->f)
        fclose(ld->f);
    cfg_kvs_free(ld->raw, ld->n_raw);
    config_free(ld->cfg);
    free(ld);
    return NULL;
}

static void cfg_instances_free(cfg_instance *arr, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(arr[i].name);
        free(arr[i].plugin);
        cfg_kvs_free(arr[i].kv, arr[i].n_kv);
    }
    free(arr);
}

void config_free(sf_config *cfg)
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
    free(cfg->log_level);
    free(cfg->decision.name);
    free(cfg->decision.question);
    for (size_t i = 0; i < cfg->decision.n_deliver; i++)
        free(cfg->decision.deliver[i]);
    free(cfg->decision.deliver);
    for (size_t i = 0; i < cfg->n_signals; i++) {
        free(cfg->signals[i].name);
        free(cfg->signals[i].event);
        free(cfg->signals[i].explain);
    }
    free(cfg->signals);
    cfg_instances_free(cfg->connectors, cfg->n_connectors);
    cfg_instances_free(cfg->deliveries, cfg->n_deliveries);
    free(cfg);
}

const cfg_instance *config_find_instance(const sf_config *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->n_connectors; i++)
        if (strcmp(cfg->connectors[i].name, name) == 0)
            return &cfg->connectors[i];
    for (size_t i = 0; cfg && name && i < cfg->n_deliveries; i++)
        if (strcmp(cfg->deliveries[i].name, name) == 0)
            return &cfg->deliveries[i];
    return NULL;
}
