/* SPDX-License-Identifier: MIT */
/*
 * sf_mock_host.h - a fake sigflow host for unit-testing plugins without the daemon (in the
 * spirit of collectd's plugin_mock.c). It fills a real sf_host table (size = sizeof(sf_host),
 * so SF_HOST_HAS works) and records what the plugin does: emitted events, log lines, errors,
 * metrics, checkpoints, threads. Needs only <sigflow.h>, libc and pthreads: no json-c, no
 * cmocka (use it from any test framework). Installed in `pkg-config --variable=mockdir
 * sigflow`; compile its .c files (sf_mock_*.c) into your test program.
 *
 * Typical test:
 *
 *     sf_mock_host *h = sf_mock_host_new();
 *     sf_instance *in = sf_mock_instance_new(h, "t", sigflow_plugin_v1(NULL));
 *     sf_mock_set_option(in, "path", "/tmp/x.ndjson");
 *     assert(sf_mock_instance_create(in) == SF_OK);   // init + create
 *     assert(sf_mock_instance_start(in) == SF_OK);
 *     assert(sf_mock_join_threads(in, 5000) == SF_OK); // the plugin's threads ended
 *     assert(sf_mock_event_count(in) == 3);
 *     sf_mock_instance_free(in);                        // stop (if started) + destroy
 *     sf_mock_host_free(h);
 *
 * Secret options (SF_OPT_SECRET) are read as the real host reads them: `env:NAME` and
 * `file:/path` resolve to the variable's or the file's value (opt_string returns the value);
 * a literal is refused, since secrets are never written in the INI: sf_mock_instance_create
 * returns SF_EINVAL without calling init (sf_mock_last_error says why) and opt_string reads
 * NULL. Set the variable (setenv) before sf_mock_set_option.
 *
 * Differences from the real host, on purpose: other options are not validated unless you call
 * sf_mock_validate_options; map_json reads only the canonical shape (flat enough for tests:
 * "entity", "type", "time" as ms or "YYYY-MM-DDTHH:MM:SS[.mmm]Z", "value"; other keys become
 * attrs) unless a test installs its own mapper; alerts are fakes built by the test.
 * Thread safety: every table function may be called from any thread; the sf_mock_* inspection
 * functions are meant for the test's main thread after the plugin's threads are quiet (or
 * from an emit hook).
 */
#ifndef SF_MOCK_HOST_H
#define SF_MOCK_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sigflow.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_mock_host sf_mock_host;

/* ---- the host ---------------------------------------------------------------------------- */

/** A new mock host with a complete table. Aborts on out of memory (it is a test tool). */
sf_mock_host *sf_mock_host_new(void);
/** Free the host and its checkpoint store. Free its instances first. */
void sf_mock_host_free(sf_mock_host *h);
/**
 * The table handed to plugins. Writable so a test can play an older host: set `size` lower
 * or a member to NULL and check the plugin tests SF_HOST_HAS.
 */
sf_host *sf_mock_host_table(sf_mock_host *h);

/** Store a checkpoint as if an earlier run of instance `instance` had (copied). */
void sf_mock_checkpoint_put(sf_mock_host *h, const char *instance, const char *key,
                            const char *value);
/** The stored checkpoint value (borrowed until the next set), or NULL. */
const char *sf_mock_checkpoint_peek(sf_mock_host *h, const char *instance, const char *key);
/** Number of checkpoint_set calls made by any instance so far. */
size_t sf_mock_checkpoint_writes(sf_mock_host *h);

/* ---- instances and their lifecycle ------------------------------------------------------- */

/**
 * A new instance named `name` of plugin `p` (may be NULL when the test calls the plugin's
 * functions itself). Checkpoints are keyed by instance name in the host, so a second
 * instance with the same name sees what the first stored (a restart).
 */
sf_instance *sf_mock_instance_new(sf_mock_host *h, const char *name, const sf_plugin *p);
/**
 * Stop the instance if started (as sf_mock_instance_stop), call destroy (also after a failed
 * create, with state NULL, as the host does), free everything it recorded.
 */
void sf_mock_instance_free(sf_instance *inst);

/** Calls p->init(table) (every time; init must be idempotent) then p->create. */
sf_status sf_mock_instance_create(sf_instance *inst);
/** Calls p->start. */
sf_status sf_mock_instance_start(sf_instance *inst);
/**
 * What the host does to stop: set should_stop (waking sleep_ms), call p->stop, then join the
 * instance's threads. Returns p->stop's status, or SF_ETIMEOUT if a thread did not end within
 * `timeout_ms` (a stop that is not bounded: the thread is left running, the test has failed).
 */
sf_status sf_mock_instance_stop(sf_instance *inst, int64_t timeout_ms);
/** The plugin's state pointer from create (NULL before). */
void *sf_mock_instance_state(sf_instance *inst);
/** Calls p->deliver(inst, state, alert, retry_after_ms). */
sf_deliver_result sf_mock_deliver(sf_instance *inst, const sf_alert *a, int64_t *retry_after_ms);
/** Calls p->poll(inst, state). */
sf_status sf_mock_poll(sf_instance *inst);

/* ---- options ----------------------------------------------------------------------------- */

/** Set option `name` to INI text `value` (copied; NULL unsets). Typed getters parse it. */
void sf_mock_set_option(sf_instance *inst, const char *name, const char *value);
/**
 * Check the instance's option values against the plugin's declared table as the host would:
 * unknown key, missing required, bad int/double/bool/duration, enum choice, range; also each
 * declared default. SF_OK, or SF_EINVAL with the reason in err ("timeout: 5x is not a
 * duration").
 */
sf_status sf_mock_validate_options(sf_instance *inst, char *err, size_t errlen);
/** Parse a duration as the host does ("250ms", "30s", "5m", "2h", "7d"). -1 if invalid. */
int64_t sf_mock_parse_duration_ms(const char *text);

/* ---- stop and threads -------------------------------------------------------------------- */

/** Make should_stop return true and wake every sleep_ms of the instance. */
void sf_mock_request_stop(sf_instance *inst);
/** Threads spawned by the instance so far. */
size_t sf_mock_thread_count(sf_instance *inst);
/**
 * Join every thread the instance spawned, waiting at most `timeout_ms` in all. SF_OK when all
 * ended; SF_ETIMEOUT when one still runs (it is left running).
 */
sf_status sf_mock_join_threads(sf_instance *inst, int64_t timeout_ms);

/* ---- emitted events ---------------------------------------------------------------------- */

/** One event as the plugin built it. */
typedef struct sf_mock_event {
    char *entity;
    char *type;
    int64_t time_ms;
    bool has_value;
    double value;
    char *attrs_json; /**< NULL when never set */
} sf_mock_event;

/** Events accepted by emit (not those refused by a scripted SF_ERETRY). */
size_t sf_mock_event_count(sf_instance *inst);
/** The i-th accepted event, NULL if out of range. Borrowed: valid until the next emit. */
const sf_mock_event *sf_mock_event_at(sf_instance *inst, size_t i);
/** Every call to emit, accepted or not. */
size_t sf_mock_emit_calls(sf_instance *inst);
/** The next `n` emit calls return SF_ERETRY (and consume the event, as the host does). */
void sf_mock_emit_retry(sf_instance *inst, size_t n);
/** Events created with event_new or map_json and not yet consumed by emit or event_free. */
long sf_mock_events_live(sf_instance *inst);
/**
 * Called after each accepted emit with the event just recorded (from the emitting thread),
 * e.g. to append to a file or request stop after N events. NULL removes the hook.
 */
typedef void (*sf_mock_emit_hook)(sf_instance *inst, const sf_mock_event *ev, void *ctx);
void sf_mock_on_emit(sf_instance *inst, sf_mock_emit_hook fn, void *ctx);

/**
 * Replace the canonical map_json with `fn` (NULL restores it). A failing mapper should call
 * the table's set_error so the plugin can read the reason through last_error.
 */
typedef sf_status (*sf_mock_map_fn)(sf_instance *inst, const char *json, size_t len, sf_event **out,
                                    void *ctx);
void sf_mock_set_map_json(sf_instance *inst, sf_mock_map_fn fn, void *ctx);

/* ---- logs, errors, metrics --------------------------------------------------------------- */

/** Number of log lines the instance wrote. */
size_t sf_mock_log_count(sf_instance *inst);
/** The i-th log line's text (borrowed) and, if level is not NULL, its level. */
const char *sf_mock_log_at(sf_instance *inst, size_t i, sf_log_level *level);
/**
 * Index of the first log line at `level` (or any level if level < 0) containing `needle`,
 * or -1.
 */
long sf_mock_log_find(sf_instance *inst, int level, const char *needle);
/** The text of the last set_error ("" if none). Also what the table's last_error returns. */
const char *sf_mock_last_error(sf_instance *inst);
/** Sum of metric_add deltas for `name` (0 if never added). */
double sf_mock_metric(sf_instance *inst, const char *name);
/**
 * since 1.4: false when the instance's last health_set said ok = false (its reason in
 * *reason, borrowed; "" otherwise); true before any call. *calls (may be NULL): how many.
 */
bool sf_mock_healthy(sf_instance *inst, const char **reason, size_t *calls);

/* Set SF_MOCK_VERBOSE=1 in the environment to also print log lines on stderr. */

/* ---- fake alerts (for delivery plugins) -------------------------------------------------- */

/**
 * A fake alert for `entity` with `score`, decision "test_decision", question "Is it a test?",
 * time 1700000000000 (2023-11-14T22:13:20.000Z) and id "alert-<entity>", no reasons.
 */
sf_alert *sf_mock_alert_new(const char *entity, double score);
void sf_mock_alert_free(sf_alert *a);
void sf_mock_alert_set_id(sf_alert *a, const char *id);
void sf_mock_alert_set_decision(sf_alert *a, const char *decision, const char *question);
void sf_mock_alert_set_time(sf_alert *a, int64_t time_ms);
/** Append a reason (the test orders them strongest first). */
void sf_mock_alert_add_reason(sf_alert *a, const char *signal, const char *text, double x,
                              double weight);
/** Set an attribute returned by alert_attr (and {{attr.NAME}}). */
void sf_mock_alert_set_attr(sf_alert *a, const char *name, const char *value);
/**
 * The alert's JSON as the table's alert_json returns it, deterministic:
 * {"alert_id":"ID","decision":"D","entity":"E","time":"RFC3339","score":S,
 *  "reasons":[{"signal":"N","x":X,"weight":W,"contribution":C,"text":"T"}]}
 * with numbers printed with "%.6g" and the time as 2023-11-14T22:13:20.000Z. Borrowed until
 * the alert changes or is freed. render knows {{entity}} {{decision}} {{question}}
 * {{alert_id}} {{score}} ("%.2f") {{score_pct}} {{time}} (as above) {{reasons}} (each reason's
 * text, or its signal when the text is empty, one per line) and {{attr.NAME}} ("" if unset);
 * any other {{...}} makes render return NULL.
 */
const char *sf_mock_alert_json(sf_alert *a);

/* ---- the message model (SDK 1.3) --------------------------------------------------------- */
/*
 * msg_title is the question (else the decision); msg_reason_* list the reasons with
 * x * weight > 0 in the order added; msg_attr_* the attrs set; msg_link_* the links added;
 * msg_feedback_url the URLs set ("" otherwise); msg_json
 * {"alert_id","decision","title","entity","time","score" (%.2f),"score_pct","reasons":
 * [{"signal","text","contribution" (%.2f)}],"attrs":{},"links":{},"feedback":{"confirm",
 * "false_positive"}}. render_as knows the names of docs/templates.md, the sections
 * {{#reasons}} {{#links}} {{#attrs}} {{#alerts}} and {{#name}}/{{^name}} on a value, and
 * escapes as asked; an unknown name or an unclosed section makes it return NULL.
 */
void sf_mock_alert_add_link(sf_alert *a, const char *name, const char *url);
void sf_mock_alert_set_feedback(sf_alert *a, const char *confirm_url, const char *fp_url);
/** Make `digest` a digest listing `item` (borrowed: free the items after the digest). */
void sf_mock_alert_add_item(sf_alert *digest, sf_alert *item);

/* ---- inbound HTTP requests (for connectors with a `request` callback) -------------------- */

sf_http_request *sf_mock_request_new(const char *method, const char *path, const char *body,
                                     size_t body_len);
/** Add a header (copied); lookup by req_header is case-insensitive. */
void sf_mock_request_add_header(sf_http_request *r, const char *name, const char *value);
void sf_mock_request_free(sf_http_request *r);

#ifdef __cplusplus
}
#endif

#endif
