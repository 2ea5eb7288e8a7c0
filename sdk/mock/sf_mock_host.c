/* SPDX-License-Identifier: MIT */
/*
 * sf_mock_host.c - the mock host's table, instances and what they record (events, logs,
 * errors, metrics, checkpoints, threads). Calls libc and pthreads only; options are in
 * sf_mock_options.c, map_json in sf_mock_map.c, alerts and requests in sf_mock_alert.c, HMAC in
 * sf_mock_crypto.c. Used by plugin unit tests.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sf_mock_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct mock_ckpt {
    char *instance, *key, *value;
} mock_ckpt;

struct sf_mock_host {
    sf_host table; /* first: the table plugins see */
    pthread_mutex_t mu;
    mock_ckpt *ckpts;
    size_t n_ckpts;
    size_t ckpt_writes;
};

/* ---- allocation ------------------------------------------------------------------------- */

void *sf_mock_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

void *sf_mock_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

char *sf_mock_xstrdup(const char *s)
{
    return sf_mock_xstrndup(s, strlen(s));
}

char *sf_mock_xstrndup(const char *s, size_t n)
{
    char *d = sf_mock_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* ---- logging and errors ----------------------------------------------------------------- */

static void mock_vlog(sf_instance *inst, sf_log_level level, const char *fmt, va_list ap)
{
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    const char *verbose = getenv("SF_MOCK_VERBOSE");
    if (verbose && *verbose && strcmp(verbose, "0") != 0)
        fprintf(stderr, "mock %d instance=%s %s\n", (int)level, inst ? inst->name : "-", buf);
    if (!inst)
        return;
    pthread_mutex_lock(&inst->mu);
    inst->logs = sf_mock_xrealloc(inst->logs, (inst->n_logs + 1) * sizeof *inst->logs);
    inst->logs[inst->n_logs].level = level;
    inst->logs[inst->n_logs].text = sf_mock_xstrdup(buf);
    inst->n_logs++;
    pthread_mutex_unlock(&inst->mu);
}

static void mock_log_fn(sf_instance *inst, sf_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mock_vlog(inst, level, fmt, ap);
    va_end(ap);
}

static void mock_verror(sf_instance *inst, const char *fmt, va_list ap)
{
    if (!inst)
        return;
    char buf[SF_MOCK_MAX_ERROR];
    vsnprintf(buf, sizeof buf, fmt, ap);
    pthread_mutex_lock(&inst->mu);
    memcpy(inst->last_error, buf, sizeof buf);
    pthread_mutex_unlock(&inst->mu);
}

void sf_mock_error(sf_instance *inst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mock_verror(inst, fmt, ap);
    va_end(ap);
}

static const char *mock_last_error(sf_instance *inst)
{
    if (!inst)
        return "";
    pthread_mutex_lock(&inst->mu);
    memcpy(inst->error_copy, inst->last_error, sizeof inst->error_copy);
    pthread_mutex_unlock(&inst->mu);
    return inst->error_copy;
}

/* ---- events ----------------------------------------------------------------------------- */

sf_event *sf_mock_event_make(sf_instance *inst, const char *entity, const char *type,
                             int64_t time_ms)
{
    if (!inst || !entity || !type)
        return NULL;
    size_t el = strlen(entity), tl = strlen(type);
    if (el == 0 || el > SF_MOCK_MAX_ENTITY) {
        sf_mock_error(inst, "entity must be 1..%d bytes, got %zu", SF_MOCK_MAX_ENTITY, el);
        return NULL;
    }
    if (tl == 0 || tl > SF_MOCK_MAX_TYPE) {
        sf_mock_error(inst, "type must be 1..%d bytes, got %zu", SF_MOCK_MAX_TYPE, tl);
        return NULL;
    }
    sf_event *ev = sf_mock_xmalloc(sizeof *ev);
    memset(ev, 0, sizeof *ev);
    ev->owner = inst;
    ev->e.entity = sf_mock_xstrdup(entity);
    ev->e.type = sf_mock_xstrdup(type);
    ev->e.time_ms = time_ms;
    pthread_mutex_lock(&inst->mu);
    inst->live++;
    pthread_mutex_unlock(&inst->mu);
    return ev;
}

static void mock_event_set_value(sf_event *ev, double value)
{
    if (!ev)
        return;
    ev->e.has_value = true;
    ev->e.value = value;
}

static sf_status mock_event_set_attrs_json(sf_event *ev, const char *json, size_t len)
{
    if (!ev || !json)
        return SF_EINVAL;
    size_t i = 0;
    while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n'))
        i++;
    if (len > SF_MOCK_MAX_ATTRS || i == len || json[i] != '{') {
        sf_mock_error(ev->owner, "attrs must be a JSON object of at most %d bytes",
                      SF_MOCK_MAX_ATTRS);
        return SF_EINVAL;
    }
    free(ev->e.attrs_json);
    ev->e.attrs_json = sf_mock_xstrndup(json, len);
    return SF_OK;
}

static void mock_event_release(sf_event *ev, bool keep_fields)
{
    sf_instance *inst = ev->owner;
    pthread_mutex_lock(&inst->mu);
    inst->live--;
    pthread_mutex_unlock(&inst->mu);
    if (!keep_fields) {
        free(ev->e.entity);
        free(ev->e.type);
        free(ev->e.attrs_json);
    }
    free(ev);
}

static void mock_event_free(sf_event *ev)
{
    if (ev)
        mock_event_release(ev, false);
}

static sf_status mock_emit(sf_instance *inst, sf_event *ev)
{
    if (!inst || !ev) {
        if (ev)
            mock_event_release(ev, false);
        return SF_EINVAL;
    }
    pthread_mutex_lock(&inst->mu);
    inst->emit_calls++;
    bool refuse = inst->retry_left > 0;
    if (refuse)
        inst->retry_left--;
    pthread_mutex_unlock(&inst->mu);
    if (refuse) {
        mock_event_release(ev, false);
        return SF_ERETRY;
    }
    pthread_mutex_lock(&inst->mu);
    inst->events = sf_mock_xrealloc(inst->events, (inst->n_events + 1) * sizeof *inst->events);
    inst->events[inst->n_events] = ev->e;
    size_t idx = inst->n_events++;
    sf_mock_emit_hook hook = inst->hook;
    void *ctx = inst->hook_ctx;
    pthread_mutex_unlock(&inst->mu);
    mock_event_release(ev, true);
    if (hook) {
        sf_mock_event copy;
        pthread_mutex_lock(&inst->mu);
        copy = inst->events[idx];
        pthread_mutex_unlock(&inst->mu);
        hook(inst, &copy, ctx);
    }
    return SF_OK;
}

static sf_status mock_map_json(sf_instance *inst, const char *json, size_t len, sf_event **out)
{
    if (!inst || !json || !out)
        return SF_EINVAL;
    *out = NULL;
    pthread_mutex_lock(&inst->mu);
    sf_mock_map_fn fn = inst->map_fn;
    void *ctx = inst->map_ctx;
    pthread_mutex_unlock(&inst->mu);
    if (fn)
        return fn(inst, json, len, out, ctx);
    return sf_mock_map_canonical(inst, json, len, out);
}

/* ---- checkpoints, metrics, stop, threads ------------------------------------------------ */

static mock_ckpt *mock_ckpt_find(sf_mock_host *h, const char *instance, const char *key)
{
    for (size_t i = 0; i < h->n_ckpts; i++)
        if (strcmp(h->ckpts[i].instance, instance) == 0 && strcmp(h->ckpts[i].key, key) == 0)
            return &h->ckpts[i];
    return NULL;
}

static void mock_ckpt_store(sf_mock_host *h, const char *instance, const char *key,
                            const char *value)
{
    mock_ckpt *c = mock_ckpt_find(h, instance, key);
    if (!c) {
        h->ckpts = sf_mock_xrealloc(h->ckpts, (h->n_ckpts + 1) * sizeof *h->ckpts);
        c = &h->ckpts[h->n_ckpts++];
        c->instance = sf_mock_xstrdup(instance);
        c->key = sf_mock_xstrdup(key);
        c->value = NULL;
    }
    free(c->value);
    c->value = sf_mock_xstrdup(value);
}

static sf_status mock_checkpoint_get(sf_instance *inst, const char *key, char **value)
{
    if (!inst || !key || !value)
        return SF_EINVAL;
    sf_mock_host *h = inst->host;
    pthread_mutex_lock(&h->mu);
    mock_ckpt *c = mock_ckpt_find(h, inst->name, key);
    *value = c ? sf_mock_xstrdup(c->value) : NULL;
    pthread_mutex_unlock(&h->mu);
    return SF_OK;
}

static sf_status mock_checkpoint_set(sf_instance *inst, const char *key, const char *value)
{
    if (!inst || !key || !value)
        return SF_EINVAL;
    sf_mock_host *h = inst->host;
    pthread_mutex_lock(&h->mu);
    mock_ckpt_store(h, inst->name, key, value);
    h->ckpt_writes++;
    pthread_mutex_unlock(&h->mu);
    return SF_OK;
}

/* Add delta to the metric, or set it when `set` (a gauge). */
static void mock_metric_update(sf_instance *inst, const char *name, double v, bool set)
{
    if (!inst || !name)
        return;
    pthread_mutex_lock(&inst->mu);
    size_t i = 0;
    while (i < inst->n_metrics && strcmp(inst->metrics[i].name, name) != 0)
        i++;
    if (i == inst->n_metrics) {
        inst->metrics =
            sf_mock_xrealloc(inst->metrics, (inst->n_metrics + 1) * sizeof *inst->metrics);
        inst->metrics[i].name = sf_mock_xstrdup(name);
        inst->metrics[i].sum = 0;
        inst->n_metrics++;
    }
    inst->metrics[i].sum = set ? v : inst->metrics[i].sum + v;
    pthread_mutex_unlock(&inst->mu);
}

static void mock_metric_add(sf_instance *inst, const char *name, double delta)
{
    mock_metric_update(inst, name, delta, false);
}

/* since 1.4 */
static void mock_health_set(sf_instance *inst, bool ok, const char *reason)
{
    if (!inst)
        return;
    pthread_mutex_lock(&inst->mu);
    inst->unhealthy = !ok;
    snprintf(inst->health_reason, sizeof inst->health_reason, "%s", ok || !reason ? "" : reason);
    inst->health_calls++;
    pthread_mutex_unlock(&inst->mu);
}

bool sf_mock_healthy(sf_instance *inst, const char **reason, size_t *calls)
{
    pthread_mutex_lock(&inst->mu);
    bool ok = !inst->unhealthy;
    if (reason)
        *reason = inst->health_reason;
    if (calls)
        *calls = inst->health_calls;
    pthread_mutex_unlock(&inst->mu);
    return ok;
}

static void mock_metric_set(sf_instance *inst, const char *name, double value)
{
    mock_metric_update(inst, name, value, true);
}

static bool mock_should_stop(sf_instance *inst)
{
    if (!inst)
        return true;
    pthread_mutex_lock(&inst->mu);
    bool s = inst->stop;
    pthread_mutex_unlock(&inst->mu);
    return s;
}

static struct timespec mock_deadline(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static bool mock_sleep_ms(sf_instance *inst, int64_t ms)
{
    if (!inst)
        return true;
    struct timespec until = mock_deadline(ms > 0 ? ms : 0);
    pthread_mutex_lock(&inst->mu);
    while (!inst->stop) {
        if (pthread_cond_timedwait(&inst->cv, &inst->mu, &until) == ETIMEDOUT)
            break;
    }
    bool s = inst->stop;
    pthread_mutex_unlock(&inst->mu);
    return s;
}

typedef struct mock_trampoline {
    sf_instance *inst;
    sf_thread_fn fn;
    void *arg;
    size_t idx;
} mock_trampoline;

static void *mock_thread_main(void *p)
{
    mock_trampoline t = *(mock_trampoline *)p;
    free(p);
    t.fn(t.inst, t.arg);
    pthread_mutex_lock(&t.inst->mu);
    t.inst->threads[t.idx].done = true;
    pthread_cond_broadcast(&t.inst->cv);
    pthread_mutex_unlock(&t.inst->mu);
    return NULL;
}

static sf_status mock_thread_spawn(sf_instance *inst, sf_thread_fn fn, void *arg)
{
    if (!inst || !fn)
        return SF_EINVAL;
    mock_trampoline *t = sf_mock_xmalloc(sizeof *t);
    t->inst = inst;
    t->fn = fn;
    t->arg = arg;
    pthread_mutex_lock(&inst->mu);
    inst->threads = sf_mock_xrealloc(inst->threads, (inst->n_threads + 1) * sizeof *inst->threads);
    t->idx = inst->n_threads;
    mock_thread *rec = &inst->threads[inst->n_threads];
    rec->done = false;
    rec->joined = false;
    int rc = pthread_create(&rec->tid, NULL, mock_thread_main, t);
    if (rc == 0)
        inst->n_threads++;
    pthread_mutex_unlock(&inst->mu);
    if (rc != 0) {
        free(t);
        sf_mock_error(inst, "pthread_create: %s", strerror(rc));
        return SF_EIO;
    }
    return SF_OK;
}

size_t sf_mock_thread_count(sf_instance *inst)
{
    pthread_mutex_lock(&inst->mu);
    size_t n = inst->n_threads;
    pthread_mutex_unlock(&inst->mu);
    return n;
}

sf_status sf_mock_join_threads(sf_instance *inst, int64_t timeout_ms)
{
    struct timespec until = mock_deadline(timeout_ms > 0 ? timeout_ms : 0);
    sf_status st = SF_OK;
    pthread_mutex_lock(&inst->mu);
    for (size_t i = 0; i < inst->n_threads; i++) {
        while (!inst->threads[i].done) {
            if (pthread_cond_timedwait(&inst->cv, &inst->mu, &until) == ETIMEDOUT)
                break;
        }
        if (!inst->threads[i].done) {
            st = SF_ETIMEOUT;
            continue;
        }
        if (!inst->threads[i].joined) {
            pthread_t tid = inst->threads[i].tid;
            inst->threads[i].joined = true;
            pthread_mutex_unlock(&inst->mu);
            pthread_join(tid, NULL);
            pthread_mutex_lock(&inst->mu);
        }
    }
    pthread_mutex_unlock(&inst->mu);
    return st;
}

void sf_mock_request_stop(sf_instance *inst)
{
    pthread_mutex_lock(&inst->mu);
    inst->stop = true;
    pthread_cond_broadcast(&inst->cv);
    pthread_mutex_unlock(&inst->mu);
}

static void *mock_alloc(size_t size)
{
    return sf_mock_xmalloc(size);
}

static void mock_free(void *p)
{
    free(p);
}

/* ---- the host ---------------------------------------------------------------------------- */

sf_mock_host *sf_mock_host_new(void)
{
    sf_mock_host *h = sf_mock_xmalloc(sizeof *h);
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    sf_host *t = &h->table;
    t->size = (uint32_t)sizeof(sf_host);
    t->abi_major = SF_ABI_MAJOR;
    t->abi_minor = SF_ABI_MINOR;
    t->log = mock_log_fn;
    t->vlog = mock_vlog;
    t->set_error = sf_mock_error;
    t->event_new = sf_mock_event_make;
    t->event_set_value = mock_event_set_value;
    t->event_set_attrs_json = mock_event_set_attrs_json;
    t->event_free = mock_event_free;
    t->emit = mock_emit;
    t->map_json = mock_map_json;
    t->checkpoint_get = mock_checkpoint_get;
    t->checkpoint_set = mock_checkpoint_set;
    t->metric_add = mock_metric_add;
    t->should_stop = mock_should_stop;
    t->thread_spawn = mock_thread_spawn;
    t->sleep_ms = mock_sleep_ms;
    t->alloc = mock_alloc;
    t->free = mock_free;
    t->last_error = mock_last_error;
    t->hmac_sha256 = sf_mock_hmac_sha256;
    t->equal_ct = sf_mock_equal_ct;
    t->metric_set = mock_metric_set;
    t->health_set = mock_health_set;
    sf_mock_fill_option_table(t);
    sf_mock_fill_alert_table(t);
    sf_mock_fill_message_table(t);
    return h;
}

void sf_mock_host_free(sf_mock_host *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_ckpts; i++) {
        free(h->ckpts[i].instance);
        free(h->ckpts[i].key);
        free(h->ckpts[i].value);
    }
    free(h->ckpts);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

sf_host *sf_mock_host_table(sf_mock_host *h)
{
    return &h->table;
}

void sf_mock_checkpoint_put(sf_mock_host *h, const char *instance, const char *key,
                            const char *value)
{
    pthread_mutex_lock(&h->mu);
    mock_ckpt_store(h, instance, key, value);
    pthread_mutex_unlock(&h->mu);
}

const char *sf_mock_checkpoint_peek(sf_mock_host *h, const char *instance, const char *key)
{
    pthread_mutex_lock(&h->mu);
    mock_ckpt *c = mock_ckpt_find(h, instance, key);
    const char *v = c ? c->value : NULL;
    pthread_mutex_unlock(&h->mu);
    return v;
}

size_t sf_mock_checkpoint_writes(sf_mock_host *h)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->ckpt_writes;
    pthread_mutex_unlock(&h->mu);
    return n;
}

/* ---- instances --------------------------------------------------------------------------- */

sf_instance *sf_mock_instance_new(sf_mock_host *h, const char *name, const sf_plugin *p)
{
    sf_instance *inst = sf_mock_xmalloc(sizeof *inst);
    memset(inst, 0, sizeof *inst);
    inst->host = h;
    inst->name = sf_mock_xstrdup(name);
    inst->plugin = p;
    pthread_mutex_init(&inst->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&inst->cv, &ca);
    pthread_condattr_destroy(&ca);
    return inst;
}

sf_status sf_mock_instance_create(sf_instance *inst)
{
    const sf_plugin *p = inst->plugin;
    if (!p || inst->create_called)
        return SF_EINVAL;
    /* The host refuses the section before any call into the plugin: so does the mock. */
    char err[SF_MOCK_MAX_ERROR];
    if (sf_mock_resolve_secrets(inst, err, sizeof err) != SF_OK) {
        sf_mock_error(inst, "%s", err);
        return SF_EINVAL;
    }
    if (p->init) {
        sf_status st = p->init(&inst->host->table);
        if (st != SF_OK)
            return st;
    }
    inst->create_called = true;
    sf_status st = p->create ? p->create(inst, &inst->state) : SF_OK;
    inst->created = st == SF_OK;
    return st;
}

sf_status sf_mock_instance_start(sf_instance *inst)
{
    if (!inst->created || inst->started)
        return SF_EINVAL;
    sf_status st = inst->plugin->start ? inst->plugin->start(inst, inst->state) : SF_OK;
    inst->started = st == SF_OK;
    return st;
}

sf_status sf_mock_instance_stop(sf_instance *inst, int64_t timeout_ms)
{
    if (!inst->started)
        return SF_EINVAL;
    sf_mock_request_stop(inst);
    sf_status st = inst->plugin->stop ? inst->plugin->stop(inst, inst->state) : SF_OK;
    inst->started = false;
    sf_status jst = sf_mock_join_threads(inst, timeout_ms);
    return jst != SF_OK ? jst : st;
}

void *sf_mock_instance_state(sf_instance *inst)
{
    return inst->state;
}

sf_deliver_result sf_mock_deliver(sf_instance *inst, const sf_alert *a, int64_t *retry_after_ms)
{
    if (!inst->plugin || !inst->plugin->deliver)
        return SF_DELIVER_FAIL;
    return inst->plugin->deliver(inst, inst->state, a, retry_after_ms);
}

sf_status sf_mock_poll(sf_instance *inst)
{
    if (!inst->plugin || !inst->plugin->poll)
        return SF_EUNSUPPORTED;
    return inst->plugin->poll(inst, inst->state);
}

void sf_mock_instance_free(sf_instance *inst)
{
    if (!inst)
        return;
    if (inst->started)
        sf_mock_instance_stop(inst, 10000);
    sf_mock_join_threads(inst, 10000);
    if (inst->create_called && inst->plugin->destroy)
        inst->plugin->destroy(inst, inst->state);
    sf_mock_free_options(inst);
    for (size_t i = 0; i < inst->n_events; i++) {
        free(inst->events[i].entity);
        free(inst->events[i].type);
        free(inst->events[i].attrs_json);
    }
    for (size_t i = 0; i < inst->n_logs; i++)
        free(inst->logs[i].text);
    for (size_t i = 0; i < inst->n_metrics; i++)
        free(inst->metrics[i].name);
    free(inst->events);
    free(inst->logs);
    free(inst->metrics);
    free(inst->threads);
    free(inst->name);
    pthread_cond_destroy(&inst->cv);
    pthread_mutex_destroy(&inst->mu);
    free(inst);
}

/* ---- inspection --------------------------------------------------------------------------- */

size_t sf_mock_event_count(sf_instance *inst)
{
    pthread_mutex_lock(&inst->mu);
    size_t n = inst->n_events;
    pthread_mutex_unlock(&inst->mu);
    return n;
}

const sf_mock_event *sf_mock_event_at(sf_instance *inst, size_t i)
{
    pthread_mutex_lock(&inst->mu);
    const sf_mock_event *e = i < inst->n_events ? &inst->events[i] : NULL;
    pthread_mutex_unlock(&inst->mu);
    return e;
}

size_t sf_mock_emit_calls(sf_instance *inst)
{
    pthread_mutex_lock(&inst->mu);
    size_t n = inst->emit_calls;
    pthread_mutex_unlock(&inst->mu);
    return n;
}

void sf_mock_emit_retry(sf_instance *inst, size_t n)
{
    pthread_mutex_lock(&inst->mu);
    inst->retry_left = n;
    pthread_mutex_unlock(&inst->mu);
}

long sf_mock_events_live(sf_instance *inst)
{
    pthread_mutex_lock(&inst->mu);
    long n = inst->live;
    pthread_mutex_unlock(&inst->mu);
    return n;
}

void sf_mock_on_emit(sf_instance *inst, sf_mock_emit_hook fn, void *ctx)
{
    pthread_mutex_lock(&inst->mu);
    inst->hook = fn;
    inst->hook_ctx = ctx;
    pthread_mutex_unlock(&inst->mu);
}

void sf_mock_set_map_json(sf_instance *inst, sf_mock_map_fn fn, void *ctx)
{
    pthread_mutex_lock(&inst->mu);
    inst->map_fn = fn;
    inst->map_ctx = ctx;
    pthread_mutex_unlock(&inst->mu);
}

size_t sf_mock_log_count(sf_instance *inst)
{
    pthread_mutex_lock(&inst->mu);
    size_t n = inst->n_logs;
    pthread_mutex_unlock(&inst->mu);
    return n;
}

const char *sf_mock_log_at(sf_instance *inst, size_t i, sf_log_level *level)
{
    const char *text = NULL;
    pthread_mutex_lock(&inst->mu);
    if (i < inst->n_logs) {
        text = inst->logs[i].text;
        if (level)
            *level = inst->logs[i].level;
    }
    pthread_mutex_unlock(&inst->mu);
    return text;
}

long sf_mock_log_find(sf_instance *inst, int level, const char *needle)
{
    long found = -1;
    pthread_mutex_lock(&inst->mu);
    for (size_t i = 0; i < inst->n_logs && found < 0; i++)
        if ((level < 0 || (int)inst->logs[i].level == level) && strstr(inst->logs[i].text, needle))
            found = (long)i;
    pthread_mutex_unlock(&inst->mu);
    return found;
}

const char *sf_mock_last_error(sf_instance *inst)
{
    return mock_last_error(inst);
}

double sf_mock_metric(sf_instance *inst, const char *name)
{
    double v = 0;
    pthread_mutex_lock(&inst->mu);
    for (size_t i = 0; i < inst->n_metrics; i++)
        if (strcmp(inst->metrics[i].name, name) == 0)
            v = inst->metrics[i].sum;
    pthread_mutex_unlock(&inst->mu);
    return v;
}
