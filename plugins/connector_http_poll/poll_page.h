/*
 * poll_page.h - one response page of the `http_poll` connector: the body parsed with bounded
 * size and depth, the records at `items`, and the paging facts (`cursor` from response.PATH
 * or last.PATH, `next_url`, the `more`/`end` booleans) read by dotted paths.
 * Owns: the parsed document and compiled paths. Calls json-c only (no I/O, no host), so the
 * fuzz harness (tests/fuzz/fuzz_http_poll.c) and unit tests drive it directly.
 * Used by connector_http_poll.c.
 */
#ifndef POLL_PAGE_H
#define POLL_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#define POLL_MAX_BODY (16 * 1024 * 1024) /* bytes of one response body */
#define POLL_MAX_DEPTH 32                /* nesting of a response (json-c counts the root as 1) */
#define POLL_MAX_ITEMS 10000             /* records in one page */
#define POLL_MAX_PATH 256                /* bytes of a path option */
#define POLL_MAX_SEGMENTS 16             /* dotted segments in a path */
#define POLL_MAX_CURSOR 1024             /* bytes of a cursor value */
#define POLL_MAX_URL 4096                /* bytes of a URL (configured, next link, expanded) */

/* A compiled dotted path ("paging.next.link", "data.0.id"); zero segments = the root. */
typedef struct poll_path {
    char *seg[POLL_MAX_SEGMENTS];
    size_t n;
} poll_path;

/* Where the next cursor comes from. */
typedef enum poll_cursor_src { CURSOR_NONE = 0, CURSOR_RESPONSE, CURSOR_LAST } poll_cursor_src;

typedef struct poll_paging {
    poll_path items;
    poll_cursor_src cursor_src;
    poll_path cursor; /* relative to the response or to the last record */
    bool has_next_url, has_more, has_end;
    poll_path next_url, more, end;
} poll_paging;

/* Compile "a.b.0.c" (empty: the root). NULL on success, else the reason. */
const char *poll_path_compile(const char *text, poll_path *out);
void poll_path_free(poll_path *p);
/* Compile the `cursor` option: "response.PATH" or "last.PATH". NULL on success, else why. */
const char *poll_cursor_compile(const char *text, poll_paging *pg);
void poll_paging_free(poll_paging *pg);

struct json_object;

typedef struct poll_page {
    struct json_object *root;
    struct json_object *items; /* the array at `items` (borrowed from root) */
    size_t n_items;
    char *cursor;    /* the next cursor, NULL when the page gives none */
    char *next_url;  /* the next link as sent, NULL when none */
    bool more;       /* paging says another page waits now */
    bool more_known; /* `more` or `end` was present and a boolean */
} poll_page;

/*
 * Parse body[0..len) (at most POLL_MAX_BODY bytes, nesting at most POLL_MAX_DEPTH) and read
 * the paging facts. 0 on success; -1 with err set (what and where) otherwise.
 */
int poll_page_parse(const char *body, size_t len, const poll_paging *pg, poll_page *out, char *err,
                    size_t errlen);
/* The i-th record as compact JSON text (borrowed from the page; *len set). */
const char *poll_page_item_json(const poll_page *p, size_t i, size_t *len);
void poll_page_free(poll_page *p);

#endif
