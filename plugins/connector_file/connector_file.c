/*
 * connector_file.c - the `file` connector: reads an NDJSON file one event per line, once to
 * the end or following it as it grows (tail -F: truncation and rotation detected by inode and
 * size), maps each line with the host's map_json, emits it (waiting out back-pressure, never
 * dropping a line) and checkpoints "inode:offset" after each accepted batch.
 * Built against sigflow.h alone; calls only the host table and libc. Loaded by the core.
 */
#include "sigflow.h"

#include "file_csv.h"
#include "file_rotated.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_READ_CHUNK 65536
/* Store the cursor after this many bytes of lines, and whenever reading pauses: each store is
   a durable commit of the events before it, so fewer stores let reading and fsync overlap. */
#define FILE_SAVE_EVERY (8 * FILE_READ_CHUNK)
#define FILE_RETRY_FIRST_MS 10 /* back-pressure: first wait, doubled up to the poll interval */
#define FILE_CHECKPOINT_KEY "position"

static const sf_host *host;

typedef struct file_conn {
    sf_instance *inst;
    /* options */
    char *path;
    bool follow, from_end, checkpoint;
    int64_t poll_ms;
    size_t max_line;
    /* set by stop, read by the reader */
    atomic_bool stopping;
    /* everything below belongs to the reader thread once start has spawned it */
    int fd;
    int open_errno;       /* errno of the last failed open, 0 after a success */
    bool opened_once;     /* the first open consults the checkpoint and `from` */
    bool draining;        /* the path now names another file: finish the old one first */
    uint64_t ino;         /* inode of the open file */
    int64_t read_pos;     /* file offset of the next read */
    int64_t line_start;   /* file offset of the pending line's first byte */
    int64_t saved_offset; /* last offset stored with checkpoint_set, -1 for none */
    uint64_t saved_ino;
    bool ckpt_warned;
    char *line; /* the pending line, max_line bytes + NUL */
    size_t line_len;
    bool skipping;    /* the pending line is longer than max_line: drop to its newline */
    uint64_t line_no; /* lines seen since reading began */
    uint64_t events, bad;
    char *chunk;
    file_csv *csv; /* format = csv: the header of the open file; NULL for NDJSON */
} file_conn;

static sf_status file_init(const sf_host *h)
{
    host = h;
    return SF_OK;
}

static bool file_stopping(file_conn *fc)
{
    return atomic_load(&fc->stopping) || host->should_stop(fc->inst);
}

/* ---- positions and checkpoints ---------------------------------------------------------- */

static void file_save(file_conn *fc)
{
    if (!fc->checkpoint || (fc->line_start == fc->saved_offset && fc->ino == fc->saved_ino))
        return;
    char v[64];
    snprintf(v, sizeof v, "%" PRIu64 ":%" PRId64, fc->ino, fc->line_start);
    if (host->checkpoint_set(fc->inst, FILE_CHECKPOINT_KEY, v) == SF_OK) {
        fc->saved_offset = fc->line_start;
        fc->saved_ino = fc->ino;
        fc->ckpt_warned = false;
    } else if (!fc->ckpt_warned) {
        host->log(fc->inst, SF_LOG_WARN, "%s: cannot store the checkpoint; will retry", fc->path);
        fc->ckpt_warned = true;
    }
}

/* Where the first read of a newly opened file starts: the checkpoint if it is for this
 * inode, else `from`. */
static int64_t file_first_offset(file_conn *fc, const struct stat *st)
{
    char *v = NULL;
    if (fc->checkpoint && host->checkpoint_get(fc->inst, FILE_CHECKPOINT_KEY, &v) == SF_OK && v) {
        uint64_t ino = 0;
        int64_t off = -1;
        int n = 0;
        bool ok =
            sscanf(v, "%" SCNu64 ":%" SCNd64 "%n", &ino, &off, &n) == 2 && v[n] == '\0' && off >= 0;
        host->free(v);
        if (!ok) {
            host->log(fc->inst, SF_LOG_WARN, "%s: ignoring a malformed checkpoint", fc->path);
        } else if (ino != (uint64_t)st->st_ino) {
            host->log(fc->inst, SF_LOG_INFO,
                      "%s: not the file of the checkpoint (inode %" PRIu64 ", was %" PRIu64
                      "): reading from the beginning",
                      fc->path, (uint64_t)st->st_ino, ino);
            return 0;
        } else if (off > (int64_t)st->st_size) {
            host->log(fc->inst, SF_LOG_INFO,
                      "%s: shorter than the checkpoint offset %" PRId64
                      " (truncated): reading from the beginning",
                      fc->path, off);
            return 0;
        } else {
            host->log(fc->inst, SF_LOG_INFO, "%s: resuming at byte offset %" PRId64, fc->path, off);
            fc->saved_offset = off;
            fc->saved_ino = ino;
            return off;
        }
    }
    return fc->from_end ? (int64_t)st->st_size : 0;
}

/* format = csv: a file opened past its start (a checkpoint, from = end) reads its header line
 * first; one opened at 0 takes it as its first line. */
static sf_status file_csv_read_header(file_conn *fc, int fd, int64_t off)
{
    file_csv_reset(fc->csv);
    if (off == 0)
        return SF_OK;
    ssize_t n = pread(fd, fc->line, fc->max_line, 0);
    char *nl = n > 0 ? memchr(fc->line, '\n', (size_t)n) : NULL;
    char why[256];
    if (!nl) {
        host->set_error(fc->inst, "%s: cannot read the CSV header line", fc->path);
        return SF_EIO;
    }
    size_t len = (size_t)(nl - fc->line);
    if (len > 0 && fc->line[len - 1] == '\r')
        len--;
    if (!file_csv_header(fc->csv, fc->line, len, why, sizeof why)) {
        host->set_error(fc->inst, "%s:1: %s", fc->path, why);
        return SF_EIO;
    }
    return SF_OK;
}

/* Following, at the first open: when the checkpoint's file was rotated away while we were
 * down (the path names another inode, a sibling such as path.1 is the checkpoint's), finish
 * that file from the checkpoint first (draining), then the path from its start. */
static bool file_open_rotated(file_conn *fc)
{
    char *v = NULL, old[4200];
    uint64_t ino = 0;
    int64_t off = -1;
    int n = 0;
    struct stat now, st;
    if (!fc->follow || !fc->checkpoint ||
        host->checkpoint_get(fc->inst, FILE_CHECKPOINT_KEY, &v) != SF_OK || !v)
        return false;
    bool ok =
        sscanf(v, "%" SCNu64 ":%" SCNd64 "%n", &ino, &off, &n) == 2 && v[n] == '\0' && off >= 0;
    host->free(v);
    if (!ok || (stat(fc->path, &now) == 0 && (uint64_t)now.st_ino == ino) ||
        file_rotated_find(fc->path, ino, old, sizeof old) != 0)
        return false;
    int fd = open(old, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_ino != ino || st.st_size < off ||
        lseek(fd, (off_t)off, SEEK_SET) < 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    host->log(fc->inst, SF_LOG_INFO,
              "%s was rotated to %s while stopped: finishing it from byte offset %" PRId64
              ", then reading the new file",
              fc->path, old, off);
    fc->fd = fd;
    fc->opened_once = fc->draining = true;
    fc->ino = fc->saved_ino = ino;
    fc->read_pos = fc->line_start = fc->saved_offset = off;
    fc->line_len = 0;
    fc->skipping = false;
    return true;
}

/* Open the path. The first open of an instance run starts at the checkpoint or `from`; later
 * ones (a rotated-in file) at 0. SF_EIO with set_error if it cannot be opened. */
static sf_status file_open(file_conn *fc)
{
    if (!fc->opened_once && file_open_rotated(fc)) /* a CSV file's header comes first */
        return fc->csv ? file_csv_read_header(fc, fc->fd, fc->read_pos) : SF_OK;
    int fd = open(fc->path, O_RDONLY | O_CLOEXEC);
    fc->open_errno = fd < 0 ? errno : 0;
    if (fd < 0) {
        host->set_error(fc->inst, "cannot open %s: %s", fc->path, strerror(fc->open_errno));
        return SF_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        host->set_error(fc->inst, "%s is not a regular file", fc->path);
        close(fd);
        return SF_EINVAL;
    }
    int64_t off = fc->opened_once ? 0 : file_first_offset(fc, &st);
    if (lseek(fd, (off_t)off, SEEK_SET) < 0) {
        host->set_error(fc->inst, "cannot seek in %s: %s", fc->path, strerror(errno));
        close(fd);
        return SF_EIO;
    }
    if (fc->csv && file_csv_read_header(fc, fd, off) != SF_OK) {
        close(fd);
        return SF_EIO;
    }
    fc->fd = fd;
    fc->opened_once = true;
    fc->ino = (uint64_t)st.st_ino;
    fc->read_pos = fc->line_start = off;
    fc->line_len = 0;
    fc->skipping = false;
    return SF_OK;
}

static void file_close(file_conn *fc)
{
    if (fc->fd >= 0)
        close(fc->fd);
    fc->fd = -1;
}

/* ---- lines -------------------------------------------------------------------------------- */

static void file_bad(file_conn *fc, const char *why)
{
    host->log(fc->inst, SF_LOG_WARN, "%s:%" PRIu64 ": %s", fc->path, fc->line_no, why);
    host->metric_add(fc->inst, "bad_lines", 1);
    fc->bad++;
}

static const char *file_host_error(file_conn *fc, const char *fallback)
{
    const char *e = SF_HOST_HAS(host, last_error) ? host->last_error(fc->inst) : NULL;
    return e && *e ? e : fallback;
}

/* Map and emit one line, waiting out back-pressure. False when asked to stop while waiting:
 * the line is then not done, and the checkpoint stays before it. */
static bool file_emit_line(file_conn *fc, const char *line, size_t len)
{
    int64_t wait = FILE_RETRY_FIRST_MS;
    for (;;) {
        sf_event *ev = NULL;
        if (host->map_json(fc->inst, line, len, &ev) != SF_OK || !ev) {
            file_bad(fc, file_host_error(fc, "cannot map the line to an event"));
            return true;
        }
        sf_status st = host->emit(fc->inst, ev); /* consumes ev */
        if (st == SF_OK) {
            fc->events++;
            return true;
        }
        if (st != SF_ERETRY) {
            char why[600];
            snprintf(why, sizeof why, "event refused: %s", file_host_error(fc, "invalid event"));
            file_bad(fc, why);
            return true;
        }
        /* The core is saturated: keep this line and offer it again (emit consumed the
         * event, so it is mapped anew). */
        if (host->sleep_ms(fc->inst, wait) || file_stopping(fc))
            return false;
        wait = wait * 2 > fc->poll_ms ? fc->poll_ms : wait * 2;
    }
}

/* format = csv: the file's first line is its header; every other line a row to map. */
static bool file_csv_line(file_conn *fc, size_t len)
{
    char why[256];
    const char *json;
    size_t jlen;
    if (fc->line_start == 0) {
        if (!file_csv_header(fc->csv, fc->line, len, why, sizeof why))
            file_bad(fc, why); /* every row of this file is then bad: said on each */
        return true;
    }
    if (!file_csv_row(fc->csv, fc->line, len, &json, &jlen, why, sizeof why)) {
        file_bad(fc, why);
        return true;
    }
    return file_emit_line(fc, json, jlen);
}

/* A complete line (newline stripped). */
static bool file_line_done(file_conn *fc)
{
    fc->line_no++;
    if (fc->skipping) {
        char why[128];
        snprintf(why, sizeof why, "line longer than max_line (%zu bytes): skipped", fc->max_line);
        file_bad(fc, why);
        return true;
    }
    size_t len = fc->line_len;
    if (len > 0 && fc->line[len - 1] == '\r')
        len--;
    size_t i = 0;
    while (i < len && (fc->line[i] == ' ' || fc->line[i] == '\t'))
        i++;
    if (i == len)
        return true; /* blank lines are not events, nor errors */
    fc->line[len] = '\0';
    if (fc->csv)
        return file_csv_line(fc, len);
    return file_emit_line(fc, fc->line, len);
}

static void file_line_reset(file_conn *fc, int64_t next_start)
{
    fc->line_len = 0;
    fc->skipping = false;
    fc->line_start = next_start;
}

/* Feed n bytes read at file offset `base`. False when stopped mid-way (the pending line is
 * kept unprocessed; line_start still points at it). */
static bool file_consume(file_conn *fc, const char *buf, size_t n, int64_t base)
{
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(buf + i, '\n', n - i);
        size_t seg = (nl ? (size_t)(nl - buf) : n) - i;
        if (!fc->skipping && fc->line_len + seg > fc->max_line)
            fc->skipping = true;
        if (!fc->skipping) {
            memcpy(fc->line + fc->line_len, buf + i, seg);
            fc->line_len += seg;
        }
        i += seg;
        if (!nl)
            break;
        i++; /* the newline */
        if (!file_line_done(fc)) {
            fc->line_no--; /* it will be read again */
            return false;
        }
        file_line_reset(fc, base + (int64_t)i);
    }
    return true;
}

/* A last line without its newline, at the end of a file that will not grow any more. */
static void file_finish_partial(file_conn *fc)
{
    if ((fc->line_len > 0 || fc->skipping) && file_line_done(fc))
        file_line_reset(fc, fc->read_pos);
}

/* ---- following ---------------------------------------------------------------------------- */

/* At the end of the open file while following: switch to a rotated-in file, rewind after a
 * truncation. True when something changed and reading should go on at once. */
static bool file_check_path(file_conn *fc)
{
    if (fc->draining) {
        file_finish_partial(fc);
        file_save(fc);
        file_close(fc);
        fc->draining = false;
        if (file_open(fc) == SF_OK)
            host->log(fc->inst, SF_LOG_INFO, "%s: following the new file", fc->path);
        return true;
    }
    struct stat st;
    if (stat(fc->path, &st) != 0)
        return false; /* moved away, not yet recreated: keep waiting on the old file */
    if ((uint64_t)st.st_ino != fc->ino) {
        host->log(fc->inst, SF_LOG_INFO, "%s: rotated; finishing the old file", fc->path);
        fc->draining = true; /* read the old file to its end once more, then switch */
        return true;
    }
    if ((int64_t)st.st_size < fc->read_pos) {
        host->log(fc->inst, SF_LOG_WARN,
                  "%s: truncated to %" PRId64 " bytes; reading from the beginning", fc->path,
                  (int64_t)st.st_size);
        if (lseek(fc->fd, 0, SEEK_SET) < 0)
            return false;
        fc->read_pos = 0;
        file_line_reset(fc, 0);
        return true;
    }
    return false;
}

/* Wait for the path to exist (following a file not created yet). False when stopping. */
static bool file_wait_open(file_conn *fc)
{
    while (!file_stopping(fc)) {
        if (file_open(fc) == SF_OK)
            return true;
        if (host->sleep_ms(fc->inst, fc->poll_ms))
            return false;
    }
    return false;
}

static void file_reader(sf_instance *inst, void *arg)
{
    file_conn *fc = arg;
    while (!file_stopping(fc)) {
        if (fc->fd < 0 && !file_wait_open(fc))
            break;
        ssize_t n = read(fc->fd, fc->chunk, FILE_READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            host->log(inst, SF_LOG_ERROR, "%s: read failed: %s", fc->path, strerror(errno));
            break;
        }
        if (n > 0) {
            int64_t base = fc->read_pos;
            fc->read_pos += n;
            bool go_on = file_consume(fc, fc->chunk, (size_t)n, base);
            if (fc->line_start - fc->saved_offset >= FILE_SAVE_EVERY || fc->ino != fc->saved_ino)
                file_save(fc); /* the lines so far are accepted (or counted bad) */
            if (!go_on)
                break;
            continue;
        }
        if (!fc->follow) {
            file_finish_partial(fc);
            file_save(fc);
            host->log(inst, SF_LOG_INFO,
                      "reached end of file: %" PRIu64 " events, %" PRIu64 " bad lines (%s)",
                      fc->events, fc->bad, fc->path);
            break;
        }
        file_save(fc); /* caught up: store the cursor before waiting for more */
        if (!file_check_path(fc) && host->sleep_ms(inst, fc->poll_ms))
            break;
    }
    file_close(fc);
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void file_destroy(sf_instance *inst, void *state)
{
    (void)inst;
    file_conn *fc = state;
    if (!fc)
        return;
    file_close(fc);
    free(fc->path);
    free(fc->line);
    free(fc->chunk);
    file_csv_free(fc->csv);
    free(fc);
}

static sf_status file_create(sf_instance *inst, void **state)
{
    const char *path = host->opt_string(inst, "path");
    const char *from = host->opt_string(inst, "from");
    int64_t max_line = host->opt_int(inst, "max_line");
    if (!path || !*path) {
        host->set_error(inst, "path is required");
        return SF_EINVAL;
    }
    if (max_line < 16 || max_line > 16 * 1024 * 1024) {
        host->set_error(inst, "max_line must be 16..16777216, got %" PRId64, max_line);
        return SF_EINVAL;
    }
    file_conn *fc = calloc(1, sizeof *fc);
    if (!fc)
        return SF_ENOMEM;
    fc->inst = inst;
    fc->fd = -1;
    fc->path = strdup(path);
    fc->max_line = (size_t)max_line;
    fc->line = malloc(fc->max_line + 1);
    fc->chunk = malloc(FILE_READ_CHUNK);
    if (!fc->path || !fc->line || !fc->chunk) {
        file_destroy(inst, fc);
        return SF_ENOMEM;
    }
    fc->follow = host->opt_bool(inst, "follow");
    fc->checkpoint = host->opt_bool(inst, "checkpoint");
    fc->from_end = from && strcmp(from, "end") == 0;
    const char *format = host->opt_string(inst, "format");
    if (format && strcmp(format, "csv") == 0 && !(fc->csv = file_csv_new(fc->max_line))) {
        file_destroy(inst, fc);
        return SF_ENOMEM;
    }
    fc->poll_ms = host->opt_duration_ms(inst, "poll_interval");
    if (fc->poll_ms < 10)
        fc->poll_ms = 10;
    *state = fc;
    return SF_OK;
}

static sf_status file_start(sf_instance *inst, void *state)
{
    file_conn *fc = state;
    atomic_store(&fc->stopping, false);
    file_close(fc);
    fc->opened_once = fc->draining = false;
    fc->saved_offset = -1;
    fc->saved_ino = 0;
    fc->line_no = fc->events = fc->bad = 0;
    sf_status st = file_open(fc);
    if (st != SF_OK && !(fc->follow && fc->open_errno == ENOENT))
        return st; /* set_error said why */
    if (st != SF_OK)
        host->log(inst, SF_LOG_INFO, "%s does not exist yet; waiting for it", fc->path);
    st = host->thread_spawn(inst, file_reader, fc);
    if (st != SF_OK)
        file_close(fc);
    return st;
}

static sf_status file_stop(sf_instance *inst, void *state)
{
    (void)inst;
    file_conn *fc = state;
    atomic_store(&fc->stopping, true); /* the reader sees it between lines and waits */
    return SF_OK;
}

/* ---- declared options and descriptor ------------------------------------------------------ */

static const char *const file_from_choices[] = {"beginning", "end", NULL};
static const char *const file_format_choices[] = {"ndjson", "csv", NULL};

static const sf_option file_options[] = {
    {.name = "path",
     .type = SF_OPT_STRING,
     .flags = SF_OPT_REQUIRED | SF_OPT_PATH,
     .help = "the NDJSON file to read, one JSON event per line (relative: to the config's dir)"},
    {.name = "format",
     .type = SF_OPT_ENUM,
     .default_value = "ndjson",
     .choices = file_format_choices,
     .help = "ndjson: one JSON event per line; csv: a header line, then one row per event"},
    {.name = "follow",
     .type = SF_OPT_BOOL,
     .default_value = "false",
     .help = "keep reading as the file grows, across truncation and rotation (tail -F)"},
    {.name = "poll_interval",
     .type = SF_OPT_DURATION,
     .default_value = "200ms",
     .flags = SF_OPT_HAS_RANGE,
     .min = 10,
     .max = 3600000,
     .help = "how often to look for new data when following"},
    {.name = "from",
     .type = SF_OPT_ENUM,
     .default_value = "beginning",
     .choices = file_from_choices,
     .help = "where to start when there is no checkpoint for the file: beginning or end"},
    {.name = "checkpoint",
     .type = SF_OPT_BOOL,
     .default_value = "true",
     .help = "store the position (inode:offset) after each batch and resume there"},
    /* The default is the host's own bound on one JSON document (SIGFLOW_MAX_EVENT_LINE in the
     * core, which a plugin cannot include): a longer line could never be mapped anyway. */
    {.name = "max_line",
     .type = SF_OPT_INT,
     .default_value = "65536",
     .flags = SF_OPT_HAS_RANGE,
     .min = 16,
     .max = 16777216,
     .help = "longest line in bytes; a longer one is skipped and counted as bad"},
    {0}};

static const sf_plugin file_plugin = {
    SF_PLUGIN_INIT,
    .name = "file",
    .version = "1.0.0",
    .description = "reads events from an NDJSON file, once or following it like tail -F",
    .kind = SF_KIND_CONNECTOR,
    .options = file_options,
    .init = file_init,
    .create = file_create,
    .start = file_start,
    .stop = file_stop,
    .destroy = file_destroy,
};

SF_PLUGIN_DEFINE(file_plugin)
