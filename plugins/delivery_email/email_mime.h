/*
 * email_mime.h - an RFC 5322 message for one alert or digest: From, To, Subject (RFC 2047
 * encoded when not plain ASCII), Date, Message-ID <alert-id@domain> (so a resend is the same
 * message to every mail client), MIME-Version, and a multipart/alternative body with a
 * text/plain and a text/html part, both quoted-printable UTF-8. Header values are kept
 * on one line (CR and LF become spaces: no header injection).
 * Owns: the text it returns. Calls libc only. Used by email.c.
 */
#ifndef EMAIL_MIME_H
#define EMAIL_MIME_H

#include <stddef.h>
#include <time.h>

typedef struct email_parts {
    const char *from, *to, *subject;
    const char *message_id; /* without <>: "alert-id@domain" */
    const char *text, *html;
    time_t date;
} email_parts;

/* The whole message with CRLF line ends (malloc'd), or NULL when out of memory. */
char *email_mime_build(const email_parts *p);
/* The address inside "Name <addr>" or the text itself, into out; false when none fits. */
int email_address(const char *text, char *out, size_t len);

#endif
