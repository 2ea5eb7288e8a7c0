/*
 * store_kv.h - durable key-values in the store's kv table: plugin checkpoints (namespace =
 * instance name) and the core's entity-state checkpoints. Owns: the kv rows. Calls store.
 * Used by the host's checkpoint_get/set, and by journal (a cursor committed with events).
 */
#ifndef SIGFLOW_STORE_KV_H
#define SIGFLOW_STORE_KV_H

#include "sigflow.h"
#include "store/store.h"

/* *value is malloc'd (free()) or NULL when nothing is stored. */
sf_status store_kv_get(store *s, const char *ns, const char *key, char **value);
/* Insert or replace; committed (at the store's durability) when it returns. */
sf_status store_kv_set(store *s, const char *ns, const char *key, const char *value);
/* store_kv_set's write alone, for a caller that holds the lock inside its own transaction. */
sf_status store_kv_set_locked(store *s, const char *ns, const char *key, const char *value);

#endif
