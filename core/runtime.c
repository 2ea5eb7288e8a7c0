#include "runtime.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert_codec.h"
#include "crash.h"
#include "delivery.h"
#include "host.h"
#include "ingest_http.h"
#include "intake.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "monotime.h"
#include "outbox.h"
#include "queue.h"
#include "score.h"
#include "score_checkpoint.h"
#include "sf_limits.h"
#include "site.h"
#include "state_checkpoint.h"
#include "store.h"
#include "store_kv.h"

#define RESTART_BACKOFF_MIN_MS 1000
#define RESTART_BACKOFF_MAX_MS (5 * 60 * 1000)
#define INTAKE_BATCH 1024  /* events a connector buffers before a commit */
#define INTAKE_LINGER_MS 5 /* a buffered event waits at most this long for company */
#define STATS_EVERY_MS 10000

typedef struct runtime runtime;

/* One configured instance as the runtime runs it. */
typedef struct rt_inst {
    runtime *rt;
    site_instance *si;
    sf_instance *inst;
    delivery_worker *worker; /* deliveries */
    intake *intake;          /* connectors: their way into the journal */
    bool routed;             /* connectors with a request callback: on the ingest listener */
    pthread_t poller;        /* connectors with poll */
    bool has_poller;
    bool disabled;         /* safe mode */
    int64_t restart_at_ms; /* monotonic; 0 = not scheduled */
    int64_t backoff_ms;
    atomic_uint_fast64_t events_in, events_rejected;
} rt_inst;

struct runtime {
    const char *config_path;
    site *site;
    site **retired; /* replaced by reloads; running instances may still borrow from them */
    size_t n_retired;
    plugin_registry *reg;
    store *st;
    journal *journal;
    outbox *outbox;
    ingest_http *http; /* started when the first connector with a request callback starts */
    rt_inst **insts;   /* heap objects: a running instance's sink points at its rt_inst */
    size_t n_insts;

    queue *ingest;
    pthread_t scorer;
    score_engine *engine;         /* owned by the scorer thread once it runs */
    pthread_mutex_t engine_lock;  /* guards pending_engine */
    score_engine *pending_engine; /* swapped in by the scorer thread after a reload */
    clock_mode clock;

    pthread_mutex_t route_lock; /* guards the routes: read by the scorer, set by reloads */
    char **targets;             /* the decision's `deliver` names */
    delivery_worker **routes;   /* their workers, to wake (NULL while not running) */
    size_t n_routes;
    atomic_uint_fast64_t alerts;
    atomic_bool draining; /* ingest closed: the scorer exits once it is empty */

    /* Read by the scorer, set at start and by reloads (the site pointer is the main thread's). */
    _Atomic int64_t checkpoint_interval_ms, journal_retention_ms;
    /* Scorer thread only: the journal position applied and the one last checkpointed. */
    uint64_t applied_seq, checkpointed_seq;
    int64_t last_checkpoint_ms;
};

/* ---- events in: connector -> intake -> journal -> ingest queue ------------------------------ */

static sf_status rt_emit(void *ctx, sf_instance *src, sf_event *ev)
{
    (void)src;
    rt_inst *ri = ctx;
    if (!ri->intake) {
        event_free(ev);
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
    return store_kv_get(ri->rt->st, instance_get_name(src), key, value);
}

/* A connector's cursor commits with the events emitted before it, in one transaction. */
static sf_status rt_checkpoint_set(void *ctx, sf_instance *src, const char *key, const char *value)
{
    rt_inst *ri = ctx;
    if (ri->intake)
        return intake_commit(ri->intake, key, value);
    return store_kv_set(ri->rt->st, instance_get_name(src), key, value);
}

static sf_status rt_settle(void *ctx, sf_instance *src)
{
    (void)src;
    rt_inst *ri = ctx;
    return ri->intake ? intake_commit(ri->intake, NULL, NULL) : SF_OK;
}

/* The journal's committer hands over every committed event, in sequence order. */
static void rt_journal_sink(void *ctx, uint64_t seq, sf_event *ev)
{
    runtime *rt = ctx;
    ev->seq = seq; /* the scorer checkpoints the position it has applied */
    if (!queue_push(rt->ingest, ev, -1))
        event_free(ev); /* closed: only after every connector stopped, so never in practice */
}

/* ---- alerts out --------------------------------------------------------------------------- */

static void rt_on_alert(void *ctx, sf_alert *a)
{
    runtime *rt = ctx;
    if (!a->json && alert_render_json(a) != SF_OK) {
        log_error("component=score", "cannot render alert=%s entity=%s", a->id, a->entity);
        return;
    }
    char *stored = alert_encode(a);
    bool created = false;
    pthread_mutex_lock(&rt->route_lock);
    sf_status st = stored
                       ? outbox_put(rt->outbox, a->id, a->decision, a->entity, a->time_ms, stored,
                                    (const char *const *)rt->targets, rt->n_routes, &created)
                       : SF_ENOMEM;
    for (size_t i = 0; st == SF_OK && created && i < rt->n_routes; i++)
        if (rt->routes[i])
            delivery_wake(rt->routes[i]);
    pthread_mutex_unlock(&rt->route_lock);
    free(stored);
    if (st != SF_OK) {
        log_error("component=score", "alert=%s entity=%s not stored in the outbox: status %d",
                  a->id, a->entity, (int)st);
        return;
    }
    if (!created)
        return; /* re-created by a journal replay: stored (and delivered) before */
    atomic_fetch_add(&rt->alerts, 1);
    log_info("component=score", "alert alert=%s entity=%s score=%.4f", a->id, a->entity, a->score);
}

static score_engine *engine_for(runtime *rt, const sf_config *cfg)
{
    if (!cfg->has_decision)
        return NULL;
    char err[SF_MAX_ERROR_LEN];
    score_engine *e = score_new(&cfg->decision, cfg->signals, cfg->n_signals, cfg->shards,
                                rt_on_alert, rt, err, sizeof err);
    if (!e)
        log_error("component=score", "cannot start scoring: %s", err);
    return e;
}

/*
 * Save the scoring state with the journal position it covers (one transaction), then let
 * retention drop what it covers and is old enough. Scorer thread (the engine's owner).
 */
static void checkpoint(runtime *rt)
{
    rt->last_checkpoint_ms = monotime_ms();
    if (!rt->engine || rt->applied_seq == rt->checkpointed_seq)
        return;
    score_membuf m = {0};
    int64_t t0 = monotime_ms();
    sf_status st = score_checkpoint_save(rt->engine, score_membuf_write, &m);
    if (st == SF_OK)
        st = state_checkpoint_write(rt->st, rt->journal, rt->applied_seq, m.data, m.len);
    free(m.data);
    if (st != SF_OK) {
        log_error("component=checkpoint",
                  "checkpoint failed (status %d): the journal is kept "
                  "whole until one succeeds",
                  (int)st);
        return;
    }
    rt->checkpointed_seq = rt->applied_seq;
    size_t deleted = 0;
    journal_retain(rt->journal, atomic_load(&rt->journal_retention_ms), &deleted);
    log_info("component=checkpoint",
             "scoring state saved: seq=%llu bytes=%zu ms=%lld "
             "journal_events_retired=%zu",
             (unsigned long long)rt->checkpointed_seq, m.len, (long long)(monotime_ms() - t0),
             deleted);
}

static void *scorer_main(void *arg)
{
    runtime *rt = arg;
    int64_t last_wall_tick = 0;
    for (;;) {
        sf_event *ev = queue_pop(rt->ingest, 500);
        pthread_mutex_lock(&rt->engine_lock);
        if (rt->pending_engine) {
            score_flush(rt->engine);
            score_free(rt->engine);
            rt->engine = rt->pending_engine;
            rt->pending_engine = NULL;
        }
        pthread_mutex_unlock(&rt->engine_lock);
        if (ev) {
            if (ev->seq)
                rt->applied_seq = ev->seq;
            if (rt->engine) {
                score_push(rt->engine, ev);
                /* The engine batches for throughput; once the queue runs dry, hand the
                   alerts of what was pushed to delivery now rather than at the next batch. */
                if (queue_length(rt->ingest) == 0)
                    score_flush(rt->engine);
            }
            event_free(ev);
        } else if (atomic_load(&rt->draining) && queue_length(rt->ingest) == 0) {
            break; /* closed before `draining` was set, so empty now means empty for good */
        }
        /* clock = wall: silence is noticed even when nothing arrives (DESIGN.md §2). */
        int64_t now = monotime_ms();
        if (rt->engine && rt->clock == CLOCK_WALL && now - last_wall_tick >= 1000) {
            score_advance(rt->engine, walltime_ms());
            last_wall_tick = now;
        }
        if (now - rt->last_checkpoint_ms >= atomic_load(&rt->checkpoint_interval_ms))
            checkpoint(rt);
    }
    checkpoint(rt); /* on a clean stop: the next start replays nothing */
    return NULL;
}

/* ---- instances ---------------------------------------------------------------------------- */

/* collectd's rule: a failing poll is retried with a doubling interval, the others run on. */
static void *poller_main(void *arg)
{
    rt_inst *ri = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
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

static void inst_stop(rt_inst *ri)
{
    if (!ri->inst)
        return;
    if (ri->worker) { /* finishes its attempt in flight; the rest waits in the outbox */
        delivery_stop(ri->worker);
        ri->worker = NULL;
    }
    if (ri->routed) { /* no request may be inside the plugin once it stops */
        ingest_http_unroute(ri->rt->http, ri->inst);
        ri->routed = false;
    }
    if (instance_get_state(ri->inst) == INST_STARTED)
        instance_stop(ri->inst); /* sets should_stop: the poller ends too */
    if (ri->has_poller) {
        pthread_join(ri->poller, NULL);
        ri->has_poller = false;
    }
    intake_free(ri->intake); /* commits what the connector emitted last */
    ri->intake = NULL;
    instance_free(ri->inst);
    ri->inst = NULL;
}

/* Put a connector with a request callback on the ingest listener, at its `path` option. */
static sf_status inst_route(rt_inst *ri)
{
    runtime *rt = ri->rt;
    const char *path = opt_values_string(ri->si->opts, "path");
    char err[SF_MAX_ERROR_LEN];
    if (!path) {
        log_error("component=runtime", "instance=%s: a request connector needs a `path`",
                  ri->si->cfg->name);
        return SF_EINVAL;
    }
    if (!rt->http && !(rt->http = ingest_http_start(rt->site->cfg->ingest, err, sizeof err))) {
        log_error("component=runtime", "cannot listen on %s: %s", rt->site->cfg->ingest, err);
        return SF_EIO;
    }
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
static void inst_start(rt_inst *ri)
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
        !(ri->intake =
              intake_new(ri->rt->journal, si->cfg->name, INTAKE_BATCH, INTAKE_LINGER_MS))) {
        log_error("component=runtime", "instance=%s: out of memory", si->cfg->name);
        return;
    }
    ri->inst = instance_new(si->cfg, si->plugin, si->opts, si->map, &io);
    if (!ri->inst) {
        log_error("component=runtime", "instance=%s: out of memory", si->cfg->name);
        return;
    }
    sf_status st = instance_create(ri->inst);
    if (st == SF_OK)
        st = instance_start(ri->inst);
    if (st != SF_OK) {
        log_error("component=runtime", "instance=%s plugin=%s failed to start: %s", si->cfg->name,
                  si->plugin->desc.name, instance_last_error(ri->inst));
        instance_free(ri->inst);
        ri->inst = NULL;
        intake_free(ri->intake);
        ri->intake = NULL;
        inst_schedule_restart(ri);
        return;
    }
    if (si->cfg->kind == SF_KIND_DELIVERY) {
        const sf_config *cfg = ri->rt->site->cfg;
        delivery_policy pol = {.retry_base_ms = cfg->retry_base_ms,
                               .retry_max_ms = cfg->retry_max_ms,
                               .max_attempts = cfg->max_attempts};
        ri->worker = delivery_start(ri->inst, ri->rt->outbox, &pol);
    } else {
        if (si->plugin->desc.request && inst_route(ri) != SF_OK) {
            inst_stop(ri);
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

static bool safe_mode(runtime *rt, rt_inst *ri)
{
    if (!ri->si->plugin)
        return false;
    size_t n = crash_count(rt->site->cfg->state_dir, ri->si->plugin->desc.name);
    if (n < CRASH_SAFE_MODE_AFTER)
        return false;
    log_error("component=runtime",
              "SAFE MODE: plugin %s crashed the daemon %zu times; instance=%s starts disabled. "
              "Fix or remove the plugin, then delete %s/crashes and restart",
              ri->si->plugin->desc.name, n, ri->si->cfg->name, rt->site->cfg->state_dir);
    return true;
}

/* Point every decision `deliver` name at its worker. */
static void routes_rebuild(runtime *rt)
{
    const sf_config *cfg = rt->site->cfg;
    size_t n = cfg->has_decision ? cfg->decision.n_deliver : 0;
    delivery_worker **routes = calloc(n ? n : 1, sizeof *routes);
    for (size_t i = 0; routes && i < n; i++)
        for (size_t j = 0; j < rt->n_insts; j++)
            if (strcmp(rt->insts[j]->si->cfg->name, cfg->decision.deliver[i]) == 0)
                routes[i] = rt->insts[j]->worker;
    pthread_mutex_lock(&rt->route_lock);
    free(rt->routes);
    rt->routes = routes;
    rt->targets = cfg->decision.deliver; /* the site outlives its use here: retired, not freed */
    rt->n_routes = routes ? n : 0;
    pthread_mutex_unlock(&rt->route_lock);
}

/* Bind instances waiting for a plugin that has now been loaded, and restart due ones. */
static void supervise(runtime *rt)
{
    bool changed = false;
    int64_t now = monotime_ms();
    for (size_t i = 0; i < rt->n_insts; i++) {
        rt_inst *ri = rt->insts[i];
        if (!ri->si->plugin) {
            diag d = {0};
            int r = site_bind_instance(rt->site, (size_t)(ri->si - rt->site->inst), rt->reg, &d);
            for (size_t k = 0; k < d.n; k++)
                log_error("component=config", "%s", d.msgs[k]);
            diag_clear(&d);
            if (r == 1) {
                log_info("component=runtime", "plugin %s arrived: starting instance=%s",
                         ri->si->cfg->plugin, ri->si->cfg->name);
                ri->disabled = safe_mode(rt, ri);
                inst_start(ri);
                changed = true;
            }
        } else if (!ri->inst && ri->restart_at_ms && now >= ri->restart_at_ms) {
            inst_start(ri);
            changed = true;
        }
    }
    if (changed)
        routes_rebuild(rt);
}

static void stats_log(runtime *rt)
{
    for (size_t i = 0; i < rt->n_insts; i++) {
        rt_inst *ri = rt->insts[i];
        if (ri->si->cfg->kind != SF_KIND_CONNECTOR)
            continue;
        char series[160];
        snprintf(series, sizeof series, "sigflow_events_in_total{connector=\"%s\"}",
                 ri->si->cfg->name);
        metrics_set(series, (double)atomic_load(&ri->events_in));
        snprintf(series, sizeof series, "sigflow_events_rejected_total{connector=\"%s\"}",
                 ri->si->cfg->name);
        metrics_set(series, (double)atomic_load(&ri->events_rejected));
        log_info("component=runtime", "connector=%s events_in=%llu backpressured=%llu",
                 ri->si->cfg->name, (unsigned long long)atomic_load(&ri->events_in),
                 (unsigned long long)atomic_load(&ri->events_rejected));
    }
    log_info("component=runtime", "queue=%zu/%zu alerts=%llu", queue_length(rt->ingest),
             queue_capacity(rt->ingest), (unsigned long long)atomic_load(&rt->alerts));
}

/* ---- start, reload, shutdown -------------------------------------------------------------- */

static bool str_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Whether two configs score alike: the decision and every signal, field by field. */
static bool decision_same(const sf_config *a, const sf_config *b)
{
    if (a->has_decision != b->has_decision || a->n_signals != b->n_signals)
        return false;
    if (!a->has_decision)
        return true;
    const cfg_decision *x = &a->decision, *y = &b->decision;
    if (!str_same(x->name, y->name) || !str_same(x->question, y->question) || x->bias != y->bias ||
        x->threshold != y->threshold || x->rearm_below != y->rearm_below ||
        x->cooldown_ms != y->cooldown_ms || x->tick_ms != y->tick_ms)
        return false;
    for (size_t i = 0; i < a->n_signals; i++) {
        const cfg_signal *p = &a->signals[i], *q = &b->signals[i];
        if (!str_same(p->name, q->name) || !str_same(p->event, q->event) ||
            p->measure != q->measure || p->of_value != q->of_value ||
            p->recent_ms != q->recent_ms || p->usual_ms != q->usual_ms || p->span != q->span ||
            p->window_ms != q->window_ms || p->cap != q->cap || p->limit != q->limit ||
            p->weight != q->weight || !str_same(p->explain, q->explain))
            return false;
    }
    return true;
}

static rt_inst *inst_new(runtime *rt, site_instance *si)
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

static site *load_site(const char *path, plugin_registry *reg)
{
    diag d = {0};
    site *s = NULL;
    sf_config *cfg = config_load(path, &d);
    if (cfg) {
        registry_scan(reg, cfg->plugin_dir);
        s = site_bind(cfg, reg, true, &d);
    }
    for (size_t i = 0; i < d.n; i++)
        log_error("component=config", "%s", d.msgs[i]);
    diag_clear(&d);
    return s;
}

/* SIGHUP: the new config is validated whole first; on any error the old one stays. */
static void reload(runtime *rt)
{
    log_info("component=runtime", "reloading %s", rt->config_path);
    site *ns = load_site(rt->config_path, rt->reg);
    if (!ns) {
        log_error("component=runtime", "reload refused: the running configuration stays");
        return;
    }
    rt_inst **next = calloc(ns->n_inst ? ns->n_inst : 1, sizeof *next);
    site **retired = realloc(rt->retired, (rt->n_retired + 1) * sizeof *retired);
    if (!next || !retired) {
        free(next);
        if (retired)
            rt->retired = retired;
        site_free(ns);
        log_error("component=runtime", "reload refused: out of memory");
        return;
    }
    rt->retired = retired;
    size_t kept = 0, started = 0, stopped = 0;
    for (size_t i = 0; i < ns->n_inst; i++) {
        site_instance *si = &ns->inst[i];
        for (size_t j = 0; j < rt->n_insts && !next[i]; j++) {
            rt_inst *old = rt->insts[j];
            if (old && si->plugin && old->si->plugin == si->plugin &&
                strcmp(old->si->cfg->name, si->cfg->name) == 0 &&
                site_instance_same(old->si->cfg, si->cfg)) {
                next[i] = old; /* keeps running, borrowing the retired site's options */
                rt->insts[j] = NULL;
                kept++;
            }
        }
    }
    for (size_t j = 0; j < rt->n_insts; j++)
        if (rt->insts[j]) {
            inst_stop(rt->insts[j]);
            free(rt->insts[j]);
            stopped++;
        }
    for (size_t i = 0; i < ns->n_inst; i++) {
        if (next[i]) {
            next[i]->si = &ns->inst[i]; /* restarts use the new, equal, options */
            continue;
        }
        next[i] = inst_new(rt, &ns->inst[i]);
        if (next[i]) {
            inst_start(next[i]);
            started++;
        }
    }
    if (!decision_same(rt->site->cfg, ns->cfg)) {
        score_engine *e = engine_for(rt, ns->cfg);
        pthread_mutex_lock(&rt->engine_lock);
        score_free(rt->pending_engine);
        rt->pending_engine = e;
        pthread_mutex_unlock(&rt->engine_lock);
        log_warn("component=runtime", "decision changed: scoring restarts with empty entity state");
    }
    free(rt->insts);
    rt->insts = next;
    rt->n_insts = ns->n_inst;
    rt->retired[rt->n_retired++] = rt->site;
    rt->site = ns;
    atomic_store(&rt->checkpoint_interval_ms, ns->cfg->checkpoint_interval_ms);
    atomic_store(&rt->journal_retention_ms, ns->cfg->journal_retention_ms);
    routes_rebuild(rt);
    log_info("component=runtime", "reloaded: %zu instances kept, %zu stopped, %zu started", kept,
             stopped, started);
}

static sf_status open_store(runtime *rt)
{
    const sf_config *cfg = rt->site->cfg;
    char err[SF_MAX_ERROR_LEN];
    sf_status st =
        store_open(cfg->state_dir, (store_durability)cfg->durability, &rt->st, err, sizeof err);
    if (st != SF_OK) {
        log_error("component=runtime", "cannot open the store in %s: %s", cfg->state_dir, err);
        return st;
    }
    if ((st = journal_open(rt->st, NULL, &rt->journal)) != SF_OK ||
        (st = outbox_open(rt->st, &rt->outbox)) != SF_OK)
        log_error("component=runtime", "cannot open the journal and outbox: status %d", (int)st);
    return st;
}

static sf_status recover_one(void *ctx, uint64_t seq, sf_event *ev)
{
    (void)seq;
    runtime *rt = ctx;
    sf_status st = rt->engine ? score_push(rt->engine, ev) : SF_OK;
    event_free(ev);
    return st;
}

/*
 * Rebuild the scoring state from the journal, in event time, before anything new arrives.
 * Alert ids are deterministic and the outbox put is idempotent, so the alerts this
 * re-creates are stored once: only those never stored before (a crash between scoring and
 * the outbox) are new.
 */
/* Load the scoring checkpoint; the journal position to replay after (0: from the start). */
static uint64_t load_checkpoint(runtime *rt)
{
    uint64_t seq = 0;
    void *blob = NULL;
    size_t len = 0;
    if (state_checkpoint_read(rt->st, &seq, &blob, &len) != SF_OK || !blob || !rt->engine) {
        free(blob);
        return 0;
    }
    score_membuf m = {.data = blob, .len = len};
    char err[SF_MAX_ERROR_LEN] = "";
    sf_status st = score_checkpoint_load(rt->engine, score_membuf_read, &m, err, sizeof err);
    free(blob);
    if (st == SF_OK) {
        log_info("component=checkpoint", "scoring state loaded: seq=%llu bytes=%zu",
                 (unsigned long long)seq, len);
        return seq;
    }
    if (st == SF_EUNSUPPORTED) { /* the engine is untouched: rebuild from what is journaled */
        log_warn("component=checkpoint",
                 "%s: scoring state is rebuilt from the journal kept "
                 "(journal_retention)",
                 err);
        return 0;
    }
    log_error("component=checkpoint", "checkpoint unreadable (%s): rebuilding from the journal",
              err);
    score_free(rt->engine); /* a half-loaded engine refuses pushes */
    rt->engine = engine_for(rt, rt->site->cfg);
    return 0;
}

static sf_status recover(runtime *rt)
{
    uint64_t from = load_checkpoint(rt);
    uint64_t last = journal_last_seq(rt->journal);
    rt->applied_seq = rt->checkpointed_seq = from;
    if (last <= from)
        return SF_OK;
    int64_t t0 = monotime_ms();
    sf_status st = journal_read(rt->journal, from, recover_one, rt);
    if (rt->engine)
        score_flush(rt->engine);
    if (st != SF_OK) {
        log_error("component=runtime", "recovery from the journal failed: status %d", (int)st);
        return st;
    }
    rt->applied_seq = last;
    log_info("component=runtime",
             "recovered %llu events from the journal in %lld ms; "
             "%llu alerts were new",
             (unsigned long long)(last - from), (long long)(monotime_ms() - t0),
             (unsigned long long)atomic_load(&rt->alerts));
    return SF_OK;
}

static int make_state_dir(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("component=runtime", "cannot create state_dir %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static void shutdown_all(runtime *rt)
{
    /* Connectors first, so nothing new arrives; then drain scoring; then deliveries. */
    for (size_t i = 0; i < rt->n_insts; i++)
        if (rt->insts[i]->si->cfg->kind == SF_KIND_CONNECTOR)
            inst_stop(rt->insts[i]);
    /* Every connector's intake committed at its stop: the journal's sink has run for all. */
    queue_close(rt->ingest);
    atomic_store(&rt->draining, true);
    pthread_join(rt->scorer, NULL);
    stats_log(rt);
    for (size_t i = 0; i < rt->n_insts; i++) {
        inst_stop(rt->insts[i]);
        free(rt->insts[i]);
    }
}

static int main_loop(runtime *rt, int sigfd)
{
    int64_t last_stats = monotime_ms();
    for (;;) {
        struct pollfd fds[2] = {{.fd = sigfd, .events = POLLIN},
                                {.fd = registry_watch_fd(rt->reg), .events = POLLIN}};
        int n = poll(fds, fds[1].fd >= 0 ? 2 : 1, 500);
        if (n < 0 && errno != EINTR) {
            log_error("component=runtime", "poll: %s", strerror(errno));
            return 1;
        }
        if (n > 0 && (fds[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGHUP) {
                    reload(rt);
                } else {
                    log_info("component=runtime", "signal %d: draining and stopping",
                             (int)si.ssi_signo);
                    return 0;
                }
            }
        }
        if (n > 0 && fds[1].fd >= 0 && (fds[1].revents & POLLIN))
            registry_watch_handle(rt->reg);
        supervise(rt);
        if (monotime_ms() - last_stats >= STATS_EVERY_MS) {
            stats_log(rt);
            last_stats = monotime_ms();
        }
    }
}

int runtime_run(const char *config_path)
{
    runtime rt = {.config_path = config_path};
    pthread_mutex_init(&rt.engine_lock, NULL);
    pthread_mutex_init(&rt.route_lock, NULL);
    atomic_init(&rt.alerts, 0);
    atomic_init(&rt.draining, false);

    /* Signals go to the signalfd only: block them before any thread exists. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    int sigfd = signalfd(-1, &set, SFD_CLOEXEC);
    int rc = 1;

    rt.reg = registry_new(host_table(), host_info());
    if (sigfd < 0 || !rt.reg)
        goto out;
    rt.site = load_site(config_path, rt.reg);
    if (!rt.site)
        goto out;
    const sf_config *cfg = rt.site->cfg;
    log_set_level((sf_log_level)log_level_parse(cfg->log_level));
    if (make_state_dir(cfg->state_dir) != 0 || open_store(&rt) != SF_OK)
        goto out;
    crash_install(cfg->state_dir);
    if (registry_watch(rt.reg, cfg->plugin_dir) != 0)
        log_warn("component=runtime", "cannot watch %s: new plugins need a restart",
                 cfg->plugin_dir);
    rt.clock = cfg->clock;
    atomic_init(&rt.checkpoint_interval_ms, cfg->checkpoint_interval_ms);
    atomic_init(&rt.journal_retention_ms, cfg->journal_retention_ms);
    rt.ingest = queue_new((size_t)cfg->queue_size);
    rt.engine = engine_for(&rt, cfg);
    if (!rt.ingest || (cfg->has_decision && !rt.engine))
        goto out;
    journal_set_sink(rt.journal, rt_journal_sink, &rt);
    routes_rebuild(&rt); /* targets for the alerts recovery re-creates */
    if (recover(&rt) != SF_OK || (cfg->has_decision && !rt.engine))
        goto out;
    rt.last_checkpoint_ms = monotime_ms();

    rt.n_insts = rt.site->n_inst;
    rt.insts = calloc(rt.n_insts ? rt.n_insts : 1, sizeof *rt.insts);
    if (!rt.insts)
        goto out;
    for (size_t i = 0; i < rt.n_insts; i++) {
        if (!(rt.insts[i] = inst_new(&rt, &rt.site->inst[i]))) {
            rt.n_insts = i;
            goto out;
        }
        rt.insts[i]->disabled = safe_mode(&rt, rt.insts[i]);
        if (!rt.site->inst[i].plugin)
            log_warn("component=runtime", "instance=%s waits for plugin %s in %s",
                     rt.site->inst[i].cfg->name, rt.site->inst[i].cfg->plugin, cfg->plugin_dir);
    }
    /* Deliveries first, so the first alert has somewhere to go. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < rt.n_insts; i++)
            if ((rt.insts[i]->si->cfg->kind == SF_KIND_DELIVERY) == (pass == 0))
                inst_start(rt.insts[i]);
    routes_rebuild(&rt);
    if (pthread_create(&rt.scorer, NULL, scorer_main, &rt) != 0)
        goto out;
    log_info("component=runtime", "sigflow %s running: config=%s instances=%zu", SF_VERSION,
             config_path, rt.n_insts);
    rc = main_loop(&rt, sigfd);
    bool any_disabled = false;
    for (size_t i = 0; i < rt.n_insts; i++)
        any_disabled |= rt.insts[i]->disabled;
    shutdown_all(&rt);
    /* A clean run proves the plugins that ran; a disabled one stays disabled until fixed. */
    if (!any_disabled)
        crash_clear(rt.site->cfg->state_dir);
    rt.n_insts = 0;
    log_info("component=runtime", "stopped");
out:
    for (size_t i = 0; i < rt.n_insts; i++) {
        if (rt.insts[i])
            inst_stop(rt.insts[i]);
        free(rt.insts[i]);
    }
    free(rt.insts);
    free(rt.routes);
    score_free(rt.engine);
    score_free(rt.pending_engine);
    ingest_http_stop(rt.http);
    journal_close(rt.journal); /* after the connectors: nothing submits any more */
    outbox_close(rt.outbox);
    store_close(rt.st);
    queue_free(rt.ingest, (void (*)(void *))event_free);
    site_free(rt.site);
    for (size_t i = 0; i < rt.n_retired; i++)
        site_free(rt.retired[i]);
    free(rt.retired);
    registry_free(rt.reg);
    if (sigfd >= 0)
        close(sigfd);
    pthread_mutex_destroy(&rt.engine_lock);
    pthread_mutex_destroy(&rt.route_lock);
    return rc;
}
