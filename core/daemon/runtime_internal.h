/*
 * runtime_internal.h - the daemon's state, shared by its three files: runtime.c (start,
 * reload, the main loop, shutdown), runtime_scoring.c (the scorer thread, checkpoints,
 * recovery, alerts into the outbox) and runtime_instances.c (plugin instances: their I/O
 * into the journal, start and restart, delivery workers, ingest listener paths). Nothing else
 * includes it.
 */
#ifndef SIGFLOW_RUNTIME_INTERNAL_H
#define SIGFLOW_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "daemon/admin_http.h"
#include "daemon/delivery.h"
#include "plugin/host.h"
#include "ingest/ingest_http.h"
#include "ingest/intake.h"
#include "store/journal.h"
#include "plugin/loader.h"
#include "store/outbox.h"
#include "base/queue.h"
#include "score/score.h"
#include "plugin/site.h"
#include "store/store.h"

#define RESTART_BACKOFF_MIN_MS 1000
#define RESTART_BACKOFF_MAX_MS (5 * 60 * 1000)
#define INTAKE_BATCH 1024     /* events a connector buffers before a commit */
#define INTAKE_CAPACITY 65536 /* events a cursor-keeping connector may emit between cursors */
#define INTAKE_LINGER_MS 5    /* a buffered event waits at most this long for company */
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
    int64_t timeout_ms;    /* plugin_timeout when it started: create/start and stop deadline */
    int64_t backoff_ms;
    struct host_job *starting; /* create+start still running off the main loop (or NULL) */
    int64_t start_deadline_ms; /* monotonic: past it a start still running is abandoned */
    int start_reason;          /* what /readyz says of the start: 0 nothing, 1 still running,
                                  2 abandoned (cleared once it starts) */
    atomic_uint_fast64_t events_in, events_rejected;
    uint64_t refusal_hash; /* runtime_refusal.c: the last binding refusal logged (0: none) */
    uint64_t refusal_seen; /* how many supervise ticks met it since */
} rt_inst;

typedef struct rt_inspector rt_inspector;
typedef struct score_inspection score_inspection;

struct runtime {
    const char *config_path;
    site *site;
    site **retired; /* replaced by reloads; running instances may still borrow from them */
    size_t n_retired;
    plugin_registry *reg;
    store *st;
    journal *journal;
    outbox *outbox;
    ingest_http *http;    /* started when the first connector with a request callback starts */
    admin_http *admin;    /* /healthz, /readyz, /metrics */
    admin_api *admin_api; /* /v1: feedback, entities, alerts, model (its own store connection) */
    atomic_bool ready;    /* recovery done and instances started: /readyz says 200 */
    rt_inst **insts;      /* heap objects: a running instance's sink points at its rt_inst */
    size_t n_insts;

    queue *journaled; /* events committed to the journal, waiting for the scorer thread */
    pthread_t scorer;
    score_engine *engine;              /* owned by the scorer thread once it runs */
    pthread_mutex_t engine_lock;       /* guards pending_engine */
    score_engine *pending_engine;      /* swapped in by the scorer thread after a reload */
    const sigflow_config *pending_cfg; /* its config (sites live until exit) */
    bool rebuilding;                   /* scorer thread: replaying history, alerts not sent */
    uint64_t rebuild_alerts;           /* scorer thread: alerts of history a rebuild held back */
    config_clock clock;
    _Atomic int64_t event_clock_ms; /* largest event time applied: the delivery clock under
                                       clock = event (hours, digests) */

    pthread_mutex_t target_lock;      /* guards the targets: read by the scorer, set by reloads */
    char **target_names;              /* the decision's `deliver` names */
    delivery_worker **target_workers; /* their workers, to wake (NULL while not running) */
    size_t n_targets;
    char **health_target_names;              /* health_deliver names (default: the decision's) */
    delivery_worker **health_target_workers; /* their workers (NULL while not running) */
    size_t n_health_targets;
    atomic_uint_fast64_t alerts;
    atomic_bool draining; /* journaled queue closed: the scorer exits once it is empty */

    /* Read by the scorer, set at start and by reloads (the site pointer is the main thread's). */
    _Atomic int64_t checkpoint_interval_ms, journal_retention_ms;
    /* Scorer thread only: the journal position applied and the one last checkpointed. */
    uint64_t applied_seq, checkpointed_seq;
    int64_t last_checkpoint_ms;
    struct outbox_writer *writer; /* the scorer's alerts into the outbox, in groups */
    rt_inspector *inspector; /* live entity state for GET /v1/entities/ID (runtime_inspect.c) */
    /* Main loop only (runtime_ready.c): the journal's counters at the last readiness check,
       whether its commits are failing, and the failed count when they began to. */
    struct rt_ready_journal {
        uint64_t failed, commits, failed_before;
        bool failing;
    } ready_journal;
};

/* runtime_inspect.c: the admin thread asks, the scorer thread answers between events */
rt_inspector *runtime__inspector_new(void);
void runtime__inspector_free(rt_inspector *in);
/* Admin thread: 1 with *out filled (free with score_inspection_clear), 0 when the scorer did
   not answer within timeout_ms or there is no engine (the caller falls back). */
int runtime__inspect_entity(void *ctx, const char *id, int64_t timeout_ms, score_inspection *out);
/* Scorer thread: answer every queued request. */
void runtime__inspect_serve(runtime *rt);

/* runtime_label.c: a person's label journaled as a sigflow.label event (admin thread) */
void runtime__label_journal(void *ctx, const label_rec *l);

/* runtime_scorer.c: the journal's sink and the scorer thread */
void runtime__journal_sink_many(void *ctx, sf_event *const *evs, size_t n);
void *runtime__scorer_main(void *arg);

/* runtime_scoring.c: the engine for a config, its alerts to the outbox writer */
/* Alerts waiting for the outbox writer before scoring waits. */
#define RUNTIME_ALERTS_PENDING 4096
/* Start the outbox writer (before recovery); outbox_writer_stop after the scorer. */
sf_status runtime__alerts_start(runtime *rt);
score_engine *runtime__engine_for(runtime *rt, const sigflow_config *cfg);
/* runtime_checkpoint.c: save the scoring state and the journal position it covers (scorer
   thread); recovery at start */
#define CHECKPOINT_ALERTS_WAIT_MS 5000 /* a checkpoint waits this long for alerts to be stored */
void runtime__checkpoint(runtime *rt);
sf_status runtime__recover(runtime *rt);

/* runtime_health.c: health alerts (stale signals, schema drift) into the outbox */
void runtime__health_targets_rebuild(runtime *rt);
void runtime__health_put(runtime *rt, sf_alert *a);
/* A suppressed decision alert into the outbox with no delivery (the audit trail only). */
void runtime__suppressed_put(runtime *rt, sf_alert *a);
/* Start judging schema drift on a connector's mapping (its alerts go to runtime__health_put). */
void runtime__health_watch(runtime *rt, site_instance *si);
/* runtime_metrics_score.c: the guards' gauges (sigflow_signal_stale, _cohort_rho). */
void runtime__guard_metrics(runtime *rt);
/* runtime_retune.c: the scorer thread takes a reloaded decision's engine (next may be NULL). */
void runtime__engine_swap(runtime *rt, score_engine *next, const sigflow_config *cfg);

/* runtime_metrics_score.c (scorer thread): publish at most once a second unless `now` */
void runtime__score_metrics(runtime *rt, bool now);
/* A new alert stored: seconds from its time to now into sigflow_event_to_alert_seconds. */
void runtime__observe_alert(int64_t alert_time_ms);
/* The scorer caught up with the journal: sigflow_events_scored_total now (the benchmark's
   "scored" moment, tests/bench/bench_run.py). */
void runtime__score_caught_up(runtime *rt);

/* runtime_instances.c */
rt_inst *runtime__inst_new(runtime *rt, site_instance *si);
void runtime__inst_start(rt_inst *ri);
void runtime__inst_stop(rt_inst *ri);
bool runtime__safe_mode(runtime *rt, rt_inst *ri);
void runtime__targets_rebuild(runtime *rt);
void runtime__supervise(runtime *rt);
/*
 * runtime_refusal.c: the diagnostics of a binding that failed (options or mapping refused),
 * logged when they differ from the last ones logged for the instance, not at every
 * supervise tick; runtime__refusal_clear says how often a refusal was met once it bound.
 */
void runtime__refusal_report(rt_inst *ri, const diag *d);
void runtime__refusal_clear(rt_inst *ri);
void runtime__stats_log(runtime *rt);
/* runtime_ready.c: /readyz reasons for the store, state_dir's disk and the ingest listener
   (main thread, every loop turn); the ingest listener's bind failed (err) or worked (NULL). */
void runtime__ready_check(runtime *rt);
void runtime__ready_ingest(const char *addr, const char *err);
/* Publish the runtime's counters and gauges to core/base/metrics.c (main thread). */
void runtime__metrics_refresh(runtime *rt);

#endif
