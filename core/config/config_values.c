/*
 * config_values.c - the typed values of a config section shared by every file of the config
 * module: numbers, integers, durations, choices and strings (each reports FILE:LINE and returns
 * false when the value is bad), the raw keys of the open section, unknown-key checks, names,
 * and the growable arrays. The leaf of the module: config.c (INI mechanics),
 * config_sections.c, config_guards.c and config_learn.c call it; it calls timefmt, suggest,
 * diag.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/timefmt.h"
#include "config/config_internal.h"
#include "config/suggest.h"

bool config__push(void **arr, size_t *n, size_t *cap, size_t elem)
{
    size_t old = *cap;
    if (!array_grow(arr, *n, cap, elem, 8))
        return false;
    memset((char *)*arr + old * elem, 0, (*cap - old) * elem); /* new room cleared */
    return true;
}

bool config__name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SIGFLOW_MAX_NAME_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

bool config__number(config_loader *ld, const config_kv *kv, double *out)
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

bool config__integer(config_loader *ld, const config_kv *kv, long long min, long long max,
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

bool config__duration(config_loader *ld, const config_kv *kv, bool positive, int64_t *out)
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

bool config__choice(config_loader *ld, const config_kv *kv, const char *const *choices, size_t n,
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
            suggest_hint(hint, sizeof hint, kv->value, choices, n));
    return false;
}

bool config__string(config_loader *ld, const config_kv *kv, size_t max, char **out)
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

const config_kv *config__raw_get(const config_loader *ld, const char *key)
{
    for (size_t i = 0; i < ld->n_raw; i++)
        if (strcmp(ld->raw[i].key, key) == 0)
            return &ld->raw[i];
    return NULL;
}

/* Unknown keys of a typed section, each with a suggestion from `known`. */
void config__check_known(config_loader *ld, const char *what, const char *const *known, size_t n)
{
    for (size_t i = 0; i < ld->n_raw; i++) {
        bool found = false;
        for (size_t k = 0; k < n && !found; k++)
            found = strcmp(ld->raw[i].key, known[k]) == 0;
        if (!found) {
            char hint[96];
            CFG_ERR(ld, ld->raw[i].line, "unknown key `%s` in %s%s", ld->raw[i].key, what,
                    suggest_hint(hint, sizeof hint, ld->raw[i].key, known, n));
        }
    }
}
