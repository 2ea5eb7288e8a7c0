/*
 * limits.h - every bound sigflow puts on outside input, in one place.
 * Owns: named constants only. Used by: every module that reads external input.
 */
#ifndef SIGFLOW_LIMITS_H
#define SIGFLOW_LIMITS_H

#define SIGFLOW_MAX_ENTITY_LEN 256         /* bytes of an entity id */
#define SIGFLOW_MAX_TYPE_LEN 128           /* bytes of an event type */
#define SIGFLOW_MAX_MAPPED_TYPES 256       /* a connector's `types` list, and its type.* renames */
#define SIGFLOW_MAX_ATTRS_LEN 8192         /* bytes of an event's attrs as JSON text */
#define SIGFLOW_MAX_EVENT_LINE (64 * 1024) /* bytes of one NDJSON line / one JSON document */
#define SIGFLOW_MAX_JSON_DEPTH 16          /* nesting depth the JSON parser accepts */
#define SIGFLOW_MAX_NAME_LEN 64            /* section, signal, instance, plugin names */
#define SIGFLOW_MAX_CONFIG_LINE 4096       /* bytes of one INI line */
#define SIGFLOW_MAX_SECRET_LEN 4096        /* bytes of a secret read from env: or file: */
#define SIGFLOW_MAX_SIGNALS 64             /* [signal] sections in one decision */
#define SIGFLOW_MAX_INSTANCES 256          /* [connector] + [delivery] sections */
#define SIGFLOW_MAX_PLUGINS 256            /* .so files loaded by one process */
#define SIGFLOW_MAX_TEMPLATE_LEN 1024      /* bytes of an explain template */
#define SIGFLOW_MAX_MSG_TEMPLATE 16384     /* bytes of a delivery template (message, subject) */
#define SIGFLOW_MAX_MESSAGE_ATTRS 64       /* entity attrs listed in one message */
#define SIGFLOW_MAX_LINKS 16               /* link.NAME keys of one delivery */
#define SIGFLOW_MAX_WHEN_TERMS 16          /* comparisons joined by `and` in one `when` */
#define SIGFLOW_MAX_DIGEST_ALERTS 500      /* alerts listed in one digest message */
#define SIGFLOW_MAX_TZ_NAME_LEN 64         /* bytes of an IANA time zone name */
#define SIGFLOW_MAX_READY_REASON_LEN 300   /* bytes of a plugin's reason in /readyz (health_set) */
#define SIGFLOW_MAX_ERROR_LEN 512          /* bytes of an operator-facing error text */
#define SIGFLOW_MAX_BAD_LINES_REPORTED 5   /* bad input lines named individually in a summary */
#define SIGFLOW_MAX_PREFIXED_OPTIONS 64    /* keys under one SF_OPT_PREFIX option (headers.*) */
#define SIGFLOW_MAX_KV_KEY_LEN 256         /* bytes of a checkpoint namespace or key */
#define SIGFLOW_MAX_KV_VALUE_LEN 65536     /* bytes of a checkpoint value (a connector cursor) */
#define SIGFLOW_MAX_SOURCE_ID_LEN 256      /* bytes of a source event id kept for dedup */
#define SIGFLOW_MAX_HTTP_BODY                                                                      \
    (1024 * 1024)                   /* bytes of one inbound HTTP request body (else 413)           \
                                     */
#define SIGFLOW_MAX_HTTP_HEADERS 64 /* headers of one inbound HTTP request (else 431) */
/* libmicrohttpd's memory per ingest connection: the request line and headers must fit in it
   with the read buffer (else 431; about 14 KB of headers fit). libmicrohttpd clears it for
   every request, so it costs CPU per request: at 32 KiB (its default) the clearing was 8% of
   the ingest path's samples (docs/performance.md, HTTP ingest). */
#define SIGFLOW_HTTP_CONNECTION_MEMORY (16 * 1024)
#define SIGFLOW_MAX_HTTP_PATH 256        /* bytes of a routed ingest path */
#define SIGFLOW_MAX_HTTP_CONNECTIONS 512 /* concurrent connections to the ingest listener */
#define SIGFLOW_HTTP_TIMEOUT_S 10        /* seconds an idle ingest connection is kept */
/* learning (docs/scoring.md "Outcomes and learning") */
#define SIGFLOW_MAX_FIT_SAMPLE 10000000    /* fit_sample: feature snapshots kept for refits */
#define SIGFLOW_MAX_MODEL_HISTORY 1024     /* model changes kept (oldest dropped first) */
#define SIGFLOW_MAX_PERSON_LABELS 100000   /* people's labels a refit fits (newest alerts kept) */
#define SIGFLOW_MAX_LABELS_FILE 10000000   /* rows of a backtest --labels file */
#define SIGFLOW_MAX_LABELS_LINE 1024       /* bytes of one --labels line */
#define SIGFLOW_MAX_DRIFT_WINDOW 10000     /* documents per field judged for schema drift */
#define SIGFLOW_MAX_SHAPE_LEN 512          /* bytes of a document's keys-only shape in an alert */
#define SIGFLOW_MAX_STALE_SPELLS 256       /* stale spells a signal remembers (live-time absent) */
#define SIGFLOW_MAX_STALE_BUCKETS 8784     /* stale_window / tick: ticks counted per window */
#define SIGFLOW_MAX_ALERT_ID_LEN 64        /* bytes of an alert id in a feedback token or request */
#define SIGFLOW_MAX_LABEL_LEN 32           /* bytes of a feedback label name */
#define SIGFLOW_MAX_URL_LEN 1024           /* bytes of [sigflow] public_url */
#define SIGFLOW_MAX_ADMIN_BODY (16 * 1024) /* bytes of one admin API request body (else 413) */
#define SIGFLOW_MAX_ADMIN_QUERY 512        /* bytes of one admin API query parameter (else 400) */
#define SIGFLOW_MAX_ADMIN_LIST 1000        /* alerts one GET /v1/alerts answers at most */
#define SIGFLOW_MAX_PLUGIN_FILE (256 << 20) /* bytes of a plugin .so copied for loading */
#define SIGFLOW_MAX_PLUGIN_OPTIONS 256      /* entries of a plugin's option table */
#define SIGFLOW_MAX_PLUGIN_TEXT 4096        /* bytes of a descriptor or option string (help, ...) */
#define SIGFLOW_MAX_METRIC_NAME_LEN 64      /* bytes of a plugin metric name ([a-z0-9_]) */

/* Slow and hostile HTTP clients (docs/reliability.md, "Ingest answers"). */
#define SIGFLOW_MAX_HTTP_CONNECTIONS_PER_IP 128 /* ingest connections from one client address */
#define SIGFLOW_HTTP_REQUEST_DEADLINE_S 10      /* seconds for a whole request (headers and body) */
#define SIGFLOW_MAX_INGEST_WAITING 80    /* ingest requests waiting for their commit (else 503) */
#define SIGFLOW_MAX_ADMIN_CONNECTIONS 64 /* concurrent connections to the admin listener */
#define SIGFLOW_MAX_ADMIN_CONNECTIONS_PER_IP 16 /* of them from one client address */
#define SIGFLOW_ADMIN_REQUEST_DEADLINE_S 5      /* seconds for a whole admin request */

/* Operating it (docs/operating.md). */
#define SIGFLOW_MAX_NOTIFY_SOCKET_LEN                                                              \
    107                               /* bytes of NOTIFY_SOCKET (a sockaddr_un path, less NUL) */
#define SIGFLOW_MAX_NOTIFY_STATE 256  /* bytes of one sd_notify datagram sigflow sends */
#define SIGFLOW_MAX_UNKNOWN_PATHS 64  /* ingest paths without a connector remembered for the log */
#define SIGFLOW_UNKNOWN_PATH_LINES 10 /* log lines about unknown paths in one minute, all paths */

#endif
