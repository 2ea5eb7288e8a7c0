#include "base/log.h"
#include "base/log_json.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Atomic int g_level = SF_LOG_INFO;
static _Atomic int g_style = LOG_STYLE_LOGFMT;
static _Atomic int g_style_pinned =
    0; /* set from the command line: the config does not change it */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(sf_log_level level)
{
    atomic_store(&g_level, (int)level);
}

void log_set_style(log_style style, int from_cli)
{
    if (from_cli)
        atomic_store(&g_style_pinned, 1);
    else if (atomic_load(&g_style_pinned))
        return;
    atomic_store(&g_style, (int)style);
}

int log_style_parse(const char *s)
{
    if (s && strcmp(s, "logfmt") == 0)
        return LOG_STYLE_LOGFMT;
    if (s && strcmp(s, "json") == 0)
        return LOG_STYLE_JSON;
    return -1;
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

/* The one logfmt escaping: c as it is written inside a quoted value (0 bytes: as it is). */
static size_t logfmt_escape(unsigned char c, char out[5])
{
    if (c == '"' || c == '\\') {
        out[0] = '\\';
        out[1] = (char)c;
        return 2;
    }
    if (c == '\n') {
        memcpy(out, "\\n", 2);
        return 2;
    }
    if (c < 0x20 || c == 0x7f) {
        snprintf(out, 5, "\\x%02x", c);
        return 4;
    }
    return 0;
}

static void write_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[5];
        size_t n = logfmt_escape(*p, esc);
        if (n)
            fwrite(esc, 1, n, f);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static bool logfmt_bare(const char *val)
{
    if (!*val)
        return false;
    for (const unsigned char *p = (const unsigned char *)val; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return false;
    return true;
}

void log_format_kv(char *out, size_t outlen, const char *key, const char *val)
{
    if (outlen == 0)
        return;
    bool bare = logfmt_bare(val);
    size_t o = (size_t)snprintf(out, outlen, "%s=%s", key, bare ? val : "\"");
    if (bare || o >= outlen)
        return;
    for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
        char esc[5];
        size_t n = logfmt_escape(*p, esc);
        if (!n) {
            esc[0] = (char)*p;
            n = 1;
        }
        if (o + n + 2 > outlen)
            break;
        memcpy(out + o, esc, n);
        o += n;
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* One whole line, its newline included, in the format of the moment. */
static void put_line(FILE *f, const char *stamp, sf_log_level level, const char *ctx,
                     const char *msg)
{
    if (atomic_load(&g_style) == LOG_STYLE_JSON) {
        log_json_line(f, stamp, level_names[level], ctx, msg);
        return;
    }
    fprintf(f, "time=%s level=%s ", stamp, level_names[level]);
    if (ctx && *ctx)
        fprintf(f, "%s ", ctx);
    fputs("msg=", f);
    write_quoted(f, msg);
    fputc('\n', f);
}

void log_vmsg(sf_log_level level, const char *ctx, const char *fmt, va_list ap)
{
    if ((int)level > atomic_load(&g_level) || (int)level < 0 || level > SF_LOG_DEBUG)
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32], stamp[64];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp, sizeof stamp, "%s.%03ldZ", when, ts.tv_nsec / 1000000);

    /* The line is put together in memory and written with one write(2): stderr has no
       buffer, so each fputc of it was a system call of its own (`write` and `fputc` were
       4.7% of `sigflow run`'s CPU with its 2,012 alerts, `perf`, 2026-12-03), and another
       process writing to the same pipe or journal could land inside a line. Out of memory:
       written piecewise as before. */
    char *line = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&line, &len);
    if (mem) {
        put_line(mem, stamp, level, ctx, msg);
        if (fclose(mem) != 0) {
            free(line);
            line = NULL;
        }
    }
    pthread_mutex_lock(&g_lock);
    if (line)
        fwrite(line, 1, len, stderr);
    else
        put_line(stderr, stamp, level, ctx, msg);
    fflush(stderr);
    pthread_mutex_unlock(&g_lock);
    free(line);
}

void log_msg(sf_log_level level, const char *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, ctx, fmt, ap);
    va_end(ap);
}
