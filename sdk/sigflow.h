/* SPDX-License-Identifier: MIT */
/*
 * sigflow.h - the sigflow plugin SDK, ABI 1.
 *
 * This one header is all a plugin author needs. It is freestanding: it includes only
 * <stdint.h>, <stddef.h>, <stdarg.h> and <stdbool.h>, and no type of json-c, libcurl or inih
 * crosses the ABI. Build a plugin with `cc -shared -fPIC $(pkg-config --cflags sigflow)`.
 *
 * == How a plugin is found ==
 * A plugin is a shared object in `plugin_dir` that exports one function, named for the ABI
 * major it was built for:
 *
 *     const sf_plugin *sigflow_plugin_v1(const sf_host_info *info);
 *
 * It returns a pointer to a `static const sf_plugin` descriptor (use SF_PLUGIN_INIT). Before it
 * calls any other code of the plugin, the host checks the descriptor's frozen prefix in this
 * order: magic, ABI major, ABI minor (not newer than the host's), struct_size (not larger than
 * the host knows; a smaller one is zero-filled), min_host_minor. Any refusal is one log line
 * naming the file, the field and both values; the daemon runs on without the plugin.
 *
 * == Ownership ==
 *  - Strings passed *into* a host function are copied by the host; the caller keeps them.
 *  - Strings returned by getters (options, alert accessors, request accessors) are borrowed:
 *    valid until the callback that received them returns. Copy what you keep.
 *  - `emit` always consumes the event, whether it succeeds or fails.
 *  - Memory the host allocates for you (checkpoint_get, render) is freed with host->free.
 *  - An alert given to `deliver` is borrowed for the duration of the call.
 *  - The descriptor and its option table are owned by the plugin and must outlive the
 *    process (a loaded plugin is never unloaded).
 *
 * == Lifecycle == (enforced by the host; a call out of order is refused with SF_EINVAL)
 *    init (once per process, after the checks)
 *    create  - parse options, allocate state. No threads, no I/O that can hang.
 *    start   - open connections, spawn threads (through host->thread_spawn).
 *    stop    - bounded; after it returns the instance emits nothing more. The host joins the
 *              threads it spawned for the instance after stop returns.
 *    destroy - free the state. Called after a failed create too (with state NULL).
 * A failing instance (start or poll returning an error) is restarted with doubling backoff;
 * other instances run on.
 *
 * == Threading ==
 * Callbacks of one instance never run concurrently with each other, unless the descriptor
 * sets SF_PLUGIN_REENTRANT. Every host function is thread-safe and may be called from any
 * thread, including threads spawned with host->thread_spawn.
 *
 * == Growth rules (for sigflow maintainers) ==
 * sf_plugin and sf_host only ever grow at their end. A field added in minor N is listed under
 * a "since 1.N" marker. Nothing is removed, reordered or retyped within ABI major 1.
 */
#ifndef SIGFLOW_H
#define SIGFLOW_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI this header describes. A host speaking 1.x loads plugins built for 1.y, y <= x. */
#define SF_ABI_MAJOR 1
#define SF_ABI_MINOR 4

/** First field of every descriptor: "SFLW" in ASCII. */
#define SF_PLUGIN_MAGIC 0x53464c57u

#if defined(__GNUC__)
#define SF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define SF_EXPORT __attribute__((visibility("default")))
#else
#define SF_PRINTF(fmt, args)
#define SF_EXPORT
#endif

/** Result of every fallible call. Zero is success; errors are negative. */
typedef enum sf_status {
    SF_OK = 0,
    SF_EINVAL = -1,       /**< invalid argument or input */
    SF_ENOMEM = -2,       /**< out of memory */
    SF_EIO = -3,          /**< I/O or network error */
    SF_ETIMEOUT = -4,     /**< an operation timed out */
    SF_ERETRY = -5,       /**< temporary: try again later (queue full, target busy) */
    SF_EFATAL = -6,       /**< permanent: do not retry */
    SF_EUNSUPPORTED = -7, /**< not supported by this host or plugin */
    SF_EABI = -8          /**< ABI mismatch */
} sf_status;

/** Opaque handles. Their contents are the host's business. */
typedef struct sf_instance sf_instance;         /**< one configured [connector]/[delivery] */
typedef struct sf_event sf_event;               /**< an event being built, before emit */
typedef struct sf_alert sf_alert;               /**< an alert handed to deliver */
typedef struct sf_http_request sf_http_request; /**< an inbound request (connectors) */

typedef enum sf_plugin_kind {
    SF_KIND_CONNECTOR = 1, /**< captures events (webhook, poll, file) */
    SF_KIND_DELIVERY = 2   /**< delivers alerts (slack, email, webhook, console) */
} sf_plugin_kind;

typedef enum sf_log_level {
    SF_LOG_ERROR = 0,
    SF_LOG_WARN = 1,
    SF_LOG_INFO = 2,
    SF_LOG_DEBUG = 3
} sf_log_level;

/* ------------------------------------------------------------------------------------------ */
/* Options: declared as data, validated by the host before `create` runs.                     */
/* ------------------------------------------------------------------------------------------ */

typedef enum sf_opt_type {
    SF_OPT_STRING = 1,
    SF_OPT_INT = 2, /**< 64-bit signed integer */
    SF_OPT_DOUBLE = 3,
    SF_OPT_BOOL = 4,     /**< true/false, yes/no, on/off, 1/0 */
    SF_OPT_DURATION = 5, /**< 500ms, 30s, 5m, 2h, 7d; read in milliseconds */
    SF_OPT_ENUM = 6,     /**< one of `choices` */
    SF_OPT_SECRET = 7,   /**< a string given as env:NAME or file:/path; never logged */
    SF_OPT_TEMPLATE = 8  /**< since 1.3: a message template, compiled (names checked) by the
                              host at `sigflow check`; read with opt_string, render with
                              render_as. Set min_host_minor = 3 when you declare one. */
} sf_opt_type;

#define SF_OPT_REQUIRED 0x1u  /**< the key must be present in the section */
#define SF_OPT_SENSITIVE 0x2u /**< redact the value everywhere (implied by SF_OPT_SECRET) */
#define SF_OPT_HAS_RANGE 0x4u /**< `min`/`max` apply (int, double, duration in ms) */
/** A string naming a file or directory: the host resolves a relative one against the config
 *  file's directory before the plugin sees it (an older host passes it as written). */
#define SF_OPT_PATH 0x8u
/**
 * Since 1.2: `name` ends with '.' and stands for every key `name<suffix>` ("headers." for
 * `headers.Accept = ...`), each parsed as the option's type (string or secret); read them
 * with host->opt_prefixed. A 1.0/1.1 host refuses such keys as unknown.
 */
#define SF_OPT_PREFIX 0x10u

/**
 * One declared option. Give a table of these, ended by an entry whose name is NULL, with
 * designated initializers:
 *
 *     static const sf_option opts[] = {
 *         {.name = "path", .type = SF_OPT_STRING, .flags = SF_OPT_REQUIRED,
 *          .help = "file to read"},
 *         {.name = "interval", .type = SF_OPT_DURATION, .default_value = "1s",
 *          .flags = SF_OPT_HAS_RANGE, .min = 10, .max = 3600000, .help = "poll period"},
 *         {0}};
 *
 * The layout is frozen for ABI major 1.
 */
typedef struct sf_option {
    const char *name;           /**< INI key */
    sf_opt_type type;           /**< value type */
    const char *default_value;  /**< INI text used when the key is absent; NULL: none */
    uint32_t flags;             /**< SF_OPT_* flags */
    double min, max;            /**< inclusive range when SF_OPT_HAS_RANGE */
    const char *const *choices; /**< SF_OPT_ENUM: NULL-terminated list */
    const char *help;           /**< one line for `sigflow plugins NAME` */
    const void *reserved[2];    /**< zero */
} sf_option;

/* ------------------------------------------------------------------------------------------ */
/* The host table: every service a plugin may use. Append-only.                               */
/* ------------------------------------------------------------------------------------------ */

/** The outcome of one delivery attempt. */
typedef enum sf_deliver_result {
    SF_DELIVER_OK = 0,    /**< delivered; done */
    SF_DELIVER_RETRY = 1, /**< temporary failure: retry (after *retry_after_ms if set > 0) */
    SF_DELIVER_FAIL = 2   /**< permanent failure: dead-letter now */
} sf_deliver_result;

/** How render_as escapes the values it inserts (the template's own text is never escaped). */
typedef enum sf_escape {
    SF_ESCAPE_PLAIN = 0, /**< as they are */
    SF_ESCAPE_HTML = 1,  /**< & < > " ' as entities */
    SF_ESCAPE_SLACK = 2, /**< Slack mrkdwn: & < > as entities */
    SF_ESCAPE_JSON = 3   /**< the inside of a JSON string */
} sf_escape;

/** A thread body spawned through host->thread_spawn. */
typedef void (*sf_thread_fn)(sf_instance *inst, void *arg);

typedef struct sf_host sf_host;

/**
 * The host's services. `size` is sizeof(sf_host) as the host was built; a plugin built
 * against a newer header must test SF_HOST_HAS before calling a function added after 1.0.
 *
 * WARNING to maintainers: append only. Never insert, remove or reorder a member.
 */
struct sf_host {
    uint32_t size;      /**< sizeof(sf_host) in the host */
    uint16_t abi_major; /**< SF_ABI_MAJOR of the host */
    uint16_t abi_minor; /**< SF_ABI_MINOR of the host */

    /* ---- since 1.0: logging and errors ---- */

    /** Log one line as `level plugin=P instance=I msg`. Never pass secrets. */
    void (*log)(sf_instance *inst, sf_log_level level, const char *fmt, ...) SF_PRINTF(3, 4);
    /** va_list form of log. */
    void (*vlog)(sf_instance *inst, sf_log_level level, const char *fmt, va_list ap);
    /** Set the text the operator reads for the error the current callback is returning. */
    void (*set_error)(sf_instance *inst, const char *fmt, ...) SF_PRINTF(2, 3);

    /* ---- since 1.0: instance and options ---- */

    /** The instance's section name ("billing" for [connector billing]). Borrowed. */
    const char *(*instance_name)(sf_instance *inst);
    /** True when the option was given in the INI (not only defaulted). */
    bool (*opt_is_set)(sf_instance *inst, const char *name);
    /** String, enum and secret values (secrets resolved). NULL if unset with no default. */
    const char *(*opt_string)(sf_instance *inst, const char *name);
    int64_t (*opt_int)(sf_instance *inst, const char *name);
    double (*opt_double)(sf_instance *inst, const char *name);
    bool (*opt_bool)(sf_instance *inst, const char *name);
    /** Duration options, in milliseconds. */
    int64_t (*opt_duration_ms)(sf_instance *inst, const char *name);

    /* ---- since 1.0: events ---- */

    /**
     * Start an event. `entity` and `type` are copied; `time_ms` is ms since the epoch.
     * Returns NULL (with set_error) if an argument breaks a limit (entity id length, ...).
     */
    sf_event *(*event_new)(sf_instance *inst, const char *entity, const char *type,
                           int64_t time_ms);
    /** Give the event a numeric value. */
    void (*event_set_value)(sf_event *ev, double value);
    /** Set attrs from a JSON object text (copied, parsed and bounded by the host). */
    sf_status (*event_set_attrs_json)(sf_event *ev, const char *json, size_t len);
    /** Drop an event that will not be emitted. */
    void (*event_free)(sf_event *ev);
    /**
     * Hand an event to the core. Always consumes `ev`. SF_OK once the core has accepted it;
     * SF_ERETRY when the core is saturated (back-pressure: keep your source's position and
     * try again); SF_EINVAL if the event breaks a limit.
     */
    sf_status (*emit)(sf_instance *inst, sf_event *ev);
    /**
     * Map one JSON document to an event with the instance's `map.*` keys (or the canonical
     * shape {"entity","type","time","value",...} when none are set) using the host's parser
     * and limits. On SF_OK *out is a new event for emit; on error set_error says what and
     * where, and the instance's mapping-miss counters are updated.
     */
    sf_status (*map_json)(sf_instance *inst, const char *json, size_t len, sf_event **out);

    /* ---- since 1.0: checkpoints (per instance key-value) ---- */

    /** Read a value stored by checkpoint_set; *value is NULL if none. Free with host->free. */
    sf_status (*checkpoint_get)(sf_instance *inst, const char *key, char **value);
    /** Store a value (copied). Durable before it returns. */
    sf_status (*checkpoint_set)(sf_instance *inst, const char *key, const char *value);

    /* ---- since 1.0: metrics, stop, threads ---- */

    /** Add `delta` to the counter `sigflow_plugin_<name>_total{instance=...}`. */
    void (*metric_add)(sf_instance *inst, const char *name, double delta);
    /** True once the host asked the instance to stop: long loops must check it. */
    bool (*should_stop)(sf_instance *inst);
    /** Run fn(inst, arg) on a new thread; the host joins it after `stop` returns. */
    sf_status (*thread_spawn)(sf_instance *inst, sf_thread_fn fn, void *arg);
    /** Sleep up to `ms`, returning early (true) when the instance is asked to stop. */
    bool (*sleep_ms)(sf_instance *inst, int64_t ms);

    /* ---- since 1.0: alerts (for delivery plugins; all strings borrowed) ---- */

    const char *(*alert_id)(const sf_alert *a);       /**< also the idempotency key */
    const char *(*alert_decision)(const sf_alert *a); /**< [decision] name */
    const char *(*alert_question)(const sf_alert *a); /**< [decision] question */
    const char *(*alert_entity)(const sf_alert *a);
    int64_t (*alert_time_ms)(const sf_alert *a);
    double (*alert_score)(const sf_alert *a);
    /** Number of reasons, strongest first. */
    size_t (*alert_reason_count)(const sf_alert *a);
    const char *(*alert_reason_signal)(const sf_alert *a, size_t i);
    const char *(*alert_reason_text)(const sf_alert *a, size_t i);
    double (*alert_reason_x)(const sf_alert *a, size_t i);
    double (*alert_reason_weight)(const sf_alert *a, size_t i);
    /** The whole alert as one line of JSON (the shape `sigflow replay` prints). */
    const char *(*alert_json)(const sf_alert *a);
    /** An attribute of the entity's latest event as text ("owner_email"); NULL if none. */
    const char *(*alert_attr)(const sf_alert *a, const char *name);

    /* ---- since 1.0: templates and memory ---- */

    /**
     * Render `tmpl` against the alert: {{entity}}, {{decision}}, {{question}}, {{score}},
     * {{score_pct}}, {{time}}, {{alert_id}}, {{reasons}} (one per line), {{attr.NAME}}.
     * Returns a new string (free with host->free) or NULL on error.
     */
    char *(*render)(const sf_alert *a, const char *tmpl);
    void *(*alloc)(size_t size); /**< never returns NULL for size > 0 (aborts on OOM) */
    void (*free)(void *p);

    /* ---- since 1.0: inbound HTTP requests (connectors with a `request` callback) ---- */

    const char *(*req_method)(const sf_http_request *r);
    const char *(*req_path)(const sf_http_request *r);
    /** A request header by case-insensitive name; NULL if absent. */
    const char *(*req_header)(const sf_http_request *r, const char *name);
    /** The body (bounded by the listener's limit); *len is set. Not NUL-terminated. */
    const char *(*req_body)(const sf_http_request *r, size_t *len);

    /* ---- since 1.0: error text ---- */

    /**
     * The text of the instance's last error, set by set_error from the plugin or by the host
     * (e.g. why map_json or event_new failed). Borrowed until the calling thread's next call
     * into the host for this instance; "" if none. Lets a plugin put the host's reason into
     * its own log line ("line 7: missing entity").
     */
    const char *(*last_error)(sf_instance *inst);

    /* ---- since 1.1: signatures (so a plugin needs no crypto library of its own) ---- */

    /** out = HMAC-SHA256(key, msg): 32 bytes. SF_OK, or SF_EFATAL if the host's crypto failed. */
    sf_status (*hmac_sha256)(const void *key, size_t key_len, const void *msg, size_t msg_len,
                             uint8_t out[32]);
    /** True when a and b hold the same n bytes, in time that depends on n only. */
    bool (*equal_ct)(const void *a, const void *b, size_t n);

    /* ---- since 1.2: gauges and prefixed options ---- */

    /** Set the gauge `sigflow_plugin_<name>_<metric>{instance=...}` to `value`. */
    void (*metric_set)(sf_instance *inst, const char *name, double value);
    /**
     * The i-th key (INI order) under the SF_OPT_PREFIX option `prefix` ("headers."): its value
     * (secrets resolved; borrowed), and in *suffix (may be NULL) the rest of its key
     * ("Accept"). NULL past the last one.
     */
    const char *(*opt_prefixed)(sf_instance *inst, const char *prefix, size_t i,
                                const char **suffix);

    /* ---- since 1.3: the message model (docs/templates.md; all strings borrowed) ---- */

    /** The title: the decision's question, or its name when it has none. */
    const char *(*msg_title)(const sf_alert *a);
    /** Reasons that raised the score (contribution > 0), strongest first. */
    size_t (*msg_reason_count)(const sf_alert *a);
    const char *(*msg_reason_signal)(const sf_alert *a, size_t i);
    /** The explain sentence, or the signal's name when it has none. */
    const char *(*msg_reason_text)(const sf_alert *a, size_t i);
    double (*msg_reason_contribution)(const sf_alert *a, size_t i);
    /** The entity's attrs (top level, in order) as name/text pairs. */
    size_t (*msg_attr_count)(const sf_alert *a);
    const char *(*msg_attr_name)(const sf_alert *a, size_t i);
    const char *(*msg_attr_value)(const sf_alert *a, size_t i);
    /** The target's links (`link.NAME = TEMPLATE`) rendered for this alert. */
    size_t (*msg_link_count)(const sf_alert *a);
    const char *(*msg_link_name)(const sf_alert *a, size_t i);
    const char *(*msg_link_url)(const sf_alert *a, size_t i);
    /** One-click feedback URL for label "confirmed" or "false_positive"; "" when off. */
    const char *(*msg_feedback_url)(const sf_alert *a, const char *label);
    /** The message as one line of JSON (title, entity, score rounded, reasons, attrs,
        links, feedback; a digest: {"digest":true,"count":N,"alerts":[...]}). */
    const char *(*msg_json)(const sf_alert *a);
    /** A digest's alerts (0 for a single alert); each is a full alert for the accessors. */
    size_t (*msg_item_count)(const sf_alert *a);
    const sf_alert *(*msg_item)(const sf_alert *a, size_t i);
    /**
     * Render a template (docs/templates.md) against the alert, escaping inserted values for
     * `esc`. A new string (free with host->free), or NULL with set_error saying why.
     */
    char *(*render_as)(sf_instance *inst, const sf_alert *a, const char *tmpl, sf_escape esc);
    /** Compile a template without rendering it: SF_OK, or SF_EINVAL with the reason in err. */
    sf_status (*template_check)(const char *tmpl, char *err, size_t errlen);

    /* ---- since 1.4: readiness ---- */

    /**
     * Whether the instance can do its job. ok = false with a one-line reason (no secrets:
     * "GET https://api.example.com/tickets answered 401 (not authorized)") makes GET /readyz
     * answer 503 with the instance, the plugin and the reason, until the instance calls it
     * again with ok = true (reason ignored). For what an operator must fix (credentials, a
     * URL), not for errors a retry absorbs. Cleared when the instance stops.
     */
    void (*health_set)(sf_instance *inst, bool ok, const char *reason);

    /* Append new members below this line, under a "since 1.N" marker. */
};

/**
 * True when the host provides `fn` (a member of sf_host): the host's table is long enough
 * to hold it and the slot is filled. Test it before calling anything added after 1.0.
 */
#define SF_HOST_HAS(host, fn)                                                                      \
    ((host) != NULL &&                                                                             \
     offsetof(sf_host, fn) + sizeof(((sf_host *)0)->fn) <= (size_t)(host)->size &&                 \
     (host)->fn != NULL)

/* ------------------------------------------------------------------------------------------ */
/* The descriptor a plugin returns.                                                           */
/* ------------------------------------------------------------------------------------------ */

/** What the host tells the entry function about itself. */
typedef struct sf_host_info {
    uint32_t size;            /**< sizeof(sf_host_info) in the host */
    uint16_t abi_major;       /**< host's SF_ABI_MAJOR */
    uint16_t abi_minor;       /**< host's SF_ABI_MINOR */
    const char *host_version; /**< sigflow's version, e.g. "0.1.0" */
} sf_host_info;

/** Descriptor flags. */
#define SF_PLUGIN_REENTRANT 0x1u /**< callbacks of one instance may run concurrently */
/** since 1.3: `deliver` understands digests (msg_item_count > 0), so `mode = digest` may be
    set on its instances. */
#define SF_PLUGIN_DIGEST 0x2u

/** What an inbound HTTP request callback answers. */
typedef struct sf_http_response {
    int status;               /**< HTTP status; 0 means 200 */
    const char *body;         /**< static or plugin-owned text, copied by the host; may be NULL */
    const char *content_type; /**< default "text/plain" */
} sf_http_response;

typedef struct sf_plugin sf_plugin;

struct sf_plugin {
    /* ---- frozen prefix: never changes within any ABI major ---- */
    uint32_t magic;          /**< SF_PLUGIN_MAGIC */
    uint16_t abi_major;      /**< SF_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;      /**< SF_ABI_MINOR the plugin was built with */
    uint32_t struct_size;    /**< sizeof(sf_plugin) the plugin was built with */
    uint16_t min_host_minor; /**< the oldest host minor whose services it needs */
    uint16_t flags;          /**< SF_PLUGIN_* */

    /* ---- since 1.0 ---- */
    const char *name;        /**< unique; what `plugin =` names. [a-z0-9_], <= 32 chars */
    const char *version;     /**< the plugin's own version, free text */
    const char *description; /**< one line */
    sf_plugin_kind kind;
    const sf_option *options; /**< NULL-name-terminated table, or NULL for none */

    /** Once per process after the checks passed. Keep `host`; it lives forever. */
    sf_status (*init)(const sf_host *host);
    /** Parse options into *state. No threads, no blocking I/O. */
    sf_status (*create)(sf_instance *inst, void **state);
    sf_status (*start)(sf_instance *inst, void *state);
    /** Bounded. After it returns the instance emits nothing more. */
    sf_status (*stop)(sf_instance *inst, void *state);
    void (*destroy)(sf_instance *inst, void *state);

    /* connectors */
    /** Called every `poll_interval_ms` while started (0 or NULL poll: never). */
    sf_status (*poll)(sf_instance *inst, void *state);
    int64_t poll_interval_ms;
    /**
     * Inbound HTTP for the path in the instance's `path` option on the core's ingest
     * listener. Fill *resp; the host answers 503 with Retry-After itself on back-pressure.
     */
    sf_status (*request)(sf_instance *inst, void *state, const sf_http_request *req,
                         sf_http_response *resp);

    /* deliveries */
    /**
     * Deliver one alert. `*retry_after_ms` may be set (> 0) with SF_DELIVER_RETRY to honour a
     * server's Retry-After. The alert id is the idempotency key: send it along.
     */
    sf_deliver_result (*deliver)(sf_instance *inst, void *state, const sf_alert *alert,
                                 int64_t *retry_after_ms);

    /* Append new members below this line, under a "since 1.N" marker. */
};

/** Fills the frozen prefix; use as the first initializer of a descriptor. */
#define SF_PLUGIN_INIT                                                                             \
    .magic = SF_PLUGIN_MAGIC, .abi_major = SF_ABI_MAJOR, .abi_minor = SF_ABI_MINOR,                \
    .struct_size = (uint32_t)sizeof(sf_plugin)

/** The entry symbol's name and type for this ABI major. */
#define SF_ENTRY_SYMBOL "sigflow_plugin_v1"
typedef const sf_plugin *(*sf_entry_fn)(const sf_host_info *info);

/**
 * Declare a plugin's entry function returning `desc`:
 *     SF_PLUGIN_DEFINE(my_descriptor)
 */
#define SF_PLUGIN_DEFINE(desc)                                                                     \
    SF_EXPORT const sf_plugin *sigflow_plugin_v1(const sf_host_info *info);                        \
    SF_EXPORT const sf_plugin *sigflow_plugin_v1(const sf_host_info *info)                         \
    {                                                                                              \
        (void)info;                                                                                \
        return &(desc);                                                                            \
    }

#ifdef __cplusplus
}
#endif

#endif /* SIGFLOW_H */
