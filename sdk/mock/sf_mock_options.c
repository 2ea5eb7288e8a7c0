/* SPDX-License-Identifier: MIT */
/*
 * sf_mock_options.c - an instance's options as the real host gives them to a plugin: the
 * table's opt_* getters (a secret reads as its resolved value, never as its env:/file: text),
 * sf_mock_set_option, and sf_mock_validate_options with the host's checks of each declared
 * type. Owns the instance's option list (freed by sf_mock_free_options). Calls
 * sf_mock_secret.c. Used by sf_mock_host.c (the table, create, free) and plugin tests.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sf_mock_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const sf_option *mock_declared(sf_instance *inst, const char *name)
{
    if (!inst->plugin || !inst->plugin->options)
        return NULL;
    for (const sf_option *o = inst->plugin->options; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

/* The SF_OPT_PREFIX declaration a key such as "headers.Accept" falls under. */
static const sf_option *mock_prefix_decl(sf_instance *inst, const char *key)
{
    for (const sf_option *o = inst->plugin ? inst->plugin->options : NULL; o && o->name; o++) {
        size_t l = strlen(o->name);
        if ((o->flags & SF_OPT_PREFIX) && strncmp(key, o->name, l) == 0 && key[l])
            return o;
    }
    return NULL;
}

/* Declared SF_OPT_SECRET, directly or under an SF_OPT_PREFIX secret ("secret.")? */
static bool mock_is_secret(sf_instance *inst, const char *key)
{
    const sf_option *o = mock_declared(inst, key);
    if (!o)
        o = mock_prefix_decl(inst, key);
    return o && o->type == SF_OPT_SECRET;
}

/* Resolve a secret option's text as the host does; the reason for a refusal goes to err. */
static sf_status mock_resolve_secret(mock_kv *kv, char *err, size_t errlen)
{
    char why[256] = "";
    free(kv->secret);
    kv->secret = sf_mock_secret_resolve(kv->value, why, sizeof why);
    if (kv->secret)
        return SF_OK;
    snprintf(err, errlen, "%s: %s", kv->name, why);
    return SF_EINVAL;
}

static mock_kv *mock_find_opt(sf_instance *inst, const char *name)
{
    for (size_t i = 0; i < inst->n_opts; i++)
        if (strcmp(inst->opts[i].name, name) == 0)
            return &inst->opts[i];
    return NULL;
}

static const char *mock_opt_prefixed(sf_instance *inst, const char *prefix, size_t i,
                                     const char **suffix)
{
    size_t l = prefix ? strlen(prefix) : 0;
    for (size_t k = 0; inst && l && k < inst->n_opts; k++) {
        if (strncmp(inst->opts[k].name, prefix, l) != 0 || !inst->opts[k].name[l] || i-- > 0)
            continue;
        if (suffix)
            *suffix = inst->opts[k].name + l;
        return mock_is_secret(inst, inst->opts[k].name) ? inst->opts[k].secret
                                                        : inst->opts[k].value;
    }
    return NULL;
}

static const char *mock_instance_name(sf_instance *inst)
{
    return inst ? inst->name : "";
}

static bool mock_opt_is_set(sf_instance *inst, const char *name)
{
    return inst && name && mock_find_opt(inst, name) != NULL;
}

static const char *mock_opt_string(sf_instance *inst, const char *name)
{
    if (!inst || !name)
        return NULL;
    mock_kv *kv = mock_find_opt(inst, name);
    if (kv) /* a secret reads as its value, never as the env:/file: text */
        return mock_is_secret(inst, name) ? kv->secret : kv->value;
    const sf_option *o = mock_declared(inst, name);
    return o ? o->default_value : NULL;
}

static int64_t mock_opt_int(sf_instance *inst, const char *name)
{
    const char *v = mock_opt_string(inst, name);
    return v ? strtoll(v, NULL, 10) : 0;
}

static double mock_opt_double(sf_instance *inst, const char *name)
{
    const char *v = mock_opt_string(inst, name);
    return v ? strtod(v, NULL) : 0.0;
}

static int mock_parse_bool(const char *v)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return 1;
        if (strcasecmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

static bool mock_opt_bool(sf_instance *inst, const char *name)
{
    const char *v = mock_opt_string(inst, name);
    return v && mock_parse_bool(v) == 1;
}

int64_t sf_mock_parse_duration_ms(const char *text)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1},      {"s", 1000},     {"m", 60000},
                 {"h", 3600000}, {"d", 86400000}, {"w", 604800000}};
    if (!text || *text < '0' || *text > '9')
        return -1;
    int64_t v = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(p, units[i].unit) == 0)
            return v > INT64_MAX / units[i].ms ? -1 : v * units[i].ms;
    return -1;
}

static int64_t mock_opt_duration_ms(sf_instance *inst, const char *name)
{
    int64_t ms = sf_mock_parse_duration_ms(mock_opt_string(inst, name));
    return ms < 0 ? 0 : ms;
}

void sf_mock_set_option(sf_instance *inst, const char *name, const char *value)
{
    pthread_mutex_lock(&inst->mu);
    mock_kv *kv = mock_find_opt(inst, name);
    if (kv && !value) {
        free(kv->name);
        free(kv->value);
        free(kv->secret);
        *kv = inst->opts[--inst->n_opts];
        kv = NULL;
    } else if (kv) {
        free(kv->value);
        kv->value = sf_mock_xstrdup(value);
    } else if (value) {
        inst->opts = sf_mock_xrealloc(inst->opts, (inst->n_opts + 1) * sizeof *inst->opts);
        kv = &inst->opts[inst->n_opts++];
        kv->name = sf_mock_xstrdup(name);
        kv->value = sf_mock_xstrdup(value);
        kv->secret = NULL;
    }
    char err[SF_MOCK_MAX_ERROR];
    if (kv && mock_is_secret(inst, name)) /* a refusal shows at create and validate_options */
        (void)mock_resolve_secret(kv, err, sizeof err);
    pthread_mutex_unlock(&inst->mu);
}

/* One value against its declaration; the reason goes to err. */
static sf_status mock_check_value(const sf_option *o, const char *v, char *err, size_t errlen)
{
    char *end = NULL;
    double num = 0;
    bool ranged = true;
    switch (o->type) {
    case SF_OPT_INT:
        errno = 0;
        num = (double)strtoll(v, &end, 10);
        if (errno || end == v || *end) {
            snprintf(err, errlen, "%s: '%s' is not an integer", o->name, v);
            return SF_EINVAL;
        }
        break;
    case SF_OPT_DOUBLE:
        num = strtod(v, &end);
        if (end == v || *end) {
            snprintf(err, errlen, "%s: '%s' is not a number", o->name, v);
            return SF_EINVAL;
        }
        break;
    case SF_OPT_DURATION:
        num = (double)sf_mock_parse_duration_ms(v);
        if (num < 0) {
            snprintf(err, errlen, "%s: '%s' is not a duration (e.g. 500ms, 30s, 5m)", o->name, v);
            return SF_EINVAL;
        }
        break;
    case SF_OPT_BOOL:
        if (mock_parse_bool(v) < 0) {
            snprintf(err, errlen, "%s: '%s' is not a boolean", o->name, v);
            return SF_EINVAL;
        }
        return SF_OK;
    case SF_OPT_ENUM:
        for (const char *const *c = o->choices; c && *c; c++)
            if (strcmp(*c, v) == 0)
                return SF_OK;
        snprintf(err, errlen, "%s: '%s' is not one of the declared choices", o->name, v);
        return SF_EINVAL;
    default:
        ranged = false;
        break;
    }
    if (ranged && (o->flags & SF_OPT_HAS_RANGE) && (num < o->min || num > o->max)) {
        snprintf(err, errlen, "%s: %s is out of range [%g, %g]", o->name, v, o->min, o->max);
        return SF_EINVAL;
    }
    return SF_OK;
}

sf_status sf_mock_validate_options(sf_instance *inst, char *err, size_t errlen)
{
    const sf_option *table = inst->plugin ? inst->plugin->options : NULL;
    for (size_t i = 0; i < inst->n_opts; i++) {
        if (!mock_declared(inst, inst->opts[i].name) &&
            !mock_prefix_decl(inst, inst->opts[i].name)) {
            snprintf(err, errlen, "%s: unknown option", inst->opts[i].name);
            return SF_EINVAL;
        }
        if (mock_is_secret(inst, inst->opts[i].name) &&
            mock_resolve_secret(&inst->opts[i], err, errlen) != SF_OK)
            return SF_EINVAL;
    }
    for (const sf_option *o = table; o && o->name; o++) {
        mock_kv *kv = mock_find_opt(inst, o->name);
        if (!kv && (o->flags & SF_OPT_REQUIRED)) {
            snprintf(err, errlen, "%s: required option missing", o->name);
            return SF_EINVAL;
        }
        if (o->default_value && mock_check_value(o, o->default_value, err, errlen) != SF_OK)
            return SF_EINVAL;
        if (kv && mock_check_value(o, kv->value, err, errlen) != SF_OK)
            return SF_EINVAL;
    }
    return SF_OK;
}

sf_status sf_mock_resolve_secrets(sf_instance *inst, char *err, size_t errlen)
{
    for (size_t i = 0; i < inst->n_opts; i++)
        if (mock_is_secret(inst, inst->opts[i].name) &&
            mock_resolve_secret(&inst->opts[i], err, errlen) != SF_OK)
            return SF_EINVAL;
    return SF_OK;
}

void sf_mock_free_options(sf_instance *inst)
{
    for (size_t i = 0; i < inst->n_opts; i++) {
        free(inst->opts[i].name);
        free(inst->opts[i].value);
        free(inst->opts[i].secret);
    }
    free(inst->opts);
    inst->opts = NULL;
    inst->n_opts = 0;
}

void sf_mock_fill_option_table(sf_host *t)
{
    t->instance_name = mock_instance_name;
    t->opt_is_set = mock_opt_is_set;
    t->opt_string = mock_opt_string;
    t->opt_int = mock_opt_int;
    t->opt_double = mock_opt_double;
    t->opt_bool = mock_opt_bool;
    t->opt_duration_ms = mock_opt_duration_ms;
    t->opt_prefixed = mock_opt_prefixed;
}
