/*
 * rules.c - the [delivery] keys the core owns, parsed once per site, and the per-alert
 * decision: skip (when), send now (inside hours or urgent), or hold until a window or slot.
 */
#include "deliver/rules.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/limits.h"
#include "base/timefmt.h"
#include "deliver/hours.h"
#include "deliver/when.h"
#include "deliver/template.h"
#include "deliver/tz.h"
#include "model/alert.h"

#define RULES_TZ_CACHE 32 /* zones one target keeps loaded (per-recipient {{attr.tz}}) */

struct delivery_rules {
    when_filter *when;
    char *when_text;
    bool has_hours;
    hours hours;
    tz *zone;        /* fixed `timezone` (UTC when none) */
    tmpl *zone_tmpl; /* `timezone = {{attr.tz}}` */
    double urgent;   /* urgent_above; > 1 when unset */
    bool digest;
    int64_t every_ms;
    int32_t at_s;
    message_link links[SIGFLOW_MAX_LINKS];
    tmpl *link_tmpl[SIGFLOW_MAX_LINKS];
    char *link_name[SIGFLOW_MAX_LINKS];
    size_t n_links;
    pthread_mutex_t lock; /* guards the zone cache */
    tz *cache[RULES_TZ_CACHE];
    size_t n_cache;
};

static const char *const rule_keys[] = {"when", "hours", "timezone", "urgent_above",
                                        "mode", "every", "at",       "link"};
#define N_RULE_KEYS (sizeof rule_keys / sizeof rule_keys[0])

bool rules_is_key(const char *key)
{
    for (size_t i = 0; i < N_RULE_KEYS; i++)
        if (strcmp(key, rule_keys[i]) == 0)
            return true;
    return strncmp(key, "link.", 5) == 0;
}

void rules_free(delivery_rules *r)
{
    if (!r)
        return;
    when_free(r->when);
    free(r->when_text);
    tz_free(r->zone);
    tmpl_free(r->zone_tmpl);
    for (size_t i = 0; i < r->n_links; i++) {
        tmpl_free(r->link_tmpl[i]);
        free(r->link_name[i]);
    }
    for (size_t i = 0; i < r->n_cache; i++)
        tz_free(r->cache[i]);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

typedef struct rules_parse_ctx {
    delivery_rules *r;
    const config_instance *ci;
    const sigflow_config *cfg;
    diag *d;
    const config_kv *mode, *every, *at, *hours, *zone;
} rules_parse_ctx;

#define RULE_ERR(p, kv, ...) diag_add((p)->d, (p)->cfg->path, (kv)->line, __VA_ARGS__)

static void parse_when(rules_parse_ctx *p, const config_kv *kv)
{
    const char *names[SIGFLOW_MAX_SIGNALS];
    size_t n = 0;
    for (size_t i = 0; i < p->cfg->n_signals && n < SIGFLOW_MAX_SIGNALS; i++)
        names[n++] = p->cfg->signals[i].name;
    char err[SIGFLOW_MAX_ERROR_LEN];
    p->r->when = when_parse(kv->value, names, n, err, sizeof err);
    if (!p->r->when)
        RULE_ERR(p, kv, "%s", err);
    else if (!(p->r->when_text = strdup(kv->value)))
        RULE_ERR(p, kv, "out of memory");
}

static void parse_link(rules_parse_ctx *p, const config_kv *kv)
{
    delivery_rules *r = p->r;
    char err[SIGFLOW_MAX_ERROR_LEN];
    const char *name = kv->key[4] == '.' ? kv->key + 5 : "link";
    if (r->n_links == SIGFLOW_MAX_LINKS) {
        RULE_ERR(p, kv, "more than %d links", SIGFLOW_MAX_LINKS);
        return;
    }
    tmpl *t = tmpl_compile(kv->value, err, sizeof err);
    if (!t) {
        RULE_ERR(p, kv, "`%s`: %s", kv->key, err);
        return;
    }
    size_t i = r->n_links++;
    r->link_tmpl[i] = t;
    r->link_name[i] = strdup(name);
    r->links[i].name = r->link_name[i];
    r->links[i].t = t;
    if (!r->link_name[i])
        RULE_ERR(p, kv, "out of memory");
}

static void parse_number_key(rules_parse_ctx *p, const config_kv *kv)
{
    char *end = NULL;
    double v = strtod(kv->value, &end);
    if (!*kv->value || *end || !(v >= 0 && v <= 1))
        RULE_ERR(p, kv, "urgent_above: expected a score between 0 and 1, found `%s`", kv->value);
    else
        p->r->urgent = v;
}

static void parse_key(rules_parse_ctx *p, const config_kv *kv)
{
    const char *k = kv->key;
    if (strcmp(k, "when") == 0)
        parse_when(p, kv);
    else if (strcmp(k, "link") == 0 || strncmp(k, "link.", 5) == 0)
        parse_link(p, kv);
    else if (strcmp(k, "urgent_above") == 0)
        parse_number_key(p, kv);
    else if (strcmp(k, "hours") == 0)
        p->hours = kv;
    else if (strcmp(k, "timezone") == 0)
        p->zone = kv;
    else if (strcmp(k, "mode") == 0)
        p->mode = kv;
    else if (strcmp(k, "every") == 0)
        p->every = kv;
    else if (strcmp(k, "at") == 0)
        p->at = kv;
}

static void parse_zone(rules_parse_ctx *p)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    const config_kv *kv = p->zone;
    const char *name = kv ? kv->value : "UTC";
    if (kv && strstr(name, "{{")) {
        if (!(p->r->zone_tmpl = tmpl_compile(name, err, sizeof err)))
            RULE_ERR(p, kv, "timezone: %s", err);
        name = "UTC"; /* when the template gives no zone */
    }
    if (!(p->r->zone = tz_load(name, err, sizeof err))) {
        if (kv)
            RULE_ERR(p, kv, "timezone: %s", err);
        else
            diag_add(p->d, p->cfg->path, p->ci->line, "cannot load UTC: %s", err);
    }
}

static void parse_schedule(rules_parse_ctx *p)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    delivery_rules *r = p->r;
    if (p->hours && !hours_parse(p->hours->value, &r->hours, err, sizeof err))
        RULE_ERR(p, p->hours, "hours: %s", err);
    r->has_hours = p->hours != NULL;
    if (p->mode && strcmp(p->mode->value, "digest") != 0 && strcmp(p->mode->value, "each") != 0)
        RULE_ERR(p, p->mode, "mode: expected each or digest, found `%s`", p->mode->value);
    r->digest = p->mode && strcmp(p->mode->value, "digest") == 0;
    const config_kv *stray = !r->digest ? (p->every ? p->every : p->at) : NULL;
    if (stray)
        RULE_ERR(p, stray, "`%s` applies to mode = digest only", stray->key);
    r->every_ms = 86400000;
    if (p->every && (duration_parse(p->every->value, &r->every_ms) != 0 || r->every_ms < 60000 ||
                     r->every_ms > 7 * 86400000LL))
        RULE_ERR(p, p->every, "every: expected a duration from 1m to 7d, found `%s`",
                 p->every->value);
    if (p->at && !hours_parse_clock(p->at->value, &r->at_s))
        RULE_ERR(p, p->at, "at: expected HH:MM, found `%s`", p->at->value);
    if (r->digest && p->hours)
        RULE_ERR(p, p->hours, "hours: a digest goes out at `at`; use one or the other");
}

delivery_rules *rules_parse(const config_instance *ci, const sigflow_config *cfg, diag *d)
{
    size_t errs = d->n;
    delivery_rules *r = calloc(1, sizeof *r);
    if (!r) {
        diag_add(d, cfg->path, ci->line, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->urgent = 2; /* never */
    rules_parse_ctx p = {.r = r, .ci = ci, .cfg = cfg, .d = d};
    for (size_t i = 0; i < ci->n_kv; i++)
        if (rules_is_key(ci->kv[i].key))
            parse_key(&p, &ci->kv[i]);
    parse_zone(&p);
    parse_schedule(&p);
    if (d->n != errs) {
        rules_free(r);
        return NULL;
    }
    return r;
}

void rules_message_ctx(const delivery_rules *r, message_ctx *ctx)
{
    ctx->links = r->links;
    ctx->n_links = r->n_links;
}

bool rules_is_digest(const delivery_rules *r)
{
    return r->digest;
}

/* The zone for this message: fixed, or rendered from the template and cached. */
static const tz *rules_zone(delivery_rules *r, const message *m, char *why, size_t whylen)
{
    if (!r->zone_tmpl)
        return r->zone;
    char *name = tmpl_render(r->zone_tmpl, m, TMPL_PLAIN);
    const tz *found = r->zone;
    char err[SIGFLOW_MAX_ERROR_LEN];
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; name && *name && i < r->n_cache; i++)
        if (strcmp(tz_name(r->cache[i]), name) == 0)
            found = r->cache[i];
    if (name && *name && found == r->zone) {
        tz *z = tz_load(name, err, sizeof err);
        if (z && r->n_cache < RULES_TZ_CACHE)
            found = r->cache[r->n_cache++] = z;
        else if (z)
            tz_free(z);
        else
            snprintf(why, whylen, "%s; hours read in UTC", err);
    }
    pthread_mutex_unlock(&r->lock);
    free(name);
    return found;
}

rules_gate rules_decide(delivery_rules *r, const message *m, int64_t now_ms, int64_t *until_ms,
                        char *why, size_t whylen)
{
    char when[32];
    why[0] = '\0';
    *until_ms = now_ms;
    if (r->when && !when_match(r->when, m)) {
        snprintf(why, whylen, "not routed: when %s is false", r->when_text);
        return GATE_SKIP;
    }
    if (!r->digest && (!r->has_hours || m->alert->score > r->urgent))
        return GATE_SEND;
    const tz *z = rules_zone(r, m, why, whylen);
    if (r->digest) {
        *until_ms = hours_next_slot(z, r->every_ms, r->at_s, now_ms);
        time_format_rfc3339(*until_ms, when, sizeof when);
        snprintf(why, whylen, "held for the digest at %s", when);
        return GATE_HOLD;
    }
    int64_t open = hours_next_open(&r->hours, z, now_ms);
    if (open == now_ms || open < 0)
        return GATE_SEND;
    *until_ms = open;
    time_format_rfc3339(open, when, sizeof when);
    snprintf(why, whylen, "held until %s: outside hours (%s)", when, tz_name(z));
    return GATE_HOLD;
}
