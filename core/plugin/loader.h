/*
 * loader.h - finds, checks and loads plugin .so files; keeps the registry of loaded ones.
 * Checks, in order, before any plugin code beyond the entry function runs: file ownership
 * and mode (refuse group/other-writable, or owned by neither root nor the daemon's user),
 * dlopen(RTLD_NOW|RTLD_LOCAL), entry symbol sigflow_plugin_v1, descriptor magic, ABI major,
 * ABI minor, struct size, min host minor, name syntax, kind, duplicate name; then init(host).
 * Every refusal is one log line naming file, field and both values. Nothing is ever
 * dlclose'd. Owns: the registry. Calls log, dlfcn, inotify. Used by host/runtime and the CLI.
 *
 * Threading: loader_load_file, loader_scan and loader_watch* must be called from one
 * thread (the runtime's). loader_find, loader_count and loader_at may be called from
 * any thread at the same time; the loaded_plugin they return lives until loader_free.
 */
#ifndef SF_LOADER_H
#define SF_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "sigflow.h"

typedef struct loaded_plugin {
    char *path;     /* file it came from, as given to loader_load_file / found by scan */
    sf_plugin desc; /* host-sized copy of the descriptor, zero-filled past its struct_size */
    void *dl;       /* dlopen handle, never closed */
} loaded_plugin;

typedef struct plugin_registry plugin_registry;

/*
 * `host` is handed to each plugin's init; `info` to each entry function. Both must outlive
 * the registry (they are the process-wide host_table()/host_info()). NULL if either is NULL
 * or on no memory.
 */
plugin_registry *loader_new(const sf_host *host, const sf_host_info *info);
void loader_free(plugin_registry *r); /* frees bookkeeping; never dlcloses */

/*
 * Load one file. SF_OK on success; a negative sf_status with the refusal text in err
 * ("file.so: magic: expected 0x53464c57, found 0x00000000"), which is also logged as one
 * line. err may be NULL. The refusal is remembered (with the file's mtime) for scans.
 */
int loader_load_file(plugin_registry *r, const char *path, char *err, size_t errlen);
/*
 * Load every regular *.so in dir, in name order, that is not loaded yet and was not refused
 * before in its current version (same inode and mtime). Returns the number newly loaded
 * (refusals logged), or a negative sf_status if dir cannot be read.
 */
int loader_scan(plugin_registry *r, const char *dir);

/* The plugin of that name and kind (0: any kind), or NULL. */
const loaded_plugin *loader_find(const plugin_registry *r, const char *name, sf_plugin_kind kind);
size_t loader_count(const plugin_registry *r);
const loaded_plugin *loader_at(const plugin_registry *r, size_t i);

/*
 * Live pickup: watch `dir` with inotify (one directory per registry). loader_watch_fd()
 * is pollable (-1 when not watching); after it becomes readable, loader_watch_handle()
 * loads the files written, moved or linked into dir and returns how many loaded (negative
 * sf_status on a read error). A file replacing a loaded plugin is not loaded: that takes a
 * restart, and it is logged once.
 */
int loader_watch(plugin_registry *r, const char *dir);
int loader_watch_fd(const plugin_registry *r);
int loader_watch_handle(plugin_registry *r);

#endif
