/*
 * path_log.h - requests to ingest paths no connector serves, logged so a sender pointed at
 * the wrong URL shows up in the log, without letting a scanner flood it: each path at most
 * once a minute (the line carries `suppressed=N`, that path's requests not logged since its
 * previous line), at most SIGFLOW_MAX_UNKNOWN_PATHS paths remembered (the least recently logged
 * forgotten first), and at most SIGFLOW_UNKNOWN_PATH_LINES lines a minute for all paths together
 * (requests beyond that are counted in the next line's `others_suppressed=N`).
 * Owns: the table and its lock. Calls the logger. Used by ingest_http (docs/operating.md
 * "Logs").
 */
#ifndef SIGFLOW_PATH_LOG_H
#define SIGFLOW_PATH_LOG_H

#include <stdint.h>

#define PATH_LOG_WINDOW_MS 60000

typedef struct path_log path_log;

path_log *path_log_new(void);
void path_log_free(path_log *pl);
/*
 * One request to an unknown path (outside text: logged escaped, cut to SIGFLOW_MAX_HTTP_PATH
 * bytes); `known` lists the paths connectors serve (for the message), now_ms monotonic.
 * Returns 1 when a line was written, 0 when it was counted instead.
 */
int path_log_unknown(path_log *pl, const char *method, const char *path, const char *client,
                     const char *known, int64_t now_ms);

#endif
