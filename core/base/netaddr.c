#include "base/netaddr.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int netaddr_parse(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
                  size_t errlen)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    const char *start = addr, *end = colon;
    if (addr[0] == '[') {
        start = addr + 1;
        end = strchr(addr, ']');
        if (!end || end[1] != ':') {
            snprintf(err, errlen, "listen address %s: expected [ipv6]:port", addr);
            return -1;
        }
        colon = end + 1;
    }
    if (!colon || colon == addr || (size_t)(end - start) >= sizeof host) {
        snprintf(err, errlen, "listen address %s: expected host:port", addr);
        return -1;
    }
    char *pend;
    errno = 0;
    long port = strtol(colon + 1, &pend, 10);
    if (colon[1] == '\0' || *pend != '\0' || errno || port < 0 || port > 65535) {
        snprintf(err, errlen, "listen address %s: port must be 0-65535", addr);
        return -1;
    }
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%ld", port);
    int rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0 || !ai) {
        snprintf(err, errlen, "listen address %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *sslen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}
