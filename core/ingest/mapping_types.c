/*
 * mapping_types.c - `types`, `type.SOURCE = TYPE` and `on_unmapped` of one connector (see
 * mapping_types.h). Compiled once; read-only afterwards but for two atomic counters.
 */
#include "ingest/mapping_types.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"

typedef struct map_rename {
    char *from, *to;
} map_rename;

struct map_types {
    char **keep; /* `types`; NULL: every type */
    size_t n_keep;
    map_rename *renames;
    size_t n_renames;
    bool ignore_unmapped;
    _Atomic uint64_t filtered, ignored;
};

bool map_types_is_key(const char *key)
{
    return strcmp(key, "types") == 0 || strcmp(key, "on_unmapped") == 0 ||
           strncmp(key, "type.", 5) == 0;
}

static bool type_name_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= SIGFLOW_MAX_TYPE_LEN && !strpbrk(s, " \t,");
}

/* `types = a, b, c`: comma-separated, blanks around names ignored. */
static bool parse_keep(map_types *t, const config_kv *kv, const char *file, diag *d)
{
    if (t->keep) {
        diag_add(d, file, kv->line, "`types` is set twice");
        return false;
    }
    char *copy = strdup(kv->value);
    if (!copy || !(t->keep = calloc(SIGFLOW_MAX_MAPPED_TYPES, sizeof *t->keep))) {
        free(copy);
        diag_add(d, file, kv->line, "out of memory");
        return false;
    }
    bool ok = true;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
        tok += strspn(tok, " \t");
        size_t n = strlen(tok);
        while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
            tok[--n] = '\0';
        if (!type_name_ok(tok)) {
            diag_add(d, file, kv->line,
                     "`types`: `%s` is not an event type (1 to %d bytes, no blanks)", tok,
                     SIGFLOW_MAX_TYPE_LEN);
            ok = false;
        } else if (t->n_keep == SIGFLOW_MAX_MAPPED_TYPES) {
            diag_add(d, file, kv->line, "`types` lists more than %d types",
                     SIGFLOW_MAX_MAPPED_TYPES);
            ok = false;
        } else if (!(t->keep[t->n_keep++] = strdup(tok))) {
            diag_add(d, file, kv->line, "out of memory");
            ok = false;
        }
    }
    if (ok && t->n_keep == 0) {
        diag_add(d, file, kv->line, "`types` lists no type (leave it out to keep every type)");
        ok = false;
    }
    free(copy);
    return ok;
}

static bool parse_rename(map_types *t, const config_kv *kv, const char *file, diag *d)
{
    const char *from = kv->key + 5;
    if (!type_name_ok(from) || !type_name_ok(kv->value)) {
        diag_add(d, file, kv->line,
                 "`%s`: write type.SOURCE_VALUE = EVENT_TYPE (each 1 to %d bytes, no blanks)",
                 kv->key, SIGFLOW_MAX_TYPE_LEN);
        return false;
    }
    if (t->n_renames == SIGFLOW_MAX_MAPPED_TYPES) {
        diag_add(d, file, kv->line, "more than %d type.* renames", SIGFLOW_MAX_MAPPED_TYPES);
        return false;
    }
    if (!t->renames && !(t->renames = calloc(SIGFLOW_MAX_MAPPED_TYPES, sizeof *t->renames))) {
        diag_add(d, file, kv->line, "out of memory");
        return false;
    }
    map_rename *r = &t->renames[t->n_renames++];
    if (!(r->from = strdup(from)) || !(r->to = strdup(kv->value))) {
        diag_add(d, file, kv->line, "out of memory");
        return false;
    }
    return true;
}

static bool parse_key(map_types *t, const config_kv *kv, const char *file, diag *d)
{
    if (strcmp(kv->key, "types") == 0)
        return parse_keep(t, kv, file, d);
    if (strcmp(kv->key, "on_unmapped") == 0) {
        if (strcmp(kv->value, "ignore") == 0 || strcmp(kv->value, "refuse") == 0) {
            t->ignore_unmapped = strcmp(kv->value, "ignore") == 0;
            return true;
        }
        static const char *const choices[] = {"refuse", "ignore"};
        char hint[96];
        diag_add(d, file, kv->line, "`on_unmapped` must be refuse or ignore, got `%s`%s", kv->value,
                 suggest_hint(hint, sizeof hint, kv->value, choices, 2));
        return false;
    }
    return parse_rename(t, kv, file, d);
}

/* A `types` list that names a rename's source rather than its target keeps nothing of it. */
static void check_keep_targets(const map_types *t, const config_instance *inst, const char *file,
                               diag *d, bool *ok)
{
    for (size_t i = 0; t->keep && i < t->n_renames; i++) {
        bool listed = false;
        for (size_t k = 0; k < t->n_keep && !listed; k++)
            listed = strcmp(t->keep[k], t->renames[i].to) == 0;
        for (size_t k = 0; k < t->n_keep && !listed; k++)
            if (strcmp(t->keep[k], t->renames[i].from) == 0) {
                diag_add(d, file, inst->line,
                         "[connector %s] `types` lists `%s`, which is renamed to `%s`: list "
                         "the renamed type (types are matched after renaming)",
                         inst->name, t->renames[i].from, t->renames[i].to);
                *ok = false;
            }
    }
}

map_types *map_types_new(const config_instance *inst, const char *file, diag *d, bool *ok)
{
    map_types *t = NULL;
    for (size_t i = 0; inst && i < inst->n_kv; i++) {
        const config_kv *kv = &inst->kv[i];
        if (!map_types_is_key(kv->key))
            continue;
        if (!t && !(t = calloc(1, sizeof *t))) {
            diag_add(d, file, kv->line, "out of memory");
            *ok = false;
            return NULL;
        }
        if (!parse_key(t, kv, file, d))
            *ok = false;
    }
    if (t)
        check_keep_targets(t, inst, file, d, ok);
    return t;
}

void map_types_free(map_types *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_keep; i++)
        free(t->keep[i]);
    free(t->keep);
    for (size_t i = 0; i < t->n_renames; i++) {
        free(t->renames[i].from);
        free(t->renames[i].to);
    }
    free(t->renames);
    free(t);
}

const char *map_types_apply(map_types *t, const char *type)
{
    if (!t)
        return type;
    for (size_t i = 0; i < t->n_renames; i++)
        if (strcmp(t->renames[i].from, type) == 0) {
            type = t->renames[i].to;
            break;
        }
    if (!t->keep)
        return type;
    for (size_t i = 0; i < t->n_keep; i++)
        if (strcmp(t->keep[i], type) == 0)
            return type;
    atomic_fetch_add_explicit(&t->filtered, 1, memory_order_relaxed);
    return NULL;
}

bool map_types_ignore_unmapped(map_types *t)
{
    if (!t || !t->ignore_unmapped)
        return false;
    atomic_fetch_add_explicit(&t->ignored, 1, memory_order_relaxed);
    return true;
}

uint64_t map_types_filtered(const map_types *t)
{
    return t ? atomic_load_explicit(&((map_types *)t)->filtered, memory_order_relaxed) : 0;
}

uint64_t map_types_ignored(const map_types *t)
{
    return t ? atomic_load_explicit(&((map_types *)t)->ignored, memory_order_relaxed) : 0;
}
