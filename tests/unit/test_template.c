/* test_template.c - the template engine (core/deliver/template.c) and the message model it
   renders (core/deliver/message.c): names, sections, escaping per output, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json.h>

#include "deliver/message.h"
#include "deliver/template.h"
#include "model/alert.h"

static alert_reason reasons[3] = {
    {.signal = "logins", .x = 1, .weight = 2, .contribution = 2, .text = "logins 100% below"},
    {.signal = "tickets", .x = 0.25, .weight = 1, .contribution = 0.25, .text = ""},
    {.signal = "nps", .x = 0, .weight = 3, .contribution = 0, .text = "nps low"}};

static sf_alert alert_fixture(const char *entity, const char *attrs)
{
    sf_alert a = {.decision = "churn",
                  .question = "Is this customer about to churn?",
                  .entity = (char *)entity,
                  .time_ms = 86400000,
                  .score = 0.9349,
                  .reasons = reasons,
                  .n_reasons = 3,
                  .attrs = (char *)attrs};
    strcpy(a.id, "a1b2");
    return a;
}

/* The text is one valid JSON object. */
static void assert_json_object(const char *text)
{
    json_object *o = json_tokener_parse(text);
    if (!o || !json_object_is_type(o, json_type_object))
        fail_msg("not a JSON object: %s", text);
    json_object_put(o);
}

static char *render(const char *text, const message *m, tmpl_escape esc)
{
    char err[256];
    char *out = tmpl_render_text(text, m, esc, err, sizeof err);
    if (!out)
        fail_msg("%s", err);
    return out;
}

static void expect(const char *text, const message *m, tmpl_escape esc, const char *want)
{
    char *got = render(text, m, esc);
    assert_string_equal(got, want);
    free(got);
}

static void names_render_the_message_model(void **state)
{
    (void)state;
    sf_alert a = alert_fixture("acme", "{\"owner\":{\"email\":\"ann@x.io\"},\"seats\":3}");
    message *m = message_new(&a, NULL);
    assert_non_null(m);
    expect("{{title}}|{{entity}}|{{score}}|{{score_pct}}%|{{time}}|{{alert_id}}", m, TMPL_PLAIN,
           "Is this customer about to churn?|acme|0.93|93%|1970-01-02T00:00:00.000Z|a1b2");
    expect("{{attr.owner.email}} {{attr.seats}} [{{attr.nosuch}}]", m, TMPL_PLAIN, "ann@x.io 3 []");
    message_free(m);
}

static void reasons_list_only_what_contributed_strongest_first(void **state)
{
    (void)state;
    sf_alert a = alert_fixture("acme", NULL);
    message *m = message_new(&a, NULL);
    assert_int_equal(m->n_reasons, 2); /* nps contributed 0 */
    expect("{{#reasons}}- {{text}} ({{signal}} +{{contribution}}, {{pct}}%)\n{{/reasons}}", m,
           TMPL_PLAIN,
           "- logins 100% below (logins +2.00, 100%)\n- tickets (tickets +0.25, 25%)\n");
    expect("{{reasons}}", m, TMPL_PLAIN, "logins 100% below\ntickets");
    message_free(m);
}

static void conditional_and_inverted_sections(void **state)
{
    (void)state;
    sf_alert a = alert_fixture("acme", "{\"plan\":\"pro\"}");
    message *m = message_new(&a, NULL);
    expect("{{#attr.plan}}plan {{attr.plan}}{{/attr.plan}}{{^attr.tz}} no tz{{/attr.tz}}", m,
           TMPL_PLAIN, "plan pro no tz");
    expect("{{#feedback.confirm}}links{{/feedback.confirm}}{{^feedback.confirm}}off"
           "{{/feedback.confirm}}",
           m, TMPL_PLAIN, "off");
    expect("{{#attrs}}{{name}}={{value}};{{/attrs}}", m, TMPL_PLAIN, "plan=pro;");
    message_free(m);
}

static void escaping_follows_the_output(void **state)
{
    (void)state;
    sf_alert a = alert_fixture("<script>&\"x'", NULL);
    message *m = message_new(&a, NULL);
    expect("<b>{{entity}}</b>", m, TMPL_HTML, "<b>&lt;script&gt;&amp;&quot;x&#39;</b>");
    expect("*{{entity}}*", m, TMPL_SLACK, "*&lt;script&gt;&amp;\"x'*");
    expect("\"{{entity}}\"", m, TMPL_JSON, "\"<script>&\\\"x'\"");
    expect("{{entity}}", m, TMPL_PLAIN, "<script>&\"x'");
    message_free(m);
}

static void links_and_feedback_come_from_the_context(void **state)
{
    (void)state;
    char err[256];
    tmpl *crm = tmpl_compile("https://crm.example.com/accounts/{{entity}}", err, sizeof err);
    assert_non_null(crm);
    message_link links[1] = {{.name = "crm", .t = crm}};
    message_ctx ctx = {.links = links, .n_links = 1};
    sf_alert a = alert_fixture("acme", NULL);
    message *m = message_new(&a, &ctx);
    expect("{{link.crm}} {{#links}}[{{name}} {{url}}]{{/links}}", m, TMPL_PLAIN,
           "https://crm.example.com/accounts/acme [crm https://crm.example.com/accounts/acme]");
    assert_string_equal(m->fb_confirm, "");
    const char *json = message_json(m);
    assert_non_null(strstr(json, "\"title\":\"Is this customer about to churn?\""));
    assert_non_null(strstr(json, "\"score\":0.93,\"score_pct\":93"));
    assert_non_null(strstr(json, "\"links\":{\"crm\":\"https://crm.example.com/accounts/acme\"}"));
    assert_null(strstr(json, "nps")); /* no contribution, not a reason */
    assert_json_object(json);
    message_free(m);
    tmpl_free(crm);
}

static void unknown_names_and_bad_nesting_are_errors(void **state)
{
    (void)state;
    char err[256];
    static const char *const bad[][2] = {
        {"{{entiy}}", "unknown name {{entiy}} (did you mean `entity`?)"},
        {"x {{signal}}", "unknown name {{signal}}"},
        {"{{#reasons}}{{url}}{{/reasons}}", "unknown name {{url}}"},
        {"{{#reasons}}x", "a section is not closed"},
        {"{{#reasons}}{{/links}}", "does not close the section"},
        {"{{/reasons}}", "without an open section"},
        {"{{entity", "{{ without }}"},
        {"{{links}}", "a list is shown with {{#name}}"},
        {"{{}}", "empty {{}}"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tmpl *t = tmpl_compile(bad[i][0], err, sizeof err);
        assert_null(t);
        if (!strstr(err, bad[i][1]))
            fail_msg("%s: got \"%s\", want \"%s\"", bad[i][0], err, bad[i][1]);
    }
    assert_non_null(strstr((tmpl_compile("ab {{nosuch}}", err, sizeof err), err), "column 4"));
}

static void digest_lists_its_alerts(void **state)
{
    (void)state;
    sf_alert a = alert_fixture("acme", NULL), b = alert_fixture("globex", NULL);
    b.score = 0.5;
    message *items[2] = {message_new(&a, NULL), message_new(&b, NULL)};
    message *d = message_digest(items, 2);
    expect("{{count}}: {{#alerts}}{{entity}} {{score}};{{/alerts}}", d, TMPL_PLAIN,
           "2: acme 0.93;globex 0.50;");
    assert_non_null(strstr(message_json(d), "{\"digest\":true,\"count\":2,\"alerts\":[{"));
    assert_json_object(message_json(d));
    message_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_render_the_message_model),
        cmocka_unit_test(reasons_list_only_what_contributed_strongest_first),
        cmocka_unit_test(conditional_and_inverted_sections),
        cmocka_unit_test(escaping_follows_the_output),
        cmocka_unit_test(links_and_feedback_come_from_the_context),
        cmocka_unit_test(unknown_names_and_bad_nesting_are_errors),
        cmocka_unit_test(digest_lists_its_alerts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
