#include "poll_url.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "poll_page.h"

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

char *poll_url_expand(const char *tmpl, const char *cursor)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(POLL_MAX_URL + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const char *c = cursor ? cursor : "";
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "{cursor}", 8) == 0) {
            for (const unsigned char *q = (const unsigned char *)c; *q; q++) {
                if (o + 3 > POLL_MAX_URL)
                    goto too_long;
                if (unreserved(*q)) {
                    out[o++] = (char)*q;
                } else {
                    out[o++] = '%';
                    out[o++] = hex[*q >> 4];
                    out[o++] = hex[*q & 15];
                }
            }
            p += 8;
            continue;
        }
        if (o + 1 > POLL_MAX_URL)
            goto too_long;
        out[o++] = *p++;
    }
    out[o] = '\0';
    return out;
too_long:
    free(out);
    return NULL;
}

/* scheme, host (lower-cased by curl) and port of a parsed URL; 0 on success. */
static int url_origin(CURLU *u, char **scheme, char **host, char **port)
{
    *scheme = *host = *port = NULL;
    if (curl_url_get(u, CURLUPART_SCHEME, scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        return -1;
    return 0;
}

static bool same_origin(CURLU *a, CURLU *b)
{
    char *s1, *h1, *p1, *s2, *h2, *p2;
    int r1 = url_origin(a, &s1, &h1, &p1), r2 = url_origin(b, &s2, &h2, &p2);
    bool same = r1 == 0 && r2 == 0 && strcasecmp(s1, s2) == 0 && strcasecmp(h1, h2) == 0 &&
                strcmp(p1, p2) == 0;
    curl_free(s1), curl_free(h1), curl_free(p1);
    curl_free(s2), curl_free(h2), curl_free(p2);
    return same;
}

int poll_url_valid(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    int ok = u && strlen(url) <= POLL_MAX_URL &&
             curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0);
    curl_free(scheme);
    curl_url_cleanup(u);
    return ok;
}

char *poll_url_next(const char *origin, const char *base, const char *link, char *err,
                    size_t errlen)
{
    CURLU *o = curl_url(), *u = curl_url();
    char *abs = NULL, *out = NULL;
    if (!o || !u) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    /* The link resolved against the page it came from (a relative link stays on its host). */
    if (curl_url_set(o, CURLUPART_URL, origin, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_URL, link, 0) != CURLUE_OK) {
        snprintf(err, errlen, "the next link is not a URL");
        goto done;
    }
    if (!same_origin(o, u)) {
        snprintf(err, errlen,
                 "the next link leaves the configured URL's host (scheme, host and port must "
                 "stay the same): refused");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_URL, &abs, 0) != CURLUE_OK || strlen(abs) > POLL_MAX_URL) {
        snprintf(err, errlen, "the next link cannot be used (longer than %d bytes?)", POLL_MAX_URL);
        goto done;
    }
    if (!(out = strdup(abs)))
        snprintf(err, errlen, "out of memory");
done:
    curl_free(abs);
    curl_url_cleanup(o);
    curl_url_cleanup(u);
    return out;
}

int64_t poll_retry_after_ms(const char *value, int64_t now_s, int64_t max_ms)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    int64_t s = -1;
    if (*value >= '0' && *value <= '9') {
        char *end = NULL;
        long long v = strtoll(value, &end, 10);
        while (end && (*end == ' ' || *end == '\t' || *end == '\r'))
            end++;
        if (end && !*end && v >= 0)
            s = v > max_ms / 1000 ? max_ms / 1000 + 1 : v;
    } else if (*value) {
        time_t t = curl_getdate(value, NULL);
        if (t != (time_t)-1)
            s = (int64_t)t > now_s ? (int64_t)t - now_s : 0;
    }
    if (s < 0)
        return -1;
    int64_t ms = s > max_ms / 1000 ? max_ms : s * 1000;
    return ms;
}
