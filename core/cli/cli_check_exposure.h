/*
 * cli_check_exposure.h - `sigflow check`'s warnings about listeners reachable beyond
 * loopback without authentication (docs/reliability.md, Delivery and hardening).
 * Owns nothing. Calls netaddr, options. Called by cli_check.c.
 */
#ifndef SIGFLOW_CLI_CHECK_EXPOSURE_H
#define SIGFLOW_CLI_CHECK_EXPOSURE_H

#include <stdbool.h>
#include <stddef.h>

#include "plugin/site.h"

/* True when every address `addr` (host:port) can stand for is a loopback address. */
bool exposure_is_loopback(const char *addr);

/*
 * Calls warn(ctx, message) once for the admin listener beyond loopback with no admin_token,
 * and once for each request connector (webhook) taking events on an ingest listener beyond
 * loopback with `signature = none` (or no `signature` option at all). Returns the count.
 */
size_t check_exposure(const site *s, void (*warn)(void *ctx, const char *msg), void *ctx);

#endif
