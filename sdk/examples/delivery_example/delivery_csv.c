/*
 * delivery_csv.c - an example sigflow delivery plugin, built out of tree against the installed
 * SDK: appends one CSV row per alert (time, alert id, decision, entity, score, top reason and
 * optionally one entity attribute) to a file a spreadsheet or a BI tool can read.
 * Calls only the host table and libc. Loaded by sigflow from plugin_dir as `plugin = csv`.
 */
#include <sigflow.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The host table, handed to init; it lives as long as the process. */
static const sf_host *host;

typedef struct csv_out {
    char *path;
    bool header;
    char *attr; /* extra column: an attribute of the entity's latest event, or NULL */
} csv_out;

/* A growable line. */
typedef struct csv_line {
    char *s;
    size_t len, cap;
    bool oom;
} csv_line;

static void line_add(csv_line *l, const char *s, size_t n)
{
    if (l->oom)
        return;
    if (l->len + n + 1 > l->cap) {
        size_t cap = (l->len + n + 1) * 2;
        char *p = realloc(l->s, cap);
        if (!p) {
            l->oom = true;
            return;
        }
        l->s = p;
        l->cap = cap;
    }
    memcpy(l->s + l->len, s, n);
    l->len += n;
    l->s[l->len] = '\0';
}

/* One RFC 4180 field. A leading = + - @ is defused with a quote: a spreadsheet would run the
 * cell as a formula, and entity ids and reason texts come from outside. */
static void line_field(csv_line *l, const char *v, bool first)
{
    if (!first)
        line_add(l, ",", 1);
    if (!v)
        return;
    bool quote = strpbrk(v, ",\"\r\n") != NULL;
    if (quote)
        line_add(l, "\"", 1);
    if (v[0] && strchr("=+-@", v[0]))
        line_add(l, "'", 1);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            line_add(l, "\"", 1);
        line_add(l, p, 1);
    }
    if (quote)
        line_add(l, "\"", 1);
}

static sf_status csv_init(const sf_host *h)
{
    host = h;
    return SF_OK;
}

static void csv_destroy(sf_instance *inst, void *state)
{
    (void)inst;
    csv_out *c = state;
    if (!c)
        return;
    free(c->path);
    free(c->attr);
    free(c);
}

static sf_status csv_create(sf_instance *inst, void **state)
{
    const char *path = host->opt_string(inst, "path");
    const char *attr = host->opt_string(inst, "attr");
    if (!path || !*path) {
        host->set_error(inst, "path is required");
        return SF_EINVAL;
    }
    csv_out *c = calloc(1, sizeof *c);
    if (!c)
        return SF_ENOMEM;
    c->path = strdup(path);
    c->attr = attr && *attr ? strdup(attr) : NULL;
    c->header = host->opt_bool(inst, "header");
    if (!c->path || (attr && *attr && !c->attr)) {
        csv_destroy(inst, c);
        return SF_ENOMEM;
    }
    *state = c;
    return SF_OK;
}

/* Opened per alert, O_APPEND: alerts are rare, and a rotated file is picked up. */
static int csv_open(sf_instance *inst, const csv_out *c, bool *empty)
{
    int fd = open(c->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        host->set_error(inst, "cannot open %s: %s", c->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *empty = st.st_size == 0;
    return fd;
}

static sf_status csv_start(sf_instance *inst, void *state)
{
    bool empty;
    int fd = csv_open(inst, state, &empty); /* report a bad path now, not at the first alert */
    if (fd < 0)
        return SF_EIO;
    close(fd);
    return SF_OK;
}

static sf_status csv_stop(sf_instance *inst, void *state)
{
    (void)inst;
    (void)state;
    return SF_OK; /* no threads: nothing to wind down */
}

static void csv_row(csv_line *l, const csv_out *c, const sf_alert *a, bool header)
{
    if (header) {
        static const char cols[] = "time,alert_id,decision,entity,score,top_reason";
        line_add(l, cols, sizeof cols - 1);
        if (c->attr)
            line_field(l, c->attr, false);
        line_add(l, "\n", 1);
    }
    char score[32];
    snprintf(score, sizeof score, "%.3f", host->alert_score(a));
    /* The host formats times (RFC 3339 UTC); what it allocates, host->free releases. */
    char *when = host->render(a, "{{time}}");
    const char *top = NULL;
    if (host->alert_reason_count(a) > 0) {
        top = host->alert_reason_text(a, 0);
        if (!top || !*top)
            top = host->alert_reason_signal(a, 0);
    }
    line_field(l, when, true);
    line_field(l, host->alert_id(a), false);
    line_field(l, host->alert_decision(a), false);
    line_field(l, host->alert_entity(a), false);
    line_field(l, score, false);
    line_field(l, top, false);
    if (c->attr)
        line_field(l, host->alert_attr(a, c->attr), false);
    line_add(l, "\n", 1);
    if (when)
        host->free(when);
    else
        l->oom = true; /* render fails only without memory here */
}

static sf_deliver_result csv_deliver(sf_instance *inst, void *state, const sf_alert *alert,
                                     int64_t *retry_after_ms)
{
    (void)retry_after_ms;
    csv_out *c = state;
    bool empty = false;
    int fd = csv_open(inst, c, &empty);
    if (fd < 0)
        return SF_DELIVER_RETRY;
    csv_line l = {0};
    csv_row(&l, c, alert, c->header && empty);
    sf_deliver_result res = SF_DELIVER_OK;
    if (l.oom) {
        host->set_error(inst, "out of memory");
        res = SF_DELIVER_RETRY;
    } else {
        ssize_t n = write(fd, l.s, l.len); /* one write: the row lands whole */
        if (n != (ssize_t)l.len) {
            host->set_error(inst, "write to %s failed: %s", c->path,
                            n < 0 ? strerror(errno) : "short write");
            res = SF_DELIVER_RETRY;
        }
    }
    if (close(fd) != 0 && res == SF_DELIVER_OK) {
        host->set_error(inst, "write to %s failed: %s", c->path, strerror(errno));
        res = SF_DELIVER_RETRY;
    }
    free(l.s);
    return res;
}

/* ---- declared options and descriptor: the plugin's whole contract in one place ---------- */

static const sf_option csv_options[] = {
    {.name = "path",
     .type = SF_OPT_STRING,
     .flags = SF_OPT_REQUIRED,
     .help = "the CSV file alerts are appended to"},
    {.name = "header",
     .type = SF_OPT_BOOL,
     .default_value = "true",
     .help = "write a header row when the file is empty"},
    {.name = "attr",
     .type = SF_OPT_STRING,
     .help = "an entity attribute to add as the last column (e.g. owner_email)"},
    {0}};

static const sf_plugin csv_plugin = {
    SF_PLUGIN_INIT,           .name = "csv",
    .version = "1.0.0",       .description = "appends one CSV row per alert to a file",
    .kind = SF_KIND_DELIVERY, .options = csv_options,
    .init = csv_init,         .create = csv_create,
    .start = csv_start,       .stop = csv_stop,
    .destroy = csv_destroy,   .deliver = csv_deliver,
};

SF_PLUGIN_DEFINE(csv_plugin)
