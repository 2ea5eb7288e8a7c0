/*
 * cli_check_exposure.c - which listeners a config opens beyond loopback without
 * authentication, for `sigflow check` (docs/reliability.md, Delivery and hardening): the
 * admin listener with no admin_token, a webhook connector with no signature on an ingest
 * listener that is not loopback. Both default to loopback; these warn about an operator's
 * change, they do not refuse it (a TLS proxy with its own authentication may stand in front).
 * Owns nothing. Calls getaddrinfo, options. Called by cli_check.c.
 */
#include "cli/cli_check_exposure.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "base/netaddr.h"
#include "plugin/options.h"

static bool addr_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

bool exposure_is_loopback(const char *addr)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    char err[256];
    if (!addr || netaddr_parse(addr, &ss, &len, err, sizeof err) != 0)
        return true; /* an address that does not parse is reported by the config check */
    return addr_is_loopback(&ss);
}

/* A request connector that authenticates nothing: signature = none, or no such option. */
static bool unsigned_request_connector(const site_instance *si)
{
    if (!si->plugin || !si->plugin->desc.request || !si->opts)
        return false;
    bool declared = false;
    for (const sf_option *o = si->plugin->desc.options; o && o->name; o++)
        declared |= strcmp(o->name, "signature") == 0;
    const char *sig = declared ? options_string(si->opts, "signature") : NULL;
    return !sig || strcmp(sig, "none") == 0;
}

size_t check_exposure(const site *s, void (*warn)(void *ctx, const char *msg), void *ctx)
{
    const sigflow_config *cfg = s->cfg;
    char msg[1024];
    size_t n = 0;
    if (!exposure_is_loopback(cfg->admin) && !cfg->admin_token) {
        snprintf(msg, sizeof msg,
                 "%s: warning: admin = %s listens beyond loopback with no admin_token: "
                 "/metrics and /readyz are open to anyone who can reach it and the /v1 API is "
                 "off; set admin_token = env:NAME, or admin = 127.0.0.1:PORT behind a proxy",
                 cfg->path, cfg->admin);
        warn(ctx, msg);
        n++;
    }
    if (exposure_is_loopback(cfg->ingest))
        return n;
    for (size_t i = 0; i < s->n_inst; i++) {
        const site_instance *si = &s->inst[i];
        if (!unsigned_request_connector(si))
            continue;
        snprintf(msg, sizeof msg,
                 "%s:%d: warning: [connector %s] takes events on ingest = %s, beyond loopback, "
                 "with no signature: anyone who can reach it can inject events; set signature "
                 "= sigflow|stripe|hmac-sha256 with a secret (docs/connector-webhook.md)",
                 cfg->path, si->cfg->line, si->cfg->name, cfg->ingest);
        warn(ctx, msg);
        n++;
    }
    return n;
}
