/*
 * loader.h - finds, checks and loads plugin .so files; keeps the registry of loaded ones.
 * Checks, in order, before any plugin code beyond the entry function runs: file ownership
 * and mode on the opened file (refuse group/other-writable, or owned by neither root nor the
 * daemon's user), then a private sealed copy of its bytes is dlopen'd (RTLD_NOW|RTLD_LOCAL;
 * nothing done to plugin_dir later reaches it), entry symbol sigflow_plugin_v1, descriptor
 * magic, ABI major, ABI minor, struct size (not more than the host knows, not less than the
 * plugin's minor defines), min host minor, name syntax, kind, duplicate name; the strings and
 * option table are copied into host memory; then init(host) on its own thread, with a
 * deadline. A scan refuses a plugin_dir others can write to and links leading out of it.
 * Every refusal is one log line naming file, field and both values. Nothing is ever
 * dlclose'd. Owns: the registry. Calls log, dlfcn, inotify. Used by host/runtime and the CLI.
 *
 * Threading: loader_load_file, loader_scan and loader_watch* must be called from one
 * thread (the runtime's). loader_find, loader_count and loader_at may be called from
 * any thread at the same time; the loaded_plugin they return lives until loader_free.
 */
#ifndef SIGFLOW_LOADER_H
#define SIGFLOW_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * Deadline on a plugin's init, and on the child a probing registry tries a file in
 * (default 10 s). A plugin whose init misses it is refused and its thread abandoned.
 */
void loader_set_call_timeout(plugin_registry *r, int64_t ms);
/*
 * Probe mode, for `sigflow check` and `sigflow plugins`: each file is first dlopen'd and its
 * init run in a child process (a crash or a hang refuses the file, naming the step); only a
 * file that survived there is loaded (and its init run) in this process.
 */
void loader_set_probe(plugin_registry *r, bool probe);
/*
 * After start-up (the runtime's loop): a plugin dropped in whose init has not returned after
 * a moment is left running on its thread and the load returns at once; loader_pending_poll
 * finishes it. Off by default: the start-up scan and the CLI wait for init (plugin_timeout).
 */
void loader_set_async_init(plugin_registry *r, bool on);
/*
 * Finishes the loads whose init was left running: loaded when init returned SF_OK, refused
 * (and remembered, naming the plugin) when it failed or missed plugin_timeout. Returns how
 * many were loaded. Call it from the loading thread, often (the runtime: every loop turn).
 */
int loader_pending_poll(plugin_registry *r);
/*
 * Safe mode at load time: with a state_dir set, a file or plugin that <state_dir>/crashes
 * names CRASH_SAFE_MODE_AFTER times is refused before dlopen or init runs again.
 */
int loader_set_crash_dir(plugin_registry *r, const char *state_dir);
/* How many loads safe mode refused (the runtime keeps the crash records then). */
size_t loader_safe_mode_refusals(const plugin_registry *r);
/*
 * Why a plugin named `name` is not loaded although a file for it was found: the refusal text
 * of a file whose descriptor had that name, or of NAME.so / connector_NAME.so /
 * delivery_NAME.so. NULL when no such file was refused.
 */
const char *loader_refusal_for(const plugin_registry *r, const char *name);

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
