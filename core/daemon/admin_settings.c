/*
 * admin_settings.c - what the admin API knows of the config (admin_settings): taken from a
 * config, copied for a request (secrets included, wiped when cleared). Used by every admin
 * API file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/admin_api_internal.h"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void secret_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void admin__settings_clear(admin_settings *s)
{
    secret_free(s->admin_token);
    secret_free(s->feedback_secret);
    free(s->public_url);
    memset(s, 0, sizeof *s);
}

void admin__settings_from(admin_settings *s, const sigflow_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->admin_token = dup_or_null(cfg->admin_token);
    s->feedback_secret = dup_or_null(cfg->feedback_secret);
    s->public_url = dup_or_null(cfg->public_url);
    if (cfg->has_decision) {
        snprintf(s->decision, sizeof s->decision, "%s", cfg->decision.name);
        s->bias = cfg->decision.bias;
        s->threshold = cfg->decision.threshold;
    }
    for (size_t i = 0; i < cfg->n_signals && i < SIGFLOW_MAX_SIGNALS; i++) {
        snprintf(s->signals[i].name, sizeof s->signals[i].name, "%s", cfg->signals[i].name);
        s->signals[i].weight = cfg->signals[i].weight;
        s->n_signals = i + 1;
    }
}

void admin__settings_copy(admin_api *a, admin_settings *out)
{
    pthread_mutex_lock(&a->lock);
    *out = a->set;
    out->admin_token = dup_or_null(a->set.admin_token);
    out->feedback_secret = dup_or_null(a->set.feedback_secret);
    out->public_url = dup_or_null(a->set.public_url);
    pthread_mutex_unlock(&a->lock);
}
