/*
 * alert.c - alert ids and the one-line JSON every consumer (replay, outbox, delivery) sees.
 * Calls libcrypto (SHA-256 for ids) and timefmt. Numbers are printed with %.17g so that
 * a reader recovers the exact double.
 */
#include "model/alert.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_quote.h"
#include "base/strbuf.h"
#include "base/timefmt.h"

/* SHA-256 over "decision tag\0entity\0time", first 16 bytes in hex. */
static void make_id(const char *decision, const char *tag, const char *entity, int64_t time_ms,
                    char out[40])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char tbuf[24];
    int tlen = snprintf(tbuf, sizeof tbuf, "%lld", (long long)time_ms);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, decision, strlen(decision)) == 1 &&
             EVP_DigestUpdate(ctx, tag, strlen(tag) + 1) == 1 &&
             EVP_DigestUpdate(ctx, entity, strlen(entity) + 1) == 1 &&
             EVP_DigestUpdate(ctx, tbuf, (size_t)tlen) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 16;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        /* libcrypto cannot fail SHA-256 short of memory; still give a deterministic id */
        memset(md, 0, sizeof md);
        uint64_t h = 1469598103934665603ull;
        for (const char *s = entity; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211ull;
        for (const char *s = tag; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211ull;
        h ^= (uint64_t)time_ms;
        memcpy(md, &h, sizeof h);
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[32] = '\0';
}

void alert_make_id(const char *decision, const char *entity, int64_t time_ms, char out[40])
{
    make_id(decision, "", entity, time_ms, out);
}

void alert_make_suppressed_id(const char *decision, const char *entity, int64_t time_ms,
                              char out[40])
{
    make_id(decision, "\x1fsuppressed", entity, time_ms, out);
}

static void jb_lit(strbuf *b, const char *s)
{
    strbuf_add(b, s, strlen(s));
}

static void jb_put(void *b, const char *s, size_t n)
{
    strbuf_add(b, s, n);
}

static void jb_str(strbuf *b, const char *s)
{
    json_quote(jb_put, b, s ? s : "", s ? strlen(s) : 0);
}

static void jb_num(strbuf *b, double v)
{
    char tmp[32];
    /* JSON has no NaN/Inf; the engine never produces them, but never emit invalid JSON */
    snprintf(tmp, sizeof tmp, "%.17g", v == v && v - v == 0 ? v : 0.0);
    jb_lit(b, tmp);
}

sf_status alert_render_json(sf_alert *a)
{
    strbuf b = {0};
    char ts[32];
    if (a->kind == ALERT_HEALTH) {
        char *j = a->health ? strdup(a->health) : NULL;
        if (!j)
            return SF_ENOMEM;
        free(a->json);
        a->json = j;
        return SF_OK;
    }
    time_format_rfc3339(a->time_ms, ts, sizeof ts);
    jb_lit(&b, a->kind == ALERT_SUPPRESSED ? "{\"kind\":\"suppressed\",\"alert_id\":"
                                           : "{\"kind\":\"decision\",\"alert_id\":");
    jb_str(&b, a->id);
    jb_lit(&b, ",\"decision\":");
    jb_str(&b, a->decision);
    jb_lit(&b, ",\"entity\":");
    jb_str(&b, a->entity);
    jb_lit(&b, ",\"time\":");
    jb_str(&b, ts);
    jb_lit(&b, ",\"score\":");
    jb_num(&b, a->score);
    snprintf(ts, sizeof ts, "%u", (unsigned)a->model_version);
    jb_lit(&b, ",\"model_version\":");
    jb_lit(&b, ts);
    if (a->kind == ALERT_SUPPRESSED) {
        jb_lit(&b, ",\"suppressed\":");
        jb_str(&b, a->suppressed);
    }
    jb_lit(&b, ",\"reasons\":[");
    for (size_t i = 0; i < a->n_reasons; i++) {
        const alert_reason *r = &a->reasons[i];
        jb_lit(&b, i ? ",{\"signal\":" : "{\"signal\":");
        jb_str(&b, r->signal);
        jb_lit(&b, ",\"x\":");
        jb_num(&b, r->x);
        jb_lit(&b, ",\"weight\":");
        jb_num(&b, r->weight);
        jb_lit(&b, ",\"contribution\":");
        jb_num(&b, r->contribution);
        jb_lit(&b, ",\"text\":");
        jb_str(&b, r->text ? r->text : "");
        jb_lit(&b, "}");
    }
    jb_lit(&b, "]}");
    if (b.oom) {
        free(b.p);
        return SF_ENOMEM;
    }
    free(a->json);
    a->json = b.p;
    return SF_OK;
}

void alert_free(sf_alert *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_reasons && a->reasons; i++) {
        free(a->reasons[i].signal);
        free(a->reasons[i].text);
    }
    free(a->reasons);
    free(a->features);
    free(a->decision);
    free(a->question);
    free(a->entity);
    free(a->attrs);
    free(a->json);
    free(a->health);
    free(a->suppressed);
    free(a);
}
