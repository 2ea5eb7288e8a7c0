/*
 * replay_input.c - chunked, multi-threaded NDJSON reading. A small ring of chunk slots moves
 * through EMPTY -> FILLED (reader) -> PARSING -> PARSED (a parser) -> EMPTY (consumer); chunk
 * indexes keep file order, so line numbers and the event order are those of the file.
 */
#include "replay/replay_input.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/array.h"
#include "base/limits.h"
#include "score/score.h"
#include "base/cpus.h"

#define CHUNK_BYTES (1u << 20) /* > SIGFLOW_MAX_EVENT_LINE: a valid line always fits */
#define N_SLOTS 16
#define MAX_PARSERS 8

enum { SLOT_EMPTY, SLOT_FILLED, SLOT_PARSING, SLOT_PARSED };

typedef struct chunk {
    int state;
    uint64_t index;
    char *buf; /* mem + 1: a byte before the first line and one after the last (parse_joined) */
    char *mem;
    size_t len;
    int eof, read_error, overlong;
    replay_item *items; /* item.line is 1-based within the chunk until handed out */
    char *arena;        /* the events' strings */
    size_t arena_used, arena_cap;
    size_t n_items, cap_items;
    uint64_t n_lines;
} chunk;

struct replay_input {
    FILE *in;
    mapping *m;
    pthread_t reader;
    int reader_started;
    pthread_t parsers[MAX_PARSERS];
    int n_parsers;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    chunk slots[N_SLOTS];
    uint64_t next_fill, next_parse, next_consume;
    int stop;
    size_t item_pos;
    int have_chunk;  /* the consumer holds slot next_consume (PARSED) */
    int reader_done; /* the reader reached the end of input */
    uint64_t line_base;
    char *carry;
    size_t carry_len;
};

/* ---- reader ---------------------------------------------------------------------- */

static chunk *wait_slot(replay_input *in, uint64_t index, int state)
{
    chunk *c = &in->slots[index % N_SLOTS];
    while (!in->stop && c->state != state)
        pthread_cond_wait(&in->cv, &in->mu);
    return in->stop ? NULL : c;
}

/*
 * One read(2): what is available now (a pipe gives lines as they come; a file whole
 * chunks). 0 at end of input, -1 on error. The only place the reader may be cancelled.
 */
static ssize_t read_some(replay_input *in, char *buf, size_t n)
{
    int fd = fileno(in->in), old;
    ssize_t got;
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
    do
        got = read(fd, buf, n);
    while (got < 0 && errno == EINTR);
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    return got;
}

/* Skip the rest of an overlong line; what follows its newline becomes the carry. */
static int skip_line(replay_input *in, char *buf, int *eof)
{
    for (;;) {
        ssize_t n = read_some(in, buf, CHUNK_BYTES);
        if (n <= 0) {
            *eof = 1;
            return n < 0 ? -1 : 0;
        }
        char *nl = memchr(buf, '\n', (size_t)n);
        if (nl) {
            in->carry_len = (size_t)n - (size_t)(nl + 1 - buf);
            memcpy(in->carry, nl + 1, in->carry_len);
            return 0;
        }
    }
}

/*
 * Fill c with whole lines (the last one may lack its newline at end of input). Reads until
 * the chunk is full or holds at least one whole line, so a slow pipe is not held back.
 */
static void fill_chunk(replay_input *in, chunk *c)
{
    memcpy(c->buf, in->carry, in->carry_len);
    size_t len = in->carry_len;
    in->carry_len = 0;
    char *nl = NULL;
    while (len < CHUNK_BYTES) {
        ssize_t n = read_some(in, c->buf + len, CHUNK_BYTES - len);
        if (n <= 0) {
            c->eof = 1;
            c->read_error = n < 0;
            break;
        }
        len += (size_t)n;
        if (memchr(c->buf + len - (size_t)n, '\n', (size_t)n))
            break;
    }
    c->len = len;
    if (c->eof)
        return;
    for (size_t i = len; i > 0; i--) {
        if (c->buf[i - 1] == '\n') {
            nl = c->buf + i - 1;
            break;
        }
    }
    if (nl) {
        c->len = (size_t)(nl + 1 - c->buf);
        in->carry_len = len - c->len;
        memcpy(in->carry, nl + 1, in->carry_len);
        return;
    }
    /* a line longer than the whole chunk: one bad line, skipped to its end */
    c->overlong = 1;
    c->len = 0;
    if (skip_line(in, c->buf, &c->eof) != 0)
        c->read_error = 1;
}

static void *reader_main(void *arg)
{
    replay_input *in = arg;
    int old;
    /* cancellable only inside read(2), never while holding the lock */
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_setname_np(pthread_self(), "sf-read");
    for (;;) {
        pthread_mutex_lock(&in->mu);
        chunk *c = wait_slot(in, in->next_fill, SLOT_EMPTY);
        pthread_mutex_unlock(&in->mu);
        if (!c)
            return NULL;
        fill_chunk(in, c); /* the slot is EMPTY: only the reader touches it */
        pthread_mutex_lock(&in->mu);
        c->index = in->next_fill++;
        c->state = SLOT_FILLED;
        pthread_cond_broadcast(&in->cv);
        pthread_mutex_unlock(&in->mu);
        if (c->eof) {
            pthread_mutex_lock(&in->mu);
            in->reader_done = 1;
            pthread_mutex_unlock(&in->mu);
            return NULL;
        }
    }
}

/* ---- parsers --------------------------------------------------------------------- */

#define LINES_PER_PARSE 64

/* One line waiting in a parse batch. */
typedef struct pending_line {
    const char *s;
    size_t n;
    uint64_t line;
} pending_line;

typedef struct parser {
    replay_input *in;
    mapping_view view; /* the event line reader's result, reused line after line */
    json_tokener *tok; /* for batches parsed as one JSON array */
    pending_line lines[LINES_PER_PARSE];
    size_t n_lines;
} parser;

static size_t arena_put(chunk *c, const char *s, size_t n)
{
    if (c->arena_used + n + 1 > c->arena_cap) {
        size_t cap = c->arena_cap ? c->arena_cap * 2 : 1u << 16;
        while (cap < c->arena_used + n + 1)
            cap *= 2;
        char *a = realloc(c->arena, cap);
        if (!a)
            return SIZE_MAX;
        c->arena = a;
        c->arena_cap = cap;
    }
    size_t off = c->arena_used;
    memcpy(c->arena + off, s, n);
    c->arena[off + n] = '\0';
    c->arena_used += n + 1;
    return off;
}

static replay_item *add_item(chunk *c, uint64_t line, const char *error)
{
    if (!array_grow(&c->items, c->n_items, &c->cap_items, sizeof *c->items, 4096))
        return NULL;
    replay_item *it = &c->items[c->n_items];
    memset(it, 0, sizeof *it);
    it->line = line;
    if (error && !(it->error = strdup(error)))
        return NULL;
    c->n_items++;
    return it;
}

/*
 * Keep a mapped event as a view into the chunk's arena (the strings are copied there and the
 * event freed on this thread: the consumer frees nothing, and malloc never crosses threads).
 */
static int keep_event(chunk *c, uint64_t line, sf_event *ev)
{
    const char *why = NULL;
    if (ev->has_value && !isfinite(ev->value))
        why = "value is not a finite number";
    else if (ev->time_ms < SCORE_TIME_MIN_MS || ev->time_ms > SCORE_TIME_MAX_MS)
        why = "time outside years 0000-9999";
    if (why) {
        event_free(ev);
        return add_item(c, line, why) ? 0 : -1;
    }
    replay_item *it = add_item(c, line, NULL);
    size_t eo = SIZE_MAX, to = SIZE_MAX, ao = SIZE_MAX;
    size_t elen = strlen(ev->entity);
    if (it) {
        eo = arena_put(c, ev->entity, elen);
        to = arena_put(c, ev->type, strlen(ev->type));
        if (ev->attrs)
            ao = arena_put(c, ev->attrs, ev->attrs_len);
    }
    int ok = it && eo != SIZE_MAX && to != SIZE_MAX && (!ev->attrs || ao != SIZE_MAX);
    if (ok) {
        it->ok = 1;
        it->ev.dropped = ev->dropped; /* not kept by the connector's types/on_unmapped */
        it->ev.time_ms = ev->time_ms;
        it->ev.value = ev->value;
        it->ev.has_value = ev->has_value;
        /* offsets for now: the arena may still move; fixed up when the chunk is done */
        it->ev.entity = (char *)(uintptr_t)eo;
        it->ev.type = (char *)(uintptr_t)to;
        it->ev.attrs = (char *)(uintptr_t)ao;
        it->ev.attrs_len = ev->attrs ? ev->attrs_len : 0;
        it->hash = score_entity_hash(ev->entity, elen);
    }
    event_free(ev);
    return ok ? 0 : -1;
}

/*
 * A line the event line reader mapped: its strings go straight from the chunk into the arena,
 * with no event, no JSON tree and no allocation of its own (mapping_apply_view).
 */
static int keep_view(chunk *c, uint64_t line, const mapping_view *v)
{
    if (v->has_value && !isfinite(v->value))
        return add_item(c, line, "value is not a finite number") ? 0 : -1;
    replay_item *it = add_item(c, line, NULL);
    if (!it)
        return -1;
    /* a dropped document is kept as mapping_apply makes it: "-" "-" at time 0 */
    const char *entity = v->dropped ? "-" : v->entity;
    size_t elen = v->dropped ? 1 : v->entity_len;
    size_t eo = arena_put(c, entity, elen);
    size_t to = v->dropped ? arena_put(c, "-", 1) : arena_put(c, v->type, strlen(v->type));
    size_t ao = v->attrs && !v->dropped ? arena_put(c, v->attrs, v->attrs_len) : SIZE_MAX;
    if (eo == SIZE_MAX || to == SIZE_MAX || (v->attrs && !v->dropped && ao == SIZE_MAX))
        return -1;
    it->ok = 1;
    it->ev.dropped = v->dropped;
    it->ev.time_ms = v->dropped ? 0 : v->time_ms;
    it->ev.value = v->dropped ? 0 : v->value;
    it->ev.has_value = !v->dropped && v->has_value;
    /* offsets for now: the arena may still move; fixed up when the chunk is done */
    it->ev.entity = (char *)(uintptr_t)eo;
    it->ev.type = (char *)(uintptr_t)to;
    it->ev.attrs = (char *)(uintptr_t)ao;
    it->ev.attrs_len = ao == SIZE_MAX ? 0 : v->attrs_len;
    it->hash = score_entity_hash(entity, elen);
    return 0;
}

static int map_one(parser *p, chunk *c, const pending_line *l)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    sf_event *ev = NULL;
    err[0] = '\0';
    if (mapping_apply(p->in->m, l->s, l->n, &ev, err, sizeof err) != SF_OK || !ev) {
        event_free(ev);
        return add_item(c, l->line, err[0] ? err : "cannot map the line to an event") ? 0 : -1;
    }
    return keep_event(c, l->line, ev);
}

/*
 * json-c pays a locale switch (under a process-wide lock) per parse call, so a batch of lines
 * is parsed as one array "[l1,l2,...]". Only when that array is valid and has one element per
 * line is it used; otherwise every line of the batch is parsed alone, which finds and words
 * the errors exactly as for a single document.
 * The array is written over the chunk itself, not copied: the byte before the first line (the
 * newline before it, or the chunk's headroom) becomes '[', the newline after each line ',' and
 * after the last ']'. What lies between two lines of a batch is blank lines (spaces, tabs,
 * CRs, newlines: JSON whitespace). The lines themselves are untouched, and the batches of a
 * chunk are parsed one after the other, so the '[' of one overwrites the ']' of the one done.
 */
static json_object *parse_joined(parser *p)
{
    char *start = (char *)p->lines[0].s - 1;
    const pending_line *last = &p->lines[p->n_lines - 1];
    char *end = (char *)last->s + last->n; /* its newline, or the byte after the chunk */
    size_t len = (size_t)(end + 1 - start);
    if (!p->tok || len > (size_t)INT32_MAX)
        return NULL;
    *start = '[';
    for (size_t i = 0; i + 1 < p->n_lines; i++)
        *(char *)(p->lines[i].s + p->lines[i].n) = ',';
    *end = ']';
    json_tokener_reset(p->tok);
    json_object *arr = json_tokener_parse_ex(p->tok, start, (int)len);
    if (!arr || json_tokener_get_error(p->tok) != json_tokener_success ||
        json_tokener_get_parse_end(p->tok) != len || !json_object_is_type(arr, json_type_array) ||
        json_object_array_length(arr) != p->n_lines) {
        json_object_put(arr);
        return NULL;
    }
    return arr;
}

static int flush_lines(parser *p, chunk *c)
{
    int rc = 0;
    json_object *arr = p->n_lines > 1 ? parse_joined(p) : NULL;
    for (size_t i = 0; i < p->n_lines && rc == 0; i++) {
        if (!arr) {
            rc = map_one(p, c, &p->lines[i]);
            continue;
        }
        char err[SIGFLOW_MAX_ERROR_LEN];
        sf_event *ev = NULL;
        err[0] = '\0';
        json_object *o = json_object_array_get_idx(arr, i);
        if (mapping_apply_obj(p->in->m, o, &ev, err, sizeof err) != SF_OK || !ev) {
            event_free(ev);
            rc = add_item(c, p->lines[i].line, err[0] ? err : "cannot map the line") ? 0 : -1;
        } else {
            rc = keep_event(c, p->lines[i].line, ev);
        }
    }
    json_object_put(arr);
    p->n_lines = 0;
    return rc;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    }
    return 1;
}

static int parse_line(parser *p, chunk *c, const char *s, size_t n)
{
    uint64_t line = ++c->n_lines;
    if (blank(s, n))
        return 0; /* an empty line carries no event */
    if (n > SIGFLOW_MAX_EVENT_LINE) {
        char err[64];
        snprintf(err, sizeof err, "line longer than %d bytes", SIGFLOW_MAX_EVENT_LINE);
        if (flush_lines(p, c) != 0) /* keep items in line order */
            return -1;
        return add_item(c, line, err) ? 0 : -1;
    }
    if (mapping_apply_view(p->in->m, s, n, &p->view)) {
        /* the canonical shape's common case; lines it declined before it go first */
        if (p->n_lines && flush_lines(p, c) != 0)
            return -1;
        return keep_view(c, line, &p->view);
    }
    p->lines[p->n_lines++] = (pending_line){s, n, line};
    return p->n_lines == LINES_PER_PARSE ? flush_lines(p, c) : 0;
}

/* Turn arena offsets into pointers once the arena no longer moves. */
static void fix_views(chunk *c)
{
    for (size_t i = 0; i < c->n_items; i++) {
        replay_item *it = &c->items[i];
        if (!it->ok)
            continue;
        size_t ao = (size_t)(uintptr_t)it->ev.attrs;
        it->ev.entity = c->arena + (size_t)(uintptr_t)it->ev.entity;
        it->ev.type = c->arena + (size_t)(uintptr_t)it->ev.type;
        it->ev.attrs = ao == SIZE_MAX ? NULL : c->arena + ao;
    }
}

static void parse_chunk(parser *p, chunk *c)
{
    if (c->overlong) {
        char err[64];
        snprintf(err, sizeof err, "line longer than %d bytes", SIGFLOW_MAX_EVENT_LINE);
        c->n_lines = 1;
        if (!add_item(c, 1, err))
            c->read_error = 1;
        return;
    }
    const char *s = c->buf, *end = c->buf + c->len;
    int rc = 0;
    while (s < end && rc == 0) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        rc = parse_line(p, c, s, n);
        s += n + 1;
    }
    if (rc == 0)
        rc = flush_lines(p, c);
    if (rc != 0)
        c->read_error = 1; /* out of memory: reported like a read error */
    fix_views(c);
}

static void *parser_main(void *arg)
{
    replay_input *in = arg;
    pthread_setname_np(pthread_self(), "sf-parse");
    parser *p = calloc(1, sizeof *p);
    if (p) {
        p->in = in;
        p->tok = json_tokener_new_ex(SIGFLOW_MAX_JSON_DEPTH + 1); /* +1: the batch array */
        if (p->tok)
            json_tokener_set_flags(p->tok, JSON_TOKENER_STRICT);
    }
    for (;;) {
        pthread_mutex_lock(&in->mu);
        chunk *c = wait_slot(in, in->next_parse, SLOT_FILLED);
        if (c && c->index != in->next_parse)
            c = NULL; /* cannot happen: slots are filled in index order */
        if (c) {
            in->next_parse++;
            c->state = SLOT_PARSING;
        }
        pthread_mutex_unlock(&in->mu);
        if (!c)
            break;
        int last = c->eof;
        if (p)
            parse_chunk(p, c);
        else
            c->read_error = 1; /* no memory for the parser */
        pthread_mutex_lock(&in->mu);
        c->state = SLOT_PARSED;
        pthread_cond_broadcast(&in->cv);
        pthread_mutex_unlock(&in->mu);
        if (last)
            break; /* the others wait for stop: nothing follows */
    }
    if (p) {
        json_tokener_free(p->tok);
        free(p);
    }
    return NULL;
}

/* ---- consumer -------------------------------------------------------------------- */

static void chunk_reset(chunk *c)
{
    for (size_t i = 0; i < c->n_items; i++)
        free(c->items[i].error);
    c->n_items = 0;
    c->arena_used = 0;
    c->n_lines = 0;
    c->len = 0;
    c->eof = c->read_error = c->overlong = 0;
    c->state = SLOT_EMPTY;
}

int replay_input_next(replay_input *in, replay_item *item, char *err, size_t errlen)
{
    chunk *c = &in->slots[in->next_consume % N_SLOTS];
    /* A PARSED chunk belongs to the consumer alone: no lock per item, only per chunk. */
    if (in->have_chunk && in->item_pos < c->n_items) {
        replay_item *it = &c->items[in->item_pos++];
        *item = *it;
        item->line = in->line_base + it->line;
        return 1;
    }
    pthread_mutex_lock(&in->mu);
    for (;;) {
        c = in->have_chunk ? c : wait_slot(in, in->next_consume, SLOT_PARSED);
        if (!c) {
            pthread_mutex_unlock(&in->mu);
            snprintf(err, errlen, "input stopped");
            return -1;
        }
        in->have_chunk = 1;
        if (in->item_pos < c->n_items) {
            pthread_mutex_unlock(&in->mu);
            replay_item *it = &c->items[in->item_pos++];
            *item = *it;
            item->line = in->line_base + it->line;
            return 1;
        }
        if (c->read_error || c->eof) {
            int rc = c->read_error ? -1 : 0;
            if (rc)
                snprintf(err, errlen, "read error after line %llu",
                         (unsigned long long)(in->line_base + c->n_lines));
            pthread_mutex_unlock(&in->mu);
            return rc;
        }
        in->line_base += c->n_lines;
        in->item_pos = 0;
        in->have_chunk = 0;
        chunk_reset(c);
        in->next_consume++;
        pthread_cond_broadcast(&in->cv);
        c = NULL;
    }
}

const replay_item *replay_input_ahead(const replay_input *in, size_t k)
{
    const chunk *c = &in->slots[in->next_consume % N_SLOTS];
    if (!in->have_chunk || in->item_pos == 0 || in->item_pos - 1 + k >= c->n_items)
        return NULL;
    return &c->items[in->item_pos - 1 + k];
}

replay_input *replay_input_start(FILE *f, mapping *m, int parsers)
{
    replay_input *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->in = f;
    in->m = m;
    pthread_mutex_init(&in->mu, NULL);
    pthread_cond_init(&in->cv, NULL);
    in->carry = malloc(CHUNK_BYTES);
    if (!in->carry)
        goto fail;
    for (int i = 0; i < N_SLOTS; i++) {
        in->slots[i].mem = malloc(CHUNK_BYTES + 2);
        if (!in->slots[i].mem)
            goto fail;
        in->slots[i].buf = in->slots[i].mem + 1;
    }
    if (parsers <= 0) {
        parsers = (int)cpus_usable(MAX_PARSERS);
    }
    if (parsers > MAX_PARSERS)
        parsers = MAX_PARSERS;
    if (pthread_create(&in->reader, NULL, reader_main, in) != 0)
        goto fail;
    in->reader_started = 1;
    for (int i = 0; i < parsers; i++) {
        if (pthread_create(&in->parsers[i], NULL, parser_main, in) != 0)
            goto fail;
        in->n_parsers++;
    }
    return in;
fail:
    replay_input_stop(in);
    return NULL;
}

void replay_input_stop(replay_input *in)
{
    if (!in)
        return;
    pthread_mutex_lock(&in->mu);
    int early = !in->reader_done; /* stopped before the end: the reader may block in read */
    in->stop = 1;
    pthread_cond_broadcast(&in->cv);
    pthread_mutex_unlock(&in->mu);
    if (in->reader_started) {
        if (early)
            pthread_cancel(in->reader); /* acts only inside read(2) */
        pthread_join(in->reader, NULL);
    }
    for (int i = 0; i < in->n_parsers; i++)
        pthread_join(in->parsers[i], NULL);
    for (int i = 0; i < N_SLOTS; i++) {
        chunk_reset(&in->slots[i]);
        free(in->slots[i].items);
        free(in->slots[i].arena);
        free(in->slots[i].mem);
    }
    free(in->carry);
    pthread_cond_destroy(&in->cv);
    pthread_mutex_destroy(&in->mu);
    free(in);
}
