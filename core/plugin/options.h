/*
 * options.h - a plugin's declared options (sf_option tables) applied to an instance's INI
 * keys: validation with file:line errors and "did you mean", typed values, secret
 * resolution, redaction, and the option reference `sigflow plugins NAME` prints.
 * Owns: opt_values. Calls config (secret_resolve, suggest_closest), timefmt, diag.
 * Used by the host (instance creation and the opt_* services) and the CLI.
 */
#ifndef SIGFLOW_OPTIONS_H
#define SIGFLOW_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "sigflow.h"

typedef struct opt_values opt_values;

/*
 * Check `inst`'s keys against `decl` (NULL-name-terminated, may be NULL). Keys the host
 * itself reads are skipped: `map.*`, `types`, `type.*`, `on_unmapped` on connectors. Errors go to
 * `d` as "file:line: ...": unknown key (with a "did you mean"), wrong type, out of range, not one
 * of the choices, missing required, a secret written literally. Returns the typed values (defaults
 * applied, secrets resolved) or NULL if there was any error.
 */
opt_values *options_apply(const sf_option *decl, const config_instance *inst, const char *file,
                          diag *d);
void options_free(opt_values *v);

/* Typed getters. A name that is not declared returns NULL / 0 / false. */
bool options_is_set(const opt_values *v, const char *name);
const char *options_string(const opt_values *v, const char *name);
int64_t options_int(const opt_values *v, const char *name);
double options_double(const opt_values *v, const char *name);
bool options_bool(const opt_values *v, const char *name);
int64_t options_duration_ms(const opt_values *v, const char *name);

/*
 * The i-th key (INI order) under the SF_OPT_PREFIX option `prefix` ("headers."): its value,
 * and in *suffix (may be NULL) the rest of its key ("Accept"). NULL past the last one.
 */
const char *options_prefixed(const opt_values *v, const char *prefix, size_t i,
                             const char **suffix);

/* Parse a boolean the way options do (true/false/yes/no/on/off/1/0): 0 ok, -1 bad. */
int options_parse_bool(const char *s, bool *out);
const char *options_type_name(sf_opt_type t);

/* Print the option table as a reference: name, type, default, flags, range, choices, help. */
void options_print(FILE *to, const sf_option *decl);

#endif
