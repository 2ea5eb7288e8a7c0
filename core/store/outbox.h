/*
 * outbox.h - alerts stored before any delivery is tried, and one delivery row per (alert,
 * target) with its state, attempts, schedule and last error; every attempt is kept for the
 * audit trail. Crash recovery: what was in flight is pending again on open (at-least-once; the
 * alert id is the idempotency key receivers dedup on). Owns: the outbox_* rows. Calls store.
 * Used by scoring (put), delivery workers (claim/result), the dlq CLI and explain.
 */
#ifndef SIGFLOW_OUTBOX_H
#define SIGFLOW_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sigflow.h"
#include "store/store.h"

#define OUTBOX_MAX_ALERT_ID_LEN 128
#define OUTBOX_ALL 0 /* dlq_retry: every dead delivery */

/* The numbers stored in outbox_delivery.state: the SQL of outbox*.c spells them with
   OUTBOX_SQL(OUTBOX_STATE_...), so SQL and enum cannot disagree. */
#define OUTBOX_STATE_PENDING 0
#define OUTBOX_STATE_INFLIGHT 1
#define OUTBOX_STATE_OK 2
#define OUTBOX_STATE_DEAD 3
#define OUTBOX_STATE_DROPPED 4
#define OUTBOX_STATE_HELD 5
#define OUTBOX_SQL_(n) #n
#define OUTBOX_SQL(n) OUTBOX_SQL_(n)

typedef enum outbox_state {
    OUTBOX_PENDING = OUTBOX_STATE_PENDING,   /* waiting for next_attempt_ms */
    OUTBOX_INFLIGHT = OUTBOX_STATE_INFLIGHT, /* claimed by a worker */
    OUTBOX_OK = OUTBOX_STATE_OK,             /* delivered */
    OUTBOX_DEAD = OUTBOX_STATE_DEAD,         /* gave up: in the dead-letter queue */
    OUTBOX_DROPPED = OUTBOX_STATE_DROPPED,   /* removed from the DLQ by an operator (kept for
                                                the audit trail) */
    OUTBOX_HELD = OUTBOX_STATE_HELD          /* waiting for a delivery window or digest at
                                                next_attempt_ms (delivery clock); last_error
                                                says why */
} outbox_state;

typedef enum outbox_result_kind {
    OUTBOX_RESULT_OK = 0,
    OUTBOX_RESULT_RETRY = 1, /* pending again at retry_at_ms */
    OUTBOX_RESULT_DEAD = 2,
    OUTBOX_RESULT_SKIP = 3 /* not for this target (its `when` is false): done, not sent */
} outbox_result_kind;

/* One delivery as read from the store; strings are malloc'd, released by outbox_delivery_clear. */
typedef struct outbox_delivery {
    int64_t id;
    char *alert_id, *target, *decision, *entity, *json;
    char *last_error; /* NULL when none */
    int64_t time_ms, next_attempt_ms;
    int attempts;
    outbox_state state;
    bool was_held; /* claimed from OUTBOX_HELD: its window or digest slot has come */
} outbox_delivery;

void outbox_delivery_clear(outbox_delivery *d, size_t n);

typedef struct outbox outbox;

/* Bind to an open store (borrowed) and put every inflight delivery back to pending. */
sf_status outbox_open(store *s, outbox **out);
/* The same without the in-flight recovery: for tools (sigflow dlq) that open the store of a
   daemon that may be running, whose in-flight deliveries are really in flight. */
sf_status outbox_open_ex(store *s, bool recover, outbox **out);
void outbox_close(outbox *o);

/*
 * Store an alert and a pending delivery for each target, due now, in one transaction.
 * Idempotent on alert_id: a second put changes nothing but adds deliveries for targets the
 * first did not name. *created (may be NULL) tells whether the alert is new.
 */
sf_status outbox_put(outbox *o, const char *alert_id, const char *decision, const char *entity,
                     int64_t time_ms, const char *json, const char *const *targets, size_t n,
                     bool *created);

/* One alert for outbox_put_batch (strings borrowed). */
typedef struct outbox_item {
    const char *alert_id, *decision, *entity, *json;
    int64_t time_ms;
    double score; /* not stored: for the caller's log line */
} outbox_item;

/* Whether outbox_put would accept the alert's names (else it answers SF_EINVAL). */
bool outbox_item_ok(const outbox_item *it);
/*
 * outbox_put for items[0..n) in one transaction (one commit for the group: the scorer's
 * alerts, core/store/outbox_writer.c), each with a delivery for every target. All or nothing;
 * created[i] tells whether item i is new. SF_EINVAL (nothing written) when an item is not
 * outbox_item_ok.
 */
sf_status outbox_put_batch(outbox *o, const outbox_item *items, size_t n,
                           const char *const *targets, size_t n_targets, bool *created);

/* Claim up to max pending deliveries of `target` due at now_ms (oldest due first), marking
   them inflight, and held deliveries whose time has come on the delivery clock (hold_now_ms:
   the watermark under clock = event, else the wall clock). out[0..*n) must be cleared by the
   caller. */
sf_status outbox_claim_due_ex(outbox *o, const char *target, int64_t now_ms, int64_t hold_now_ms,
                              size_t max, outbox_delivery *out, size_t *n);
/* Inflight -> held until until_ms (delivery clock), with the reason; not an attempt. */
sf_status outbox_hold(outbox *o, int64_t delivery_id, int64_t until_ms, const char *why);
/* Held deliveries (of target, or all when NULL), soonest first. */
sf_status outbox_held_list(outbox *o, const char *target, size_t max, outbox_delivery *out,
                           size_t *n);
/* When the next pending delivery of target is due; SF_OK with *at_ms = -1 when none is. */
sf_status outbox_next_due(outbox *o, const char *target, int64_t *at_ms);

/*
 * Record an attempt's outcome for an inflight delivery: OK and DEAD are final, RETRY makes it
 * pending again at retry_at_ms. `error` (may be NULL) is kept as last_error and in the attempt
 * row. SF_EINVAL when the delivery is not inflight.
 */
sf_status outbox_result(outbox *o, int64_t delivery_id, outbox_result_kind r, int64_t retry_at_ms,
                        const char *error);

/*
 * Count an attempt before it is made (outbox_attempt.c): attempts + 1 on an inflight
 * delivery, durable before the plugin runs. *unfinished: attempts counted earlier that never
 * recorded an outcome (a crash inside deliver); *created_ms: when its alert was stored.
 * The outcome is then recorded with outbox_result_counted. SF_EINVAL when not inflight.
 */
sf_status outbox_attempt_begin(outbox *o, int64_t delivery_id, int *unfinished,
                               int64_t *created_ms);
/* One attempt's outcome, for outbox_attempt_begin_after. */
typedef struct outbox_outcome {
    int64_t delivery_id;
    outbox_result_kind result;
    int64_t retry_at_ms;
    const char *error; /* may be NULL */
} outbox_outcome;
/*
 * outbox_result_counted for prev, then outbox_attempt_begin for delivery_id, in one
 * transaction: a worker's next attempt starts as the last one's outcome is recorded (one
 * commit instead of two, the same order of durable facts). All or nothing: on an error
 * neither is written (the caller records them one by one).
 */
sf_status outbox_attempt_begin_after(outbox *o, const outbox_outcome *prev, int64_t delivery_id,
                                     int *unfinished, int64_t *created_ms);
/* A claimed delivery given back unattempted (its worker was abandoned): pending again. */
sf_status outbox_release(outbox *o, int64_t delivery_id);
/* outbox_result for an attempt outbox_attempt_begin already counted. */
sf_status outbox_result_counted(outbox *o, int64_t delivery_id, outbox_result_kind r,
                                int64_t retry_at_ms, const char *error);

/* Dead deliveries (of target, or all when NULL), oldest first. */
sf_status outbox_dlq_list(outbox *o, const char *target, size_t max, outbox_delivery *out,
                          size_t *n);
/* Dead -> pending, due now, attempts reset (history stays). id OUTBOX_ALL: every one. */
sf_status outbox_dlq_retry(outbox *o, int64_t id, size_t *count);
/* Dead -> dropped. SF_EINVAL when id is not dead. */
sf_status outbox_dlq_drop(outbox *o, int64_t id);

/* Deliveries of target (NULL: any) in a state. */
sf_status outbox_count(outbox *o, const char *target, outbox_state st, size_t *n);

/* Every attempt made for an alert, oldest first: target, time, "ok|retry|dead", error. */
typedef void (*outbox_attempt_fn)(void *ctx, const char *target, int64_t time_ms,
                                  const char *result, const char *error);
sf_status outbox_attempts(outbox *o, const char *alert_id, outbox_attempt_fn fn, void *ctx);

#endif
