/*
 * rules.h - what the core decides for every delivery target, whatever its plugin: routing
 * (`when`), delivery hours (`hours`, `timezone` - a zone name or a template such as
 * {{attr.tz}} - and `urgent_above`), digests (`mode = digest`, `every`, `at`) and the links
 * its messages carry (`link`, `link.NAME`). Parsed from the [delivery] section at `sigflow
 * check` with FILE:LINE errors; asked by the delivery worker for each claimed delivery.
 * Owns: rules objects and their zone cache. Calls when, hours, tz, template, config/diag.
 * Used by site binding (check) and the delivery workers. docs/config.md lists the keys.
 */
#ifndef SIGFLOW_RULES_H
#define SIGFLOW_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "deliver/message.h"

typedef struct delivery_rules delivery_rules;

/* True for the keys this module owns (the plugin's option check skips them). */
bool rules_is_key(const char *key);
/* Parse ci's rule keys (signal names checked against cfg). NULL with errors in d; a section
   with none of the keys gives rules that send everything at once. */
delivery_rules *rules_parse(const config_instance *ci, const sigflow_config *cfg, diag *d);
void rules_free(delivery_rules *r);

/* The links for message_new (borrowed from r). */
void rules_message_ctx(const delivery_rules *r, message_ctx *ctx);
bool rules_is_digest(const delivery_rules *r);

typedef enum rules_gate {
    GATE_SEND = 0, /* deliver now */
    GATE_HOLD = 1, /* hold until *until_ms (outside hours, or waiting for the digest) */
    GATE_SKIP = 2  /* `when` is false: not for this target */
} rules_gate;

/*
 * What to do with the message's alert at now_ms (the delivery clock). `why` says it in a
 * sentence for the audit trail and `sigflow dlq list`.
 */
rules_gate rules_decide(delivery_rules *r, const message *m, int64_t now_ms, int64_t *until_ms,
                        char *why, size_t whylen);

#endif
