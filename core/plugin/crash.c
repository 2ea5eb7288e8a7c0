/*
 * crash.c - the fatal-signal handler (async-signal-safe: write, open, fsync, close, raise)
 * and the <state_dir>/crashes records safe mode reads. Calls host_current_*. Called by the
 * runtime (crash_install before the first plugin is loaded, crash_count, crash_clear) and
 * the loader (crash_count, for safe mode at load time).
 */
#include "plugin/crash.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin/host.h"

static char g_crash_file[PATH_MAX];

static void put(int fd, const char *s)
{
    (void)!write(fd, s, strlen(s));
}

/* Only async-signal-safe calls from here on: write, open, close, signal, raise. */
static void on_fatal(int sig)
{
    const char *call = host_current_call();
    const char *plugin = host_current_plugin();
    put(2, "level=fatal msg=\"crashed on signal ");
    put(2, sig == SIGSEGV  ? "SIGSEGV"
           : sig == SIGBUS ? "SIGBUS"
           : sig == SIGFPE ? "SIGFPE"
           : sig == SIGILL ? "SIGILL"
                           : "SIGABRT");
    if (call) {
        put(2, " inside a plugin\" ");
        put(2, call);
    } else {
        put(2, " in the core\"");
    }
    put(2, "\n");
    if (plugin && g_crash_file[0]) {
        int fd = open(g_crash_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            /* A crash in deliver is told apart: the alert it was given is bounded by its
               counted attempts, so it takes CRASH_SAFE_MODE_DELIVER_AFTER of them. */
            const char *cb = host_current_callback();
            const char *alert = host_current_alert();
            put(fd, plugin);
            if (cb && strcmp(cb, "deliver") == 0) {
                put(fd, " deliver ");
                put(fd, alert ? alert : "?");
            }
            put(fd, "\n");
            fsync(fd);
            close(fd);
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void crash_install(const char *state_dir)
{
    snprintf(g_crash_file, sizeof g_crash_file, "%s/crashes", state_dir);
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    sigaltstack(&ss, NULL);
    struct sigaction sa = {.sa_handler = on_fatal, .sa_flags = SA_ONSTACK | SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaction(sigs[i], &sa, NULL);
}

/* Lines equal to `want`, or (prefix) starting with it. */
static size_t count_lines(const char *state_dir, const char *want, bool prefix)
{
    char path[PATH_MAX], line[PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/crashes", state_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = 0;
    size_t len = strlen(want);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        n += prefix ? strncmp(line, want, len) == 0 : strcmp(line, want) == 0;
    }
    fclose(f);
    return n;
}

size_t crash_count(const char *state_dir, const char *plugin)
{
    return count_lines(state_dir, plugin, false);
}

size_t crash_count_in(const char *state_dir, const char *plugin, const char *callback)
{
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "%s %s ", plugin, callback);
    return count_lines(state_dir, want, true);
}

size_t crash_count_alert(const char *state_dir, const char *plugin, const char *alert_id)
{
    char want[PATH_MAX + 256];
    snprintf(want, sizeof want, "%s deliver %s", plugin, alert_id);
    return count_lines(state_dir, want, false);
}

void crash_clear(const char *state_dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/crashes", state_dir);
    unlink(path);
}
