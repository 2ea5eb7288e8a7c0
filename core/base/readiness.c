/*
 * readiness.c - the reasons /readyz gives (see readiness.h). A short list under one lock:
 * there are as many entries as instances in trouble, so a linear search is enough.
 * Owns the list. Calls strbuf, json_quote. Used by host.c and admin_http.c.
 */
#include "base/readiness.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_quote.h"
#include "base/limits.h"

typedef struct reason {
    char *instance, *plugin, *text;
    bool component; /* the daemon's own part: instance holds its name, plugin is "" */
} reason;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static reason *list;
static size_t n_list, cap_list;

static void reason_free(reason *r)
{
    free(r->instance);
    free(r->plugin);
    free(r->text);
}

static long find_kind(const char *instance, bool component)
{
    for (size_t i = 0; i < n_list; i++)
        if (list[i].component == component && strcmp(list[i].instance, instance) == 0)
            return (long)i;
    return -1;
}

static long find(const char *instance)
{
    return find_kind(instance, false);
}

static void drop_at(long i)
{
    reason_free(&list[i]);
    list[i] = list[--n_list];
}

/* A copy cut to SIGFLOW_MAX_READY_REASON_LEN bytes (whole UTF-8 characters). */
static char *bounded_copy(const char *s)
{
    size_t n = strlen(s);
    if (n > SIGFLOW_MAX_READY_REASON_LEN) {
        n = SIGFLOW_MAX_READY_REASON_LEN;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* Replace the entry (instance, component) with r; r's strings are taken or freed. */
static void put_reason(reason r)
{
    pthread_mutex_lock(&lock);
    long i = find_kind(r.instance, r.component);
    if (i >= 0)
        drop_at(i);
    if (n_list == cap_list) {
        size_t cap = cap_list ? cap_list * 2 : 8;
        reason *l = realloc(list, cap * sizeof *l);
        if (l) {
            list = l;
            cap_list = cap;
        }
    }
    if (r.instance && r.plugin && r.text && n_list < cap_list) {
        list[n_list++] = r;
        r = (reason){0};
    }
    pthread_mutex_unlock(&lock);
    reason_free(&r); /* not taken: out of memory (the instance then reads as ready) */
}

void readiness_set(const char *instance, const char *plugin, const char *reason_text)
{
    if (!instance)
        return;
    if (!reason_text) {
        readiness_clear(instance);
        return;
    }
    put_reason(
        (reason){strdup(instance), strdup(plugin ? plugin : ""), bounded_copy(reason_text), false});
}

int readiness_set_component(const char *component, const char *reason_text)
{
    if (!component)
        return 0;
    pthread_mutex_lock(&lock);
    long i = find_kind(component, true);
    bool had = i >= 0;
    if (had && !reason_text)
        drop_at(i);
    pthread_mutex_unlock(&lock);
    if (reason_text)
        put_reason((reason){strdup(component), strdup(""), bounded_copy(reason_text), true});
    return had != (reason_text != NULL);
}

void readiness_clear(const char *instance)
{
    if (!instance)
        return;
    pthread_mutex_lock(&lock);
    long i = find(instance);
    if (i >= 0)
        drop_at(i);
    pthread_mutex_unlock(&lock);
}

size_t readiness_count(void)
{
    pthread_mutex_lock(&lock);
    size_t n = n_list;
    pthread_mutex_unlock(&lock);
    return n;
}

static void put(void *sink, const char *s, size_t n)
{
    strbuf_add(sink, s, n);
}

void readiness_json(strbuf *b)
{
    static const char *const keys[] = {"{\"instance\":", ",\"plugin\":", ",\"reason\":"};
    strbuf_puts(b, "{\"status\":\"not ready\",\"reasons\":[");
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_list; i++) {
        const char *v[] = {list[i].instance, list[i].plugin, list[i].text};
        if (i)
            strbuf_puts(b, ",");
        for (size_t k = 0; k < 3; k++) {
            if (list[i].component && k == 1)
                continue; /* a component has no plugin */
            strbuf_puts(b, list[i].component && k == 0 ? "{\"component\":" : keys[k]);
            json_quote(put, b, v[k], strlen(v[k]));
        }
        strbuf_puts(b, "}");
    }
    pthread_mutex_unlock(&lock);
    strbuf_puts(b, "]}\n");
}
