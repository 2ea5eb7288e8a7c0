/*
 * host.h - the host side of the SDK: the sf_host table every plugin calls (its adapters act on
 * the instance a plugin passes back: logging, options, events and emit, mapping, cursors,
 * metrics, threads), with the alert and message accessors of host_alert.c/host_message.c and
 * the request accessors of host_request.c. Owns: the table. Calls instance (its state),
 * options, mapping, event, crypto, log, metrics. Used by the loader (init) and the CLI.
 * Instances are instance.h; the crash context and deadlines host_call.h (both included here).
 */
#ifndef SIGFLOW_HOST_H
#define SIGFLOW_HOST_H

#include "plugin/host_call.h"
#include "plugin/instance.h"
#include "sigflow.h"

/* The table handed to every plugin's init. Lives for the whole process. */
const sf_host *host_table(void);
/* What the entry function is told. */
const sf_host_info *host_info(void);

#endif
