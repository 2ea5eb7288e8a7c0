#include "plugin/crash.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
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
            put(fd, plugin);
            put(fd, "\n");
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

size_t crash_count(const char *state_dir, const char *plugin)
{
    char path[PATH_MAX], line[128];
    snprintf(path, sizeof path, "%s/crashes", state_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        n += strcmp(line, plugin) == 0;
    }
    fclose(f);
    return n;
}

void crash_clear(const char *state_dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/crashes", state_dir);
    unlink(path);
}
