/*
 * loader_internal.h - the registry's private state, shared by loader.c (checks, registry,
 * scan) and loader_watch.c (inotify pickup). Not for other modules: use loader.h.
 */
#ifndef SF_LOADER_INTERNAL_H
#define SF_LOADER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "loader.h"

/*
 * Which version of a file. A replaced file has a new inode or mtime; a chmod or chown
 * (fixing a refused file's mode) changes only ctime, which refusals compare too.
 */
typedef struct file_id {
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    struct timespec ctime;
} file_id;

typedef struct plugin_entry {
    loaded_plugin pub;   /* what registry_find hands out; its address never changes */
    char *real;          /* realpath: the identity scans compare */
    file_id id;          /* the version loaded */
    bool replace_warned; /* a replacement `warned` was logged once */
    file_id warned;
} plugin_entry;

typedef struct refusal {
    char *real;
    file_id id;       /* the version refused: the same version is not retried by scans */
    unsigned dlopens; /* times dlopen'd: glibc caches objects by the name they were opened by */
} refusal;

struct plugin_registry {
    const sf_host *host;
    const sf_host_info *info;
    pthread_mutex_t lock;   /* guards plugins/n/cap against readers on other threads */
    plugin_entry **plugins; /* pointers, so entries stay put when the array grows */
    size_t n, cap;
    refusal *refused; /* loading thread only */
    size_t nrefused, refused_cap;
    int watch_fd; /* inotify, -1 when not watching */
    char *watch_dir;
};

plugin_entry *loader_find_loaded(const plugin_registry *r, const char *real);
refusal *loader_find_refusal(const plugin_registry *r, const char *real);
/* Load dir/name if it is a .so not loaded and not refused in this version. 1 if loaded. */
int loader_consider(plugin_registry *r, const char *dir, const char *name);
void loader_watch_close(plugin_registry *r);

#endif
