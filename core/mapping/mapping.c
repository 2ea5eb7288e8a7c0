/*
 * mapping.c - JSON documents -> sf_event through json-c's tree, canonical shape or
 * per-connector map.* paths (the general path: every document the paths without a tree in
 * mapping_lines.c decline, with the words for what it refuses), the mapping's counters and
 * the entry point that picks a path (mapping_apply). mapping_compile.c builds the mapping.
 * Owns the atomic miss and seen counters. Calls json-c, timefmt, event, drift.
 * Called by the host (map_json), replay and connectors, concurrently from several threads:
 * a mapping is read-only after mapping_new except for its atomic counters, and each thread
 * parses with its own json_tokener (created once per thread, freed at thread exit).
 */
#include "mapping/mapping.h"
#include "mapping/mapping_internal.h"
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

const char *const map_field_names[MAP_NFIELDS] = {"entity", "type", "time", "value", "id"};

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
map_counter *map_seen_stripe(mapping *m)
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
bool map_time_value(const mapping *m, const event_line_value *v, int64_t *ms)
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

int64_t map_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool map_time_acceptable(int64_t ms)
{
    int64_t skew = atomic_load_explicit(&map_max_future_skew_ms, memory_order_relaxed);
    return ms >= SCORE_TIME_MIN_MS && ms <= SCORE_TIME_MAX_MS &&
           !(skew > 0 && ms > map_now_ms() + skew);
}

/* A document acknowledged without an event (mapping_types.h): the host counts and drops it. */
sf_status map_dropped(sf_event **out, uint8_t why, char *err, size_t errlen)
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
