/* SPDX-License-Identifier: MIT */
/*
 * sf_mock_internal.h - what the mock host's files share: the layouts behind the opaque
 * handles and a few helpers. Not for tests: use sf_mock_host.h.
 * Used by sf_mock_host.c (instances, table), sf_mock_options.c (options), sf_mock_map.c
 * (canonical map_json) and sf_mock_alert.c (fake alerts, render, fake requests).
 */
#ifndef SF_MOCK_INTERNAL_H
#define SF_MOCK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sf_mock_host.h"

/* The bounds the real host puts on events; the mock enforces the same ones. */
#define SF_MOCK_MAX_ENTITY 256
#define SF_MOCK_MAX_TYPE 128
#define SF_MOCK_MAX_ATTRS 8192
#define SF_MOCK_MAX_DOC (64 * 1024)
#define SF_MOCK_MAX_ERROR 512
#define SF_MOCK_MAX_SECRET 4096 /* bytes of a secret read from env: or file: */

struct sf_event {
    sf_mock_event e;
    sf_instance *owner;
};

typedef struct sf_mock_reason {
    char *signal;
    char *text;
    double x, weight;
} sf_mock_reason;

typedef struct sf_mock_attr {
    char *name;
    char *value;
} sf_mock_attr;

struct sf_alert {
    char *id, *decision, *question, *entity;
    int64_t time_ms;
    double score;
    sf_mock_reason *reasons;
    size_t n_reasons;
    sf_mock_attr *attrs;
    size_t n_attrs;
    char *json; /* built lazily by alert_json; dropped when the alert changes */
    /* the message model (since 1.2) */
    sf_mock_attr *links;
    size_t n_links;
    char *fb_confirm, *fb_false_positive;
    sf_alert **items; /* a digest's alerts (borrowed) */
    size_t n_items;
    char *msg_json;
};

struct sf_http_request {
    char *method, *path, *body;
    size_t body_len;
    sf_mock_attr *headers;
    size_t n_headers;
};

/* An instance and what it records (sf_mock_host.c keeps it; sf_mock_options.c reads and
   writes its options under its mutex). */
typedef struct mock_kv {
    char *name;
    char *value;
    char *secret; /* an SF_OPT_SECRET option's resolved value (NULL: refused or unset) */
} mock_kv;

typedef struct mock_log {
    sf_log_level level;
    char *text;
} mock_log;

typedef struct mock_metric {
    char *name;
    double sum;
} mock_metric;

typedef struct mock_thread {
    pthread_t tid;
    bool done;   /* the body returned */
    bool joined; /* pthread_join done */
} mock_thread;

struct sf_instance {
    sf_mock_host *host;
    char *name;
    const sf_plugin *plugin;
    void *state;
    bool create_called, created, started;

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;  /* stop requests and thread ends */
    bool stop;

    mock_kv *opts;
    size_t n_opts;

    sf_mock_event *events;
    size_t n_events;
    size_t emit_calls;
    size_t retry_left;
    long live;
    sf_mock_emit_hook hook;
    void *hook_ctx;
    sf_mock_map_fn map_fn;
    void *map_ctx;

    mock_log *logs;
    size_t n_logs;
    char last_error[SF_MOCK_MAX_ERROR];
    char error_copy[SF_MOCK_MAX_ERROR]; /* what last_error hands out */
    mock_metric *metrics;
    size_t n_metrics;

    mock_thread *threads;
    size_t n_threads;

    bool unhealthy;                        /* the last health_set said ok = false */
    char health_reason[SF_MOCK_MAX_ERROR]; /* and why */
    size_t health_calls;
};

/* Allocation that aborts on failure: the mock is a test tool. */
void *sf_mock_xmalloc(size_t n);
void *sf_mock_xrealloc(void *p, size_t n);
char *sf_mock_xstrdup(const char *s);
char *sf_mock_xstrndup(const char *s, size_t n);

/* event_new and set_error of the table, for the canonical reader. */
sf_event *sf_mock_event_make(sf_instance *inst, const char *entity, const char *type,
                             int64_t time_ms);
void sf_mock_error(sf_instance *inst, const char *fmt, ...) SF_PRINTF(2, 3);

/* The canonical-shape reader behind the table's map_json. */
sf_status sf_mock_map_canonical(sf_instance *inst, const char *json, size_t len, sf_event **out);
/* Format ms since the epoch as "2023-11-14T22:13:20.000Z" (buf >= 25 bytes). */
void sf_mock_format_time(int64_t ms, char *buf, size_t buflen);

/* The alert and request members of the table (sf_mock_alert.c). */
void sf_mock_fill_alert_table(sf_host *t);
/* The table's option getters (sf_mock_options.c). */
void sf_mock_fill_option_table(sf_host *t);
/* Resolve every secret option as the host does before create; SF_EINVAL with the reason. */
sf_status sf_mock_resolve_secrets(sf_instance *inst, char *err, size_t errlen);
/* Free the instance's options (at sf_mock_instance_free). */
void sf_mock_free_options(sf_instance *inst);

/* sf_mock_message.c: the msg_* members, render_as and template_check (since 1.2). */
void sf_mock_fill_message_table(sf_host *t);
void sf_mock_message_free(sf_alert *a);

/*
 * sf_mock_secret.c: an SF_OPT_SECRET's text (env:NAME, file:/path) resolved to a malloc'd
 * value, or NULL with the host's reason in err (a literal is refused).
 */
char *sf_mock_secret_resolve(const char *spec, char *err, size_t errlen);

/* sf_mock_crypto.c: host->hmac_sha256 and host->equal_ct without a crypto library. */
sf_status sf_mock_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                              uint8_t out[32]);
bool sf_mock_equal_ct(const void *a, const void *b, size_t n);

#endif
