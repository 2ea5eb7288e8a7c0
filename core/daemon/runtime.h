/*
 * runtime.h - `sigflow run`: the daemon. Loads the site, starts deliveries then connectors,
 * moves events from connectors through a bounded queue (back-pressure, never a silent drop)
 * into the scoring engine, fans alerts out to delivery workers; SIGHUP reloads (validated
 * whole first; only changed instances restart), SIGTERM/SIGINT drain and stop, new .so files
 * are picked up live. Calls site, host, score, delivery, loader. Called by main.
 */
#ifndef SIGFLOW_RUNTIME_H
#define SIGFLOW_RUNTIME_H

#include <stdbool.h>

/*
 * Runs until SIGTERM/SIGINT. Returns the process exit code. A missing state_dir or database
 * is refused unless `init` (run --init: create them on a first start); an existing store is
 * checked (quick_check, the journal high-water mark) either way.
 */
int runtime_run(const char *config_path, bool init);

#endif
