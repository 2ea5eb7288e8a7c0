/*
 * options.c - a plugin's declared options applied to its instance's INI keys: typed values,
 * file:line errors with "did you mean", secrets resolved and never printed, the reference
 * table. Owns opt_values. Calls config (secret_resolve, suggest_closest), timefmt, diag.
 * Called by the host when it creates an instance and by the CLI (`sigflow plugins NAME`).
 */
#include "plugin/options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/limits.h"
#include "base/timefmt.h"
#include "config/paths.h"
#include "deliver/rules.h"
#include "deliver/template.h"
#include "ingest/mapping_types.h"

#define OPT_MAX_DECL 256 /* options one plugin may declare */

typedef struct opt_slot {
    const sf_option *decl;
    bool given;     /* written in the INI */
    bool has_value; /* given, or defaulted */
    char *text;     /* string/enum text, resolved secret, or the text as written */
    int64_t i;      /* int, duration (ms) */
    double d;
    bool b;
} opt_slot;

struct opt_values {
    opt_slot *slots;
    size_t n;
    /* keys under a declared SF_OPT_PREFIX option ("headers.Accept"), in INI order */
    opt_slot *extra;
    char **extra_keys;
    size_t n_extra;
};

static const char *const opt_type_names[] = {"?",        "string", "int",    "double",  "bool",
                                             "duration", "enum",   "secret", "template"};

const char *options_type_name(sf_opt_type t)
{
    return (unsigned)t < sizeof opt_type_names / sizeof opt_type_names[0] ? opt_type_names[t] : "?";
}

int options_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; s && i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

static bool opt_redacted(const sf_option *o)
{
    return o->type == SF_OPT_SECRET || (o->flags & SF_OPT_SENSITIVE);
}

/* The value as an operator may see it in a message: never a sensitive one. */
static const char *opt_shown(const sf_option *o, const char *text)
{
    return opt_redacted(o) ? "<secret>" : text;
}

static void opt_choices_list(const sf_option *o, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; o->choices && o->choices[i]; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, len - l, "%s%s", i ? ", " : "", o->choices[i]);
    }
}

static void opt_range_text(const sf_option *o, char *buf, size_t len)
{
    if (!(o->flags & SF_OPT_HAS_RANGE)) {
        snprintf(buf, len, "-");
    } else if (o->type == SF_OPT_DURATION) {
        char a[32], b[32];
        duration_format((int64_t)o->min, a, sizeof a);
        duration_format((int64_t)o->max, b, sizeof b);
        snprintf(buf, len, "%s..%s", a, b);
    } else if (o->type == SF_OPT_INT) {
        snprintf(buf, len, "%lld..%lld", (long long)o->min, (long long)o->max);
    } else {
        snprintf(buf, len, "%g..%g", o->min, o->max);
    }
}

static bool opt_parse_int(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *s == ' ' || *s == '\t' || *end || errno == ERANGE)
        return false;
    *out = v;
    return true;
}

static bool opt_parse_double(const char *s, double *out)
{
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return false; /* no inf, nan or hex */
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* A relative SF_OPT_PATH value joined to the config's directory (docs/config.md "Paths"). */
static bool opt_resolve_path(opt_slot *slot, const char *text, const char *base, char *why,
                             size_t len)
{
    char *out = path_resolve(base, text);
    if (!out) {
        snprintf(why, len, "out of memory");
        return false;
    }
    free(slot->text);
    slot->text = out;
    return true;
}

/* Parse `text` into `slot` per its declared type. false with the reason in why. */
static bool opt_parse(opt_slot *slot, const char *text, const char *base, char *why, size_t len)
{
    const sf_option *o = slot->decl;
    const char *shown = opt_shown(o, text);
    double num = 0;
    switch (o->type) {
    case SF_OPT_STRING:
        if (o->flags & SF_OPT_PATH)
            return opt_resolve_path(slot, text, base, why, len);
        break;
    case SF_OPT_INT:
        if (!opt_parse_int(text, &slot->i)) {
            snprintf(why, len, "`%s` must be an integer, got `%s`", o->name, shown);
            return false;
        }
        num = (double)slot->i;
        break;
    case SF_OPT_DOUBLE:
        if (!opt_parse_double(text, &slot->d)) {
            snprintf(why, len, "`%s` must be a number, got `%s`", o->name, shown);
            return false;
        }
        num = slot->d;
        break;
    case SF_OPT_BOOL:
        if (options_parse_bool(text, &slot->b) != 0) {
            snprintf(why, len, "`%s` must be true or false (yes/no, on/off, 1/0), got `%s`",
                     o->name, shown);
            return false;
        }
        break;
    case SF_OPT_DURATION:
        if (duration_parse(text, &slot->i) != 0) {
            snprintf(why, len, "`%s` must be a duration such as 500ms, 30s, 5m, 2h, 7d, got `%s`",
                     o->name, shown);
            return false;
        }
        num = (double)slot->i;
        break;
    case SF_OPT_ENUM: {
        bool ok = false;
        for (size_t i = 0; o->choices && o->choices[i] && !ok; i++)
            ok = strcmp(text, o->choices[i]) == 0;
        if (!ok) {
            char list[256];
            opt_choices_list(o, list, sizeof list);
            size_t n = 0;
            while (o->choices && o->choices[n])
                n++;
            const char *s = suggest_closest(text, o->choices, n);
            snprintf(why, len, "`%s` must be one of %s, got `%s`%s%s%s", o->name, list, shown,
                     s ? " (did you mean `" : "", s ? s : "", s ? "`?)" : "");
            return false;
        }
        break;
    }
    case SF_OPT_SECRET: {
        char err[SIGFLOW_MAX_ERROR_LEN - 64];
        char *v = secret_resolve_at(text, base, err, sizeof err);
        if (!v) {
            snprintf(why, len, "`%s`: %s", o->name, err);
            return false;
        }
        free(slot->text);
        slot->text = v;
        return true;
    }
    case SF_OPT_TEMPLATE: {
        char err[SIGFLOW_MAX_ERROR_LEN - 64];
        tmpl *t = tmpl_compile(text, err, sizeof err);
        if (!t) {
            snprintf(why, len, "`%s`: %s", o->name, err);
            return false;
        }
        tmpl_free(t);
        break;
    }
    default:
        snprintf(why, len, "`%s` has an unknown option type %d", o->name, (int)o->type);
        return false;
    }
    if ((o->flags & SF_OPT_HAS_RANGE) &&
        (o->type == SF_OPT_INT || o->type == SF_OPT_DOUBLE || o->type == SF_OPT_DURATION) &&
        (num < o->min || num > o->max)) {
        char range[80];
        opt_range_text(o, range, sizeof range);
        snprintf(why, len, "`%s` is out of range: %s is not in %s", o->name, shown, range);
        return false;
    }
    char *copy = strdup(text);
    if (!copy) {
        snprintf(why, len, "out of memory");
        return false;
    }
    free(slot->text);
    slot->text = copy;
    return true;
}

void options_free(opt_values *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        if (v->slots[i].text && opt_redacted(v->slots[i].decl))
            explicit_bzero(v->slots[i].text, strlen(v->slots[i].text));
        free(v->slots[i].text);
    }
    for (size_t i = 0; i < v->n_extra; i++) {
        if (v->extra[i].text && opt_redacted(v->extra[i].decl))
            explicit_bzero(v->extra[i].text, strlen(v->extra[i].text));
        free(v->extra[i].text);
        free(v->extra_keys[i]);
    }
    free(v->extra);
    free(v->extra_keys);
    free(v->slots);
    free(v);
}

static opt_slot *opt_find(const opt_values *v, const char *name)
{
    for (size_t i = 0; v && name && i < v->n; i++)
        if (strcmp(v->slots[i].decl->name, name) == 0)
            return &v->slots[i];
    return NULL;
}

/* The SF_OPT_PREFIX declaration `key` falls under ("headers." for "headers.Accept"). */
static opt_slot *opt_find_prefix(const opt_values *v, const char *key)
{
    for (size_t i = 0; i < v->n; i++) {
        const sf_option *o = v->slots[i].decl;
        size_t l = strlen(o->name);
        if ((o->flags & SF_OPT_PREFIX) && strncmp(key, o->name, l) == 0 && key[l])
            return &v->slots[i];
    }
    return NULL;
}

/* One key under a prefix option: parsed per the prefix's type, kept in INI order. */
static void opt_add_prefixed(opt_values *v, const opt_slot *prefix, const config_kv *kv,
                             const char *base, const char *file, diag *d)
{
    if (v->n_extra == SIGFLOW_MAX_PREFIXED_OPTIONS) {
        diag_add(d, file, kv->line, "more than %d `%s*` keys", SIGFLOW_MAX_PREFIXED_OPTIONS,
                 prefix->decl->name);
        return;
    }
    opt_slot *e = realloc(v->extra, (v->n_extra + 1) * sizeof *e);
    if (e)
        v->extra = e;
    char **k = realloc(v->extra_keys, (v->n_extra + 1) * sizeof *k);
    if (k)
        v->extra_keys = k;
    char *key = strdup(kv->key);
    if (!e || !k || !key) {
        free(key);
        diag_add(d, file, kv->line, "out of memory");
        return;
    }
    opt_slot *slot = &v->extra[v->n_extra];
    *slot = (opt_slot){.decl = prefix->decl, .given = true};
    char why[SIGFLOW_MAX_ERROR_LEN];
    if (!opt_parse(slot, kv->value, base, why, sizeof why)) {
        free(slot->text);
        free(key);
        diag_add(d, file, kv->line, "%s (in `%s`)", why, kv->key);
        return;
    }
    slot->has_value = true;
    v->extra_keys[v->n_extra++] = key;
}

static void opt_unknown_key(const opt_values *v, const config_kv *kv, const char *plugin,
                            const char *file, diag *d)
{
    const char *names[OPT_MAX_DECL];
    for (size_t i = 0; i < v->n; i++)
        names[i] = v->slots[i].decl->name;
    const char *s = suggest_closest(kv->key, names, v->n);
    diag_add(d, file, kv->line, "unknown key `%s` for plugin %s%s%s%s", kv->key, plugin,
             s ? " (did you mean `" : "", s ? s : "", s ? "`?)" : "");
}

/* Required options that are missing, and defaults for the others. */
static void opt_fill_missing(opt_values *v, const config_instance *inst, const char *plugin,
                             const char *file, const char *base, diag *d)
{
    const char *kind = inst->kind == SF_KIND_DELIVERY ? "delivery" : "connector";
    for (size_t i = 0; i < v->n; i++) {
        opt_slot *slot = &v->slots[i];
        const sf_option *o = slot->decl;
        if (slot->given)
            continue;
        if (o->flags & SF_OPT_REQUIRED) {
            diag_add(d, file, inst->line, "[%s %s] needs `%s =` (%s%s%s)", kind, inst->name,
                     o->name, options_type_name(o->type), o->help ? ": " : "",
                     o->help ? o->help : "");
            continue;
        }
        if (!o->default_value)
            continue;
        char why[SIGFLOW_MAX_ERROR_LEN];
        if (opt_parse(slot, o->default_value, base, why, sizeof why))
            slot->has_value = true;
        else
            diag_add(d, file, inst->line, "plugin %s declares a bad default (a plugin bug): %s",
                     plugin, why);
    }
}

opt_values *options_apply(const sf_option *decl, const config_instance *inst, const char *file,
                          diag *d)
{
    size_t errs = d->n, n = 0;
    const char *plugin = inst->plugin ? inst->plugin : "?";
    while (decl && decl[n].name && n < OPT_MAX_DECL)
        n++;
    opt_values *v = calloc(1, sizeof *v);
    if (!v || (n && !(v->slots = calloc(n, sizeof *v->slots)))) {
        diag_add(d, file, inst->line, "out of memory");
        options_free(v);
        return NULL;
    }
    v->n = n;
    for (size_t i = 0; i < n; i++)
        v->slots[i].decl = &decl[i];
    char *base = file ? path_dirname(file) : NULL; /* relative paths: the config's dir */
    for (size_t i = 0; i < inst->n_kv; i++) {
        const config_kv *kv = &inst->kv[i];
        /* map.* keys belong to the host's mapping, which validates them itself. */
        if (inst->kind == SF_KIND_CONNECTOR &&
            (strncmp(kv->key, "map.", 4) == 0 || map_types_is_key(kv->key)))
            continue;
        /* when, hours, link.* ... belong to the core's delivery rules (deliver/rules.h). */
        if (inst->kind == SF_KIND_DELIVERY && rules_is_key(kv->key))
            continue;
        opt_slot *slot = opt_find(v, kv->key);
        if (slot && (slot->decl->flags & SF_OPT_PREFIX))
            slot = NULL; /* "headers." itself is no key */
        if (!slot) {
            const opt_slot *prefix = opt_find_prefix(v, kv->key);
            if (prefix)
                opt_add_prefixed(v, prefix, kv, base, file, d);
            else
                opt_unknown_key(v, kv, plugin, file, d);
            continue;
        }
        char why[SIGFLOW_MAX_ERROR_LEN];
        slot->given = true;
        if (opt_parse(slot, kv->value, base, why, sizeof why))
            slot->has_value = true;
        else
            diag_add(d, file, kv->line, "%s", why);
    }
    opt_fill_missing(v, inst, plugin, file, base, d);
    free(base);
    if (d->n != errs) {
        options_free(v);
        return NULL;
    }
    return v;
}

const char *options_prefixed(const opt_values *v, const char *prefix, size_t i, const char **suffix)
{
    size_t l = prefix ? strlen(prefix) : 0;
    for (size_t k = 0; v && l && k < v->n_extra; k++) {
        if (strcmp(v->extra[k].decl->name, prefix) != 0 || i-- > 0)
            continue;
        if (suffix)
            *suffix = v->extra_keys[k] + l;
        return v->extra[k].text;
    }
    return NULL;
}

bool options_is_set(const opt_values *v, const char *name)
{
    const opt_slot *s = opt_find(v, name);
    return s && s->given;
}

const char *options_string(const opt_values *v, const char *name)
{
    const opt_slot *s = opt_find(v, name);
    return s && s->has_value ? s->text : NULL;
}

int64_t options_int(const opt_values *v, const char *name)
{
    const opt_slot *s = opt_find(v, name);
    return s && s->has_value && s->decl->type == SF_OPT_INT ? s->i : 0;
}

double options_double(const opt_values *v, const char *name)
{
    const opt_slot *s = opt_find(v, name);
    if (!s || !s->has_value)
        return 0;
    if (s->decl->type == SF_OPT_INT)
        return (double)s->i; /* an integer is a fine double */
    return s->decl->type == SF_OPT_DOUBLE ? s->d : 0;
}

bool options_bool(const opt_values *v, const char *name)
{
    const opt_slot *s = opt_find(v, name);
    return s && s->has_value && s->decl->type == SF_OPT_BOOL && s->b;
}

int64_t options_duration_ms(const opt_values *v, const char *name)
{
    const opt_slot *s = opt_find(v, name);
    return s && s->has_value && s->decl->type == SF_OPT_DURATION ? s->i : 0;
}

void options_print(FILE *to, const sf_option *decl)
{
    int wn = 4, wd = 7;
    size_t n = 0;
    for (; decl && decl[n].name && n < OPT_MAX_DECL; n++) {
        int l = (int)strlen(decl[n].name);
        wn = l > wn ? l : wn;
        const char *def = decl[n].default_value;
        l = def ? (opt_redacted(&decl[n]) ? 8 : (int)strlen(def)) : 1;
        wd = l > wd ? l : wd;
    }
    if (n == 0) {
        fprintf(to, "(no options)\n");
        return;
    }
    wd = wd > 24 ? 24 : wd;
    fprintf(to, "%-*s  %-8s  %-*s  %-8s  %-14s  %s\n", wn, "NAME", "TYPE", wd, "DEFAULT",
            "REQUIRED", "RANGE", "HELP");
    for (size_t i = 0; i < n; i++) {
        const sf_option *o = &decl[i];
        char range[80], choices[512] = "";
        opt_range_text(o, range, sizeof range);
        if (o->type == SF_OPT_ENUM) {
            char list[480];
            opt_choices_list(o, list, sizeof list);
            snprintf(choices, sizeof choices, " (one of: %s)", list);
        }
        const char *def = o->default_value ? opt_shown(o, o->default_value) : "-";
        fprintf(to, "%-*s  %-8s  %-*s  %-8s  %-14s  %s%s%s\n", wn, o->name,
                (o->flags & SF_OPT_PATH) ? "path" : options_type_name(o->type), wd, def,
                o->flags & SF_OPT_REQUIRED ? "yes" : "no", range, o->help ? o->help : "", choices,
                o->type == SF_OPT_SECRET ? " (env:NAME or file:/path)" : "");
    }
}
