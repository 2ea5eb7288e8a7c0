/*
 * loader_check.c - the checks a plugin file must pass, in the order the SDK documents:
 * file mode and owner, entry symbol, the descriptor's frozen prefix, then its fields.
 * Each refusal is one log line. Calls log, dlfcn. Called by loader.c only.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/loader_internal.h"
#include "base/log.h"

/* The frozen prefix: magic .. flags. A descriptor shorter than this cannot be read at all. */
#define LOADER_PREFIX_SIZE offsetof(sf_plugin, name)
#define LOADER_NAME_MAX 32
/* Entry symbols probed for when sigflow_plugin_v1 is missing, to say "built for ABI N". */
#define LOADER_PROBE_MAJOR_MAX 9

/* Writes "<path>: <field>: <detail>" to err and logs it as one line. Returns status. */
int loader__refuse(const load_ctx *c, int status, const char *field, const char *fmt, ...)
{
    int n = snprintf(c->err, c->errlen, "%s: %s: ", c->path, field);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    char ctx[PATH_MAX + 64];
    char file_kv[PATH_MAX + 32];
    log_format_kv(file_kv, sizeof file_kv, "plugin_file", c->path);
    snprintf(ctx, sizeof ctx, "%s check=%s", file_kv, field);
    log_error(ctx, "plugin refused: %s", c->err);
    return status;
}

const char *loader__status_text(int s)
{
    switch (s) {
    case SF_OK:
        return "ok";
    case SF_EINVAL:
        return "invalid argument";
    case SF_ENOMEM:
        return "out of memory";
    case SF_EIO:
        return "I/O error";
    case SF_ETIMEOUT:
        return "timeout";
    case SF_ERETRY:
        return "retry";
    case SF_EFATAL:
        return "fatal";
    case SF_EUNSUPPORTED:
        return "unsupported";
    case SF_EABI:
        return "ABI mismatch";
    default:
        return "unknown status";
    }
}

/* ---- the checks, in the order the SDK documents ------------------------------------- */

/* Step 1, before dlopen (which runs constructors): a regular file nobody else can change. */
int loader__check_file(const load_ctx *c, int fd, struct stat *st)
{
    if (fstat(fd, st) != 0)
        return loader__refuse(c, SF_EIO, "file", "cannot stat: %s", strerror(errno));
    if (!S_ISREG(st->st_mode))
        return loader__refuse(c, SF_EINVAL, "file", "expected a regular file, found mode 0%o",
                              (unsigned)st->st_mode);
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return loader__refuse(c, SF_EINVAL, "mode",
                              "0%03o is writable by group or others, expected no group/other "
                              "write (e.g. 0755): chmod go-w",
                              (unsigned)(st->st_mode & 07777));
    uid_t me = geteuid();
    if (st->st_uid != 0 && st->st_uid != me)
        return loader__refuse(c, SF_EINVAL, "owner",
                              "owned by uid %u, expected root or %u (the daemon's uid): chown",
                              (unsigned)st->st_uid, (unsigned)me);
    return SF_OK;
}

/* Step 3: the entry symbol, or a hint at the ABI major the file was built for. */
int loader__find_entry(const load_ctx *c, void *dl, sf_entry_fn *entry)
{
    void *sym = dlsym(dl, SF_ENTRY_SYMBOL);
    if (sym) {
        /* POSIX guarantees object and function pointers convert through dlsym. */
        memcpy(entry, &sym, sizeof sym);
        return SF_OK;
    }
    for (int major = 2; major <= LOADER_PROBE_MAJOR_MAX; major++) {
        char name[32];
        snprintf(name, sizeof name, "sigflow_plugin_v%d", major);
        if (dlsym(dl, name))
            return loader__refuse(
                c, SF_EABI, "entry",
                "no symbol %s but %s: plugin built for plugin ABI %d, host speaks "
                "%d: rebuild",
                SF_ENTRY_SYMBOL, name, major, SF_ABI_MAJOR);
    }
    return loader__refuse(c, SF_EABI, "entry",
                          "no symbol %s, expected one: not a sigflow plugin, or built for an "
                          "unknown ABI",
                          SF_ENTRY_SYMBOL);
}

/*
 * The size of a descriptor built against header 1.<minor>: the end of the last member that
 * minor had (a minor that grew only sf_host has its predecessor's). Maintainers: when a
 * member is appended to sf_plugin "since 1.N", add its end here for N.
 */
size_t loader__descriptor_size(unsigned minor)
{
    static const size_t end_of_minor[] = {
        [0] = offsetof(sf_plugin, deliver) + sizeof(((sf_plugin *)0)->deliver),
    };
    size_t n = sizeof end_of_minor / sizeof *end_of_minor;
    return end_of_minor[minor < n ? minor : n - 1];
}

/* Step 5a: the frozen prefix, read field by field before trusting struct_size. */
int loader__check_prefix(const load_ctx *c, const sf_plugin *d)
{
    if (d->magic != SF_PLUGIN_MAGIC)
        return loader__refuse(c, SF_EABI, "magic",
                              "expected 0x%08x, found 0x%08x: not a sigflow "
                              "plugin descriptor",
                              SF_PLUGIN_MAGIC, (unsigned)d->magic);
    if (d->abi_major != SF_ABI_MAJOR)
        return loader__refuse(c, SF_EABI, "abi_major",
                              "plugin built for plugin ABI %u, host speaks %d: rebuild",
                              (unsigned)d->abi_major, SF_ABI_MAJOR);
    if (d->abi_minor > SF_ABI_MINOR)
        return loader__refuse(c, SF_EABI, "abi_minor",
                              "built for plugin ABI %d.%u, host speaks %d.%d: upgrade sigflow",
                              SF_ABI_MAJOR, (unsigned)d->abi_minor, SF_ABI_MAJOR, SF_ABI_MINOR);
    if (d->struct_size > sizeof(sf_plugin))
        return loader__refuse(c, SF_EABI, "struct_size",
                              "descriptor is %u bytes, host knows at most %zu: upgrade sigflow",
                              (unsigned)d->struct_size, sizeof(sf_plugin));
    if (d->struct_size < LOADER_PREFIX_SIZE)
        return loader__refuse(
            c, SF_EABI, "struct_size",
            "descriptor is %u bytes, less than the %zu-byte frozen prefix: rebuild",
            (unsigned)d->struct_size, LOADER_PREFIX_SIZE);
    /* Every real sizeof(sf_plugin) is a multiple of its alignment; another size would
     * cut a pointer in half when copied. */
    if (d->struct_size % _Alignof(sf_plugin) != 0)
        return loader__refuse(c, SF_EABI, "struct_size",
                              "descriptor is %u bytes, expected a multiple of %zu: rebuild",
                              (unsigned)d->struct_size, _Alignof(sf_plugin));
    /* Every member up to a minor's last one is part of that minor's descriptor: a shorter
     * one (a truncated struct, a hand-made size) would silently cut off callbacks. */
    if (d->struct_size < loader__descriptor_size(d->abi_minor))
        return loader__refuse(c, SF_EABI, "struct_size",
                              "descriptor is %u bytes, an ABI %d.%u descriptor is %zu: callbacks "
                              "past byte %u would be cut off: rebuild against sigflow.h",
                              (unsigned)d->struct_size, SF_ABI_MAJOR, (unsigned)d->abi_minor,
                              loader__descriptor_size(d->abi_minor), (unsigned)d->struct_size);
    if (d->min_host_minor > SF_ABI_MINOR)
        return loader__refuse(
            c, SF_EABI, "min_host_minor",
            "plugin needs host ABI %d.%u or newer, host speaks %d.%d: upgrade sigflow",
            SF_ABI_MAJOR, (unsigned)d->min_host_minor, SF_ABI_MAJOR, SF_ABI_MINOR);
    return SF_OK;
}

static bool name_valid(const char *name)
{
    size_t n = 0;
    for (; name[n] && n <= LOADER_NAME_MAX; n++) {
        char ch = name[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return false;
    }
    return n >= 1 && n <= LOADER_NAME_MAX;
}

/* Step 5b: the fields of the host-sized, zero-filled copy. */
int loader__check_fields(const load_ctx *c, const sf_plugin *d)
{
    if (!d->name)
        return loader__refuse(c, SF_EINVAL, "name", "missing (NULL), expected [a-z0-9_]{1,32}");
    if (!name_valid(d->name))
        return loader__refuse(c, SF_EINVAL, "name", "\"%.40s\" is not [a-z0-9_]{1,32}", d->name);
    if (d->kind == SF_KIND_CONNECTOR) {
        if (!d->poll && !d->request && !d->start)
            return loader__refuse(
                c, SF_EINVAL, "kind",
                "connector without poll, request or start, expected at least one");
    } else if (d->kind == SF_KIND_DELIVERY) {
        if (!d->deliver)
            return loader__refuse(c, SF_EINVAL, "kind", "delivery without deliver, expected one");
    } else {
        return loader__refuse(c, SF_EINVAL, "kind", "%d is not connector (%d) or delivery (%d)",
                              (int)d->kind, SF_KIND_CONNECTOR, SF_KIND_DELIVERY);
    }
    return SF_OK;
}
