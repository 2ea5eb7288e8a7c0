#include "plugin/host.h"

#include <errno.h>
#include <json.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/alert.h"
#include "model/event.h"
#include "plugin/host_alert.h"
#include "plugin/host_message.h"
#include "plugin/host_call.h"
#include "plugin/host_metric.h"
#include "plugin/host_request.h"
#include "plugin/instance_internal.h"
#include "base/limits.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/monotime.h"
#include "base/readiness.h"

/* ---- logging and errors ------------------------------------------------------------------- */

static void h_vlog(sf_instance *in, sf_log_level level, const char *fmt, va_list ap)
{
    /* Outside an instance (init): the plugin the loader noted for this thread. */
    const char *noted = host_call_log_ctx();
    log_vmsg(level, in ? in->ctx : noted ? noted : "plugin=?", fmt, ap);
}

static void h_log(sf_instance *in, sf_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    h_vlog(in, level, fmt, ap);
    va_end(ap);
}

static void h_set_error(sf_instance *in, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    instance_set_errorv(in, fmt, ap);
    va_end(ap);
}

static const char *h_last_error(sf_instance *in)
{
    return in ? in->last_error : "";
}

/* ---- options ------------------------------------------------------------------------------ */

static const char *h_instance_name(sf_instance *in)
{
    return in->cfg->name;
}
static bool h_opt_is_set(sf_instance *in, const char *n)
{
    return options_is_set(in->opts, n);
}
static const char *h_opt_string(sf_instance *in, const char *n)
{
    return options_string(in->opts, n);
}
static int64_t h_opt_int(sf_instance *in, const char *n)
{
    return options_int(in->opts, n);
}
static double h_opt_double(sf_instance *in, const char *n)
{
    return options_double(in->opts, n);
}
static bool h_opt_bool(sf_instance *in, const char *n)
{
    return options_bool(in->opts, n);
}
static int64_t h_opt_duration_ms(sf_instance *in, const char *n)
{
    return options_duration_ms(in->opts, n);
}

/* ---- events ------------------------------------------------------------------------------- */

static sf_event *h_event_new(sf_instance *in, const char *entity, const char *type, int64_t time_ms)
{
    char err[128];
    sf_event *ev = event_new(entity, type, time_ms, err, sizeof err);
    if (!ev)
        h_set_error(in, "%s", err);
    return ev;
}

static void h_event_set_value(sf_event *ev, double value)
{
    if (!ev)
        return;
    ev->value = value;
    ev->has_value = true;
}

/* Attrs must be a JSON object within the limits: parse once here so nothing downstream must. */
static sf_status h_event_set_attrs_json(sf_event *ev, const char *json, size_t len)
{
    if (!ev || !json || len > SIGFLOW_MAX_ATTRS_LEN)
        return SF_EINVAL;
    json_tokener *tok = json_tokener_new_ex(SIGFLOW_MAX_JSON_DEPTH);
    if (!tok)
        return SF_ENOMEM;
    json_object *obj = json_tokener_parse_ex(tok, json, (int)len);
    bool ok = obj && json_tokener_get_error(tok) == json_tokener_success &&
              json_object_is_type(obj, json_type_object);
    json_object_put(obj);
    json_tokener_free(tok);
    return ok ? event_set_attrs(ev, json, len) : SF_EINVAL;
}

static void h_event_free(sf_event *ev)
{
    event_free(ev);
}

static sf_status h_emit(sf_instance *in, sf_event *ev)
{
    if (!ev)
        return SF_EINVAL;
    if (!in || in->st != INST_STARTED || !in->io.emit || atomic_load(&in->abandoned)) {
        event_free(ev);
        return SF_EINVAL;
    }
    if (ev->dropped) { /* its type is not kept, or unmapped and ignored: counted by mapping */
        event_free(ev);
        return SF_OK;
    }
    return in->io.emit(in->io.ctx, in, ev);
}

static sf_status h_map_json(sf_instance *in, const char *json, size_t len, sf_event **out)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    *out = NULL;
    if (!in->map) {
        h_set_error(in, "instance has no mapping (only connectors map JSON)");
        return SF_EUNSUPPORTED;
    }
    sf_status st = mapping_apply(in->map, json, len, out, err, sizeof err);
    if (st != SF_OK)
        h_set_error(in, "%s", err);
    return st;
}

/* ---- checkpoints, metrics, stop, threads -------------------------------------------------- */

static sf_status h_checkpoint_get(sf_instance *in, const char *key, char **value)
{
    *value = NULL;
    if (!in->io.checkpoint_get)
        return SF_EUNSUPPORTED;
    return in->io.checkpoint_get(in->io.ctx, in, key, value);
}

static sf_status h_checkpoint_set(sf_instance *in, const char *key, const char *value)
{
    if (!in->io.checkpoint_set)
        return SF_EUNSUPPORTED;
    return in->io.checkpoint_set(in->io.ctx, in, key, value);
}

/* One label name per concept in /metrics: `connector` and `target` (a delivery), as the
 * core's own series; never `instance`, which Prometheus sets itself (and renames ours). */
static const char *h_metric_label(const sf_instance *in)
{
    return in->cfg->kind == SF_KIND_DELIVERY ? "target" : "connector";
}

/* A metric name becomes part of a Prometheus series name: [a-z0-9_], 1..SIGFLOW_MAX_METRIC_NAME. */
static bool metric_name_ok(const char *name)
{
    size_t n = 0;
    for (; name && name[n]; n++)
        if (n >= SIGFLOW_MAX_METRIC_NAME_LEN ||
            !((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= '0' && name[n] <= '9') ||
              name[n] == '_'))
            return false;
    return n > 0;
}

static void h_metric_add(sf_instance *in, const char *name, double delta)
{
    /* A name added before: its series is remembered (no formatting, no table lock). */
    metrics_series *s = host_metric_find(in, name);
    if (s) {
        metrics_series_add(s, delta);
        return;
    }
    if (!metric_name_ok(name)) {
        /* One line per instance: a bad name in a hot loop must not flood the log. */
        if (!atomic_exchange(&in->bad_metric_logged, true))
            log_warn(in->ctx,
                     "metric name \"%.*s\" refused: expected [a-z0-9_]{1,%d} (it becomes part "
                     "of a Prometheus series name); further bad names are dropped silently",
                     SIGFLOW_MAX_METRIC_NAME_LEN, name ? name : "(null)",
                     SIGFLOW_MAX_METRIC_NAME_LEN);
        return;
    }
    char series[256];
    snprintf(series, sizeof series, "sigflow_plugin_%s_%s_total{%s=\"%s\"}", in->plugin->desc.name,
             name, h_metric_label(in), in->cfg->name);
    if ((s = host_metric_remember(in, name, series)))
        metrics_series_add(s, delta);
    else
        metrics_add(series, delta);
}

/* since 1.4: what /readyz says about this instance (base/readiness.h). */
static void h_health_set(sf_instance *in, bool ok, const char *reason)
{
    if (!in || atomic_load(&in->abandoned)) /* a new instance may have its name now */
        return;
    readiness_set(in->cfg->name, in->plugin->desc.name,
                  ok ? NULL : (reason && *reason ? reason : "the plugin says it is not ready"));
}

static void h_metric_set(sf_instance *in, const char *name, double value)
{
    char series[256];
    snprintf(series, sizeof series, "sigflow_plugin_%s_%s{%s=\"%s\"}", in->plugin->desc.name, name,
             h_metric_label(in), in->cfg->name);
    metrics_set(series, value);
}

static const char *h_opt_prefixed(sf_instance *in, const char *prefix, size_t i,
                                  const char **suffix)
{
    return options_prefixed(in->opts, prefix, i, suffix);
}

static bool h_should_stop(sf_instance *in)
{
    return atomic_load(&in->stopping) || atomic_load(&in->abandoned);
}

static bool h_sleep_ms(sf_instance *in, int64_t ms)
{
    struct timespec dl = monotime_after(ms);
    pthread_mutex_lock(&in->stop_lock);
    while (!atomic_load(&in->stopping))
        if (pthread_cond_timedwait(&in->stop_cv, &in->stop_lock, &dl) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&in->stop_lock);
    return atomic_load(&in->stopping);
}

static void *thread_main(void *arg)
{
    pthread_setname_np(pthread_self(), "sf-plugin"); /* top -H, perf: docs/operating.md */
    spawned *s = arg;
    /* Signals are handled by the main thread only. */
    host_block_signals();
    host_call_enter(s->inst->ctx, s->inst->plugin->desc.name, "thread");
    s->fn(s->inst, s->arg);
    host_call_leave();
    return NULL;
}

static sf_status h_thread_spawn(sf_instance *in, sf_thread_fn fn, void *arg)
{
    if (!fn || in->n_threads == INSTANCE_MAX_THREADS)
        return SF_EINVAL;
    spawned *s = calloc(1, sizeof *s);
    if (!s)
        return SF_ENOMEM;
    *s = (spawned){.inst = in, .fn = fn, .arg = arg};
    if (pthread_create(&s->tid, NULL, thread_main, s) != 0) {
        free(s);
        return SF_EIO;
    }
    in->threads[in->n_threads++] = s;
    return SF_OK;
}

/* ---- memory ------------------------------------------------------------------------------- */

static void *h_alloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        log_error("component=host", "out of memory allocating %zu bytes for a plugin", size);
        abort();
    }
    return p;
}

static void h_free(void *p)
{
    free(p);
}

/* ---- the table ---------------------------------------------------------------------------- */

static char *h_render_as(sf_instance *in, const sf_alert *a, const char *tmpl, sf_escape esc)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    char *out = host_msg_render(a, tmpl, esc, err, sizeof err);
    if (!out && in)
        h_set_error(in, "%s", err);
    return out;
}

static const sf_host g_host = {
    .size = sizeof(sf_host),
    .abi_major = SF_ABI_MAJOR,
    .abi_minor = SF_ABI_MINOR,
    .log = h_log,
    .vlog = h_vlog,
    .set_error = h_set_error,
    .instance_name = h_instance_name,
    .opt_is_set = h_opt_is_set,
    .opt_string = h_opt_string,
    .opt_int = h_opt_int,
    .opt_double = h_opt_double,
    .opt_bool = h_opt_bool,
    .opt_duration_ms = h_opt_duration_ms,
    .event_new = h_event_new,
    .event_set_value = h_event_set_value,
    .event_set_attrs_json = h_event_set_attrs_json,
    .event_free = h_event_free,
    .emit = h_emit,
    .map_json = h_map_json,
    .checkpoint_get = h_checkpoint_get,
    .checkpoint_set = h_checkpoint_set,
    .metric_add = h_metric_add,
    .should_stop = h_should_stop,
    .thread_spawn = h_thread_spawn,
    .sleep_ms = h_sleep_ms,
    .alert_id = host_alert_id,
    .alert_decision = host_alert_decision,
    .alert_question = host_alert_question,
    .alert_entity = host_alert_entity,
    .alert_time_ms = host_alert_time_ms,
    .alert_score = host_alert_score,
    .alert_reason_count = host_alert_reason_count,
    .alert_reason_signal = host_alert_reason_signal,
    .alert_reason_text = host_alert_reason_text,
    .alert_reason_x = host_alert_reason_x,
    .alert_reason_weight = host_alert_reason_weight,
    .alert_json = host_alert_json,
    .alert_attr = host_alert_attr,
    .render = host_alert_render,
    .alloc = h_alloc,
    .free = h_free,
    .req_method = host_req_method,
    .req_path = host_req_path,
    .req_header = host_req_header,
    .req_body = host_req_body,
    .last_error = h_last_error,
    .hmac_sha256 = crypto_hmac_sha256,
    .equal_ct = crypto_equal,
    .metric_set = h_metric_set,
    .opt_prefixed = h_opt_prefixed,
    .msg_title = host_msg_title,
    .msg_reason_count = host_msg_reason_count,
    .msg_reason_signal = host_msg_reason_signal,
    .msg_reason_text = host_msg_reason_text,
    .msg_reason_contribution = host_msg_reason_contribution,
    .msg_attr_count = host_msg_attr_count,
    .msg_attr_name = host_msg_attr_name,
    .msg_attr_value = host_msg_attr_value,
    .msg_link_count = host_msg_link_count,
    .msg_link_name = host_msg_link_name,
    .msg_link_url = host_msg_link_url,
    .msg_feedback_url = host_msg_feedback_url,
    .msg_json = host_msg_json,
    .msg_item_count = host_msg_item_count,
    .msg_item = host_msg_item,
    .render_as = h_render_as,
    .template_check = host_template_check,
    .health_set = h_health_set,
};

static const sf_host_info g_info = {
    .size = sizeof(sf_host_info),
    .abi_major = SF_ABI_MAJOR,
    .abi_minor = SF_ABI_MINOR,
    .host_version = SIGFLOW_VERSION,
};

const sf_host *host_table(void)
{
    return &g_host;
}
const sf_host_info *host_info(void)
{
    return &g_info;
}
