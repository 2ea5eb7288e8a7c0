/*
 * loader_copy.c - what the loader keeps of a plugin file so that nothing done to plugin_dir
 * afterwards can reach the running code or its descriptor (docs/reliability.md, Plugins):
 *  - a private copy of the file's bytes in a sealed memfd, read from the descriptor that was
 *    checked with fstat (no stat/open race), which is what gets dlopen'd: `cp` over the .so
 *    rewrites a file nobody has mapped;
 *  - host-owned copies of the descriptor's strings and option table, bounded by
 *    SIGFLOW_MAX_PLUGIN_OPTIONS and SIGFLOW_MAX_PLUGIN_TEXT.
 * Calls memfd_create, log. Called by loader.c only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/limits.h"
#include "plugin/loader_internal.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: say the copy is meant to be executable */
#endif

static int memfd_for(const char *name)
{
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) /* a kernel before 6.3 does not know MFD_EXEC */
        fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    return fd;
}

static int copy_all(int from, int to, off_t size)
{
    char buf[64 * 1024];
    off_t done = 0;
    while (done < size) {
        ssize_t n = pread(from, buf, sizeof buf, done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? EIO : errno; /* shrank under us: refuse rather than map a hole */
        for (ssize_t w = 0; w < n;) {
            ssize_t k = write(to, buf + w, (size_t)(n - w));
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                return errno;
            w += k;
        }
        done += n;
    }
    return 0;
}

int loader__private_copy(const load_ctx *c, int fd, const struct stat *st, int *out)
{
    *out = -1;
    if (st->st_size <= 0 || st->st_size > SIGFLOW_MAX_PLUGIN_FILE)
        return loader__refuse(c, SF_EINVAL, "file", "%lld bytes, expected 1 to %d",
                              (long long)st->st_size, SIGFLOW_MAX_PLUGIN_FILE);
    const char *base = strrchr(c->path, '/');
    int m = memfd_for(base ? base + 1 : c->path);
    if (m < 0)
        return loader__refuse(c, SF_EIO, "copy", "memfd_create: %s", strerror(errno));
    int err = copy_all(fd, m, st->st_size);
    if (err) {
        close(m);
        return loader__refuse(c, SF_EIO, "copy", "reading the file: %s", strerror(err));
    }
    /* Sealed: not even this process can change what is mapped from it. */
    if (fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
        err = errno;
        close(m);
        return loader__refuse(c, SF_EIO, "copy", "sealing the copy: %s", strerror(err));
    }
    *out = m;
    return SF_OK;
}

/* ---- host-owned descriptor strings ------------------------------------------------------ */

/* A bounded copy of a plugin string into the owned block; NULL stays NULL. */
static int own_text(loader_owned *o, const load_ctx *c, const char *what, const char **s)
{
    if (!*s)
        return SF_OK;
    size_t n = strnlen(*s, SIGFLOW_MAX_PLUGIN_TEXT + 1);
    if (n > SIGFLOW_MAX_PLUGIN_TEXT)
        return loader__refuse(c, SF_EINVAL, what, "longer than %d bytes", SIGFLOW_MAX_PLUGIN_TEXT);
    char *copy = strndup(*s, n);
    if (!copy)
        return loader__refuse(c, SF_ENOMEM, "memory", "cannot copy %s", what);
    o->strings[o->n_strings++] = copy;
    *s = copy;
    return SF_OK;
}

static size_t count_choices(const char *const *choices)
{
    size_t n = 0;
    while (choices && choices[n] && n <= SIGFLOW_MAX_PLUGIN_OPTIONS)
        n++;
    return n;
}

/* Room for every string one option can hold: name, default, help and its choices. */
static int grow_strings(loader_owned *o, size_t more)
{
    char **grown = realloc(o->strings, (o->n_strings + more) * sizeof *grown);
    if (!grown)
        return SF_ENOMEM;
    o->strings = grown;
    return SF_OK;
}

static int own_option(loader_owned *o, const load_ctx *c, sf_option *opt, size_t i)
{
    size_t nchoices = count_choices(opt->choices);
    if (nchoices > SIGFLOW_MAX_PLUGIN_OPTIONS)
        return loader__refuse(c, SF_EINVAL, "options", "option %zu has more than %d choices", i,
                              SIGFLOW_MAX_PLUGIN_OPTIONS);
    if (grow_strings(o, 3 + nchoices) != SF_OK)
        return loader__refuse(c, SF_ENOMEM, "memory", "cannot copy the options");
    int rc = own_text(o, c, "options", &opt->name);
    if (rc == SF_OK)
        rc = own_text(o, c, "options", &opt->default_value);
    if (rc == SF_OK)
        rc = own_text(o, c, "options", &opt->help);
    if (rc != SF_OK || !opt->choices)
        return rc;
    const char **choices = calloc(nchoices + 1, sizeof *choices);
    if (!choices)
        return loader__refuse(c, SF_ENOMEM, "memory", "cannot copy the options");
    o->choice_lists[i] = choices;
    for (size_t k = 0; k < nchoices && rc == SF_OK; k++) {
        choices[k] = opt->choices[k];
        rc = own_text(o, c, "options", &choices[k]);
    }
    opt->choices = choices;
    return rc;
}

int loader__own_descriptor(const load_ctx *c, sf_plugin *d, loader_owned *o)
{
    size_t nopts = 0;
    while (d->options && d->options[nopts].name) {
        if (++nopts > SIGFLOW_MAX_PLUGIN_OPTIONS)
            return loader__refuse(c, SF_EINVAL, "options", "more than %d options",
                                  SIGFLOW_MAX_PLUGIN_OPTIONS);
    }
    if (grow_strings(o, 3) != SF_OK)
        return loader__refuse(c, SF_ENOMEM, "memory", "cannot copy the descriptor");
    int rc = own_text(o, c, "name", &d->name);
    if (rc == SF_OK)
        rc = own_text(o, c, "version", &d->version);
    if (rc == SF_OK)
        rc = own_text(o, c, "description", &d->description);
    if (rc != SF_OK || !d->options)
        return rc;
    o->options = calloc(nopts + 1, sizeof *o->options);
    o->choice_lists = calloc(nopts + 1, sizeof *o->choice_lists);
    if (!o->options || !o->choice_lists)
        return loader__refuse(c, SF_ENOMEM, "memory", "cannot copy the options");
    memcpy(o->options, d->options, nopts * sizeof *o->options);
    o->n_options = nopts;
    for (size_t i = 0; i < nopts && rc == SF_OK; i++)
        rc = own_option(o, c, &o->options[i], i);
    d->options = o->options;
    return rc;
}

void loader__owned_free(loader_owned *o)
{
    for (size_t i = 0; i < o->n_strings; i++)
        free(o->strings[i]);
    free(o->strings);
    for (size_t i = 0; o->choice_lists && i < o->n_options; i++)
        free(o->choice_lists[i]);
    free(o->choice_lists);
    free(o->options);
    memset(o, 0, sizeof *o);
}
