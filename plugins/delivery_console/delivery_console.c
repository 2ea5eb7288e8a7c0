/*
 * delivery_console.c - the `console` delivery: writes each alert as one line - the alert JSON
 * `sigflow replay` prints (format = json, so a run and a replay compare byte for byte), the
 * message model's JSON (format = message) or a rendered text template - to stdout or
 * appended to a file. For trying
 * sigflow out, piping alerts into other tools, and tests. Built against sigflow.h alone;
 * calls only the host table and libc. Loaded by the core.
 */
#include "sigflow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONSOLE_DEFAULT_TEMPLATE                                                                   \
    "{{time}} {{title}} entity={{entity}} score={{score}}{{#attrs}} {{name}}={{value}}{{/attrs}}"  \
    " reasons: {{reasons}}"

static const sf_host *host;

typedef struct console {
    char *path;   /* NULL: stdout */
    bool text;    /* format = text */
    bool message; /* format = message */
    char *tmpl;
} console;

static sf_status console_init(const sf_host *h)
{
    host = h;
    return SF_OK;
}

static void console_destroy(sf_instance *inst, void *state)
{
    (void)inst;
    console *c = state;
    if (!c)
        return;
    free(c->path);
    free(c->tmpl);
    free(c);
}

static sf_status console_create(sf_instance *inst, void **state)
{
    const char *path = host->opt_string(inst, "path");
    const char *format = host->opt_string(inst, "format");
    const char *tmpl = host->opt_string(inst, "template");
    console *c = calloc(1, sizeof *c);
    if (!c)
        return SF_ENOMEM;
    c->text = format && strcmp(format, "text") == 0;
    c->message = format && strcmp(format, "message") == 0;
    c->path = path && *path ? strdup(path) : NULL;
    c->tmpl = strdup(tmpl ? tmpl : CONSOLE_DEFAULT_TEMPLATE);
    if ((path && *path && !c->path) || !c->tmpl) {
        console_destroy(inst, c);
        return SF_ENOMEM;
    }
    *state = c;
    return SF_OK;
}

/* O_APPEND so that each line lands whole at the end even if others write the file too.
 * -1 with set_error on failure. */
static int console_open(sf_instance *inst, const console *c)
{
    if (!c->path)
        return STDOUT_FILENO;
    int fd = open(c->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        host->set_error(inst, "cannot open %s: %s", c->path, strerror(errno));
    return fd;
}

/* A file path is opened per alert (alerts are rare), so a rotated file is picked up. Start
 * opens it once to report a bad path now rather than at the first alert. */
static sf_status console_start(sf_instance *inst, void *state)
{
    console *c = state;
    int fd = console_open(inst, c);
    if (fd < 0)
        return SF_EIO;
    if (fd != STDOUT_FILENO)
        close(fd);
    return SF_OK;
}

static sf_status console_stop(sf_instance *inst, void *state)
{
    (void)inst;
    (void)state;
    return SF_OK; /* nothing runs between deliveries */
}

/* All of buf, or false with errno set. One write(2) per line in practice. */
static bool console_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return false;
        }
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* The line to write, newline included, or NULL (set_error said why). Free with free. */
static char *console_line(sf_instance *inst, const console *c, const sf_alert *alert)
{
    char *rendered = NULL;
    const char *body;
    if (c->text) {
        rendered = SF_HOST_HAS(host, render_as)
                       ? host->render_as(inst, alert, c->tmpl, SF_ESCAPE_PLAIN)
                       : host->render(alert, c->tmpl);
        if (!rendered) {
            host->set_error(inst, "cannot render the template \"%s\"", c->tmpl);
            return NULL;
        }
        body = rendered;
    } else if (c->message) {
        body = host->msg_json(alert);
        if (!body) {
            host->set_error(inst, "the host gave no message JSON for the alert");
            return NULL;
        }
    } else {
        body = host->alert_json(alert);
        if (!body) {
            host->set_error(inst, "the host gave no JSON for the alert");
            return NULL;
        }
    }
    /* {{reasons}} renders one reason per line: keep one alert on one line, "a; b". */
    size_t len = strlen(body), breaks = 0;
    for (size_t i = 0; i < len; i++)
        breaks += body[i] == '\n';
    char *line = malloc(len + breaks + 2);
    if (line) {
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
            if (body[i] == '\n') {
                line[o++] = ';';
                line[o++] = ' ';
            } else if (body[i] != '\r') {
                line[o++] = body[i];
            }
        }
        line[o++] = '\n';
        line[o] = '\0';
    } else {
        host->set_error(inst, "out of memory");
    }
    if (rendered)
        host->free(rendered);
    return line;
}

static sf_deliver_result console_deliver(sf_instance *inst, void *state, const sf_alert *alert,
                                         int64_t *retry_after_ms)
{
    (void)retry_after_ms; /* the host's backoff suits a full disk */
    console *c = state;
    char *line = console_line(inst, c, alert);
    if (!line)
        return SF_DELIVER_FAIL; /* the same alert would fail the same way */
    sf_deliver_result res = SF_DELIVER_OK;
    int fd = console_open(inst, c);
    if (fd < 0) {
        res = SF_DELIVER_RETRY;
    } else if (!console_write_all(fd, line, strlen(line)) ||
               (fd != STDOUT_FILENO && fsync(fd) != 0 && errno != EINVAL)) {
        host->set_error(inst, "write to %s failed: %s", c->path ? c->path : "stdout",
                        strerror(errno));
        res = SF_DELIVER_RETRY;
    }
    if (fd >= 0 && fd != STDOUT_FILENO && close(fd) != 0 && res == SF_DELIVER_OK) {
        host->set_error(inst, "write to %s failed: %s", c->path, strerror(errno));
        res = SF_DELIVER_RETRY;
    }
    free(line);
    return res;
}

/* ---- declared options and descriptor ------------------------------------------------------ */

static const char *const console_formats[] = {"json", "message", "text", NULL};

static const sf_option console_options[] = {
    {.name = "path",
     .type = SF_OPT_STRING,
     .flags = SF_OPT_PATH,
     .help = "append alerts to this file instead of writing them to stdout"},
    {.name = "format",
     .type = SF_OPT_ENUM,
     .default_value = "json",
     .choices = console_formats,
     .help = "json: the alert as replay prints it; message: the message model (title, attrs, "
             "rounded score, contributing reasons, links); text: the template on one line"},
    {.name = "template",
     .type = SF_OPT_TEMPLATE,
     .default_value = CONSOLE_DEFAULT_TEMPLATE,
     .help = "the line for format = text (docs/templates.md: {{title}}, {{entity}}, "
             "{{score}}, {{reasons}}, {{attr.X}}...)"},
    {0}};

static const sf_plugin console_plugin = {
    SF_PLUGIN_INIT,
    .min_host_minor = 3, /* template-typed option, msg_json */
    .name = "console",
    .version = "1.0.0",
    .description = "writes each alert as one line (JSON or a template) to stdout or a file",
    .kind = SF_KIND_DELIVERY,
    .options = console_options,
    .init = console_init,
    .create = console_create,
    .start = console_start,
    .stop = console_stop,
    .destroy = console_destroy,
    .deliver = console_deliver,
};

SF_PLUGIN_DEFINE(console_plugin)
