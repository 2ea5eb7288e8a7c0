/*
 * crash.h - crash containment. A fatal signal handler names the plugin and callback the
 * crashing thread was in (recorded by the host before every plugin call) in the last log line
 * and appends the plugin's name to <state_dir>/crashes. A plugin named there
 * CRASH_SAFE_MODE_AFTER times is started disabled, loudly (safe mode), until the operator
 * removes the file; a clean shutdown clears it. Calls host_current_call (async-signal-safe).
 */
#ifndef SF_CRASH_H
#define SF_CRASH_H

#include <stddef.h>

#define CRASH_SAFE_MODE_AFTER 2

/* Install the handlers; crash records go under state_dir (must exist). */
void crash_install(const char *state_dir);
/* How many recorded crashes name `plugin`. */
size_t crash_count(const char *state_dir, const char *plugin);
/* Forget the records (after a clean shutdown). */
void crash_clear(const char *state_dir);

#endif
