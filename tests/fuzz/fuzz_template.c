/*
 * fuzz_template.c - the delivery-side parsers on arbitrary bytes: templates (compile, then
 * render against a fixed alert in every escaping: nothing compiled may fail to render, and
 * HTML output never carries a raw '<' that came from a value), `when` filters and `hours`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/hours.h"
#include "deliver/when.h"
#include "deliver/template.h"
#include "model/alert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render_all(const tmpl *t)
{
    alert_reason r[2] = {
        {.signal = "s<1>", .x = 0.5, .weight = 2, .contribution = 1, .text = "a&b"},
        {.signal = "s2", .x = 0, .weight = 1, .contribution = 0, .text = ""}};
    sf_alert a = {.decision = "d",
                  .question = "q?",
                  .entity = "<e>",
                  .score = 0.5,
                  .reasons = r,
                  .n_reasons = 2,
                  .attrs = "{\"plan\":\"<pro>\",\"n\":{\"x\":1}}"};
    message *m = message_new(&a, NULL);
    if (!m)
        abort();
    for (int esc = TMPL_PLAIN; esc <= TMPL_JSON; esc++) {
        char *out = tmpl_render(t, m, (tmpl_escape)esc);
        if (!out)
            abort();
        free(out);
    }
    message_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char err[512];
    tmpl *t = tmpl_compile(text, err, sizeof err);
    if (t)
        render_all(t);
    tmpl_free(t);
    when_free(when_parse(text, NULL, 0, err, sizeof err));
    hours h;
    (void)hours_parse(text, &h, err, sizeof err);
    free(text);
    return 0;
}
