/*
 * config_internal.h - private to the config module: the state of one config_load, shared by
 * config.c (INI mechanics: lines, sections), config_sections.c (what the keys of [sigflow],
 * [decision] and [signal] mean), config_guards.c, config_learn.c and their leaf, config_values.c
 * (typed values, names, arrays). Calls point one way: config -> sections -> guards, learn ->
 * values. Nothing outside core/config/ includes it.
 */
#ifndef SIGFLOW_CONFIG_LOADER_H
#define SIGFLOW_CONFIG_LOADER_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"
#include "base/limits.h"

typedef enum sec_kind {
    SEC_NONE,
    SEC_BAD,
    SEC_SIGFLOW,
    SEC_DECISION,
    SEC_SIGNAL,
    SEC_CONNECTOR,
    SEC_DELIVERY
} sec_kind;

typedef struct config_loader {
    const char *path;
    diag *d;
    size_t errs_before;
    sigflow_config *cfg;
    FILE *f;
    int lineno;
    char buf[SIGFLOW_MAX_CONFIG_LINE + 2];
    sec_kind kind;
    int sec_line;
    size_t sec_index; /* current signal / connector / delivery */
    config_kv *raw;   /* keys of the current [sigflow]/[decision]/[signal], until it closes */
    size_t n_raw, cap_raw;
    int sigflow_line;
    int decision_line;
    int deliver_line;
} config_loader;

#define CFG_ERR(ld, line, ...) diag_add((ld)->d, (ld)->path, (line), __VA_ARGS__)

bool config__push(void **arr, size_t *n, size_t *cap, size_t elem);
bool config__name_ok(const char *s);
/* The key `key` of the current typed section, or NULL. */
const config_kv *config__raw_get(const config_loader *ld, const char *key);
/* Validate the keys of the section that just closed into ld->cfg. */
void config__apply_sigflow(config_loader *ld);
void config__apply_decision(config_loader *ld);
void config__apply_signal(config_loader *ld);
/* config_guards.c: the noise-guard keys of [signal] and [sigflow], health_deliver's targets. */
void config__apply_signal_guards(config_loader *ld, config_signal *sig);
void config__apply_sigflow_guards(config_loader *ld);
void config__check_health_deliver(config_loader *ld);

/* Typed values of the current section (config_values.c): each adds a FILE:LINE error and
   returns false when the value is bad. */
bool config__number(config_loader *ld, const config_kv *kv, double *out);
bool config__integer(config_loader *ld, const config_kv *kv, long long min, long long max,
                     long long *out);
bool config__duration(config_loader *ld, const config_kv *kv, bool positive, int64_t *out);
bool config__choice(config_loader *ld, const config_kv *kv, const char *const *choices, size_t n,
                    int *out);
bool config__string(config_loader *ld, const config_kv *kv, size_t max, char **out);
void config__check_known(config_loader *ld, const char *what, const char *const *known, size_t n);

/* [decision] keys of outcomes and learning (config_learn.c). */
#define CONFIG_LEARN_KEYS                                                                          \
    "outcome", "horizon", "learning", "refit", "prior", "fit_sample", "fit_horizon",               \
        "target_precision", "auto_window"
#define CONFIG_AUTO_THRESHOLD_START 0.5
void config__apply_learning(config_loader *ld);
/* Whole-file checks of learning: no signal reads the outcome event. */
void config__check_learning(config_loader *ld);

#endif
