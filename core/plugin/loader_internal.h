/*
 * loader_internal.h - the loader's private state and seams, shared by loader.c (registry,
 * load, scan), loader_check.c (the checks) and loader_watch.c (inotify pickup).
 * Not for other modules: use loader.h.
 */
#ifndef SIGFLOW_LOADER_INTERNAL_H
#define SIGFLOW_LOADER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "plugin/loader.h"

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

/* The host's copies of a descriptor's strings and option table (loader_copy.c). */
typedef struct loader_owned {
    char **strings;
    size_t n_strings;
    sf_option *options;
    const char ***choice_lists; /* per option: its copied choices, or NULL */
    size_t n_options;
} loader_owned;

typedef struct plugin_entry {
    loaded_plugin pub;   /* what loader_find hands out; its address never changes */
    loader_owned owned;  /* what pub.desc's strings and options point into */
    char *real;          /* realpath: the identity scans compare */
    file_id id;          /* the version loaded */
    bool replace_warned; /* a replacement `warned` was logged once */
    file_id warned;
    struct init_call *init;   /* a hot drop whose init still runs (loader_pending_poll) */
    int64_t init_deadline_ms; /* monotonic: refused if init has not returned by then */
} plugin_entry;

/* check_plugin's answer for an init that still runs on its thread (async loads only). */
#define LOADER_PENDING 1
/* How long a hot drop's load waits for init before it leaves it running and goes on. */
#define LOADER_INIT_GRACE_MS 100

typedef struct refusal {
    char *real;
    file_id id;    /* the version refused: not retried by scans until content (or, by_attr,
                      mode/owner) changes */
    bool by_attr;  /* refused for its type, mode or owner: a chmod/chown may fix it */
    char *why;     /* the refusal text, for `check` ("refused: ...") */
    char name[40]; /* the descriptor's name when it was read that far, else "" */
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
    int64_t call_timeout_ms; /* deadline on init (and the probe) */
    bool probe;              /* load in a child first; never run init in this process */
    char *crash_dir;         /* state_dir whose `crashes` file safe mode reads; NULL: none */
    size_t safe_mode_refusals;
    bool async_init;        /* after start-up: a slow init does not hold the caller */
    plugin_entry **pending; /* loads whose init still runs; loading thread only */
    size_t n_pending, cap_pending;
};

/* One load in progress: the file as named to the operator and where the refusal text goes. */
typedef struct load_ctx {
    const char *path;
    char *err;
    size_t errlen;
    char name[40]; /* the descriptor's name once read */
} load_ctx;

/* Writes "<path>: <field>: <detail>" to c->err, logs it as one line, returns `status`. */
int loader__refuse(const load_ctx *c, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *loader__status_text(int status);

/* Step 1, before dlopen, on the open file: a regular file, not group/other-writable, owned
   by root or us. */
int loader__check_file(const load_ctx *c, int fd, struct stat *st);
/* Step 2: the file's bytes copied to a sealed memfd (*out), which is what gets dlopen'd. */
int loader__private_copy(const load_ctx *c, int fd, const struct stat *st, int *out);
/* After the checks: the descriptor's strings and options replaced by host-owned copies. */
int loader__own_descriptor(const load_ctx *c, sf_plugin *d, loader_owned *o);
void loader__owned_free(loader_owned *o);
/* init on its own thread, waited for at most r->call_timeout_ms. */
int loader__run_init(plugin_registry *r, const load_ctx *c, const sf_plugin *d);
/*
 * init on its own thread, waited for LOADER_INIT_GRACE_MS: its verdict if it returned by
 * then, else LOADER_PENDING with e->init and e->init_deadline_ms set.
 */
int loader__init_async(plugin_registry *r, const load_ctx *c, plugin_entry *e);
/* A pending init: LOADER_PENDING while it runs within its deadline, else its verdict
   (SF_OK, or a refusal naming the plugin). */
int loader__init_check(plugin_registry *r, const load_ctx *c, plugin_entry *e);
/* Drop a pending init's handle without waiting (the thread keeps its own). */
void loader__init_forget(plugin_entry *e);
/* dlopen, entry and init of `dlname` in a child process: refuses a crash or a hang. */
int loader__probe(plugin_registry *r, const load_ctx *c, const char *dlname);
/* Step 3: the v1 entry symbol, or a refusal naming the ABI major the file was built for. */
int loader__find_entry(const load_ctx *c, void *dl, sf_entry_fn *entry);
/* Step 5a: magic, abi_major, abi_minor, struct_size, min_host_minor, read field by field. */
int loader__check_prefix(const load_ctx *c, const sf_plugin *d);
/* The size a descriptor built against header 1.<minor> has (loader_check.c). */
size_t loader__descriptor_size(unsigned minor);
/* Step 5b: name syntax and kind, on the host-sized zero-filled copy. */
int loader__check_fields(const load_ctx *c, const sf_plugin *d);

plugin_entry *loader__find_loaded(const plugin_registry *r, const char *real);
refusal *loader__find_refusal(const plugin_registry *r, const char *real);
/* Load dir/name if it is a .so not loaded and not refused in this version. 1 if loaded. */
int loader__consider(plugin_registry *r, const char *dir, const char *name);
/* True when the resolved path `real` lies inside `dir`. */
bool loader__inside_dir(const plugin_registry *r, const char *dir, const char *real);

#endif
