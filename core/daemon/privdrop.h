/*
 * privdrop.h - `user = NAME` in [sigflow]: after the listeners are bound and the store is
 * open, a daemon started as root becomes NAME for good (docs/reliability.md, Storage and
 * privileges). Owns nothing. Calls getpwnam_r, initgroups, setresgid, setresuid, nftw.
 * Called by runtime.c once, before any connector or delivery starts.
 */
#ifndef SIGFLOW_PRIVDROP_H
#define SIGFLOW_PRIVDROP_H

#include <stddef.h>

#include "sigflow.h"

/*
 * Become `user`: state_dir and everything in it is handed to the user (chown, so checkpoints,
 * the high-water mark and crash records can still be written), then the supplementary groups
 * (initgroups), the group and the user are set (real, effective and saved), and the result is
 * checked: the ids are the user's and setuid(0) fails. Started as that user already: nothing
 * to do. Started as another user that is not root: an error (a non-root process cannot change
 * user). SF_OK, or an error with the reason in err.
 */
sf_status privdrop_to(const char *user, const char *state_dir, char *err, size_t errlen);

#endif
