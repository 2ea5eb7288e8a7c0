/* Fuzz harness for the http_poll connector's parsing and paging logic
   (plugins/connector_http_poll/poll_page.c, poll_url.c): the input is a response body read
   under four paging setups (Zendesk, Stripe, next link, a bare array), and also a cursor to
   URL-encode, a next link to check against the origin and a Retry-After value. Invariants
   that must hold for any input abort otherwise. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/connector_http_poll/poll_page.c"
#include "../../plugins/connector_http_poll/poll_url.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGIN "http://127.0.0.1:8080/api/items?after=0"

static void setup(poll_paging *pg, const char *items, const char *cursor, const char *next,
                  const char *more, const char *end)
{
    memset(pg, 0, sizeof *pg);
    if (poll_path_compile(items, &pg->items) || poll_cursor_compile(cursor, pg) ||
        poll_path_compile(next, &pg->next_url) || poll_path_compile(more, &pg->more) ||
        poll_path_compile(end, &pg->end))
        abort();
    pg->has_next_url = next != NULL;
    pg->has_more = more != NULL;
    pg->has_end = end != NULL;
}

static void check_next(const char *link)
{
    char err[256];
    char *n = poll_url_next(ORIGIN, ORIGIN, link, err, sizeof err);
    if (n && strncmp(n, "http://127.0.0.1:8080/", 22) != 0)
        abort(); /* a link that left the origin was let through */
    free(n);
}

static void check_page(const uint8_t *data, size_t size, const poll_paging *pg)
{
    poll_page p;
    char err[256];
    if (poll_page_parse((const char *)data, size, pg, &p, err, sizeof err) != 0) {
        if (p.root || !err[0])
            abort(); /* a failure frees everything and says why */
        return;
    }
    if (p.n_items > POLL_MAX_ITEMS ||
        (p.cursor && (!*p.cursor || strlen(p.cursor) > POLL_MAX_CURSOR)))
        abort();
    for (size_t i = 0; i < p.n_items; i++) {
        size_t len = 0;
        const char *j = poll_page_item_json(&p, i, &len);
        if (!j || strlen(j) != len)
            abort();
    }
    if (p.next_url)
        check_next(p.next_url);
    poll_page_free(&p);
}

/* The cursor written into a URL decodes back to itself and holds no byte that would end or
   split the query. */
static void check_expand(const char *cursor)
{
    char *u = poll_url_expand("http://h/?c={cursor}", cursor);
    if (!u)
        return;
    const char *q = u + strlen("http://h/?c=");
    char back[POLL_MAX_URL + 1];
    size_t o = 0;
    for (const char *c = q; *c; c++) {
        if (strchr("&#?/ =+\r\n", *c))
            abort();
        if (*c == '%') {
            unsigned v;
            if (sscanf(c + 1, "%2x", &v) != 1)
                abort();
            back[o++] = (char)v;
            c += 2;
        } else {
            back[o++] = *c;
        }
    }
    back[o] = '\0';
    if (strcmp(back, cursor) != 0)
        abort();
    free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static poll_paging pgs[4];
    static int ready;
    if (!ready) {
        setup(&pgs[0], "tickets", "response.after_cursor", NULL, NULL, "end_of_stream");
        setup(&pgs[1], "data", "last.id", NULL, "has_more", NULL);
        setup(&pgs[2], "results", NULL, "paging.next.link", NULL, NULL);
        setup(&pgs[3], "", "last.0.id", NULL, NULL, NULL);
        ready = 1;
    }
    for (size_t i = 0; i < 4; i++)
        check_page(data, size, &pgs[i]);

    char text[POLL_MAX_URL + 1];
    size_t n = size < POLL_MAX_URL ? size : POLL_MAX_URL;
    memcpy(text, data, n);
    text[n] = '\0';
    check_expand(text);
    check_next(text);
    int64_t ra = poll_retry_after_ms(text, 1700000000, 3600000);
    if (ra < -1 || ra > 3600000)
        abort();
    return 0;
}
