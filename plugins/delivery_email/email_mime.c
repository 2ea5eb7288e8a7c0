/*
 * email_mime.c - headers, RFC 2047 encoded-words, quoted-printable bodies, the boundary.
 */
#include "email_mime.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QP_LINE_MAX 76    /* RFC 2045 */
#define WORD_BYTES_MAX 45 /* raw bytes per encoded-word: 60 base64 chars, under 75 */

typedef struct mbuf {
    char *s;
    size_t len, cap;
    bool oom;
} mbuf;

static void add(mbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p, b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void puts_(mbuf *b, const char *s)
{
    add(b, s, strlen(s));
}

/* A header value on one line: CR, LF and other controls become spaces. */
static void header(mbuf *b, const char *name, const char *value)
{
    puts_(b, name);
    puts_(b, ": ");
    for (const char *p = value ? value : ""; *p; p++) {
        char c = (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p;
        add(b, &c, 1);
    }
    puts_(b, "\r\n");
}

static void base64(mbuf *b, const unsigned char *s, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? s[i + 2] : 0);
        char q[4] = {t[v >> 18 & 63], t[v >> 12 & 63], i + 1 < n ? t[v >> 6 & 63] : '=',
                     i + 2 < n ? t[v & 63] : '='};
        add(b, q, 4);
    }
}

static bool plain_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x7f || (unsigned char)*s < 0x20)
            return false;
    return strstr(s, "=?") == NULL;
}

/* Subject: as is when plain ASCII, else RFC 2047 B encoded-words of whole UTF-8 characters,
   folded one word per line. */
static void subject(mbuf *b, const char *s)
{
    if (plain_ascii(s)) {
        header(b, "Subject", s);
        return;
    }
    puts_(b, "Subject:");
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t take = n - i < WORD_BYTES_MAX ? n - i : WORD_BYTES_MAX;
        while (i + take < n && ((unsigned char)s[i + take] & 0xc0) == 0x80)
            take--; /* never split a character between words */
        puts_(b, i ? "\r\n =?UTF-8?B?" : " =?UTF-8?B?");
        base64(b, (const unsigned char *)s + i, take);
        puts_(b, "?=");
        i += take;
    }
    puts_(b, "\r\n");
}

/* Quoted-printable (RFC 2045) with CRLF line ends; a lone LF in the text is a line end. */
static void qp(mbuf *b, const char *s)
{
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\r')
            continue;
        if (*p == '\n') {
            puts_(b, "\r\n");
            col = 0;
            continue;
        }
        char enc[4];
        bool lit = (*p >= 33 && *p <= 126 && *p != '=') ||
                   (*p == ' ' && p[1] != '\n' && p[1] != '\r' && p[1] != '\0');
        size_t w = lit ? 1 : 3;
        if (col + w > QP_LINE_MAX - 1) {
            puts_(b, "=\r\n"); /* soft line break */
            col = 0;
        }
        if (lit) {
            add(b, (const char *)p, 1);
        } else {
            snprintf(enc, sizeof enc, "=%02X", *p);
            add(b, enc, 3);
        }
        col += w;
    }
    puts_(b, "\r\n");
}

static void date(mbuf *b, time_t t)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    char v[64];
    gmtime_r(&t, &tm);
    snprintf(v, sizeof v, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    header(b, "Date", v);
}

static void part(mbuf *b, const char *boundary, const char *type, const char *body)
{
    puts_(b, "--");
    puts_(b, boundary);
    puts_(b, "\r\nContent-Type: ");
    puts_(b, type);
    puts_(b, "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
    qp(b, body);
}

char *email_mime_build(const email_parts *p)
{
    mbuf b = {0};
    char id[600], boundary[128];
    snprintf(id, sizeof id, "<%s>", p->message_id);
    /* the boundary never occurs in QP output: '=' would be encoded, '_' stays literal */
    snprintf(boundary, sizeof boundary, "=_sigflow_%.60s", p->message_id);
    for (char *c = boundary; *c; c++)
        if (*c == '@' || *c == '<' || *c == '>' || *c == '"')
            *c = '_';
    header(&b, "From", p->from);
    header(&b, "To", p->to);
    subject(&b, p->subject);
    date(&b, p->date);
    header(&b, "Message-ID", id);
    header(&b, "MIME-Version", "1.0");
    puts_(&b, "Content-Type: multipart/alternative; boundary=\"");
    puts_(&b, boundary);
    puts_(&b, "\"\r\n\r\n");
    part(&b, boundary, "text/plain", p->text);
    part(&b, boundary, "text/html", p->html);
    puts_(&b, "--");
    puts_(&b, boundary);
    puts_(&b, "--\r\n");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

int email_address(const char *text, char *out, size_t len)
{
    const char *lt = strrchr(text, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    const char *s = lt && gt ? lt + 1 : text;
    size_t n = lt && gt ? (size_t)(gt - s) : strlen(s);
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= len || !memchr(s, '@', n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || strchr("<>,;\"()\\", s[i]) || s[i] == 0x7f)
            return 0;
    memcpy(out, s, n);
    out[n] = '\0';
    return 1;
}
