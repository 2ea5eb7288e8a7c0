/*
 * instance.c - plugin instances and the lifecycle the host enforces (new -> created ->
 * started -> stopped -> destroyed): every callback runs under the instance's call lock
 * (unless the plugin is reentrant) with the crash context recorded. See instance.h.
 */
#include "plugin/instance.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/readiness.h"
#include "base/log.h"
#include "base/monotime.h"
#include "plugin/host_alert.h"
#include "plugin/host_call.h"
#include "plugin/host_message.h"
#include "plugin/instance_internal.h"

/* Run a plugin callback under the instance's call lock, with the crash context recorded. */
#define PLUGIN_CALL(in, cb, expr)                                                                  \
    do {                                                                                           \
        bool locked_ = !((in)->plugin->desc.flags & SF_PLUGIN_REENTRANT);                          \
        if (locked_)                                                                               \
            pthread_mutex_lock(&(in)->call_lock);                                                  \
        host_call_enter((in)->ctx, (in)->plugin->desc.name, (cb));                                 \
        atomic_store(&(in)->in_callback, (cb));                                                    \
        expr;                                                                                      \
        atomic_store(&(in)->in_callback, (const char *)NULL);                                      \
        host_call_leave();                                                                         \
        if (locked_)                                                                               \
            pthread_mutex_unlock(&(in)->call_lock);                                                \
    } while (0)

/* ---- errors ------------------------------------------------------------------------------- */

void instance_set_errorv(sf_instance *in, const char *fmt, va_list ap)
{
    if (!in)
        return;
    pthread_mutex_lock(&in->err_lock);
    vsnprintf(in->last_error, sizeof in->last_error, fmt, ap);
    pthread_mutex_unlock(&in->err_lock);
}

void instance_set_error(sf_instance *in, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    instance_set_errorv(in, fmt, ap);
    va_end(ap);
}

/* ---- instances ---------------------------------------------------------------------------- */

sf_instance *instance_new(const config_instance *cfg, const loaded_plugin *p, opt_values *opts,
                          mapping *map, const instance_io *io)
{
    sf_instance *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->cfg = cfg;
    in->plugin = p;
    in->opts = opts;
    in->map = map;
    if (io)
        in->io = *io;
    in->st = INST_NEW;
    snprintf(in->ctx, sizeof in->ctx, "plugin=%s instance=%s", p->desc.name, cfg->name);
    pthread_mutex_init(&in->call_lock, NULL);
    pthread_mutex_init(&in->stop_lock, NULL);
    pthread_mutex_init(&in->err_lock, NULL);
    pthread_mutex_init(&in->metric_lock, NULL);
    monotime_cond_init(&in->stop_cv);
    atomic_init(&in->stopping, false);
    atomic_init(&in->bad_metric_logged, false);
    atomic_init(&in->abandoned, false);
    atomic_init(&in->in_callback, NULL);
    return in;
}

static sf_status out_of_order(sf_instance *in, const char *what)
{
    instance_set_error(in, "%s called in state %d (lifecycle is create, start, stop, destroy)",
                       what, (int)in->st);
    log_error(in->ctx, "%s", in->last_error);
    return SF_EINVAL;
}

/* A plugin returned an error: keep its text, or say which call failed if it gave none. */
static void note_failure(sf_instance *in, const char *callback, sf_status st)
{
    pthread_mutex_lock(&in->err_lock);
    if (!in->last_error[0])
        snprintf(in->last_error, sizeof in->last_error, "%s failed with status %d", callback,
                 (int)st);
    pthread_mutex_unlock(&in->err_lock);
}

sf_status instance_create(sf_instance *in)
{
    if (in->st != INST_NEW)
        return out_of_order(in, "create");
    sf_status st = SF_OK;
    in->last_error[0] = '\0';
    if (in->plugin->desc.create)
        PLUGIN_CALL(in, "create", st = in->plugin->desc.create(in, &in->state));
    if (st != SF_OK) {
        note_failure(in, "create", st);
        in->st = INST_FAILED;
        return st;
    }
    in->st = INST_CREATED;
    return SF_OK;
}

sf_status instance_start(sf_instance *in)
{
    if (in->st != INST_CREATED)
        return out_of_order(in, "start");
    atomic_store(&in->stopping, false);
    in->st = INST_STARTED; /* before start: a plugin may emit from start itself */
    sf_status st = SF_OK;
    if (in->plugin->desc.start)
        PLUGIN_CALL(in, "start", st = in->plugin->desc.start(in, in->state));
    if (st != SF_OK) {
        note_failure(in, "start", st);
        instance_stop(in);
        in->st = INST_FAILED;
    }
    return st;
}

static void join_threads(sf_instance *in)
{
    for (size_t i = 0; i < in->n_threads; i++) {
        pthread_join(in->threads[i]->tid, NULL);
        free(in->threads[i]);
    }
    in->n_threads = 0;
}

sf_status instance_stop(sf_instance *in)
{
    if (in->st != INST_STARTED)
        return out_of_order(in, "stop");
    pthread_mutex_lock(&in->stop_lock);
    atomic_store(&in->stopping, true);
    pthread_cond_broadcast(&in->stop_cv);
    pthread_mutex_unlock(&in->stop_lock);
    sf_status st = SF_OK;
    if (in->plugin->desc.stop)
        PLUGIN_CALL(in, "stop", st = in->plugin->desc.stop(in, in->state));
    join_threads(in);
    in->st = INST_STOPPED;
    readiness_clear(in->cfg->name); /* its reason, if it gave one, goes with it */
    return st;
}

void instance_free(sf_instance *in)
{
    if (!in)
        return;
    if (in->st == INST_STARTED)
        instance_stop(in);
    join_threads(in);
    if (in->st != INST_NEW && in->plugin->desc.destroy)
        PLUGIN_CALL(in, "destroy", in->plugin->desc.destroy(in, in->state));
    pthread_mutex_destroy(&in->call_lock);
    pthread_mutex_destroy(&in->stop_lock);
    pthread_mutex_destroy(&in->err_lock);
    pthread_mutex_destroy(&in->metric_lock);
    pthread_cond_destroy(&in->stop_cv);
    free(in);
}

sf_status instance_poll(sf_instance *in)
{
    if (in->st != INST_STARTED)
        return out_of_order(in, "poll");
    if (!in->plugin->desc.poll)
        return SF_EUNSUPPORTED;
    sf_status st;
    PLUGIN_CALL(in, "poll", st = in->plugin->desc.poll(in, in->state));
    if (st == SF_OK && in->io.settle)
        st = in->io.settle(in->io.ctx, in);
    if (st != SF_OK)
        note_failure(in, "poll", st);
    return st;
}

static void clear_error(sf_instance *in)
{
    pthread_mutex_lock(&in->err_lock);
    in->last_error[0] = '\0';
    pthread_mutex_unlock(&in->err_lock);
}

sf_status instance_request(sf_instance *in, const sf_http_request *req, sf_http_response *resp)
{
    if (in->st != INST_STARTED)
        return out_of_order(in, "request");
    if (!in->plugin->desc.request)
        return SF_EUNSUPPORTED;
    sf_status st;
    /* The listener answers 400 with the last error: it must be this request's, not a stale
       one, so it is cleared under the call lock, just before the callback. */
    PLUGIN_CALL(in, "request", clear_error(in);
                st = in->plugin->desc.request(in, in->state, req, resp));
    /* The sender gets its 2xx only once what it sent is durable (docs/durability.md). */
    if (st == SF_OK && in->io.settle && in->io.settle(in->io.ctx, in) != SF_OK)
        st = SF_ERETRY;
    return st;
}

sf_deliver_result instance_deliver(sf_instance *in, const sf_alert *a, int64_t *retry_after_ms)
{
    *retry_after_ms = 0;
    if (in->st != INST_STARTED) {
        out_of_order(in, "deliver");
        return SF_DELIVER_RETRY;
    }
    if (!in->plugin->desc.deliver)
        return SF_DELIVER_FAIL;
    sf_deliver_result r;
    pthread_mutex_lock(&in->err_lock);
    in->last_error[0] = '\0';
    pthread_mutex_unlock(&in->err_lock);
    PLUGIN_CALL(in, "deliver", r = in->plugin->desc.deliver(in, in->state, a, retry_after_ms));
    host_alert_release();
    host_msg_release();
    return r;
}

instance_state instance_get_state(const sf_instance *in)
{
    return in->st;
}
const char *instance_get_name(const sf_instance *in)
{
    return in->cfg->name;
}
const char *instance_last_error(const sf_instance *in)
{
    return in->last_error;
}

const char *instance_in_callback(const sf_instance *in)
{
    const char *cb = atomic_load(&((sf_instance *)in)->in_callback);
    return cb ? cb : "none";
}

const char *instance_plugin_name(const sf_instance *in)
{
    return in->plugin->desc.name;
}

void instance_abandon(sf_instance *in)
{
    atomic_store(&in->abandoned, true);
    pthread_mutex_lock(&in->stop_lock);
    atomic_store(&in->stopping, true); /* sleepers wake; loops that check it end */
    pthread_cond_broadcast(&in->stop_cv);
    pthread_mutex_unlock(&in->stop_lock);
}
