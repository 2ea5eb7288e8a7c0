/*
 * host_call.h - calls into plugins: the calling thread's current plugin call (which plugin,
 * instance and callback, the alert being delivered) for the crash handler and for host->log
 * outside an instance, and calls with a deadline. Owns: those thread-locals. Calls only libc
 * and pthreads. Used by instance.c, host.c, the loader, crash.c and delivery workers.
 */
#ifndef SIGFLOW_HOST_CALL_H
#define SIGFLOW_HOST_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include "sigflow.h"

/* Record that the calling thread enters `callback` of an instance (ctx: "plugin=P
   instance=I"; callback a literal), and that it left. */
void host_call_enter(const char *ctx, const char *plugin, const char *callback);
void host_call_leave(void);
/* "plugin=P" the loader noted for the calling thread (host_call_note), or NULL. */
const char *host_call_log_ctx(void);

/*
 * Run fn(arg) on a thread of its own and wait at most timeout_ms: fn's status, or
 * SF_ETIMEOUT when it is still running (it is left to finish on its own; arg must then stay
 * valid for good). The deadline on every call into a plugin that could hold the daemon.
 */
typedef sf_status (*host_job_fn)(void *arg);
sf_status host_run_timed(host_job_fn fn, void *arg, int64_t timeout_ms);
/*
 * The same without waiting (instance create/start off the main loop): host_job_start runs
 * fn(arg) on a thread of its own (NULL: no memory or no thread); host_job_wait waits at most
 * wait_ms (0: just looks) and says whether fn returned, with its status in *rc; the caller
 * ends with host_job_release, whether fn returned or not (a job still running frees itself
 * when it ends; arg must then stay valid for good).
 */
typedef struct host_job host_job;
host_job *host_job_start(host_job_fn fn, void *arg);
bool host_job_wait(host_job *j, int64_t wait_ms, sf_status *rc);
void host_job_release(host_job *j);

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
