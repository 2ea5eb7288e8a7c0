/*
 * store_guard.h - the checks store_open makes on state_dir and the database file, and the
 * journal high-water mark kept beside the database (store_guard.c). Used by store.c only.
 */
#ifndef SIGFLOW_STORE_GUARD_H
#define SIGFLOW_STORE_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sigflow.h"

#define STORE_HWM_FILE "sigflow.hwm"

/* state_dir exists (or, with create, is made 0700) and is not group/other-writable. */
int store_guard_dir(const char *dir, bool create, char *err, size_t errlen);
/* The database file exists and is not empty (or, with create, is made 0600); made 0600. */
int store_guard_file(const char *path, bool create, char *err, size_t errlen);
/* The schema of a database store_guard_file created is committed: forget the marker that
   let an interrupted first start (a 0-byte file) be finished by the next one. */
void store_guard_created(const char *path);
/* The recorded high-water mark; *present false when there is no file. */
int store_guard_hwm_read(const char *dir, uint64_t *seq, bool *present);
/* Record `seq` (write, fsync, rename, fsync the directory). */
int store_guard_hwm_write(const char *dir, uint64_t seq);

#endif
