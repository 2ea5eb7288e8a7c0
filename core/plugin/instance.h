/*
 * instance.h - plugin instances with the lifecycle state machine (new -> created -> started
 * -> stopped -> destroyed) the host enforces: each call into the plugin under its call lock
 * (unless reentrant), with the crash context recorded (host_call.h). Owns: sf_instance objects
 * and the threads they spawn. Calls host_call, host_alert/host_message (release after deliver),
 * log. Used by host.c (the table's adapters), the runtime, delivery workers, the ingest
 * listener and the CLI.
 */
#ifndef SIGFLOW_INSTANCE_H
#define SIGFLOW_INSTANCE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "mapping/mapping.h"
#include "plugin/loader.h"
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

/* Set the instance's last error (what host->set_error does). NULL `in` is ignored. */
void instance_set_error(sf_instance *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void instance_set_errorv(sf_instance *in, const char *fmt, va_list ap);

#endif
