/*
 * cli_feedback.c - `sigflow feedback`: a person's label through the running daemon's admin
 * API (POST /v1/feedback with the config's admin_token), so the daemon counts and logs it
 * like any other. Calls config, timefmt, libcurl, json-c. Dispatched by main.c.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/limits.h"
#include "base/strbuf.h"
#include "base/timefmt.h"
#include "cli/cli.h"
#include "cli/cli_admin.h"
#include "config/config.h"

#define FEEDBACK_TIMEOUT_S 10

static void feedback_usage(FILE *to)
{
    fputs("usage: sigflow feedback -c FILE [--replace] ALERT_ID confirmed|false_positive\n"
          "       sigflow feedback -c FILE --missed ENTITY [--time T]\n"
          "Record a person's label through the running daemon's admin API ([sigflow] admin,\n"
          "authenticated with admin_token): an alert was right (confirmed) or wrong\n"
          "(false_positive), or an entity churned without an alert (missed; T is RFC 3339 or\n"
          "epoch ms, default now). A second, different label on one alert is refused unless\n"
          "--replace. Exit 0 when stored, 1 when refused or the daemon is unreachable, 64 on a\n"
          "bad command line.\n",
          to);
}

/* POST body; *status and the answer's text. -1 when no answer came. */
static int post(const sigflow_config *cfg, const char *body, long *status, char **answer)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    int rc = cli_admin_request(cfg, "/v1/feedback", body, FEEDBACK_TIMEOUT_S, status, answer, err,
                               sizeof err);
    if (rc != 0)
        fprintf(stderr, "sigflow feedback: %s\n", err);
    return rc;
}

/* Print what the daemon answered; the exit code. */
static int report(long status, const char *answer)
{
    json_object *o = answer ? json_tokener_parse(answer) : NULL;
    json_object *v = NULL;
    int rc = EXIT_INVALID;
    if ((status == 200 || status == 201) && o) {
        const char *f[] = {"result", "label", "alert_id", "entity", "time"};
        const char *s[5];
        for (int i = 0; i < 5; i++)
            s[i] = json_object_object_get_ex(o, f[i], &v) ? json_object_get_string(v) : "-";
        printf("%s: %s %s%s%s at %s (person)\n", s[0], s[1], strcmp(s[2], "-") ? "alert " : "",
               strcmp(s[2], "-") ? s[2] : "", strcmp(s[2], "-") ? "" : s[3], s[4]);
        rc = EXIT_OK;
    } else if (o && json_object_object_get_ex(o, "error", &v)) {
        fprintf(stderr, "sigflow feedback: %ld: %s\n", status, json_object_get_string(v));
        if (status == 409)
            fprintf(stderr, "sigflow feedback: to change it, run again with --replace\n");
    } else {
        fprintf(stderr, "sigflow feedback: %ld: %s", status, answer ? answer : "(no body)\n");
    }
    json_object_put(o);
    return rc;
}

/* The request body; NULL after a message on a bad argument. */
static char *feedback_body(const char *missed, const char *when, bool replace, int argc,
                           char **argv)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    if (missed) {
        int64_t t;
        if (when && time_parse(when, strlen(when), &t) != 0) {
            fprintf(stderr, "sigflow feedback: --time must be RFC 3339 or epoch ms, got `%s`\n",
                    when);
            json_object_put(o);
            return NULL;
        }
        json_object_object_add(o, "entity", json_object_new_string(missed));
        json_object_object_add(o, "label", json_object_new_string("missed"));
        if (when)
            json_object_object_add(o, "time", json_object_new_string(when));
    } else {
        json_object_object_add(o, "alert_id", json_object_new_string(argv[0]));
        json_object_object_add(o, "label", json_object_new_string(argv[1]));
        if (replace)
            json_object_object_add(o, "replace", json_object_new_boolean(1));
    }
    (void)argc;
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    char *body = text ? strdup(text) : NULL;
    json_object_put(o);
    return body;
}

static int feedback_send(const char *path, char *body)
{
    diag d = {0};
    sigflow_config *cfg = config_load(path, &d);
    diag_print(&d, stderr);
    diag_clear(&d);
    int rc = EXIT_INVALID;
    if (cfg && !cfg->admin_token)
        fprintf(stderr,
                "sigflow feedback: %s sets no [sigflow] admin_token: the daemon's "
                "admin API is off\n",
                path);
    else if (cfg) {
        long status = 0;
        char *answer = NULL;
        if (post(cfg, body, &status, &answer) == 0)
            rc = report(status, answer);
        free(answer);
    }
    config_free(cfg);
    return rc;
}

int cmd_feedback(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"missed", required_argument, NULL, 'm'},
        {"time", required_argument, NULL, 't'},   {"replace", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},         {0}};
    const char *path = NULL, *missed = NULL, *when = NULL;
    bool replace = false;
    int c;
    optind = 1;
    log_set_level(SF_LOG_WARN);
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (c == 'c')
            path = optarg;
        else if (c == 'm')
            missed = optarg;
        else if (c == 't')
            when = optarg;
        else if (c == 'r')
            replace = true;
        else if (c == 'h') {
            feedback_usage(stdout);
            return EXIT_OK;
        } else {
            feedback_usage(stderr);
            return EXIT_USAGE;
        }
    }
    int rest = argc - optind;
    bool ok = path && (missed ? rest == 0 && !replace : rest == 2 && !when);
    if (!ok) {
        feedback_usage(stderr);
        return EXIT_USAGE;
    }
    char *body = feedback_body(missed, when, replace, rest, argv + optind);
    if (!body)
        return EXIT_USAGE;
    int rc = feedback_send(path, body);
    free(body);
    return rc;
}
