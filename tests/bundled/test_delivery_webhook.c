/*
 * Tests of plugins/delivery_webhook against tests/support/http_receiver.py: status mapping
 * (2xx ok, 408/425/429/5xx retry with Retry-After, other 4xx fail), timeouts, refused
 * connections, headers, and the HMAC signature checked here independently with libcrypto.
 * The host table is a minimal one built here: options, errors and two alert accessors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/crypto.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/crypto.h"
#include "sigflow.h"

#define SECRET "s3cr3t-key"
#define RECEIVER_START_MS 5000

/* ---- a minimal host ---- */

struct sf_instance {
    const char *url, *secret;
    int64_t timeout_ms, connect_timeout_ms;
    char error[1024];
};

struct sf_alert {
    const char *id, *json;
};

static void h_log(sf_instance *inst, sf_log_level level, const char *fmt, ...)
{
    (void)inst;
    (void)level;
    (void)fmt;
}

static void h_vlog(sf_instance *inst, sf_log_level level, const char *fmt, va_list ap)
{
    (void)inst;
    (void)level;
    (void)fmt;
    (void)ap;
}

static void h_set_error(sf_instance *inst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(inst->error, sizeof inst->error, fmt, ap);
    va_end(ap);
}

static const char *h_opt_string(sf_instance *inst, const char *name)
{
    if (strcmp(name, "url") == 0)
        return inst->url;
    if (strcmp(name, "secret") == 0)
        return inst->secret;
    return NULL;
}

static int64_t h_opt_duration_ms(sf_instance *inst, const char *name)
{
    return strcmp(name, "timeout") == 0 ? inst->timeout_ms : inst->connect_timeout_ms;
}

static const char *h_alert_id(const sf_alert *a)
{
    return a->id;
}

static const char *h_alert_json(const sf_alert *a)
{
    return a->json;
}

static const sf_host test_host = {
    .size = sizeof(sf_host),
    .abi_major = SF_ABI_MAJOR,
    .abi_minor = SF_ABI_MINOR,
    .log = h_log,
    .vlog = h_vlog,
    .set_error = h_set_error,
    .opt_string = h_opt_string,
    .opt_duration_ms = h_opt_duration_ms,
    .alert_id = h_alert_id,
    .alert_json = h_alert_json,
    .alloc = malloc,
    .free = free,
    .hmac_sha256 = crypto_hmac_sha256,
};

/* ---- the receiver process ---- */

static pid_t g_receiver;
static int g_port;
static void *g_dl;
static const sf_plugin *g_plugin;

static int start_receiver(void)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    g_receiver = fork();
    if (g_receiver < 0)
        return -1;
    if (g_receiver == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a crashed test must not leave it running */
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        const char *root = getenv("ROOT") ? getenv("ROOT") : ".";
        char script[4096];
        snprintf(script, sizeof script, "%s/tests/support/http_receiver.py", root);
        execlp("python3", "python3", script, "--secret", SECRET, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    /* Bounded wait for the port line: a receiver that never starts fails the test quickly. */
    char line[32] = "";
    size_t len = 0;
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    while (len < sizeof line - 1 && !strchr(line, '\n') && poll(&p, 1, RECEIVER_START_MS) > 0) {
        ssize_t n = read(fds[0], line + len, sizeof line - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        line[len] = '\0';
    }
    close(fds[0]);
    g_port = atoi(line);
    return g_port > 0 ? 0 : -1;
}

static int group_setup(void **state)
{
    (void)state;
    char path[4096];
    const char *dir = getenv("PLUGIN_BUILD") ? getenv("PLUGIN_BUILD") : "build/plugins";
    snprintf(path, sizeof path, "%s/delivery_webhook.so", dir);
    g_dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!g_dl) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return -1;
    }
    sf_entry_fn entry = (sf_entry_fn)(uintptr_t)dlsym(g_dl, SF_ENTRY_SYMBOL);
    sf_host_info info = {sizeof info, SF_ABI_MAJOR, SF_ABI_MINOR, "test"};
    if (!entry || !(g_plugin = entry(&info)) || g_plugin->init(&test_host) != SF_OK)
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return start_receiver();
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_receiver > 0) {
        kill(g_receiver, SIGTERM);
        waitpid(g_receiver, NULL, 0);
    }
    curl_global_cleanup();
    return 0; /* the plugin stays loaded: sigflow never unloads one either */
}

/* ---- talking to the receiver ---- */

typedef struct buf {
    char *data;
    size_t len;
} buf;

static size_t buf_write(char *d, size_t s, size_t n, void *ctx)
{
    buf *b = ctx;
    char *p = realloc(b->data, b->len + s * n + 1);
    if (!p)
        return 0;
    memcpy(p + b->len, d, s * n);
    b->data = p;
    b->len += s * n;
    b->data[b->len] = '\0';
    return s * n;
}

/* POST body to path (or GET when body is NULL); returns the response body (free it). */
static char *receiver_call(const char *path, const char *body)
{
    char url[256];
    buf b = {0};
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", g_port, path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
    return b.data;
}

static void receiver_mode(const char *json)
{
    free(receiver_call("/_control", json));
}

/* The last delivery the receiver recorded (a new reference; json_object_put it). */
static json_object *last_request(void)
{
    char *text = receiver_call("/_requests", NULL);
    json_object *all = json_tokener_parse(text);
    free(text);
    assert_non_null(all);
    size_t n = json_object_array_length(all);
    assert_true(n > 0);
    json_object *last = json_object_get(json_object_array_get_idx(all, n - 1));
    json_object_put(all);
    return last;
}

static const char *req_header(json_object *req, const char *name)
{
    json_object *h = NULL, *v = NULL;
    if (!json_object_object_get_ex(req, "headers", &h) || !json_object_object_get_ex(h, name, &v))
        return NULL;
    return json_object_get_string(v);
}

/* ---- one instance per test ---- */

typedef struct fixture {
    struct sf_instance inst;
    char url[128];
    void *state;
} fixture;

static int setup_with(void **state, const char *secret, int64_t timeout_ms)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/hook", g_port);
    f->inst.url = f->url;
    f->inst.secret = secret;
    f->inst.timeout_ms = timeout_ms;
    f->inst.connect_timeout_ms = 1000;
    if (g_plugin->create(&f->inst, &f->state) != SF_OK ||
        g_plugin->start(&f->inst, f->state) != SF_OK)
        return -1;
    receiver_mode("{\"mode\":\"ok\",\"retry_after\":\"\",\"body\":\"\"}");
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, NULL, 2000);
}

static int setup_signed(void **state)
{
    return setup_with(state, SECRET, 2000);
}

static int teardown(void **state)
{
    fixture *f = *state;
    g_plugin->stop(&f->inst, f->state);
    g_plugin->destroy(&f->inst, f->state);
    free(f);
    return 0;
}

static sf_deliver_result deliver(fixture *f, const char *id, int64_t *retry_ms)
{
    char json[256];
    snprintf(json, sizeof json, "{\"alert_id\":\"%s\",\"entity\":\"cust-1\",\"score\":0.91}", id);
    sf_alert a = {.id = id, .json = json};
    *retry_ms = 0;
    f->inst.error[0] = '\0';
    return g_plugin->deliver(&f->inst, f->state, &a, retry_ms);
}

/* ---- tests ---- */

static void status_200_is_delivered_with_json_and_idempotency_key(void **state)
{
    fixture *f = *state;
    int64_t retry = -1;
    assert_int_equal(deliver(f, "alert-200", &retry), SF_DELIVER_OK);
    json_object *req = last_request();
    json_object *body = NULL;
    assert_true(json_object_object_get_ex(req, "body", &body));
    assert_string_equal(json_object_get_string(body),
                        "{\"alert_id\":\"alert-200\",\"entity\":\"cust-1\",\"score\":0.91}");
    assert_string_equal(req_header(req, "idempotency-key"), "alert-200");
    assert_string_equal(req_header(req, "content-type"), "application/json");
    assert_null(req_header(req, "x-sigflow-signature")); /* no secret, no signature */
    json_object_put(req);
}

static void status_503_is_retried_after_retry_after_seconds(void **state)
{
    fixture *f = *state;
    receiver_mode("{\"mode\":\"refuse\",\"status\":503,\"retry_after\":\"7\","
                  "\"body\":\"maintenance\"}");
    int64_t retry = 0;
    assert_int_equal(deliver(f, "alert-503", &retry), SF_DELIVER_RETRY);
    assert_int_equal(retry, 7000);
    assert_non_null(strstr(f->inst.error, "503"));
    assert_non_null(strstr(f->inst.error, "maintenance"));
}

static void retry_after_as_http_date_is_honoured(void **state)
{
    fixture *f = *state;
    char ctl[256], date[64];
    time_t at = time(NULL) + 120;
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&at, &tm));
    snprintf(ctl, sizeof ctl, "{\"mode\":\"refuse\",\"status\":503,\"retry_after\":\"%s\"}", date);
    receiver_mode(ctl);
    int64_t retry = 0;
    assert_int_equal(deliver(f, "alert-date", &retry), SF_DELIVER_RETRY);
    assert_true(retry >= 115000 && retry <= 121000);
}

static void throttling_and_server_statuses_are_retried(void **state)
{
    fixture *f = *state;
    static const int statuses[] = {408, 425, 429, 500, 502, 504};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char ctl[128];
        snprintf(ctl, sizeof ctl, "{\"mode\":\"refuse\",\"status\":%d,\"retry_after\":\"\"}",
                 statuses[i]);
        receiver_mode(ctl);
        int64_t retry = -1;
        assert_int_equal(deliver(f, "alert-r", &retry), SF_DELIVER_RETRY);
        assert_int_equal(retry, 0); /* no Retry-After: the engine's backoff decides */
    }
}

static void status_400_fails_permanently_with_body_snippet(void **state)
{
    fixture *f = *state;
    static const int statuses[] = {400, 401, 404, 422};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char ctl[160];
        snprintf(ctl, sizeof ctl,
                 "{\"mode\":\"refuse\",\"status\":%d,\"body\":\"field score:\\nbad\"}",
                 statuses[i]);
        receiver_mode(ctl);
        int64_t retry = 0;
        assert_int_equal(deliver(f, "alert-400", &retry), SF_DELIVER_FAIL);
        char want[16];
        snprintf(want, sizeof want, "HTTP %d", statuses[i]);
        assert_non_null(strstr(f->inst.error, want));
        assert_non_null(strstr(f->inst.error, "field score: bad")); /* newline flattened */
    }
}

static void timeout_is_retried_within_the_deadline(void **state)
{
    fixture *f = *state;
    f->inst.timeout_ms = 500;
    g_plugin->destroy(&f->inst, f->state);
    assert_int_equal(g_plugin->create(&f->inst, &f->state), SF_OK);
    assert_int_equal(g_plugin->start(&f->inst, f->state), SF_OK);
    receiver_mode("{\"mode\":\"stall\",\"stall\":3}");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t retry = 0;
    assert_int_equal(deliver(f, "alert-slow", &retry), SF_DELIVER_RETRY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(s < 2.0);
    assert_non_null(strstr(f->inst.error, "timeout"));
}

static void refused_connection_is_retried(void **state)
{
    fixture *f = *state;
    /* A port nobody listens on: bind one, note it, close it. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/hook", ntohs(a.sin_port));
    g_plugin->destroy(&f->inst, f->state);
    assert_int_equal(g_plugin->create(&f->inst, &f->state), SF_OK);
    int64_t retry = 0;
    assert_int_equal(deliver(f, "alert-down", &retry), SF_DELIVER_RETRY);
    assert_true(strlen(f->inst.error) > 0);
}

static void signature_header_is_hmac_of_timestamp_and_body(void **state)
{
    fixture *f = *state;
    int64_t retry = 0;
    time_t before = time(NULL);
    assert_int_equal(deliver(f, "alert-signed", &retry), SF_DELIVER_OK);
    json_object *req = last_request();
    const char *sig = req_header(req, "x-sigflow-signature");
    assert_non_null(sig);
    long long t = 0;
    char hex[65] = "";
    assert_int_equal(sscanf(sig, "t=%lld,v1=%64[0-9a-f]", &t, hex), 2);
    assert_true(t >= before && t <= time(NULL));
    json_object *body = NULL;
    assert_true(json_object_object_get_ex(req, "body", &body));
    char msg[512];
    int mlen = snprintf(msg, sizeof msg, "%lld.%s", t, json_object_get_string(body));
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    assert_non_null(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (unsigned char *)msg,
                         (size_t)mlen, mac, &maclen));
    assert_int_equal(maclen, 32);
    char want[65];
    for (unsigned int i = 0; i < maclen; i++)
        snprintf(want + 2 * i, 3, "%02x", mac[i]);
    assert_string_equal(hex, want);
    json_object *ok = NULL; /* and the receiver, with its own implementation, agrees */
    assert_true(json_object_object_get_ex(req, "signature_ok", &ok));
    assert_true(json_object_get_boolean(ok));
    json_object_put(req);
}

static void error_text_never_contains_the_secret(void **state)
{
    fixture *f = *state;
    receiver_mode("{\"mode\":\"refuse\",\"status\":400,\"body\":\"nope\"}");
    int64_t retry = 0;
    assert_int_equal(deliver(f, "alert-x", &retry), SF_DELIVER_FAIL);
    assert_true(strlen(f->inst.error) > 0);
    assert_null(strstr(f->inst.error, SECRET));
}

static void alert_id_with_a_newline_is_refused_not_sent(void **state)
{
    fixture *f = *state;
    char *before = receiver_call("/_requests", NULL);
    int64_t retry = 0;
    assert_int_equal(deliver(f, "a\r\nX-Injected: 1", &retry), SF_DELIVER_FAIL);
    char *after = receiver_call("/_requests", NULL);
    assert_string_equal(before, after); /* nothing reached the receiver */
    free(before);
    free(after);
}

static void create_refuses_a_non_http_url(void **state)
{
    (void)state;
    struct sf_instance inst = {
        .url = "ftp://example/x", .timeout_ms = 1000, .connect_timeout_ms = 1000};
    void *st = NULL;
    assert_int_equal(g_plugin->create(&inst, &st), SF_EINVAL);
    assert_non_null(strstr(inst.error, "http"));
}

static void descriptor_declares_a_delivery_with_url_required(void **state)
{
    (void)state;
    assert_string_equal(g_plugin->name, "webhook");
    assert_int_equal(g_plugin->kind, SF_KIND_DELIVERY);
    assert_string_equal(g_plugin->options[0].name, "url");
    assert_true(g_plugin->options[0].flags & SF_OPT_REQUIRED);
    assert_int_equal(g_plugin->options[1].type, SF_OPT_SECRET);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(status_200_is_delivered_with_json_and_idempotency_key),
        T(status_503_is_retried_after_retry_after_seconds),
        T(retry_after_as_http_date_is_honoured),
        T(throttling_and_server_statuses_are_retried),
        T(status_400_fails_permanently_with_body_snippet),
        T(timeout_is_retried_within_the_deadline),
        T(refused_connection_is_retried),
        cmocka_unit_test_setup_teardown(signature_header_is_hmac_of_timestamp_and_body,
                                        setup_signed, teardown),
        cmocka_unit_test_setup_teardown(error_text_never_contains_the_secret, setup_signed,
                                        teardown),
        T(alert_id_with_a_newline_is_refused_not_sent),
        cmocka_unit_test(create_refuses_a_non_http_url),
        cmocka_unit_test(descriptor_declares_a_delivery_with_url_required),
    };
    return cmocka_run_group_tests_name("delivery_webhook", tests, group_setup, group_teardown);
}
