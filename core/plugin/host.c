#include "plugin/host.h"

#include <errno.h>
#include <json.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/alert.h"
#include "model/event.h"
#include "plugin/host_alert.h"
#include "plugin/host_message.h"
#include "ingest/ingest_http.h"
#include "base/limits.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/monotime.h"
#include "base/readiness.h"

#define INSTANCE_MAX_THREADS 16

typedef struct spawned {
    pthread_t tid;
    sf_instance *inst;
    sf_thread_fn fn;
    void *arg;
} spawned;

struct sf_instance {
    const config_instance *cfg;
    const loaded_plugin *plugin;
    opt_values *opts;
    mapping *map;
    void *state;
    instance_state st;
    char ctx[160]; /* "plugin=P instance=I" for log lines */
    instance_io io;

    /* Serialises callbacks of a non-reentrant plugin (the SDK's threading contract). */
    pthread_mutex_t call_lock;
    /* Stop flag and the sleepers woken by it. */
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cv;
    atomic_bool stopping;
    atomic_bool bad_metric_logged;
    atomic_bool abandoned;             /* given up on: emits refused, never freed */
    _Atomic(const char *) in_callback; /* the callback running now (a literal), or NULL */

    spawned *threads[INSTANCE_MAX_THREADS];
    size_t n_threads;

    pthread_mutex_t err_lock;
    char last_error[SIGFLOW_MAX_ERROR_LEN];
};

/* ---- crash containment: which plugin callback is this thread in ---------------------------- */

static __thread char tl_call[PATH_MAX + 200];
static __thread char tl_plugin[PATH_MAX];
static __thread char tl_log_ctx[SIGFLOW_MAX_NAME_LEN + 16];
static __thread const char *tl_callback; /* a literal */
static __thread char tl_alert[160];      /* the alert being delivered, for crash records */

static void call_enter(sf_instance *in, const char *callback)
{
    tl_callback = callback;
    snprintf(tl_call, sizeof tl_call, "%s callback=%s", in->ctx, callback);
    snprintf(tl_plugin, sizeof tl_plugin, "%s", in->plugin->desc.name);
}

static void call_leave(void)
{
    tl_callback = NULL;
    tl_call[0] = '\0';
    tl_plugin[0] = '\0';
}

void host_call_note(const char *plugin, const char *file, const char *what)
{
    snprintf(tl_plugin, sizeof tl_plugin, "%s", plugin);
    snprintf(tl_call, sizeof tl_call, "plugin=%s plugin_file=%s callback=%s", plugin, file, what);
    snprintf(tl_log_ctx, sizeof tl_log_ctx, "plugin=%s", plugin);
}

void host_call_clear(void)
{
    call_leave();
    tl_log_ctx[0] = '\0';
}

void host_block_signals(void)
{
    sigset_t set;
    sigfillset(&set);
    /* A fault blocked in a thread kills the process before the crash handler runs. */
    int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof faults / sizeof *faults; i++)
        sigdelset(&set, faults[i]);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

const char *host_current_call(void)
{
    return tl_call[0] ? tl_call : NULL;
}
const char *host_current_callback(void)
{
    return tl_callback;
}

const char *host_current_alert(void)
{
    return tl_callback && tl_alert[0] ? tl_alert : NULL;
}

void host_note_alert(const char *alert_id)
{
    snprintf(tl_alert, sizeof tl_alert, "%s", alert_id ? alert_id : "");
}
const char *host_current_plugin(void)
{
    return tl_plugin[0] ? tl_plugin : NULL;
}

/* Run a plugin callback under the instance's call lock, with the crash context recorded. */
#define PLUGIN_CALL(in, name, expr)                                                                \
    do {                                                                                           \
        bool locked_ = !((in)->plugin->desc.flags & SF_PLUGIN_REENTRANT);                          \
        if (locked_)                                                                               \
            pthread_mutex_lock(&(in)->call_lock);                                                  \
        call_enter((in), (name));                                                                  \
        atomic_store(&(in)->in_callback, (name));                                                  \
        expr;                                                                                      \
        atomic_store(&(in)->in_callback, (const char *)NULL);                                      \
        call_leave();                                                                              \
        if (locked_)                                                                               \
            pthread_mutex_unlock(&(in)->call_lock);                                                \
    } while (0)

/* ---- logging and errors ------------------------------------------------------------------- */

static void h_vlog(sf_instance *in, sf_log_level level, const char *fmt, va_list ap)
{
    /* Outside an instance (init): the plugin the loader noted for this thread. */
    log_vmsg(level, in ? in->ctx : tl_log_ctx[0] ? tl_log_ctx : "plugin=?", fmt, ap);
}

static void h_log(sf_instance *in, sf_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    h_vlog(in, level, fmt, ap);
    va_end(ap);
}

static void set_error_v(sf_instance *in, const char *fmt, va_list ap)
{
    if (!in)
        return;
    pthread_mutex_lock(&in->err_lock);
    vsnprintf(in->last_error, sizeof in->last_error, fmt, ap);
    pthread_mutex_unlock(&in->err_lock);
}

static void h_set_error(sf_instance *in, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error_v(in, fmt, ap);
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
    spawned *s = arg;
    /* Signals are handled by the main thread only. */
    host_block_signals();
    call_enter(s->inst, "thread");
    s->fn(s->inst, s->arg);
    call_leave();
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
    .req_method = ingest_req_method,
    .req_path = ingest_req_path,
    .req_header = ingest_req_header,
    .req_body = ingest_req_body,
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
    monotime_cond_init(&in->stop_cv);
    atomic_init(&in->stopping, false);
    atomic_init(&in->bad_metric_logged, false);
    atomic_init(&in->abandoned, false);
    atomic_init(&in->in_callback, NULL);
    return in;
}

static sf_status out_of_order(sf_instance *in, const char *what)
{
    h_set_error(in, "%s called in state %d (lifecycle is create, start, stop, destroy)", what,
                (int)in->st);
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

/* ---- calls with a deadline ---------------------------------------------------------------- */

typedef struct timed_job {
    host_job_fn fn;
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    bool done;
    int refs; /* the caller and the thread: the last one out frees it */
    sf_status rc;
} timed_job;

static void timed_job_unref(timed_job *j)
{
    pthread_mutex_lock(&j->lock);
    int left = --j->refs;
    pthread_mutex_unlock(&j->lock);
    if (left == 0) {
        pthread_mutex_destroy(&j->lock);
        pthread_cond_destroy(&j->done_cv);
        free(j);
    }
}

static void *timed_main(void *arg)
{
    timed_job *j = arg;
    host_block_signals();
    sf_status rc = j->fn(j->arg);
    pthread_mutex_lock(&j->lock);
    j->rc = rc;
    j->done = true;
    pthread_cond_signal(&j->done_cv);
    pthread_mutex_unlock(&j->lock);
    timed_job_unref(j);
    return NULL;
}

sf_status host_run_timed(host_job_fn fn, void *arg, int64_t timeout_ms)
{
    timed_job *j = calloc(1, sizeof *j);
    if (!j)
        return SF_ENOMEM;
    j->fn = fn;
    j->arg = arg;
    j->refs = 2;
    pthread_mutex_init(&j->lock, NULL);
    monotime_cond_init(&j->done_cv);
    pthread_t tid;
    if (pthread_create(&tid, NULL, timed_main, j) != 0) {
        j->refs = 1;
        timed_job_unref(j);
        return SF_EIO;
    }
    pthread_detach(tid);
    struct timespec dl = monotime_after(timeout_ms > 0 ? timeout_ms : 1);
    pthread_mutex_lock(&j->lock);
    while (!j->done)
        if (pthread_cond_timedwait(&j->done_cv, &j->lock, &dl) == ETIMEDOUT)
            break;
    sf_status rc = j->done ? j->rc : SF_ETIMEOUT;
    pthread_mutex_unlock(&j->lock);
    timed_job_unref(j);
    return rc;
}
