/*
 * notify.h - the service manager's readiness protocol (systemd's sd_notify, written by hand:
 * no libsystemd). When NOTIFY_SOCKET names a Unix datagram socket, `sigflow run` sends
 * READY=1 once its listeners are bound and the store is open, RELOADING=1 / READY=1 around a
 * SIGHUP reload, STOPPING=1 when it starts to drain, and WATCHDOG=1 at half WATCHDOG_USEC
 * when the unit sets WatchdogSec=. Without NOTIFY_SOCKET every call does nothing.
 * Owns: the socket address and the watchdog interval. Calls nothing else but the logger.
 * Used by runtime.c (docs/operating.md "systemd").
 */
#ifndef SIGFLOW_NOTIFY_H
#define SIGFLOW_NOTIFY_H

#include <stdint.h>

/* Read NOTIFY_SOCKET / WATCHDOG_USEC / WATCHDOG_PID once, at start. */
void notify_init(void);
/* Send one datagram: `state` is newline-separated KEY=VALUE lines. 0 sent or nothing to do. */
int notify_send(const char *state);
void notify_ready(void);
/* RELOADING=1 with MONOTONIC_USEC (what systemd asks of a reloading service). */
void notify_reloading(void);
void notify_stopping(void);
/* WATCHDOG=1 when half the watchdog interval passed since the last one; now_ms monotonic. */
void notify_watchdog_tick(int64_t now_ms);

#endif
