/*
 * health_alert.c - building integration-health alerts (health_alert.h): the id, the entity
 * key the outbox and the alert merge order use ("" sorts before every entity id), and the
 * one-line JSON, rendered once and kept in a->health.
 */
#include "model/health_alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_quote.h"
#include "base/strbuf.h"
#include "base/timefmt.h"

static void sb_put(void *sink, const char *s, size_t n)
{
    strbuf_add(sink, s, n);
}

static void put_str(strbuf *b, const char *s)
{
    json_quote(sb_put, b, s ? s : "", s ? strlen(s) : 0);
}

static void put_key(strbuf *b, const char *k)
{
    strbuf_puts(b, ",");
    put_str(b, k);
    strbuf_puts(b, ":");
}

static void put_num(strbuf *b, double v)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%.17g", v == v && v - v == 0 ? v : 0.0);
    strbuf_puts(b, tmp);
}

static char *render(const sf_alert *a, const char *state, const char *sig, const char *conn,
                    const char *field, const char *text, const health_figure *fig, size_t n)
{
    strbuf b = {0};
    char ts[32];
    time_format_rfc3339(a->time_ms, ts, sizeof ts);
    strbuf_puts(&b, "{\"kind\":\"health\",\"alert_id\":");
    put_str(&b, a->id);
    put_key(&b, "decision");
    put_str(&b, a->decision);
    put_key(&b, "time");
    put_str(&b, ts);
    put_key(&b, "state");
    put_str(&b, state);
    if (sig) {
        put_key(&b, "signal");
        put_str(&b, sig);
    } else {
        put_key(&b, "connector");
        put_str(&b, conn);
        put_key(&b, "field");
        put_str(&b, field);
    }
    put_key(&b, "text");
    put_str(&b, text);
    strbuf_puts(&b, ",\"figures\":{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_puts(&b, ",");
        put_str(&b, fig[i].name);
        strbuf_puts(&b, ":");
        if (fig[i].str)
            put_str(&b, fig[i].str);
        else
            put_num(&b, fig[i].num);
    }
    strbuf_puts(&b, "}}");
    return strbuf_take(&b);
}

sf_alert *health_alert_new(const char *decision, int64_t time_ms, const char *state,
                           const char *sig, const char *conn, const char *field, const char *text,
                           const health_figure *fig, size_t n_fig)
{
    sf_alert *a = calloc(1, sizeof *a);
    strbuf key = {0};
    if (!a)
        return NULL;
    a->kind = ALERT_HEALTH;
    a->time_ms = time_ms;
    a->decision = strdup(decision ? decision : "");
    a->entity = strdup(""); /* sorts before every entity at its tick */
    strbuf_puts(&key, "health\x1f");
    strbuf_puts(&key, state);
    strbuf_puts(&key, sig ? "\x1fsignal\x1f"
                          : "\x1f"
                            "connector\x1f");
    strbuf_puts(&key, sig ? sig : conn);
    if (!sig) {
        strbuf_puts(&key, "\x1f");
        strbuf_puts(&key, field);
    }
    char *k = strbuf_take(&key);
    if (!a->decision || !a->entity || !k)
        goto fail;
    alert_make_id(a->decision, k, time_ms, a->id);
    free(k);
    k = NULL;
    a->health = render(a, state, sig, conn, field, text ? text : "", fig, n_fig);
    if (!a->health || alert_render_json(a) != SF_OK)
        goto fail;
    return a;
fail:
    free(k);
    alert_free(a);
    return NULL;
}
