#include "plugin/host_message.h"

#include <stdio.h>
#include <string.h>

#include "deliver/message.h"
#include "deliver/template.h"
#include "model/alert.h"

#define LAZY_MAX 8 /* alerts one callback reads without a worker-built message */

static __thread message *tl_lazy[LAZY_MAX];
static __thread size_t tl_n_lazy;

void host_msg_release(void)
{
    for (size_t i = 0; i < tl_n_lazy; i++)
        message_free(tl_lazy[i]);
    tl_n_lazy = 0;
}

/* The alert's message, or NULL only when out of memory or too many alerts at once. */
static const message *msg_of(const sf_alert *a)
{
    if (!a)
        return NULL;
    if (a->msg)
        return a->msg;
    for (size_t i = 0; i < tl_n_lazy; i++)
        if (tl_lazy[i]->alert == a)
            return tl_lazy[i];
    if (tl_n_lazy == LAZY_MAX)
        return NULL;
    message *m = message_new(a, NULL);
    if (m)
        tl_lazy[tl_n_lazy++] = m;
    return m;
}

const char *host_msg_title(const sf_alert *a)
{
    const message *m = msg_of(a);
    return m ? m->title : NULL;
}

size_t host_msg_reason_count(const sf_alert *a)
{
    const message *m = msg_of(a);
    return m ? m->n_reasons : 0;
}

static const msg_reason *reason_at(const sf_alert *a, size_t i)
{
    const message *m = msg_of(a);
    return m && i < m->n_reasons ? &m->reasons[i] : NULL;
}

const char *host_msg_reason_signal(const sf_alert *a, size_t i)
{
    const msg_reason *r = reason_at(a, i);
    return r ? r->signal : NULL;
}

const char *host_msg_reason_text(const sf_alert *a, size_t i)
{
    const msg_reason *r = reason_at(a, i);
    return r ? r->text : NULL;
}

double host_msg_reason_contribution(const sf_alert *a, size_t i)
{
    const msg_reason *r = reason_at(a, i);
    return r ? message_round2(r->contribution) : 0;
}

size_t host_msg_attr_count(const sf_alert *a)
{
    const message *m = msg_of(a);
    return m ? m->n_attrs : 0;
}

const char *host_msg_attr_name(const sf_alert *a, size_t i)
{
    const message *m = msg_of(a);
    return m && i < m->n_attrs ? m->attrs[i].name : NULL;
}

const char *host_msg_attr_value(const sf_alert *a, size_t i)
{
    const message *m = msg_of(a);
    return m && i < m->n_attrs ? m->attrs[i].value : NULL;
}

size_t host_msg_link_count(const sf_alert *a)
{
    const message *m = msg_of(a);
    return m ? m->n_links : 0;
}

const char *host_msg_link_name(const sf_alert *a, size_t i)
{
    const message *m = msg_of(a);
    return m && i < m->n_links ? m->links[i].name : NULL;
}

const char *host_msg_link_url(const sf_alert *a, size_t i)
{
    const message *m = msg_of(a);
    return m && i < m->n_links ? m->links[i].value : NULL;
}

const char *host_msg_feedback_url(const sf_alert *a, const char *label)
{
    const message *m = msg_of(a);
    if (!m || !label)
        return NULL;
    if (strcmp(label, "confirmed") == 0)
        return m->fb_confirm;
    return strcmp(label, "false_positive") == 0 ? m->fb_false_positive : NULL;
}

const char *host_msg_json(const sf_alert *a)
{
    message *m = (message *)msg_of(a); /* the JSON is cached in the message */
    return m ? message_json(m) : NULL;
}

size_t host_msg_item_count(const sf_alert *a)
{
    const message *m = msg_of(a);
    return m ? m->n_items : 0;
}

const sf_alert *host_msg_item(const sf_alert *a, size_t i)
{
    const message *m = msg_of(a);
    return m && i < m->n_items ? m->items[i]->alert : NULL;
}

char *host_msg_render(const sf_alert *a, const char *text, sf_escape esc, char *err, size_t errlen)
{
    if ((unsigned)esc > SF_ESCAPE_JSON) {
        snprintf(err, errlen, "unknown escaping %d", (int)esc);
        return NULL;
    }
    /* Without a worker-built message, a temporary one: render may be called outside deliver. */
    message *own = a && !a->msg ? message_new(a, NULL) : NULL;
    const message *m = own ? own : a ? a->msg : NULL;
    char *out = NULL;
    if (!m)
        snprintf(err, errlen, "no message for the alert (out of memory)");
    else
        out = tmpl_render_text(text, m, (tmpl_escape)esc, err, errlen);
    message_free(own);
    return out;
}

sf_status host_template_check(const char *text, char *err, size_t errlen)
{
    tmpl *t = tmpl_compile(text, err, errlen);
    tmpl_free(t);
    return t ? SF_OK : SF_EINVAL;
}
