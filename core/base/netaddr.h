/*
 * netaddr.h - "host:port" / "[v6]:port" listen addresses to socket addresses, for the two
 * HTTP listeners (ingest and admin). Pure function over getaddrinfo.
 */
#ifndef SIGFLOW_NETADDR_H
#define SIGFLOW_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* 0 with ss and sslen filled, or -1 with the reason in err. Port 0: any free port. */
int netaddr_parse(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
                  size_t errlen);

#endif
