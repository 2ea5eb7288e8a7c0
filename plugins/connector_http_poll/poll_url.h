/*
 * poll_url.h - the URLs of the `http_poll` connector: `{cursor}` replaced by the URL-encoded
 * cursor, a next link resolved against the page it came from and refused when it leaves the
 * configured URL's origin (scheme, host, port), and the Retry-After header read as seconds or
 * an HTTP date. Owns nothing. Calls libcurl's URL API and curl_getdate only (no transfer).
 * Used by connector_http_poll.c and the fuzz harness.
 */
#ifndef POLL_URL_H
#define POLL_URL_H

#include <stddef.h>
#include <stdint.h>

/* `tmpl` with every "{cursor}" replaced by the percent-encoded cursor (NULL/"" allowed).
   A new string, or NULL when the result would pass POLL_MAX_URL or memory ran out. */
char *poll_url_expand(const char *tmpl, const char *cursor);

/*
 * The absolute URL of `link` (absolute, or relative to `base`), when it has the same scheme,
 * host and port as `origin`; else NULL with err saying why ("another host"). A new string.
 */
char *poll_url_next(const char *origin, const char *base, const char *link, char *err,
                    size_t errlen);

/* True when url parses as an absolute http or https URL. */
int poll_url_valid(const char *url);

/* Retry-After as milliseconds from now_s: delta-seconds or an HTTP date; -1 when absent or
   unreadable. Bounded to [0, max_ms]. */
int64_t poll_retry_after_ms(const char *value, int64_t now_s, int64_t max_ms);

#endif
