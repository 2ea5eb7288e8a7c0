/*
 * replay_input.c - chunked, multi-threaded NDJSON reading. A small ring of chunk slots moves
 * through EMPTY -> FILLED (reader) -> PARSING -> PARSED (a parser) -> EMPTY (consumer); chunk
 * indexes keep file order, so line numbers and the event order are those of the file.
 */
#include "replay_input.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"

#define CHUNK_BYTES (1u << 20) /* > SF_MAX_EVENT_LINE: a valid line always fits */
#define N_SLOTS 16
#define MAX_PARSERS 8

enum { SLOT_EMPTY, SLOT_FILLED, SLOT_PARSING, SLOT_PARSED };

typedef struct chunk {
    int state;
    uint64_t index;
    char *buf;
    size_t len;
    int eof, read_error, overlong;
    replay_item *items; /* item.line is 1-based within the chunk until handed out */
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

/* Skip the rest of an overlong line; what follows its newline becomes the carry. */
static int skip_line(replay_input *in, char *buf, int *eof)
{
    for (;;) {
        size_t n = fread(buf, 1, CHUNK_BYTES, in->in);
        char *nl = n ? memchr(buf, '\n', n) : NULL;
        if (nl) {
            in->carry_len = n - (size_t)(nl + 1 - buf);
            memcpy(in->carry, nl + 1, in->carry_len);
            return 0;
        }
        if (n < CHUNK_BYTES) {
            *eof = 1;
            return ferror(in->in) ? -1 : 0;
        }
    }
}

/* Fill c with whole lines (the last one may lack its newline at end of input). */
static void fill_chunk(replay_input *in, chunk *c)
{
    memcpy(c->buf, in->carry, in->carry_len);
    size_t len = in->carry_len;
    in->carry_len = 0;
    while (len < CHUNK_BYTES) {
        size_t n = fread(c->buf + len, 1, CHUNK_BYTES - len, in->in);
        len += n;
        if (n == 0) {
            c->eof = 1;
            c->read_error = ferror(in->in) != 0;
            break;
        }
    }
    c->len = len;
    if (c->eof)
        return;
    char *nl = NULL;
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
        if (c->eof)
            return NULL;
    }
}

/* ---- parsers --------------------------------------------------------------------- */

static int add_item(chunk *c, sf_event *ev, uint64_t line, const char *error)
{
    if (c->n_items == c->cap_items) {
        size_t cap = c->cap_items ? c->cap_items * 2 : 4096;
        replay_item *it = realloc(c->items, cap * sizeof *it);
        if (!it)
            return -1;
        c->items = it;
        c->cap_items = cap;
    }
    replay_item *it = &c->items[c->n_items++];
    it->ev = ev;
    it->line = line;
    it->error = NULL;
    if (error) {
        it->error = strdup(error);
        if (!it->error)
            return -1;
    }
    return 0;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    }
    return 1;
}

static int parse_line(replay_input *in, chunk *c, const char *s, size_t n)
{
    uint64_t line = ++c->n_lines;
    char err[SF_MAX_ERROR_LEN];
    if (n && s[n - 1] == '\r')
        n--;
    if (blank(s, n))
        return 0; /* an empty line carries no event */
    if (n > SF_MAX_EVENT_LINE) {
        snprintf(err, sizeof err, "line longer than %d bytes", SF_MAX_EVENT_LINE);
        return add_item(c, NULL, line, err);
    }
    sf_event *ev = NULL;
    err[0] = '\0';
    if (mapping_apply(in->m, s, n, &ev, err, sizeof err) != SF_OK || !ev)
        return add_item(c, NULL, line, err[0] ? err : "cannot map the line to an event");
    if (ev->has_value && !isfinite(ev->value)) {
        event_free(ev);
        return add_item(c, NULL, line, "value is not a finite number");
    }
    if (add_item(c, ev, line, NULL) != 0) {
        event_free(ev);
        return -1;
    }
    return 0;
}

static void parse_chunk(replay_input *in, chunk *c)
{
    if (c->overlong) {
        char err[64];
        snprintf(err, sizeof err, "line longer than %d bytes", SF_MAX_EVENT_LINE);
        c->n_lines = 1;
        if (add_item(c, NULL, 1, err) != 0)
            c->read_error = 1;
        return;
    }
    const char *p = c->buf, *end = c->buf + c->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (parse_line(in, c, p, n) != 0) {
            c->read_error = 1; /* out of memory: reported like a read error */
            return;
        }
        p += n + 1;
    }
}

static void *parser_main(void *arg)
{
    replay_input *in = arg;
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
            return NULL;
        int last = c->eof;
        parse_chunk(in, c);
        pthread_mutex_lock(&in->mu);
        c->state = SLOT_PARSED;
        pthread_cond_broadcast(&in->cv);
        pthread_mutex_unlock(&in->mu);
        if (last)
            return NULL; /* the others wait for stop: nothing follows */
    }
}

/* ---- consumer -------------------------------------------------------------------- */

static void chunk_reset(chunk *c)
{
    for (size_t i = 0; i < c->n_items; i++) {
        event_free(c->items[i].ev);
        free(c->items[i].error);
    }
    c->n_items = 0;
    c->n_lines = 0;
    c->len = 0;
    c->eof = c->read_error = c->overlong = 0;
    c->state = SLOT_EMPTY;
}

int replay_input_next(replay_input *in, replay_item *item, char *err, size_t errlen)
{
    pthread_mutex_lock(&in->mu);
    for (;;) {
        chunk *c = wait_slot(in, in->next_consume, SLOT_PARSED);
        if (!c) {
            pthread_mutex_unlock(&in->mu);
            snprintf(err, errlen, "input stopped");
            return -1;
        }
        if (in->item_pos < c->n_items) {
            replay_item *it = &c->items[in->item_pos++];
            *item = *it;
            item->line = in->line_base + it->line;
            it->ev = NULL; /* taken */
            pthread_mutex_unlock(&in->mu);
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
        chunk_reset(c);
        in->next_consume++;
        pthread_cond_broadcast(&in->cv);
    }
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
        in->slots[i].buf = malloc(CHUNK_BYTES);
        if (!in->slots[i].buf)
            goto fail;
    }
    if (parsers <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        parsers = n > 0 ? (int)n : 1;
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
    in->stop = 1;
    pthread_cond_broadcast(&in->cv);
    pthread_mutex_unlock(&in->mu);
    if (in->reader_started)
        pthread_join(in->reader, NULL);
    for (int i = 0; i < in->n_parsers; i++)
        pthread_join(in->parsers[i], NULL);
    for (int i = 0; i < N_SLOTS; i++) {
        chunk_reset(&in->slots[i]);
        free(in->slots[i].items);
        free(in->slots[i].buf);
    }
    free(in->carry);
    pthread_cond_destroy(&in->cv);
    pthread_mutex_destroy(&in->mu);
    free(in);
}
