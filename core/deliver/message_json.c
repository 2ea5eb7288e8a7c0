/*
 * message_json.c - a message as one line of JSON (message_json in message.h), strings
 * escaped by the template engine's JSON escaping.
 */
#include <json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/timefmt.h"
#include "deliver/message.h"
#include "deliver/template.h"
#include "model/alert.h"

static void js_str(strbuf *b, const char *s)
{
    strbuf_puts(b, "\"");
    tmpl_escape_into(b, s ? s : "", TMPL_JSON);
    strbuf_puts(b, "\"");
}

static void js_key(strbuf *b, const char *sep, const char *key)
{
    strbuf_puts(b, sep);
    js_str(b, key);
    strbuf_puts(b, ":");
}

static void js_num(strbuf *b, double v)
{
    char num[32];
    snprintf(num, sizeof num, "%.15g", message_round2(v));
    strbuf_puts(b, num);
}

static void js_pairs(strbuf *b, const msg_pair *p, size_t n)
{
    strbuf_puts(b, "{");
    for (size_t i = 0; i < n; i++) {
        js_key(b, i ? "," : "", p[i].name);
        js_str(b, p[i].value);
    }
    strbuf_puts(b, "}");
}

static void message_json_alert(strbuf *b, const message *m)
{
    const sf_alert *a = m->alert;
    char ts[32], pct[16];
    time_format_rfc3339(a->time_ms, ts, sizeof ts);
    js_key(b, "{", "alert_id");
    js_str(b, a->id);
    js_key(b, ",", "decision");
    js_str(b, a->decision);
    js_key(b, ",", "title");
    js_str(b, m->title);
    js_key(b, ",", "entity");
    js_str(b, a->entity);
    js_key(b, ",", "time");
    js_str(b, ts);
    js_key(b, ",", "score");
    js_num(b, a->score);
    snprintf(pct, sizeof pct, "%.0f", isfinite(a->score) ? floor(a->score * 100 + 0.5) : 0.0);
    js_key(b, ",", "score_pct");
    strbuf_puts(b, pct);
    js_key(b, ",", "reasons");
    strbuf_puts(b, "[");
    for (size_t i = 0; i < m->n_reasons; i++) {
        js_key(b, i ? ",{" : "{", "signal");
        js_str(b, m->reasons[i].signal);
        js_key(b, ",", "text");
        js_str(b, m->reasons[i].text);
        js_key(b, ",", "contribution");
        js_num(b, m->reasons[i].contribution);
        strbuf_puts(b, "}");
    }
    js_key(b, "],", "attrs");
    js_pairs(b, m->attrs, m->n_attrs);
    js_key(b, ",", "links");
    js_pairs(b, m->links, m->n_links);
    js_key(b, ",", "feedback");
    js_key(b, "{", "confirm");
    js_str(b, m->fb_confirm);
    js_key(b, ",", "false_positive");
    js_str(b, m->fb_false_positive);
    strbuf_puts(b, "}}");
}

const char *message_json(message *m)
{
    if (m->json)
        return m->json;
    strbuf b = {0};
    if (m->alert) {
        message_json_alert(&b, m);
    } else {
        char n[32];
        snprintf(n, sizeof n, "%zu", m->n_items);
        js_key(&b, "{", "digest");
        strbuf_puts(&b, "true");
        js_key(&b, ",", "count");
        strbuf_puts(&b, n);
        js_key(&b, ",", "alerts");
        strbuf_puts(&b, "[");
        for (size_t i = 0; i < m->n_items; i++) {
            if (i)
                strbuf_puts(&b, ",");
            message_json_alert(&b, m->items[i]);
        }
        strbuf_puts(&b, "]}");
    }
    m->json = strbuf_take(&b);
    return m->json;
}
