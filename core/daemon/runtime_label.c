/*
 * runtime_label.c - a person's label into the event stream (docs/scoring.md "People's
 * labels"): each label a person gives an alert (POST /v1/feedback, a signed link, `sigflow
 * feedback`) is journaled as a `sigflow.label` event (entity and time of the alert, value 1
 * confirmed or 0 false_positive), committed and handed to the scorer in journal order like
 * any event, so the refits `run` makes are the ones replay and backtest of the journal make.
 * `missed` labels are not journaled (they are not fitted). Owns nothing. Calls journal, event.
 * Used by runtime.c (the admin API's label hook, on the admin HTTP thread).
 */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/limits.h"
#include "daemon/runtime_internal.h"
#include "score/label.h"
#include "store/journal.h"

#define LABEL_CONNECTOR "sigflow" /* the journal's connector name for these events */

void runtime__label_journal(void *ctx, const label_rec *l)
{
    runtime *rt = ctx;
    if ((l->kind != LABEL_CONFIRMED && l->kind != LABEL_FALSE_POSITIVE) || !l->alert_id[0] ||
        !rt->journal)
        return;
    char err[SIGFLOW_MAX_ERROR_LEN], attrs[SIGFLOW_MAX_ALERT_ID_LEN + 96];
    sf_event *ev = event_new(l->entity, SCORE_PERSON_LABEL_TYPE, l->time_ms, err, sizeof err);
    if (!ev) {
        log_warn("component=learn", "label on alert=%s not journaled: %s", l->alert_id, err);
        return;
    }
    ev->value = l->kind == LABEL_CONFIRMED ? 1 : 0;
    ev->has_value = true;
    /* alert ids are hex and `via` a fixed word: nothing to escape */
    int len = snprintf(attrs, sizeof attrs, "{\"alert_id\":\"%s\",\"label\":\"%s\",\"via\":\"%s\"}",
                       l->alert_id, label_kind_name(l->kind), l->via);
    sf_status st =
        len > 0 && (size_t)len < sizeof attrs ? event_set_attrs(ev, attrs, (size_t)len) : SF_EINVAL;
    if (st == SF_OK)
        st = journal_append_handoff(rt->journal, LABEL_CONNECTOR, &ev, 1, NULL, NULL);
    if (st != SF_OK) {
        event_free(ev);
        log_warn("component=learn",
                 "label on alert=%s stored but not journaled (status %d): refits do not see it",
                 l->alert_id, (int)st);
        return;
    }
    log_info("component=learn", "label journaled for the refits alert=%s entity=%s label=%s",
             l->alert_id, l->entity, label_kind_name(l->kind));
}
