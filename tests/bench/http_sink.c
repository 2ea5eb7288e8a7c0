/*
 * http_sink.c - the loopback ceiling for `make bench` (tests/bench/bench_http.sh): a bare
 * HTTP/1.1 server that reads each request (headers, then Content-Length bytes of body) and
 * answers `202 {"accepted":1}` with keep-alive, nothing else. One epoll loop per core on
 * SO_REUSEPORT sockets, as sigflow's ingest listener. Prints its port, runs until killed.
 * With `--log FILE` (the alert receiver of tests/bench/bench_run.py) each request but a
 * POST /_control also appends {"time": <unix seconds>} to FILE, opened per request so that a
 * file removed between runs starts again.
 * With `--flush FILE` it is the durable sink, the floor of a durable answer: no request is
 * answered before a flush. Each loop pass (one epoll_wait's ready connections) reads its
 * requests, writes one WAL frame (a 24-byte header and a 4 KiB page, one pwrite) over FILE
 * and fdatasyncs it, then answers every request of the pass: the simplest group commit, one
 * flush for all the requests that arrived together, with no database and no threads. What
 * it makes at `durability = fsync`'s concurrencies is what this machine's disk and loopback
 * allow a server that flushes before it answers (docs/performance.md, "HTTP ingest").
 * Benchmark tool only: not part of the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/cpus.h"

#define SINK_BUF (256 * 1024)
#define SINK_MAX_LOOPS 8

static const char reply[] = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                            "Content-Length: 14\r\n\r\n{\"accepted\":1}";

typedef struct conn {
    int fd;
    size_t len;  /* bytes buffered */
    size_t need; /* bytes of the current request (headers + body) once known, else 0 */
    size_t owed; /* --flush: requests read in this pass, answered after its flush */
    char buf[SINK_BUF];
} conn;

static int port;
static const char *log_path; /* --log: one line per request received */
static int flush_fd = -1;    /* --flush: the file each pass writes a frame to and flushes */

#define FLUSH_FRAME (24 + 4096) /* a WAL frame as SQLite writes it: header + page */
#define FLUSH_FRAMES 1000       /* written over again from the start, as a WAL is */

/* --flush: FILE written once and flushed, so that the frames write over blocks on disk (as
 * SQLite writes its WAL again after each checkpoint) and a flush carries no size change. */
static void flush_open(const char *path)
{
    static char zero[FLUSH_FRAME];
    flush_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    for (int i = 0; flush_fd >= 0 && i < FLUSH_FRAMES; i++)
        if (write(flush_fd, zero, sizeof zero) != (ssize_t)sizeof zero) {
            close(flush_fd);
            flush_fd = -1;
        }
    if (flush_fd < 0 || fsync(flush_fd) != 0) {
        perror("http_sink: --flush");
        exit(1);
    }
}

/* One frame written and flushed for a pass's requests (each loop has its own frame slot
 * sequence; the frames' bytes do not matter, their flush does). */
static void flush_frame(unsigned *next)
{
    static const char frame[FLUSH_FRAME];
    off_t at = (off_t)(*next % FLUSH_FRAMES) * FLUSH_FRAME;
    (*next)++;
    if (pwrite(flush_fd, frame, sizeof frame, at) != (ssize_t)sizeof frame ||
        fdatasync(flush_fd) != 0) {
        perror("http_sink: flush");
        exit(1);
    }
}

/* {"time": now} appended to log_path for the request at the start of buf. */
static void log_request(const char *buf, size_t len)
{
    static const char control[] = "POST /_control ";
    if (!log_path || (len >= sizeof control - 1 && memcmp(buf, control, sizeof control - 1) == 0))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char line[64];
    int n = snprintf(line, sizeof line, "{\"time\": %lld.%06ld}\n", (long long)ts.tv_sec,
                     ts.tv_nsec / 1000);
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, line, (size_t)n) != n)
        perror("http_sink: log");
    if (fd >= 0)
        close(fd);
}

static int listen_on(int p)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1024) != 0) {
        perror("http_sink: listen");
        exit(1);
    }
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("http_sink: getsockname");
        exit(1);
    }
    port = ntohs(a.sin_port);
    return fd;
}

/* Length of the request at the start of c->buf once its headers are in; 0 if not yet. */
static size_t request_size(const conn *c)
{
    const char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t head = (size_t)(end - c->buf) + 4, body = 0;
    for (const char *p = c->buf; p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
        if (*p == '\n')
            p++;
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            body = strtoul(p + 15, NULL, 10);
    }
    return head + body;
}

/* Read what is there; answer every complete request (--flush: count it in c->owed). -1: close. */
static int serve(conn *c)
{
    for (;;) {
        if (c->len == sizeof c->buf && c->need == 0)
            return -1; /* headers larger than the buffer */
        ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (n == 0)
            return -1;
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->len += (size_t)n;
        for (;;) {
            if (!c->need && !(c->need = request_size(c)))
                break;
            if (c->need > sizeof c->buf && c->len == sizeof c->buf) { /* big body: skip it */
                c->need -= c->len;
                c->len = 0;
                continue;
            }
            if (c->len < c->need)
                break;
            log_request(c->buf, c->len);
            if (flush_fd >= 0)
                c->owed++;
            else if (write(c->fd, reply, sizeof reply - 1) != (ssize_t)(sizeof reply - 1))
                return -1;
            memmove(c->buf, c->buf + c->need, c->len - c->need);
            c->len -= c->need;
            c->need = 0;
        }
    }
}

static void *loop_main(void *arg)
{
    int lfd = listen_on(port), ep = epoll_create1(0);
    (void)arg;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
        perror("http_sink: epoll");
        exit(1);
    }
    struct epoll_event evs[64];
    conn *owing[64];
    unsigned frames = 0;
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1), nowing = 0;
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                int one = 1;
                if (fd < 0)
                    continue;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                conn *nc = calloc(1, sizeof *nc);
                if (!nc) {
                    close(fd);
                    continue;
                }
                nc->fd = fd;
                struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
                if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) != 0) {
                    close(fd);
                    free(nc);
                }
                continue;
            }
            if (serve(c) < 0) {
                close(c->fd); /* what it sent in this pass is not answered: no flush owed */
                free(c);
            } else if (c->owed) {
                owing[nowing++] = c;
            }
        }
        if (nowing == 0)
            continue;
        flush_frame(&frames);
        for (int i = 0; i < nowing; i++) {
            conn *c = owing[i];
            for (; c->owed > 0; c->owed--) /* a pipelining sender may be owed several */
                if (write(c->fd, reply, sizeof reply - 1) != (ssize_t)(sizeof reply - 1))
                    break; /* its next read sees the closed connection */
            c->owed = 0;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--log") == 0) {
        log_path = argv[2];
    } else if (argc == 3 && strcmp(argv[1], "--flush") == 0) {
        flush_open(argv[2]);
    } else if (argc != 1) {
        fprintf(stderr, "usage: http_sink [--log FILE | --flush FILE]\n");
        return 2;
    }
    int loops = (int)cpus_usable(SINK_MAX_LOOPS); /* as sigflow's listener */
    close(listen_on(0)); /* pick the port; every loop binds it with SO_REUSEPORT */
    pthread_t t[SINK_MAX_LOOPS];
    for (int i = 0; i < loops; i++)
        if (pthread_create(&t[i], NULL, loop_main, NULL) != 0) {
            perror("http_sink: thread");
            return 1;
        }
    usleep(100000);
    printf("%d\n", port);
    fflush(stdout);
    for (int i = 0; i < loops; i++)
        pthread_join(t[i], NULL);
    return 0;
}
