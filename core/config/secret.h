/*
 * secret.h - secrets named in the INI (`env:NAME`, `file:/path`) resolved to their value.
 * Owns nothing but the strings it returns. Calls libc and log (a warning for a file others
 * can read). Used by config (admin_token) and options (secret options).
 */
#ifndef SIGFLOW_SECRET_H
#define SIGFLOW_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Resolve "env:NAME" / "file:/path" (or a literal, which is refused for secrets: they are
 * never written in INI). Returns a malloc'd string or NULL with a message in err that names
 * the variable or file, never the value. A file is read up to SIGFLOW_MAX_SECRET_LEN bytes, one
 * trailing newline removed.
 */
char *secret_resolve(const char *spec, char *err, size_t errlen);
/* The same with a relative `file:` path resolved against base_dir (the config's directory). */
char *secret_resolve_at(const char *spec, const char *base_dir, char *err, size_t errlen);

/*
 * `sigflow check --no-secrets` (CI has no secrets): only the syntax is checked; env: and file:
 * resolve to a placeholder without reading the variable or the file. Process-wide.
 */
void secret_set_check_only(bool on);

#endif
