/*
 * cli_dlq_show.h - `sigflow dlq show ID` and the target check of `dlq list TARGET`.
 * Used by cli_dlq.c.
 */
#ifndef SIGFLOW_CLI_DLQ_SHOW_H
#define SIGFLOW_CLI_DLQ_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "config/config.h"
#include "store/outbox.h"

#define SIGFLOW_MAX_DLQ_TARGETS 256 /* deliveries named in a did-you-mean */

/* Print dead delivery `id`: its alert and every attempt for that alert. Exit code. */
int dlq_show(outbox *ob, int64_t id);
/* Whether `target` is a [delivery] of cfg; else says so (with a did-you-mean) on stderr. */
bool dlq_target_known(const sigflow_config *cfg, const char *target);

#endif
