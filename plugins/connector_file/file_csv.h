/*
 * file_csv.h - CSV with a header line (RFC 4180 quoting) turned into one JSON object per row,
 * for the file connector's `format = csv` (exports from analytics tools). The header names
 * the keys; an unquoted cell that is a JSON number becomes a number (leading zeros keep it a
 * string: `007`), a quoted cell is always a string, an empty unquoted cell is left out. A
 * quoted cell cannot span lines. Owns the header and the output buffer. Calls libc only (the
 * plugin is built against the SDK alone). Used by connector_file.c; fuzzed by fuzz_csv.
 */
#ifndef SF_FILE_CSV_H
#define SF_FILE_CSV_H

#include <stdbool.h>
#include <stddef.h>

#define CSV_MAX_COLUMNS 256  /* columns of one header */
#define CSV_MAX_NAME_LEN 128 /* bytes of one column name */

typedef struct file_csv file_csv;

/* max_line: the longest line the connector hands over (bounds the output buffer). */
file_csv *file_csv_new(size_t max_line);
void file_csv_free(file_csv *c);

/* Forget the header (a new file begins). */
void file_csv_reset(file_csv *c);
bool file_csv_has_header(const file_csv *c);

/* Take line[0..len) (no newline) as the header. false with the reason in why. */
bool file_csv_header(file_csv *c, const char *line, size_t len, char *why, size_t whylen);

/*
 * One data row as JSON object text (valid until the next call), its length in *jlen. false
 * with the reason in why ("row has 3 cells, the header 4", "unterminated quote").
 */
bool file_csv_row(file_csv *c, const char *line, size_t len, const char **json, size_t *jlen,
                  char *why, size_t whylen);

#endif
