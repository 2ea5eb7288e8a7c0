/*
 * labels_file.h - the labels file of `sigflow backtest --labels FILE`: one churner a line,
 * `entity,churn_time` (RFC 3339 or epoch ms), an optional header line `entity,churn_time`,
 * blank lines and `#` comments ignored (docs/scoring.md "Backtest"). Owns: the parser and
 * the sorted table of (entity, time). Calls timefmt. Used by backtest.c; fuzzed by
 * tests/fuzz/fuzz_labels_file.c.
 */
#ifndef SIGFLOW_LABELS_FILE_H
#define SIGFLOW_LABELS_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/limits.h"
#include "sigflow.h"

typedef struct churn {
    char *entity;
    int64_t t; /* ms since the epoch */
} churn;

/* Churns sorted by (entity bytes, time). */
typedef struct churn_table {
    churn *c;
    size_t n, cap;
} churn_table;

/*
 * One line (without its newline). 1: a churn (entity copied into `entity`, at most
 * SIGFLOW_MAX_ENTITY_LEN bytes + NUL), 0: nothing on it (blank, comment, the header), -1: bad,
 * with the reason in err.
 */
int labels_file_line(const char *line, size_t len, char *entity, int64_t *t, char *err,
                     size_t errlen);
/* Read a whole file into *tab (sorted). SF_EINVAL with "PATH:LINE: reason" in err. */
sf_status labels_file_read(FILE *f, const char *path, churn_table *tab, char *err, size_t errlen);
/* Add one churn (unsorted until churn_table_sort). */
sf_status churn_table_add(churn_table *tab, const char *entity, int64_t t);
void churn_table_sort(churn_table *tab);
/* Index of the first churn of `entity` at or after t, or tab->n. */
size_t churn_table_next(const churn_table *tab, const char *entity, int64_t t);
void churn_table_free(churn_table *tab);

#endif
