/*
 * mapping_compile.c - a connector's map.* keys compiled into its mapping (mapping_new), with a
 * message naming the key, the file and the line for each key it refuses, and the mapping's
 * release. Owns nothing past mapping_new: the mapping is the caller's.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/suggest.h"
#include "mapping/mapping_internal.h"

static void map_path_free(map_path *p)
{
    free(p->text);
    free(p->n ? p->segs[0] : NULL);
    memset(p, 0, sizeof *p);
}

/* "a.b.0.c" -> segments; a numeric segment also indexes arrays. NULL or a reason. */
static const char *map_path_compile(const char *text, map_path *p)
{
    size_t len = strlen(text);
    if (len == 0)
        return "empty path";
    if (len > MAP_MAX_PATH_LEN)
        return "path longer than 256 bytes";
    p->text = strdup(text);
    char *buf = strdup(text);
    if (!p->text || !buf) {
        free(buf);
        return "out of memory";
    }
    char *s = buf;
    for (;;) {
        char *dot = strchr(s, '.');
        if (dot)
            *dot = '\0';
        if (!*s || p->n == MAP_MAX_SEGMENTS) {
            if (p->n == 0)
                free(buf);
            return *s ? "path deeper than the JSON depth limit" : "empty segment in path";
        }
        char *end = NULL;
        long idx = isdigit((unsigned char)*s) ? strtol(s, &end, 10) : -1;
        p->index[p->n] = (end && !*end && idx >= 0 && idx < 1000000) ? idx : -1;
        p->segs[p->n++] = s;
        if (!dot) {
            p->seg0_len = strlen(p->segs[0]);
            return NULL;
        }
        s = dot + 1;
    }
}

static const char *const map_keys[] = {"map.entity", "map.type", "map.time",     "map.time_unit",
                                       "map.value",  "map.id",   "map.attr.NAME"};

/* An unknown map.* key, with what was meant: `map.atr.plan` -> `map.attr.plan`. */
static void map_unknown_key(const char *k, int line, const char *file, diag *d)
{
    const char *seg = k + 4, *dot = strchr(seg, '.');
    static const char *const attr[] = {"attr"};
    char seg_buf[16];
    if (dot && dot[1] && (size_t)(dot - seg) < sizeof seg_buf) {
        memcpy(seg_buf, seg, (size_t)(dot - seg));
        seg_buf[dot - seg] = '\0';
        if (suggest_closest(seg_buf, attr, 1)) {
            diag_add(d, file, line, "unknown key `%s` (did you mean `map.attr.%s`?)", k, dot + 1);
            return;
        }
    }
    const char *s = suggest_closest(k, map_keys, sizeof map_keys / sizeof map_keys[0]);
    diag_add(d, file, line, "unknown key `%s`%s%s%s", k, s ? " (did you mean `" : "", s ? s : "",
             s ? "`?)" : "");
}

static bool map_add_key(mapping *m, const config_kv *kv, const char *file, diag *d)
{
    const char *k = kv->key;
    const char *why = NULL;
    for (int f = 0; f < MAP_NFIELDS; f++) {
        if (strcmp(k + 4, map_field_names[f]) != 0)
            continue;
        if (f == MAP_TYPE && kv->value[0] == '=') {
            if (!kv->value[1] || strlen(kv->value + 1) > SIGFLOW_MAX_TYPE_LEN)
                why = "a fixed type must be 1 to 128 bytes after `=`";
            else if (!(m->type_literal = strdup(kv->value + 1)))
                why = "out of memory";
        } else {
            why = map_path_compile(kv->value, &m->field[f]);
        }
        goto done;
    }
    if (strcmp(k, "map.time_unit") == 0) {
        if (strcmp(kv->value, "s") == 0)
            m->time_in_seconds = true;
        else if (strcmp(kv->value, "ms") != 0)
            why = "must be ms or s";
        goto done;
    }
    if (strncmp(k, "map.attr.", 9) == 0) {
        const char *name = k + 9;
        if (!*name || strlen(name) > SIGFLOW_MAX_NAME_LEN)
            why = "the attribute name after map.attr. must be 1 to 64 bytes";
        else if (m->n_attrs == MAP_MAX_ATTRS)
            why = "too many map.attr.* keys (at most 32)";
        else if (!(m->attrs[m->n_attrs].name = strdup(name)))
            why = "out of memory";
        else {
            m->attrs[m->n_attrs].name_len = strlen(name);
            why = map_path_compile(kv->value, &m->attrs[m->n_attrs++].path);
        }
        goto done;
    }
    map_unknown_key(k, kv->line, file, d);
    return false;
done:
    if (why)
        diag_add(d, file, kv->line, "`%s`: %s", k, why);
    return why == NULL;
}

void mapping_free(mapping *m)
{
    if (!m)
        return;
    for (int f = 0; f < MAP_NFIELDS; f++)
        map_path_free(&m->field[f]);
    for (size_t i = 0; i < m->n_attrs; i++) {
        free(m->attrs[i].name);
        map_path_free(&m->attrs[i].path);
    }
    free(m->type_literal);
    map_types_free(m->types);
    drift_free(atomic_load(&m->drift));
    free(m);
}

/* Every mapped path names a top-level key (map.entity = customer, not data.customer). */
static bool map_all_top_level(const mapping *m)
{
    for (int f = 0; f < MAP_NFIELDS; f++)
        if (m->field[f].n > 1)
            return false;
    for (size_t i = 0; i < m->n_attrs; i++)
        if (m->attrs[i].path.n != 1)
            return false;
    return true;
}

mapping *mapping_new(const config_instance *inst, const char *file, diag *d)
{
    /* aligned: the seen stripes are one cache line each (sizeof is a multiple of 64) */
    mapping *m = aligned_alloc(_Alignof(mapping), sizeof *m);
    if (!m) {
        diag_add(d, file, inst ? inst->line : 0, "out of memory");
        return NULL;
    }
    memset(m, 0, sizeof *m);
    bool ok = true, any = false;
    for (size_t i = 0; inst && i < inst->n_kv; i++) {
        if (strncmp(inst->kv[i].key, "map.", 4) != 0)
            continue;
        any = true;
        ok &= map_add_key(m, &inst->kv[i], file, d);
    }
    m->canonical = !any;
    m->types = map_types_new(inst, file, d, &ok);
    if (any && !m->field[MAP_ENTITY].n) {
        diag_add(d, file, inst->line, "[connector %s] sets map.* keys but not `map.entity`",
                 inst->name);
        ok = false;
    }
    if (any && !m->field[MAP_TYPE].n && !m->type_literal) {
        diag_add(d, file, inst->line,
                 "[connector %s] sets map.* keys but not `map.type` (a path, or =literal)",
                 inst->name);
        ok = false;
    }
    if (!ok) {
        mapping_free(m);
        return NULL;
    }
    m->flat = any && map_all_top_level(m);
    return m;
}
