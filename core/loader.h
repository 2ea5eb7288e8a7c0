/*
 * loader.h - finds, checks and loads plugin .so files; keeps the registry of loaded ones.
 * Checks, in order, before any plugin code beyond the entry function runs: file ownership
 * and mode (refuse group/other-writable, or owned by neither root nor the daemon's user),
 * dlopen(RTLD_NOW|RTLD_LOCAL), entry symbol sigflow_plugin_v1, descriptor magic, ABI major,
 * ABI minor, struct size, min host minor, name syntax, duplicate name; then init(host).
 * Every refusal is one log line naming file, field and both values. Nothing is ever
 * dlclose'd. Owns: the registry. Calls log, dlfcn. Used by host/runtime and the CLI.
 */
#ifndef SF_LOADER_H
#define SF_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "sigflow.h"

typedef struct loaded_plugin {
    char *path;      /* file it came from */
    sf_plugin desc;  /* host-sized copy of the descriptor, zero-filled past its struct_size */
    void *dl;        /* dlopen handle, never closed */
} loaded_plugin;

typedef struct plugin_registry plugin_registry;

/* `host` is handed to each plugin's init, `info` to its entry function. */
plugin_registry *registry_new(const sf_host *host, const sf_host_info *info);
void registry_free(plugin_registry *r); /* frees bookkeeping; never dlcloses */

/*
 * Load one file. 0 on success; -1 with the refusal text in err ("file.so: magic: expected
 * 0x53464c57, found 0x00000000") which is also logged.
 */
int registry_load_file(plugin_registry *r, const char *path, char *err, size_t errlen);
/* Load every *.so in dir not loaded yet. Returns the number newly loaded (refusals logged). */
int registry_scan(plugin_registry *r, const char *dir);

const loaded_plugin *registry_find(const plugin_registry *r, const char *name);
size_t registry_count(const plugin_registry *r);
const loaded_plugin *registry_at(const plugin_registry *r, size_t i);

/*
 * Live pickup: watch `dir` with inotify. registry_watch_fd() is pollable; after it becomes
 * readable, registry_watch_handle() loads new files and returns how many loaded.
 */
int registry_watch(plugin_registry *r, const char *dir);
int registry_watch_fd(const plugin_registry *r);
int registry_watch_handle(plugin_registry *r);

#endif
