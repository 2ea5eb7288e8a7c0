/*
 * runtime_instances.c - plugin instances as the daemon runs them: their emits and checkpoints
 * into the journal, start, stop, restart with backoff, safe mode, delivery workers and ingest
 * routes, and the periodic stats line.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/crash.h"
#include "base/log.h"
#include "base/readiness.h"
#include "base/metrics.h"
#include "base/monotime.h"
#include "daemon/runtime_internal.h"
#include "base/limits.h"
#include "score/label.h"
#include "store/store_checkpoint.h"
#include "store/store_kv.h"

/* A start that has not returned after this long is left to run off the main loop. */
#define START_GRACE_MS 100

/* ---- events in: connector -> intake -> journal -> journaled queue------------------------------
 */

static sf_status rt_emit(void *ctx, sf_instance *src, sf_event *ev)
{
    (void)src;
    rt_inst *ri = ctx;
    if (!ri->intake) {
        event_free(ev);
        return SF_EINVAL;
    }
    if (ev->type && strcmp(ev->type, SCORE_PERSON_LABEL_TYPE) == 0) {
        /* people's labels come from the admin API only (docs/scoring.md "People's labels") */
        static atomic_bool warned;
        if (!atomic_exchange(&warned, true))
            log_warn("component=runtime",
                     "instance=%s sent a `%s` event: refused (that type "
                     "carries people's labels, journaled by the admin API only)",
                     ri->si->cfg->name, SCORE_PERSON_LABEL_TYPE);
        event_free(ev);
        atomic_fetch_add(&ri->events_rejected, 1);
        return SF_EINVAL;
    }
    if (intake_add(ri->intake, ev) != SF_OK) {
        atomic_fetch_add(&ri->events_rejected, 1);
        return SF_ERETRY; /* back-pressure: the connector keeps its position and retries */
    }
    atomic_fetch_add(&ri->events_in, 1);
    return SF_OK;
}

static sf_status rt_checkpoint_get(void *ctx, sf_instance *src, const char *key, char **value)
{
    rt_inst *ri = ctx;
    if (ri->intake)
        intake_cursor_mode(ri->intake); /* it resumes from a cursor: commit only with one */
    return store_kv_get(ri->rt->st, instance_get_name(src), key, value);
}

/* A connector's cursor commits with the events emitted before it, in one transaction. */
static sf_status rt_checkpoint_set(void *ctx, sf_instance *src, const char *key, const char *value)
{
    rt_inst *ri = ctx;
    if (ri->intake) {
        intake_cursor_mode(ri->intake);
        return intake_commit(ri->intake, key, value);
    }
    return store_kv_set(ri->rt->st, instance_get_name(src), key, value);
}

static sf_status rt_settle(void *ctx, sf_instance *src)
{
    (void)src;
    rt_inst *ri = ctx;
    return ri->intake ? intake_commit(ri->intake, NULL, NULL) : SF_OK;
}

/* ---- instances ---------------------------------------------------------------------------- */

/* collectd's rule: a failing poll is retried with a doubling interval, the others run on. */
static void *poller_main(void *arg)
{
    pthread_setname_np(pthread_self(), "sf-poll"); /* top -H, perf: docs/operating.md */
    rt_inst *ri = arg;
    host_block_signals();
    const sf_host *h = host_table();
    int64_t every = ri->si->plugin->desc.poll_interval_ms;
    int64_t wait = every;
    while (!h->should_stop(ri->inst)) {
        if (instance_poll(ri->inst) == SF_OK) {
            wait = every;
        } else {
            wait = wait * 2 > RESTART_BACKOFF_MAX_MS ? RESTART_BACKOFF_MAX_MS : wait * 2;
            log_warn("component=runtime", "instance=%s poll failed: %s; next poll in %lld ms",
                     instance_get_name(ri->inst), instance_last_error(ri->inst), (long long)wait);
        }
        h->sleep_ms(ri->inst, wait);
    }
    return NULL;
}

static void inst_schedule_restart(rt_inst *ri)
{
    ri->backoff_ms = ri->backoff_ms ? ri->backoff_ms * 2 : RESTART_BACKOFF_MIN_MS;
    if (ri->backoff_ms > RESTART_BACKOFF_MAX_MS)
        ri->backoff_ms = RESTART_BACKOFF_MAX_MS;
    ri->restart_at_ms = monotime_ms() + ri->backoff_ms;
    log_warn("component=runtime", "instance=%s will be restarted in %lld ms", ri->si->cfg->name,
             (long long)ri->backoff_ms);
}

/* What stopping one instance touches, handed to a timed job (runtime__inst_stop). */
typedef struct stop_job {
    sf_instance *inst;
    delivery_worker *worker;
    ingest_http *http;
    bool routed, has_poller;
    pthread_t poller;
} stop_job;

static sf_status stop_job_run(void *arg)
{
    stop_job *j = arg;
    if (j->worker) /* finishes its attempt in flight; the rest waits in the outbox */
        delivery_stop(j->worker);
    if (j->routed) /* no request may be inside the plugin once it stops */
        ingest_http_unroute(j->http, j->inst);
    if (instance_get_state(j->inst) == INST_STARTED)
        instance_stop(j->inst); /* sets should_stop: the poller ends too */
    if (j->has_poller)
        pthread_join(j->poller, NULL);
    return SF_OK;
}

/* Give up on an instance that does not let go: name it, leave it be, go on. */
static void inst_abandon(rt_inst *ri, const char *doing)
{
    log_error("component=runtime",
              "instance=%s plugin=%s did not %s within %lld ms (stuck in callback=%s): "
              "abandoned; what it had not finished stays in the journal and the outbox",
              ri->si->cfg->name, instance_plugin_name(ri->inst), doing, (long long)ri->timeout_ms,
              instance_in_callback(ri->inst));
    instance_abandon(ri->inst); /* never freed: a thread is still inside it */
    ri->inst = NULL;
    ri->worker = NULL;
    ri->intake = NULL; /* left to the abandoned instance, uncommitted: nothing was acked */
    ri->routed = false;
    ri->has_poller = false;
}

static int inst_start_settle(rt_inst *ri, int64_t wait_ms, bool stopping);

void runtime__inst_stop(rt_inst *ri)
{
    /* A start still running: wait for it until its own deadline, then abandon it (named). */
    while (ri->starting) {
        int64_t left = ri->start_deadline_ms - monotime_ms();
        inst_start_settle(ri, left > 0 ? left : 0, true);
    }
    if (!ri->inst)
        return;
    stop_job *j = malloc(sizeof *j);
    if (!j) {
        inst_abandon(ri, "stop (out of memory)");
        return;
    }
    *j = (stop_job){.inst = ri->inst,
                    .worker = ri->worker,
                    .http = ri->rt->http,
                    .routed = ri->routed,
                    .has_poller = ri->has_poller,
                    .poller = ri->poller};
    if (host_run_timed(stop_job_run, j, ri->timeout_ms) == SF_ETIMEOUT) {
        inst_abandon(ri, "stop"); /* j stays with the job still running */
        return;
    }
    free(j);
    ri->worker = NULL;
    ri->routed = false;
    ri->has_poller = false;
    intake_free(ri->intake); /* commits what the connector emitted last */
    ri->intake = NULL;
    instance_free(ri->inst);
    ri->inst = NULL;
}

static sf_status start_job_run(void *arg)
{
    sf_instance *in = arg;
    sf_status st = instance_create(in);
    return st == SF_OK ? instance_start(in) : st;
}

/* Put a connector with a request callback on the ingest listener, at its `path` option. */
static sf_status inst_route(rt_inst *ri)
{
    runtime *rt = ri->rt;
    const char *path = options_string(ri->si->opts, "path");
    char err[SIGFLOW_MAX_ERROR_LEN];
    if (!path) {
        log_error("component=runtime", "instance=%s: a request connector needs a `path`",
                  ri->si->cfg->name);
        return SF_EINVAL;
    }
    if (!rt->http && !(rt->http = ingest_http_start(rt->site->cfg->ingest, err, sizeof err))) {
        log_error("component=runtime", "cannot listen on %s: %s", rt->site->cfg->ingest, err);
        runtime__ready_ingest(rt->site->cfg->ingest, err); /* /readyz says so until it binds */
        return SF_EIO;
    }
    runtime__ready_ingest(rt->site->cfg->ingest, NULL);
    sf_status st = ingest_http_route(rt->http, path, ri->inst);
    if (st != SF_OK) {
        log_error("component=runtime", "instance=%s: path %s is already routed", ri->si->cfg->name,
                  path);
        return st;
    }
    ri->routed = true;
    log_info("component=runtime", "instance=%s listening on http://%s%s", ri->si->cfg->name,
             rt->site->cfg->ingest, path);
    return SF_OK;
}

/* Create and start one bound instance; on failure it is scheduled for a restart. */
/* clock = event: deliveries wait for windows in event time (the largest event time seen). */
static int64_t rt_event_clock(void *ctx)
{
    runtime *rt = ctx;
    return atomic_load(&rt->event_clock_ms);
}

void runtime__inst_start(rt_inst *ri)
{
    site_instance *si = ri->si;
    ri->restart_at_ms = 0;
    if (ri->disabled || !si->plugin)
        return;
    instance_io io = {.emit = rt_emit,
                      .checkpoint_get = rt_checkpoint_get,
                      .checkpoint_set = rt_checkpoint_set,
                      .settle = rt_settle,
                      .ctx = ri};
    if (si->cfg->kind == SF_KIND_CONNECTOR &&
        !(ri->intake = intake_new(ri->rt->journal, si->cfg->name, INTAKE_BATCH, INTAKE_CAPACITY,
                                  INTAKE_LINGER_MS))) {
        log_error("component=runtime", "instance=%s: out of memory", si->cfg->name);
        return;
    }
    if (si->cfg->kind == SF_KIND_CONNECTOR)
        runtime__health_watch(ri->rt, si);
    ri->inst = instance_new(si->cfg, si->plugin, si->opts, si->map, &io);
    if (!ri->inst) {
        log_error("component=runtime", "instance=%s: out of memory", si->cfg->name);
        return;
    }
    ri->timeout_ms = ri->rt->site->cfg->plugin_timeout_ms;
    /* create and start off the main loop, with a deadline: a plugin must not hold it. */
    ri->starting = host_job_start(start_job_run, ri->inst);
    if (!ri->starting) {
        log_error("component=runtime", "instance=%s: cannot start a thread for its start",
                  si->cfg->name);
        instance_free(ri->inst);
        ri->inst = NULL;
        intake_free(ri->intake);
        ri->intake = NULL;
        inst_schedule_restart(ri);
        return;
    }
    ri->start_deadline_ms = monotime_ms() + ri->timeout_ms;
    if (inst_start_settle(ri, START_GRACE_MS, false) == 0) {
        log_info("component=runtime",
                 "instance=%s plugin=%s: create/start has not returned after %d ms; the daemon "
                 "goes on (abandoned if it has not returned within %lld ms)",
                 si->cfg->name, si->plugin->desc.name, START_GRACE_MS, (long long)ri->timeout_ms);
        ri->start_reason = 1;
        readiness_set(si->cfg->name, si->plugin->desc.name,
                      "starting: create/start has not returned yet");
    }
}

/* A start past its deadline: named in the log and in /readyz, retried with backoff. */
static void inst_start_abandon(rt_inst *ri, bool stopping)
{
    char why[SIGFLOW_MAX_ERROR_LEN];
    snprintf(why, sizeof why, "did not start within %lld ms (stuck in callback=%s): abandoned%s",
             (long long)ri->timeout_ms, instance_in_callback(ri->inst),
             stopping ? "" : "; retried with backoff");
    const char *name = ri->si->cfg->name, *plugin = ri->si->plugin->desc.name;
    inst_abandon(ri, "start"); /* its intake stays with it, uncommitted: nothing was acked */
    if (stopping) {
        readiness_clear(name);
        return;
    }
    ri->start_reason = 2;
    readiness_set(name, plugin, why);
    inst_schedule_restart(ri);
}

/* What follows a successful create+start on the main loop: the worker, route or poller. */
static void inst_start_finish(rt_inst *ri)
{
    site_instance *si = ri->si;
    if (ri->start_reason) { /* only the runtime's own reason: a plugin's health_set stays */
        readiness_clear(si->cfg->name);
        ri->start_reason = 0;
    }
    if (si->cfg->kind == SF_KIND_DELIVERY) {
        const sigflow_config *cfg = ri->rt->site->cfg;
        delivery_policy pol = {.retry_base_ms = cfg->retry_base_ms,
                               .retry_max_ms = cfg->retry_max_ms,
                               .max_attempts = cfg->max_attempts,
                               .retry_for_ms = cfg->retry_for_ms,
                               .deliver_timeout_ms = cfg->deliver_timeout_ms,
                               .crash_dir = cfg->state_dir,

                               .rules = si->rules,
                               .clock = ri->rt->clock == CONFIG_CLOCK_EVENT ? rt_event_clock : NULL,
                               .clock_ctx = ri->rt,
                               .feedback = {.public_url = cfg->public_url,
                                            .secret = cfg->feedback_secret,
                                            .ttl_ms = cfg->feedback_ttl_ms}};
        ri->worker = delivery_start(ri->inst, ri->rt->outbox, &pol);
    } else {
        if (si->plugin->desc.request && inst_route(ri) != SF_OK) {
            runtime__inst_stop(ri);
            inst_schedule_restart(ri);
            return;
        }
        if (si->plugin->desc.poll && si->plugin->desc.poll_interval_ms > 0)
            ri->has_poller = pthread_create(&ri->poller, NULL, poller_main, ri) == 0;
    }
    ri->backoff_ms = 0;
    log_info("component=runtime", "instance=%s plugin=%s started", si->cfg->name,
             si->plugin->desc.name);
}

/*
 * Has the start of ri returned? Waits at most wait_ms. 1: settled (started, failed: a restart
 * is scheduled, or past its deadline: abandoned), 0: still running. `stopping`: the instance
 * is being stopped, so no restart is scheduled.
 */
static int inst_start_settle(rt_inst *ri, int64_t wait_ms, bool stopping)
{
    sf_status st = SF_OK;
    if (!host_job_wait(ri->starting, wait_ms, &st)) {
        if (monotime_ms() < ri->start_deadline_ms)
            return 0;
        host_job_release(ri->starting); /* the job stays with the thread still inside */
        ri->starting = NULL;
        inst_start_abandon(ri, stopping);
        return 1;
    }
    host_job_release(ri->starting);
    ri->starting = NULL;
    site_instance *si = ri->si;
    if (st != SF_OK) {
        log_error("component=runtime", "instance=%s plugin=%s failed to start: %s", si->cfg->name,
                  si->plugin->desc.name, instance_last_error(ri->inst));
        instance_free(ri->inst);
        ri->inst = NULL;
        intake_free(ri->intake);
        ri->intake = NULL;
        if (ri->start_reason == 1) { /* "starting" no longer holds */
            readiness_clear(si->cfg->name);
            ri->start_reason = 0;
        }
        if (!stopping)
            inst_schedule_restart(ri);
        return 1;
    }
    inst_start_finish(ri);
    return 1;
}

bool runtime__safe_mode(runtime *rt, rt_inst *ri)
{
    if (!ri->si->plugin)
        return false;
    const char *dir = rt->site->cfg->state_dir, *name = ri->si->plugin->desc.name;
    size_t n = crash_count(dir, name), in_deliver = crash_count_in(dir, name, "deliver");
    if (n < CRASH_SAFE_MODE_AFTER && in_deliver < CRASH_SAFE_MODE_DELIVER_AFTER)
        return false;
    n += in_deliver;
    log_error("component=runtime",
              "SAFE MODE: plugin %s crashed the daemon %zu times; instance=%s starts disabled. "
              "Fix or remove the plugin, then delete %s/crashes and restart",
              ri->si->plugin->desc.name, n, ri->si->cfg->name, rt->site->cfg->state_dir);
    return true;
}

/* Point every decision `deliver` name at its worker. */
void runtime__targets_rebuild(runtime *rt)
{
    const sigflow_config *cfg = rt->site->cfg;
    size_t n = cfg->has_decision ? cfg->decision.n_deliver : 0;
    delivery_worker **workers = calloc(n ? n : 1, sizeof *workers);
    for (size_t i = 0; workers && i < n; i++)
        for (size_t j = 0; j < rt->n_insts; j++)
            if (strcmp(rt->insts[j]->si->cfg->name, cfg->decision.deliver[i]) == 0)
                workers[i] = rt->insts[j]->worker;
    pthread_mutex_lock(&rt->target_lock);
    free(rt->target_workers);
    rt->target_workers = workers;
    rt->target_names =
        cfg->decision.deliver; /* the site outlives its use here: retired, not freed */
    rt->n_targets = workers ? n : 0;
    pthread_mutex_unlock(&rt->target_lock);
    runtime__health_targets_rebuild(rt);
}

/*
 * deliver_timeout: a worker stuck in deliver past it has its attempt recorded as a retry;
 * the worker and its instance are abandoned and a fresh instance takes over the target.
 */
static bool runtime_deliver_watch(rt_inst *ri)
{
    char alert[OUTBOX_MAX_ALERT_ID_LEN + 1] = "";
    if (!delivery_abandon_if_stuck(ri->worker, alert, sizeof alert))
        return false;
    log_error("component=runtime",
              "instance=%s plugin=%s: deliver of alert=%s did not return within %lld ms: the "
              "attempt counts as a retry; the instance is abandoned and a new one started",
              ri->si->cfg->name, instance_plugin_name(ri->inst), alert,
              (long long)ri->rt->site->cfg->deliver_timeout_ms);
    instance_abandon(ri->inst); /* never freed: its worker thread is still inside it */
    ri->inst = NULL;
    ri->worker = NULL;
    runtime__inst_start(ri);
    return true;
}

/* Bind instances waiting for a plugin that has now been loaded, and restart due ones. */
void runtime__supervise(runtime *rt)
{
    bool changed = false;
    int64_t now = monotime_ms();
    for (size_t i = 0; i < rt->n_insts; i++) {
        rt_inst *ri = rt->insts[i];
        if (ri->starting) { /* create/start off the loop: returned, or past its deadline */
            changed |= inst_start_settle(ri, 0, false) == 1;
        } else if (!ri->si->plugin) {
            diag d = {0};
            int r = site_bind_instance(rt->site, (size_t)(ri->si - rt->site->inst), rt->reg, &d);
            runtime__refusal_report(ri, &d); /* on change only, not every tick */
            diag_clear(&d);
            if (r == 1) {
                runtime__refusal_clear(ri);
                log_info("component=runtime", "plugin %s arrived: starting instance=%s",
                         ri->si->cfg->plugin, ri->si->cfg->name);
                ri->disabled = runtime__safe_mode(rt, ri);
                runtime__inst_start(ri);
                changed = true;
            }
        } else if (!ri->inst && ri->restart_at_ms && now >= ri->restart_at_ms) {
            runtime__inst_start(ri);
            changed = true;
        } else if (ri->worker && runtime_deliver_watch(ri)) {
            changed = true;
        }
    }
    if (changed)
        runtime__targets_rebuild(rt);
}

static void mapping_publish(const mapping *m, const char *connector)
{
    char series[160];
    snprintf(series, sizeof series, "sigflow_mapping_documents_total{connector=\"%s\"}", connector);
    metrics_set(series, (double)mapping_seen(m));
    for (int f = 0; f < MAP_NFIELDS; f++) {
        snprintf(series, sizeof series,
                 "sigflow_mapping_misses_total{connector=\"%s\",field=\"%s\"}", connector,
                 mapping_field_name((enum mapping_field)f));
        metrics_set(series, (double)mapping_misses(m, (enum mapping_field)f));
    }
    /* Acknowledged, never journaled: a type `types` does not keep; unmapped and ignored. */
    snprintf(series, sizeof series,
             "sigflow_mapping_dropped_total{connector=\"%s\",reason=\"type\"}", connector);
    metrics_set(series, (double)mapping_filtered(m));
    snprintf(series, sizeof series,
             "sigflow_mapping_dropped_total{connector=\"%s\",reason=\"unmapped\"}", connector);
    metrics_set(series, (double)mapping_ignored(m));
}

void runtime__metrics_refresh(runtime *rt)
{
    char series[160];
    for (size_t i = 0; i < rt->n_insts; i++) {
        rt_inst *ri = rt->insts[i];
        if (ri->si->cfg->kind == SF_KIND_CONNECTOR) {
            snprintf(series, sizeof series, "sigflow_events_in_total{connector=\"%s\"}",
                     ri->si->cfg->name);
            metrics_set(series, (double)atomic_load(&ri->events_in));
            snprintf(series, sizeof series, "sigflow_events_rejected_total{connector=\"%s\"}",
                     ri->si->cfg->name);
            metrics_set(series, (double)atomic_load(&ri->events_rejected));
            if (ri->si->map) /* a tool renamed a field: its misses jump (schema drift) */
                mapping_publish(ri->si->map, ri->si->cfg->name);
        } else {
            size_t n = 0;
            snprintf(series, sizeof series, "sigflow_outbox_pending{target=\"%s\"}",
                     ri->si->cfg->name);
            if (outbox_count(rt->outbox, ri->si->cfg->name, OUTBOX_PENDING, &n) == SF_OK)
                metrics_set(series, (double)n);
            snprintf(series, sizeof series, "sigflow_outbox_dead{target=\"%s\"}",
                     ri->si->cfg->name);
            if (outbox_count(rt->outbox, ri->si->cfg->name, OUTBOX_DEAD, &n) == SF_OK)
                metrics_set(series, (double)n);
            /* held until a delivery window opens or a digest is due */
            snprintf(series, sizeof series, "sigflow_outbox_held{target=\"%s\"}",
                     ri->si->cfg->name);
            if (outbox_count(rt->outbox, ri->si->cfg->name, OUTBOX_HELD, &n) == SF_OK)
                metrics_set(series, (double)n);
        }
    }
    journal_stats js;
    journal_get_stats(rt->journal, &js);
    metrics_set("sigflow_journal_events_total", (double)js.events);
    metrics_set("sigflow_journal_commits_total", (double)js.commits);
    metrics_set("sigflow_journal_duplicates_total", (double)js.duplicates);
    metrics_set("sigflow_journal_failed_total", (double)js.failed);
    metrics_set_histogram("sigflow_journal_commit_seconds", journal_commit_bounds,
                          JOURNAL_COMMIT_NBOUNDS, js.commit_buckets, js.commit_seconds);
    store_wal_stats ws;
    store_wal_stats_get(rt->st, &ws);
    metrics_set("sigflow_store_checkpoints_total", (double)ws.checkpoints);
    metrics_set("sigflow_store_checkpoint_pages_total", (double)ws.pages);
    metrics_set("sigflow_store_checkpoints_forced_total", (double)ws.forced);
    metrics_set("sigflow_store_checkpoints_inline_total", (double)ws.inline_checkpoints);
    metrics_set("sigflow_store_checkpoint_locked_rounds_total", (double)ws.locked_rounds);
    metrics_set("sigflow_store_checkpoint_locked_pages_total", (double)ws.locked_pages);
    metrics_set("sigflow_store_checkpoint_failures_total", (double)ws.failures);
    metrics_set("sigflow_store_wal_pages", (double)ws.wal_pages);
    metrics_set("sigflow_journaled_queue_depth", (double)queue_length(rt->journaled));
    metrics_set("sigflow_alerts_total", (double)atomic_load(&rt->alerts));
}

void runtime__stats_log(runtime *rt)
{
    runtime__metrics_refresh(rt);
    for (size_t i = 0; i < rt->n_insts; i++) {
        rt_inst *ri = rt->insts[i];
        if (ri->si->cfg->kind != SF_KIND_CONNECTOR)
            continue;
        log_info("component=runtime", "connector=%s events_in=%llu backpressured=%llu",
                 ri->si->cfg->name, (unsigned long long)atomic_load(&ri->events_in),
                 (unsigned long long)atomic_load(&ri->events_rejected));
    }
    log_info("component=runtime", "queue=%zu/%zu alerts=%llu", queue_length(rt->journaled),
             queue_capacity(rt->journaled), (unsigned long long)atomic_load(&rt->alerts));
}

rt_inst *runtime__inst_new(runtime *rt, site_instance *si)
{
    rt_inst *ri = calloc(1, sizeof *ri);
    if (!ri)
        return NULL;
    ri->rt = rt;
    ri->si = si;
    atomic_init(&ri->events_in, 0);
    atomic_init(&ri->events_rejected, 0);
    return ri;
}
