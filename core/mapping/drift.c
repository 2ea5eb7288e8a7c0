/*
 * drift.c - schema drift per connector and mapped field (drift.h). Each judged field keeps a
 * ring of the last `window` documents' miss bits and their count; the state moves
 *   unknown -> healthy      once a full window's share is <= threshold (no alert)
 *   healthy -> drifted      when the share goes > threshold             (a `drift` alert)
 *   drifted -> healthy      when the share is back <= threshold / 2     (a `recovered` alert)
 * so a field that was never healthy (a mapped optional value rarely sent) raises nothing,
 * and a share hovering at the threshold does not flap.
 */
#include "mapping/drift.h"

#include <json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/limits.h"
#include "model/health_alert.h"

#define DRIFT_MAX_FIELDS 8

enum { ST_UNKNOWN, ST_HEALTHY, ST_DRIFTED };

typedef struct drift_field {
    char *name; /* NULL: not judged */
    unsigned char *ring;
    int filled, pos, misses, state;
} drift_field;

struct drift {
    pthread_mutex_t mu;
    char *decision, *connector;
    int n, window;
    double threshold;
    drift_field f[DRIFT_MAX_FIELDS];
    drift_alert_fn fn;
    void *ctx;
};

drift *drift_new(const char *decision, const char *connector, const char *const *names, int n,
                 int window, double threshold, drift_alert_fn fn, void *ctx)
{
    if (n > DRIFT_MAX_FIELDS || window < 1 || window > SIGFLOW_MAX_DRIFT_WINDOW)
        return NULL;
    drift *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    pthread_mutex_init(&d->mu, NULL);
    d->decision = strdup(decision ? decision : "");
    d->connector = strdup(connector ? connector : "");
    d->n = n;
    d->window = window;
    d->threshold = threshold;
    d->fn = fn;
    d->ctx = ctx;
    bool ok = d->decision && d->connector;
    for (int i = 0; i < n && ok; i++) {
        if (!names[i])
            continue;
        d->f[i].name = strdup(names[i]);
        d->f[i].ring = calloc((size_t)window, 1);
        ok = d->f[i].name && d->f[i].ring;
    }
    if (!ok) {
        drift_free(d);
        return NULL;
    }
    return d;
}

void drift_free(drift *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n; i++) {
        free(d->f[i].name);
        free(d->f[i].ring);
    }
    free(d->decision);
    free(d->connector);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

/* ---- shape: keys only, never values ------------------------------------------------------ */

typedef struct shape_buf {
    char *p;
    size_t len, cap;
    bool full;
} shape_buf;

static void sb_add(shape_buf *b, const char *s, size_t n)
{
    if (b->full)
        return;
    if (b->len + n + 4 >= b->cap) { /* room for "..." and the NUL */
        memcpy(b->p + b->len, "...", 3);
        b->len += 3;
        b->full = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void shape_of(shape_buf *b, json_object *v, int depth)
{
    if (json_object_is_type(v, json_type_array)) {
        sb_add(b, "[", 1);
        if (json_object_array_length(v) > 0)
            shape_of(b, json_object_array_get_idx(v, 0), depth + 1);
        sb_add(b, "]", 1);
        return;
    }
    if (!json_object_is_type(v, json_type_object) || depth >= SIGFLOW_MAX_JSON_DEPTH)
        return;
    sb_add(b, "{", 1);
    bool first = true;
    json_object_object_foreach(v, key, val)
    {
        if (!first)
            sb_add(b, ",", 1);
        first = false;
        sb_add(b, "\"", 1);
        for (const char *k = key; *k; k++) /* keys as JSON strings, control bytes dropped */
            if ((unsigned char)*k >= 0x20 && *k != '"' && *k != '\\')
                sb_add(b, k, 1);
        sb_add(b, "\"", 1);
        if (json_object_is_type(val, json_type_object) ||
            json_object_is_type(val, json_type_array)) {
            sb_add(b, ":", 1);
            shape_of(b, val, depth + 1);
        }
    }
    sb_add(b, "}", 1);
}

void drift_shape(json_object *doc, char *out, size_t outlen)
{
    shape_buf b = {out, 0, outlen < SIGFLOW_MAX_SHAPE_LEN ? outlen : SIGFLOW_MAX_SHAPE_LEN, false};
    if (b.cap < 8) {
        if (outlen)
            out[0] = '\0';
        return;
    }
    if (json_object_is_type(doc, json_type_object) || json_object_is_type(doc, json_type_array))
        shape_of(&b, doc, 0);
    else
        sb_add(&b, "(not an object)", 15);
    out[b.len] = '\0';
}

/* ---- judging ----------------------------------------------------------------------------- */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A document as parsed (obj) or as text not parsed yet (drift_observe_text). */
typedef struct drift_doc {
    json_object *obj;
    const char *text;
    size_t len;
} drift_doc;

/* The shape of the document that tipped a field; text is parsed here, only for an alert. */
static void drift_doc_shape(const drift_doc *doc, char *out, size_t outlen)
{
    if (doc->obj || !doc->text || doc->len > (size_t)INT32_MAX) {
        drift_shape(doc->obj, out, outlen);
        return;
    }
    json_tokener *tok = json_tokener_new_ex(SIGFLOW_MAX_JSON_DEPTH);
    json_object *obj = tok ? json_tokener_parse_ex(tok, doc->text, (int)doc->len) : NULL;
    drift_shape(obj, out, outlen);
    json_object_put(obj);
    if (tok)
        json_tokener_free(tok);
}

static sf_alert *make_alert(const drift *d, const drift_field *f, bool drifted, double share,
                            const drift_doc *doc)
{
    char text[SIGFLOW_MAX_ERROR_LEN + SIGFLOW_MAX_SHAPE_LEN], shape[SIGFLOW_MAX_SHAPE_LEN] = "";
    if (drifted)
        drift_doc_shape(doc, shape, sizeof shape);
    if (drifted)
        snprintf(text, sizeof text,
                 "connector %s: field %s missing or of the wrong type in %.0f%% of the last %d "
                 "documents (was healthy); a recent document looks like %s",
                 d->connector, f->name, share * 100, d->window, shape);
    else
        snprintf(text, sizeof text,
                 "connector %s: field %s recovered: missing or of the wrong type in %.0f%% of "
                 "the last %d documents",
                 d->connector, f->name, share * 100, d->window);
    health_figure fig[] = {{"share", share, NULL},
                           {"documents", d->window, NULL},
                           {"threshold", d->threshold, NULL},
                           {"shape", 0, shape}};
    return health_alert_new(d->decision, wall_ms(), drifted ? "drift" : "recovered", NULL,
                            d->connector, f->name, text, fig, drifted ? 4 : 3);
}

/* Under the lock: one document for field f; an alert to raise, or NULL. */
static sf_alert *judge(drift *d, drift_field *f, bool miss, const drift_doc *doc)
{
    f->misses += miss - f->ring[f->pos];
    f->ring[f->pos] = miss;
    f->pos = (f->pos + 1) % d->window;
    if (f->filled < d->window)
        f->filled++;
    if (f->filled < d->window)
        return NULL;
    double share = (double)f->misses / d->window;
    if (f->state != ST_DRIFTED && share <= d->threshold) {
        f->state = ST_HEALTHY;
        return NULL;
    }
    if (f->state == ST_HEALTHY && share > d->threshold) {
        f->state = ST_DRIFTED;
        return make_alert(d, f, true, share, doc);
    }
    if (f->state == ST_DRIFTED && share <= d->threshold / 2) {
        f->state = ST_HEALTHY;
        return make_alert(d, f, false, share, doc);
    }
    return NULL;
}

static void observe(drift *d, unsigned missed, const drift_doc *doc)
{
    sf_alert *out[DRIFT_MAX_FIELDS];
    int n = 0;
    pthread_mutex_lock(&d->mu);
    for (int i = 0; i < d->n; i++) {
        if (!d->f[i].name)
            continue;
        sf_alert *a = judge(d, &d->f[i], (missed >> i) & 1, doc);
        if (a)
            out[n++] = a;
    }
    pthread_mutex_unlock(&d->mu);
    for (int i = 0; i < n; i++) {
        if (d->fn)
            d->fn(d->ctx, out[i]);
        else
            alert_free(out[i]);
    }
}

void drift_observe(drift *d, unsigned missed, json_object *doc)
{
    observe(d, missed, &(drift_doc){.obj = doc});
}

void drift_observe_text(drift *d, unsigned missed, const char *json, size_t len)
{
    observe(d, missed, &(drift_doc){.text = json, .len = len});
}
