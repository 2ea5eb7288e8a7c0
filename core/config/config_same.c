/*
 * config_same.c - whether two loaded configs mean the same thing, for reloads: an instance
 * section (plugin and every key/value) and the decision with its signals (what scores alike).
 * Part of the config module (config.h); calls only libc. Called by the runtime's reload.
 */
#include <string.h>

#include "config/config.h"

bool config_instance_same(const config_instance *a, const config_instance *b)
{
    if (a->kind != b->kind || strcmp(a->plugin, b->plugin) != 0 || a->n_kv != b->n_kv)
        return false;
    for (size_t i = 0; i < a->n_kv; i++)
        if (strcmp(a->kv[i].key, b->kv[i].key) != 0 || strcmp(a->kv[i].value, b->kv[i].value) != 0)
            return false;
    return true;
}

static bool str_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Whether two configs score alike: the decision and every signal, field by field. */
bool config_decision_same(const sigflow_config *a, const sigflow_config *b)
{
    if (a->has_decision != b->has_decision || a->n_signals != b->n_signals)
        return false;
    if (!a->has_decision)
        return true;
    const config_decision *x = &a->decision, *y = &b->decision;
    if (!str_same(x->name, y->name) || !str_same(x->question, y->question) || x->bias != y->bias ||
        x->threshold != y->threshold || x->rearm_below != y->rearm_below ||
        x->cooldown_ms != y->cooldown_ms || x->tick_ms != y->tick_ms)
        return false;
    for (size_t i = 0; i < a->n_signals; i++) {
        const config_signal *p = &a->signals[i], *q = &b->signals[i];
        if (!str_same(p->name, q->name) || !str_same(p->event, q->event) ||
            p->measure != q->measure || p->of_value != q->of_value ||
            p->recent_ms != q->recent_ms || p->usual_ms != q->usual_ms || p->span != q->span ||
            p->window_ms != q->window_ms || p->cap != q->cap || p->limit != q->limit ||
            p->weight != q->weight || !str_same(p->explain, q->explain) || p->cohort != q->cohort ||
            p->stale_below != q->stale_below || p->stale_window_ms != q->stale_window_ms ||
            p->stale_min != q->stale_min)
            return false;
    }
    return true;
}
