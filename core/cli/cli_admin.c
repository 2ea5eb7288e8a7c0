/*
 * cli_admin.c - a CLI command's request to the daemon's admin API. See cli_admin.h.
 */
#include "cli/cli_admin.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "base/limits.h"
#include "base/strbuf.h"

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
    strbuf_add(ctx, data, size * n);
    return size * n;
}

void cli_admin_url(const char *admin, const char *path, char *out, size_t cap)
{
    const char *colon = strrchr(admin, ':');
    size_t hl = colon ? (size_t)(colon - admin) : strlen(admin);
    if ((hl == 7 && strncmp(admin, "0.0.0.0", 7) == 0) || hl == 0)
        snprintf(out, cap, "http://127.0.0.1%s%s", colon ? colon : "", path);
    else if (hl == 4 && strncmp(admin, "[::]", 4) == 0)
        snprintf(out, cap, "http://[::1]%s%s", colon, path);
    else
        snprintf(out, cap, "http://%s%s", admin, path);
}

int cli_admin_request(const sigflow_config *cfg, const char *path, const char *body, long timeout_s,
                      long *status, char **answer, char *err, size_t errlen)
{
    char url[300], auth[SIGFLOW_MAX_SECRET_LEN + 32];
    cli_admin_url(cfg->admin, path, url, sizeof url);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s",
             cfg->admin_token ? cfg->admin_token : "");
    strbuf out = {0};
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, auth);
    struct curl_slist *hdr2 =
        hdr && body ? curl_slist_append(hdr, "Content-Type: application/json") : hdr;
    int rc = -1;
    snprintf(err, errlen, "%s: out of memory", url);
    if (h && hdr2) {
        hdr = hdr2;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        if (body)
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        CURLcode cc = curl_easy_perform(h);
        if (cc == CURLE_OK && curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status) == CURLE_OK)
            rc = 0;
        else
            snprintf(err, errlen, "no answer from the daemon at %s: %s", url,
                     curl_easy_strerror(cc));
    }
    explicit_bzero(auth, sizeof auth);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    *answer = strbuf_take(&out);
    return rc;
}
