/*
 * loader_harness.h - shared setup for the loader tests: a temporary plugin directory per
 * test, fixtures copied into it with a chosen mode, a minimal host table, and stderr
 * capture to read the loader's log lines. Included by tests/plugins/test_loader*.c only.
 */
#ifndef SF_LOADER_HARNESS_H
#define SF_LOADER_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/limits.h"
#include "plugin/loader.h"

typedef struct harness {
    char dir[64]; /* this test's plugin directory */
    plugin_registry *reg;
    char err[SIGFLOW_MAX_ERROR_LEN];
    char path[PATH_MAX]; /* the file stage() wrote last */
    int saved_stderr;
} harness;

static void th_log(sf_instance *inst, sf_log_level level, const char *fmt, ...)
{
    (void)inst;
    (void)level;
    (void)fmt;
}

/* Just enough host for init callbacks: the size, the version and a logger. */
static const sf_host th_host = {
    .size = sizeof(sf_host), .abi_major = SF_ABI_MAJOR, .abi_minor = SF_ABI_MINOR, .log = th_log};

static const sf_host_info th_info = {.size = sizeof(sf_host_info),
                                     .abi_major = SF_ABI_MAJOR,
                                     .abi_minor = SF_ABI_MINOR,
                                     .host_version = "test"};

static const char *th_fixtures(void)
{
    const char *d = getenv("FIXTURES");
    return d && *d ? d : "build/tests/fixtures";
}

__attribute__((unused)) static void th_assert_contains(const char *hay, const char *needle)
{
    if (!hay || !strstr(hay, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, hay ? hay : "(null)");
}

static int th_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Copies `from` to `to` with `mode` (exact, whatever the umask), closing it when done. */
static void th_copy(const char *from, const char *to, mode_t mode)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        fail_msg("cannot open fixture %s (is FIXTURES set? run `make test`)", from);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(out >= 0);
    char buf[8192];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    assert_int_equal(n, 0);
    assert_int_equal(fchmod(out, mode), 0);
    assert_int_equal(close(out), 0);
    close(in);
}

/* Copies fixture <name>.so into the test's directory as `as` (default: <name>.so). */
static const char *th_stage(harness *h, const char *name, const char *as, mode_t mode)
{
    char from[PATH_MAX];
    snprintf(from, sizeof from, "%s/%s.so", th_fixtures(), name);
    if (as)
        snprintf(h->path, sizeof h->path, "%s/%s", h->dir, as);
    else
        snprintf(h->path, sizeof h->path, "%s/%s.so", h->dir, name);
    th_copy(from, h->path, mode);
    return h->path;
}

static int th_setup(void **state)
{
    harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    snprintf(h->dir, sizeof h->dir, "/tmp/sf_loader_XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    h->reg = loader_new(&th_host, &th_info);
    assert_non_null(h->reg);
    h->saved_stderr = -1;
    *state = h;
    return 0;
}

static void th_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            th_remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int th_teardown(void **state)
{
    harness *h = *state;
    loader_free(h->reg);
    th_remove_tree(h->dir);
    free(h);
    return 0;
}

/* Send stderr (where the logger writes) to a file until th_capture_end. */
static void th_capture_begin(harness *h)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/stderr.log", h->dir);
    fflush(stderr);
    h->saved_stderr = dup(2);
    assert_true(h->saved_stderr >= 0);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, 2), 2);
    close(fd);
}

/* Restores stderr; returns what was logged meanwhile (free it). */
static char *th_capture_end(harness *h)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/stderr.log", h->dir);
    fflush(stderr);
    assert_int_equal(dup2(h->saved_stderr, 2), 2);
    close(h->saved_stderr);
    h->saved_stderr = -1;
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    char *text = calloc(1, 65536);
    assert_non_null(text);
    size_t n = fread(text, 1, 65535, f);
    text[n] = '\0';
    fclose(f);
    unlink(p);
    return text;
}

#endif
