/*
 * config.h - the site configuration: INI parsed with inih into typed sections.
 * Owns: sigflow_config and everything it points to. Calls diag, timefmt, secret resolution.
 * Used by the CLI (check, run, replay) and the runtime (reload). Plugin options are kept as
 * raw key/value pairs here and validated against the plugin's declared options by options.h
 * once the plugin is loaded.
 */
#ifndef SIGFLOW_CONFIG_H
#define SIGFLOW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/diag.h"
#include "config/secret.h"  /* secret_resolve */
#include "config/suggest.h" /* suggest_closest */
#include "sigflow.h"

typedef struct config_kv {
    char *key;
    char *value; /* as written (secrets unresolved: "env:NAME") */
    int line;
} config_kv;

typedef enum measure_kind {
    MEASURE_DROP,
    MEASURE_RISE,
    MEASURE_COUNT,
    MEASURE_RECENT,
    MEASURE_ABSENT,
    MEASURE_VALUE_BELOW,
    MEASURE_VALUE_ABOVE
} measure_kind;

typedef struct config_signal {
    char *name;  /* [signal NAME] */
    char *event; /* event type it reads */
    measure_kind measure;
    bool of_value;               /* of = value (else count) */
    int64_t recent_ms, usual_ms; /* drop, rise */
    double span;                 /* rise; default 1 */
    int64_t window_ms;           /* count, recent, absent */
    double cap;                  /* count */
    double limit;                /* value_below, value_above */
    double weight;
    char *explain; /* template or NULL */
    /* noise guards (docs/scoring.md "Noise guards") */
    bool cohort;             /* relative = cohort (drop, rise): ratio over the population's */
    double stale_below;      /* stale when events < stale_below x expected; 0 = off */
    int64_t stale_window_ms; /* window the events are counted in; default 1d */
    double stale_min;        /* fewer expected events per window: never judged; default 100 */
    int line;
} config_signal;

typedef struct config_decision {
    char *name;
    char *question;
    double bias, threshold, rearm_below;
    int64_t cooldown_ms; /* default 0 */
    int64_t tick_ms;     /* default 1h */
    char **deliver;      /* names of [delivery] sections */
    size_t n_deliver;
    int line;
    /* outcomes and learning: docs/scoring.md "Outcomes and learning" */
    bool threshold_auto;     /* threshold = auto: learned at each refit */
    bool rearm_set;          /* rearm_below was written (else it follows the threshold) */
    char *outcome;           /* event type answering the question with yes, or NULL */
    int64_t horizon_ms;      /* how far ahead an alert looks; default 45d */
    bool learning;           /* refits change the model; default on when outcome is set */
    int64_t refit_ms;        /* engine time between refits; default 1d */
    double prior;            /* L2 strength toward the configured bias/weights; default 10 */
    long long fit_sample;    /* snapshots kept for fitting; default 100000 */
    int64_t fit_horizon_ms;  /* label window of a snapshot; default min(14d, horizon) */
    double target_precision; /* threshold = auto: alert precision to reach; default 0.6 */
    int64_t auto_window_ms;  /* threshold = auto: judged weeks of alerts; default 28d */
} config_decision;

/* The defaults of the learning keys (config_learn.c). */
void config_learning_defaults(config_decision *dec);

typedef struct config_instance {
    char *name;   /* [connector NAME] */
    char *plugin; /* plugin = */
    sf_plugin_kind kind;
    int line; /* of the section header */
    int plugin_line;
    config_kv *kv; /* every key but `plugin`, in file order (map.* included) */
    size_t n_kv;
} config_instance;

typedef enum config_clock { CONFIG_CLOCK_WALL, CONFIG_CLOCK_EVENT } config_clock;

typedef struct sigflow_config {
    char *path;     /* as given */
    char *base_dir; /* directory of the file; relative paths below are resolved to it */
    /* [sigflow] */
    char *state_dir;       /* resolved path; default "var" */
    char *plugin_dir;      /* resolved path; default "plugins" */
    char *admin;           /* host:port; default 127.0.0.1:9464 */
    char *admin_token;     /* resolved secret or NULL; never log */
    int shards;            /* default: online cores */
    int64_t queue_size;    /* events journaled, not yet scored (runtime journaled); 65536 */
    config_clock clock;    /* default wall */
    char *ingest;          /* host:port of the HTTP ingest listener; default 127.0.0.1:8088 */
    int durability;        /* 0 fsync (default), 1 batch, 2 off: store_durability */
    int64_t retry_base_ms; /* deliveries: first backoff ceiling; default 1s */
    int64_t retry_max_ms;  /* deliveries: largest backoff; default 5m */
    int max_attempts;      /* deliveries: attempts before dead-lettering; default 0 = no limit */
    int64_t retry_for_ms;  /* deliveries: retried this long after the alert, then dead; 24h */
    int64_t deliver_timeout_ms;     /* deliveries: one attempt's deadline; default 30s */
    int64_t plugin_timeout_ms;      /* init, create, start and stop of a plugin; default 10s */
    int64_t max_future_skew_ms;     /* events dated further ahead than this are refused; 1h */
    int64_t checkpoint_interval_ms; /* scoring state checkpoints; default 5m */
    int64_t journal_retention_ms;   /* journaled events kept after a checkpoint; default 7d */
    char *log_level;                /* default info */
    int log_format;                 /* log_style: 0 logfmt (default), 1 json */
    char **health_deliver;          /* health alerts' targets; NULL: the decision's deliver */
    size_t n_health_deliver;
    int health_deliver_line;
    int drift_window;       /* documents per connector and field judged for drift; 100 */
    double drift_threshold; /* missing/wrong-type share above which a field drifted; 0.2 */

    /* [sigflow] feedback links (docs/admin-api.md) */
    char *public_url; /* base of links in messages, or NULL */
    char *user; /* [sigflow] user: run becomes it after binding (daemon/privdrop.c), or NULL */
    char *feedback_secret;   /* resolved secret signing feedback links, or NULL; never log */
    int64_t feedback_ttl_ms; /* how long a feedback link stays valid; default 30d */

    /* [decision] and its signals */
    bool has_decision;
    config_decision decision;
    config_signal *signals;
    size_t n_signals;
    config_instance *connectors;
    size_t n_connectors;
    config_instance *deliveries;
    size_t n_deliveries;
} sigflow_config;

/*
 * Parse `path`. Every problem found is added to `d` as "path:line: message"; the result is
 * NULL when there was any. Checks everything that needs no plugin: section kinds, names,
 * [sigflow] and [decision] keys, signals (measure keys present and positive), one decision,
 * deliver= naming existing [delivery] sections, duplicate names, `plugin =` present.
 */
sigflow_config *config_load(const char *path, diag *d);
/*
 * The same, but the config is returned even when `d` got errors (NULL only when the file
 * cannot be read or memory runs out): what parsed is there, what did not is left at its
 * default. For `sigflow check`, which goes on to validate every plugin's options so one run
 * reports every problem. Never run a daemon on it.
 */
sigflow_config *config_load_partial(const char *path, diag *d);
void config_free(sigflow_config *cfg);

/* The instance named `name` among connectors and deliveries, or NULL. */
const config_instance *config_find_instance(const sigflow_config *cfg, const char *name);

#endif
