/*
 * notify.c - sd_notify by hand (see notify.h): one AF_UNIX datagram per state change to the
 * socket systemd names in NOTIFY_SOCKET (a path, or "@name" for the abstract namespace).
 * Nothing is sent, and nothing fails, when the variable is absent: `sigflow run` from a
 * shell is unchanged. A send that fails is logged once and never stops the daemon.
 */
#include "daemon/notify.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/limits.h"

#define NOTIFY_CTX "component=notify"

static struct sockaddr_un g_addr;
static socklen_t g_addr_len; /* 0: no NOTIFY_SOCKET, nothing is sent */
static int64_t g_watchdog_ms, g_watchdog_last_ms;
static bool g_warned;

static void init_socket(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return;
    size_t n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n > SIGFLOW_MAX_NOTIFY_SOCKET_LEN ||
        n >= sizeof g_addr.sun_path) {
        log_warn(NOTIFY_CTX,
                 "NOTIFY_SOCKET ignored: not an absolute path or @name of at most %d "
                 "bytes",
                 SIGFLOW_MAX_NOTIFY_SOCKET_LEN);
        return;
    }
    memset(&g_addr, 0, sizeof g_addr);
    g_addr.sun_family = AF_UNIX;
    memcpy(g_addr.sun_path, path, n);
    if (path[0] == '@')
        g_addr.sun_path[0] = '\0'; /* abstract: no NUL at the end, the length says where */
    g_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
}

/* WATCHDOG_USEC applies to us when WATCHDOG_PID is absent or is our pid. */
static void init_watchdog(void)
{
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    if (!usec || !g_addr_len)
        return;
    char *end;
    errno = 0;
    unsigned long long us = strtoull(usec, &end, 10);
    if (errno || *end || end == usec || us == 0 || us > 86400ULL * 1000000)
        return;
    if (pid) {
        long p = strtol(pid, &end, 10);
        if (*end || p != (long)getpid())
            return;
    }
    g_watchdog_ms = (int64_t)(us / 1000) / 2;
    if (g_watchdog_ms < 1)
        g_watchdog_ms = 1;
}

void notify_init(void)
{
    g_addr_len = 0;
    g_watchdog_ms = 0;
    g_warned = false;
    init_socket();
    init_watchdog();
}

int notify_send(const char *state)
{
    if (!g_addr_len)
        return 0;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    ssize_t n =
        sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&g_addr, g_addr_len);
    if (close(fd) != 0 || n != (ssize_t)strlen(state))
        goto fail;
    return 0;
fail:
    if (!g_warned)
        log_warn(NOTIFY_CTX, "cannot tell the service manager (NOTIFY_SOCKET): %s",
                 strerror(errno));
    g_warned = true;
    return -1;
}

void notify_ready(void)
{
    (void)notify_send("READY=1\nSTATUS=running");
}

void notify_reloading(void)
{
    struct timespec ts;
    char state[SIGFLOW_MAX_NOTIFY_STATE];
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        ts.tv_sec = ts.tv_nsec = 0;
    snprintf(state, sizeof state, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    (void)notify_send(state);
}

void notify_stopping(void)
{
    (void)notify_send("STOPPING=1\nSTATUS=draining and stopping");
}

void notify_watchdog_tick(int64_t now_ms)
{
    if (!g_watchdog_ms || now_ms - g_watchdog_last_ms < g_watchdog_ms)
        return;
    g_watchdog_last_ms = now_ms;
    (void)notify_send("WATCHDOG=1");
}
