/* test_secret.c - env:/file: secrets, literals refused (core/config/secret.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/limits.h"
#include "config/secret.h"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sf_test_secret_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char p[160];
    const char *files[] = {"secret", "secret_long", "secret_empty"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0600), 0);
}

static void secret_from_env_names_variable_never_value(void **state)
{
    (void)state;
    char err[SIGFLOW_MAX_ERROR_LEN];
    setenv("SF_TEST_SECRET", "s3cr3t", 1);
    char *v = secret_resolve("env:SF_TEST_SECRET", err, sizeof err);
    assert_non_null(v);
    assert_string_equal(v, "s3cr3t");
    free(v);
    unsetenv("SF_TEST_SECRET");
    assert_null(secret_resolve("env:SF_TEST_SECRET", err, sizeof err));
    assert_non_null(strstr(err, "SF_TEST_SECRET is not set"));
    setenv("SF_TEST_SECRET", "", 1);
    assert_null(secret_resolve("env:SF_TEST_SECRET", err, sizeof err));
    assert_non_null(strstr(err, "SF_TEST_SECRET is empty"));
    unsetenv("SF_TEST_SECRET");
    assert_null(secret_resolve("env:", err, sizeof err));
}

static void secret_from_file_strips_one_newline(void **state)
{
    (void)state;
    char err[SIGFLOW_MAX_ERROR_LEN], path[160], spec[170];
    snprintf(path, sizeof path, "%s/secret", tmpdir);
    write_file(path, "abc\n\n");
    chmod(path, 0600);
    snprintf(spec, sizeof spec, "file:%s", path);
    char *v = secret_resolve(spec, err, sizeof err);
    assert_non_null(v);
    assert_string_equal(v, "abc\n");
    free(v);
    write_file(path, "xyz");
    v = secret_resolve(spec, err, sizeof err);
    assert_non_null(v);
    assert_string_equal(v, "xyz");
    free(v);
}

static void secret_file_errors(void **state)
{
    (void)state;
    char err[SIGFLOW_MAX_ERROR_LEN], path[160], spec[170];
    assert_null(secret_resolve("file:/nonexistent/secret", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/secret"));
    snprintf(path, sizeof path, "%s/secret_long", tmpdir);
    char *big = malloc(SIGFLOW_MAX_SECRET_LEN + 2);
    assert_non_null(big);
    memset(big, 'a', SIGFLOW_MAX_SECRET_LEN + 1);
    big[SIGFLOW_MAX_SECRET_LEN + 1] = '\0';
    write_file(path, big);
    snprintf(spec, sizeof spec, "file:%s", path);
    assert_null(secret_resolve(spec, err, sizeof err));
    assert_non_null(strstr(err, "longer than 4096 bytes"));
    big[SIGFLOW_MAX_SECRET_LEN] = '\0'; /* exactly the limit is fine */
    write_file(path, big);
    free(big);
    char *v = secret_resolve(spec, err, sizeof err);
    assert_non_null(v);
    assert_int_equal(strlen(v), SIGFLOW_MAX_SECRET_LEN);
    free(v);
    snprintf(path, sizeof path, "%s/secret_empty", tmpdir);
    write_file(path, "\n");
    snprintf(spec, sizeof spec, "file:%s", path);
    assert_null(secret_resolve(spec, err, sizeof err));
    assert_null(secret_resolve("file:/tmp", err, sizeof err));
    assert_non_null(strstr(err, "not a regular file"));
}

static void secret_literal_is_refused(void **state)
{
    (void)state;
    char err[SIGFLOW_MAX_ERROR_LEN];
    assert_null(secret_resolve("hunter2", err, sizeof err));
    assert_string_equal(err, "secrets are never written in INI: use env:NAME or file:/path");
    assert_null(secret_resolve("", err, sizeof err));
    assert_null(strstr(err, "hunter2"));
}

/* A relative file: secret is read from the config's directory, not the working one. */
static void secret_file_relative_to_the_config_dir(void **state)
{
    (void)state;
    char p[160], err[SIGFLOW_MAX_ERROR_LEN];
    snprintf(p, sizeof p, "%s/secret", tmpdir);
    write_file(p, "rel-value\n");
    assert_int_equal(chdir("/"), 0);
    char *v = secret_resolve_at("file:secret", tmpdir, err, sizeof err);
    assert_non_null(v);
    assert_string_equal(v, "rel-value");
    free(v);
    assert_null(secret_resolve_at("file:secret", NULL, err, sizeof err)); /* / has none */
}

/* `ENV:X`, `Env=X`, `FILE:x`: the slip is named with what was meant. */
static void secret_slips_get_a_did_you_mean(void **state)
{
    (void)state;
    char err[SIGFLOW_MAX_ERROR_LEN];
    assert_null(secret_resolve("ENV:STRIPE_KEY", err, sizeof err));
    assert_non_null(strstr(err, "did you mean `env:STRIPE_KEY`?"));
    assert_null(secret_resolve("Env=TOKEN", err, sizeof err));
    assert_non_null(strstr(err, "did you mean `env:TOKEN`?"));
    assert_null(secret_resolve("FILE:/run/s", err, sizeof err));
    assert_non_null(strstr(err, "did you mean `file:/run/s`?"));
    assert_null(secret_resolve("hunter2", err, sizeof err));
    assert_null(strstr(err, "did you mean"));
}

/* check --no-secrets: the syntax is checked, the variable and file are not read. */
static void check_only_mode_reads_no_secret(void **state)
{
    (void)state;
    char err[SIGFLOW_MAX_ERROR_LEN];
    unsetenv("SF_TEST_ABSENT");
    secret_set_check_only(true);
    char *v = secret_resolve("env:SF_TEST_ABSENT", err, sizeof err);
    assert_non_null(v);
    free(v);
    v = secret_resolve("file:/nonexistent/secret", err, sizeof err);
    assert_non_null(v);
    free(v);
    assert_null(secret_resolve("literal", err, sizeof err)); /* still a mistake */
    assert_null(secret_resolve("env:", err, sizeof err));
    secret_set_check_only(false);
    assert_null(secret_resolve("env:SF_TEST_ABSENT", err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(secret_from_env_names_variable_never_value),
        cmocka_unit_test(secret_from_file_strips_one_newline),
        cmocka_unit_test(secret_file_errors),
        cmocka_unit_test(secret_literal_is_refused),
        cmocka_unit_test(secret_file_relative_to_the_config_dir),
        cmocka_unit_test(secret_slips_get_a_did_you_mean),
        cmocka_unit_test(check_only_mode_reads_no_secret),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
