/*
 * host.h - the host side of the SDK: the sf_host table plugins call, and plugin instances
 * with the lifecycle state machine (new -> created -> started -> stopped -> destroyed) the
 * host enforces. Records which plugin callback each thread is in, for the crash handler.
 * Owns: sf_instance objects and their threads. Calls options, mapping,
 * event, alert, log. Used by the runtime and the CLI.
 */
#ifndef SIGFLOW_HOST_H
#define SIGFLOW_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "plugin/loader.h"
#include "ingest/mapping.h"
#include "plugin/options.h"
#include "sigflow.h"

/*
 * Where an instance's events and checkpoints go (the runtime's journal intake and store).
 * Any member may be NULL: emit is then refused, checkpoints are SF_EUNSUPPORTED.
 */
typedef struct instance_io {
    /* Consumes ev on every return. SF_ERETRY = back-pressure. */
    sf_status (*emit)(void *ctx, sf_instance *src, sf_event *ev);
    sf_status (*checkpoint_get)(void *ctx, sf_instance *src, const char *key, char **value);
    /* Durable when it returns; a connector's cursor commits with the events before it. */
    sf_status (*checkpoint_set)(void *ctx, sf_instance *src, const char *key, const char *value);
    /* After a request or poll callback succeeded: make what it emitted durable (before the
       listener answers 2xx). */
    sf_status (*settle)(void *ctx, sf_instance *src);
    void *ctx;
} instance_io;

typedef enum instance_state {
    INST_NEW,
    INST_CREATED,
    INST_STARTED,
    INST_STOPPED,
    INST_FAILED
} instance_state;

/* The table handed to every plugin's init. Lives for the whole process. */
const sf_host *host_table(void);
/* What the entry function is told. */
const sf_host_info *host_info(void);

/*
 * A new instance of plugin `p` configured by `cfg`. Borrows `cfg`, `opts` and `map` (map is
 * NULL for deliveries): the caller keeps them alive until instance_free, so an instance can be
 * re-created after a failure without validating its options again. `io` (copied; NULL for
 * none) receives what the instance emits and stores.
 */
sf_instance *instance_new(const config_instance *cfg, const loaded_plugin *p, opt_values *opts,
                          mapping *map, const instance_io *io);
/* create, start and stop enforce the state order; a call out of order returns SF_EINVAL. */
sf_status instance_create(sf_instance *in);
sf_status instance_start(sf_instance *in);
/* Sets the stop flag, calls stop, joins the instance's threads. */
sf_status instance_stop(sf_instance *in);
/* destroy (if created) and free. */
void instance_free(sf_instance *in);

sf_status instance_poll(sf_instance *in);
/* Call the plugin's request callback (SF_EUNSUPPORTED if it has none). */
sf_status instance_request(sf_instance *in, const sf_http_request *req, sf_http_response *resp);
sf_deliver_result instance_deliver(sf_instance *in, const sf_alert *a, int64_t *retry_after_ms);

instance_state instance_get_state(const sf_instance *in);
const char *instance_get_name(const sf_instance *in);
/* The last error text set by the plugin (set_error) or the host; "" if none. */
const char *instance_last_error(const sf_instance *in);

/* The callback the instance is in now ("deliver", "stop", ...; "none"): for the line that
   names a stuck instance. */
const char *instance_in_callback(const sf_instance *in);
const char *instance_plugin_name(const sf_instance *in);
/*
 * Give up on an instance stuck in a callback: its should_stop turns true, its emits are
 * refused from now on, and it must never be freed (a thread may still be inside it).
 */
void instance_abandon(sf_instance *in);

/*
 * Run fn(arg) on a thread of its own and wait at most timeout_ms: fn's status, or
 * SF_ETIMEOUT when it is still running (it is left to finish on its own; arg must then stay
 * valid for good). The deadline on every call into a plugin that could hold the daemon.
 */
typedef sf_status (*host_job_fn)(void *arg);
sf_status host_run_timed(host_job_fn fn, void *arg, int64_t timeout_ms);

/* "plugin=P instance=I callback=C" of the calling thread's plugin call, or NULL. Async-safe. */
const char *host_current_call(void);
/* For threads that call plugins: block the signals the main thread handles, but never the
   faults (a blocked SIGSEGV kills the process before the crash handler can name anyone). */
void host_block_signals(void);
/* The instance callback the calling thread is in ("deliver", ...), or NULL. Async-safe. */
const char *host_current_callback(void);
/* The alert id a delivery worker noted before calling deliver (crash records), or NULL. */
const char *host_current_alert(void);
void host_note_alert(const char *alert_id);
/* The plugin name of the calling thread's current plugin call, or NULL. Async-safe. */
const char *host_current_plugin(void);
/*
 * The loader's calls outside an instance (dlopen, the entry function, init): `plugin` is
 * the descriptor's name, or the file's name before the descriptor is read. Recorded before
 * the call, so a crash inside it is attributed; host->log with no instance names it too.
 */
void host_call_note(const char *plugin, const char *file, const char *what);
void host_call_clear(void);

#endif
