/*
 * file_csv.c - CSV rows to JSON objects for the file connector (see file_csv.h).
 */
#include "file_csv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct file_csv {
    char *names[CSV_MAX_COLUMNS];
    size_t n_names;
    bool has_header;
    char *cell; /* the current cell, unquoted: at most max_line bytes + NUL */
    char *out;  /* the JSON text of the current row */
    size_t out_len, out_cap, max_line;
};

file_csv *file_csv_new(size_t max_line)
{
    file_csv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->max_line = max_line;
    /* a byte becomes at most 6 (\u00XX); each cell adds a key, quotes, colon and comma */
    c->out_cap = 6 * max_line + CSV_MAX_COLUMNS * (6 * CSV_MAX_NAME_LEN + 8) + 8;
    c->cell = malloc(max_line + 1);
    c->out = malloc(c->out_cap);
    if (!c->cell || !c->out) {
        file_csv_free(c);
        return NULL;
    }
    return c;
}

void file_csv_reset(file_csv *c)
{
    for (size_t i = 0; i < c->n_names; i++)
        free(c->names[i]);
    c->n_names = 0;
    c->has_header = false;
}

void file_csv_free(file_csv *c)
{
    if (!c)
        return;
    file_csv_reset(c);
    free(c->cell);
    free(c->out);
    free(c);
}

bool file_csv_has_header(const file_csv *c)
{
    return c->has_header;
}

/*
 * The next cell of line[*pos..len) into c->cell (*n bytes); *quoted says how it was written.
 * *pos moves past its comma; *last is set when the line ends after it.
 */
static bool next_cell(file_csv *c, const char *line, size_t len, size_t *pos, size_t *n,
                      bool *quoted, bool *last, char *why, size_t whylen)
{
    size_t i = *pos, k = 0;
    *quoted = i < len && line[i] == '"';
    if (*quoted) {
        for (i++;; i++) {
            if (i >= len) {
                snprintf(why, whylen, "unterminated quote (a quoted cell cannot span lines)");
                return false;
            }
            if (line[i] == '"') {
                if (i + 1 < len && line[i + 1] == '"') {
                    c->cell[k++] = '"';
                    i++;
                    continue;
                }
                i++;
                break;
            }
            c->cell[k++] = line[i];
        }
        if (i < len && line[i] != ',') {
            snprintf(why, whylen, "text after a closing quote at byte %zu", i + 1);
            return false;
        }
    } else {
        while (i < len && line[i] != ',')
            c->cell[k++] = line[i++];
    }
    c->cell[k] = '\0';
    *n = k;
    *last = i >= len;
    *pos = i + 1;
    return true;
}

bool file_csv_header(file_csv *c, const char *line, size_t len, char *why, size_t whylen)
{
    file_csv_reset(c);
    if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 BOM (spreadsheets) */
        line += 3;
        len -= 3;
    }
    size_t pos = 0, n;
    bool quoted, last = len == 0;
    while (!last) {
        if (!next_cell(c, line, len, &pos, &n, &quoted, &last, why, whylen))
            goto fail;
        if (n == 0 || n > CSV_MAX_NAME_LEN || memchr(c->cell, '\0', n)) {
            snprintf(why, whylen, "header column %zu: a name must be 1 to %d bytes", c->n_names + 1,
                     CSV_MAX_NAME_LEN);
            goto fail;
        }
        if (c->n_names == CSV_MAX_COLUMNS) {
            snprintf(why, whylen, "header: more than %d columns", CSV_MAX_COLUMNS);
            goto fail;
        }
        for (size_t i = 0; i < c->n_names; i++)
            if (strcmp(c->names[i], c->cell) == 0) {
                snprintf(why, whylen, "header: column `%.64s` appears twice", c->cell);
                goto fail;
            }
        if (!(c->names[c->n_names++] = strdup(c->cell))) {
            snprintf(why, whylen, "out of memory");
            goto fail;
        }
    }
    if (c->n_names == 0) {
        snprintf(why, whylen, "empty header line");
        goto fail;
    }
    c->has_header = true;
    return true;
fail:
    file_csv_reset(c);
    return false;
}

/* A JSON number as JSON writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || n > 32)
        return false;
    if (s[i] == '-')
        i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return false;
    if (s[i] == '0' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9')
        return false; /* 007: an id, not a number */
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

static void put(file_csv *c, const char *s, size_t n)
{
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

static void put_string(file_csv *c, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(c, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            char e[2] = {'\\', (char)ch};
            put(c, e, 2);
        } else if (ch < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            put(c, e, 6);
        } else {
            c->out[c->out_len++] = (char)ch;
        }
    }
    put(c, "\"", 1);
}

bool file_csv_row(file_csv *c, const char *line, size_t len, const char **json, size_t *jlen,
                  char *why, size_t whylen)
{
    if (!c->has_header) {
        snprintf(why, whylen, "no header line yet");
        return false;
    }
    if (len > c->max_line) {
        snprintf(why, whylen, "line longer than %zu bytes", c->max_line);
        return false;
    }
    c->out_len = 0;
    put(c, "{", 1);
    size_t pos = 0, col = 0, n;
    bool quoted, last = false, first = true;
    while (!last) {
        if (!next_cell(c, line, len, &pos, &n, &quoted, &last, why, whylen))
            return false;
        if (col == c->n_names) {
            snprintf(why, whylen, "row has more cells than the header's %zu columns", c->n_names);
            return false;
        }
        if (memchr(c->cell, '\0', n)) {
            snprintf(why, whylen, "column `%.64s`: a NUL byte", c->names[col]);
            return false;
        }
        if (n > 0 || quoted) { /* an empty unquoted cell: absent */
            if (!first)
                put(c, ",", 1);
            first = false;
            put_string(c, c->names[col], strlen(c->names[col]));
            put(c, ":", 1);
            if (!quoted && is_json_number(c->cell, n))
                put(c, c->cell, n);
            else
                put_string(c, c->cell, n);
        }
        col++;
    }
    if (col != c->n_names) {
        snprintf(why, whylen, "row has %zu cells, the header %zu", col, c->n_names);
        return false;
    }
    put(c, "}", 1);
    c->out[c->out_len] = '\0';
    *json = c->out;
    *jlen = c->out_len;
    return true;
}
