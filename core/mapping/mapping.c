/*
 * mapping.c - JSON documents -> sf_event, canonical shape or per-connector map.* paths.
 * Owns the compiled mapping and its atomic miss counters. Calls json-c, timefmt, event, diag.
 * Called by the host (map_json), replay and connectors, concurrently from several threads:
 * a mapping is read-only after mapping_new except for its atomic counters, and each thread
 * parses with its own json_tokener (created once per thread, freed at thread exit).
 */
#include "mapping/mapping.h"
#include "mapping/mapping_types.h"

#include <ctype.h>
#include <limits.h>
#include <json.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mapping/drift.h"
#include "mapping/event_line.h"
#include "mapping/jsonw.h"
#include "base/limits.h"
#include "mapping/utf8.h"
#include "score/score.h"
#include "base/timefmt.h"

#define MAP_MAX_PATH_LEN 256 /* bytes of one map.* path */
#define MAP_MAX_SEGMENTS SIGFLOW_MAX_JSON_DEPTH
#define MAP_MAX_ATTRS 32 /* map.attr.* keys of one connector */

typedef struct map_path {
    char *text;                   /* as written, for messages */
    char *segs[MAP_MAX_SEGMENTS]; /* pointers into one buffer, segs[0] owns it */
    long index[MAP_MAX_SEGMENTS]; /* array index of a numeric segment, else -1 */
    size_t n;
    size_t seg0_len; /* strlen(segs[0]): the key the flat path looks for */
} map_path;

/*
 * Every document bumps `seen`: one shared counter would bounce its cache line between the
 * parser threads on every event, so each thread counts in its own line and readers add them.
 */
#define MAP_SEEN_STRIPES 8
typedef struct map_counter {
    _Alignas(64) _Atomic uint64_t n;
} map_counter;

typedef struct map_attr {
    char *name;
    size_t name_len;
    map_path path;
} map_attr;

struct mapping {
    bool canonical;
    bool flat; /* map.* set and every path one key deep: mapping_apply_flat first */
    map_path field[MAP_NFIELDS]; /* n == 0: not mapped */
    char *type_literal;          /* map.type = =literal */
    bool time_in_seconds;        /* map.time_unit = s */
    map_attr attrs[MAP_MAX_ATTRS];
    size_t n_attrs;
    map_counter seen[MAP_SEEN_STRIPES];
    _Atomic uint64_t misses[MAP_NFIELDS];
    _Atomic(drift *) drift; /* schema drift watch (mapping_watch_drift), or NULL */
    map_types *types;       /* types, type.*, on_unmapped; NULL: keep all, refuse unmapped */
};

static const char *const map_field_names[MAP_NFIELDS] = {"entity", "type", "time", "value", "id"};

const char *mapping_field_name(enum mapping_field f)
{
    return (unsigned)f < MAP_NFIELDS ? map_field_names[f] : "?";
}

sf_status mapping_watch_drift(mapping *m, const char *decision, const char *connector, int window,
                              double threshold, drift_alert_fn fn, void *ctx)
{
    if (atomic_load(&m->drift))
        return SF_OK; /* watched already: keep what it has seen */
    const char *names[MAP_NFIELDS] = {0};
    for (int f = 0; f < MAP_NFIELDS; f++) {
        if (m->canonical)
            names[f] = f <= MAP_TIME ? map_field_names[f] : NULL; /* value, id: optional */
        else if (m->field[f].n && !(f == MAP_TYPE && m->type_literal))
            names[f] = m->field[f].text;
    }
    drift *d = drift_new(decision, connector, names, MAP_NFIELDS, window, threshold, fn, ctx);
    if (!d)
        return SF_ENOMEM;
    drift *none = NULL;
    if (!atomic_compare_exchange_strong(&m->drift, &none, d))
        drift_free(d);
    return SF_OK;
}

uint64_t mapping_filtered(const mapping *m)
{
    return map_types_filtered(m->types);
}

uint64_t mapping_ignored(const mapping *m)
{
    return map_types_ignored(m->types);
}

uint64_t mapping_seen(const mapping *m)
{
    uint64_t n = 0;
    for (int i = 0; m && i < MAP_SEEN_STRIPES; i++)
        n += atomic_load_explicit(&m->seen[i].n, memory_order_relaxed);
    return n;
}

/* This thread's stripe: threads take stripes in turn as they first map a document. */
static map_counter *map_seen_stripe(mapping *m)
{
    static _Atomic unsigned next;
    static _Thread_local unsigned stripe = UINT_MAX;
    if (stripe == UINT_MAX)
        stripe = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed) % MAP_SEEN_STRIPES;
    return &m->seen[stripe];
}

uint64_t mapping_misses(const mapping *m, enum mapping_field f)
{
    if (!m || (unsigned)f >= MAP_NFIELDS)
        return 0;
    return atomic_load_explicit(&m->misses[f], memory_order_relaxed);
}

/* doc: the document's own record of its misses (NULL: none kept). */
static void map_miss(mapping *m, unsigned *missed, enum mapping_field f)
{
    atomic_fetch_add_explicit(&m->misses[f], 1, memory_order_relaxed);
    if (missed)
        *missed |= 1u << f;
}

/* ---- compiling map.* ------------------------------------------------------------------- */

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

/* ---- applying ------------------------------------------------------------------------- */

static json_object *map_lookup(json_object *root, const map_path *p)
{
    json_object *cur = root;
    for (size_t i = 0; i < p->n && cur; i++) {
        json_object *next = NULL;
        if (json_object_is_type(cur, json_type_object))
            json_object_object_get_ex(cur, p->segs[i], &next);
        else if (json_object_is_type(cur, json_type_array) && p->index[i] >= 0 &&
                 (size_t)p->index[i] < json_object_array_length(cur))
            next = json_object_array_get_idx(cur, (size_t)p->index[i]);
        cur = next;
    }
    return cur;
}

/* What mapping one document found, before it becomes an event. */
typedef struct map_doc {
    const char *entity, *type, *id;
    char entity_buf[24], id_buf[24]; /* integer ids written as text */
    int64_t time_ms;
    bool has_time, has_value;
    double value;
    unsigned missed; /* bit f: field f missing or of the wrong type (schema drift) */
} map_doc;

/* Sets err only for the first problem: later ones are still counted as misses. */
static void map_fail(char *err, size_t errlen, bool *failed, const char *what, const char *where)
{
    if (!*failed)
        snprintf(err, errlen, "%s%s", what, where);
    *failed = true;
}

static const char *map_where(const mapping *m, enum mapping_field f, char *buf, size_t len)
{
    if (m->canonical)
        return "";
    snprintf(buf, len, " (path %s)", m->field[f].text);
    return buf;
}

/* A JSON string's text, or NULL when it holds an escaped NUL (\u0000): C strings would cut
   it there, so "evt\u0000A" and "evt\u0000B" would become one id. */
static const char *map_string(json_object *v)
{
    const char *s = json_object_get_string(v);
    return s && strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

static bool map_has_nul(json_object *v)
{
    return json_object_is_type(v, json_type_string) && !map_string(v);
}

/* A string, or (outside the canonical shape) an integer written as decimal text. */
static const char *map_text(const mapping *m, json_object *v, char *buf, size_t len)
{
    if (json_object_is_type(v, json_type_string))
        return map_string(v);
    if (!m->canonical && json_object_is_type(v, json_type_int)) {
        snprintf(buf, len, "%lld", (long long)json_object_get_int64(v));
        return buf;
    }
    return NULL;
}

/*
 * A time as a scalar (both paths read it here: json-c's through map_time, the flat one's from
 * event_line_scan): an RFC 3339 string, or outside the canonical shape any string time_parse
 * reads; an integer; a number of seconds with map.time_unit = s.
 */
static bool map_time_value(const mapping *m, const event_line_value *v, int64_t *ms)
{
    if (v->kind == EVENT_LINE_STRING) {
        if (time_parse_rfc3339(v->p, v->n, ms) == 0)
            return true;
        if (m->canonical || time_parse(v->p, v->n, ms) != 0)
            return false;
    } else if (v->kind == EVENT_LINE_INT) {
        *ms = v->i;
    } else if (!m->canonical && v->kind == EVENT_LINE_DOUBLE && m->time_in_seconds) {
        double d = v->d * 1000.0;
        if (!isfinite(d) || fabs(d) > 9.0e15)
            return false;
        *ms = (int64_t)llround(d);
        return true;
    } else {
        return false;
    }
    if (m->time_in_seconds) {
        if (*ms > INT64_MAX / 1000 || *ms < INT64_MIN / 1000)
            return false;
        *ms *= 1000;
    }
    return true;
}

static bool map_time(const mapping *m, json_object *o, int64_t *ms)
{
    event_line_value v = {.kind = EVENT_LINE_NULL};
    if (json_object_is_type(o, json_type_string)) {
        v.kind = EVENT_LINE_STRING;
        v.p = json_object_get_string(o);
        v.n = (size_t)json_object_get_string_len(o);
    } else if (json_object_is_type(o, json_type_int)) {
        v.kind = EVENT_LINE_INT;
        v.i = json_object_get_int64(o);
    } else if (json_object_is_type(o, json_type_double)) {
        v.kind = EVENT_LINE_DOUBLE;
        v.d = json_object_get_double(o);
    }
    return map_time_value(m, &v, ms);
}

static bool map_number(json_object *v, double *out)
{
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
        return false;
    *out = json_object_get_double(v);
    return isfinite(*out);
}

/* Each field: lookup, type check, miss counting. Returns false with err set on a failure. */
static bool map_fields(mapping *m, json_object *f[MAP_NFIELDS], map_doc *doc, char *err,
                       size_t errlen)
{
    bool failed = false;
    char w[MAP_MAX_PATH_LEN + 16];
    if (!f[MAP_ENTITY] ||
        !(doc->entity = map_text(m, f[MAP_ENTITY], doc->entity_buf, sizeof doc->entity_buf)) ||
        !*doc->entity) {
        map_miss(m, &doc->missed, MAP_ENTITY);
        map_fail(err, errlen, &failed,
                 !f[MAP_ENTITY]               ? "missing entity"
                 : map_has_nul(f[MAP_ENTITY]) ? "entity contains an escaped NUL (\\u0000)"
                                              : "entity is not a non-empty string",
                 map_where(m, MAP_ENTITY, w, sizeof w));
    }
    if (m->type_literal) {
        doc->type = m->type_literal;
    } else if (!f[MAP_TYPE] || !json_object_is_type(f[MAP_TYPE], json_type_string) ||
               !(doc->type = map_string(f[MAP_TYPE])) || !*doc->type) {
        map_miss(m, &doc->missed, MAP_TYPE);
        map_fail(err, errlen, &failed,
                 !f[MAP_TYPE]               ? "missing type"
                 : map_has_nul(f[MAP_TYPE]) ? "type contains an escaped NUL (\\u0000)"
                                            : "type is not a non-empty string",
                 map_where(m, MAP_TYPE, w, sizeof w));
    }
    if (m->canonical || m->field[MAP_TIME].n) {
        doc->has_time = f[MAP_TIME] && map_time(m, f[MAP_TIME], &doc->time_ms);
        if (!doc->has_time) {
            map_miss(m, &doc->missed, MAP_TIME);
            map_fail(err, errlen, &failed,
                     f[MAP_TIME] ? "time is not an RFC 3339 string or epoch milliseconds"
                                 : "missing time",
                     map_where(m, MAP_TIME, w, sizeof w));
        }
    }
    /* value and id are optional: absent is counted (when mapped) but not an error. */
    if (f[MAP_VALUE] && !json_object_is_type(f[MAP_VALUE], json_type_null)) {
        doc->has_value = map_number(f[MAP_VALUE], &doc->value);
        if (!doc->has_value) {
            map_miss(m, &doc->missed, MAP_VALUE);
            map_fail(err, errlen, &failed, "value is not a finite number",
                     map_where(m, MAP_VALUE, w, sizeof w));
        }
    } else if (m->field[MAP_VALUE].n) {
        map_miss(m, &doc->missed, MAP_VALUE);
    }
    if (f[MAP_ID]) {
        doc->id = map_text(m, f[MAP_ID], doc->id_buf, sizeof doc->id_buf);
        if (!doc->id || !*doc->id || strlen(doc->id) > SIGFLOW_MAX_ENTITY_LEN) {
            doc->id = NULL;
            map_miss(m, &doc->missed, MAP_ID);
            map_fail(err, errlen, &failed,
                     map_has_nul(f[MAP_ID]) ? "id contains an escaped NUL (\\u0000)"
                                            : "id is not a string of 1 to 256 bytes",
                     map_where(m, MAP_ID, w, sizeof w));
        }
    } else if (m->field[MAP_ID].n) {
        map_miss(m, &doc->missed, MAP_ID);
    }
    return !failed;
}

/* ---- attrs ---------------------------------------------------------------------------- */

/* json-c reads NaN and Infinity even in strict mode; attrs must stay valid JSON text. */
static bool map_all_finite(json_object *o)
{
    switch (json_object_get_type(o)) {
    case json_type_double:
        return isfinite(json_object_get_double(o));
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(o); i++)
            if (!map_all_finite(json_object_array_get_idx(o, i)))
                return false;
        return true;
    case json_type_object: {
        json_object_object_foreach(o, key, val)
        {
            (void)key;
            if (!map_all_finite(val))
                return false;
        }
        return true;
    }
    default:
        return true;
    }
}

/* The canonical field a top-level key names, or -1 (id stays in attrs: canonical has none). */
static int map_canonical_field(const char *key)
{
    switch (key[0]) {
    case 'e':
        return strcmp(key, "entity") == 0 ? MAP_ENTITY : -1;
    case 't':
        return strcmp(key, "type") == 0 ? MAP_TYPE : strcmp(key, "time") == 0 ? MAP_TIME : -1;
    case 'v':
        return strcmp(key, "value") == 0 ? MAP_VALUE : -1;
    default:
        return -1;
    }
}

/* One attr "key":value into w; the first one opens the object. */
static sf_status map_attr_put(jsonw *w, const char *key, size_t klen, json_object *val)
{
    if (!map_all_finite(val))
        return SF_EINVAL;
    jsonw_raw(w, w->len ? "," : "{", 1);
    jsonw_key(w, key, klen);
    return jsonw_value(w, val);
}

/*
 * The attrs text: every non-canonical key (in the document's order), or the map.* values, as
 * the JSON object json-c printed when mapping built one (map.attr names are unique: the config
 * refuses a key set twice). Written straight into a stack buffer of the limit's size: the only
 * allocation is the event's copy. w->len stays 0 when there are none.
 */
static bool map_is_core_key(const char *key, const char *const core[MAP_ID])
{
    return key == core[0] || key == core[1] || key == core[2] || key == core[3];
}

static sf_status map_write_attrs(const mapping *m, json_object *root,
                                 const char *const core[MAP_ID], jsonw *w)
{
    sf_status st = SF_OK;
    if (m->canonical) {
        json_object_object_foreach(root, key, val)
        {
            if (!map_is_core_key(key, core) &&
                (st = map_attr_put(w, key, strlen(key), val)) != SF_OK)
                break;
        }
    } else {
        for (size_t i = 0; i < m->n_attrs && st == SF_OK; i++) {
            json_object *val = map_lookup(root, &m->attrs[i].path);
            if (val)
                st = map_attr_put(w, m->attrs[i].name, m->attrs[i].name_len, val);
        }
    }
    if (st == SF_OK && w->len)
        jsonw_raw(w, "}", 1);
    return st;
}

static sf_status map_set_attrs(const mapping *m, json_object *root, const char *const core[MAP_ID],
                               sf_event *ev, char *err, size_t errlen)
{
    char buf[SIGFLOW_MAX_ATTRS_LEN + 1];
    jsonw w;
    jsonw_init(&w, buf, SIGFLOW_MAX_ATTRS_LEN);
    sf_status st = map_write_attrs(m, root, core, &w);
    if (st == SF_EINVAL) {
        snprintf(err, errlen, "attrs hold NaN or Infinity, which JSON cannot carry");
    } else if (st != SF_OK) {
        snprintf(err, errlen, "out of memory");
    } else if (!w.len) {
        return SF_OK;
    } else if (!jsonw_end(&w)) {
        snprintf(err, errlen, "attrs longer than %d bytes (%zu)", SIGFLOW_MAX_ATTRS_LEN, w.len);
        st = SF_EINVAL;
    } else if ((st = event_set_attrs(ev, buf, w.len)) != SF_OK) {
        snprintf(err, errlen, "out of memory");
    }
    return st;
}

/* ---- entry points --------------------------------------------------------------------- */

static _Atomic int64_t map_max_future_skew_ms; /* 0: not checked (replay) */

void mapping_set_max_future_skew(int64_t ms)
{
    atomic_store(&map_max_future_skew_ms, ms > 0 ? ms : 0);
}

static int64_t map_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A document acknowledged without an event (mapping_types.h): the host counts and drops it. */
static sf_status map_dropped(sf_event **out, uint8_t why, char *err, size_t errlen)
{
    if (!(*out = event_new("-", "-", 0, err, errlen)))
        return SF_ENOMEM;
    (*out)->dropped = why;
    return SF_OK;
}

sf_status mapping_apply_obj(mapping *m, json_object *obj, sf_event **out, char *err, size_t errlen)
{
    *out = NULL;
    atomic_fetch_add_explicit(&map_seen_stripe(m)->n, 1, memory_order_relaxed);
    drift *dw = atomic_load_explicit(&m->drift, memory_order_acquire);
    if (!json_object_is_type(obj, json_type_object)) {
        if (dw)
            drift_observe(dw, (1u << MAP_NFIELDS) - 1, obj); /* every field missing */
        snprintf(err, errlen, "not a JSON object");
        return SF_EINVAL;
    }
    json_object *f[MAP_NFIELDS] = {0};
    const char *core[MAP_ID] = {0}; /* the canonical fields' keys, left out of attrs */
    /* Canonical: one walk over the keys instead of a hash lookup per field. */
    if (m->canonical) {
        json_object_object_foreach(obj, key, val)
        {
            int i = map_canonical_field(key);
            if (i >= 0) {
                f[i] = val;
                core[i] = key;
            }
        }
    } else {
        for (int i = 0; i < MAP_NFIELDS; i++)
            f[i] = m->field[i].n ? map_lookup(obj, &m->field[i]) : NULL;
    }
    map_doc doc = {0};
    bool fields_ok = map_fields(m, f, &doc, err, errlen);
    int64_t skew = atomic_load_explicit(&map_max_future_skew_ms, memory_order_relaxed);
    if (fields_ok && doc.has_time &&
        (doc.time_ms < SCORE_TIME_MIN_MS || doc.time_ms > SCORE_TIME_MAX_MS)) {
        /* The scorer refuses it: acknowledged, it would be journaled and never scored. */
        map_miss(m, &doc.missed, MAP_TIME);
        snprintf(err, errlen,
                 "time %lld ms is outside the range sigflow scores "
                 "(0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z)",
                 (long long)doc.time_ms);
        fields_ok = false;
    } else if (fields_ok && doc.has_time && skew > 0 && doc.time_ms > map_now_ms() + skew) {
        /* One event dated 9999 would move engine time there and fire every window. */
        map_miss(m, &doc.missed, MAP_TIME);
        snprintf(err, errlen,
                 "time is more than max_future_skew (%lld ms) ahead of this host's clock",
                 (long long)skew);
        fields_ok = false;
    }
    if (dw)
        drift_observe(dw, doc.missed, obj);
    if (!fields_ok)
        return map_types_ignore_unmapped(m->types) ? map_dropped(out, EVENT_UNMAPPED, err, errlen)
                                                   : SF_EINVAL;
    const char *type = map_types_apply(m->types, doc.type);
    if (!type)
        return map_dropped(out, EVENT_FILTERED, err, errlen);
    /* Mapped sources without map.time are stamped on arrival. */
    sf_event *ev =
        event_new(doc.entity, type, doc.has_time ? doc.time_ms : map_now_ms(), err, errlen);
    if (!ev)
        return SF_EINVAL;
    ev->has_value = doc.has_value;
    ev->value = doc.value;
    sf_status st = SF_OK;
    if (doc.id && !(ev->source_id = strdup(doc.id))) {
        snprintf(err, errlen, "out of memory");
        st = SF_ENOMEM;
    }
    if (st == SF_OK)
        st = map_set_attrs(m, obj, core, ev, err, errlen);
    if (st != SF_OK) {
        event_free(ev);
        return st;
    }
    *out = ev;
    return SF_OK;
}

static pthread_key_t map_tok_key;
static pthread_once_t map_tok_once = PTHREAD_ONCE_INIT;
static int map_tok_key_ok;

static void map_tok_destroy(void *tok)
{
    json_tokener_free(tok);
}

static void map_tok_key_init(void)
{
    map_tok_key_ok = pthread_key_create(&map_tok_key, map_tok_destroy) == 0;
}

/* This thread's tokener: one allocation per thread, not per document. */
static json_tokener *map_tokener(void)
{
    if (pthread_once(&map_tok_once, map_tok_key_init) != 0 || !map_tok_key_ok)
        return NULL;
    json_tokener *tok = pthread_getspecific(map_tok_key);
    if (tok) {
        json_tokener_reset(tok);
        return tok;
    }
    /* json-c counts the outermost value as depth 1, as SIGFLOW_MAX_JSON_DEPTH does. */
    tok = json_tokener_new_ex(SIGFLOW_MAX_JSON_DEPTH);
    if (tok) /* strict: no trailing commas, no junk after the value */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    if (tok && pthread_setspecific(map_tok_key, tok) != 0) {
        json_tokener_free(tok);
        tok = NULL;
    }
    return tok;
}

/* "line L col C" of byte offset `off` in json. */
static void map_position(const char *json, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (json[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* ---- the event line reader's path -------------------------------------------------- */

bool mapping_apply_view(mapping *m, const char *json, size_t len, mapping_view *v)
{
    event_line el;
    if (!m->canonical || len > SIGFLOW_MAX_EVENT_LINE ||
        !event_line_read(json, len, &el, v->attrs_buf))
        return false;
    /* What mapping_apply_obj and event_new refuse, with their words: theirs to say. */
    if (el.entity_len > SIGFLOW_MAX_ENTITY_LEN || el.type_len > SIGFLOW_MAX_TYPE_LEN ||
        el.time_ms < SCORE_TIME_MIN_MS || el.time_ms > SCORE_TIME_MAX_MS)
        return false;
    int64_t skew = atomic_load_explicit(&map_max_future_skew_ms, memory_order_relaxed);
    if (skew > 0 && el.time_ms > map_now_ms() + skew)
        return false;
    /* Mapped: counted as mapping_apply_obj counts a document with every field present. */
    atomic_fetch_add_explicit(&map_seen_stripe(m)->n, 1, memory_order_relaxed);
    drift *dw = atomic_load_explicit(&m->drift, memory_order_acquire);
    if (dw)
        drift_observe_text(dw, 0, json, len);
    memcpy(v->type_buf, el.type, el.type_len);
    v->type_buf[el.type_len] = '\0';
    const char *type = map_types_apply(m->types, v->type_buf);
    v->dropped = type ? EVENT_KEPT : EVENT_FILTERED;
    v->entity = el.entity;
    v->entity_len = el.entity_len;
    v->type = type ? type : v->type_buf;
    v->time_ms = el.time_ms;
    v->has_value = el.has_value;
    v->value = el.has_value ? el.value : 0;
    v->attrs = el.attrs_len ? v->attrs_buf : NULL;
    v->attrs_len = el.attrs_len;
    return true;
}

/* A view as the event mapping_apply_obj would have made. */
static sf_status map_view_event(const mapping_view *v, sf_event **out, char *err, size_t errlen)
{
    if (v->dropped)
        return map_dropped(out, v->dropped, err, errlen);
    char entity[SIGFLOW_MAX_ENTITY_LEN + 1];
    memcpy(entity, v->entity, v->entity_len);
    entity[v->entity_len] = '\0';
    sf_event *ev = event_new(entity, v->type, v->time_ms, err, errlen);
    if (!ev)
        return SF_EINVAL;
    ev->has_value = v->has_value;
    ev->value = v->value;
    if (v->attrs && event_set_attrs(ev, v->attrs, v->attrs_len) != SF_OK) {
        event_free(ev);
        snprintf(err, errlen, "out of memory");
        return SF_ENOMEM;
    }
    *out = ev;
    return SF_OK;
}

/* ---- the flat path: map.* keys that are all top-level, on a line in the reader's subset ---- */

/* The value of the top-level key `p` names, or NULL: absent, null (json-c's lookup finds no
   object there either) or p not mapped. */
static const event_line_value *map_flat_get(const event_line_pair *pairs, size_t n,
                                            const map_path *p)
{
    for (size_t i = 0; p->n && i < n; i++)
        if (pairs[i].key_len == p->seg0_len && memcmp(pairs[i].key, p->segs[0], p->seg0_len) == 0)
            return pairs[i].v.kind == EVENT_LINE_NULL ? NULL : &pairs[i].v;
    return NULL;
}

/* map_text on a scalar: a string's bytes, or an integer as decimal text, into buf (NUL-ended).
   False where map_fields would refuse it: absent, other kinds, empty, longer than max. */
static bool map_flat_text(const event_line_value *v, char *buf, size_t max)
{
    if (!v)
        return false;
    if (v->kind == EVENT_LINE_INT) {
        snprintf(buf, max + 1, "%lld", (long long)v->i);
        return true; /* at most 19 bytes: within every max it is used with */
    }
    if (v->kind != EVENT_LINE_STRING || v->n == 0 || v->n > max)
        return false;
    memcpy(buf, v->p, v->n);
    buf[v->n] = '\0';
    return true;
}

/* What the flat path read from one line, before it becomes an event. */
typedef struct map_flat_doc {
    char entity[SIGFLOW_MAX_ENTITY_LEN + 1];
    char type_buf[SIGFLOW_MAX_TYPE_LEN + 1];
    char id[SIGFLOW_MAX_ENTITY_LEN + 1];
    const char *type;
    bool has_id, has_time, has_value;
    int64_t time_ms;
    double value;
    char attrs[SIGFLOW_MAX_ATTRS_LEN + 1];
    size_t attrs_len;
} map_flat_doc;

/* The fields as map_fields reads them; false on anything it would count as a miss or word. */
static bool map_flat_fields(const mapping *m, const event_line_pair *pairs, size_t n,
                            map_flat_doc *doc)
{
    if (!map_flat_text(map_flat_get(pairs, n, &m->field[MAP_ENTITY]), doc->entity,
                       SIGFLOW_MAX_ENTITY_LEN))
        return false;
    if (m->type_literal) {
        doc->type = m->type_literal;
    } else {
        const event_line_value *t = map_flat_get(pairs, n, &m->field[MAP_TYPE]);
        if (!t || t->kind != EVENT_LINE_STRING ||
            !map_flat_text(t, doc->type_buf, SIGFLOW_MAX_TYPE_LEN))
            return false;
        doc->type = doc->type_buf;
    }
    if (m->field[MAP_TIME].n) {
        const event_line_value *t = map_flat_get(pairs, n, &m->field[MAP_TIME]);
        if (!t || !map_time_value(m, t, &doc->time_ms))
            return false;
        doc->has_time = true;
    }
    const event_line_value *v = map_flat_get(pairs, n, &m->field[MAP_VALUE]);
    if (m->field[MAP_VALUE].n && !v)
        return false; /* a miss the general path counts */
    if (v && v->kind != EVENT_LINE_INT && v->kind != EVENT_LINE_DOUBLE)
        return false;
    doc->has_value = v != NULL;
    doc->value = v ? v->d : 0;
    if (m->field[MAP_ID].n) {
        if (!map_flat_text(map_flat_get(pairs, n, &m->field[MAP_ID]), doc->id,
                           SIGFLOW_MAX_ENTITY_LEN))
            return false;
        doc->has_id = true;
    }
    return true;
}

/* The map.attr.* values (scalars: the reader declines the rest) as map_write_attrs prints. */
static bool map_flat_attrs(const mapping *m, const event_line_pair *pairs, size_t n,
                           map_flat_doc *doc)
{
    jsonw w;
    jsonw_init(&w, doc->attrs, SIGFLOW_MAX_ATTRS_LEN);
    for (size_t i = 0; i < m->n_attrs; i++) {
        const event_line_value *v = map_flat_get(pairs, n, &m->attrs[i].path);
        if (v)
            event_line_attr(&w, m->attrs[i].name, m->attrs[i].name_len, v);
    }
    if (w.len) {
        jsonw_raw(&w, "}", 1);
        if (!jsonw_end(&w))
            return false; /* over the attrs limit: the general path words it */
    }
    doc->attrs_len = w.len;
    return true;
}

/*
 * A mapped line without a JSON tree. True: *st and *out are what mapping_apply_obj would give
 * (counted as it counts). False: declined, nothing counted, json-c's path must map it.
 */
bool mapping_apply_flat(mapping *m, const char *json, size_t len, sf_event **out, char *err,
                        size_t errlen, sf_status *st)
{
    event_line_pair pairs[EVENT_LINE_MAX_PAIRS];
    size_t n;
    map_flat_doc doc;
    *out = NULL;
    if (!m->flat || len > SIGFLOW_MAX_EVENT_LINE || !event_line_scan(json, len, pairs, &n))
        return false;
    doc.has_id = doc.has_time = false;
    if (!map_flat_fields(m, pairs, n, &doc) || !map_flat_attrs(m, pairs, n, &doc))
        return false;
    int64_t skew = atomic_load_explicit(&map_max_future_skew_ms, memory_order_relaxed);
    if (doc.has_time && (doc.time_ms < SCORE_TIME_MIN_MS || doc.time_ms > SCORE_TIME_MAX_MS ||
                         (skew > 0 && doc.time_ms > map_now_ms() + skew)))
        return false;
    const char *type = map_types_apply(m->types, doc.type);
    sf_event *ev = NULL;
    if (type &&
        !(ev = event_new(doc.entity, type, doc.has_time ? doc.time_ms : map_now_ms(), err, errlen)))
        return false; /* event_new's refusal: json-c's path words it */
    atomic_fetch_add_explicit(&map_seen_stripe(m)->n, 1, memory_order_relaxed);
    drift *dw = atomic_load_explicit(&m->drift, memory_order_acquire);
    if (dw)
        drift_observe_text(dw, 0, json, len);
    *st = type ? SF_OK : map_dropped(out, EVENT_FILTERED, err, errlen);
    if (!type)
        return true;
    ev->has_value = doc.has_value;
    ev->value = doc.value;
    if ((doc.has_id && !(ev->source_id = strdup(doc.id))) ||
        (doc.attrs_len && event_set_attrs(ev, doc.attrs, doc.attrs_len) != SF_OK)) {
        event_free(ev);
        snprintf(err, errlen, "out of memory");
        *st = SF_ENOMEM;
        return true;
    }
    *out = ev;
    return true;
}

sf_status mapping_apply(mapping *m, const char *json, size_t len, sf_event **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    if (m->canonical) {
        mapping_view v;
        if (mapping_apply_view(m, json, len, &v))
            return map_view_event(&v, out, err, errlen);
    } else if (m->flat) {
        sf_status st;
        if (mapping_apply_flat(m, json, len, out, err, errlen, &st))
            return st;
    }
    return mapping_apply_json(m, json, len, out, err, errlen);
}

sf_status mapping_apply_json(mapping *m, const char *json, size_t len, sf_event **out, char *err,
                             size_t errlen)
{
    *out = NULL;
    if (len > SIGFLOW_MAX_EVENT_LINE) {
        snprintf(err, errlen, "document longer than %d bytes", SIGFLOW_MAX_EVENT_LINE);
        return SF_EINVAL;
    }
    size_t bad = utf8_invalid_at(json, len);
    if (bad < len) { /* RFC 8259 §8.1: it would reach alert JSON and logs as it is */
        int line, col;
        map_position(json, bad, &line, &col);
        snprintf(err, errlen, "line %d col %d: invalid UTF-8", line, col);
        return SF_EINVAL;
    }
    json_tokener *tok = map_tokener();
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return SF_ENOMEM;
    }
    json_object *obj = json_tokener_parse_ex(tok, json, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    int line, col;
    if (jerr == json_tokener_success) {
        while (end < len && isspace((unsigned char)json[end]))
            end++;
        if (end < len) {
            map_position(json, end, &line, &col);
            snprintf(err, errlen, "line %d col %d: unexpected text after the JSON value", line,
                     col);
            json_object_put(obj);
            return SF_EINVAL;
        }
    } else {
        map_position(json, end, &line, &col);
        snprintf(err, errlen, "line %d col %d: %s", line, col,
                 jerr == json_tokener_continue ? "unexpected end of input"
                                               : json_tokener_error_desc(jerr));
        json_object_put(obj);
        return SF_EINVAL;
    }
    sf_status st = mapping_apply_obj(m, obj, out, err, errlen);
    json_object_put(obj);
    return st;
}
