/*
 * paths.h - the one rule for relative paths in a config: every path the config names
 * (state_dir, plugin_dir, `file:` secrets, plugin options declared SF_OPT_PATH) is resolved
 * against the directory of the config file, never the working directory (docs/config.md
 * "Paths"). Owns the strings it returns. Calls libc. Used by config, secret and options.
 */
#ifndef SIGFLOW_PATHS_H
#define SIGFLOW_PATHS_H

/* The directory part of `path` ("." for a bare name, "/" for "/x"); malloc'd, NULL on ENOMEM. */
char *path_dirname(const char *path);

/* `p` when absolute (or base is NULL/"."), else "base/p"; malloc'd, NULL on ENOMEM. */
char *path_resolve(const char *base, const char *p);

#endif
