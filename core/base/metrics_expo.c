/*
 * metrics_expo.c - the Prometheus text exposition of metrics.c's series, as `promtool check
 * metrics` accepts it: series grouped by family, a # HELP and # TYPE line before each family
 * (counter for *_total, histogram for NAME_bucket/_sum/_count, gauge otherwise), histogram
 * buckets in ascending `le` order; plus sigflow_build_info and the process metrics (resident
 * memory, open fds, CPU seconds, start time). Owns nothing. Called by metrics_write.
 */
#include "base/metrics_expo.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sigflow.h"

/* Help for the families whose meaning a name alone does not say; others get their words. */
static const struct {
    const char *family, *help;
} known_help[] = {
    {"sigflow_events_in_total", "Events a connector handed to the journal."},
    {"sigflow_events_rejected_total", "Events a connector offered under back-pressure (retried)."},
    {"sigflow_journal_commits_total", "Journal transactions committed."},
    {"sigflow_journal_events_total", "Events appended to the journal."},
    {"sigflow_journal_duplicates_total", "Events dropped by inbound dedup (map.id seen before)."},
    {"sigflow_journal_failed_total", "Events whose journal write failed."},
    {"sigflow_journal_commit_seconds",
     "Time of each journal commit, BEGIN to COMMIT (at fsync: the disk's flush included)."},
    {"sigflow_store_checkpoints_total", "WAL checkpoints run by the store's checkpointer thread."},
    {"sigflow_store_checkpoint_pages_total",
     "WAL pages the checkpointer copied into the database."},
    {"sigflow_store_checkpoints_forced_total",
     "WAL resets forced past the hard bound (the store lock held briefly)."},
    {"sigflow_store_checkpoints_inline_total",
     "WAL checkpoints the committing thread ran itself (the checkpointer fell far behind)."},
    {"sigflow_store_checkpoint_locked_rounds_total",
     "WAL checkpoint rounds run with the store lock held, so the WAL starts over."},
    {"sigflow_store_checkpoint_locked_pages_total",
     "WAL pages those rounds copied while every commit waited."},
    {"sigflow_store_checkpoint_failures_total",
     "WAL checkpoints that failed, and forced resets a reader kept from finishing."},
    {"sigflow_store_wal_pages", "Pages in the store's WAL after the last commit."},
    {"sigflow_alerts_total", "Alerts the decision fired and stored in the outbox."},
    {"sigflow_deliveries_total", "Delivery attempts per target and result."},
    {"sigflow_outbox_pending", "Alerts waiting in the outbox per target."},
    {"sigflow_outbox_dead", "Dead-lettered deliveries per target (sigflow dlq)."},
    {"sigflow_journaled_queue_depth",
     "Events committed to the journal and waiting for the scorer thread."},
    {"sigflow_mapping_documents_total", "Documents a connector's mapping read."},
    {"sigflow_mapping_misses_total", "Documents lacking a mapped field, or with the wrong type."},
    {"sigflow_mapping_dropped_total",
     "Documents acknowledged but not journaled: type not in `types`, or unmapped and ignored."},
    {"sigflow_build_info", "sigflow's version and plugin ABI; always 1."},
    {"process_resident_memory_bytes", "Resident memory size in bytes."},
    {"process_open_fds", "Number of open file descriptors."},
    {"process_max_fds", "Maximum number of open file descriptors."},
    {"process_cpu_seconds_total", "User and system CPU time spent in seconds."},
    {"process_start_time_seconds", "Start time of the process since the Unix epoch in seconds."},
};

static size_t family_len(const char *name)
{
    return strcspn(name, "{");
}

/* NAME_bucket, NAME_sum, NAME_count of a histogram: the length of NAME, else 0. */
static size_t histogram_stem(const char *name, size_t len)
{
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(suffixes[i]);
        if (len > n && memcmp(name + len - n, suffixes[i], n) == 0)
            return len - n;
    }
    return 0;
}

static double le_of(const char *name)
{
    const char *le = strstr(name, "le=\"");
    if (!le)
        return NAN;
    return strncmp(le + 4, "+Inf", 4) == 0 ? INFINITY : strtod(le + 4, NULL);
}

int metrics_expo_compare(const char *a, const char *b)
{
    size_t la = family_len(a), lb = family_len(b);
    size_t sa = histogram_stem(a, la), sb = histogram_stem(b, lb);
    /* group a histogram's three kinds of series under its stem */
    size_t ka = sa ? sa : la, kb = sb ? sb : lb;
    size_t k = ka < kb ? ka : kb;
    int c = memcmp(a, b, k);
    if (c != 0 || ka != kb)
        return c != 0 ? c : (ka < kb ? -1 : 1);
    double x = le_of(a), y = le_of(b);
    if (!isnan(x) && !isnan(y) && x != y && la == lb && memcmp(a, b, la) == 0)
        return x < y ? -1 : 1;
    return strcmp(a, b);
}

/* "sigflow_events_in_total" -> "sigflow events in total" when no help is known. */
static void help_for(const char *family, size_t n, char *buf, size_t len)
{
    for (size_t i = 0; i < sizeof known_help / sizeof known_help[0]; i++)
        if (strlen(known_help[i].family) == n && memcmp(known_help[i].family, family, n) == 0) {
            snprintf(buf, len, "%s", known_help[i].help);
            return;
        }
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < len; i++)
        buf[k++] = family[i] == '_' ? ' ' : family[i];
    buf[k] = '\0';
}

/* The family of series `name`: its name without labels, or its histogram's stem. */
static size_t family_of(const char *name, const char *const *hists, size_t nh)
{
    size_t n = family_len(name), stem = histogram_stem(name, n);
    for (size_t i = 0; stem && i < nh; i++)
        if (strlen(hists[i]) == stem && memcmp(hists[i], name, stem) == 0)
            return stem;
    return n;
}

void metrics_expo_family(FILE *to, const char *name, const char *prev, const char *const *hists,
                         size_t nh)
{
    size_t fam = family_of(name, hists, nh);
    size_t stem = fam != family_len(name) ? fam : 0;
    if (prev && family_of(prev, hists, nh) == fam && memcmp(prev, name, fam) == 0)
        return; /* same family: its header is written */
    char help[256];
    help_for(name, fam, help, sizeof help);
    const char *type = stem                                                  ? "histogram"
                       : fam > 6 && memcmp(name + fam - 6, "_total", 6) == 0 ? "counter"
                                                                             : "gauge";
    fprintf(to, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)fam, name, help, (int)fam, name, type);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own fd */
}

static long resident_bytes(void)
{
    long pages = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        long size;
        if (fscanf(f, "%ld %ld", &size, &pages) != 2)
            pages = -1;
        fclose(f);
    }
    return pages < 0 ? -1 : pages * sysconf(_SC_PAGESIZE);
}

/* Boot time (/proc/stat btime) + the process's start in clock ticks (/proc/self/stat #22). */
static double start_time_s(void)
{
    char buf[1024];
    double btime = -1, ticks = -1;
    FILE *f = fopen("/proc/stat", "r");
    while (f && fgets(buf, sizeof buf, f))
        if (strncmp(buf, "btime ", 6) == 0)
            btime = strtod(buf + 6, NULL);
    if (f)
        fclose(f);
    f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (p)
        ticks = strtod(p + 1, NULL);
    long hz = sysconf(_SC_CLK_TCK);
    return btime < 0 || ticks < 0 || hz <= 0 ? -1 : btime + ticks / (double)hz;
}

void metrics_expo_process(FILE *to)
{
    char help[256];
#define HEADER(fam, type)                                                                          \
    do {                                                                                           \
        help_for(fam, strlen(fam), help, sizeof help);                                             \
        fprintf(to, "# HELP %s %s\n# TYPE %s %s\n", fam, help, fam, type);                         \
    } while (0)
    HEADER("sigflow_build_info", "gauge");
    fprintf(to, "sigflow_build_info{version=\"%s\",abi=\"%d.%d\"} 1\n", SIGFLOW_VERSION,
            SF_ABI_MAJOR, SF_ABI_MINOR);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        HEADER("process_cpu_seconds_total", "counter");
        fprintf(to, "process_cpu_seconds_total %.6f\n",
                (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    }
    long rss = resident_bytes();
    if (rss >= 0) {
        HEADER("process_resident_memory_bytes", "gauge");
        fprintf(to, "process_resident_memory_bytes %ld\n", rss);
    }
    int fds = count_fds();
    if (fds >= 0) {
        HEADER("process_open_fds", "gauge");
        fprintf(to, "process_open_fds %d\n", fds);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        HEADER("process_max_fds", "gauge");
        fprintf(to, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
    double start = start_time_s();
    if (start >= 0) {
        HEADER("process_start_time_seconds", "gauge");
        fprintf(to, "process_start_time_seconds %.2f\n", start);
    }
#undef HEADER
}
