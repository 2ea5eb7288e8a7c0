/*
 * cli_admin.h - one request from a CLI command to the running daemon's admin API
 * ([sigflow] admin, `Authorization: Bearer admin_token`; docs/admin-api.md). A wildcard listen
 * address is reached on loopback. Owns nothing. Calls libcurl. Used by cli_feedback.c
 * (POST /v1/feedback) and cli_model.c (GET /v1/model).
 */
#ifndef SIGFLOW_CLI_ADMIN_H
#define SIGFLOW_CLI_ADMIN_H

#include <stddef.h>

#include "config/config.h"

/* http://ADMIN + path (path starts with '/'). */
void cli_admin_url(const char *admin, const char *path, char *out, size_t cap);

/*
 * GET (body NULL) or POST (a JSON body) path. 0 when the daemon answered: *status and
 * *answer (malloc'd, NUL-terminated, may be empty). -1 when no answer came within timeout_s:
 * err says why (the URL, curl's reason). The token is never in err.
 */
int cli_admin_request(const sigflow_config *cfg, const char *path, const char *body, long timeout_s,
                      long *status, char **answer, char *err, size_t errlen);

#endif
