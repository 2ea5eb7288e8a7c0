/*
 * when.c - `when` parsing (a flat list of LHS OP VALUE terms joined by `and`) and evaluation.
 */
#include "deliver/when.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "model/alert.h"

typedef enum rop { OP_GE, OP_GT, OP_LE, OP_LT, OP_EQ, OP_NE } rop;
typedef enum rlhs { L_SCORE, L_ATTR, L_SIGNAL } rlhs;

typedef struct rterm {
    rlhs lhs;
    char *name; /* attr path or signal name */
    rop op;
    bool numeric; /* the value is a number */
    double num;
    char *text;
} rterm;

struct when_filter {
    rterm terms[SIGFLOW_MAX_WHEN_TERMS];
    size_t n;
};

void when_free(when_filter *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->terms[i].name);
        free(r->terms[i].text);
    }
    free(r);
}

typedef struct rlex {
    const char *s;
    char *err;
    size_t errlen;
} rlex;

static void skip_ws(rlex *x)
{
    while (isspace((unsigned char)*x->s))
        x->s++;
}

/* A word of [A-Za-z0-9_.-] into buf. */
static bool lex_word(rlex *x, char *buf, size_t len)
{
    skip_ws(x);
    size_t n = 0;
    while ((isalnum((unsigned char)x->s[n]) || strchr("_.-", x->s[n])) && x->s[n])
        n++;
    if (n == 0 || n >= len)
        return false;
    memcpy(buf, x->s, n);
    buf[n] = '\0';
    x->s += n;
    return true;
}

static bool lex_op(rlex *x, rop *op)
{
    static const struct {
        const char *t;
        rop op;
    } ops[] = {{">=", OP_GE}, {"<=", OP_LE}, {"!=", OP_NE}, {"==", OP_EQ},
               {">", OP_GT},  {"<", OP_LT},  {"=", OP_EQ}};
    skip_ws(x);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strncmp(x->s, ops[i].t, strlen(ops[i].t)) == 0) {
            *op = ops[i].op;
            x->s += strlen(ops[i].t);
            return true;
        }
    return false;
}

static bool parse_number(const char *s, double *out)
{
    char *end = NULL;
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

/* The value: "quoted text" or a bare word / number. */
static bool lex_value(rlex *x, rterm *t)
{
    char buf[SIGFLOW_MAX_NAME_LEN * 4];
    skip_ws(x);
    if (*x->s == '"') {
        const char *end = strchr(x->s + 1, '"');
        if (!end || (size_t)(end - x->s - 1) >= sizeof buf)
            return false;
        memcpy(buf, x->s + 1, (size_t)(end - x->s - 1));
        buf[end - x->s - 1] = '\0';
        x->s = end + 1;
    } else if (!lex_word(x, buf, sizeof buf)) {
        return false;
    } else {
        t->numeric = parse_number(buf, &t->num);
    }
    return (t->text = strdup(buf)) != NULL;
}

static bool fail(rlex *x, const char *what)
{
    snprintf(x->err, x->errlen, "`when`: %s at `%.40s`", what, *x->s ? x->s : "(end)");
    return false;
}

static bool known_signal(const char *name, const char *const *signals, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(signals[i], name) == 0)
            return true;
    return signals == NULL;
}

static bool parse_term(rlex *x, rterm *t, const char *const *signals, size_t n)
{
    char lhs[SIGFLOW_MAX_NAME_LEN * 2];
    if (!lex_word(x, lhs, sizeof lhs))
        return fail(x, "expected score, attr.NAME or signal.NAME");
    if (strcmp(lhs, "score") == 0)
        t->lhs = L_SCORE;
    else if (strncmp(lhs, "attr.", 5) == 0 && lhs[5])
        t->lhs = L_ATTR;
    else if (strncmp(lhs, "signal.", 7) == 0 && lhs[7])
        t->lhs = L_SIGNAL;
    else
        return fail(x, "expected score, attr.NAME or signal.NAME");
    if (t->lhs != L_SCORE && !(t->name = strdup(lhs + (t->lhs == L_ATTR ? 5 : 7))))
        return fail(x, "out of memory");
    if (t->lhs == L_SIGNAL && !known_signal(t->name, signals, n)) {
        snprintf(x->err, x->errlen, "`when`: no [signal %s] in the decision", t->name);
        return false;
    }
    if (!lex_op(x, &t->op))
        return fail(x, "expected >=, >, <=, <, = or !=");
    if (!lex_value(x, t))
        return fail(x, "expected a number or a \"quoted\" value");
    if (t->lhs != L_ATTR && !t->numeric)
        return fail(x, "score and signal.NAME compare with numbers");
    return true;
}

when_filter *when_parse(const char *text, const char *const *signals, size_t n, char *err,
                        size_t errlen)
{
    when_filter *r = calloc(1, sizeof *r);
    rlex x = {.s = text ? text : "", .err = err, .errlen = errlen};
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (;;) {
        if (r->n == SIGFLOW_MAX_WHEN_TERMS) {
            snprintf(err, errlen, "`when`: more than %d comparisons", SIGFLOW_MAX_WHEN_TERMS);
            goto fail;
        }
        if (!parse_term(&x, &r->terms[r->n++], signals, n))
            goto fail;
        skip_ws(&x);
        if (!*x.s)
            return r;
        char word[8];
        if (!lex_word(&x, word, sizeof word) || strcmp(word, "and") != 0) {
            fail(&x, "expected `and` between comparisons");
            goto fail;
        }
    }
fail:
    when_free(r);
    return NULL;
}

static bool compare_num(double a, rop op, double b)
{
    switch (op) {
    case OP_GE:
        return a >= b;
    case OP_GT:
        return a > b;
    case OP_LE:
        return a <= b;
    case OP_LT:
        return a < b;
    case OP_EQ:
        return a == b;
    default:
        return a != b;
    }
}

static bool term_match(const rterm *t, const message *m)
{
    const sf_alert *a = m->alert;
    if (t->lhs == L_SCORE)
        return compare_num(a->score, t->op, t->num);
    if (t->lhs == L_SIGNAL) {
        for (size_t i = 0; i < a->n_reasons; i++)
            if (strcmp(a->reasons[i].signal, t->name) == 0)
                return compare_num(a->reasons[i].x, t->op, t->num);
        return false;
    }
    const char *v = message_attr(m, t->name);
    double d;
    if (!v)
        return false;
    if (t->numeric && parse_number(v, &d))
        return compare_num(d, t->op, t->num);
    int c = strcmp(v, t->text);
    return t->op == OP_EQ ? c == 0 : t->op == OP_NE ? c != 0 : compare_num(c, t->op, 0);
}

bool when_match(const when_filter *r, const message *m)
{
    for (size_t i = 0; i < r->n; i++)
        if (!term_match(&r->terms[i], m))
            return false;
    return m->alert != NULL;
}
