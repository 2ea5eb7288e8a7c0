/*
 * runtime.c - `sigflow run`: start (store, recovery, instances), the main loop (signals,
 * plugin pickup, supervision), SIGHUP reload, shutdown.
 */
#include "daemon/runtime.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/crash.h"
#include "daemon/privdrop.h"
#include "base/log.h"
#include "base/monotime.h"
#include "daemon/notify.h"
#include "daemon/runtime_internal.h"
#include "store/outbox_writer.h"
#include "base/limits.h"
#include "mapping/mapping.h"
#include "store/store_guard.h"

static int make_state_dir(const char *dir, bool init);

/*
 * The configuration alone: no plugin code runs here. The first load also prepares crash
 * containment before any plugin code runs: state_dir, the fatal-signal handler and the
 * loader's safe mode (docs/reliability.md, Plugins). `init` (run --init) lets a missing
 * state_dir be created.
 */
static sigflow_config *load_config(const char *path, plugin_registry *reg, bool first, bool init)
{
    diag d = {0};
    sigflow_config *cfg = config_load(path, &d);
    if (cfg) /* before the loader's lines: every line of a run in the configured format */
        log_set_style((log_style)cfg->log_format, 0);
    if (cfg && first) {
        if (make_state_dir(cfg->state_dir, init) != 0 ||
            loader_set_crash_dir(reg, cfg->state_dir)) {
            config_free(cfg);
            cfg = NULL;
        } else {
            crash_install(cfg->state_dir);
        }
    }
    diag_log(&d);
    diag_clear(&d);
    return cfg;
}

/* Scan plugin_dir (plugin code runs: dlopen, init) and bind cfg's instances; takes cfg. */
static site *bind_site(sigflow_config *cfg, plugin_registry *reg)
{
    diag d = {0};
    loader_set_call_timeout(reg, cfg->plugin_timeout_ms);
    /* clock = event: the stream is its own clock (as in replay), the host's is not. */
    mapping_set_max_future_skew(cfg->clock == CONFIG_CLOCK_WALL ? cfg->max_future_skew_ms : 0);
    loader_scan(reg, cfg->plugin_dir);
    site *s = site_bind(cfg, reg, true, &d);
    diag_log(&d);
    diag_clear(&d);
    return s;
}

static site *load_site(const char *path, plugin_registry *reg)
{
    sigflow_config *cfg = load_config(path, reg, false, false);
    return cfg ? bind_site(cfg, reg) : NULL;
}

/* SIGHUP: the new config is validated whole first; on any error the old one stays. */
/* [sigflow] keys a reload cannot apply to a running process: say so rather than ignore them. */
static void warn_restart_keys(const sigflow_config *old, const sigflow_config *cfg)
{
    const char *changed[8];
    size_t n = 0;
    if (strcmp(old->state_dir, cfg->state_dir) != 0)
        changed[n++] = "state_dir";
    if (strcmp(old->plugin_dir, cfg->plugin_dir) != 0)
        changed[n++] = "plugin_dir";
    if (strcmp(old->ingest, cfg->ingest) != 0)
        changed[n++] = "ingest";
    if (old->durability != cfg->durability)
        changed[n++] = "durability";
    if (old->shards != cfg->shards)
        changed[n++] = "shards";
    if (old->queue_size != cfg->queue_size)
        changed[n++] = "queue_size";
    if (old->clock != cfg->clock)
        changed[n++] = "clock";
    for (size_t i = 0; i < n; i++)
        log_warn("component=runtime", "[sigflow] %s changed: it takes effect at the next restart",
                 changed[i]);
}

static void reload(runtime *rt)
{
    log_info("component=runtime", "reloading %s", rt->config_path);
    site *ns = load_site(rt->config_path, rt->reg);
    if (!ns) {
        log_error("component=runtime", "reload refused: the running configuration stays");
        return;
    }
    warn_restart_keys(rt->site->cfg, ns->cfg);
    log_set_level((sf_log_level)log_level_parse(ns->cfg->log_level));
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
    /* A connector stopped and started again is briefly without its route: 503, not 404. */
    ingest_http_hold(rt->http, true);
    size_t kept = 0, started = 0, stopped = 0;
    for (size_t i = 0; i < ns->n_inst; i++) {
        site_instance *si = &ns->inst[i];
        for (size_t j = 0; j < rt->n_insts && !next[i]; j++) {
            rt_inst *old = rt->insts[j];
            if (old && si->plugin && old->si->plugin == si->plugin &&
                strcmp(old->si->cfg->name, si->cfg->name) == 0 &&
                config_instance_same(old->si->cfg, si->cfg)) {
                next[i] = old; /* keeps running, borrowing the retired site's options */
                rt->insts[j] = NULL;
                kept++;
            }
        }
    }
    for (size_t j = 0; j < rt->n_insts; j++)
        if (rt->insts[j]) {
            runtime__inst_stop(rt->insts[j]);
            free(rt->insts[j]);
            stopped++;
        }
    for (size_t i = 0; i < ns->n_inst; i++) {
        if (next[i]) {
            next[i]->si = &ns->inst[i]; /* restarts use the new, equal, options */
            continue;
        }
        next[i] = runtime__inst_new(rt, &ns->inst[i]);
        if (next[i]) {
            runtime__inst_start(next[i]);
            started++;
        }
    }
    if (!config_decision_same(rt->site->cfg, ns->cfg)) {
        score_engine *e = runtime__engine_for(rt, ns->cfg);
        pthread_mutex_lock(&rt->engine_lock);
        score_free(rt->pending_engine);
        rt->pending_engine = e;
        rt->pending_cfg = ns->cfg;
        pthread_mutex_unlock(&rt->engine_lock);
        log_info("component=runtime",
                 "decision changed: the scorer keeps or rebuilds the entity state");
    }
    free(rt->insts);
    rt->insts = next;
    rt->n_insts = ns->n_inst;
    rt->retired[rt->n_retired++] = rt->site;
    rt->site = ns;
    atomic_store(&rt->checkpoint_interval_ms, ns->cfg->checkpoint_interval_ms);
    atomic_store(&rt->journal_retention_ms, ns->cfg->journal_retention_ms);
    admin_api_configure(rt->admin_api, ns->cfg);
    runtime__targets_rebuild(rt);
    ingest_http_hold(rt->http, false);
    log_info("component=runtime", "reloaded: %zu instances kept, %zu stopped, %zu started", kept,
             stopped, started);
}

static sf_status open_store(runtime *rt, const sigflow_config *cfg, bool init)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    unsigned flags = STORE_OPEN_CHECK | (init ? STORE_OPEN_CREATE : 0);
    sf_status st = store_open_ex(cfg->state_dir, (store_durability)cfg->durability, flags, &rt->st,
                                 err, sizeof err);
    if (st != SF_OK) {
        log_error("component=runtime", "cannot open the store in %s: %s", cfg->state_dir, err);
        return st;
    }
    if ((st = journal_open(rt->st, NULL, &rt->journal)) != SF_OK ||
        (st = outbox_open(rt->st, &rt->outbox)) != SF_OK)
        log_error("component=runtime", "cannot open the journal and outbox: status %d", (int)st);
    return st;
}

/* state_dir as store_open will want it: existing (or, with init, created) and private. */
static int make_state_dir(const char *dir, bool init)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    if (store_guard_dir(dir, init, err, sizeof err) != SF_OK) {
        log_error("component=runtime", "%s", err);
        return -1;
    }
    return 0;
}

static void shutdown_all(runtime *rt)
{
    /* Connectors first, so nothing new arrives (senders get 503, not 404); then drain
       scoring; then deliveries. */
    ingest_http_hold(rt->http, true);
    for (size_t i = 0; i < rt->n_insts; i++)
        if (rt->insts[i]->si->cfg->kind == SF_KIND_CONNECTOR)
            runtime__inst_stop(rt->insts[i]);
    ingest_http_wait_idle(rt->http); /* requests waiting for their commit are answered */
    /* Every connector's intake committed at its stop, and the answered requests' events are
       with the sink once the commit that answered them has handed them over. */
    journal_quiesce(rt->journal);
    queue_close(rt->journaled);
    atomic_store(&rt->draining, true);
    outbox_writer_set_patient(rt->writer, false); /* a failing alert write ends the wait */
    pthread_join(rt->scorer, NULL);
    outbox_writer_stop(rt->writer); /* after the scorer's last checkpoint flushed it */
    rt->writer = NULL;
    runtime__stats_log(rt);
    for (size_t i = 0; i < rt->n_insts; i++) {
        runtime__inst_stop(rt->insts[i]);
        free(rt->insts[i]);
    }
}

/* [sigflow] user: become it now that the listeners are bound and the store is open. */
static sf_status runtime_become_user(const sigflow_config *cfg)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    sf_status st = privdrop_to(cfg->user, cfg->state_dir, err, sizeof err);
    if (st != SF_OK) {
        log_error("component=runtime", "cannot run as user %s: %s", cfg->user, err);
        return st;
    }
    log_info("component=runtime", "running as user=%s uid=%u gid=%u (state_dir handed to it)",
             cfg->user, (unsigned)getuid(), (unsigned)getgid());
    return SF_OK;
}

/*
 * Bind the admin endpoints before anything starts: a port already taken is a failure to
 * start (exit 1, the address in the message), not a daemon that runs deaf.
 */
static sf_status start_admin(runtime *rt, const sigflow_config *cfg)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    if (!(rt->admin_api = admin_api_new(cfg, err, sizeof err)))
        log_error("component=runtime", "admin API off: %s", err); /* not fatal: /v1 answers 503 */
    if (rt->admin_api && (rt->inspector = runtime__inspector_new()))
        admin_api_set_inspect(rt->admin_api, runtime__inspect_entity, rt);
    admin_api_set_label_hook(rt->admin_api, runtime__label_journal, rt); /* to the refits */
    if (!(rt->admin = admin_http_start(cfg->admin, &rt->ready, rt->admin_api, err, sizeof err))) {
        log_error("component=runtime", "admin endpoints: cannot listen on %s: %s", cfg->admin, err);
        return SF_EIO;
    }
    return SF_OK;
}

/*
 * The ingest listener, wanted when a connector with a request callback is configured: bound
 * before anything starts (a port taken: exit 1 naming it). `early` (with `user =`, before
 * the plugins are loaded and privileges dropped): bound when any connector is configured, as
 * its plugin may take requests; a failure then is left to the bind after the drop.
 */
static sf_status start_ingest(runtime *rt, const sigflow_config *cfg, bool early)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    bool wants = false;
    if (early) {
        wants = cfg->n_connectors > 0;
    } else {
        for (size_t i = 0; i < rt->site->n_inst; i++) {
            const site_instance *si = &rt->site->inst[i];
            wants |= si->cfg->kind == SF_KIND_CONNECTOR && si->plugin && si->plugin->desc.request;
        }
    }
    if (!wants && rt->http && !early) { /* bound early for a connector that takes none */
        ingest_http_stop(rt->http);
        rt->http = NULL;
    }
    if (!wants || rt->http)
        return SF_OK;
    if ((rt->http = ingest_http_start(cfg->ingest, err, sizeof err)))
        return SF_OK;
    if (early)
        return SF_OK; /* tried again once the plugins say whether it is needed */
    log_error("component=runtime", "ingest listener: cannot listen on %s: %s", cfg->ingest, err);
    return SF_EIO;
}

static int main_loop(runtime *rt, int sigfd)
{
    int64_t last_stats = monotime_ms(), last_metrics = 0;
    for (;;) {
        struct pollfd fds[2] = {{.fd = sigfd, .events = POLLIN},
                                {.fd = loader_watch_fd(rt->reg), .events = POLLIN}};
        int n = poll(fds, fds[1].fd >= 0 ? 2 : 1, 500);
        if (n < 0 && errno != EINTR) {
            log_error("component=runtime", "poll: %s", strerror(errno));
            return 1;
        }
        if (n > 0 && (fds[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGHUP) {
                    notify_reloading();
                    reload(rt);
                    notify_ready(); /* refused or not, the daemon runs on */
                } else {
                    log_info("component=runtime", "signal %d: draining and stopping",
                             (int)si.ssi_signo);
                    notify_stopping();
                    return 0;
                }
            }
        }
        if (n > 0 && fds[1].fd >= 0 && (fds[1].revents & POLLIN))
            loader_watch_handle(rt->reg);
        loader_pending_poll(rt->reg); /* hot drops whose init has returned (or timed out) */
        runtime__supervise(rt);
        runtime__ready_check(rt); /* /readyz: store failing, disk full, ingest not bound */
        notify_watchdog_tick(monotime_ms());
        if (monotime_ms() - last_metrics >= 1000) {
            runtime__metrics_refresh(rt); /* /metrics is at most a second old */
            last_metrics = monotime_ms();
        }
        if (monotime_ms() - last_stats >= STATS_EVERY_MS) {
            runtime__stats_log(rt);
            last_stats = monotime_ms();
        }
    }
}

int runtime_run(const char *config_path, bool init)
{
    runtime rt = {.config_path = config_path};
    pthread_mutex_init(&rt.engine_lock, NULL);
    pthread_mutex_init(&rt.target_lock, NULL);
    atomic_init(&rt.alerts, 0);
    atomic_init(&rt.draining, false);
    atomic_init(&rt.ready, false);

    /* Signals go to the signalfd only: block them before any thread exists. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    int sigfd = signalfd(-1, &set, SFD_CLOEXEC);
    int rc = 1;

    notify_init();
    rt.reg = loader_new(host_table(), host_info());
    if (sigfd < 0 || !rt.reg)
        goto out;
    /* Privileges first, plugin code after: with `user =`, the listeners are bound and the
       store opened as root, then the daemon becomes the user, and only then are plugins
       loaded (dlopen, init) and bound (docs/reliability.md, Storage). */
    sigflow_config *cfg0 = load_config(config_path, rt.reg, true, init);
    if (!cfg0)
        goto out;
    log_set_level((sf_log_level)log_level_parse(cfg0->log_level));
    if (open_store(&rt, cfg0, init) != SF_OK || start_admin(&rt, cfg0) != SF_OK ||
        (cfg0->user && start_ingest(&rt, cfg0, true) != SF_OK)) {
        config_free(cfg0);
        goto out; /* a port taken: exit 1 so the service manager reports it */
    }
    if (geteuid() == 0 && !cfg0->user)
        log_warn("component=runtime",
                 "running as root without `user =`: a plugin's bug runs with every privilege; "
                 "set [sigflow] user = NAME (sigflow becomes it once its listeners are bound) "
                 "or start it as its own user");
    if (cfg0->user && runtime_become_user(cfg0) != SF_OK) {
        config_free(cfg0);
        goto out; /* listeners bound, store open: nothing else needs root */
    }
    rt.site = bind_site(cfg0, rt.reg); /* plugin code runs from here on (takes cfg0) */
    if (!rt.site)
        goto out;
    const sigflow_config *cfg = rt.site->cfg;
    if (start_ingest(&rt, cfg, false) != SF_OK)
        goto out; /* a port taken: exit 1 so the service manager reports it */
    if (loader_watch(rt.reg, cfg->plugin_dir) != 0)
        log_warn("component=runtime", "cannot watch %s: new plugins need a restart",
                 cfg->plugin_dir);
    rt.clock = cfg->clock;
    atomic_init(&rt.checkpoint_interval_ms, cfg->checkpoint_interval_ms);
    atomic_init(&rt.journal_retention_ms, cfg->journal_retention_ms);
    rt.journaled = queue_new((size_t)cfg->queue_size);
    rt.engine = runtime__engine_for(&rt, cfg);
    if (!rt.journaled || (cfg->has_decision && !rt.engine))
        goto out;
    journal_set_sink_many(rt.journal, runtime__journal_sink_many, &rt);
    runtime__targets_rebuild(&rt); /* targets for the alerts recovery re-creates */
    if (runtime__alerts_start(&rt) != SF_OK || runtime__recover(&rt) != SF_OK ||
        (cfg->has_decision && !rt.engine))
        goto out;
    rt.last_checkpoint_ms = monotime_ms();

    rt.n_insts = rt.site->n_inst;
    rt.insts = calloc(rt.n_insts ? rt.n_insts : 1, sizeof *rt.insts);
    if (!rt.insts)
        goto out;
    for (size_t i = 0; i < rt.n_insts; i++) {
        if (!(rt.insts[i] = runtime__inst_new(&rt, &rt.site->inst[i]))) {
            rt.n_insts = i;
            goto out;
        }
        rt.insts[i]->disabled = runtime__safe_mode(&rt, rt.insts[i]);
        if (!rt.site->inst[i].plugin)
            log_warn("component=runtime", "instance=%s waits for plugin %s in %s",
                     rt.site->inst[i].cfg->name, rt.site->inst[i].cfg->plugin, cfg->plugin_dir);
    }
    /* Deliveries first, so the first alert has somewhere to go. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < rt.n_insts; i++)
            if ((rt.insts[i]->si->cfg->kind == SF_KIND_DELIVERY) == (pass == 0))
                runtime__inst_start(rt.insts[i]);
    runtime__targets_rebuild(&rt);
    if (pthread_create(&rt.scorer, NULL, runtime__scorer_main, &rt) != 0)
        goto out;
    atomic_store(&rt.ready, true);
    notify_ready(); /* listeners bound, store open, recovery done (Type=notify) */
    log_info("component=runtime", "sigflow %s running: config=%s instances=%zu", SIGFLOW_VERSION,
             config_path, rt.n_insts);
    loader_set_async_init(rt.reg, true); /* a slow init of a hot drop does not hold the loop */
    rc = main_loop(&rt, sigfd);
    bool any_disabled = loader_safe_mode_refusals(rt.reg) > 0;
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
            runtime__inst_stop(rt.insts[i]);
        free(rt.insts[i]);
    }
    free(rt.insts);
    outbox_writer_stop(rt.writer); /* a start that failed after it started */
    free(rt.target_workers);
    free(rt.health_target_workers);
    score_free(rt.engine);
    score_free(rt.pending_engine);
    ingest_http_stop(rt.http);
    admin_http_stop(rt.admin);
    admin_api_free(rt.admin_api);
    runtime__inspector_free(rt.inspector);
    journal_close(rt.journal); /* after the connectors: nothing submits any more */
    outbox_close(rt.outbox);
    store_close(rt.st);
    queue_free(rt.journaled, (void (*)(void *))event_free);
    site_free(rt.site);
    for (size_t i = 0; i < rt.n_retired; i++)
        site_free(rt.retired[i]);
    free(rt.retired);
    loader_free(rt.reg);
    if (sigfd >= 0)
        close(sigfd);
    pthread_mutex_destroy(&rt.engine_lock);
    pthread_mutex_destroy(&rt.target_lock);
    return rc;
}
