/*
 * labels_file.c - parsing `entity,churn_time` lines and the sorted churn table. See
 * labels_file.h.
 */
#include "replay/labels_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/timefmt.h"

static const char *trim(const char *s, size_t *len)
{
    while (*len && (*s == ' ' || *s == '\t')) {
        s++;
        (*len)--;
    }
    while (*len && (s[*len - 1] == ' ' || s[*len - 1] == '\t' || s[*len - 1] == '\r'))
        (*len)--;
    return s;
}

int labels_file_line(const char *line, size_t len, char *entity, int64_t *t, char *err,
                     size_t errlen)
{
    const char *s = trim(line, &len);
    if (len == 0 || s[0] == '#')
        return 0;
    if (len > SIGFLOW_MAX_LABELS_LINE) {
        snprintf(err, errlen, "line longer than %d bytes", SIGFLOW_MAX_LABELS_LINE);
        return -1;
    }
    const char *comma = memchr(s, ',', len);
    if (!comma) {
        snprintf(err, errlen, "expected `entity,churn_time`");
        return -1;
    }
    size_t el = (size_t)(comma - s), tl = len - el - 1;
    const char *e = trim(s, &el), *ts = trim(comma + 1, &tl);
    if (el == 6 && memcmp(e, "entity", 6) == 0 && tl == 10 && memcmp(ts, "churn_time", 10) == 0)
        return 0; /* the header */
    if (el == 0 || el > SIGFLOW_MAX_ENTITY_LEN || memchr(e, '\0', el)) {
        snprintf(err, errlen, "entity must be 1 to %d bytes", SIGFLOW_MAX_ENTITY_LEN);
        return -1;
    }
    if (memchr(ts, ',', tl)) {
        snprintf(err, errlen, "expected two fields, `entity,churn_time`");
        return -1;
    }
    if (tl == 0 || time_parse(ts, tl, t) != 0) {
        snprintf(err, errlen, "churn_time is not RFC 3339 or epoch ms: `%.*s`",
                 (int)(tl > 40 ? 40 : tl), ts);
        return -1;
    }
    memcpy(entity, e, el);
    entity[el] = '\0';
    return 1;
}

sf_status churn_table_add(churn_table *tab, const char *entity, int64_t t)
{
    if (!array_grow(&tab->c, tab->n, &tab->cap, sizeof *tab->c, 256))
        return SF_ENOMEM;
    char *copy = strdup(entity);
    if (!copy)
        return SF_ENOMEM;
    tab->c[tab->n++] = (churn){copy, t};
    return SF_OK;
}

static int churn_cmp(const void *pa, const void *pb)
{
    const churn *a = pa, *b = pb;
    int c = strcmp(a->entity, b->entity);
    if (c)
        return c;
    return a->t < b->t ? -1 : a->t > b->t;
}

void churn_table_sort(churn_table *tab)
{
    if (tab->n > 1)
        qsort(tab->c, tab->n, sizeof *tab->c, churn_cmp);
}

size_t churn_table_next(const churn_table *tab, const char *entity, int64_t t)
{
    size_t lo = 0, hi = tab->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(tab->c[mid].entity, entity);
        if (c < 0 || (c == 0 && tab->c[mid].t < t))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < tab->n && strcmp(tab->c[lo].entity, entity) == 0)
        return lo;
    return tab->n;
}

void churn_table_free(churn_table *tab)
{
    for (size_t i = 0; i < tab->n; i++)
        free(tab->c[i].entity);
    free(tab->c);
    memset(tab, 0, sizeof *tab);
}

sf_status labels_file_read(FILE *f, const char *path, churn_table *tab, char *err, size_t errlen)
{
    char *line = NULL, why[160], entity[SIGFLOW_MAX_ENTITY_LEN + 1];
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    sf_status st = SF_OK;
    while (st == SF_OK && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            len--;
        int64_t t;
        int r = labels_file_line(line, len, entity, &t, why, sizeof why);
        if (r < 0) {
            snprintf(err, errlen, "%s:%lu: %s", path, lineno, why);
            st = SF_EINVAL;
        } else if (r > 0 && tab->n >= SIGFLOW_MAX_LABELS_FILE) {
            snprintf(err, errlen, "%s:%lu: more than %d churns", path, lineno,
                     SIGFLOW_MAX_LABELS_FILE);
            st = SF_EINVAL;
        } else if (r > 0 && churn_table_add(tab, entity, t) != SF_OK) {
            snprintf(err, errlen, "%s: out of memory", path);
            st = SF_ENOMEM;
        }
    }
    if (st == SF_OK && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        st = SF_EIO;
    }
    free(line);
    churn_table_sort(tab);
    return st;
}
