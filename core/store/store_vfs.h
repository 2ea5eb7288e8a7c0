/*
 * store_vfs.h - the SQLite VFS the store's writing connection opens its database with: the
 * default (unix) VFS, except that a WAL frame's 24-byte header and its page, which SQLite
 * writes with two calls, reach the file in one `pwrite` (docs/performance.md, "How a request
 * is served"). The bytes, their offsets and their order relative to every sync are SQLite's
 * own. Owns: the VFS object. Calls sqlite3. Used by store.
 */
#ifndef SIGFLOW_STORE_VFS_H
#define SIGFLOW_STORE_VFS_H

#include <stdint.h>

#define STORE_VFS_NAME "sigflow-wal"

/* Register the VFS (once, thread-safe). The name to open with, or NULL (then the default
   VFS serves, as it always can). */
const char *store_vfs_name(void);

/* Frames written in one call since start (diagnostics and tests). */
uint64_t store_vfs_frames_joined(void);

#endif
