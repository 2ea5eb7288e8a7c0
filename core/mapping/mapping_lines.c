/*
 * mapping_lines.c - mapping a document without a JSON tree: the event line reader's path for
 * the canonical shape (mapping_apply_view) and the flat path for map.* keys that are all
 * top-level (mapping_apply_flat). Each maps a document exactly as the json-c path in
 * mapping.c would, and declines (false, nothing counted) whatever that path would word or
 * count differently, so the caller falls back to it (docs/performance.md, "The canonical
 * event line").
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping/jsonw.h"
#include "mapping/mapping_internal.h"

/* ---- the event line reader's path -------------------------------------------------- */

bool mapping_apply_view(mapping *m, const char *json, size_t len, mapping_view *v)
{
    event_line el;
    if (!m->canonical || len > SIGFLOW_MAX_EVENT_LINE ||
        !event_line_read(json, len, &el, v->attrs_buf))
        return false;
    /* What mapping_apply_obj and event_new refuse, with their words: theirs to say. */
    if (el.entity_len > SIGFLOW_MAX_ENTITY_LEN || el.type_len > SIGFLOW_MAX_TYPE_LEN ||
        !map_time_acceptable(el.time_ms))
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

sf_status map_view_event(const mapping_view *v, sf_event **out, char *err, size_t errlen)
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
    if (doc.has_time && !map_time_acceptable(doc.time_ms))
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
