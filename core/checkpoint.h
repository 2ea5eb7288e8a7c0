/*
 * checkpoint.h - plugins' durable key-value checkpoints (a connector's read position), one
 * small file per (instance, key) under <state_dir>/checkpoints, replaced atomically (write a
 * temp file, fsync, rename, fsync the directory). Owns: those files. Calls POSIX I/O only.
 * Used by the host's checkpoint_get/checkpoint_set.
 */
#ifndef SF_CHECKPOINT_H
#define SF_CHECKPOINT_H

#include "sigflow.h"

/* Where checkpoints live; created on first set. Call before instances start. */
sf_status checkpoint_set_dir(const char *state_dir);
/* *value is malloc'd or NULL when none stored. */
sf_status checkpoint_read(const char *instance, const char *key, char **value);
sf_status checkpoint_write(const char *instance, const char *key, const char *value);

#endif
