/*
 * crash.h - crash containment. A fatal signal handler names the plugin and callback the
 * crashing thread was in (recorded by the host before every plugin call) in the last log line
 * and appends the plugin's name (or the plugin file's, for a crash inside dlopen) to
 * <state_dir>/crashes, "NAME deliver ALERT_ID" for a crash inside deliver. A plugin named there
 * CRASH_SAFE_MODE_AFTER times (CRASH_SAFE_MODE_DELIVER_AFTER inside deliver) is started
 * disabled, loudly (safe mode), or not loaded at all when the crashes were at load time,
 * until the operator removes the file; a clean shutdown clears it. Calls host_current_call
 * (async-signal-safe).
 */
#ifndef SIGFLOW_CRASH_H
#define SIGFLOW_CRASH_H

#include <stddef.h>

#define CRASH_SAFE_MODE_AFTER 2
/* Crashes inside deliver: each alert is bounded by its own counted attempts
   (DELIVERY_POISON_AFTER), so only a plugin crashing on many alerts is disabled. */
#define CRASH_SAFE_MODE_DELIVER_AFTER 5

/* Install the handlers; crash records go under state_dir (must exist). */
void crash_install(const char *state_dir);
/* How many recorded crashes name `plugin` (outside deliver). */
size_t crash_count(const char *state_dir, const char *plugin);
/* How many recorded crashes name `plugin` inside `callback` ("deliver"). */
size_t crash_count_in(const char *state_dir, const char *plugin, const char *callback);
/* How many recorded crashes happened while `plugin` was delivering alert `alert_id`. */
size_t crash_count_alert(const char *state_dir, const char *plugin, const char *alert_id);
/* Forget the records (after a clean shutdown). */
void crash_clear(const char *state_dir);

#endif
