#include "base/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int g_level = SF_LOG_INFO;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(sf_log_level level)
{
    atomic_store(&g_level, (int)level);
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
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    pthread_mutex_lock(&g_lock);
    fprintf(stderr, "ts=%s.%03ldZ level=%s ", when, ts.tv_nsec / 1000000, level_names[level]);
    if (ctx && *ctx)
        fprintf(stderr, "%s ", ctx);
    fputs("msg=", stderr);
    write_quoted(stderr, msg);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&g_lock);
}

void log_msg(sf_log_level level, const char *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, ctx, fmt, ap);
    va_end(ap);
}
