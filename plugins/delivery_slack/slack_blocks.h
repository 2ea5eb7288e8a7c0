/*
 * slack_blocks.h - an alert (or a digest of alerts) as a Slack Block Kit message through the
 * host's message model: a header with the title, a section with entity, score and attrs, the
 * top reasons, the links, and "Right"/"Wrong" URL buttons to the feedback links; `text` as
 * the notification fallback. Block Kit's limits hold for any input: header text 150 chars,
 * section text 3000, 10 fields, 50 blocks; what does not fit ends in "and N more".
 * Owns: the JSON text it returns. Calls the host table only. Used by slack.c.
 */
#ifndef SLACK_BLOCKS_H
#define SLACK_BLOCKS_H

#include <stddef.h>

#include "sigflow.h"

#define SLACK_HEADER_MAX 150   /* characters of a header block's text */
#define SLACK_SECTION_MAX 3000 /* characters of a section's text */
#define SLACK_FIELD_MAX 2000   /* characters of one section field */
#define SLACK_FIELDS_MAX 10    /* fields in one section */
#define SLACK_BLOCKS_MAX 50    /* blocks in one message */

typedef struct slack_style {
    size_t max_reasons; /* reasons listed before "and N more" */
    const char *text;   /* fallback template (rendered plain) */
} slack_style;

/* The JSON body for `a` (malloc'd), or NULL with set_error on inst. */
char *slack_blocks(const sf_host *host, sf_instance *inst, const sf_alert *a,
                   const slack_style *st);

#endif
