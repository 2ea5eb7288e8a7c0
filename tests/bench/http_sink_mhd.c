/*
 * http_sink_mhd.c - the second baseline of `make bench` (tests/bench/bench_http.sh): a bare
 * libmicrohttpd server set up as sigflow's ingest listener is (core/ingest/ingest_http.c: one
 * daemon per core in external epoll mode on SO_REUSEPORT sockets, each driven by its own
 * thread with poll + MHD_run; the same connection memory, limit and timeout) that reads each
 * request's body and answers `202 {"accepted":1}` with one response built at start. No
 * journal, no JSON, no suspend: the gap between this sink and http_sink.c is what
 * libmicrohttpd costs; the gap between it and sigflow is sigflow's own work. Prints its port,
 * runs until killed. Benchmark tool only: not part of the daemon.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/cpus.h"

#define SINK_MAX_LOOPS 8
#define SINK_MAX_WAIT_MS 1000

static const char body[] = "{\"accepted\":1}";
static struct MHD_Response *reply;
static char marker; /* *con_cls once the headers are in */

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    if (!*con_cls) { /* headers: wait for the body */
        *con_cls = &marker;
        return MHD_YES;
    }
    if (*upload_data_size > 0) { /* a piece of the body: taken (and dropped) */
        *upload_data_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(c, MHD_HTTP_ACCEPTED, reply);
}

static void *loop_main(void *arg)
{
    struct MHD_Daemon *d = arg;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info) {
        fprintf(stderr, "http_sink_mhd: no epoll fd\n");
        exit(1);
    }
    for (;;) {
        MHD_UNSIGNED_LONG_LONG to = SINK_MAX_WAIT_MS;
        if (MHD_get_timeout(d, &to) != MHD_YES || to > SINK_MAX_WAIT_MS)
            to = SINK_MAX_WAIT_MS;
        struct pollfd p = {.fd = info->epoll_fd, .events = POLLIN};
        if (poll(&p, 1, (int)to) < 0 && errno != EINTR) {
            perror("http_sink_mhd: poll");
            exit(1);
        }
        if (MHD_run(d) != MHD_YES) {
            fprintf(stderr, "http_sink_mhd: MHD_run failed\n");
            exit(1);
        }
    }
    return NULL;
}

static struct MHD_Daemon *start(struct sockaddr_in *a)
{
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_access,
        NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)a, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned int)1, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)SIGFLOW_HTTP_TIMEOUT_S,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)SIGFLOW_MAX_HTTP_CONNECTIONS,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SIGFLOW_HTTP_CONNECTION_MEMORY, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "http_sink_mhd: cannot start libmicrohttpd\n");
        exit(1);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info && a->sin_port == 0)
        a->sin_port = htons(info->port); /* the others bind the port the first one got */
    return d;
}

int main(void)
{
    int loops = (int)cpus_usable(SINK_MAX_LOOPS); /* as sigflow's listener */
    reply = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!reply || MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE,
                                          "application/json") != MHD_YES) {
        fprintf(stderr, "http_sink_mhd: cannot build the answer\n");
        return 1;
    }
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    pthread_t t[SINK_MAX_LOOPS];
    for (int i = 0; i < loops; i++)
        if (pthread_create(&t[i], NULL, loop_main, start(&a)) != 0) {
            perror("http_sink_mhd: thread");
            return 1;
        }
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (int i = 0; i < loops; i++)
        pthread_join(t[i], NULL);
    return 0;
}
